// Digests and encodings used on the wire: MD5 (ETags, Content-MD5), SHA-256
// and HMAC-SHA256 (SigV4), hex and base64. Thin wrappers over OpenSSL EVP.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace ferry::digest {

std::string ToHex(std::string_view bytes);                  // lower-case
bool FromHex(std::string_view hex, std::string* out);        // false on bad input
std::string Base64Encode(std::string_view bytes);
bool Base64Decode(std::string_view b64, std::string* out);   // false on bad input

std::string Sha256(std::string_view data);                   // raw 32 bytes
std::string Sha256Hex(std::string_view data);
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
std::string Md5(std::string_view data);                      // raw 16 bytes
// XXH3-128 (content hashes in the manifest), as 32 hex characters.
std::string Xxh3_128Hex(std::string_view data);

// Incremental hash (MD5 or SHA-256) for streamed bodies.
class Hasher {
 public:
  enum class Kind { kMd5, kSha256 };
  explicit Hasher(Kind kind);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void Update(std::string_view data);
  // Raw digest; the hasher is reset and can be reused.
  std::string Finish();

 private:
  struct Impl;
  Kind kind_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ferry::digest
