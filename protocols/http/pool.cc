// See pool.h.
//
// Waiting: each waiter owns a one-slot concurrent channel used as a doorbell
// and a timer for its deadline. Whoever removes the waiter from waiters_
// under the mutex (Release handing over a slot, the deadline timer, or
// Shutdown) is the only one to ring the bell, so a slot is never lost or
// handed out twice.
#include "protocols/http/pool.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ferry::http::internal {

namespace asio = boost::asio;
using boost::system::error_code;

struct ConnectionPool::Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : bell(ex, 1), timer(ex) {}
  asio::experimental::concurrent_channel<void(error_code)> bell;
  asio::steady_timer timer;
  // Outcome, written under the pool mutex before the bell rings.
  bool granted = false;
  std::unique_ptr<Connection> conn;  // with `granted`: a reusable connection, or null (a slot)
};

ConnectionPool::ConnectionPool(std::size_t max_connections, std::chrono::milliseconds idle_timeout,
                               std::string endpoint)
    : max_(std::max<std::size_t>(1, max_connections)),
      idle_timeout_(idle_timeout),
      endpoint_(std::move(endpoint)) {}

void ConnectionPool::TakeExpiredLocked(Clock::time_point now,
                                       std::vector<std::unique_ptr<Connection>>* out) {
  while (!idle_.empty() && now - idle_.front()->idle_since >= idle_timeout_) {
    out->push_back(std::move(idle_.front()));
    idle_.pop_front();
  }
}

io::Task<Result<std::unique_ptr<Connection>>> ConnectionPool::Acquire(Clock::time_point deadline) {
  std::vector<std::unique_ptr<Connection>> expired;  // closed outside the lock
  std::shared_ptr<Waiter> waiter;
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  {
    std::lock_guard lock(mu_);
    if (shutdown_) {
      co_return Status::Error(ErrorClass::kCancelled, endpoint_ + ": HTTP client shut down");
    }
    TakeExpiredLocked(Clock::now(), &expired);
    if (!idle_.empty()) {
      std::unique_ptr<Connection> conn = std::move(idle_.back());
      idle_.pop_back();
      ++leased_;
      co_return std::move(conn);
    }
    if (leased_ + idle_.size() < max_) {
      ++leased_;
      co_return std::unique_ptr<Connection>();
    }
    waiter = std::make_shared<Waiter>(executor);
    waiters_.push_back(waiter);
  }
  expired.clear();

  waiter->timer.expires_at(deadline);
  waiter->timer.async_wait([self = shared_from_this(), waiter](error_code ec) {
    if (!ec) self->Expire(waiter);
  });
  co_await waiter->bell.async_receive(asio::as_tuple(asio::use_awaitable));
  waiter->timer.cancel();

  std::lock_guard lock(mu_);
  if (waiter->granted) co_return std::move(waiter->conn);
  if (shutdown_) {
    co_return Status::Error(ErrorClass::kCancelled, endpoint_ + ": HTTP client shut down");
  }
  co_return Status::Error(ErrorClass::kRetryable,
                          endpoint_ + ": deadline exceeded while waiting for a free connection (" +
                              std::to_string(max_) + " in use)");
}

void ConnectionPool::Expire(const std::shared_ptr<Waiter>& waiter) {
  {
    std::lock_guard lock(mu_);
    auto it = std::find(waiters_.begin(), waiters_.end(), waiter);
    if (it == waiters_.end()) return;  // already granted or shut down; bell rung
    waiters_.erase(it);
  }
  waiter->bell.try_send(error_code());
}

void ConnectionPool::Release(std::unique_ptr<Connection> conn, bool reusable) {
  std::unique_ptr<Connection> to_close;
  std::vector<std::unique_ptr<Connection>> expired;
  std::shared_ptr<Waiter> next;
  {
    std::lock_guard lock(mu_);
    const Clock::time_point now = Clock::now();
    TakeExpiredLocked(now, &expired);
    if (!reusable || shutdown_ || (conn && !conn->connected)) to_close = std::move(conn);
    if (conn) conn->idle_since = now;
    if (!waiters_.empty()) {
      // The slot passes straight to the next waiter; leased_ is unchanged.
      next = std::move(waiters_.front());
      waiters_.pop_front();
      next->granted = true;
      next->conn = std::move(conn);
    } else {
      --leased_;
      if (conn) idle_.push_back(std::move(conn));
    }
  }
  // Close before the waiter opens its replacement, so the endpoint does not
  // see one connection over the cap.
  to_close.reset();
  expired.clear();
  if (next) next->bell.try_send(error_code());
}

void ConnectionPool::Shutdown() {
  std::deque<std::unique_ptr<Connection>> idle;
  std::deque<std::shared_ptr<Waiter>> waiters;
  {
    std::lock_guard lock(mu_);
    shutdown_ = true;
    idle.swap(idle_);
    waiters.swap(waiters_);
  }
  idle.clear();
  for (auto& w : waiters) w->bell.try_send(error_code());
}

std::size_t ConnectionPool::idle() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

std::size_t ConnectionPool::leased() const {
  std::lock_guard lock(mu_);
  return leased_;
}

}  // namespace ferry::http::internal
