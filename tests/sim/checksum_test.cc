// x-amz-checksum-crc32c in the simulator, over real HTTP: validation on
// PutObject and UploadPart (BadDigest / InvalidRequest), the COMPOSITE and
// FULL_OBJECT checksums of completed multipart uploads, and what HEAD/GET
// return with x-amz-checksum-mode: ENABLED.
#include <gtest/gtest.h>

#include <regex>

#include "protocols/base/crc32c.h"
#include "protocols/s3/sigv4.h"
#include "sim/server.h"
#include "tests/sim/test_client.h"

namespace ferry::sim {
namespace {

using testing::RawResponse;
using testing::RequestSpec;
using testing::TestClient;

class ChecksumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SimConfig c;
    c.access_key = "AKID";
    c.secret_key = "SECRET";
    c.buckets = {"bkt"};
    c.min_part_size = 10;
    server_ = std::make_unique<Server>(c);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<TestClient>(server_->port(), "AKID", "SECRET");
  }

  RawResponse Put(const std::string& key, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers) {
    RequestSpec s;
    s.method = "PUT";
    s.path = "/bkt/" + key;
    s.body = body;
    s.headers = std::move(headers);
    return client_->Send(s);
  }
  RawResponse Head(const std::string& key, bool mode,
                   std::vector<std::pair<std::string, std::string>> query = {}) {
    RequestSpec s;
    s.method = "HEAD";
    s.path = "/bkt/" + key;
    s.query = std::move(query);
    if (mode) s.headers = {{"x-amz-checksum-mode", "ENABLED"}};
    return client_->Send(s);
  }
  std::string Create(const std::string& key,
                     std::vector<std::pair<std::string, std::string>> headers) {
    RequestSpec s;
    s.method = "POST";
    s.path = "/bkt/" + key;
    s.query = {{"uploads", ""}};
    s.headers = std::move(headers);
    RawResponse r = client_->Send(s);
    EXPECT_EQ(r.status, 200) << r.body;
    std::smatch m;
    std::regex re("<UploadId>([^<]+)</UploadId>");
    if (!std::regex_search(r.body, m, re)) return "";
    return m[1];
  }
  RawResponse Part(const std::string& key, const std::string& id, int n, const std::string& body,
                   std::vector<std::pair<std::string, std::string>> headers) {
    RequestSpec s;
    s.method = "PUT";
    s.path = "/bkt/" + key;
    s.query = {{"partNumber", std::to_string(n)}, {"uploadId", id}};
    s.body = body;
    s.headers = std::move(headers);
    return client_->Send(s);
  }
  RawResponse Complete(const std::string& key, const std::string& id, const std::string& xml,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    RequestSpec s;
    s.method = "POST";
    s.path = "/bkt/" + key;
    s.query = {{"uploadId", id}};
    s.body = xml;
    s.headers = std::move(headers);
    return client_->Send(s);
  }
  static std::string PartXml(int n, const std::string& etag, const std::string& crc) {
    std::string x =
        "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" + etag + "</ETag>";
    if (!crc.empty()) x += "<ChecksumCRC32C>" + crc + "</ChecksumCRC32C>";
    return x + "</Part>";
  }
  static std::string CompleteXml(const std::string& parts) {
    return "<CompleteMultipartUpload>" + parts + "</CompleteMultipartUpload>";
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<TestClient> client_;
};

TEST_F(ChecksumTest, PutObjectValidatesStoresAndReturnsTheChecksum) {
  const std::string good = crc32c::ToBase64(crc32c::Crc32c("hello world"));
  ASSERT_EQ(good, "yZRlqg==");
  RawResponse p = Put("k", "hello world", {{"x-amz-checksum-crc32c", good}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Header("x-amz-checksum-crc32c"), good);

  // Only with checksum mode, and never for a range.
  EXPECT_EQ(Head("k", false).Header("x-amz-checksum-crc32c"), "");
  RawResponse h = Head("k", true);
  EXPECT_EQ(h.Header("x-amz-checksum-crc32c"), good);
  EXPECT_EQ(h.Header("x-amz-checksum-type"), "FULL_OBJECT");
  RawResponse g = client_->Get("/bkt/k", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(g.Header("x-amz-checksum-crc32c"), good);
  RawResponse ranged =
      client_->Get("/bkt/k", {{"x-amz-checksum-mode", "ENABLED"}, {"range", "bytes=0-3"}});
  EXPECT_EQ(ranged.status, 206);
  EXPECT_EQ(ranged.Header("x-amz-checksum-crc32c"), "");

  // Wrong value: BadDigest, nothing stored. Malformed: InvalidRequest.
  RawResponse bad =
      Put("k2", "hello world", {{"x-amz-checksum-crc32c", crc32c::ToBase64(0x12345678u)}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Code(), "BadDigest");
  EXPECT_EQ(Head("k2", true).status, 404);
  RawResponse malformed = Put("k3", "hello world", {{"x-amz-checksum-crc32c", "not-b64!"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(malformed.Code(), "InvalidRequest");

  // An object written without a checksum has none.
  ASSERT_EQ(Put("plain", "x", {}).status, 200);
  EXPECT_EQ(Head("plain", true).Header("x-amz-checksum-crc32c"), "");
}

TEST_F(ChecksumTest, CompositeMultipartChecksum) {
  const std::string p1(64, 'a'), p2 = "tail";
  const std::uint32_t c1 = crc32c::Crc32c(p1), c2 = crc32c::Crc32c(p2);
  std::string id = Create("mp", {{"x-amz-checksum-algorithm", "CRC32C"}});
  ASSERT_FALSE(id.empty());
  // A wrong part checksum is refused; the right one accepted and echoed.
  RawResponse wrong = Part("mp", id, 1, p1, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c2)}});
  EXPECT_EQ(wrong.status, 400);
  EXPECT_EQ(wrong.Code(), "BadDigest");
  RawResponse r1 = Part("mp", id, 1, p1, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c1)}});
  ASSERT_EQ(r1.status, 200) << r1.body;
  EXPECT_EQ(r1.Header("x-amz-checksum-crc32c"), crc32c::ToBase64(c1));
  RawResponse r2 = Part("mp", id, 2, p2, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c2)}});
  ASSERT_EQ(r2.status, 200);

  // ListParts names each part's checksum.
  RequestSpec lp;
  lp.path = "/bkt/mp";
  lp.query = {{"uploadId", id}};
  RawResponse listed = client_->Send(lp);
  EXPECT_NE(listed.body.find("<ChecksumCRC32C>" + crc32c::ToBase64(c2) + "</ChecksumCRC32C>"),
            std::string::npos)
      << listed.body;

  // Completion must name every part's checksum, correctly.
  RawResponse missing = Complete("mp", id,
                                 CompleteXml(PartXml(1, r1.Header("etag"), crc32c::ToBase64(c1)) +
                                             PartXml(2, r2.Header("etag"), "")));
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.Code(), "InvalidRequest");
  RawResponse mismatched =
      Complete("mp", id,
               CompleteXml(PartXml(1, r1.Header("etag"), crc32c::ToBase64(c2)) +
                           PartXml(2, r2.Header("etag"), crc32c::ToBase64(c2))));
  EXPECT_EQ(mismatched.status, 400);
  EXPECT_EQ(mismatched.Code(), "InvalidPart");

  const std::string composite = crc32c::CompositeBase64(crc32c::ToRaw(c1) + crc32c::ToRaw(c2), 2);
  RawResponse done = Complete("mp", id,
                              CompleteXml(PartXml(1, r1.Header("etag"), crc32c::ToBase64(c1)) +
                                          PartXml(2, r2.Header("etag"), crc32c::ToBase64(c2))));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_NE(done.body.find("<ChecksumCRC32C>" + composite + "</ChecksumCRC32C>"), std::string::npos)
      << done.body;
  EXPECT_NE(done.body.find("<ChecksumType>COMPOSITE</ChecksumType>"), std::string::npos);

  RawResponse h = Head("mp", true);
  EXPECT_EQ(h.Header("x-amz-checksum-crc32c"), composite);
  EXPECT_EQ(h.Header("x-amz-checksum-type"), "COMPOSITE");
  // HEAD ?partNumber=2 gives that part's own checksum.
  RawResponse hp = Head("mp", true, {{"partNumber", "2"}});
  EXPECT_EQ(hp.status, 206);
  EXPECT_EQ(hp.Header("x-amz-checksum-crc32c"), crc32c::ToBase64(c2));
}

