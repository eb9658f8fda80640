// Bounded pool of keep-alive connections for one endpoint.
//
// A "slot" is the right to hold one open connection; there are at most
// max_connections slots, counted over idle and leased connections together,
// so the endpoint never sees more than that many sockets from us. Acquire
// hands out an idle connection or an empty slot (the caller connects);
// past the cap the caller waits, in FIFO order, until a slot is released or
// its deadline passes. Release returns the slot, with the connection when it
// can be reused. Idle connections older than idle_timeout are closed when
// the pool is next touched (Acquire or Release); no timer runs for them.
//
// Thread-safety: all methods may be called from any thread. The pool's state
// lives under one mutex that is never held across a suspension point.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <mutex>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/http/connection.h"

namespace ferry::http::internal {

class ConnectionPool : public std::enable_shared_from_this<ConnectionPool> {
 public:
  ConnectionPool(std::size_t max_connections, std::chrono::milliseconds idle_timeout,
                 std::string endpoint);

  // A pooled connection (reused) or nullptr: a free slot, the caller opens a
  // connection. Errors: kRetryable when the deadline passes while waiting,
  // kCancelled after Shutdown. Every success must be matched by one Release.
  io::Task<Result<std::unique_ptr<Connection>>> Acquire(Clock::time_point deadline);

  // Gives the slot back. `conn` goes back to the pool when `reusable`,
  // otherwise it is closed. `conn` may be null (the connect failed).
  void Release(std::unique_ptr<Connection> conn, bool reusable);

  // Closes idle connections, fails waiters, refuses new Acquires.
  void Shutdown();

  std::size_t idle() const;
  std::size_t leased() const;

 private:
  struct Waiter;
  void Expire(const std::shared_ptr<Waiter>& waiter);
  // Moves idle connections older than idle_timeout_ into `out`.
  void TakeExpiredLocked(Clock::time_point now, std::vector<std::unique_ptr<Connection>>* out);

  const std::size_t max_;
  const std::chrono::milliseconds idle_timeout_;
  const std::string endpoint_;

  mutable std::mutex mu_;
  // Most recently used at the back: warm connections are taken first, cold
  // ones age out from the front.
  std::deque<std::unique_ptr<Connection>> idle_;  // GUARDED_BY(mu_)
  std::size_t leased_ = 0;                        // GUARDED_BY(mu_) slots handed out
  std::deque<std::shared_ptr<Waiter>> waiters_;   // GUARDED_BY(mu_)
  bool shutdown_ = false;                         // GUARDED_BY(mu_)
};

}  // namespace ferry::http::internal
