#include "protocols/base/body.h"

#include <algorithm>
#include <cstring>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"

namespace ferry::io {

Task<Result<std::size_t>> MemorySource::Read(std::span<char> buf) {
  std::size_t n = std::min(buf.size(), data_.size() - pos_);
  std::memcpy(buf.data(), data_.data() + pos_, n);
  pos_ += n;
  co_return n;
}

std::optional<std::string> MemorySource::sha256_hex() {
  if (!sha256_) sha256_ = digest::Sha256Hex(data_);
  return sha256_;
}

std::optional<std::string> MemorySource::content_md5_base64() {
  if (!md5_) md5_ = digest::Base64Encode(digest::Md5(data_));
  return md5_;
}

std::optional<std::string> MemorySource::checksum_crc32c_base64() {
  if (!send_crc32c_) return std::nullopt;
  return crc32c::ToBase64(crc32c::Crc32c(data_));
}

Task<Status> StringSink::Write(std::span<const char> data) {
  if (data_.size() + data.size() > limit_) {
    co_return Status::Error(ErrorClass::kFatal,
                            "response body larger than the " + std::to_string(limit_) +
                                "-byte limit for this request");
  }
  data_.append(data.data(), data.size());
  co_return Status::Ok();
}

}  // namespace ferry::io
