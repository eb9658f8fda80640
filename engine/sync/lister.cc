#include "engine/sync/lister.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cassert>

namespace ferry::engine {
namespace {

// A page must hold keys strictly ascending, after `after` (the last key of
// the page before), inside the prefix; kRetryable otherwise, so the same
// page is fetched again.
Status CheckPage(const storage::Backend& backend, const std::string& prefix,
                 const std::string& after, const storage::ListPage& page) {
  const std::string* prev = after.empty() ? nullptr : &after;
  for (const storage::ObjectSummary& o : page.contents) {
    if (prev != nullptr && o.key <= *prev) {
      return Status::Error(ErrorClass::kRetryable, "listing of " + backend.Describe() +
                                                       " is out of order at key \"" + o.key +
                                                       "\" (after \"" + *prev + "\")");
    }
    if (o.key.compare(0, prefix.size(), prefix) != 0) {
      return Status::Error(ErrorClass::kRetryable, "listing of " + backend.Describe() +
                                                       " returned key \"" + o.key +
                                                       "\" outside prefix \"" + prefix + "\"");
    }
    prev = &o.key;
  }
  return Status::Ok();
}

}  // namespace

// One page fetch running beside the consumer; the channel says it is done
// (and orders `page` before the consumer reads it, whatever the threads).
struct Lister::Fetch {
  using Done = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  explicit Fetch(const boost::asio::any_io_executor& executor) : done(executor, 1) {}
  Done done;
  std::optional<Result<storage::ListPage>> page;
};

Lister::~Lister() { assert(inflight_ == nullptr && "Lister destroyed with a fetch in flight"); }

void Lister::Start(const boost::asio::any_io_executor& executor) {
  auto fetch = std::make_shared<Fetch>(executor);
  storage::ListOptions opts;
  opts.prefix = prefix_;
  opts.continuation_token = token_;
  // Some servers ignore continuation tokens of others' making; start-after
  // the last key seen is equivalent and robust.
  if (token_.empty() && started_) opts.start_after = page_end_;
  // The fetch holds copies of what it needs, not `this`.
  boost::asio::co_spawn(
      executor,
      [&backend = backend_, &pacer = pacer_, retry = retry_, prefix = prefix_, after = page_end_,
       opts, fetch]() -> io::Task<void> {
        // A page damaged in flight (a flipped byte) can still parse; one that
        // is out of order or leaves the prefix is fetched again, like a failed one.
        fetch->page = co_await WithRetry(retry, pacer, [&]() -> io::Task<Result<storage::ListPage>> {
          Result<storage::ListPage> page = co_await backend.List(opts);
          if (!page.ok()) co_return page;
          Status st = CheckPage(backend, prefix, after, *page);
          if (!st.ok()) co_return st;
          co_return page;
        });
      },
      [fetch](std::exception_ptr ep) {
        if (ep) fetch->page = Status::Error(ErrorClass::kFatal, "internal error: listing threw");
        fetch->done.try_send(boost::system::error_code{});
      });
  inflight_ = std::move(fetch);
}

io::Task<Status> Lister::Install() {
  std::shared_ptr<Fetch> fetch = std::move(inflight_);
  inflight_.reset();
  co_await fetch->done.async_receive(boost::asio::use_awaitable);
  Result<storage::ListPage> got = std::move(*fetch->page);
  if (!got.ok()) co_return got.status();
  storage::ListPage page = std::move(*got);
  started_ = true;
  page_ = std::move(page.contents);
  pos_ = 0;
  token_ = page.next_continuation_token;
  more_ = page.is_truncated;
  if (!page_.empty()) page_end_ = page_.back().key;
  if (more_ && token_.empty() && page_.empty()) {
    co_return Status::Error(ErrorClass::kRetryable,
                            "listing of " + backend_.Describe() +
                                " claims more results but gives no way to fetch them");
  }
  if (more_) Start(co_await boost::asio::this_coro::executor);
  co_return Status::Ok();
}

io::Task<void> Lister::Drain() {
  if (!inflight_) co_return;
  std::shared_ptr<Fetch> fetch = std::move(inflight_);
  inflight_.reset();
  co_await fetch->done.async_receive(boost::asio::use_awaitable);
}

io::Task<Result<std::optional<storage::ObjectSummary>>> Lister::Next() {
  while (pos_ >= page_.size()) {
    if (started_ && !more_) {
      complete_ = true;
      co_return std::optional<storage::ObjectSummary>();
    }
    if (!inflight_) Start(co_await boost::asio::this_coro::executor);
    FERRY_CO_RETURN_IF_ERROR(co_await Install());
  }
  storage::ObjectSummary s = std::move(page_[pos_++]);
  if (!last_key_.empty() && s.key <= last_key_) {
    co_return Status::Error(ErrorClass::kRetryable,
                            "listing of " + backend_.Describe() + " is out of order at key \"" +
                                s.key + "\"");
  }
  last_key_ = s.key;
  if (s.key.compare(0, prefix_.size(), prefix_) != 0) {
    co_return Status::Error(ErrorClass::kFatal, "listing of " + backend_.Describe() +
                                                    " returned a key outside prefix \"" +
                                                    prefix_ + "\"");
  }
  s.key.erase(0, prefix_.size());
  ++listed_;
  co_return std::optional<storage::ObjectSummary>(std::move(s));
}

}  // namespace ferry::engine
