// A small blocking client for the s3sim admin API (see admin.h), for engine
// and storage tests that drive the simulator: set faults and link
// emulation, create synthetic objects, read counters and the request log.
// Each call opens a connection, has a deadline, and returns a Status on
// transport errors or non-2xx answers. Thread-compatible (one per thread).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/base/status.h"

namespace ferry::sim {

class AdminClient {
 public:
  AdminClient(std::string host, std::uint16_t port,
              std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : host_(std::move(host)), port_(port), timeout_(timeout) {}

  Result<nlohmann::json> Get(std::string_view path_and_query);
  Result<nlohmann::json> Post(std::string_view path, const nlohmann::json& body);

  Result<nlohmann::json> Stats() { return Get("/_sim/stats"); }
  // Log entries with seq > since (see LogEntry::ToJson for the fields).
  Result<std::vector<nlohmann::json>> Log(std::uint64_t since = 0);
  // Adds one rule in --fault spec syntax, e.g. "op=get,kind=reset,next=1".
  Status AddFault(std::string_view spec);
  Status AddFaults(const nlohmann::json& rules);  // array of rule objects
  Status ClearFaults();
  Status SetSeed(std::uint64_t seed);
  Status SetLink(std::uint32_t latency_ms, std::uint64_t bandwidth_bps);
  // Moves the simulator's clock `offset_ms` ahead of the host's (see /_sim/clock).
  Status SetClockOffset(std::int64_t offset_ms);
  // {"bucket":..., "objects":[...]} or a generator spec; returns the answer.
  Result<nlohmann::json> CreateSynthetic(const nlohmann::json& spec);
  Status CreateBucket(std::string_view name);
  // Default encryption of `bucket` ("" clears), see /_sim/bucket-encryption.
  Status SetBucketEncryption(std::string_view bucket, std::string_view sse,
                             std::string_view kms_key_id = "");
  Status ResetStats();

 private:
  Result<nlohmann::json> Call(std::string_view method, std::string_view target,
                              const std::string& body);

  std::string host_;
  std::uint16_t port_;
  std::chrono::milliseconds timeout_;
};

}  // namespace ferry::sim
