// Manifest: open multipart uploads and their finished parts. A header row
// and one row per part (keys.h), so recording a part is one small write, not
// a rewrite of every part so far.
#include <rocksdb/iterator.h>

#include "storage/manifest/encoding.h"
#include "storage/manifest/internal.h"
#include "storage/manifest/keys.h"

namespace ferry::manifest {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

Status CorruptRow(const std::string& path, std::string_view what) {
  return Status::Error(ErrorClass::kFatal,
                       "manifest at " + path + ": corrupt upload row: " + std::string(what));
}

}  // namespace

Status Manifest::PutUpload(const Scope& scope, std::string_view key, const UploadRecord& upload,
                           WriteOptions w) {
  Batch b;
  b.PutUpload(scope, key, upload);
  return Write(b, w);
}

Status Manifest::AddPart(const Scope& scope, std::string_view key, std::string_view upload_id,
                         std::uint32_t part_number, const PartRecord& part, WriteOptions w) {
  Batch b;
  b.AddPart(scope, key, upload_id, part_number, part);
  FERRY_RETURN_IF_ERROR(b.status());
  // The engine writes a part only for an upload it recorded; a missing or
  // different header means the upload was completed, aborted or replaced.
  std::string header;
  rocksdb::Status rs = s_->db->Get(rocksdb::ReadOptions(), s_->cf(Batch::Family::kUploads),
                                   keys::UploadHeaderKey(scope.route, scope.dest, key), &header);
  if (rs.IsNotFound()) {
    return Status::Error(ErrorClass::kNotFound, "manifest: no open upload to add part " +
                                                    std::to_string(part_number) + " to")
        .WithContext("", "", key);
  }
  if (!rs.ok()) return FromRocks(rs, "read upload", s_->path).WithContext("", "", key);
  FERRY_ASSIGN_OR_RETURN(UploadRecord open, DecodeUploadHeader(header));
  if (open.upload_id != upload_id) {
    return Status::Error(ErrorClass::kPrecondition,
                         "manifest: part " + std::to_string(part_number) +
                             " belongs to an upload that is no longer the open one")
        .WithContext("", "", key);
  }
  return Write(b, w);
}

Result<std::optional<UploadRecord>> Manifest::GetUpload(const Scope& scope, std::string_view key) {
  FERRY_RETURN_IF_ERROR(CheckObjectId(scope, key));
  std::string prefix = keys::UploadPrefix(scope.route, scope.dest, key);
  std::string upper = encoding::PrefixSuccessor(prefix);
  rocksdb::Slice upper_slice(upper);
  rocksdb::ReadOptions ro;
  ro.iterate_upper_bound = &upper_slice;
  std::unique_ptr<rocksdb::Iterator> it(s_->db->NewIterator(ro, s_->cf(Batch::Family::kUploads)));
  it->Seek(prefix);
  std::optional<UploadRecord> out;
  std::string part_upload_id;
  for (; it->Valid(); it->Next()) {
    std::string_view route, dest, k;
    std::uint32_t number = 0;
    if (!keys::ParseUploadKey(View(it->key()), &route, &dest, &k, &number)) {
      return CorruptRow(s_->path, "bad key").WithContext("", "", key);
    }
    if (number == 0) {
      Result<UploadRecord> h = DecodeUploadHeader(View(it->value()));
      if (!h.ok()) return h.status().Annotate("manifest at " + s_->path).WithContext("", "", key);
      out = std::move(h).value();
      continue;
    }
    if (!out.has_value()) continue;  // parts without a header: a raced, removed upload
    PartRecord part;
    Status ps = DecodePartRecord(View(it->value()), &part_upload_id, &part);
    if (!ps.ok()) return ps.Annotate("manifest at " + s_->path).WithContext("", "", key);
    if (part_upload_id == out->upload_id) out->parts[number] = std::move(part);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "read upload", s_->path);
  return out;
}

Status Manifest::RemoveUpload(const Scope& scope, std::string_view key, WriteOptions w) {
  Batch b;
  b.RemoveUpload(scope, key);
  return Write(b, w);
}

Status Manifest::ForEachUpload(
    const std::function<bool(const Scope&, std::string_view, const UploadRecord&)>& fn) {
  rocksdb::ReadOptions ro;
  std::unique_ptr<rocksdb::Iterator> it(s_->db->NewIterator(ro, s_->cf(Batch::Family::kUploads)));
  // Rows of one upload are contiguous: its header, then its parts in order.
  std::optional<UploadRecord> current;
  Scope scope;
  std::string key;
  std::string part_upload_id;
  auto emit = [&]() -> bool {
    if (!current.has_value()) return true;
    bool more = fn(scope, key, *current);
    current.reset();
    return more;
  };
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view route, dest, k;
    std::uint32_t number = 0;
    if (!keys::ParseUploadKey(View(it->key()), &route, &dest, &k, &number)) {
      return CorruptRow(s_->path, "bad key");
    }
    if (number == 0) {
      if (!emit()) return Status::Ok();
      Result<UploadRecord> h = DecodeUploadHeader(View(it->value()));
      if (!h.ok()) return h.status().Annotate("manifest at " + s_->path).WithContext("", "", k);
      current = std::move(h).value();
      scope = Scope{std::string(route), std::string(dest)};
      key.assign(k);
      continue;
    }
    // A part of the current upload, or an orphan of a removed one.
    if (!current.has_value() || route != scope.route || dest != scope.dest || k != key) continue;
    PartRecord part;
    Status ps = DecodePartRecord(View(it->value()), &part_upload_id, &part);
    if (!ps.ok()) return ps.Annotate("manifest at " + s_->path).WithContext("", "", k);
    if (part_upload_id == current->upload_id) current->parts[number] = std::move(part);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "list uploads", s_->path);
  emit();
  return Status::Ok();
}

}  // namespace ferry::manifest
