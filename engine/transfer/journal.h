// TransferJournal: what the transfer state machine needs to remember across a
// crash, for one destination (route + destination). The daemon implements it
// over the RocksDB manifest; every Begin/RecordPart call is durable (synced)
// before it returns, because it guards a remote step that follows.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::engine {

struct JournalPart {
  std::string etag;
  std::uint64_t size = 0;
  std::string xxh3;  // hex XXH3-128 of the part
};

struct JournalUpload {
  std::string upload_id;
  std::string source_etag;
  std::uint64_t size = 0;
  std::uint64_t part_size = 0;
  std::int64_t started_ms = 0;
  std::map<int, JournalPart> parts;  // finished parts
};

// A destination object known to hold some content: its key and the ETag it
// had when ferry wrote that content there. A dedup copy from it is
// conditional on that ETag (x-amz-copy-source-if-match), so an object
// overwritten since can never be copied in its place.
struct ContentEntry {
  std::string dst_key;
  std::string dst_etag;
};

class TransferJournal {
 public:
  virtual ~TransferJournal() = default;

  virtual std::optional<JournalUpload> FindUpload(const std::string& dst_key) = 0;
  // Durable before returning.
  virtual Status BeginUpload(const std::string& dst_key, const JournalUpload& upload) = 0;
  virtual Status RecordPart(const std::string& dst_key, const std::string& upload_id,
                            int part_number, const JournalPart& part) = 0;
  virtual Status EndUpload(const std::string& dst_key) = 0;

  // Dedup: destination objects known to hold content identified by
  // `content_id` (source ETag + size), each with the ETag it was written
  // with. Entries without an ETag (older manifests) are not returned.
  virtual std::vector<ContentEntry> FindContent(const std::string& content_id) = 0;

  // True when this destination object (dst_etag) was earlier verified as a
  // replica of source content with `src_etag` (ETags differ when part
  // layouts differ).
  virtual bool KnownReplica(const std::string& dst_key, const std::string& src_etag,
                            const std::string& dst_etag) = 0;
};

}  // namespace ferry::engine
