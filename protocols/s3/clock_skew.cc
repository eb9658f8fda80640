#include "protocols/s3/clock_skew.h"

#include <spdlog/spdlog.h>

#include <mutex>
#include <unordered_map>

namespace ferry::s3 {
namespace {

// Endpoints remembered at most; past it, entries no client holds any more
// are dropped (a daemon has a handful of endpoints, tests make many).
constexpr std::size_t kMaxEndpoints = 1024;

}  // namespace

ClockSkew::Learned ClockSkew::Learn(SystemClock::time_point server_time,
                                    SystemClock::time_point local_now,
                                    std::chrono::milliseconds used) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const milliseconds measured = duration_cast<milliseconds>(server_time - local_now);
  if (measured > kMaxOffset || measured < -kMaxOffset) {
    if (!warned_bounds_.exchange(true)) spdlog::warn(
        "endpoint {}: server clock differs from the local one by {} s, more than the {} h "
        "ferry corrects; requests fail with RequestTimeTooSkewed until a clock is fixed",
        endpoint_, measured.count() / 1000, kMaxOffset.count());
    return Learned::kOutOfBounds;
  }
  const milliseconds diff = measured - used;
  if (diff < kResolution && diff > -kResolution) return Learned::kUnchanged;
  const std::int64_t before = offset_ms_.exchange(measured.count(), std::memory_order_relaxed);
  if (!warned_.exchange(true)) {
    spdlog::warn(
        "endpoint {}: server clock is {:+} s off the local clock (RequestTimeTooSkewed); "
        "signing requests to it with that offset",
        endpoint_, measured.count() / 1000);
  } else {
    spdlog::debug("endpoint {}: clock offset {:+} ms -> {:+} ms", endpoint_, before,
                  measured.count());
  }
  return Learned::kChanged;
}

std::shared_ptr<ClockSkew> ClockSkewFor(const std::string& endpoint) {
  static std::mutex mu;
  static std::unordered_map<std::string, std::shared_ptr<ClockSkew>> by_endpoint;  // GUARDED_BY(mu)
  std::lock_guard lock(mu);
  auto it = by_endpoint.find(endpoint);
  if (it != by_endpoint.end()) return it->second;
  if (by_endpoint.size() >= kMaxEndpoints) {
    std::erase_if(by_endpoint, [](const auto& kv) { return kv.second.use_count() == 1; });
  }
  auto skew = std::make_shared<ClockSkew>(endpoint);
  by_endpoint.emplace(endpoint, skew);
  return skew;
}

}  // namespace ferry::s3
