#include "sim/store.h"

#include <algorithm>
#include <cstdio>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "sim/errors.h"
#include "sim/synthetic.h"

namespace ferry::sim {
namespace {

bool ValidBucketName(const std::string& n) {
  if (n.size() < 3 || n.size() > 63) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(n.front()) || !alnum(n.back())) return false;
  return std::all_of(n.begin(), n.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '.'; });
}

std::string Unquote(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

// Every key starting with `prefix` sorts before prefix + "\xff": keys are
// UTF-8, where byte 0xFF never occurs.
std::string PastPrefix(const std::string& prefix) { return prefix + '\xff'; }

}  // namespace

Status S3Error(int http_status, std::string code, std::string message) {
  ErrorInfo info;
  info.error_class = http_status >= 500 ? ErrorClass::kRetryable : ErrorClass::kFatal;
  info.http_status = http_status;
  info.code = std::move(code);
  info.message = std::move(message);
  return Status(std::move(info));
}

Store::Store(std::unique_ptr<BlobFactory> blobs) : blobs_(std::move(blobs)) {}

Store::Bucket* Store::FindLocked(const std::string& name) {
  auto it = buckets_.find(name);
  return it == buckets_.end() ? nullptr : &it->second;
}
const Store::Bucket* Store::FindLocked(const std::string& name) const {
  auto it = buckets_.find(name);
  return it == buckets_.end() ? nullptr : &it->second;
}

Status Store::CreateBucket(const std::string& name) {
  if (!ValidBucketName(name)) {
    return S3Error(400, "InvalidBucketName", "The specified bucket is not valid.");
  }
  std::lock_guard lock(mu_);
  if (FindLocked(name)) {
    return S3Error(409, "BucketAlreadyOwnedByYou",
                   "Your previous request to create the named bucket succeeded and you "
                   "already own it.");
  }
  Bucket b;
  b.info.name = name;
  b.info.created = Clock::now();
  buckets_.emplace(name, std::move(b));
  return Status::Ok();
}

Status Store::DeleteBucket(const std::string& name) {
  std::lock_guard lock(mu_);
  Bucket* b = FindLocked(name);
  if (!b) return NoSuchBucket();
  bool uploads = std::any_of(uploads_.begin(), uploads_.end(),
                             [&](const auto& u) { return u.second.bucket == name; });
  if (!b->objects.empty() || uploads) {
    return S3Error(409, "BucketNotEmpty", "The bucket you tried to delete is not empty");
  }
  buckets_.erase(name);
  return Status::Ok();
}

bool Store::BucketExists(const std::string& name) const {
  std::lock_guard lock(mu_);
  return FindLocked(name) != nullptr;
}

Status Store::CheckBucket(const std::string& name) const {
  return BucketExists(name) ? Status::Ok() : NoSuchBucket();
}

std::vector<BucketRecord> Store::ListBuckets() const {
  std::lock_guard lock(mu_);
  std::vector<BucketRecord> out;
  for (const auto& [name, b] : buckets_) out.push_back(b.info);
  return out;
}

Result<BucketRecord> Store::GetBucket(const std::string& name) const {
  std::lock_guard lock(mu_);
  const Bucket* b = FindLocked(name);
  if (!b) return NoSuchBucket();
  return b->info;
}

Status Store::SetBucketEncryption(const std::string& name, std::string algorithm,
                                  std::string kms_key_id) {
  std::lock_guard lock(mu_);
  Bucket* b = FindLocked(name);
  if (!b) return NoSuchBucket();
  b->info.default_sse = std::move(algorithm);
  b->info.default_kms_key_id = std::move(kms_key_id);
  return Status::Ok();
}

Status Store::PutObject(const std::string& bucket, ObjectRecord record) {
  std::lock_guard lock(mu_);
  Bucket* b = FindLocked(bucket);
  if (!b) return NoSuchBucket();
  std::string key = record.key;
  b->objects[key] = std::move(record);
  return Status::Ok();
}

Result<ObjectRecord> Store::GetObject(const std::string& bucket, const std::string& key) const {
  std::lock_guard lock(mu_);
  const Bucket* b = FindLocked(bucket);
  if (!b) return NoSuchBucket();
  auto it = b->objects.find(key);
  if (it == b->objects.end()) return NoSuchKey();
  return it->second;
}

Status Store::DeleteObject(const std::string& bucket, const std::string& key, bool* existed) {
  std::lock_guard lock(mu_);
  Bucket* b = FindLocked(bucket);
  if (!b) return NoSuchBucket();
  *existed = b->objects.erase(key) > 0;
  return Status::Ok();
}

