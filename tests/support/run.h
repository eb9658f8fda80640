// Running coroutines from a (synchronous) test body, with a time limit.
//
//   boost::asio::io_context ioc;
//   auto backend = ...;  // bound to ioc.get_executor()
//   Result<ObjectInfo> info = RunTask(ioc, backend->Head("k", {}));
//
// RunTask drives `ioc` on the calling thread until the task finishes. When
// the limit passes first it throws TaskTimeout (GoogleTest reports it as a
// failure of the test); the unfinished coroutine stays on `ioc` and is
// destroyed with it. Exceptions thrown by the task are rethrown.
//
// RunParallel runs `count` tasks made by `make(i)` with at most `width` at
// once (e.g. creating 2,500 objects 32 at a time) and returns the first error.
//
// REQUIRES: nothing else runs `ioc` on another thread meanwhile.
#pragma once

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"

namespace ferry::testing {

inline constexpr std::chrono::seconds kDefaultTaskTimeout{120};

class TaskTimeout : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <typename T>
struct TaskState {
  std::optional<T> value;
  std::exception_ptr error;
  bool done = false;
};

// Runs `ioc` until `*done` or the deadline. Throws TaskTimeout on timeout, or
// when the context runs out of work with the task unfinished (a coroutine
// waiting on something nobody will ever complete).
inline void RunUntil(boost::asio::io_context& ioc, const bool* done,
                     std::chrono::steady_clock::duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  ioc.restart();
  while (!*done) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw TaskTimeout(
          "task did not finish within " +
          std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
          " ms");
    }
    if (ioc.run_one_until(deadline) == 0 && !*done && ioc.stopped()) {
      throw TaskTimeout("io_context ran out of work before the task finished");
    }
  }
}

}  // namespace detail

template <typename T>
T RunTask(boost::asio::io_context& ioc, io::Task<T> task,
          std::chrono::steady_clock::duration timeout = kDefaultTaskTimeout) {
  auto state = std::make_shared<detail::TaskState<T>>();
  boost::asio::co_spawn(ioc, std::move(task), [state](std::exception_ptr e, T value) {
    if (e) {
      state->error = e;
    } else {
      state->value.emplace(std::move(value));
    }
    state->done = true;
  });
  detail::RunUntil(ioc, &state->done, timeout);
  if (state->error) std::rethrow_exception(state->error);
  return std::move(*state->value);
}

// Runs make(0) .. make(count-1), at most `width` at a time; stops starting
// new ones after the first error and returns it (annotated with the index).
struct ParallelState {
  std::size_t next = 0;
  std::size_t count = 0;
  std::size_t running = 0;
  Status first_error;
  std::exception_ptr exception;
  bool done = false;
  std::function<io::Task<Status>(std::size_t)> make;
};

namespace detail {
// Takes the next index until none are left or one failed. A free function
// (not a capturing lambda) so the frame owns everything it touches even if
// the caller gave up waiting. The io_context is single-threaded, so the
// state needs no lock.
inline io::Task<void> ParallelWorker(std::shared_ptr<ParallelState> st) {
  while (st->next < st->count && st->first_error.ok()) {
    std::size_t i = st->next++;
    Status s = co_await st->make(i);
    if (!s.ok() && st->first_error.ok()) st->first_error = s.Annotate("task " + std::to_string(i));
  }
}
}  // namespace detail

inline Status RunParallel(boost::asio::io_context& ioc, std::size_t count, std::size_t width,
                          std::function<io::Task<Status>(std::size_t)> make,
                          std::chrono::steady_clock::duration timeout = kDefaultTaskTimeout) {
  auto st = std::make_shared<ParallelState>();
  st->count = count;
  st->make = std::move(make);
  std::size_t n = std::min(width, count);
  if (n == 0) return Status::Ok();
  st->running = n;
  for (std::size_t w = 0; w < n; ++w) {
    boost::asio::co_spawn(ioc, detail::ParallelWorker(st), [st](std::exception_ptr e) {
      if (e && !st->exception) st->exception = e;
      if (--st->running == 0) st->done = true;
    });
  }
  detail::RunUntil(ioc, &st->done, timeout);
  if (st->exception) std::rethrow_exception(st->exception);
  return st->first_error;
}

}  // namespace ferry::testing
