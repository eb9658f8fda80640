// Fault injection: rules that make chosen requests fail in chosen ways, so
// the engine's retry, resume and verification paths can be tested without
// sleeps or flaky networks. Deterministic for a given seed and request order.
//
// A rule matches by operation (a class below, or an exact S3 operation name
// such as "UploadPartCopy") and optionally by bucket and key prefix, and
// fires either for the next N matching requests ("next") or with a
// probability ("p"), or both (fires with p until N have fired).
//
// Kinds (what a firing rule does):
//   error500    500 InternalError instead of running the operation
//   slowdown503 503 SlowDown instead of running the operation
//   skew        the simulator's clock jumps ahead by `ms` (default 1 h; it
//               stays there) and this request gets 403 RequestTimeTooSkewed
//               instead of running; later requests signed with the old time
//               get it from the SigV4 check (not counted as faults)
//   reset       connection reset (RST): for requests with a body, after about
//               half of it was read and before anything is stored; otherwise
//               after the headers and half of the response body (at once when
//               the response has no body)
//   truncate    response headers with the full Content-Length, half the body,
//               then the connection closes (at once when there is no body)
//   flip        one byte flipped: in the response body (GET, lists), or, for
//               PutObject/UploadPart, in the received body before it is hashed
//               and stored (as if corrupted on the wire: the ETag reflects the
//               flipped byte; Content-MD5 / signed SHA-256 checks catch it)
//   latency     an extra delay of `ms` before the response (others still apply)
//
// Spec text (flag --fault, repeatable): comma-separated key=value pairs,
//   op=get,kind=error500,next=2
//   op=upload_part,kind=reset,p=0.1,prefix=backups/
//   op=any,kind=latency,ms=250,p=0.5,bucket=dst
// JSON (admin API): {"op":"get","kind":"reset","next":1,"p":0.5,"prefix":"x",
//   "bucket":"b","ms":100}
//
// Operation classes: get, put, upload_part, complete, create_multipart, list,
// head, copy (CopyObject, UploadPartCopy), delete (DeleteObject(s)), any.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocols/base/status.h"

namespace ferry::sim {

enum class FaultKind { kError500, kSlowDown503, kSkew, kReset, kTruncate, kFlip, kLatency };

std::string_view FaultKindName(FaultKind k);
std::optional<FaultKind> ParseFaultKind(std::string_view name);
// The fault class of an S3 operation name ("GetObject" -> "get").
std::string_view OperationClass(std::string_view op);

struct FaultRule {
  std::string op = "any";
  FaultKind kind = FaultKind::kError500;
  double probability = 1.0;   // chance that a matching request fires the rule
  std::int64_t remaining = -1;  // fires left; -1 = unlimited
  std::string bucket;         // "" = any
  std::string key_prefix;     // "" = any
  std::uint32_t latency_ms = 0;  // latency: the delay; skew: the clock jump (0 = 1 h)
  std::uint64_t injected = 0;  // how often it fired

  nlohmann::json ToJson() const;
};

Result<FaultRule> ParseFaultSpec(std::string_view spec);
Result<FaultRule> FaultRuleFromJson(const nlohmann::json& j);

struct FaultDecision {
  std::optional<FaultKind> kind;  // never kLatency
  std::uint32_t extra_latency_ms = 0;
  std::int64_t skew_ms = 0;       // clock jump of a firing skew rule
  std::vector<FaultKind> fired;   // for counters, latency included
};

// Thread-safe.
class FaultInjector {
 public:
  explicit FaultInjector(std::uint64_t seed = 1) : rng_(seed) {}
  void Reseed(std::uint64_t seed);
  void Add(FaultRule rule);
  void Clear();
  std::vector<FaultRule> Rules() const;
  // Rules are tried in order: every matching latency rule that fires adds its
  // delay; the first other rule that fires decides the fault.
  FaultDecision Decide(std::string_view op, std::string_view bucket, std::string_view key);

 private:
  double NextUnit();  // REQUIRES: mu_ held

  mutable std::mutex mu_;
  std::uint64_t rng_;             // GUARDED_BY(mu_)
  std::vector<FaultRule> rules_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::sim
