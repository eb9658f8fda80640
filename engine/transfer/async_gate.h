// AsyncGate: a counting semaphore for coroutines, with a hard bound.
//
// Acquire(n) suspends until n units are free (FIFO, so a large request is not
// starved by small ones), or until the deadline passes or the gate closes.
// Used for the buffer pool's byte budget and for in-flight limits.
//
// Thread-safe: state lives in one block under one mutex (synced data).
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>

#include "protocols/base/body.h"
#include "protocols/base/status.h"

namespace ferry::engine {

class AsyncGate {
 public:
  explicit AsyncGate(std::uint64_t capacity) : capacity_(capacity), free_(capacity) {}
  AsyncGate(const AsyncGate&) = delete;
  AsyncGate& operator=(const AsyncGate&) = delete;

  // REQUIRES: 0 < n <= capacity(). ENSURES on OK: the caller holds n units and
  // must Release(n) them. Fails with kCancelled when the gate closes and with
  // kRetryable when the deadline passes first.
  io::Task<Status> Acquire(std::uint64_t n, std::chrono::steady_clock::time_point deadline);
  // Non-blocking: true when n units were free (and are now held).
  bool TryAcquire(std::uint64_t n);
  void Release(std::uint64_t n);
  // Wakes every waiter with kCancelled; later Acquire calls fail at once.
  void Close();

  std::uint64_t capacity() const { return capacity_; }
  std::uint64_t in_use() const;
  std::size_t waiters() const;

 private:
  using Signal = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  struct Waiter {
    std::uint64_t n = 0;
    std::unique_ptr<Signal> signal;  // thread-safe wake-up, capacity 1
    bool granted = false;            // GUARDED_BY(mu_)
  };
  void GrantLocked();

  const std::uint64_t capacity_;
  mutable std::mutex mu_;
  std::uint64_t free_;                          // GUARDED_BY(mu_)
  std::deque<std::shared_ptr<Waiter>> queue_;   // GUARDED_BY(mu_)
  bool closed_ = false;                         // GUARDED_BY(mu_)
};

}  // namespace ferry::engine
