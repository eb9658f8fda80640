// Immutable object bodies and the writers that create them.
//
// A Blob is shared (std::shared_ptr<const Blob>) between the store, copies of
// an object, completed multipart uploads and GETs in flight, so a copy or a
// completion never duplicates bytes and a GET keeps reading the version it
// started with while the key is overwritten. Bodies live in memory or, with a
// data directory, in files there (memory then does not grow with object size).
// Reads are synchronous (memcpy / pread); callers run them on I/O threads.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::sim {

class Blob {
 public:
  virtual ~Blob() = default;
  virtual std::uint64_t size() const = 0;
  // Fills `out` with bytes [offset, offset + out.size()).
  // REQUIRES: offset + out.size() <= size().
  virtual Status ReadAt(std::uint64_t offset, std::span<char> out) const = 0;
  // False for a body received, checked and dropped (BlobFactory::KeepingUpTo):
  // its size and digests are known, its bytes are not; ReadAt fails.
  virtual bool kept() const { return true; }
};
using BlobPtr = std::shared_ptr<const Blob>;

BlobPtr MakeMemoryBlob(std::string data);
// Bytes [offset, offset + length) of `base`. REQUIRES: in range.
BlobPtr MakeSliceBlob(BlobPtr base, std::uint64_t offset, std::uint64_t length);
// The concatenation of `parts` (a completed multipart upload).
BlobPtr MakeCompositeBlob(std::vector<BlobPtr> parts);

// Receives a body chunk by chunk; Finish() seals it into a Blob.
class BlobWriter {
 public:
  virtual ~BlobWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual Result<BlobPtr> Finish() = 0;
};

// Makes writers: in memory, or files in a private directory (removed with
// the factory; files of dropped blobs are removed when the last reference goes).
class BlobFactory {
 public:
  virtual ~BlobFactory() = default;
  virtual std::unique_ptr<BlobWriter> NewWriter(std::optional<std::uint64_t> size_hint) = 0;
  static std::unique_ptr<BlobFactory> Memory();
  static Result<std::unique_ptr<BlobFactory>> Directory(const std::string& data_dir);
  // Bodies declared larger than `limit` bytes are counted, hashed by the
  // caller and dropped (a benchmark's destination region: the client's
  // machine should not pay for storing what a remote store would keep);
  // the rest go to `inner`.
  static std::unique_ptr<BlobFactory> KeepingUpTo(std::unique_ptr<BlobFactory> inner,
                                                  std::uint64_t limit);
};

// The S3 error for reading a body that was not kept (501 NotImplemented).
Status BodyNotKept(std::uint64_t size);

// Lower-case hex MD5 of bytes [offset, offset + length) of `blob`.
Result<std::string> Md5HexOfBlob(const Blob& blob, std::uint64_t offset, std::uint64_t length);
// CRC-32C of bytes [offset, offset + length) of `blob`.
Result<std::uint32_t> Crc32cOfBlob(const Blob& blob, std::uint64_t offset, std::uint64_t length);

}  // namespace ferry::sim
