#include "protocols/http/activity.h"

namespace ferry::http {

std::int64_t Activity::Ms(Clock::time_point t) {
  // +1: a zero stamp means "never".
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() + 1;
}

void Activity::Began(Clock::time_point now) {
  in_flight_.fetch_add(1);
  std::int64_t never = 0;
  progress_ms_.compare_exchange_strong(never, Ms(now));  // the clock starts with first use
}

void Activity::Ended() { in_flight_.fetch_sub(1); }

void Activity::Moved(std::uint64_t bytes, bool sent, bool progress, Clock::time_point now) {
  if (progress) progress_ms_.store(Ms(now));
  if (bytes == 0) return;
  (sent ? sent_ : received_).fetch_add(bytes);
  if (!progress) return;  // rates take it once the server answers (Credit)
  std::lock_guard lock(mu_);
  AddLocked(Ms(now) / 1000, bytes, sent);
}

void Activity::Credit(std::uint64_t sent, Clock::time_point now) {
  if (sent == 0) return;
  std::lock_guard lock(mu_);
  AddLocked(Ms(now) / 1000, sent, true);
}

void Activity::AddLocked(std::int64_t second, std::uint64_t bytes, bool sent) {
  Slot& s = ring_[static_cast<std::size_t>(second % static_cast<std::int64_t>(ring_.size()))];
  if (s.second != second) s = Slot{second, 0, 0};
  (sent ? s.sent : s.received) += bytes;
}

Activity::Snapshot Activity::Read(Clock::time_point now) const {
  Snapshot out;
  out.in_flight = in_flight_.load();
  out.bytes_sent = sent_.load();
  out.bytes_received = received_.load();
  const std::int64_t now_ms = Ms(now);
  const std::int64_t last = progress_ms_.load();
  out.used = last > 0;
  if (last > 0 && now_ms > last) out.since_progress = std::chrono::milliseconds(now_ms - last);
  const std::int64_t second = now_ms / 1000;
  std::uint64_t sent = 0, received = 0;
  {
    std::lock_guard lock(mu_);
    for (const Slot& s : ring_) {
      if (s.second >= second - kWindowSeconds && s.second < second) {
        sent += s.sent;
        received += s.received;
      }
    }
  }
  out.sent_bps = static_cast<double>(sent) / kWindowSeconds;
  out.received_bps = static_cast<double>(received) / kWindowSeconds;
  return out;
}

}  // namespace ferry::http
