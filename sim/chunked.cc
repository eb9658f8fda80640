#include "sim/chunked.h"

#include "protocols/s3/sigv4.h"
#include "sim/errors.h"

namespace ferry::sim {
namespace {

constexpr std::size_t kMaxLine = 4096;

Status Malformed(std::string why) { return S3Error(400, "IncompleteBody", "aws-chunked body: " + why); }

}  // namespace

std::string AwsChunkedDecoder::ChunkSignature(const ChunkSigner& s,
                                              std::string_view chunk_sha256_hex) {
  std::string sts = "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amz_date + "\n" + s.scope + "\n" +
                    s.prev_signature + "\n" + std::string(s3::kEmptyPayloadSha256) + "\n" +
                    std::string(chunk_sha256_hex);
  return digest::ToHex(digest::HmacSha256(s.signing_key, sts));
}

Status AwsChunkedDecoder::OnHeaderLine(std::string_view line) {
  std::string_view size_text = line.substr(0, line.find(';'));
  if (size_text.empty() || size_text.size() > 16) return S3Error(400, "InvalidChunkSizeError", "bad chunk size");
  std::uint64_t n = 0;
  for (char c : size_text) {
    int v = (c >= '0' && c <= '9')   ? c - '0'
            : (c >= 'a' && c <= 'f') ? c - 'a' + 10
            : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                     : -1;
    if (v < 0) return S3Error(400, "InvalidChunkSizeError", "bad chunk size");
    n = n * 16 + static_cast<std::uint64_t>(v);
  }
  want_signature_.clear();
  auto sig_at = line.find("chunk-signature=");
  if (sig_at != std::string_view::npos) want_signature_ = line.substr(sig_at + 16);
  if (signer_ && want_signature_.empty()) {
    return S3Error(403, "SignatureDoesNotMatch", "aws-chunked chunk without chunk-signature");
  }
  remaining_ = n;
  last_chunk_ = n == 0;
  state_ = n == 0 ? State::kDataEnd : State::kData;
  if (n == 0) return FinishChunk();
  return Status::Ok();
}

Status AwsChunkedDecoder::FinishChunk() {
  std::string hash = digest::ToHex(chunk_hash_.Finish());
  if (signer_) {
    std::string expect = ChunkSignature(*signer_, hash);
    if (!s3::SignaturesEqual(expect, want_signature_)) {
      return S3Error(403, "SignatureDoesNotMatch",
                     "The chunk signature we calculated does not match the one you provided.");
    }
    signer_->prev_signature = expect;
  }
  if (last_chunk_) state_ = State::kTrailer;
  return Status::Ok();
}

Status AwsChunkedDecoder::Feed(std::string_view in, std::string* out) {
  while (!in.empty()) {
    switch (state_) {
      case State::kHeader:
      case State::kTrailer:
      case State::kDataEnd: {
        auto nl = in.find('\n');
        std::string_view piece = in.substr(0, nl == std::string_view::npos ? in.size() : nl + 1);
        line_.append(piece);
        in.remove_prefix(piece.size());
        if (line_.size() > kMaxLine) return Malformed("line too long");
        if (line_.back() != '\n') break;
        if (line_.size() < 2 || line_[line_.size() - 2] != '\r') return Malformed("line without CRLF");
        std::string line = line_.substr(0, line_.size() - 2);
        line_.clear();
        if (state_ == State::kHeader) {
          FERRY_RETURN_IF_ERROR(OnHeaderLine(line));
        } else if (state_ == State::kDataEnd) {
          if (!line.empty()) return Malformed("chunk data longer than its size");
          state_ = State::kHeader;
        } else if (line.empty()) {  // kTrailer: an empty line ends the body
          state_ = State::kDone;
        }
        // Trailer lines (x-amz-checksum-*, x-amz-trailer-signature) are accepted
        // without checking: the simulator stores its own MD5.
        break;
      }
      case State::kData: {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, in.size()));
        out->append(in.substr(0, n));
        chunk_hash_.Update(in.substr(0, n));
        decoded_ += n;
        remaining_ -= n;
        in.remove_prefix(n);
        if (remaining_ == 0) {
          FERRY_RETURN_IF_ERROR(FinishChunk());
          state_ = State::kDataEnd;
        }
        break;
      }
      case State::kDone:
        return Malformed("bytes after the final chunk");
    }
  }
  return Status::Ok();
}

}  // namespace ferry::sim
