// The scanner itself: each kind of secret is found in each spelling, clean
// text is clean, and the report masks what it found.
#include "tests/security/secret_scan.h"

#include <gtest/gtest.h>

namespace ferry::security {
namespace {

constexpr char kSecret[] = "abc/DEF+ghi0123456789";
const std::string kSig(64, 'c');

SecretScanner Scanner() {
  SecretScanner s;
  s.AddSecret("secret key", kSecret);
  s.AddSignature(kSig);
  return s;
}

TEST(SecretScan, CleanTextIsClean) {
  const std::string text =
      "2026-01-01 info copied backups/b1/b1.tar.gz etag \"0123456789abcdef0123456789abcdef-2\" "
      "sha256 " + std::string(64, 'd') + " access key AKIAEXAMPLE (session token: yes) ***";
  EXPECT_TRUE(Scanner().Scan("clean", text).empty()) << Describe(Scanner().Scan("clean", text));
}

TEST(SecretScan, FindsTheSecretInEverySpelling) {
  for (const std::string& s : Spellings(kSecret)) {
    auto leaks = Scanner().Scan("t", "x=" + s + ";");
    ASSERT_EQ(leaks.size(), 1u) << s;
    EXPECT_EQ(leaks[0].what, "secret key");
    EXPECT_EQ(leaks[0].context.find(kSecret), std::string::npos) << "the report repeats it";
  }
  EXPECT_EQ(Spellings(kSecret).size(), 4u);  // raw, %XX, %xx, JSON \/
}

TEST(SecretScan, FindsSignatures) {
  SecretScanner s = Scanner();
  EXPECT_EQ(s.Scan("t", "got " + kSig + ".").size(), 1u);
  EXPECT_EQ(s.Scan("t", "got " + std::string(64, 'C') + ".").size(), 1u);  // case
  EXPECT_TRUE(s.Scan("t", "got " + kSig + "0").empty());                  // 65 hex: not it
  // Signature-shaped text is a leak whatever its value.
  const std::string other(64, 'e');
  EXPECT_EQ(s.Scan("t", "Signature=" + other).size(), 1u);
  EXPECT_EQ(s.Scan("t", "?X-Amz-Signature=" + other).size(), 1u);
  EXPECT_EQ(s.Scan("t", "10000;chunk-signature=" + other).size(), 1u);
  EXPECT_EQ(s.Scan("t", R"({"signature": ")" + other + "\"}").size(), 1u);
}

TEST(SecretScan, FindsAuthorizationHeaders) {
  EXPECT_EQ(Scanner().Scan("t", "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/s3/aws4_request").size(), 1u);
}

TEST(SecretScan, RefusesShortOrMalformedNeedles) {
  SecretScanner s;
  EXPECT_THROW(s.AddSecret("short", "abc"), std::invalid_argument);
  EXPECT_THROW(s.AddSignature("xyz"), std::invalid_argument);
}

}  // namespace
}  // namespace ferry::security
