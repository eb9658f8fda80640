// Manifest: ferry's durable replication state, a RocksDB database under
// STATE_DIR (DESIGN.md "Persistence"). The engine's planner, transfer
// pipeline and lag accounting keep everything that must survive a restart
// here; nothing is ever written into a replicated bucket.
//
// Column families:
//   objects  (route, dest, key) -> ObjectRecord   ordered by key bytes per (route, dest)
//   uploads  (route, dest, key) -> UploadRecord   open multipart uploads + finished parts
//   content  (hash, dest, key)  -> dest ETag      dedup: where identical content lives
//   meta     name -> value                         watermarks, approvals; schema version
//
// Durability: every write takes WriteOptions. With sync = true the write is
// in the fsynced WAL before the call returns; use it for a write that guards
// a remote step (an upload id before UploadPart, a part before the next
// ones, an approval before a delete). Without sync a write survives a process
// crash (it is in the OS page cache) but not a power loss.
//
// Threads: a Manifest is safe to use from many threads at once (RocksDB
// serializes writes). An ObjectCursor belongs to one thread. Every cursor
// must be destroyed before its Manifest.
//
// Errors: Status/Result. Corruption and I/O failures are kFatal and name the
// database path; bad arguments are kInvalidArgument; nothing throws.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/status.h"
#include "storage/manifest/batch.h"
#include "storage/manifest/records.h"

namespace ferry::manifest {

// The schema this build reads and writes. Open refuses a newer one.
inline constexpr int kSchemaVersion = 1;

struct Options {
  // Block cache shared by all column families; memtables are charged to it
  // too, so this plus write_buffer_bytes bounds RocksDB's memory.
  std::size_t block_cache_bytes = std::size_t{32} << 20;
  // Total memtable budget across column families.
  std::size_t write_buffer_bytes = std::size_t{32} << 20;
  // Create the directory and an empty manifest when there is none. When
  // false, a missing manifest is kNotFound.
  bool create_if_missing = true;
  // Read every SST file at open to verify checksums (slow on a big manifest;
  // corruption is otherwise found when the damaged block is read).
  bool verify_checksums_on_open = false;
  int max_background_jobs = 2;
};

struct WriteOptions {
  bool sync = false;  // fsync the WAL before returning
};
inline constexpr WriteOptions kSync{.sync = true};
inline constexpr WriteOptions kNoSync{.sync = false};

struct ObjectEntry {
  std::string key;
  ObjectRecord record;
};

// Iterates the objects of one Scope in key byte order, from a start key,
// without loading them all: the planner's merge-diff walks it side by side
// with the source and destination listings. It reads a consistent snapshot
// taken at creation; writes made later are not seen. Keep a cursor for one
// pass, not for hours (it pins old data files).
//
//   auto c = manifest.NewObjectCursor(scope, "backups/");
//   for (; c->Valid(); c->Next()) use(c->key(), c->record());
//   FERRY_RETURN_IF_ERROR(c->status());
class ObjectCursor {
 public:
  ~ObjectCursor();
  ObjectCursor(const ObjectCursor&) = delete;
  ObjectCursor& operator=(const ObjectCursor&) = delete;

  // False at the end of the scope or after an error (see status()).
  bool Valid() const;
  // REQUIRES: Valid(). The object key (without the scope) and its record.
  std::string_view key() const;
  const ObjectRecord& record() const;
  // REQUIRES: Valid().
  void Next();
  // Positions at the first key >= `key` in the scope (clears no error).
  void Seek(std::string_view key);
  // OK unless iteration or decoding failed; a corrupt record stops the
  // cursor with kFatal naming the key.
  Status status() const;

  struct Impl;

