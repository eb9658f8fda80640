#include "engine/transfer/buffer_pool.h"

#include <algorithm>
#include <cstring>

#include "protocols/base/digest.h"

namespace ferry::engine {

BufferPool::BufferPool(std::uint64_t capacity_bytes) : gate_(capacity_bytes) {}
BufferPool::~BufferPool() = default;

BufferPool::Lease& BufferPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = std::exchange(other.pool_, nullptr);
    buf_ = std::move(other.buf_);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void BufferPool::Lease::Reset() {
  if (pool_ != nullptr) {
    pool_->Return(std::move(buf_), capacity_, size_);
    pool_ = nullptr;
    capacity_ = size_ = 0;
  }
}

io::Task<Result<BufferPool::Lease>> BufferPool::Acquire(
    std::size_t size, std::chrono::steady_clock::time_point deadline) {
  std::size_t want = std::max<std::size_t>(size, 1);
  FERRY_CO_RETURN_IF_ERROR(co_await gate_.Acquire(want, deadline));
  Lease lease;
  lease.pool_ = this;
  lease.size_ = size;
  {
    std::lock_guard lock(mu_);
    peak_ = std::max(peak_, gate_.in_use());
    // Reuse a cached buffer of exactly this size (parts mostly share one
    // size), so memory behind leases never exceeds what the gate granted.
    auto best = std::find_if(free_.begin(), free_.end(),
                             [want](const auto& e) { return e.first == want; });
    if (best != free_.end()) {
      lease.capacity_ = best->first;
      lease.buf_ = std::move(best->second);
      cached_bytes_ -= best->first;
      free_.erase(best);
    }
  }
  if (!lease.buf_) {
    lease.buf_ = std::unique_ptr<char[]>(new char[want]);
    lease.capacity_ = want;
  }
  co_return lease;
}

void BufferPool::Return(std::unique_ptr<char[]> buf, std::size_t capacity, std::size_t granted) {
  {
    std::lock_guard lock(mu_);
    // Keep the buffer while cached + in-use memory stays within the cap.
    std::uint64_t in_use_after = gate_.in_use() - std::max<std::size_t>(granted, 1);
    while (!free_.empty() && cached_bytes_ + capacity + in_use_after > gate_.capacity()) {
      cached_bytes_ -= free_.front().first;
      free_.erase(free_.begin());
    }
    if (cached_bytes_ + capacity + in_use_after <= gate_.capacity()) {
      cached_bytes_ += capacity;
      free_.emplace_back(capacity, std::move(buf));
    }
  }
  gate_.Release(std::max<std::size_t>(granted, 1));
}

std::uint64_t BufferPool::peak_in_use() const {
  std::lock_guard lock(mu_);
  return peak_;
}

io::Task<Status> SpanSink::Write(std::span<const char> data) {
  if (data.size() > out_.size() - written_) {
    co_return Status::Error(ErrorClass::kRetryable,
                            "response body longer than the requested range");
  }
  std::memcpy(out_.data() + written_, data.data(), data.size());
  written_ += data.size();
  co_return Status::Ok();
}

SpanSource::SpanSource(std::string_view data, std::string_view md5_raw) : data_(data) {
  if (!md5_raw.empty()) md5_base64_ = digest::Base64Encode(md5_raw);
}

io::Task<Result<std::size_t>> SpanSource::Read(std::span<char> buf) {
  std::size_t n = std::min(buf.size(), data_.size() - pos_);
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  co_return n;
}

std::optional<std::string> SpanSource::sha256_hex() {
  if (!sha256_) sha256_ = digest::Sha256Hex(data_);
  return sha256_;
}

}  // namespace ferry::engine
