// BufferPool micro benchmark: lease acquire/release under contention, as the
// transfer pipeline does it (many part workers on a few I/O threads, more
// workers than the budget has room for, so most acquisitions wait).
#include <benchmark/benchmark.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "engine/transfer/buffer_pool.h"

namespace {

using ferry::engine::BufferPool;

// Args: workers, threads. Each worker takes a 1 MiB lease, touches it and
// gives it back; the pool holds 8 leases' worth.
void BM_BufferPoolContention(benchmark::State& state) {
  const int workers = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  constexpr std::size_t kLease = 1u << 20;
  constexpr int kRounds = 200;
  std::int64_t leases = 0;
  for (auto _ : state) {
    BufferPool pool(8 * kLease);
    boost::asio::io_context ioc(threads);
    std::atomic<int> failures{0};
    std::atomic<std::int64_t> done{0};
    for (int w = 0; w < workers; ++w) {
      boost::asio::co_spawn(
          ioc,
          [&pool, &failures, &done]() -> ferry::io::Task<void> {
            for (int i = 0; i < kRounds; ++i) {
              auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
              auto lease = co_await pool.Acquire(kLease, deadline);
              if (!lease.ok()) {
                failures.fetch_add(1);
                co_return;
              }
              lease->data()[i % kLease] = static_cast<char>(i);
              done.fetch_add(1);
            }
          },
          [](std::exception_ptr) {});
    }
    std::vector<std::thread> pool_threads;
    for (int t = 1; t < threads; ++t) pool_threads.emplace_back([&ioc] { ioc.run(); });
    ioc.run();
    for (auto& t : pool_threads) t.join();
    if (failures.load() != 0 || done.load() != static_cast<std::int64_t>(workers) * kRounds) {
      state.SkipWithError("some acquisitions failed");
      return;
    }
    leases += done.load();
  }
  state.SetItemsProcessed(leases);
}
BENCHMARK(BM_BufferPoolContention)
    ->Args({8, 1})
    ->Args({64, 1})
    ->Args({64, 2})
    ->Args({256, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
