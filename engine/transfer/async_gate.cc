#include "engine/transfer/async_gate.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace ferry::engine {

io::Task<Status> AsyncGate::Acquire(std::uint64_t n,
                                    std::chrono::steady_clock::time_point deadline) {
  if (n == 0 || n > capacity_) {
    co_return Status::Error(ErrorClass::kInvalidArgument,
                            "request for " + std::to_string(n) + " units exceeds the gate's " +
                                std::to_string(capacity_));
  }
  auto waiter = std::make_shared<Waiter>();
  {
    std::lock_guard lock(mu_);
    if (closed_) co_return Status::Error(ErrorClass::kCancelled, "shutting down");
    if (queue_.empty() && free_ >= n) {
      free_ -= n;
      co_return Status::Ok();
    }
    waiter->n = n;
    waiter->signal = std::make_unique<Signal>(co_await boost::asio::this_coro::executor, 1);
    queue_.push_back(waiter);
  }
  {
    using namespace boost::asio::experimental::awaitable_operators;
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, deadline);
    boost::system::error_code ec1, ec2;
    co_await (
        waiter->signal->async_receive(boost::asio::redirect_error(boost::asio::use_awaitable, ec1)) ||
        timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec2)));
  }
  std::lock_guard lock(mu_);
  if (waiter->granted) {
    if (closed_) {
      free_ += waiter->n;
      co_return Status::Error(ErrorClass::kCancelled, "shutting down");
    }
    co_return Status::Ok();
  }
  // Deadline passed (or closed) before a grant: leave the queue.
  queue_.erase(std::remove(queue_.begin(), queue_.end(), waiter), queue_.end());
  GrantLocked();  // our departure may unblock those behind us
  if (closed_) co_return Status::Error(ErrorClass::kCancelled, "shutting down");
  co_return Status::Error(ErrorClass::kRetryable, "timed out waiting for " + std::to_string(n) +
                                                      " units (" + std::to_string(free_) +
                                                      " free)");
}

bool AsyncGate::TryAcquire(std::uint64_t n) {
  std::lock_guard lock(mu_);
  if (closed_ || !queue_.empty() || free_ < n) return false;
  free_ -= n;
  return true;
}

void AsyncGate::Release(std::uint64_t n) {
  std::lock_guard lock(mu_);
  free_ = std::min(capacity_, free_ + n);
  GrantLocked();
}

void AsyncGate::GrantLocked() {
  while (!queue_.empty() && queue_.front()->n <= free_) {
    auto w = queue_.front();
    queue_.pop_front();
    free_ -= w->n;
    w->granted = true;
    w->signal->try_send(boost::system::error_code{});
  }
}

void AsyncGate::Close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (auto& w : queue_) w->signal->try_send(boost::system::error_code{});
  queue_.clear();
}

std::uint64_t AsyncGate::in_use() const {
  std::lock_guard lock(mu_);
  return capacity_ - free_;
}

std::size_t AsyncGate::waiters() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

}  // namespace ferry::engine
