// What a run achieved, judged at the destination: which objects its request
// log shows written (final PutObject / CompleteMultipartUpload / CopyObject
// with status 200), how many payload bytes arrived, and, per object, the
// replication lag.
//
// Lag: the destination logs each request when its response has been sent,
// i.e. when the object became readable there. Every source object exists
// before the replicator starts (time t0), so an object's lag is
// (its final write's log time) - t0: how long an object that had just
// landed at the source waited to be readable at the replica.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/sim_region.h"

namespace ferry::bench {

struct LagStats {
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, max = 0;  // seconds
};

struct DestinationCheck {
  std::uint64_t objects_written = 0;  // distinct keys with a successful final write
  std::uint64_t bytes_in = 0;         // request payload bytes received (all requests)
  std::uint64_t requests = 0;
  std::vector<double> lag_seconds;    // one per written key
};

// Reads the destination's request log after `since_seq`.
Result<DestinationCheck> CheckDestination(SimRegion& dst, std::uint64_t since_seq,
                                          std::chrono::system_clock::time_point t0);
LagStats Summarize(std::vector<double> values);
// "2026-11-23T14:27:10.258Z" (the simulator's log times).
std::optional<std::chrono::system_clock::time_point> ParseIsoTime(const std::string& s);
// The simulator's current log sequence number (to read only a run's entries).
Result<std::uint64_t> LastSeq(SimRegion& r);

}  // namespace ferry::bench