TEST_F(ChecksumTest, FullObjectMultipartChecksumCombinesTheParts) {
  const std::string p1(50, 'x'), p2(20, 'y');
  const std::uint32_t c1 = crc32c::Crc32c(p1), c2 = crc32c::Crc32c(p2);
  const std::string whole = crc32c::ToBase64(crc32c::Crc32c(p1 + p2));
  std::string id = Create(
      "full", {{"x-amz-checksum-algorithm", "crc32c"}, {"x-amz-checksum-type", "FULL_OBJECT"}});
  ASSERT_FALSE(id.empty());
  RawResponse r1 = Part("full", id, 1, p1, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c1)}});
  RawResponse r2 = Part("full", id, 2, p2, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c2)}});
  ASSERT_EQ(r1.status, 200);
  ASSERT_EQ(r2.status, 200);
  const std::string xml = CompleteXml(PartXml(1, r1.Header("etag"), crc32c::ToBase64(c1)) +
                                      PartXml(2, r2.Header("etag"), crc32c::ToBase64(c2)));
  // The whole-object value in the request must match what the parts add up to.
  RawResponse bad = Complete("full", id, xml, {{"x-amz-checksum-crc32c", crc32c::ToBase64(c1)}});
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Code(), "BadDigest");
  RawResponse done = Complete("full", id, xml, {{"x-amz-checksum-crc32c", whole}});
  ASSERT_EQ(done.status, 200) << done.body;
  RawResponse h = Head("full", true);
  EXPECT_EQ(h.Header("x-amz-checksum-crc32c"), whole);
  EXPECT_EQ(h.Header("x-amz-checksum-type"), "FULL_OBJECT");
}

TEST_F(ChecksumTest, ChecksumTypeAndAlgorithmMismatchesAreRefused) {
  // A CRC32C part for an upload created without a checksum algorithm.
  std::string id = Create("none", {});
  RawResponse p = Part("none", id, 1, "abc",
                       {{"x-amz-checksum-crc32c", crc32c::ToBase64(crc32c::Crc32c("abc"))}});
  EXPECT_EQ(p.status, 400);
  EXPECT_EQ(p.Code(), "InvalidRequest");
  // A checksum type without an algorithm, or an unknown type.
  RequestSpec s;
  s.method = "POST";
  s.path = "/bkt/t";
  s.query = {{"uploads", ""}};
  s.headers = {{"x-amz-checksum-type", "COMPOSITE"}};
  EXPECT_EQ(client_->Send(s).Code(), "InvalidRequest");
  s.headers = {{"x-amz-checksum-algorithm", "CRC32C"}, {"x-amz-checksum-type", "SOMETHING"}};
  EXPECT_EQ(client_->Send(s).Code(), "InvalidRequest");
}

}  // namespace
}  // namespace ferry::sim
