// Decoder for "aws-chunked" request bodies (x-amz-content-sha256:
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] or STREAMING-UNSIGNED-PAYLOAD-TRAILER):
//   <hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
//   [<trailer-name>:<value>\r\n ...]\r\n
// With a ChunkSigner each chunk's signature is checked against the chain
// seeded by the request signature. Pure logic: feed bytes in, get payload out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocols/base/digest.h"
#include "protocols/base/status.h"

namespace ferry::sim {

struct ChunkSigner {
  std::string signing_key;     // raw derived key
  std::string amz_date;        // x-amz-date of the request
  std::string scope;           // yyyymmdd/region/s3/aws4_request
  std::string prev_signature;  // starts as the request's signature
};

class AwsChunkedDecoder {
 public:
  explicit AwsChunkedDecoder(std::optional<ChunkSigner> signer) : signer_(std::move(signer)) {}
  // Consumes `in` entirely, appending payload bytes to `*out`. Errors are S3
  // errors (400 IncompleteBody / InvalidChunkSizeError, 403 SignatureDoesNotMatch).
  Status Feed(std::string_view in, std::string* out);
  // The terminating chunk and trailers were seen.
  bool done() const { return state_ == State::kDone; }
  std::uint64_t decoded_bytes() const { return decoded_; }

  // Signature of one chunk given the previous one (exposed for tests/clients).
  static std::string ChunkSignature(const ChunkSigner& s, std::string_view chunk_sha256_hex);

 private:
  enum class State { kHeader, kData, kDataEnd, kTrailer, kDone };
  Status OnHeaderLine(std::string_view line);
  Status FinishChunk();

  std::optional<ChunkSigner> signer_;
  State state_ = State::kHeader;
  std::string line_;  // partial header / trailer line
  std::uint64_t remaining_ = 0;
  std::string want_signature_;
  digest::Hasher chunk_hash_{digest::Hasher::Kind::kSha256};
  std::uint64_t decoded_ = 0;
  bool last_chunk_ = false;
};

}  // namespace ferry::sim
