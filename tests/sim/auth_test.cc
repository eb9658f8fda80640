// SigV4 verification and aws-chunked decoding.
#include "sim/auth.h"

#include <gtest/gtest.h>

#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/chunked.h"

namespace ferry::sim {
namespace {

using std::chrono::system_clock;

const AuthConfig kCfg{"AKID", "SECRET", "us-east-1", std::chrono::minutes(15)};

SimRequest Signed(const std::string& secret, system_clock::time_point when,
                  const std::string& raw_path = "/bkt/a%20b%2Bc/%E2%82%AC",
                  const std::string& payload = std::string(s3::kEmptyPayloadSha256)) {
  SimRequest req;
  req.method = "PUT";
  req.raw_path = raw_path;
  req.raw_query = "partNumber=1&uploadId=x%2Fy";
  EXPECT_TRUE(ParseQuery(req).ok());
  s3::CanonicalInput in;
  in.method = req.method;
  in.path = raw_path;
  in.query = req.query;
  in.headers = {{"host", "127.0.0.1:9000"}, {"x-amz-meta-a", "  spaced   value "}};
  in.payload_hash = payload;
  s3::SignedHeaders sh = s3::Sign(in, "AKID", secret, "", when, s3::SigningOptions{});
  req.headers = {{"host", "127.0.0.1:9000"}, {"x-amz-meta-a", "  spaced   value "}};
  for (auto& [n, v] : sh.add) {
    std::string lower = n;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(lower, v);
  }
  return req;
}

std::string CodeOf(const Result<AuthContext>& r) { return r.ok() ? "OK" : r.status().error().code; }

TEST(AuthTest, AcceptsAValidSignature) {
  auto now = system_clock::now();
  auto r = Authenticate(Signed("SECRET", now), kCfg, now);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->mode, PayloadMode::kSigned);
}

TEST(AuthTest, RejectsWrongSecretUnknownKeyMissingAuthAndSkew) {
  auto now = system_clock::now();
  EXPECT_EQ(CodeOf(Authenticate(Signed("WRONG", now), kCfg, now)), "SignatureDoesNotMatch");
  AuthConfig other = kCfg;
  other.access_key = "OTHER";
  EXPECT_EQ(CodeOf(Authenticate(Signed("SECRET", now), other, now)), "InvalidAccessKeyId");
  SimRequest bare;
  bare.method = "GET";
  bare.raw_path = "/";
  EXPECT_EQ(CodeOf(Authenticate(bare, kCfg, now)), "AccessDenied");
  auto old = now - std::chrono::minutes(16);
  EXPECT_EQ(CodeOf(Authenticate(Signed("SECRET", old), kCfg, now)), "RequestTimeTooSkewed");
  AuthConfig eu = kCfg;
  eu.region = "eu-west-1";
  EXPECT_EQ(CodeOf(Authenticate(Signed("SECRET", now), eu, now)), "AuthorizationHeaderMalformed");
}

TEST(AuthTest, TamperedRequestFails) {
  auto now = system_clock::now();
  SimRequest req = Signed("SECRET", now);
  req.raw_path = "/bkt/a%20b%2Bd/%E2%82%AC";
  EXPECT_EQ(CodeOf(Authenticate(req, kCfg, now)), "SignatureDoesNotMatch");
  req = Signed("SECRET", now);
  req.headers[1].second = "other";
  EXPECT_EQ(CodeOf(Authenticate(req, kCfg, now)), "SignatureDoesNotMatch");
}

}  // namespace

// Encodes `chunks` as a signed aws-chunked body (also used by server_test).
std::string EncodeChunked(ChunkSigner s, const std::vector<std::string>& chunks) {
  std::string out;
  auto add = [&](const std::string& data) {
    std::string sig = AwsChunkedDecoder::ChunkSignature(s, digest::Sha256Hex(data));
    s.prev_signature = sig;
    char size[32];
    std::snprintf(size, sizeof size, "%zx", data.size());
    out += std::string(size) + ";chunk-signature=" + sig + "\r\n" + data + "\r\n";
  };
  for (const auto& c : chunks) add(c);
  add("");
  return out;
}

namespace {

TEST(ChunkedTest, DecodesAndVerifiesSignedChunksFedByteByByte) {
  ChunkSigner s{digest::Sha256("key"), "20240101T000000Z", "20240101/us-east-1/s3/aws4_request",
                std::string(64, 'a')};
  std::string body = EncodeChunked(s, {std::string(70000, 'x'), "tail\r\n"});
  AwsChunkedDecoder d(s);
  std::string out;
  for (char c : body) ASSERT_TRUE(d.Feed(std::string_view(&c, 1), &out).ok());
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, std::string(70000, 'x') + "tail\r\n");

  std::string bad = EncodeChunked(s, {"hello"});
  bad[bad.find("hello")] = 'j';
  AwsChunkedDecoder d2(s);
  Status st = d2.Feed(bad, &out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "SignatureDoesNotMatch");
}

TEST(ChunkedTest, UnsignedWithTrailer) {
  AwsChunkedDecoder d(std::nullopt);
  std::string out;
  ASSERT_TRUE(d.Feed("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n", &out).ok());
  EXPECT_TRUE(d.done());
  EXPECT_EQ(out, "hello");
  AwsChunkedDecoder bad(std::nullopt);
  EXPECT_FALSE(bad.Feed("zz\r\n", &out).ok());
}

}  // namespace
}  // namespace ferry::sim
