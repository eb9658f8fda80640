// Manifest::Open: lock the directory, open or create the database with its
// column families, and check the schema version. Every refusal names the
// path and what the operator can do; nothing here ever resets a database.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_buffer_manager.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>

#include "storage/manifest/internal.h"
#include "storage/manifest/keys.h"

namespace ferry::manifest {
namespace {

namespace fs = std::filesystem;

Status Fatal(const std::string& path, std::string message) {
  return Status::Error(ErrorClass::kFatal, "manifest at " + path + ": " + std::move(message));
}

// Takes our own advisory lock before RocksDB's, so a second ferryd gets a
// message naming the holder instead of a bare "lock file" I/O error. flock
// locks belong to the open file description: a second Open in this process
// conflicts too, and a crashed holder's lock vanishes with it.
Result<int> LockDirectory(const std::string& path) {
  std::string file = (fs::path(path) / kLockFileName).string();
  int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Fatal(path, "cannot open " + file + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "";
    holder.erase(std::remove(holder.begin(), holder.end(), '\n'), holder.end());
    ::close(fd);
    if (err == EWOULDBLOCK) {
      return Fatal(path, "locked by " + (holder.empty() ? "another process" : "pid " + holder) +
                             ": another ferryd is using STATE_DIR?");
    }
    return Fatal(path, "cannot lock " + file + ": " + std::strerror(err));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only a courtesy for the message above; the lock is what counts.
  }
  return fd;
}

// A directory with data files but no CURRENT is a damaged database, not an
// empty one: letting RocksDB create a fresh database there would silently
// drop the replication state.
Status CheckNoOrphanData(const std::string& path) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(path, ec)) {
    std::string name = entry.path().filename().string();
    auto ends_with = [&name](std::string_view s) { return name.ends_with(s); };
    if (ends_with(".sst") || ends_with(".log") || ends_with(".blob")) {
      return Fatal(path, "holds database files (" + name +
                             ") but no CURRENT file: the manifest is damaged; restore STATE_DIR "
                             "from a backup, or move it away to rebuild the manifest by a full "
                             "reconciliation");
    }
  }
  if (ec) return Fatal(path, "cannot list the directory: " + ec.message());
  return Status::Ok();
}

rocksdb::ColumnFamilyOptions FamilyOptions(const Options& o,
                                           const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks live in the (bounded) cache instead of beside it.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.format_version = 5;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kZSTD;
  cf.bottommost_compression = rocksdb::kZSTD;
  cf.write_buffer_size = std::max<std::size_t>(o.write_buffer_bytes / 4, 1 << 20);
  cf.max_write_buffer_number = 2;
  return cf;
}

Status CheckZstd(const std::string& path) {
  auto supported = rocksdb::GetSupportedCompressions();
  if (std::find(supported.begin(), supported.end(), rocksdb::kZSTD) == supported.end()) {
    return Fatal(path, "this RocksDB library was built without zstd support");
  }
  return Status::Ok();
}

// Reads the stored schema version. Missing is only acceptable for a database
// without data (a fresh one, or one whose creation was interrupted before
// the version was written).
Status CheckSchema(Manifest::State& s) {
  std::string value;
  rocksdb::ColumnFamilyHandle* meta = s.cf(Batch::Family::kMeta);
  rocksdb::Status rs = s.db->Get(
      rocksdb::ReadOptions(), meta,
      rocksdb::Slice(keys::kSchemaVersionKey.data(), keys::kSchemaVersionKey.size()), &value);
  if (rs.IsNotFound()) {
    for (auto* handle : s.families) {
      std::unique_ptr<rocksdb::Iterator> it(s.db->NewIterator(rocksdb::ReadOptions(), handle));
      it->SeekToFirst();
      if (!it->status().ok()) return FromRocks(it->status(), "check for data", s.path);
      if (it->Valid()) {
        return Fatal(s.path,
                     "has data but no schema version: not a ferry manifest, or a "
                     "damaged one; refusing to use it");
      }
    }
    rocksdb::WriteOptions w;
    w.sync = true;
    std::string version = std::to_string(kSchemaVersion);
    rs = s.db->Put(w, meta,
                   rocksdb::Slice(keys::kSchemaVersionKey.data(), keys::kSchemaVersionKey.size()),
                   version);
    if (!rs.ok()) return FromRocks(rs, "write schema version", s.path);
    s.schema_version = kSchemaVersion;
    return Status::Ok();
  }
  if (!rs.ok()) return FromRocks(rs, "read schema version", s.path);
  int version = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size() || version < 1) {
    std::string shown = value.size() > 32 ? value.substr(0, 32) + "..." : value;
    return Fatal(s.path, "unreadable schema version \"" + shown +
                             "\": the manifest is damaged; refusing to use it");
  }
  if (version > kSchemaVersion) {
    return Fatal(s.path, "schema version " + std::to_string(version) +
                             " is newer than this ferry understands (" +
                             std::to_string(kSchemaVersion) +
                             "); run the newer ferry, or move STATE_DIR away");
  }
  // Older versions would be migrated here; version 1 is the first.
  s.schema_version = version;
  return Status::Ok();
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view what, const std::string& path) {
  ErrorClass c = ErrorClass::kFatal;
  std::string hint;
  const char* kRecover =
      "; restore STATE_DIR from a backup, or move it away to rebuild the manifest by a full "
      "reconciliation)";
  if (s.IsCorruption()) {
    hint = std::string(" (the manifest is corrupt") + kRecover;
  } else if (s.IsPathNotFound() ||
             (s.IsIOError() && s.ToString().find("No such file") != std::string::npos)) {
    hint = std::string(" (a database file is missing: the manifest is damaged") + kRecover;
  } else if (s.IsNoSpace()) {
    hint = " (disk full)";
  } else if (s.IsBusy() || s.IsTryAgain() || s.IsTimedOut()) {
    c = ErrorClass::kRetryable;
  } else if (s.IsInvalidArgument()) {
    c = ErrorClass::kInvalidArgument;
  } else if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
    hint = " (another ferryd is using STATE_DIR?)";
  }
  return Status::Error(
      c, "manifest at " + path + ": " + std::string(what) + ": " + s.ToString() + hint);
}

