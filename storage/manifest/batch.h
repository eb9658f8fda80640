// Batch: manifest writes grouped so they apply atomically (Manifest::Write).
//
// The engine groups what must change together, e.g. an object turning
// kReplicated, its content entry, and the removal of its finished upload.
// Methods validate their arguments; the first invalid one is remembered in
// status() and makes Manifest::Write fail without writing anything, so a
// caller may build a batch without checking each step.
//
// Operations apply in the order added (a later Put wins over an earlier
// Delete of the same row). Not thread-safe; cheap to build and discard.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "storage/manifest/records.h"

namespace ferry::manifest {

class Batch {
 public:
  void PutObject(const Scope& scope, std::string_view key, const ObjectRecord& record);
  void DeleteObject(const Scope& scope, std::string_view key);
  // Records an upload (header and upload.parts), replacing any earlier
  // upload of the object and its parts.
  void PutUpload(const Scope& scope, std::string_view key, const UploadRecord& upload);
  // Adds a finished part without checking that the upload is open (unlike
  // Manifest::AddPart), so it can follow PutUpload in the same batch.
  void AddPart(const Scope& scope, std::string_view key, std::string_view upload_id,
               std::uint32_t part_number, const PartRecord& part);
  void RemoveUpload(const Scope& scope, std::string_view key);
  // `dest_etag`: the destination object's ETag when the content was written
  // there (the row's value; "" = not known, as in entries of older builds).
  void AddContent(std::string_view hash, std::string_view dest, std::string_view key,
                  std::string_view dest_etag = {});
  void RemoveContent(std::string_view hash, std::string_view dest, std::string_view key);
  void PutMeta(std::string_view name, std::string_view value);
  void DeleteMeta(std::string_view name);

  std::size_t size() const { return ops_.size(); }
  bool empty() const { return ops_.empty(); }
  // OK, or the first argument error.
  const Status& status() const { return status_; }
  void Clear();

  // For Manifest::Write.
  enum class Family : std::uint8_t { kObjects, kUploads, kContent, kMeta };
  enum class OpKind : std::uint8_t { kPut, kDelete, kDeleteRange };
  struct Op {
    Family family;
    OpKind kind;
    std::string key;
    std::string value;  // kPut: the value; kDeleteRange: the exclusive end key
  };
  const std::vector<Op>& ops() const { return ops_; }

 private:
  bool Check(const Status& s);
  void Add(Family family, OpKind kind, std::string key, std::string value = {});

  Status status_;
  std::vector<Op> ops_;
};

// Argument checks shared by Batch and Manifest (kInvalidArgument naming the
// offending value's role and size).
Status CheckScope(const Scope& scope);
Status CheckObjectKey(std::string_view key);
Status CheckObjectId(const Scope& scope, std::string_view key);
Status CheckPartNumber(std::uint32_t part_number);
Status CheckContentArgs(std::string_view hash, std::string_view dest);
Status CheckMetaName(std::string_view name);

}  // namespace ferry::manifest
