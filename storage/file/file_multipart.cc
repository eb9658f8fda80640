// FileBackend: emulated multipart uploads.
//
// An upload is a directory .ferry/uploads/<id>/ holding upload.json (key,
// metadata, start time), one file per part ("p00001") and the parts'
// sidecars (unsharded, named by identity like the objects'). Parts are
// written like objects (temp file, seal, sidecar, rename), so a part is
// either absent or whole. Complete validates the list against the stored
// parts, concatenates them through io_uring into a temp file and commits it
// like a Put, with the part layout in the object's sidecar.
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <system_error>

#include "protocols/base/digest.h"
#include "storage/file/file_backend_impl.h"
#include "storage/file/key_codec.h"

namespace ferry::storage {
namespace {

constexpr std::size_t kMaxUploadRecord = 64u << 10;
constexpr int kMaxPartNumber = 10000;

bool ValidUploadId(std::string_view id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string PartName(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "p%05d", n);
  return buf;
}

// Part number of a part file name, 0 for anything else.
int PartNumberOf(std::string_view name) {
  if (name.size() != 6 || name[0] != 'p') return 0;
  int n = 0;
  for (char c : name.substr(1)) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + (c - '0');
  }
  return n >= 1 && n <= kMaxPartNumber ? n : 0;
}

}  // namespace

std::string FileBackend::UploadDir(std::string_view upload_id) const {
  return uploads_dir_ + "/" + std::string(upload_id);
}

Result<filemeta::UploadRecord> FileBackend::LoadUpload(std::string_view key,
                                                       std::string_view upload_id) const {
  Status missing = Error(ErrorClass::kNotFound, "NoSuchUpload",
                         "no upload " + std::string(upload_id) + " for this key", key);
  if (!ValidUploadId(upload_id)) return missing;
  Result<std::string> text =
      fileio::ReadSmallFile(UploadDir(upload_id) + "/upload.json", kMaxUploadRecord);
  if (!text.ok()) return text.status().Is(ErrorClass::kNotFound) ? missing : text.status();
  FERRY_ASSIGN_OR_RETURN(filemeta::UploadRecord rec, filemeta::DecodeUpload(*text));
  if (rec.key != key) return missing;
  return rec;
}

Task<Result<std::string>> FileBackend::CreateMultipart(std::string key, const Metadata& meta) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  filemeta::UploadRecord rec;
  rec.key = key;
  rec.initiated = std::chrono::system_clock::now();
  rec.meta = meta;
  Result<std::string> text = filemeta::EncodeUpload(rec);
  if (!text.ok()) co_return WithKey(text.status(), key);
  std::string id = fileio::RandomHex(16);
  std::string dir = UploadDir(id);
  if (::mkdir(dir.c_str(), 0755) != 0) {
    co_return WithKey(fileio::ErrnoStatus(errno, "mkdir", dir), key);
  }
  Status s = co_await OffThread(
      [&] { return fileio::WriteSmallFileAtomic(tmp_dir_, dir + "/upload.json", *text); });
  if (!s.ok()) {
    (void)fileio::RemoveTree(dir);
    co_return WithKey(s, key);
  }
  co_return id;
}

Task<Result<PutResult>> FileBackend::StorePart(std::string_view key, std::string_view upload_id,
                                               int part_number, TempFile& tmp, std::string md5_raw,
                                               std::uint64_t size) {
  filemeta::ObjectRecord rec;
  rec.etag = digest::ToHex(md5_raw);
  rec.size = size;
  const std::string dir = UploadDir(upload_id);
  filemeta::SidecarStore store(dir, tmp_dir_, /*sharded=*/false);
  Status s =
      co_await OffThread([&] { return CommitFile(tmp, dir, PartName(part_number), store, rec); });
  if (s.Is(ErrorClass::kNotFound)) {  // aborted or completed meanwhile
    co_return Error(ErrorClass::kNotFound, "NoSuchUpload",
                    "upload " + std::string(upload_id) + " ended while part " +
                        std::to_string(part_number) + " was written",
                    key);
  }
  if (!s.ok()) co_return WithKey(s, key);
  PutResult r;
  r.etag = rec.etag;
  co_return r;
}

Task<Result<PutResult>> FileBackend::UploadPart(std::string key, std::string upload_id,
                                                int part_number, io::BodySource& body) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  if (part_number < 1 || part_number > kMaxPartNumber) {
    co_return Error(ErrorClass::kInvalidArgument, "InvalidArgument",
                    "part number " + std::to_string(part_number) + " outside 1..10000", key);
  }
  FERRY_CO_RETURN_IF_ERROR(LoadUpload(key, upload_id).status());
  if (body.size() > caps_.max_part_size) {
    co_return Error(ErrorClass::kInvalidArgument, "EntityTooLarge",
                    "part of " + std::to_string(body.size()) + " bytes", key);
  }
  std::string md5;
  Result<TempFile> tmp = co_await WriteTemp(body, &md5);
  if (!tmp.ok()) co_return WithKey(tmp.status(), key);
  co_return co_await StorePart(key, upload_id, part_number, *tmp, std::move(md5), body.size());
}