Manifest::State::~State() {
  if (db) {
    rocksdb::CancelAllBackgroundWork(db.get(), /*wait=*/true);
    for (auto* h : all_handles) db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db->Close().PermitUncheckedError();
    db.reset();
  }
  if (lock_fd >= 0) ::close(lock_fd);  // releases the flock, after RocksDB let go
}

Result<std::unique_ptr<Manifest>> Manifest::Open(const std::string& path, const Options& options) {
  if (path.empty()) return Status::Error(ErrorClass::kInvalidArgument, "manifest: empty path");
  FERRY_RETURN_IF_ERROR(CheckZstd(path));
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    if (!options.create_if_missing) {
      return Status::Error(ErrorClass::kNotFound, "manifest at " + path + ": no such directory");
    }
    fs::create_directories(path, ec);
    if (ec) return Fatal(path, "cannot create the directory: " + ec.message());
  }
  auto state = std::make_unique<State>();
  state->path = path;
  FERRY_ASSIGN_OR_RETURN(state->lock_fd, LockDirectory(path));

  bool exists = fs::exists(fs::path(path) / "CURRENT", ec);
  if (!exists) {
    FERRY_RETURN_IF_ERROR(CheckNoOrphanData(path));
    if (!options.create_if_missing) {
      return Status::Error(ErrorClass::kNotFound, "manifest at " + path + ": no database there");
    }
  }

  state->block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = !exists;
  db_options.create_missing_column_families = !exists;
  db_options.paranoid_checks = true;
  db_options.max_background_jobs = options.max_background_jobs;
  db_options.write_buffer_manager =
      std::make_shared<rocksdb::WriteBufferManager>(options.write_buffer_bytes, state->block_cache);
  // A rarely written family (meta) would otherwise keep old WAL files alive.
  db_options.max_total_wal_size = std::max<std::uint64_t>(4 * options.write_buffer_bytes, 64 << 20);
  db_options.keep_log_file_num = 3;
  db_options.max_log_file_size = 4 << 20;
  db_options.info_log_level = rocksdb::WARN_LEVEL;

  rocksdb::ColumnFamilyOptions cf_options = FamilyOptions(options, state->block_cache);
  std::vector<std::string> names = {std::string(rocksdb::kDefaultColumnFamilyName),
                                    std::string(kObjectsFamily), std::string(kUploadsFamily),
                                    std::string(kContentFamily), std::string(kMetaFamily)};
  if (exists) {
    std::vector<std::string> found;
    rocksdb::Status rs = rocksdb::DB::ListColumnFamilies(db_options, path, &found);
    if (!rs.ok()) return FromRocks(rs, "read the database's column families", path);
    for (const auto& want : names) {
      if (std::find(found.begin(), found.end(), want) == found.end()) {
        return Fatal(path, "column family \"" + want +
                               "\" is missing: not a ferry manifest, or a damaged one");
      }
    }
    // Open families a newer ferry may have added too (RocksDB requires all);
    // the schema check below then refuses the database with a clear message.
    for (const auto& f : found) {
      if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, cf_options);

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status rs = rocksdb::DB::Open(db_options, path, descriptors, &handles, &raw);
  if (!rs.ok()) return FromRocks(rs, "open", path);
  state->db.reset(raw);
  state->all_handles = handles;
  // names[1..4] are ours, in Batch::Family order.
  for (std::size_t i = 0; i < state->families.size(); ++i) state->families[i] = handles[i + 1];

  FERRY_RETURN_IF_ERROR(CheckSchema(*state));
  if (options.verify_checksums_on_open) {
    rs = state->db->VerifyChecksum();
    if (!rs.ok()) return FromRocks(rs, "verify checksums", path);
  }
  return std::unique_ptr<Manifest>(new Manifest(std::move(state)));
}

}  // namespace ferry::manifest