Result<ListPage> Store::List(const std::string& bucket, const ListQuery& q) const {
  std::lock_guard lock(mu_);
  const Bucket* b = FindLocked(bucket);
  if (!b) return NoSuchBucket();
  const auto& objs = b->objects;
  ListPage page;
  auto it = (!q.after.empty() && q.after >= q.prefix) ? objs.upper_bound(q.after)
                                                     : objs.lower_bound(q.prefix);
  int count = 0;
  while (it != objs.end()) {
    const std::string& key = it->first;
    if (key.compare(0, q.prefix.size(), q.prefix) != 0) break;
    if (!q.delimiter.empty()) {
      auto pos = key.find(q.delimiter, q.prefix.size());
      if (pos != std::string::npos) {
        std::string cp = key.substr(0, pos + q.delimiter.size());
        if (cp != q.after) {
          if (count == q.max_keys) {
            page.truncated = true;
            break;
          }
          page.common_prefixes.push_back(cp);
          page.last = cp;
          ++count;
        }
        it = objs.lower_bound(PastPrefix(cp));
        continue;
      }
    }
    if (count == q.max_keys) {
      page.truncated = true;
      break;
    }
    ObjectRecord r = it->second;
    r.body.reset();
    page.contents.push_back(std::move(r));
    page.last = key;
    ++count;
    ++it;
  }
  return page;
}

Result<std::string> Store::CreateUpload(const std::string& bucket, const std::string& key,
                                        Metadata metadata, std::string checksum_algorithm,
                                        std::string checksum_type) {
  std::lock_guard lock(mu_);
  if (!FindLocked(bucket)) return NoSuchBucket();
  char id[40];
  std::snprintf(id, sizeof id, "sim-%016llx", static_cast<unsigned long long>(next_upload_++));
  UploadRecord u;
  u.id = id;
  u.bucket = bucket;
  u.key = key;
  u.initiated = Clock::now();
  u.metadata = std::move(metadata);
  u.checksum_algorithm = std::move(checksum_algorithm);
  u.checksum_type = std::move(checksum_type);
  uploads_.emplace(u.id, std::move(u));
  return std::string(id);
}

Result<UploadRecord*> Store::FindUploadLocked(const std::string& bucket, const std::string& key,
                                              const std::string& upload_id) {
  if (!FindLocked(bucket)) return NoSuchBucket();
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.bucket != bucket || it->second.key != key) {
    return NoSuchUpload();
  }
  return &it->second;
}

Status Store::PutPart(const std::string& bucket, const std::string& key,
                      const std::string& upload_id, PartRecord part) {
  std::lock_guard lock(mu_);
  FERRY_ASSIGN_OR_RETURN(UploadRecord * u, FindUploadLocked(bucket, key, upload_id));
  int n = part.number;
  u->parts[n] = std::move(part);
  return Status::Ok();
}

Result<UploadRecord> Store::GetUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id) const {
  std::lock_guard lock(mu_);
  FERRY_ASSIGN_OR_RETURN(UploadRecord * u,
                         const_cast<Store*>(this)->FindUploadLocked(bucket, key, upload_id));
  return *u;
}

