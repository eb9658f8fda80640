// Lister: a paged listing of one backend under a prefix, consumed one object
// at a time in key order with a page of memory at most. Retries pages
// through the endpoint's pacer, malformed ones too (keys out of order or
// outside the prefix: a page damaged in flight); a listing that fails is
// reported as such (the planner must then never delete anything on its
// basis).
#pragma once

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

  // Next object (key relative to the prefix), nullopt at the end. An error
  // ends the listing; complete() stays false.
  io::Task<Result<std::optional<storage::ObjectSummary>>> Next();
  bool complete() const { return complete_; }
  std::uint64_t listed() const { return listed_; }

 private:
  io::Task<Status> FetchPage();
  // One List call whose page is checked: keys strictly ascending, after the
  // last key already returned, inside the prefix (kRetryable otherwise, so
  // the same page is fetched again).
  io::Task<Result<storage::ListPage>> FetchChecked(storage::ListOptions opts);
  Status CheckPage(const storage::ListPage& page) const;

  storage::Backend& backend_;
  Pacer& pacer_;
  RetryPolicy retry_;
  std::string prefix_;
  std::vector<storage::ObjectSummary> page_;
  std::size_t pos_ = 0;
  std::string token_;
  std::string last_key_;
  bool started_ = false;
  bool more_ = true;
  bool complete_ = false;
  std::uint64_t listed_ = 0;
};

}  // namespace ferry::engine
