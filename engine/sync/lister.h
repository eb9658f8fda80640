// Lister: a paged listing of one backend under a prefix, consumed one object
// at a time in key order. While one page is consumed the next is already
// being fetched (two pages of memory at most), so a planner merging two
// listings waits for neither side's round trip in the common case. Retries
// pages through the endpoint's pacer, malformed ones too (keys out of order
// or outside the prefix: a page damaged in flight); a listing that fails is
// reported as such (the planner must then never delete anything on its
// basis).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/transfer/retry.h"
#include "storage/backend.h"

namespace ferry::engine {

class Lister {
 public:
  Lister(storage::Backend& backend, Pacer& pacer, RetryPolicy retry, std::string prefix)
      : backend_(backend), pacer_(pacer), retry_(retry), prefix_(std::move(prefix)) {}
  Lister(const Lister&) = delete;
  Lister& operator=(const Lister&) = delete;
  // REQUIRES: no fetch in flight (Next() returned the end or an error, or
  // Drain() was awaited): the fetch refers to the backend and the pacer.
  ~Lister();

  // Next object (key relative to the prefix), nullopt at the end. An error
  // ends the listing; complete() stays false.
  io::Task<Result<std::optional<storage::ObjectSummary>>> Next();
  // Waits for a page fetch still in flight (a consumer that stops early).
  io::Task<void> Drain();
  bool complete() const { return complete_; }
  std::uint64_t listed() const { return listed_; }

 private:
  struct Fetch;
  // Starts fetching the page after the current one.
  void Start(const boost::asio::any_io_executor& executor);
  // Waits for the fetch in flight and makes its page current.
  io::Task<Status> Install();

  storage::Backend& backend_;
  Pacer& pacer_;
  RetryPolicy retry_;
  std::string prefix_;
  std::vector<storage::ObjectSummary> page_;
  std::size_t pos_ = 0;
  std::string token_;
  std::string page_end_;  // last key of the newest page (where the next one starts)
  std::string last_key_;  // last key returned by Next()
  std::shared_ptr<Fetch> inflight_;
  bool started_ = false;
  bool more_ = true;
  bool complete_ = false;
  std::uint64_t listed_ = 0;
};

}  // namespace ferry::engine
