// Verify: compares a route's source with one replica, object by object
// (streaming merge of both listings, a page of memory each): counts, sizes,
// ETags. An ETag that differs is still a match when the manifest recorded
// that this destination ETag is the verified copy of this source ETag (a
// copy whose part layout could not be mirrored). Used by `ferryctl verify`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sync/pass.h"

namespace ferry::engine {

struct VerifyReport {
  std::string route;
  std::string destination;
  bool source_listing_complete = false;
  bool destination_listing_complete = false;
  std::uint64_t source_objects = 0;
  std::uint64_t source_bytes = 0;
  std::uint64_t replica_objects = 0;
  std::uint64_t replica_bytes = 0;
  std::uint64_t matched = 0;
  std::uint64_t missing = 0;        // at the source, not at the replica
  std::uint64_t extra = 0;          // at the replica only
  std::uint64_t size_mismatch = 0;
  std::uint64_t etag_mismatch = 0;
  bool extra_is_mismatch = false;   // delete policy mirror-now
  // The first kMaxDiffs differences: {"key", "problem", "source", "replica"}.
  std::vector<nlohmann::json> diffs;
  std::vector<std::string> errors;

  bool ok() const;
  nlohmann::json ToJson() const;
};

inline constexpr std::size_t kMaxDiffs = 100;

io::Task<VerifyReport> VerifyDestination(const PassSettings& settings, const SourceSide& source,
                                         const DestinationSide& dest);

}  // namespace ferry::engine
