// Lister: pages in order, the next page fetched while the current one is
// consumed, damaged pages fetched again, failures reported, early stops
// drained. The backend here serves a key range in pages and counts calls;
// the listing against real servers is covered by engine_integration_test.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <set>

#include "engine/sync/lister.h"
#include "tests/support/run.h"

namespace ferry::engine {
namespace {

using namespace std::chrono_literals;
using ferry::testing::RunTask;
using io::Task;

std::string KeyAt(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "p/k%06d", i);
  return buf;
}

Status Unsupported() { return Status::Error(ErrorClass::kInvalidArgument, "not in this test"); }

// Serves keys p/k000000 … in pages of `page_size` after a delay; tokens are
// the index of the page's first key. Faults are keyed by page start index.
class PagedBackend final : public storage::Backend {
 public:
  PagedBackend(int keys, int page_size) : keys_(keys), page_size_(page_size) {}

  std::set<int> damage_once;    // page starts whose first answer is out of order
  std::set<int> fail;           // page starts that always fail (access denied)
  int started = 0;              // List calls begun
  int running = 0;              // List calls not yet answered
  int max_running = 0;
  int* shared_running = nullptr;  // calls running across several backends
  int* shared_max = nullptr;

  const storage::Capabilities& capabilities() const override { return caps_; }
  std::string Describe() const override { return "test://paged"; }
  std::string endpoint_id() const override { return "paged"; }
  std::string bucket() const override { return "b"; }

  Task<Result<storage::ListPage>> List(storage::ListOptions opts) override {
    ++started;
    max_running = std::max(max_running, ++running);
    if (shared_running) *shared_max = std::max(*shared_max, ++*shared_running);
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 5ms);
    co_await t.async_wait(boost::asio::use_awaitable);
    --running;
    if (shared_running) --*shared_running;
    int first = 0;
    if (!opts.continuation_token.empty()) first = std::stoi(opts.continuation_token);
    if (fail.count(first)) co_return Status::Error(ErrorClass::kAuth, "access denied");
    storage::ListPage page;
    const int end = std::min(keys_, first + page_size_);
    for (int i = first; i < end; ++i) {
      storage::ObjectSummary o;
      o.key = KeyAt(i);
      o.size = static_cast<std::uint64_t>(i);
      page.contents.push_back(std::move(o));
    }
    if (damage_once.erase(first) && page.contents.size() > 1) {
      std::swap(page.contents.front(), page.contents.back());
    }
    page.is_truncated = end < keys_;
    if (page.is_truncated) page.next_continuation_token = std::to_string(end);
    co_return page;
  }
  Task<Result<storage::ObjectInfo>> Head(std::string, storage::HeadOptions) override {
    co_return Unsupported();
  }
  Task<Result<storage::ObjectInfo>> Get(std::string, storage::GetOptions, io::BodySink&) override {
    co_return Unsupported();
  }
  Task<Result<storage::PutResult>> Put(std::string, io::BodySource&,
                                       const storage::Metadata&) override {
    co_return Unsupported();
  }
  Task<Result<std::string>> CreateMultipart(std::string, const storage::Metadata&) override {
    co_return Unsupported();
  }
  Task<Result<storage::PutResult>> UploadPart(std::string, std::string, int,
                                              io::BodySource&) override {
    co_return Unsupported();
  }
  Task<Result<storage::PutResult>> UploadPartCopy(std::string, std::string, int,
                                                  storage::CopySourceRef) override {
    co_return Unsupported();
  }
  Task<Result<storage::PutResult>> CompleteMultipart(
      std::string, std::string, std::vector<storage::CompletedPart>) override {
    co_return Unsupported();
  }
  Task<Status> AbortMultipart(std::string, std::string) override { co_return Unsupported(); }
  Task<Result<std::vector<storage::PartInfo>>> ListParts(std::string, std::string) override {
    co_return Unsupported();
  }
  Task<Result<std::vector<storage::UploadInfo>>> ListUploads(std::string) override {
    co_return Unsupported();
  }
  Task<Result<storage::PutResult>> Copy(storage::CopySourceRef, std::string,
                                        std::optional<storage::Metadata>) override {
    co_return Unsupported();
  }
  Task<Status> Delete(std::string) override { co_return Unsupported(); }
  Task<Result<std::vector<storage::DeleteError>>> DeleteBatch(std::vector<std::string>) override {
    co_return Unsupported();
  }

 private:
  storage::Capabilities caps_;
  int keys_;
  int page_size_;
};

struct Listed {
  std::vector<std::string> keys;
  Status error;
  int started_after_first = 0;  // List calls begun when the first key came back
};

