// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum S3
// stores as x-amz-checksum-crc32c.
//
// Crc32c() uses the SSE4.2 crc32 instruction when the CPU has it (checked
// once at run time) and a slicing-by-8 table otherwise; both give the same
// values. Crc32cCombine() joins the CRCs of two adjacent pieces without their
// bytes, so per-part CRCs computed on a stream add up to the whole object's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::crc32c {

// CRC-32C of `data` continuing from `crc` (0 for a fresh start): Extend(Extend(0, a), b)
// == Crc32c(a + b).
std::uint32_t Extend(std::uint32_t crc, std::string_view data);
inline std::uint32_t Crc32c(std::string_view data) { return Extend(0, data); }

// The two implementations, for tests and benches. Hardware() REQUIRES HasHardware().
std::uint32_t ExtendSoftware(std::uint32_t crc, std::string_view data);
std::uint32_t ExtendHardware(std::uint32_t crc, std::string_view data);
bool HasHardware();

// CRC of A+B from crc1 = CRC(A), crc2 = CRC(B) and len2 = |B| (GF(2) matrix
// method; O(log len2)).
std::uint32_t Crc32cCombine(std::uint32_t crc1, std::uint32_t crc2, std::uint64_t len2);

// The 4 bytes, big-endian, as S3 puts them in x-amz-checksum-crc32c: base64
// of the raw value ("yZRlqg==" for "hello world").
std::string ToBase64(std::uint32_t crc);
std::string ToRaw(std::uint32_t crc);  // 4 bytes, big-endian
// Parses the base64 form; nullopt when it is not 4 bytes of base64.
std::optional<std::uint32_t> FromBase64(std::string_view b64);

// S3's COMPOSITE checksum of a multipart object: base64(CRC32C of the
// concatenated raw part CRCs) + "-" + number of parts.
std::string CompositeBase64(const std::string& concatenated_raw_crcs, int parts);

}  // namespace ferry::crc32c
