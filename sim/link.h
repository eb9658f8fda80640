// Link emulation: a delay before every response and a per-connection
// bandwidth cap. Settings are global and may change at any time (admin API);
// each connection reads them per chunk.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace ferry::sim {

struct LinkSettings {
  std::atomic<std::uint32_t> latency_ms{0};
  std::atomic<std::uint64_t> bandwidth_bps{0};  // 0 = unlimited
};

// A token bucket for one connection (both directions share it: HTTP/1.1 never
// sends and receives a body at the same time). Not thread-safe: a connection
// is one coroutine.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;
  // Takes `bytes` at `rate` bytes/s and returns how long to wait before they
  // may go. The bucket holds at most 1/20 s worth of tokens, so bursts stay short.
  std::chrono::nanoseconds Take(std::uint64_t bytes, std::uint64_t rate, Clock::time_point now) {
    if (rate == 0) return std::chrono::nanoseconds(0);
    double cap = static_cast<double>(rate) / 20.0;
    if (last_ != Clock::time_point{}) {
      double dt = std::chrono::duration<double>(now - last_).count();
      tokens_ = std::min(cap, tokens_ + dt * static_cast<double>(rate));
    } else {
      tokens_ = cap;
    }
    last_ = now;
    tokens_ -= static_cast<double>(bytes);
    if (tokens_ >= 0) return std::chrono::nanoseconds(0);
    return std::chrono::nanoseconds(
        static_cast<std::int64_t>(-tokens_ / static_cast<double>(rate) * 1e9));
  }
  // Chunk size that keeps pacing smooth at `rate`.
  static std::size_t ChunkFor(std::uint64_t rate, std::size_t max_chunk) {
    if (rate == 0) return max_chunk;
    return std::clamp<std::size_t>(static_cast<std::size_t>(rate / 50), 1024, max_chunk);
  }

 private:
  double tokens_ = 0;
  Clock::time_point last_{};
};

}  // namespace ferry::sim