// Reads up to `limit` keys, then drains.
io::Task<Listed> ReadAll(Lister& lister, PagedBackend& backend, int limit = 1 << 30) {
  Listed out;
  while (static_cast<int>(out.keys.size()) < limit) {
    auto r = co_await lister.Next();
    if (!r.ok()) {
      out.error = r.status();
      break;
    }
    if (!*r) break;
    out.keys.push_back((*r)->key);
    if (out.keys.size() == 1) out.started_after_first = backend.started;
  }
  co_await lister.Drain();
  co_return out;
}

const RetryPolicy kFastRetry{5, 1ms, 2ms};

TEST(ListerTest, ListsEveryPageInOrderAndFetchesTheNextPageAhead) {
  boost::asio::io_context io;
  PagedBackend backend(1050, 100);
  Pacer pacer("test");
  Lister lister(backend, pacer, kFastRetry, "p/");
  Listed got = RunTask(io, ReadAll(lister, backend));
  ASSERT_TRUE(got.error.ok()) << got.error.ToString();
  ASSERT_EQ(got.keys.size(), 1050u);
  for (int i = 0; i < 1050; ++i) ASSERT_EQ(got.keys[i], KeyAt(i).substr(2));
  EXPECT_TRUE(lister.complete());
  EXPECT_EQ(lister.listed(), 1050u);
  // The second page was asked for as soon as the first arrived.
  EXPECT_EQ(got.started_after_first, 2);
  EXPECT_EQ(backend.started, 11);  // one call per page, none after the last
}

TEST(ListerTest, TwoListersOverlapTheirRoundTrips) {
  boost::asio::io_context io;
  PagedBackend a(600, 100), b(600, 100);
  int running = 0, most = 0;
  a.shared_running = b.shared_running = &running;
  a.shared_max = b.shared_max = &most;
  Pacer pa("a"), pb("b");
  Lister la(a, pa, kFastRetry, "p/"), lb(b, pb, kFastRetry, "p/");
  auto merge = [&]() -> io::Task<int> {
    int n = 0;
    for (;;) {
      auto x = co_await la.Next();
      auto y = co_await lb.Next();
      if (!x.ok() || !y.ok() || !*x || !*y) break;
      ++n;
    }
    co_await la.Drain();
    co_await lb.Drain();
    co_return n;
  };
  EXPECT_EQ(RunTask(io, merge()), 600);
  // Each side asks for its next page while the merge still reads the
  // current ones: both sides' round trips run at the same time.
  EXPECT_EQ(most, 2);
  EXPECT_EQ(a.max_running, 1);  // never two pages of one listing at once
  EXPECT_EQ(a.started, 6);
  EXPECT_EQ(b.started, 6);
}

TEST(ListerTest, AnOutOfOrderPageIsFetchedAgain) {
  boost::asio::io_context io;
  PagedBackend backend(500, 100);
  backend.damage_once = {0, 300};
  Pacer pacer("test");
  Lister lister(backend, pacer, kFastRetry, "p/");
  Listed got = RunTask(io, ReadAll(lister, backend));
  ASSERT_TRUE(got.error.ok()) << got.error.ToString();
  ASSERT_EQ(got.keys.size(), 500u);
  for (int i = 0; i < 500; ++i) ASSERT_EQ(got.keys[i], KeyAt(i).substr(2));
  EXPECT_EQ(backend.started, 7);  // 5 pages + 2 repeats
  EXPECT_TRUE(lister.complete());
}

TEST(ListerTest, AFailedPageEndsTheListingIncomplete) {
  boost::asio::io_context io;
  PagedBackend backend(500, 100);
  backend.fail = {200};
  Pacer pacer("test");
  Lister lister(backend, pacer, kFastRetry, "p/");
  Listed got = RunTask(io, ReadAll(lister, backend));
  EXPECT_TRUE(got.error.Is(ErrorClass::kAuth)) << got.error.ToString();
  EXPECT_EQ(got.keys.size(), 200u);  // the keys before the failed page, none after
  EXPECT_FALSE(lister.complete());
}

TEST(ListerTest, AConsumerThatStopsEarlyDrainsTheFetchInFlight) {
  boost::asio::io_context io;
  PagedBackend backend(500, 100);
  Pacer pacer("test");
  {
    Lister lister(backend, pacer, kFastRetry, "p/");
    Listed got = RunTask(io, ReadAll(lister, backend, 3));
    EXPECT_EQ(got.keys.size(), 3u);
    EXPECT_FALSE(lister.complete());
  }
  EXPECT_EQ(backend.running, 0);  // nothing left running against the backend
  EXPECT_EQ(backend.started, 2);
}

}  // namespace
}  // namespace ferry::engine
