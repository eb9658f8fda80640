// CRC-32C against published vectors (RFC 3720 B.4, the CRC catalogue check
// value), hardware == software, and combination == the CRC of the whole.
#include "protocols/base/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace ferry::crc32c {
namespace {

std::string Random(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(Crc32cTest, Rfc3720Vectors) {
  std::string ascending(32, '\0'), descending(32, '\0');
  for (int i = 0; i < 32; ++i) {
    ascending[static_cast<std::size_t>(i)] = static_cast<char>(i);
    descending[static_cast<std::size_t>(i)] = static_cast<char>(31 - i);
  }
  for (auto fn : {&ExtendSoftware, &ExtendHardware, &Extend}) {
    EXPECT_EQ(fn(0, std::string(32, '\0')), 0x8A9136AAu);
    EXPECT_EQ(fn(0, std::string(32, '\xFF')), 0x62A8AB43u);
    EXPECT_EQ(fn(0, ascending), 0x46DD794Eu);
    EXPECT_EQ(fn(0, descending), 0x113FDB5Cu);
    EXPECT_EQ(fn(0, "123456789"), 0xE3069283u);
    EXPECT_EQ(fn(0, ""), 0u);
  }
}

TEST(Crc32cTest, HardwareEqualsSoftwareAtEveryLengthAndAlignment) {
  const std::string data = Random(4096 + 17, 1);
  for (std::size_t off = 0; off < 9; ++off) {
    for (std::size_t len : {0, 1, 7, 8, 9, 15, 16, 63, 64, 65, 1000, 4096}) {
      std::string_view v(data.data() + off, len);
      ASSERT_EQ(ExtendHardware(0, v), ExtendSoftware(0, v)) << off << "/" << len;
      ASSERT_EQ(ExtendHardware(0x12345678u, v), ExtendSoftware(0x12345678u, v));
    }
  }
}

TEST(Crc32cTest, ExtendContinuesAStream) {
  const std::string data = Random(100000, 2);
  std::uint32_t crc = 0;
  for (std::size_t i = 0; i < data.size(); i += 777) {
    crc = Extend(crc, std::string_view(data).substr(i, 777));
  }
  EXPECT_EQ(crc, Crc32c(data));
}

TEST(Crc32cTest, CombineEqualsWholeForRandomSplits) {
  std::mt19937 rng(3);
  const std::string data = Random(300000, 4);
  for (int round = 0; round < 200; ++round) {
    std::size_t cut = rng() % (data.size() + 1);
    std::string_view a(data.data(), cut), b(data.data() + cut, data.size() - cut);
    ASSERT_EQ(Crc32cCombine(Crc32c(a), Crc32c(b), b.size()), Crc32c(data)) << cut;
  }
  // Many parts folded left to right, as the copier does.
  std::uint32_t acc = 0;
  for (std::size_t i = 0; i < data.size(); i += 65536) {
    std::string_view part = std::string_view(data).substr(i, 65536);
    acc = Crc32cCombine(acc, Crc32c(part), part.size());
  }
  EXPECT_EQ(acc, Crc32c(data));
  // Lengths past 4 GiB: 5 GiB of zeros after "abc", combined at once, equals
  // appending the zeros 1 MiB at a time (both from the 1 MiB CRC).
  const std::uint64_t mib = 1ull << 20, big = 5ull << 30;
  const std::uint32_t zeros_mib = Crc32c(std::string(mib, '\0'));
  std::uint32_t zeros = 0, stepwise = Crc32c("abc");
  for (std::uint64_t done = 0; done < big; done += mib) {
    zeros = Crc32cCombine(zeros, zeros_mib, mib);
    stepwise = Crc32cCombine(stepwise, zeros_mib, mib);
  }
  EXPECT_EQ(Crc32cCombine(Crc32c("abc"), zeros, big), stepwise);
  EXPECT_EQ(Crc32cCombine(0x1234u, 0x5678u, 0), 0x1234u);
}

TEST(Crc32cTest, Base64AsS3SendsIt) {
  EXPECT_EQ(ToBase64(Crc32c("hello world")), "yZRlqg==");
  EXPECT_EQ(ToRaw(0x0A0B0C0Du), std::string("\x0A\x0B\x0C\x0D", 4));
  EXPECT_EQ(FromBase64("yZRlqg=="), Crc32c("hello world"));
  EXPECT_EQ(FromBase64("yZRlqg="), std::nullopt);
  EXPECT_EQ(FromBase64("yZRlqg!="), std::nullopt);
  EXPECT_EQ(FromBase64("AAAAAAAA"), std::nullopt);  // 6 bytes
  EXPECT_EQ(FromBase64(""), std::nullopt);
}

TEST(Crc32cTest, CompositeIsTheCrcOfThePartCrcs) {
  const std::string p1 = Random(5000, 5), p2 = Random(300, 6);
  std::string raw = ToRaw(Crc32c(p1)) + ToRaw(Crc32c(p2));
  EXPECT_EQ(CompositeBase64(raw, 2), ToBase64(Crc32c(raw)) + "-2");
  EXPECT_NE(CompositeBase64(raw, 2), ToBase64(Crc32c(p1 + p2)) + "-2");
}

}  // namespace
}  // namespace ferry::crc32c
