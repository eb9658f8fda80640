// Activity: what the exchanges of one client (an endpoint and bucket) are
// doing right now, for stall detection and current rates: exchanges in
// flight, when a byte last moved, and bytes per second over the last
// seconds. Fed by the exchange code after every socket operation; read by
// the daemon's status. Thread-safe; cheap enough for every 256 KiB chunk.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace ferry::http {

class Activity {
 public:
  using Clock = std::chrono::steady_clock;
  // Seconds of history kept for rates.
  static constexpr int kWindowSeconds = 10;

  // An exchange starts / ends (whatever its outcome). Neither is progress:
  // a request that times out ends too.
  void Began(Clock::time_point now = Clock::now());
  void Ended();
  // `bytes` were sent (`sent`) or received by a socket operation; counted
  // for rates. `progress`: they show the server at work. Bytes received
  // always do; bytes sent do only on a connection the server has answered
  // on before, because a frozen server's kernel still takes the first
  // megabytes of every new connection into its buffers.
  // Bytes moved without progress enter the rates only once Credit()ed.
  void Moved(std::uint64_t bytes, bool sent, bool progress = true,
             Clock::time_point now = Clock::now());
  // The server answered an exchange whose `sent` bytes were not progress
  // when sent: they count in the send rate now.
  void Credit(std::uint64_t sent, Clock::time_point now = Clock::now());

  struct Snapshot {
    bool used = false;  // an exchange ever began
    int in_flight = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    // Time since the last progress (see Moved), or since the first exchange
    // began when none came yet; 0 when never used.
    std::chrono::milliseconds since_progress{0};
    // Bytes per second over the last kWindowSeconds full seconds.
    double sent_bps = 0;
    double received_bps = 0;
  };
  Snapshot Read(Clock::time_point now = Clock::now()) const;

 private:
  static std::int64_t Ms(Clock::time_point t);
  void AddLocked(std::int64_t second, std::uint64_t bytes, bool sent);

  std::atomic<int> in_flight_{0};
  std::atomic<std::uint64_t> sent_{0};
  std::atomic<std::uint64_t> received_{0};
  std::atomic<std::int64_t> progress_ms_{0};  // steady ms of the last progress
  mutable std::mutex mu_;
  // Per-second byte counts, ring indexed by second (kWindowSeconds + 1 slots:
  // the current, partial second is not part of a rate).
  struct Slot {
    std::int64_t second = -1;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
  };
  std::array<Slot, kWindowSeconds + 1> ring_{};  // GUARDED_BY(mu_)
};

}  // namespace ferry::http
