#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstring>

#include "engine/transfer/async_gate.h"
#include "engine/transfer/buffer_pool.h"
#include "engine/transfer/object_copier.h"
#include "engine/transfer/parallel.h"
#include "engine/transfer/retry.h"
#include "protocols/base/digest.h"
#include "tests/support/run.h"

namespace ferry::engine {
namespace {

using namespace std::chrono_literals;
using ferry::testing::RunTask;

TEST(AsyncGateTest, WaitersAreServedInOrderAndTimeOut) {
  boost::asio::io_context io;
  AsyncGate gate(10);
  ASSERT_TRUE(gate.TryAcquire(8));
  std::vector<int> order;
  auto waiter = [&](int id, std::uint64_t n) -> io::Task<void> {
    Status s = co_await gate.Acquire(n, std::chrono::steady_clock::now() + 5s);
    if (s.ok()) order.push_back(id);
  };
  boost::asio::co_spawn(io, waiter(1, 5), boost::asio::detached);
  boost::asio::co_spawn(io, waiter(2, 2), boost::asio::detached);  // fits, but waits its turn
  io.run_for(20ms);
  EXPECT_TRUE(order.empty());
  gate.Release(8);
  io.restart();
  io.run_for(50ms);
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(gate.in_use(), 7u);
  Status late = RunTask(io, gate.Acquire(5, std::chrono::steady_clock::now() + 30ms));
  EXPECT_TRUE(late.Is(ErrorClass::kRetryable));
  EXPECT_TRUE(RunTask(io, gate.Acquire(11, std::chrono::steady_clock::now() + 1s))
                  .Is(ErrorClass::kInvalidArgument));
  gate.Close();
  EXPECT_TRUE(RunTask(io, gate.Acquire(1, std::chrono::steady_clock::now() + 1s))
                  .Is(ErrorClass::kCancelled));
}

TEST(BufferPoolTest, NeverGrantsMoreThanTheCap) {
  boost::asio::io_context io;
  BufferPool pool(3 << 20);
  auto a = RunTask(io, pool.Acquire(1 << 20, std::chrono::steady_clock::now() + 1s));
  auto b = RunTask(io, pool.Acquire(2 << 20, std::chrono::steady_clock::now() + 1s));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(pool.in_use(), 3u << 20);
  auto c = RunTask(io, pool.Acquire(1, std::chrono::steady_clock::now() + 30ms));
  EXPECT_FALSE(c.ok());
  a->Reset();
  auto d = RunTask(io, pool.Acquire(1 << 20, std::chrono::steady_clock::now() + 1s));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(pool.peak_in_use(), 3u << 20);
  EXPECT_FALSE(RunTask(io, pool.Acquire(4 << 20, std::chrono::steady_clock::now() + 1s)).ok());
}

// Cached buffers count against the cap too: a lease of a new size evicts
// them, so cached + leased memory never exceeds it. Large and small buffers
// (mapped and heap) are both usable over their whole size.
TEST(BufferPoolTest, CachedPlusLeasedMemoryStaysWithinTheCap) {
  boost::asio::io_context io;
  const std::size_t cap = 3 << 20;
  BufferPool pool(cap);
  auto deadline = [] { return std::chrono::steady_clock::now() + 1s; };
  {
    auto a = RunTask(io, pool.Acquire(1 << 20, deadline()));
    auto b = RunTask(io, pool.Acquire(2 << 20, deadline()));
    ASSERT_TRUE(a.ok() && b.ok());
    std::memset(a->data().data(), 'a', a->size());
    std::memset(b->data().data(), 'b', b->size());
  }
  EXPECT_EQ(pool.in_use(), 0u);
  EXPECT_EQ(pool.cached_bytes(), cap);  // both kept for reuse
  {
    auto same = RunTask(io, pool.Acquire(1 << 20, deadline()));  // reuses the 1 MiB buffer
    ASSERT_TRUE(same.ok());
    EXPECT_EQ(pool.cached_bytes(), 2u << 20);
  }
  EXPECT_EQ(pool.cached_bytes(), cap);
  {
    auto odd = RunTask(io, pool.Acquire((3 << 19) + 7, deadline()));  // a size never cached
    ASSERT_TRUE(odd.ok());
    std::memset(odd->data().data(), 'c', odd->size());
    EXPECT_LE(pool.allocated_bytes(), cap);
    auto small = RunTask(io, pool.Acquire(100, deadline()));
    ASSERT_TRUE(small.ok());
    std::memset(small->data().data(), 'd', small->size());
    // A heap buffer never evicts a cached mapped one: the cap plus itself.
    EXPECT_LE(pool.allocated_bytes(), cap + 100);
  }
  EXPECT_LE(pool.allocated_bytes(), cap);
  EXPECT_LE(pool.cached_bytes(), cap);
  EXPECT_EQ(pool.in_use(), 0u);
}

// Small objects copied beside large ones (a Velero backup's metadata beside
// its tarball) take heap buffers that neither get cached nor evict the
// cached part buffers: those are mapped once, not once per part.
TEST(BufferPoolTest, SmallObjectsDoNotEvictCachedPartBuffers) {
  boost::asio::io_context io;
  constexpr std::size_t kPart = 1 << 20;
  const std::size_t cap = 4 * kPart;
  BufferPool pool(cap);
  auto deadline = [] { return std::chrono::steady_clock::now() + 1s; };
  for (int round = 0; round < 10; ++round) {
    {
      std::vector<BufferPool::Lease> parts;
      for (int i = 0; i < 4; ++i) {
        auto l = RunTask(io, pool.Acquire(kPart, deadline()));
        ASSERT_TRUE(l.ok()) << l.status().ToString();
        std::memset(l->data().data(), 'p', l->size());
        parts.push_back(std::move(*l));
      }
    }
    EXPECT_EQ(pool.cached_bytes(), cap);
    {
      std::vector<BufferPool::Lease> small;
      for (int i = 0; i < 8; ++i) {
        auto l = RunTask(io, pool.Acquire(64 << 10, deadline()));
        ASSERT_TRUE(l.ok()) << l.status().ToString();
        std::memset(l->data().data(), 's', l->size());
        small.push_back(std::move(*l));
      }
      EXPECT_EQ(pool.cached_bytes(), cap);  // nothing evicted
      EXPECT_LE(pool.allocated_bytes(), cap + 8 * (64 << 10));
    }
    EXPECT_EQ(pool.allocated_bytes(), cap);  // the heap buffers went back to malloc
  }
  EXPECT_EQ(pool.allocations(), 4u);  // the part buffers, once
}

// Many transfers contending for a full pool: a lease returned while others
// wait (their bytes already granted by the gate) is handed on, never dropped
// and mapped afresh, so a steady load of one size allocates each buffer once.
TEST(BufferPoolTest, ContendedReturnsAreReusedNotReallocated) {
  boost::asio::io_context io;
  const std::size_t size = 1 << 20;
  const int slots = 4;
  BufferPool pool(slots * size);
  int finished = 0;
  for (int worker = 0; worker < 3 * slots; ++worker) {
    boost::asio::co_spawn(
        io,
        [&]() -> io::Task<void> {
          for (int i = 0; i < 20; ++i) {
            auto lease = co_await pool.Acquire(size, std::chrono::steady_clock::now() + 5s);
            EXPECT_TRUE(lease.ok());
            if (!lease.ok()) co_return;
            lease->data()[0] = 'x';
            // Yield while holding it, so others queue up behind the gate.
            co_await boost::asio::post(io, boost::asio::use_awaitable);
            EXPECT_LE(pool.allocated_bytes(), slots * size);
          }
          ++finished;
        },
        boost::asio::detached);
  }
  io.run();
  EXPECT_EQ(finished, 3 * slots);
  EXPECT_EQ(pool.allocations(), static_cast<std::uint64_t>(slots));
  EXPECT_EQ(pool.allocated_bytes(), slots * size);
  EXPECT_EQ(pool.in_use(), 0u);
}

TEST(RetryTest, BackoffIsBoundedAndJittered) {
  RetryPolicy p{10, 100ms, 1000ms};
  for (int attempt = 1; attempt < 30; ++attempt) {
    for (std::uint64_t r : {0ull, 7ull, 123456789ull, ~0ull}) {
      auto d = BackoffDelay(p, attempt, r);
      EXPECT_GE(d.count(), 0);
      EXPECT_LE(d.count(), std::min<std::int64_t>(1000, 100ll << std::min(attempt - 1, 20)));
    }
  }
}

TEST(RetryTest, RetriesOnlyRetryableClassesAndPacesThrottles) {
  boost::asio::io_context io;
  Pacer pacer("http://x");
  RetryPolicy p{4, 1ms, 2ms};
  int calls = 0;
  Status s = RunTask(io, WithRetry(p, pacer, [&]() -> io::Task<Status> {
                       ++calls;
                       co_return Status::Error(ErrorClass::kThrottled, "slow down");
                     }));
  EXPECT_TRUE(s.Is(ErrorClass::kThrottled));
  EXPECT_EQ(calls, 4);
  EXPECT_EQ(pacer.throttles(), 4u);
  EXPECT_EQ(pacer.retries(), 3u);
  EXPECT_GT(pacer.delay().count(), 0);
  calls = 0;
  s = RunTask(io, WithRetry(p, pacer, [&]() -> io::Task<Status> {
                ++calls;
                co_return Status::Error(ErrorClass::kNotFound, "gone");
              }));
  EXPECT_EQ(calls, 1);
  calls = 0;
  Result<int> r = RunTask(io, WithRetry(p, pacer, [&]() -> io::Task<Result<int>> {
                            if (++calls < 3) co_return Status::Error(ErrorClass::kRetryable, "x");
                            co_return 42;
                          }));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
}

TEST(ParallelTest, FirstErrorWinsAndStopsOthers) {
  boost::asio::io_context io;
  std::atomic<int> ran{0};
  Status s = RunTask(io, RunParallel(4, [&](int i, ParallelControl& c) -> io::Task<Status> {
                       for (int k = 0; k < 100 && !c.stop; ++k) {
                         ++ran;
                         if (i == 2 && k == 3) co_return Status::Error(ErrorClass::kFatal, "boom");
                         boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 1ms);
                         co_await t.async_wait(boost::asio::use_awaitable);
                       }
                       co_return Status::Ok();
                     }));
  EXPECT_TRUE(s.Is(ErrorClass::kFatal));
  EXPECT_LT(ran.load(), 400);
}

TEST(CopierHelpersTest, InferPartSizeFindsTheWritersWholeMiB) {
  constexpr std::uint64_t kMiB = 1ull << 20;
  // 4 x 256 MiB objects in 16 MiB parts (the RGW bench): only 16 MiB fits.
  EXPECT_EQ(InferPartSize(256 * kMiB, 16), 16 * kMiB);
  // The AWS CLI's 8 MiB: 20 MiB + 3 bytes in 3 parts; 5 MiB would give 5.
  EXPECT_EQ(InferPartSize(20 * kMiB + 3, 3), 8 * kMiB);
  // The AWS Go SDK's 5 MiB: 12 MiB in 3 parts (8 MiB would give 2).
  EXPECT_EQ(InferPartSize(12 * kMiB, 3), 5 * kMiB);
  // minio-go's 16 MiB multiples, 48 MiB for a big object: 1000 parts.
  EXPECT_EQ(InferPartSize(48 * kMiB * 999 + 1, 1000), 48 * kMiB);
  // No preferred size fits: the smallest whole MiB that gives n parts.
  EXPECT_EQ(InferPartSize(70 * kMiB, 10), 7 * kMiB);
  // Parts of 6.5 MiB: 5 MiB also gives 3 parts of 14 MiB; the guess is 5
  // MiB, which the part ETags then disprove.
  EXPECT_EQ(InferPartSize(14 * kMiB, 3), 5 * kMiB);
  // No whole MiB gives exactly n parts, or nonsense.
  EXPECT_EQ(InferPartSize(3 * kMiB + 512 * 1024, 3), std::nullopt);
  EXPECT_EQ(InferPartSize(10 * kMiB, 1), std::nullopt);
  EXPECT_EQ(InferPartSize(10 * kMiB, 0), std::nullopt);
  EXPECT_EQ(InferPartSize(2, 3), std::nullopt);
}

TEST(CopierHelpersTest, EtagsAndContentIds) {
  std::string md5s = digest::Md5("a") + digest::Md5("b");
  EXPECT_EQ(MultipartEtag(md5s, 2), digest::ToHex(digest::Md5(md5s)) + "-2");
  EXPECT_EQ(ContentId("e", 5), "e:5");
  storage::ObjectInfo info;
  info.metadata.content_type = "application/gzip";
  info.metadata.storage_class = "GLACIER";
  info.metadata.sse = "aws:kms";
  auto m = CarriedMetadata(info);
  EXPECT_EQ(m.content_type, "application/gzip");
  EXPECT_TRUE(m.storage_class.empty());
  EXPECT_TRUE(m.sse.empty());
}

}  // namespace
}  // namespace ferry::engine
