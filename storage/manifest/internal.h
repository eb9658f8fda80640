// What the manifest's .cc files share: the open database and its column
// family handles, and the translation of RocksDB statuses into ferry's.
// Internal to storage/manifest; the engine includes manifest.h only.
#pragma once

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include <array>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "protocols/base/status.h"
#include "storage/manifest/batch.h"
#include "storage/manifest/manifest.h"

namespace ferry::manifest {

inline constexpr std::string_view kObjectsFamily = "objects";
inline constexpr std::string_view kUploadsFamily = "uploads";
inline constexpr std::string_view kContentFamily = "content";
inline constexpr std::string_view kMetaFamily = "meta";
inline constexpr std::string_view kLockFileName = "ferry.lock";

struct Manifest::State {
  std::string path;
  int schema_version = 0;
  int lock_fd = -1;  // flock()ed for the whole life of the Manifest
  std::unique_ptr<rocksdb::DB> db;
  // Owned by db; destroyed before it. Index by Batch::Family.
  std::array<rocksdb::ColumnFamilyHandle*, 4> families{};
  // Every column family handle (ours, default, and any from a newer ferry).
  std::vector<rocksdb::ColumnFamilyHandle*> all_handles;
  std::shared_ptr<rocksdb::Cache> block_cache;
  // Serializes UpdateObject calls on the same object (by hash of its key).
  std::array<std::mutex, 64> update_locks;

  rocksdb::ColumnFamilyHandle* cf(Batch::Family f) const {
    return families[static_cast<std::size_t>(f)];
  }
  ~State();
};

// ferry Status for a failed RocksDB call: `what` is the operation
// ("read object", "open"), the message names the database path.
Status FromRocks(const rocksdb::Status& s, std::string_view what, const std::string& path);

// The object cursor's insides (cursor.cc).
struct ObjectCursor::Impl {
  std::string prefix;       // scope prefix in the objects CF
  std::string upper_bound;  // must outlive `it` (ReadOptions keeps a pointer)
  rocksdb::Slice upper_bound_slice;
  std::unique_ptr<rocksdb::Iterator> it;
  std::string path;
  Status status;
  ObjectRecord record;
  bool valid = false;

  // Decodes the entry under `it`, or ends the cursor with an error.
  void Load();
};

}  // namespace ferry::manifest
