#include "storage/manifest/batch.h"

#include "storage/manifest/encoding.h"
#include "storage/manifest/keys.h"

namespace ferry::manifest {
namespace {

Status Invalid(std::string message) {
  return Status::Error(ErrorClass::kInvalidArgument, "manifest: " + std::move(message));
}

Status CheckId(std::string_view what, std::string_view v, std::size_t max) {
  if (v.empty()) return Invalid(std::string(what) + " is empty");
  if (v.size() > max) {
    return Invalid(std::string(what) + " is " + std::to_string(v.size()) + " bytes (at most " +
                   std::to_string(max) + ")");
  }
  return Status::Ok();
}

}  // namespace

Status CheckScope(const Scope& scope) {
  FERRY_RETURN_IF_ERROR(CheckId("route id", scope.route, kMaxIdBytes));
  return CheckId("destination id", scope.dest, kMaxIdBytes);
}

Status CheckObjectKey(std::string_view key) { return CheckId("object key", key, kMaxKeyBytes); }

Status CheckObjectId(const Scope& scope, std::string_view key) {
  FERRY_RETURN_IF_ERROR(CheckScope(scope));
  return CheckObjectKey(key);
}

Status CheckPartNumber(std::uint32_t part_number) {
  if (part_number < kMinPartNumber || part_number > kMaxPartNumber) {
    return Invalid("part number " + std::to_string(part_number) + " outside " +
                   std::to_string(kMinPartNumber) + ".." + std::to_string(kMaxPartNumber));
  }
  return Status::Ok();
}

Status CheckContentArgs(std::string_view hash, std::string_view dest) {
  FERRY_RETURN_IF_ERROR(CheckId("content hash", hash, kMaxIdBytes));
  return CheckId("destination id", dest, kMaxIdBytes);
}

Status CheckMetaName(std::string_view name) { return CheckId("meta name", name, kMaxIdBytes); }

bool Batch::Check(const Status& s) {
  if (s.ok()) return true;
  if (status_.ok()) status_ = s;
  return false;
}

void Batch::Add(Family family, OpKind kind, std::string key, std::string value) {
  ops_.push_back(Op{family, kind, std::move(key), std::move(value)});
}

void Batch::Clear() {
  ops_.clear();
  status_ = Status::Ok();
}

void Batch::PutObject(const Scope& scope, std::string_view key, const ObjectRecord& record) {
  if (!Check(CheckObjectId(scope, key))) return;
  Add(Family::kObjects, OpKind::kPut, keys::ObjectKey(scope.route, scope.dest, key),
      EncodeObjectRecord(record));
}

void Batch::DeleteObject(const Scope& scope, std::string_view key) {
  if (!Check(CheckObjectId(scope, key))) return;
  Add(Family::kObjects, OpKind::kDelete, keys::ObjectKey(scope.route, scope.dest, key));
}

void Batch::PutUpload(const Scope& scope, std::string_view key, const UploadRecord& upload) {
  if (!Check(CheckObjectId(scope, key))) return;
  if (upload.upload_id.empty()) {
    Check(Invalid("upload id is empty"));
    return;
  }
  for (const auto& [number, part] : upload.parts) {
    if (!Check(CheckPartNumber(number))) return;
  }
  RemoveUpload(scope, key);
  Add(Family::kUploads, OpKind::kPut, keys::UploadHeaderKey(scope.route, scope.dest, key),
      EncodeUploadHeader(upload));
  for (const auto& [number, part] : upload.parts) {
    Add(Family::kUploads, OpKind::kPut, keys::UploadPartKey(scope.route, scope.dest, key, number),
        EncodePartRecord(upload.upload_id, part));
  }
}

void Batch::AddPart(const Scope& scope, std::string_view key, std::string_view upload_id,
                    std::uint32_t part_number, const PartRecord& part) {
  if (!Check(CheckObjectId(scope, key)) || !Check(CheckPartNumber(part_number))) return;
  if (upload_id.empty()) {
    Check(Invalid("upload id is empty"));
    return;
  }
  Add(Family::kUploads, OpKind::kPut,
      keys::UploadPartKey(scope.route, scope.dest, key, part_number),
      EncodePartRecord(upload_id, part));
}

void Batch::RemoveUpload(const Scope& scope, std::string_view key) {
  if (!Check(CheckObjectId(scope, key))) return;
  // One range tombstone covers the header and every part of this object's
  // upload; the prefix is length-prefixed, so no other object's rows match.
  std::string prefix = keys::UploadPrefix(scope.route, scope.dest, key);
  std::string end = encoding::PrefixSuccessor(prefix);
  Add(Family::kUploads, OpKind::kDeleteRange, std::move(prefix), std::move(end));
}

void Batch::AddContent(std::string_view hash, std::string_view dest, std::string_view key,
                       std::string_view dest_etag) {
  if (!Check(CheckContentArgs(hash, dest)) || !Check(CheckObjectKey(key))) return;
  if (dest_etag.size() > kMaxIdBytes) {
    Check(Status::Error(ErrorClass::kInvalidArgument,
                        "content entry ETag of " + std::to_string(dest_etag.size()) +
                            " bytes is too long"));
    return;
  }
  Add(Family::kContent, OpKind::kPut, keys::ContentKey(hash, dest, key), std::string(dest_etag));
}

void Batch::RemoveContent(std::string_view hash, std::string_view dest, std::string_view key) {
  if (!Check(CheckContentArgs(hash, dest)) || !Check(CheckObjectKey(key))) return;
  Add(Family::kContent, OpKind::kDelete, keys::ContentKey(hash, dest, key));
}

void Batch::PutMeta(std::string_view name, std::string_view value) {
  if (!Check(CheckMetaName(name))) return;
  Add(Family::kMeta, OpKind::kPut, keys::MetaKey(name), std::string(value));
}

void Batch::DeleteMeta(std::string_view name) {
  if (!Check(CheckMetaName(name))) return;
  Add(Family::kMeta, OpKind::kDelete, keys::MetaKey(name));
}

}  // namespace ferry::manifest
