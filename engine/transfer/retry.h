// Retry with exponential backoff and full jitter, and a per-endpoint pacer.
//
// Backends classify errors; this is the one place that decides to try again.
// kRetryable and kThrottled are retried up to max_attempts; kAuth is retried
// at most twice (a rotated credentials file is re-read on the next request);
// everything else fails at once. A throttle (503 SlowDown) also slows every
// request to that endpoint through its Pacer, which recovers gradually.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/http/activity.h"

namespace ferry::engine {

using Millis = std::chrono::milliseconds;

struct RetryPolicy {
  int max_attempts = 10;
  Millis initial_backoff{200};
  Millis max_backoff{30'000};
};

// Delay before attempt `attempt` (1-based retry count): uniform in
// [0, min(max_backoff, initial_backoff * 2^(attempt-1))].
Millis BackoffDelay(const RetryPolicy& policy, int attempt, std::uint64_t random);

bool IsRetryable(const Status& s);

// Per-endpoint pacing. Thread-safe.
class Pacer {
 public:
  explicit Pacer(std::string endpoint)
      : endpoint_(std::move(endpoint)), activity_(std::make_shared<http::Activity>()) {}
  // Sleeps for the current pacing delay (none when the endpoint is healthy).
  io::Task<void> Wait();
  // 503 SlowDown / 429: double the delay (from 50 ms, at most 5 s).
  void OnThrottle();
  // A success shrinks the delay by a quarter (to zero below 10 ms).
  void OnSuccess();

  const std::string& endpoint() const { return endpoint_; }
  Millis delay() const;
  std::uint64_t throttles() const { return throttles_.load(); }
  std::uint64_t retries() const { return retries_.load(); }
  void CountRetry() { retries_.fetch_add(1); }
  // An attempt failed and will be tried again: remembered as the endpoint's
  // last error (status) and counted by reason (metrics).
  void NoteRetriedError(const Status& s);
  struct RetriedErrors {
    std::string last;            // message of the newest (never a secret)
    std::int64_t last_ms = 0;    // wall clock; 0: none yet
    std::map<std::string, std::uint64_t> by_reason;  // "retryable", "throttled", "auth"
  };
  RetriedErrors retried_errors() const;
  // The endpoint's exchanges and bytes (shared with its HTTP clients).
  const std::shared_ptr<http::Activity>& activity() const { return activity_; }

 private:
  std::string endpoint_;
  const std::shared_ptr<http::Activity> activity_;
  mutable std::mutex mu_;
  Millis delay_{0};  // GUARDED_BY(mu_)
  RetriedErrors errors_;  // GUARDED_BY(mu_)
  std::atomic<std::uint64_t> throttles_{0};
  std::atomic<std::uint64_t> retries_{0};
};

// Runs `op` until it succeeds, fails with a non-retryable error, or the
// policy's attempts run out. `op` returns io::Task<Result<T>> (or Status).
template <typename Op>
auto WithRetry(const RetryPolicy& policy, Pacer& pacer, Op op) -> decltype(op()) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  int auth_failures = 0;
  for (int attempt = 1;; ++attempt) {
    co_await pacer.Wait();
    auto result = co_await op();
    Status s = [&] {
      if constexpr (std::is_same_v<decltype(result), Status>) {
        return result;
      } else {
        return result.status();
      }
    }();
    if (s.ok()) {
      pacer.OnSuccess();
      co_return result;
    }
    if (s.Is(ErrorClass::kThrottled)) pacer.OnThrottle();
    bool again = IsRetryable(s) || (s.Is(ErrorClass::kAuth) && ++auth_failures <= 2);
    if (!again || attempt >= policy.max_attempts) co_return result;
    pacer.CountRetry();
    pacer.NoteRetriedError(s);
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(BackoffDelay(policy, attempt, rng()));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace ferry::engine
