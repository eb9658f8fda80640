// Test data for the HTTP client tests: a deterministic byte generator that can
// produce any range of an arbitrarily large "object" without storing it, a
// BodySource over it, a sink that hashes and counts what it receives, and the
// process's resident memory (to prove bodies stream instead of buffering).
#pragma once

#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <span>

#include "protocols/base/body.h"

namespace ferry::http::testing {

inline std::uint64_t MixWord(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Writes bytes [offset, offset + n) of the object named by `seed`.
inline void FillGenerated(std::uint64_t seed, std::uint64_t offset, char* out, std::size_t n) {
  while (n > 0) {
    std::uint64_t word = MixWord(seed * 0x100000001b3ULL + offset / 8);
    std::size_t in = offset % 8;
    std::size_t take = std::min<std::size_t>(8 - in, n);
    std::memcpy(out, reinterpret_cast<const char*>(&word) + in, take);
    out += take;
    offset += take;
    n -= take;
  }
}

// Streaming XXH3-64 of whatever is fed to it.
class Xxh3 {
 public:
  Xxh3() : state_(XXH3_createState(), &XXH3_freeState) { XXH3_64bits_reset(state_.get()); }
  void Update(const char* data, std::size_t n) { XXH3_64bits_update(state_.get(), data, n); }
  std::uint64_t Digest() const { return XXH3_64bits_digest(state_.get()); }

 private:
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state_;
};

// Hash of the first `size` bytes of object `seed`, computed without a network.
inline std::uint64_t GeneratedHash(std::uint64_t seed, std::uint64_t size) {
  Xxh3 h;
  auto buf = std::make_unique<char[]>(1 << 20);
  for (std::uint64_t off = 0; off < size;) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(1 << 20, size - off));
    FillGenerated(seed, off, buf.get(), n);
    h.Update(buf.get(), n);
    off += n;
  }
  return h.Digest();
}

// Resident set size of this process, in bytes.
inline std::uint64_t ResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  std::uint64_t total = 0, resident = 0;
  statm >> total >> resident;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

// Tracks the highest RSS seen while a transfer runs (sampled, cheap).
class RssWatch {
 public:
  void Sample() {
    if (++calls_ % 8 == 0) peak_ = std::max(peak_, ResidentBytes());
  }
  std::uint64_t peak() const { return peak_; }

 private:
  std::uint64_t calls_ = 0;
  std::uint64_t peak_ = 0;
};

class GeneratedSource final : public io::BodySource {
 public:
  GeneratedSource(std::uint64_t seed, std::uint64_t size, RssWatch* rss = nullptr)
      : seed_(seed), size_(size), rss_(rss) {}
  std::uint64_t size() const override { return size_; }
  io::Task<Result<std::size_t>> Read(std::span<char> buf) override {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), size_ - pos_));
    FillGenerated(seed_, pos_, buf.data(), n);
    pos_ += n;
    ++reads_;
    if (rss_) rss_->Sample();
    co_return n;
  }
  Status Rewind() override {
    pos_ = 0;
    ++rewinds_;
    return Status::Ok();
  }
  int rewinds() const { return rewinds_; }
  std::uint64_t reads() const { return reads_; }

 private:
  std::uint64_t seed_;
  std::uint64_t size_;
  std::uint64_t pos_ = 0;
  std::uint64_t reads_ = 0;
  int rewinds_ = 0;
  RssWatch* rss_;
};

class HashingSink final : public io::BodySink {
 public:
  explicit HashingSink(RssWatch* rss = nullptr) : rss_(rss) {}
  io::Task<Status> Write(std::span<const char> data) override {
    hash_.Update(data.data(), data.size());
    bytes_ += data.size();
    largest_chunk_ = std::max(largest_chunk_, data.size());
    if (rss_) rss_->Sample();
    co_return Status::Ok();
  }
  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t hash() const { return hash_.Digest(); }
  std::size_t largest_chunk() const { return largest_chunk_; }

 private:
  Xxh3 hash_;
  std::uint64_t bytes_ = 0;
  std::size_t largest_chunk_ = 0;
  RssWatch* rss_;
};

}  // namespace ferry::http::testing