Task<Result<PutResult>> FileBackend::UploadPartCopy(std::string key, std::string upload_id,
                                                    int part_number, CopySourceRef source) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  if (part_number < 1 || part_number > kMaxPartNumber) {
    co_return Error(ErrorClass::kInvalidArgument, "InvalidArgument",
                    "part number " + std::to_string(part_number) + " outside 1..10000", key);
  }
  if (!source.bucket.empty() && source.bucket != bucket()) {
    co_return Error(ErrorClass::kInvalidArgument, "NotImplemented",
                    "file backend cannot copy from another bucket (" + source.bucket + ")", key);
  }
  FERRY_CO_RETURN_IF_ERROR(LoadUpload(key, upload_id).status());
  FERRY_CO_ASSIGN_OR_RETURN(OpenedFile src, co_await OpenObject(source.key, source.if_match));
  std::uint64_t offset = 0;
  std::uint64_t length = src.rec.size;
  if (source.range) {
    const ByteRange& r = *source.range;
    if (r.length == 0 || r.offset >= src.rec.size || r.length > src.rec.size - r.offset) {
      co_return Error(ErrorClass::kInvalidArgument, "InvalidRange",
                      "copy range " + std::to_string(r.offset) + "+" + std::to_string(r.length) +
                          " outside source of " + std::to_string(src.rec.size) + " bytes",
                      source.key);
    }
    offset = r.offset;
    length = r.length;
  }
  if (length > caps_.max_part_size) {
    co_return Error(ErrorClass::kInvalidArgument, "EntityTooLarge",
                    "part of " + std::to_string(length) + " bytes", key);
  }
  std::string md5;
  Result<TempFile> tmp = co_await CopyToTemp(src, offset, length, &md5);
  if (!tmp.ok()) co_return WithKey(tmp.status(), key);
  co_return co_await StorePart(key, upload_id, part_number, *tmp, std::move(md5), length);
}

Task<Result<std::vector<PartInfo>>> FileBackend::ListParts(std::string key, std::string upload_id) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  FERRY_CO_RETURN_IF_ERROR(LoadUpload(key, upload_id).status());
  const std::string dir = UploadDir(upload_id);
  filemeta::SidecarStore store(dir, tmp_dir_, /*sharded=*/false);
  std::vector<PartInfo> parts;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const int n = PartNumberOf(name);
    if (n == 0) continue;
    const std::string path = dir + "/" + name;
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;  // replaced: gone
    const fileio::Identity id = fileio::IdentityOf(st);
    Result<filemeta::ObjectRecord> rec = store.Read(id);
    if (!rec.ok()) continue;  // replaced between lstat and read
    PartInfo p;
    p.part_number = n;
    p.etag = rec->etag;
    p.size = rec->size;
    p.last_modified = FileTimeOf(id.mtime_ns);
    parts.push_back(std::move(p));
  }
  if (ec) co_return WithKey(fileio::ErrnoStatus(ec.value(), "list parts in", dir), key);
  std::sort(parts.begin(), parts.end(),
            [](const PartInfo& a, const PartInfo& b) { return a.part_number < b.part_number; });
  co_return parts;
}

