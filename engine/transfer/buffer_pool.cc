#include "engine/transfer/buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

#include "protocols/base/digest.h"

namespace ferry::engine {

namespace {

constexpr std::size_t kHugePage = 2u << 20;

// `size` bytes of anonymous memory starting on a 2 MiB boundary, with
// transparent huge pages asked for: a part buffer is then filled with one
// page fault per 2 MiB instead of one per 4 KiB (in a VM each fault is a
// trip through the hypervisor; with 16 MiB parts they cost more CPU than
// the copy itself), and hashing it misses the TLB far less. Where THP is
// off, madvise fails harmlessly and the pages stay small.
char* MapAligned(std::size_t size) {
  const std::size_t len = size + kHugePage;
  void* p = ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  const auto base = reinterpret_cast<std::uintptr_t>(p);
  const std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
  if (aligned > base) ::munmap(p, aligned - base);
  const std::uintptr_t end = base + len;
  if (end > aligned + size) {
    ::munmap(reinterpret_cast<void*>(aligned + size), end - (aligned + size));
  }
  (void)::madvise(reinterpret_cast<void*>(aligned), size, MADV_HUGEPAGE);
  return reinterpret_cast<char*>(aligned);
}

}  // namespace

BufferPool::Buffer BufferPool::Buffer::Allocate(std::size_t size) {
  Buffer b;
  if (size >= kMapThreshold) {
    b.data_ = MapAligned(size);
    if (b.data_ == nullptr) return b;
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
  bool fresh = false;  // a new mapped buffer, allocated outside the lock
  if (want < kMapThreshold) {
    // A heap buffer: malloc recycles these cheaply, so they are neither
    // cached nor allowed to evict cached mapped ones (replacing those costs
    // page faults: small objects copied beside large ones made every part
    // buffer a fresh mapping). The gate's grants bound them, so buffers in
    // existence stay within the cap plus the heap buffers leased.
    buf = Buffer::Allocate(want);
    if (!buf) {
      gate_.Release(want);
      co_return Status::Error(ErrorClass::kRetryable,
                              "buffer pool: cannot allocate " + std::to_string(want) + " bytes");
    }
    std::lock_guard lock(mu_);
    peak_ = std::max(peak_, gate_.in_use());
    heap_leased_ += want;
  }
  std::vector<Buffer> evicted;  // freed outside the lock
  if (!buf) {
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
      // existence (mapped, this one included, and heap buffers leased) fits
      // in the cap. Leased buffers add up to at most the gate's grants less
      // this one, so that always succeeds.
      while (!free_.empty() && allocated_ + heap_leased_ + want > gate_.capacity()) {
        cached_bytes_ -= free_.front().size();
        allocated_ -= free_.front().size();
        evicted.push_back(std::move(free_.front()));
        free_.erase(free_.begin());
      }
      allocated_ += want;  // reserved before allocating outside the lock
      ++allocations_;
      fresh = true;
    }
  }
  evicted.clear();
  if (fresh) {
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
    if (buf && buf.size() < kMapThreshold) {
      heap_leased_ -= buf.size();
      buf = Buffer();  // freed (see Acquire)
    } else if (buf) {
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
  return allocated_ + heap_leased_;
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
