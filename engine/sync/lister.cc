#include "engine/sync/lister.h"

namespace ferry::engine {

Status Lister::CheckPage(const storage::ListPage& page) const {
  const std::string* prev = last_key_.empty() ? nullptr : &last_key_;
  for (const storage::ObjectSummary& o : page.contents) {
    if (prev != nullptr && o.key <= *prev) {
      return Status::Error(ErrorClass::kRetryable, "listing of " + backend_.Describe() +
                                                       " is out of order at key \"" + o.key +
                                                       "\" (after \"" + *prev + "\")");
    }
    if (o.key.compare(0, prefix_.size(), prefix_) != 0) {
      return Status::Error(ErrorClass::kRetryable, "listing of " + backend_.Describe() +
                                                       " returned key \"" + o.key +
                                                       "\" outside prefix \"" + prefix_ + "\"");
    }
    prev = &o.key;
  }
  return Status::Ok();
}

io::Task<Result<storage::ListPage>> Lister::FetchChecked(storage::ListOptions opts) {
  Result<storage::ListPage> page = co_await backend_.List(std::move(opts));
  if (!page.ok()) co_return page;
  Status st = CheckPage(*page);
  if (!st.ok()) co_return st;
  co_return page;
}

io::Task<Status> Lister::FetchPage() {
  storage::ListOptions opts;
  opts.prefix = prefix_;
  opts.continuation_token = token_;
  // Some servers ignore continuation tokens of others' making; start-after
  // the last key seen is equivalent and robust.
  if (token_.empty() && started_) opts.start_after = last_key_;
  // A page damaged in flight (a flipped byte) can still parse; one that is
  // out of order or leaves the prefix is fetched again, like a failed one.
  FERRY_CO_ASSIGN_OR_RETURN(storage::ListPage page,
                            co_await WithRetry(retry_, pacer_, [&]() {
                              return FetchChecked(opts);
                            }));
  started_ = true;
  page_ = std::move(page.contents);
  pos_ = 0;
  token_ = page.next_continuation_token;
  more_ = page.is_truncated;
  if (more_ && token_.empty() && page_.empty()) {
    co_return Status::Error(ErrorClass::kRetryable,
                            "listing of " + backend_.Describe() +
                                " claims more results but gives no way to fetch them");
  }
  co_return Status::Ok();
}

io::Task<Result<std::optional<storage::ObjectSummary>>> Lister::Next() {
  while (pos_ >= page_.size()) {
    if (started_ && !more_) {
      complete_ = true;
      co_return std::optional<storage::ObjectSummary>();
    }
    FERRY_CO_RETURN_IF_ERROR(co_await FetchPage());
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