Task<Result<PutResult>> FileBackend::CompleteMultipart(std::string key, std::string upload_id,
                                                       std::vector<CompletedPart> parts) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  FERRY_CO_ASSIGN_OR_RETURN(filemeta::UploadRecord upload, LoadUpload(key, upload_id));
  if (parts.empty() || parts.size() > static_cast<std::size_t>(caps_.max_parts)) {
    co_return Error(ErrorClass::kInvalidArgument, "MalformedXML",
                    "complete needs 1.." + std::to_string(caps_.max_parts) + " parts, got " +
                        std::to_string(parts.size()),
                    key);
  }
  const std::string dir = UploadDir(upload_id);
  filemeta::SidecarStore store(dir, tmp_dir_, /*sharded=*/false);
  auto invalid_part = [&](const CompletedPart& p, std::string why) {
    return Error(ErrorClass::kInvalidArgument, "InvalidPart",
                 "part " + std::to_string(p.part_number) + ": " + why, key);
  };
  // Pass 1, metadata only: order, presence, ETags, sizes.
  filemeta::ObjectRecord rec;
  std::string md5s;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const CompletedPart& p = parts[i];
    if (i > 0 && p.part_number <= parts[i - 1].part_number) {
      co_return Error(ErrorClass::kInvalidArgument, "InvalidPartOrder",
                      "part numbers must be ascending", key);
    }
    struct stat st {};
    const std::string path = dir + "/" + PartName(p.part_number);
    if (PartNumberOf(PartName(p.part_number)) == 0 || ::lstat(path.c_str(), &st) != 0) {
      co_return invalid_part(p, "not uploaded");
    }
    Result<filemeta::ObjectRecord> part = store.Read(fileio::IdentityOf(st));
    if (!part.ok()) co_return invalid_part(p, "not uploaded (" + part.status().ToString() + ")");
    if (NormalizeEtag(p.etag) != part->etag) {
      co_return invalid_part(p, "ETag " + p.etag + " given, stored part has " + part->etag);
    }
    if (i + 1 < parts.size() && part->size < caps_.min_part_size) {
      co_return Error(ErrorClass::kInvalidArgument, "EntityTooSmall",
                      "part " + std::to_string(p.part_number) + " has " +
                          std::to_string(part->size) + " bytes, minimum is " +
                          std::to_string(caps_.min_part_size),
                      key);
    }
    std::string raw;
    if (!digest::FromHex(part->etag, &raw)) co_return invalid_part(p, "corrupt part record");
    md5s += raw;
    rec.part_sizes.push_back(part->size);
    rec.size += part->size;
  }
  // Pass 2: concatenate, re-checking each part through the descriptor read.
  FERRY_CO_ASSIGN_OR_RETURN(TempFile tmp, CreateTemp());
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    Result<OpenedFile> part =
        co_await OpenWithRecord(dir + "/" + PartName(parts[i].part_number), store);
    if (!part.ok()) co_return invalid_part(parts[i], part.status().ToString());
    if (part->rec.etag != NormalizeEtag(parts[i].etag) || part->rec.size != rec.part_sizes[i]) {
      co_return invalid_part(parts[i], "replaced while the upload was being completed");
    }
    Status s = co_await fileio::CopyRange(*part->file, 0, part->rec.size, *tmp.file, offset,
                                          opts_.io_chunk, nullptr, part->path, tmp.path);
    if (!s.ok()) co_return WithKey(s, key);
    offset += part->rec.size;
  }
  rec.etag = digest::ToHex(digest::Md5(md5s)) + "-" + std::to_string(parts.size());
  rec.meta = std::move(upload.meta);
  FERRY_CO_ASSIGN_OR_RETURN(PutResult result, co_await CommitObject(key, tmp, rec));
  // The object is in place; the upload's leftovers are garbage now.
  std::string trash = tmp_dir_ + "/u-" + fileio::RandomHex(12);
  if (fileio::Rename(dir, trash).ok()) {
    (void)co_await OffThread([&] { return fileio::RemoveTree(trash); });
  }
  co_return result;
}

Task<Status> FileBackend::AbortMultipart(std::string key, std::string upload_id) {
  FERRY_CO_RETURN_IF_ERROR(CheckKey(key));
  FERRY_CO_RETURN_IF_ERROR(LoadUpload(key, upload_id).status());
  // Rename first so the upload disappears at once, then delete at leisure.
  const std::string trash = tmp_dir_ + "/u-" + fileio::RandomHex(12);
  Status s = fileio::Rename(UploadDir(upload_id), trash);
  if (s.Is(ErrorClass::kNotFound)) {
    co_return Error(ErrorClass::kNotFound, "NoSuchUpload", "upload " + upload_id + " ended", key);
  }
  if (!s.ok()) co_return WithKey(s, key);
  co_return WithKey(co_await OffThread([&] { return fileio::RemoveTree(trash); }), key);
}

Task<Result<std::vector<UploadInfo>>> FileBackend::ListUploads(std::string prefix) {
  std::vector<UploadInfo> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(uploads_dir_, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (!ValidUploadId(id)) continue;
    Result<std::string> text =
        fileio::ReadSmallFile(UploadDir(id) + "/upload.json", kMaxUploadRecord);
    if (!text.ok()) continue;  // being created or removed
    Result<filemeta::UploadRecord> rec = filemeta::DecodeUpload(*text);
    if (!rec.ok() || !rec->key.starts_with(prefix)) continue;
    UploadInfo u;
    u.key = std::move(rec->key);
    u.upload_id = id;
    u.initiated = rec->initiated;
    out.push_back(std::move(u));
  }
  if (ec) co_return WithKey(fileio::ErrnoStatus(ec.value(), "list", uploads_dir_), prefix);
  std::sort(out.begin(), out.end(), [](const UploadInfo& a, const UploadInfo& b) {
    if (a.key != b.key) return a.key < b.key;
    if (a.initiated != b.initiated) return a.initiated < b.initiated;
    return a.upload_id < b.upload_id;
  });
  co_return out;
}

}  // namespace ferry::storage
