// Durations, sizes and the value checks behind the config parser.
#include <gtest/gtest.h>

#include "engine/config/checks.h"
#include "engine/config/config.h"

namespace ferry::config {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(Duration, ParsesUnitsAndSums) {
  EXPECT_EQ(ParseDuration("250ms"), milliseconds(250));
  EXPECT_EQ(ParseDuration("90s"), seconds(90));
  EXPECT_EQ(ParseDuration("15m"), minutes(15));
  EXPECT_EQ(ParseDuration("24h"), hours(24));
  EXPECT_EQ(ParseDuration("1h30m"), minutes(90));
  EXPECT_EQ(ParseDuration("1m30s500ms"), milliseconds(90'500));
  EXPECT_EQ(ParseDuration("0"), milliseconds(0));
  EXPECT_EQ(ParseDuration("0s"), milliseconds(0));
}

TEST(Duration, RejectsWhatItCannotReadExactly) {
  for (const char* bad : {"", "15", "1.5h", "15 m", " 15m", "15M", "15min", "h", "-5s", "1d",
                          "99999999999999999999h", "1000000000h", "5s ", "ms"}) {
    EXPECT_FALSE(ParseDuration(bad).has_value()) << bad;
  }
}

TEST(Duration, FormatsCanonicallyAndRoundTrips) {
  EXPECT_EQ(FormatDuration(milliseconds(0)), "0s");
  EXPECT_EQ(FormatDuration(milliseconds(250)), "250ms");
  EXPECT_EQ(FormatDuration(minutes(90)), "1h30m");
  EXPECT_EQ(FormatDuration(hours(24)), "24h");
  EXPECT_EQ(FormatDuration(milliseconds(3'723'004)), "1h2m3s4ms");
  for (auto d : {milliseconds(1), milliseconds(59'999), milliseconds(86'400'000),
                 milliseconds(123'456'789)}) {
    EXPECT_EQ(ParseDuration(FormatDuration(d)), d);
  }
}

TEST(Size, ParsesBinaryDecimalAndBytes) {
  EXPECT_EQ(ParseSize("16MiB"), 16ull << 20);
  EXPECT_EQ(ParseSize("1GiB"), 1ull << 30);
  EXPECT_EQ(ParseSize("512KiB"), 512ull << 10);
  EXPECT_EQ(ParseSize("2TiB"), 2ull << 40);
  EXPECT_EQ(ParseSize("5MB"), 5'000'000u);
  EXPECT_EQ(ParseSize("5kB"), 5'000u);
  EXPECT_EQ(ParseSize("1GB"), 1'000'000'000u);
  EXPECT_EQ(ParseSize("16777216"), 16ull << 20);
  EXPECT_EQ(ParseSize("10B"), 10u);
  EXPECT_EQ(ParseSize("0"), 0u);
}

TEST(Size, RejectsUnknownUnitsAndOverflow) {
  for (const char* bad : {"", "MiB", "16 MiB", "16mib", "16M", "1.5GiB", "-1", "16MiBs",
                          "99999999999999999999", "20000000TiB"}) {
    EXPECT_FALSE(ParseSize(bad).has_value()) << bad;
  }
}

TEST(Size, FormatsExactBinaryUnitsElseBytes) {
  EXPECT_EQ(FormatSize(16ull << 20), "16MiB");
  EXPECT_EQ(FormatSize(5ull << 30), "5GiB");
  EXPECT_EQ(FormatSize(1536ull << 10), "1536KiB");
  EXPECT_EQ(FormatSize(5'000'000), "5000000");
  EXPECT_EQ(FormatSize(0), "0");
  EXPECT_EQ(ParseSize(FormatSize(5'000'000)), 5'000'000u);
}

TEST(Checks, BucketNamesFollowS3Rules) {
  using internal::CheckBucketName;
  for (const char* good : {"abc", "velero-backups", "my.bucket.1", "0ab",
                           "a23456789012345678901234567890123456789012345678901234567890123"}) {
    EXPECT_EQ(CheckBucketName(good), "") << good;
  }
  for (const char* bad : {"ab", "Velero", "my_bucket", "-abc", "abc-", "a..b", "192.168.1.2",
                          "xn--abc", "abc-s3alias", "with space",
                          "a234567890123456789012345678901234567890123456789012345678901234"}) {
    EXPECT_NE(CheckBucketName(bad), "") << bad;
  }
}

TEST(Checks, PrefixesAreUtf8UpToTheKeyLimit) {
  using internal::CheckPrefix;
  EXPECT_EQ(CheckPrefix(""), "");
  EXPECT_EQ(CheckPrefix("backups/ü ~+%?#//../ "), "");
  EXPECT_EQ(CheckPrefix(std::string(1024, 'a')), "");
  EXPECT_NE(CheckPrefix(std::string(1025, 'a')), "");
  EXPECT_NE(CheckPrefix("bad\xff"), "");
  EXPECT_NE(CheckPrefix("\xc0\xaf"), "");           // overlong '/'
  EXPECT_NE(CheckPrefix("\xed\xa0\x80"), "");       // surrogate
  EXPECT_NE(CheckPrefix("cut\xe2\x82"), "");        // truncated sequence
  EXPECT_EQ(CheckPrefix("\xf0\x9f\x98\x80/"), "");  // emoji
}

TEST(Checks, EndpointUrls) {
  EndpointUrl u;
  std::string why;
  ASSERT_TRUE(internal::ParseEndpointUrl("https://S3.EU-West-1.amazonaws.com", &u, &why));
  EXPECT_TRUE(u.https);
  EXPECT_EQ(u.host, "s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.base_path, "");
  ASSERT_TRUE(internal::ParseEndpointUrl("http://127.0.0.1:9000/base/", &u, &why));
  EXPECT_FALSE(u.https);
  EXPECT_EQ(u.port, 9000);
  EXPECT_EQ(u.base_path, "/base");
  ASSERT_TRUE(internal::ParseEndpointUrl("http://[::1]:9000", &u, &why));
  EXPECT_EQ(u.host, "::1");
  for (const char* bad : {"ftp://host", "host:9000", "https://", "https://:9000", "https://host:0",
                          "https://host:65536", "https://host:x", "https://h?x=1", "https://h#f",
                          "https://user:pw@host", "https://a b", "http://::1:9000", "http://[::1",
                          "https://h/p\xc3\xbc", "https://h/a b"}) {
    EXPECT_FALSE(internal::ParseEndpointUrl(bad, &u, &why)) << bad;
    EXPECT_FALSE(why.empty());
  }
  EXPECT_FALSE(internal::ParseEndpointUrl("https://AKIA:SECRET@host", &u, &why));
  EXPECT_EQ(why.find("SECRET"), std::string::npos);
}

TEST(Checks, SuggestFindsCloseNamesOnly) {
  using internal::Suggest;
  std::vector<std::string_view> keys = {"region", "url", "credentials", "max_connections"};
  EXPECT_EQ(Suggest("regoin", keys), "region");
  EXPECT_EQ(Suggest("credential", keys), "credentials");
  EXPECT_EQ(Suggest("max_conections", keys), "max_connections");
  EXPECT_EQ(Suggest("URL", keys), "url");
  EXPECT_EQ(Suggest("banana", keys), "");
  EXPECT_EQ(Suggest("", keys), "");
}

TEST(Checks, QuoteEscapesControlCharactersAndCuts) {
  using internal::Quote;
  EXPECT_EQ(Quote("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\x01\"");
  EXPECT_EQ(Quote("abcdef", 3), "\"abc...\"");
  EXPECT_EQ(Quote("ü"), "\"ü\"");
  EXPECT_EQ(Quote("\xc3\xbc\xc3\xbc", 3), "\"\xc3\xbc...\"");  // never half a character
}

}  // namespace
}  // namespace ferry::config
