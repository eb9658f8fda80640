#include "engine/transfer/buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

#include "protocols/base/digest.h"

namespace ferry::engine {

BufferPool::Buffer BufferPool::Buffer::Allocate(std::size_t size) {
  Buffer b;
  if (size >= kMapThreshold) {
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return b;
    b.data_ = static_cast<char*>(p);
  } else {
    b.data_ = new (std::nothrow) char[size];
    if (b.data_ == nullptr) return b;
  }
  b.size_ = size;
  return b;
}

BufferPool::Buffer& BufferPool::Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Free();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void BufferPool::Buffer::Free() {
  if (data_ == nullptr) return;
  if (size_ >= kMapThreshold) {
    ::munmap(data_, size_);
  } else {
    delete[] data_;
  }
  data_ = nullptr;
  size_ = 0;
}

BufferPool::BufferPool(std::uint64_t capacity_bytes) : gate_(capacity_bytes) {}
BufferPool::~BufferPool() = default;

BufferPool::Lease& BufferPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = std::exchange(other.pool_, nullptr);
    buf_ = std::move(other.buf_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void BufferPool::Lease::Reset() {
  if (pool_ != nullptr) {
    pool_->Return(std::move(buf_), size_);
    pool_ = nullptr;
    size_ = 0;
  }
}

io::Task<Result<BufferPool::Lease>> BufferPool::Acquire(
    std::size_t size, std::chrono::steady_clock::time_point deadline) {
  std::size_t want = std::max<std::size_t>(size, 1);
  FERRY_CO_RETURN_IF_ERROR(co_await gate_.Acquire(want, deadline));
  Buffer buf;
  std::vector<Buffer> evicted;  // freed outside the lock
  {
    std::lock_guard lock(mu_);
    peak_ = std::max(peak_, gate_.in_use());
    // Reuse a cached buffer of exactly this size (parts mostly share one
    // size), so memory behind leases never exceeds what the gate granted.
    auto best = std::find_if(free_.begin(), free_.end(),
                             [want](const Buffer& b) { return b.size() == want; });
    if (best != free_.end()) {
      buf = std::move(*best);
      cached_bytes_ -= want;
      free_.erase(best);
    } else {
      // A new buffer: drop the oldest cached ones until every buffer in
      // existence, this one included, fits in the cap. Leased buffers add up
      // to at most the gate's grants less this one, so that always succeeds.
      while (!free_.empty() && allocated_ + want > gate_.capacity()) {
        cached_bytes_ -= free_.front().size();
        allocated_ -= free_.front().size();
        evicted.push_back(std::move(free_.front()));
        free_.erase(free_.begin());
      }
      allocated_ += want;  // reserved before allocating outside the lock
      ++allocations_;
    }
  }
  evicted.clear();
  if (!buf) {
    buf = Buffer::Allocate(want);
    if (!buf) {
      const int err = errno;
      {
        std::lock_guard lock(mu_);
        allocated_ -= want;
      }
      gate_.Release(want);
      co_return Status::Error(ErrorClass::kRetryable,
                              "buffer pool: cannot allocate " + std::to_string(want) +
                                  " bytes: " + std::strerror(err));
    }
  }
  Lease lease;
  lease.pool_ = this;
  lease.buf_ = std::move(buf);
  lease.size_ = size;
  co_return lease;
}

void BufferPool::Return(Buffer buf, std::size_t granted) {
  {
    // Kept for reuse: it already counts in allocated_, which never exceeds
    // the cap. (Deciding by the gate's grants instead would drop buffers
    // whenever a waiter has been granted bytes it has not picked up yet,
    // and map a fresh one for it: page faults on every part under load.)
    std::lock_guard lock(mu_);
    if (buf) {
      cached_bytes_ += buf.size();
      free_.push_back(std::move(buf));
    }
  }
  gate_.Release(std::max<std::size_t>(granted, 1));
}

std::uint64_t BufferPool::peak_in_use() const {
  std::lock_guard lock(mu_);
  return peak_;
}

std::uint64_t BufferPool::cached_bytes() const {
  std::lock_guard lock(mu_);
  return cached_bytes_;
}

std::uint64_t BufferPool::allocated_bytes() const {
  std::lock_guard lock(mu_);
  return allocated_;
}

std::uint64_t BufferPool::allocations() const {
  std::lock_guard lock(mu_);
  return allocations_;
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
