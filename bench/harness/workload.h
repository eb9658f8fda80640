// Workloads of the end-to-end benchmark: which synthetic objects the source
// region holds (and, for `list`, the destination too), at full size or at
// the smoke test's tiny size.
//
//   large  4 x 1 GiB multipart objects (16 MiB source parts)
//   mixed  a Velero bucket: backups (multipart tarball, small gzipped JSON
//          files, the velero-backup.json marker) and a kopia repository
//          (~20 MiB packs, index blobs, format blobs)
//   small  10,000 x 64 KiB
//   list   1,000,000 x 1 KiB present at both ends: reconcile, nothing to copy
//   sweep  2 x 384 MiB single-part objects (the copier picks its own part
//          size, so part size can be swept)
//
// Objects are synthetic (s3sim generates their bytes from a seed), so the
// source costs no memory and no disk whatever the size.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "bench/harness/sim_region.h"
#include "protocols/base/status.h"

namespace ferry::bench {

inline constexpr std::uint64_t kKiB = 1ull << 10;
inline constexpr std::uint64_t kMiB = 1ull << 20;
inline constexpr std::uint64_t kGiB = 1ull << 30;

struct ObjectGroup {
  std::string key;        // the key, or the prefix of numbered keys
  std::uint64_t count = 1;  // > 1: keys key + "%08u" (0-based)
  std::uint64_t size = 0;
  std::uint64_t seed = 0;       // object i gets seed + i
  std::uint64_t part_size = 0;  // source upload layout; 0 = single PUT
  // Literal bytes instead of generated ones (count 1, size = content size):
  // Velero markers, which ferry reads and parses.
  std::string content{};
};

struct Workload {
  std::string name;
  std::string description;
  std::string layout = "plain";      // ferry's route layout
  bool preload_destination = false;  // destination already holds every object
  std::vector<ObjectGroup> groups;

  std::uint64_t objects() const;
  std::uint64_t bytes() const;
  // Visits every object (key, size, seed, part_size) in group order.
  void ForEach(const std::function<void(const std::string& key, std::uint64_t size,
                                        std::uint64_t seed, std::uint64_t part_size)>& fn) const;
};

// kInvalidArgument for an unknown name. `smoke`: tiny sizes (seconds).
Result<Workload> MakeWorkload(const std::string& name, bool smoke);
const std::vector<std::string>& ScenarioNames();  // large, mixed, small, list

// Creates the workload's objects in `bucket` through the admin API.
Status Populate(SimRegion& region, const std::string& bucket, const Workload& w);

}  // namespace ferry::bench
