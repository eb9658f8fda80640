// W, the simulator pair's own limit: the same data moved from the source
// region to the destination region by the least a client can do, inside
// ferry-bench. Ranged GETs straight into a buffer and UploadParts (or one
// PUT for small objects) straight out of it, UNSIGNED-PAYLOAD, no HEADs,
// no Content-MD5, no hashing, no state; many streams at once. For `list`:
// the two listings, paged, nothing compared.
//
// Whatever ferry or a peer achieves is bounded by this figure on the same
// machine, so each result is also given as a fraction of W.
#pragma once

#include <cstdint>

#include "bench/harness/tools.h"
#include "bench/harness/workload.h"

namespace ferry::bench {

struct DirectOptions {
  int streams = 32;                   // requests in flight
  std::uint64_t part_size = 16 * kMiB;
  int threads = 2;                    // io_context threads
  // Hash as ferry does when it mirrors the source's part layout between
  // stores with MD5 ETags (the `large` scenario): XXH3-128 of every part,
  // no MD5 (the final ETag comparison proves the bytes). ferry's own MD5 per
  // part is only computed where no mirrored ETag and no CRC32C covers a part.
  bool hash = false;
};

struct DirectResult {
  double seconds = 0;
  std::uint64_t bytes = 0;    // payload bytes moved (0 for listings)
  std::uint64_t objects = 0;  // objects copied, or keys listed (both sides)
};

// Copies every object of `w` from pair.src_bucket to pair.dst_bucket (same keys).
Result<DirectResult> DirectCopy(const RegionPair& pair, const Workload& w, const DirectOptions& o);
// Lists both buckets to the end.
Result<DirectResult> DirectList(const RegionPair& pair, const DirectOptions& o);

}  // namespace ferry::bench
