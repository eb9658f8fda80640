#include "protocols/base/digest.h"

#include <gtest/gtest.h>

namespace ferry::digest {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(ToHex(Md5("")), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(HmacSha256("key", "The quick brown fox jumps over the lazy dog")),
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
  Hasher h(Hasher::Kind::kMd5);
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(ToHex(h.Finish()), "900150983cd24fb0d6963f7d28e17f72");
  h.Update("");
  EXPECT_EQ(ToHex(h.Finish()), "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(DigestTest, HexAndBase64RoundTrip) {
  std::string out;
  for (std::string s : {std::string(""), std::string("f"), std::string("fo"), std::string("foo"),
                        std::string("\x00\xff\x10", 3)}) {
    ASSERT_TRUE(FromHex(ToHex(s), &out));
    EXPECT_EQ(out, s);
    ASSERT_TRUE(Base64Decode(Base64Encode(s), &out));
    EXPECT_EQ(out, s);
  }
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_FALSE(FromHex("abc", &out));
  EXPECT_FALSE(FromHex("zz", &out));
  EXPECT_FALSE(Base64Decode("abc", &out));
}

}  // namespace
}  // namespace ferry::digest
