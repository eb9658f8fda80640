// Synthetic object bodies: generated on read from (seed, size), so a bucket
// of terabytes costs no memory. Byte i of a body depends only on (seed, i),
// which makes ranged reads and part reads cheap and exact.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "protocols/base/status.h"
#include "sim/blob.h"

namespace ferry::sim {

BlobPtr MakeSyntheticBlob(std::uint64_t seed, std::uint64_t size);

// Fills `out` with the synthetic bytes at [offset, offset + out.size()).
void FillSynthetic(std::uint64_t seed, std::uint64_t offset, std::span<char> out);

struct ComputedEtag {
  std::string etag;                      // unquoted
  std::vector<std::uint64_t> part_sizes;  // empty for a single-part ETag
};
// The ETag a body would have after a single PUT (part_size == 0: MD5 hex) or
// after a multipart upload in parts of `part_size` bytes (last one shorter):
// MD5 of the concatenated part MD5s, "-N".
Result<ComputedEtag> ComputeEtag(const Blob& blob, std::uint64_t part_size);

// "hex(md5(md5_1 || ... || md5_n))-n" from the parts' raw (16-byte) MD5s.
std::string MultipartEtag(const std::vector<std::string>& raw_part_md5s);

}  // namespace ferry::sim