Result<ObjectRecord> Store::CompleteUpload(const std::string& bucket, const std::string& key,
                                           const std::string& upload_id,
                                           const std::vector<CompletePart>& parts,
                                           std::uint64_t min_part_size,
                                           const std::string& expected_crc32c) {
  std::lock_guard lock(mu_);
  FERRY_ASSIGN_OR_RETURN(UploadRecord * u, FindUploadLocked(bucket, key, upload_id));
  if (parts.empty()) {
    return S3Error(400, "MalformedXML",
                   "The XML you provided was not well-formed or did not validate against our "
                   "published schema");
  }
  std::vector<BlobPtr> bodies;
  std::vector<std::string> md5s;
  ObjectRecord obj;
  const bool crc32c = u->checksum_algorithm == "CRC32C";
  std::string raw_crcs;        // COMPOSITE: the concatenated part CRCs
  std::uint32_t full_crc = 0;  // FULL_OBJECT: the combined CRC
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const CompletePart& p = parts[i];
    if (i > 0 && p.number <= parts[i - 1].number) {
      return S3Error(400, "InvalidPartOrder",
                     "The list of parts was not in ascending order. The parts list must be "
                     "specified in order by part number.");
    }
    auto it = u->parts.find(p.number);
    if (it == u->parts.end() || Unquote(p.etag) != it->second.etag) {
      return S3Error(400, "InvalidPart",
                     "One or more of the specified parts could not be found. The part may not "
                     "have been uploaded, or the specified entity tag may not match the part's "
                     "entity tag. (part " + std::to_string(p.number) + ")");
    }
    if (i + 1 < parts.size() && it->second.size < min_part_size) {
      return S3Error(400, "EntityTooSmall",
                     "Your proposed upload is smaller than the minimum allowed size (part " +
                         std::to_string(p.number) + " has " + std::to_string(it->second.size) +
                         " bytes, minimum " + std::to_string(min_part_size) + ")");
    }
    if (crc32c) {
      // AWS: every part of a CRC32C upload names its checksum at completion.
      if (p.checksum_crc32c.empty()) {
        return S3Error(400, "InvalidRequest",
                       "The upload was created using a crc32c checksum. The complete request "
                       "must include the checksum for each part. It was missing for part " +
                           std::to_string(p.number) + " in the request.");
      }
      auto part_crc = crc32c::FromBase64(it->second.checksum_crc32c);
      if (!part_crc || p.checksum_crc32c != it->second.checksum_crc32c) {
        return S3Error(400, "InvalidPart",
                       "One or more of the specified parts could not be found. The part may "
                       "not have been uploaded, or the specified entity tag may not match the "
                       "part's entity tag. (part " + std::to_string(p.number) +
                           ": checksum)");
      }
      raw_crcs += crc32c::ToRaw(*part_crc);
      full_crc = crc32c::Crc32cCombine(full_crc, *part_crc, it->second.size);
      obj.part_crc32c.push_back(it->second.checksum_crc32c);
    }
    std::string raw;
    digest::FromHex(it->second.etag, &raw);
    md5s.push_back(std::move(raw));
    bodies.push_back(it->second.body);
    obj.part_sizes.push_back(it->second.size);
    obj.size += it->second.size;
  }
  Bucket* b = FindLocked(bucket);
  obj.key = key;
  obj.etag = MultipartEtag(md5s);
  obj.last_modified = Clock::now();
  obj.metadata = u->metadata;
  if (crc32c) {
    if (u->checksum_type == "FULL_OBJECT") {
      obj.checksum_type = "FULL_OBJECT";
      obj.checksum_crc32c = crc32c::ToBase64(full_crc);
      obj.part_crc32c.clear();
    } else {
      obj.checksum_type = "COMPOSITE";
      obj.checksum_crc32c =
          crc32c::CompositeBase64(raw_crcs, static_cast<int>(parts.size()));
    }
  }
  if (!expected_crc32c.empty() && expected_crc32c != obj.checksum_crc32c) {
    return S3Error(400, "BadDigest",
                   "The CRC32C you specified did not match the calculated checksum.");
  }
  obj.body = MakeCompositeBlob(std::move(bodies));
  b->objects[key] = obj;
  uploads_.erase(upload_id);
  obj.body.reset();
  return obj;
}

Status Store::AbortUpload(const std::string& bucket, const std::string& key,
                          const std::string& upload_id) {
  std::lock_guard lock(mu_);
  FERRY_ASSIGN_OR_RETURN(UploadRecord * u, FindUploadLocked(bucket, key, upload_id));
  (void)u;
  uploads_.erase(upload_id);
  return Status::Ok();
}

Result<std::vector<UploadRecord>> Store::ListUploads(const std::string& bucket,
                                                     const UploadListQuery& q,
                                                     bool* truncated) const {
  std::lock_guard lock(mu_);
  if (!FindLocked(bucket)) return NoSuchBucket();
  std::vector<const UploadRecord*> all;
  for (const auto& [id, u] : uploads_) {
    if (u.bucket != bucket || u.key.compare(0, q.prefix.size(), q.prefix) != 0) continue;
    if (!q.key_marker.empty()) {
      if (u.key < q.key_marker) continue;
      if (u.key == q.key_marker && (q.upload_id_marker.empty() || id <= q.upload_id_marker)) {
        continue;
      }
    }
    all.push_back(&u);
  }
  // Ids grow with initiation order, so (key, id) is (key, initiated).
  std::sort(all.begin(), all.end(), [](const UploadRecord* a, const UploadRecord* b) {
    return std::tie(a->key, a->id) < std::tie(b->key, b->id);
  });
  *truncated = all.size() > static_cast<std::size_t>(q.max_uploads);
  std::vector<UploadRecord> out;
  for (std::size_t i = 0; i < all.size() && i < static_cast<std::size_t>(q.max_uploads); ++i) {
    UploadRecord u = *all[i];
    u.parts.clear();
    out.push_back(std::move(u));
  }
  return out;
}

}  // namespace ferry::sim
