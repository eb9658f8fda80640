// Streaming request and response bodies.
//
// A BodySource produces the bytes of a request body in chunks; a BodySink
// consumes the bytes of a response body in chunks. Neither ever needs the
// whole object in memory: a 5 GiB object moves through a fixed-size buffer.
// Implementations for memory live here; files and network streams implement
// the same interfaces elsewhere.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::io {

template <typename T>
using Task = boost::asio::awaitable<T>;

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Exact number of bytes Read() produces from the start.
  virtual std::uint64_t size() const = 0;
  // Copies the next bytes into `buf`; returns how many. Returns 0 only at the
  // end. An error aborts the request that reads it.
  virtual Task<Result<std::size_t>> Read(std::span<char> buf) = 0;
  // Starts again from the first byte (so a request can be sent again).
  virtual Status Rewind() = 0;
  // Optional digests, when the source knows them without reading:
  // lower-case hex SHA-256 (SigV4 signed payload) and base64 MD5 (Content-MD5).
  virtual std::optional<std::string> sha256_hex() { return std::nullopt; }
  virtual std::optional<std::string> content_md5_base64() { return std::nullopt; }
  // Base64 CRC-32C of the body, to be sent as x-amz-checksum-crc32c (a plain,
  // signed header, never an aws-chunked trailer). nullopt: send none. A
  // source returns one only when its owner asked for the checksum.
  virtual std::optional<std::string> checksum_crc32c_base64() { return std::nullopt; }
  // The whole body when it already lies in memory, valid while the source
  // lives: the transport then sends straight from it instead of copying it
  // through Read. nullopt: use Read.
  virtual std::optional<std::span<const char>> contiguous() const { return std::nullopt; }
};

class BodySink {
 public:
  virtual ~BodySink() = default;
  // Consumes `data`. An error aborts the response being read into the sink.
  virtual Task<Status> Write(std::span<const char> data) = 0;
  // Memory the next bytes may be received into directly, saving the copy
  // through Write; empty when the sink offers none (or has no room left, in
  // which case Write says why). After receiving n bytes there, the transport
  // calls Received(n) instead of Write.
  virtual std::span<char> direct_space() { return {}; }
  virtual void Received(std::size_t /*n*/) {}
};

// A source over bytes owned by the caller, who keeps them alive and unchanged
// for as long as the source is used. Digests are computed on first request.
class MemorySource final : public BodySource {
 public:
  explicit MemorySource(std::string_view data) : data_(data) {}
  std::uint64_t size() const override { return data_.size(); }
  Task<Result<std::size_t>> Read(std::span<char> buf) override;
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }
  std::optional<std::string> sha256_hex() override;
  std::optional<std::string> content_md5_base64() override;
  // Asks for x-amz-checksum-crc32c with this body.
  MemorySource& SendCrc32c() {
    send_crc32c_ = true;
    return *this;
  }
  std::optional<std::string> checksum_crc32c_base64() override;
  std::optional<std::span<const char>> contiguous() const override {
    return std::span<const char>(data_.data(), data_.size());
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
  std::optional<std::string> sha256_;
  std::optional<std::string> md5_;
  bool send_crc32c_ = false;
};

// A sink that appends into a string, failing once more than `limit` bytes
// arrive (so an unexpected large body cannot exhaust memory).
class StringSink final : public BodySink {
 public:
  explicit StringSink(std::size_t limit = 64u << 20) : limit_(limit) {}
  Task<Status> Write(std::span<const char> data) override;
  const std::string& data() const { return data_; }
  std::string Take() { return std::move(data_); }

 private:
  std::size_t limit_;
  std::string data_;
};

// A sink that drops bytes, counting them.
class DiscardSink final : public BodySink {
 public:
  Task<Status> Write(std::span<const char> data) override {
    bytes_ += data.size();
    co_return Status::Ok();
  }
  std::uint64_t bytes() const { return bytes_; }

 private:
  std::uint64_t bytes_ = 0;
};

}  // namespace ferry::io
