// The clock offset between ferry and one S3 endpoint, learned the way the AWS
// SDKs do it: when a server rejects a request as RequestTimeTooSkewed (or,
// for HEAD, whose answer has no body, with a bare 403 whose Date is far from
// the time the request was signed with), the difference between the server's
// time (its Date header, or the error's ServerTime) and the local clock
// becomes an offset added to the signing time of every later request to that
// endpoint. The client then reports the rejected request as retryable, so the
// engine's retry sends it again with the corrected time.
//
// Thread-safe. The offset is bounded (±kMaxOffset): a server whose clock is
// further off is not followed, and its errors stay kClockSkew.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace ferry::s3 {

class ClockSkew {
 public:
  using SystemClock = std::chrono::system_clock;
  static constexpr std::chrono::hours kMaxOffset{24};
  // Server times come with one-second resolution (HTTP Date) and some
  // latency; a measurement this close to the offset in use changes nothing.
  static constexpr std::chrono::seconds kResolution{5};
  // A bare 403 to a HEAD counts as a clock problem when the server's Date is
  // this far from the time the request was signed with.
  static constexpr std::chrono::minutes kHeadThreshold{5};

  explicit ClockSkew(std::string endpoint) : endpoint_(std::move(endpoint)) {}

  // Added to the local clock for signing.
  std::chrono::milliseconds offset() const {
    return std::chrono::milliseconds(offset_ms_.load(std::memory_order_relaxed));
  }
  SystemClock::time_point SigningTime() const { return SystemClock::now() + offset(); }

  enum class Learned {
    kChanged,      // the offset now differs from `used`: sending again may work
    kUnchanged,    // the server's time agrees with `used`: the clock is not the problem
    kOutOfBounds,  // the server's clock is more than kMaxOffset away: not followed
  };
  // `server_time` was read from an answer that arrived at local time
  // `local_now` to a request signed with offset `used`. Logs a warning the
  // first time this endpoint's offset changes.
  Learned Learn(SystemClock::time_point server_time, SystemClock::time_point local_now,
                std::chrono::milliseconds used);

  const std::string& endpoint() const { return endpoint_; }

 private:
  const std::string endpoint_;
  std::atomic<std::int64_t> offset_ms_{0};
  std::atomic<bool> warned_{false};
  std::atomic<bool> warned_bounds_{false};
};

// The process-wide offset of `endpoint` (its URL): every client of one
// endpoint shares it, whatever the bucket, and it survives client rebuilds.
std::shared_ptr<ClockSkew> ClockSkewFor(const std::string& endpoint);

}  // namespace ferry::s3
