#include "sim/synthetic.h"

#include <bit>
#include <cstring>

#include "protocols/base/digest.h"

namespace ferry::sim {
namespace {

// SplitMix64 finaliser over the word index: a different, well-mixed word for
// every 8-byte position, at well over 1 GB/s.
inline std::uint64_t Word(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed + (index + 1) * 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class SyntheticBlob final : public Blob {
 public:
  SyntheticBlob(std::uint64_t seed, std::uint64_t size) : seed_(seed), size_(size) {}
  std::uint64_t size() const override { return size_; }
  Status ReadAt(std::uint64_t offset, std::span<char> out) const override {
    FillSynthetic(seed_, offset, out);
    return Status::Ok();
  }

 private:
  std::uint64_t seed_;
  std::uint64_t size_;
};

}  // namespace

void FillSynthetic(std::uint64_t seed, std::uint64_t offset, std::span<char> out) {
  // Byte b of word w is (w >> 8*b) & 0xff, i.e. the word's little-endian bytes.
  auto put_partial = [&](std::size_t done) {
    std::uint64_t pos = offset + done;
    std::uint64_t w = Word(seed, pos / 8);
    unsigned char bytes[8];
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(w >> (8 * i));
    std::size_t skip = pos % 8;
    std::size_t n = std::min<std::size_t>(8 - skip, out.size() - done);
    std::memcpy(out.data() + done, bytes + skip, n);
    return n;
  };
  std::size_t done = 0;
  if (offset % 8 != 0 && !out.empty()) done += put_partial(0);
  // Whole words: the bulk of every read, without the per-byte shuffle.
  std::uint64_t index = (offset + done) / 8;
  for (; out.size() - done >= 8; done += 8, ++index) {
    std::uint64_t w = Word(seed, index);
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(out.data() + done, &w, 8);
    } else {
      for (int i = 0; i < 8; ++i) out[done + i] = static_cast<char>(w >> (8 * i));
    }
  }
  if (done < out.size()) put_partial(done);
}

BlobPtr MakeSyntheticBlob(std::uint64_t seed, std::uint64_t size) {
  return std::make_shared<SyntheticBlob>(seed, size);
}

std::string MultipartEtag(const std::vector<std::string>& raw_part_md5s) {
  std::string cat;
  for (const auto& m : raw_part_md5s) cat += m;
  return digest::ToHex(digest::Md5(cat)) + "-" + std::to_string(raw_part_md5s.size());
}

Result<ComputedEtag> ComputeEtag(const Blob& blob, std::uint64_t part_size) {
  ComputedEtag out;
  if (part_size == 0) {
    FERRY_ASSIGN_OR_RETURN(out.etag, Md5HexOfBlob(blob, 0, blob.size()));
    return out;
  }
  std::vector<std::string> md5s;
  std::uint64_t at = 0;
  do {
    std::uint64_t n = std::min(part_size, blob.size() - at);
    FERRY_ASSIGN_OR_RETURN(std::string hex, Md5HexOfBlob(blob, at, n));
    std::string raw;
    if (!digest::FromHex(hex, &raw)) return Status::Error(ErrorClass::kFatal, "bad md5 hex");
    md5s.push_back(std::move(raw));
    out.part_sizes.push_back(n);
    at += n;
  } while (at < blob.size());
  out.etag = MultipartEtag(md5s);
  return out;
}

}  // namespace ferry::sim
