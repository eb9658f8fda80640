// CRC-32C: SSE4.2 when present, slicing-by-8 tables otherwise; combination
// of two CRCs by squaring the "append one zero bit" operator in GF(2).
#include "protocols/base/crc32c.h"

#include <array>
#include <cstring>

#include "protocols/base/digest.h"

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace ferry::crc32c {
namespace {

constexpr std::uint32_t kPoly = 0x82F63B78u;  // reflected Castagnoli

using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

constexpr Tables MakeTables() {
  Tables t{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (kPoly & (0u - (c & 1u)));
    t[0][i] = c;
  }
  for (std::size_t s = 1; s < 8; ++s) {
    for (std::size_t i = 0; i < 256; ++i) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
  }
  return t;
}

constexpr Tables kTables = MakeTables();

std::uint64_t LoadLe64(const unsigned char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t HardwareImpl(std::uint32_t crc,
                                                             const unsigned char* p,
                                                             std::size_t n) {
  std::uint64_t c = ~crc & 0xFFFFFFFFu;
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);  // x86 is little-endian, as the CRC wants
    c = _mm_crc32_u64(c, v);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; ++p, --n) c32 = _mm_crc32_u8(c32, *p);
  return ~c32;
}

bool DetectHardware() { return __builtin_cpu_supports("sse4.2"); }
#else
bool DetectHardware() { return false; }
#endif

const bool kHasHardware = DetectHardware();

// Multiplies the 32x32 GF(2) matrix `mat` (column i = image of bit i) by `vec`.
std::uint32_t MatrixTimes(const std::array<std::uint32_t, 32>& mat, std::uint32_t vec) {
  std::uint32_t sum = 0;
  for (int i = 0; vec != 0; ++i, vec >>= 1) {
    if (vec & 1u) sum ^= mat[static_cast<std::size_t>(i)];
  }
  return sum;
}

std::array<std::uint32_t, 32> MatrixSquare(const std::array<std::uint32_t, 32>& mat) {
  std::array<std::uint32_t, 32> out{};
  for (std::size_t i = 0; i < 32; ++i) out[i] = MatrixTimes(mat, mat[i]);
  return out;
}

}  // namespace

std::uint32_t ExtendSoftware(std::uint32_t crc, std::string_view data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  std::size_t n = data.size();
  std::uint32_t c = ~crc;
  for (; n >= 8; p += 8, n -= 8) {
    const std::uint64_t v = LoadLe64(p) ^ c;
    c = kTables[7][v & 0xFF] ^ kTables[6][(v >> 8) & 0xFF] ^ kTables[5][(v >> 16) & 0xFF] ^
        kTables[4][(v >> 24) & 0xFF] ^ kTables[3][(v >> 32) & 0xFF] ^ kTables[2][(v >> 40) & 0xFF] ^
        kTables[1][(v >> 48) & 0xFF] ^ kTables[0][v >> 56];
  }
  for (; n > 0; ++p, --n) c = (c >> 8) ^ kTables[0][(c ^ *p) & 0xFF];
  return ~c;
}

bool HasHardware() { return kHasHardware; }

std::uint32_t ExtendHardware(std::uint32_t crc, std::string_view data) {
#if defined(__x86_64__)
  if (kHasHardware) {
    return HardwareImpl(crc, reinterpret_cast<const unsigned char*>(data.data()), data.size());
  }
#endif
  return ExtendSoftware(crc, data);
}

std::uint32_t Extend(std::uint32_t crc, std::string_view data) {
  return kHasHardware ? ExtendHardware(crc, data) : ExtendSoftware(crc, data);
}

std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::uint64_t len2) {
  if (len2 == 0) return crc1;
  // odd: the operator for one zero bit; even: for two zero bits.
  std::array<std::uint32_t, 32> even{}, odd{};
  odd[0] = kPoly;
  for (std::size_t i = 1; i < 32; ++i) odd[i] = 1u << (i - 1);
  even = MatrixSquare(odd);  // 2 bits
  odd = MatrixSquare(even);  // 4 bits
  // Apply len2 zero bytes to crc1: the first squaring gives 8 bits (one byte).
  do {
    even = MatrixSquare(odd);
    if (len2 & 1u) crc1 = MatrixTimes(even, crc1);
    len2 >>= 1;
    if (len2 == 0) break;
    odd = MatrixSquare(even);
    if (len2 & 1u) crc1 = MatrixTimes(odd, crc1);
    len2 >>= 1;
  } while (len2 != 0);
  return crc1 ^ crc2;
}

std::string ToRaw(std::uint32_t crc) {
  std::string raw(4, '\0');
  for (int i = 0; i < 4; ++i)
    raw[static_cast<std::size_t>(i)] = static_cast<char>(crc >> (24 - 8 * i));
  return raw;
}

std::string ToBase64(std::uint32_t crc) { return digest::Base64Encode(ToRaw(crc)); }

std::optional<std::uint32_t> FromBase64(std::string_view b64) {
  std::string raw;
  if (b64.size() != 8 || !digest::Base64Decode(b64, &raw) || raw.size() != 4) return std::nullopt;
  std::uint32_t v = 0;
  for (unsigned char ch : raw) v = (v << 8) | ch;
  return v;
}

std::string CompositeBase64(const std::string& concatenated_raw_crcs, int parts) {
  return ToBase64(Crc32c(concatenated_raw_crcs)) + "-" + std::to_string(parts);
}

}  // namespace ferry::crc32c
