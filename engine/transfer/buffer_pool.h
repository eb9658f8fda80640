// BufferPool: every byte in flight lives here, under one hard cap.
//
// A transfer asks for a Lease of `size` bytes and waits (it never allocates
// around the pool) until that much of the budget is free, so memory is
// bounded by the cap whatever the object sizes. Freed buffers are kept for
// reuse; every buffer in existence, cached or leased, fits in the cap. Buffers of
// kMapThreshold bytes or more are mapped from the kernel and unmapped when
// dropped: through malloc, parts of varying sizes fragment its arenas and the
// daemon's RSS creeps up long after the live heap is flat (soak test).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "engine/transfer/async_gate.h"
#include "protocols/base/crc32c.h"
#include "protocols/base/body.h"

namespace ferry::engine {

class BufferPool {
 public:
  static constexpr std::size_t kMapThreshold = 128 * 1024;

  explicit BufferPool(std::uint64_t capacity_bytes);
  ~BufferPool();

 private:
  // Owns `size` bytes: mmap'd at or above kMapThreshold, else new[].
  class Buffer {
   public:
    Buffer() = default;
    static Buffer Allocate(std::size_t size);  // empty on failure
    Buffer(Buffer&& other) noexcept { *this = std::move(other); }
    Buffer& operator=(Buffer&& other) noexcept;
    ~Buffer() { Free(); }
    char* data() const { return data_; }
    std::size_t size() const { return size_; }
    explicit operator bool() const { return data_ != nullptr; }

   private:
    void Free();
    char* data_ = nullptr;
    std::size_t size_ = 0;
  };

 public:
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept { *this = std::move(other); }
    Lease& operator=(Lease&& other) noexcept;
    ~Lease() { Reset(); }
    std::span<char> data() const { return {buf_.data(), size_}; }
    std::size_t size() const { return size_; }
    void Reset();

   private:
    friend class BufferPool;
    BufferPool* pool_ = nullptr;
    Buffer buf_;            // buf_.size(): bytes allocated
    std::size_t size_ = 0;  // bytes granted
  };

  // Waits until `size` bytes of budget are free. kInvalidArgument when size
  // exceeds the cap; kRetryable at the deadline; kCancelled after Close().
  io::Task<Result<Lease>> Acquire(std::size_t size, std::chrono::steady_clock::time_point deadline);
  void Close() { gate_.Close(); }

  std::uint64_t capacity() const { return gate_.capacity(); }
  std::uint64_t in_use() const { return gate_.in_use(); }
  std::uint64_t peak_in_use() const;
  // Bytes of freed mapped buffers kept for reuse (heap buffers, below
  // kMapThreshold, go back to malloc).
  std::uint64_t cached_bytes() const;
  // Bytes of every buffer in existence, mapped (cached or leased) or heap
  // (leased): <= capacity() plus the heap buffers leased (those never evict
  // cached mapped ones).
  std::uint64_t allocated_bytes() const;
  // Mapped buffers allocated so far (each one new memory, page faults
  // included): a steady load of one size allocates at most capacity() / size
  // of them, whatever small objects run beside it.
  std::uint64_t allocations() const;

 private:
  void Return(Buffer buf, std::size_t granted);

  AsyncGate gate_;
  mutable std::mutex mu_;
  std::vector<Buffer> free_;        // GUARDED_BY(mu_)
  std::uint64_t cached_bytes_ = 0;  // GUARDED_BY(mu_)
  std::uint64_t allocated_ = 0;     // GUARDED_BY(mu_): cached + leased mapped buffers
  std::uint64_t heap_leased_ = 0;   // GUARDED_BY(mu_): leased heap buffers (never cached)
  std::uint64_t allocations_ = 0;   // GUARDED_BY(mu_)
  std::uint64_t peak_ = 0;          // GUARDED_BY(mu_)
};

// A sink that fills a fixed span (a lease); more bytes than fit is an error.
class SpanSink final : public io::BodySink {
 public:
  explicit SpanSink(std::span<char> out) : out_(out) {}
  io::Task<Status> Write(std::span<const char> data) override;
  std::span<char> direct_space() override { return out_.subspan(written_); }
  void Received(std::size_t n) override { written_ += n; }
  std::size_t written() const { return written_; }

 private:
  std::span<char> out_;
  std::size_t written_ = 0;
};

// A request body over a filled lease whose MD5 the copier has already
// computed: it is sent as Content-MD5 without hashing the bytes a second
// time (MD5 is the largest CPU cost per byte copied). SHA-256, needed only
// for signed payloads, is computed on first request.
class SpanSource final : public io::BodySource {
 public:
  // `md5_raw`: the 16-byte MD5 of `data`, or "" to send no Content-MD5.
  SpanSource(std::string_view data, std::string_view md5_raw);
  std::uint64_t size() const override { return data_.size(); }
  io::Task<Result<std::size_t>> Read(std::span<char> buf) override;
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  std::optional<std::string> sha256_hex() override;
  std::optional<std::string> content_md5_base64() override { return md5_base64_; }
  // Sends x-amz-checksum-crc32c with `crc`, the CRC-32C computed with the read.
  void set_crc32c(std::uint32_t crc) { crc32c_base64_ = crc32c::ToBase64(crc); }
  std::optional<std::string> checksum_crc32c_base64() override { return crc32c_base64_; }
  std::optional<std::span<const char>> contiguous() const override {
    return std::span<const char>(data_.data(), data_.size());
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::optional<std::string> md5_base64_;
  std::optional<std::string> sha256_;
  std::optional<std::string> crc32c_base64_;
};

}  // namespace ferry::engine
