// Sidecars of the file backend: what S3 keeps beside an object's bytes
// (ETag, metadata, multipart part layout) stored in small JSON files under
// the backend's internal area.
//
// A sidecar is named after the Identity (inode, size, mtime) of the data
// file it describes, not after its key. The data file is sealed (mtime set,
// fsynced) and its sidecar written before the data file is renamed into
// place, and rename keeps the identity: whoever opens an object and fstats
// the descriptor finds exactly the sidecar of those bytes. No window exists
// in which new bytes pair with old metadata, and no xattrs are needed (NFSv3
// and older NFSv4 servers have none). Sidecars of replaced or deleted objects
// are removed by the writer that replaced them; a crash or two writers
// racing on one key can leave an unreferenced sidecar behind, which is
// harmless (no data file has its identity).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "storage/backend.h"
#include "storage/file/file_io.h"

namespace ferry::storage::filemeta {

struct ObjectRecord {
  std::string etag;  // lower-case hex, "-N" for multipart
  std::uint64_t size = 0;
  std::vector<std::uint64_t> part_sizes;  // empty for single PUT / copy
  Metadata meta;
};

struct UploadRecord {
  std::string key;
  s3::TimePoint initiated{};
  Metadata meta;
};

// JSON forms. Serialising fails (kInvalidArgument) on strings that are not
// valid UTF-8, which JSON cannot carry.
Result<std::string> EncodeRecord(const ObjectRecord& r);
Result<ObjectRecord> DecodeRecord(std::string_view json);
Result<std::string> EncodeUpload(const UploadRecord& r);
Result<UploadRecord> DecodeUpload(std::string_view json);

// Sidecars in one directory, sharded by inode (when `sharded`) so no
// directory grows huge. An unsharded store never creates its directory: a
// write into a directory that vanished (an aborted upload) fails kNotFound.
class SidecarStore {
 public:
  // `dir` holds the sidecars; `tmp_dir` is on the same file system.
  SidecarStore(std::string dir, std::string tmp_dir, bool sharded)
      : dir_(std::move(dir)), tmp_dir_(std::move(tmp_dir)), sharded_(sharded) {}

  std::string PathFor(const fileio::Identity& id) const;
  Status Write(const fileio::Identity& id, const ObjectRecord& r) const;
  // kNotFound when the data file has no sidecar (e.g. it was written by
  // something other than this backend).
  Result<ObjectRecord> Read(const fileio::Identity& id) const;
  Status Remove(const fileio::Identity& id) const;

 private:
  std::string dir_;
  std::string tmp_dir_;
  bool sharded_;
};

}  // namespace ferry::storage::filemeta