 private:
  friend class Manifest;
  explicit ObjectCursor(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Figures for /metrics. Approximate by nature.
struct Stats {
  std::uint64_t block_cache_usage_bytes = 0;
  std::uint64_t memtable_bytes = 0;
  std::uint64_t live_sst_bytes = 0;
  std::uint64_t estimated_object_records = 0;
};

class Manifest {
 public:
  // Opens (or creates, see Options) the manifest in directory `path`.
  // Errors, all naming the path:
  //   - another process (or another Manifest in this one) holds it:
  //     kFatal "... locked by pid N: another ferryd is using STATE_DIR?"
  //   - corrupt database files, or files without a CURRENT: kFatal, and the
  //     database is left untouched (never reset, never recreated)
  //   - schema version newer than kSchemaVersion, missing (with data
  //     present) or unreadable: kFatal naming both versions
  // ENSURES: on success the schema version is stored and synced.
  static Result<std::unique_ptr<Manifest>> Open(const std::string& path,
                                                const Options& options = {});
  ~Manifest();  // closes the database; REQUIRES no live ObjectCursor
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  const std::string& path() const;
  int schema_version() const;

  // ---- objects ---------------------------------------------------------
  // std::nullopt when there is no record.
  Result<std::optional<ObjectRecord>> GetObject(const Scope& scope, std::string_view key);
  Status PutObject(const Scope& scope, std::string_view key, const ObjectRecord& record,
                   WriteOptions w = {});
  Status DeleteObject(const Scope& scope, std::string_view key, WriteOptions w = {});

  // Read-modify-write of one record. `mutate` gets the current record
  // (nullopt if none) and may change it, reset it (delete), and add more
  // operations to `batch`, all written atomically. A non-OK return aborts
  // without writing. first_seen_ms is carried over from the stored record
  // while the source version (ETag, size) is unchanged (CarryFirstSeen).
  // Concurrent UpdateObject calls on the same object are serialized; a plain
  // PutObject/Write racing with them on the same object is not.
  // REQUIRES: `mutate` is short and does not call UpdateObject (it runs under
  // a lock shared with other objects).
  using ObjectMutator = std::function<Status(std::optional<ObjectRecord>* record, Batch* batch)>;
  Status UpdateObject(const Scope& scope, std::string_view key, const ObjectMutator& mutate,
                      WriteOptions w = {});

  // A cursor at the first key >= start_key of `scope`. Never null; an
  // invalid scope yields a cursor whose status() says why.
  std::unique_ptr<ObjectCursor> NewObjectCursor(const Scope& scope,
                                                std::string_view start_key = {});
  // Up to `limit` records from the first key > `after` ("" = from the
  // start). Page through a scope by passing the last key returned.
  Result<std::vector<ObjectEntry>> ScanObjects(const Scope& scope, std::string_view after,
                                               std::size_t limit);
  // Calls fn for every record of the scope in key order until it returns false.
  Status ForEachObject(const Scope& scope,
                       const std::function<bool(std::string_view key, const ObjectRecord&)>& fn);
  // Number of records of the scope (iterates keys; does not decode values).
  Result<std::uint64_t> CountObjects(const Scope& scope);
  // Every scope that has at least one object record (e.g. to find routes
  // removed from the config). Cost: one seek per scope.
  Result<std::vector<Scope>> ListScopes();

  // ---- multipart uploads -------------------------------------------------
  // Records an upload (header and upload.parts), replacing any earlier one
  // for the object together with its parts.
  Status PutUpload(const Scope& scope, std::string_view key, const UploadRecord& upload,
                   WriteOptions w = {});
  // Records one finished part of the open upload `upload_id`.
  // kNotFound when no upload is open for the object; kPrecondition when the
  // open one has another id. REQUIRES: kMinPartNumber <= part_number <= kMaxPartNumber.
  Status AddPart(const Scope& scope, std::string_view key, std::string_view upload_id,
                 std::uint32_t part_number, const PartRecord& part, WriteOptions w = {});
  // The open upload with its finished parts; nullopt when none.
  Result<std::optional<UploadRecord>> GetUpload(const Scope& scope, std::string_view key);
  // Forgets the upload and its parts (after Complete or Abort). OK when none.
  Status RemoveUpload(const Scope& scope, std::string_view key, WriteOptions w = {});
  // Every open upload, with its parts, one at a time, until fn returns false
  // (to resume them or abort stale ones after a restart).
  Status ForEachUpload(
      const std::function<bool(const Scope&, std::string_view key, const UploadRecord&)>& fn);

  // ---- content (dedup) ---------------------------------------------------
  // `hash` identifies content (XXH3-128 hex, or whatever the engine uses as
  // content id); `key` is a destination object key at `dest`.
  // `dest_etag` is the destination object's ETag when the content was
  // written (replaces the entry's earlier value).
  Status AddContent(std::string_view hash, std::string_view dest, std::string_view key,
                    WriteOptions w = {}, std::string_view dest_etag = {});
  Status RemoveContent(std::string_view hash, std::string_view dest, std::string_view key,
                       WriteOptions w = {});
  // Up to `limit` keys at `dest` known to hold `hash`, in key order.
  Result<std::vector<std::string>> FindContent(std::string_view hash, std::string_view dest,
                                               std::size_t limit = 16);
  // The same entries with the destination ETag each was recorded with
  // ("" for entries written without one).
  struct ContentHit {
    std::string key;
    std::string dest_etag;
  };
  Result<std::vector<ContentHit>> FindContentEtags(std::string_view hash, std::string_view dest,
                                                   std::size_t limit = 16);

  // ---- meta ---------------------------------------------------------------
  // Small named values (watermarks, last complete reconciliation, delete-guard
  // approvals). Names are free-form; a "route/dest/what" convention is advised.
  Result<std::optional<std::string>> GetMeta(std::string_view name);
  Status PutMeta(std::string_view name, std::string_view value, WriteOptions w = {});
  Status DeleteMeta(std::string_view name, WriteOptions w = {});
  // Entries whose name starts with `prefix`, in name order.
  Result<std::vector<std::pair<std::string, std::string>>> ListMeta(std::string_view prefix);

  // ---- batches and durability --------------------------------------------
  // Applies every operation of `batch` atomically (all or none survive a
  // crash). Returns the batch's first recorded argument error, if any,
  // without writing anything.
  Status Write(const Batch& batch, WriteOptions w = {});
  // Makes every write so far durable (fsync the WAL), for callers that wrote
  // many records without sync and now reach a point that needs them.
  Status SyncWal();
  // Flushes memtables to SST files (shorter recovery at the next open).
  Status Flush();
  Stats GetStats();

  struct State;

 private:
  explicit Manifest(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

}  // namespace ferry::manifest
