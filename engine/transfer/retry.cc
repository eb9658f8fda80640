#include "engine/transfer/retry.h"

#include <algorithm>

namespace ferry::engine {

Millis BackoffDelay(const RetryPolicy& policy, int attempt, std::uint64_t random) {
  int shift = std::clamp(attempt - 1, 0, 20);
  std::int64_t cap = std::min<std::int64_t>(policy.max_backoff.count(),
                                            policy.initial_backoff.count() << shift);
  if (cap <= 0) return Millis(0);
  return Millis(static_cast<std::int64_t>(random % static_cast<std::uint64_t>(cap + 1)));
}

bool IsRetryable(const Status& s) {
  return s.Is(ErrorClass::kRetryable) || s.Is(ErrorClass::kThrottled);
}

io::Task<void> Pacer::Wait() {
  Millis d = delay();
  if (d.count() == 0) co_return;
  boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
  timer.expires_after(d);
  co_await timer.async_wait(boost::asio::use_awaitable);
}

void Pacer::OnThrottle() {
  throttles_.fetch_add(1);
  std::lock_guard lock(mu_);
  delay_ = std::min(Millis(5000), std::max(Millis(50), delay_ * 2));
}

void Pacer::OnSuccess() {
  std::lock_guard lock(mu_);
  if (delay_.count() == 0) return;
  delay_ = delay_ * 3 / 4;
  if (delay_ < Millis(10)) delay_ = Millis(0);
}

void Pacer::NoteRetriedError(const Status& s) {
  const char* reason = s.Is(ErrorClass::kThrottled) ? "throttled"
                       : s.Is(ErrorClass::kAuth)    ? "auth"
                                                    : "retryable";
  const std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  std::lock_guard lock(mu_);
  errors_.last = s.ToString();
  errors_.last_ms = now;
  errors_.by_reason[reason]++;
}

Pacer::RetriedErrors Pacer::retried_errors() const {
  std::lock_guard lock(mu_);
  return errors_;
}

Millis Pacer::delay() const {
  std::lock_guard lock(mu_);
  return delay_;
}

}  // namespace ferry::engine
