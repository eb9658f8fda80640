#include "engine/transfer/parallel.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <memory>
#include <mutex>

namespace ferry::engine {

io::Task<Status> RunParallel(int n, Worker worker) {
  if (n <= 0) co_return Status::Ok();
  auto executor = co_await boost::asio::this_coro::executor;
  struct Shared {
    ParallelControl control;
    std::mutex mu;
    Status first_error;  // GUARDED_BY(mu)
  };
  auto shared = std::make_shared<Shared>();
  using Done = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  auto done = std::make_shared<Done>(executor, static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) {
    boost::asio::co_spawn(
        executor,
        [worker, i, shared]() -> io::Task<Status> { co_return co_await worker(i, shared->control); },
        [shared, done](std::exception_ptr ep, Status s) {
          if (ep) {
            s = Status::Error(ErrorClass::kFatal, "internal error: worker threw an exception");
          }
          if (!s.ok()) {
            std::lock_guard lock(shared->mu);
            if (shared->first_error.ok()) shared->first_error = s;
            shared->control.stop = true;
          }
          done->try_send(boost::system::error_code{});
        });
  }
  for (int i = 0; i < n; ++i) {
    co_await done->async_receive(boost::asio::use_awaitable);
  }
  std::lock_guard lock(shared->mu);
  co_return shared->first_error;
}

}  // namespace ferry::engine
