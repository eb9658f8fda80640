// RouteState: the durable per-object state of one (route, destination), as
// the engine sees it. Implemented over the RocksDB manifest (ManifestState);
// the engine never sees RocksDB.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "engine/transfer/journal.h"
#include "protocols/base/status.h"

namespace ferry::engine {

enum class ObjectPhase : std::uint8_t {
  kPending,        // seen at the source, not yet verified at the destination
  kReplicated,     // verified at the destination
  kFailed,         // last attempt failed (retried next pass)
  kDeletePending,  // gone at the source; deletion waits for the grace period
};
std::string_view ObjectPhaseName(ObjectPhase p);

struct ObjectState {
  ObjectPhase phase = ObjectPhase::kPending;
  std::string src_etag;
  std::string dst_etag;
  std::uint64_t size = 0;
  std::int64_t source_mtime_ms = 0;   // LastModified at the source
  std::int64_t first_seen_ms = 0;     // when ferry first saw this version
  std::int64_t replicated_at_ms = 0;  // verified at the destination
  std::int64_t delete_seen_ms = 0;    // when ferry first saw it gone (kDeletePending)
  std::string verified_by;
  std::string content_hash;
  std::uint32_t attempts = 0;
  std::string last_error;
};

class RouteState : public TransferJournal {
 public:
  // Keys are destination-relative object keys (route prefix removed).
  virtual Result<std::optional<ObjectState>> Get(const std::string& rel_key) = 0;
  virtual Status Put(const std::string& rel_key, const ObjectState& state) = 0;
  virtual Status Erase(const std::string& rel_key) = 0;
  // Records that `dst_key` at this destination holds content `content_id`,
  // written with ETag `dst_etag` (replacing an earlier entry of that key).
  virtual Status AddContent(const std::string& content_id, const std::string& dst_key,
                            const std::string& dst_etag) = 0;
  // Forgets the content entry of the content `rel_key`'s record names: its
  // destination object was deleted. OK when there is none. (An object
  // overwritten by a later copy needs no call: FindContent drops an entry
  // whose key's record no longer names that content and ETag.)
  virtual Status DropContent(const std::string& rel_key) = 0;
  // Visits every record in key order until `fn` returns false.
  virtual Status Scan(const std::function<bool(const std::string&, const ObjectState&)>& fn) = 0;
  // Visits every journaled (open) multipart upload of this destination, by
  // destination key, until `fn` returns false.
  virtual Status ForEachUpload(
      const std::function<bool(const std::string& dst_key, const JournalUpload&)>& fn) = 0;
  // Small named values for this (route, destination): watermarks, approvals.
  virtual std::optional<std::string> GetMeta(const std::string& name) = 0;
  virtual Status PutMeta(const std::string& name, const std::string& value) = 0;
};

}  // namespace ferry::engine
