// Server-side encryption in s3sim (sim/encryption.h): per-object SSE headers
// and a bucket's default KMS encryption give opaque (non-MD5) ETags and come
// back in every answer; SSE-S3 keeps MD5 ETags; SSE-C keys are validated and
// needed to read; CopyObject and UploadPartCopy honour
// x-amz-copy-source-if-match with 412.
#include <gtest/gtest.h>

#include "protocols/base/digest.h"
#include "sim/admin_client.h"
#include "sim/server.h"
#include "tests/sim/test_client.h"

namespace ferry::sim {
namespace {

using testing::RawResponse;
using testing::RequestSpec;
using testing::TestClient;

constexpr char kSse[] = "x-amz-server-side-encryption";
constexpr char kCustAlg[] = "x-amz-server-side-encryption-customer-algorithm";
constexpr char kCustKey[] = "x-amz-server-side-encryption-customer-key";
constexpr char kCustMd5[] = "x-amz-server-side-encryption-customer-key-md5";

std::string Md5Etag(const std::string& data) {
  return "\"" + digest::ToHex(digest::Md5(data)) + "\"";
}

class EncryptionTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> bucket_encryption = {}) {
    SimConfig c;
    c.access_key = "AKID";
    c.secret_key = "SECRET";
    c.buckets = {"plain", "kms"};
    c.min_part_size = 10;
    c.bucket_encryption = std::move(bucket_encryption);
    server_ = std::make_unique<Server>(c);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<TestClient>(server_->port(), "AKID", "SECRET");
    admin_ = std::make_unique<AdminClient>("127.0.0.1", server_->port());
  }
  RawResponse Put(const std::string& path, const std::string& body,
                  std::vector<std::pair<std::string, std::string>> headers = {}) {
    RequestSpec s;
    s.method = "PUT";
    s.path = path;
    s.body = body;
    s.headers = std::move(headers);
    return client_->Send(s);
  }
  RawResponse Head(const std::string& path,
                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    RequestSpec s;
    s.method = "HEAD";
    s.path = path;
    s.headers = std::move(headers);
    return client_->Send(s);
  }
  // A two-part upload of `a` + `b`; returns the Complete answer.
  RawResponse Multipart(const std::string& path, const std::string& a, const std::string& b,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
    RequestSpec create;
    create.method = "POST";
    create.path = path;
    create.query = {{"uploads", ""}};
    create.headers = headers;
    RawResponse c = client_->Send(create);
    EXPECT_EQ(c.status, 200) << c.body;
    created_ = c;
    auto at = c.body.find("<UploadId>");
    auto end = c.body.find("</UploadId>");
    const std::string id = c.body.substr(at + 10, end - at - 10);
    std::string xml = "<CompleteMultipartUpload>";
    int n = 0;
    for (const std::string* part : {&a, &b}) {
      ++n;
      RequestSpec up;
      up.method = "PUT";
      up.path = path;
      up.query = {{"partNumber", std::to_string(n)}, {"uploadId", id}};
      up.body = *part;
      RawResponse u = client_->Send(up);
      EXPECT_EQ(u.status, 200) << u.body;
      part_answers_.push_back(u);
      xml += "<Part><PartNumber>" + std::to_string(n) + "</PartNumber><ETag>" +
             u.Header("etag") + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    RequestSpec done;
    done.method = "POST";
    done.path = path;
    done.query = {{"uploadId", id}};
    done.body = xml;
    return client_->Send(done);
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<TestClient> client_;
  std::unique_ptr<AdminClient> admin_;
  RawResponse created_;
  std::vector<RawResponse> part_answers_;
};

TEST_F(EncryptionTest, KmsObjectsGetOpaqueEtagsAndSayHowTheyAreEncrypted) {
  Start();
  const std::string data = "some bytes under KMS";
  RawResponse p = Put("/plain/k1", data, {{kSse, "aws:kms"}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Header(kSse), "aws:kms");
  EXPECT_FALSE(p.Header("x-amz-server-side-encryption-aws-kms-key-id").empty());
  const std::string etag = p.Header("etag");
  EXPECT_EQ(etag.size(), 34u);  // 32 hex digits, quoted
  EXPECT_NE(etag, Md5Etag(data));
  // Another write of the same bytes gets another ETag.
  RawResponse p2 = Put("/plain/k2", data, {{kSse, "aws:kms:dsse"}});
  ASSERT_EQ(p2.status, 200);
  EXPECT_EQ(p2.Header(kSse), "aws:kms:dsse");
  EXPECT_NE(p2.Header("etag"), etag);
  EXPECT_NE(p2.Header("etag"), Md5Etag(data));

  RawResponse h = Head("/plain/k1");
  ASSERT_EQ(h.status, 200);
  EXPECT_EQ(h.Header(kSse), "aws:kms");
  EXPECT_EQ(h.Header("etag"), etag);
  RawResponse g = client_->Get("/plain/k1");
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body, data);
  EXPECT_EQ(g.Header(kSse), "aws:kms");

  // SSE-S3 keeps MD5 ETags.
  RawResponse s3 = Put("/plain/k3", data, {{kSse, "AES256"}});
  ASSERT_EQ(s3.status, 200);
  EXPECT_EQ(s3.Header("etag"), Md5Etag(data));
  EXPECT_EQ(s3.Header(kSse), "AES256");
  // Unknown algorithms and a KMS key without aws:kms are refused.
  EXPECT_EQ(Put("/plain/k4", data, {{kSse, "rot13"}}).status, 400);
  RawResponse bad_key = Put("/plain/k4", data,
                            {{kSse, "AES256"}, {"x-amz-server-side-encryption-aws-kms-key-id", "k"}});
  EXPECT_EQ(bad_key.status, 400);
  EXPECT_EQ(bad_key.Code(), "InvalidArgument");
}

TEST_F(EncryptionTest, BucketDefaultKmsAppliesToPutsMultipartAndCopies) {
  Start({"kms=aws:kms"});
  const std::string data = "default-encrypted bytes";
  RawResponse p = Put("/kms/a", data);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Header(kSse), "aws:kms");
  EXPECT_NE(p.Header("etag"), Md5Etag(data));
  // An object's own setting wins over the bucket's.
  RawResponse own = Put("/kms/b", data, {{kSse, "AES256"}});
  EXPECT_EQ(own.Header("etag"), Md5Etag(data));

  // Multipart: every answer says aws:kms, parts and object get opaque ETags
  // and the object's still ends in "-2".
  const std::string a(20, 'a'), b = "tail";
  RawResponse done = Multipart("/kms/mp", a, b);
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(created_.Header(kSse), "aws:kms");
  ASSERT_EQ(part_answers_.size(), 2u);
  EXPECT_EQ(part_answers_[0].Header(kSse), "aws:kms");
  EXPECT_NE(part_answers_[0].Header("etag"), Md5Etag(a));
  EXPECT_EQ(done.Header(kSse), "aws:kms");
  RawResponse h = Head("/kms/mp");
  ASSERT_EQ(h.status, 200);
  const std::string mp_etag = h.Header("etag");
  EXPECT_NE(mp_etag.find("-2\""), std::string::npos) << mp_etag;
  std::string md5s = digest::Md5(a) + digest::Md5(b);
  EXPECT_NE(mp_etag, "\"" + digest::ToHex(digest::Md5(md5s)) + "-2\"");
  EXPECT_EQ(client_->Get("/kms/mp").body, a + b);

  // A copy into the KMS bucket is encrypted there; a copy out of it into a
  // plain bucket gets the MD5 of its bytes.
  RequestSpec copy;
  copy.method = "PUT";
  copy.path = "/plain/from-kms";
  copy.headers = {{"x-amz-copy-source", "/kms/a"}};
  RawResponse out = client_->Send(copy);
  ASSERT_EQ(out.status, 200) << out.body;
  EXPECT_EQ(out.Header(kSse), "");
  EXPECT_EQ(Head("/plain/from-kms").Header("etag"), Md5Etag(data));
  ASSERT_EQ(Put("/plain/c", data).status, 200);
  copy.path = "/kms/into";
  copy.headers = {{"x-amz-copy-source", "/plain/c"}};
  RawResponse in = client_->Send(copy);
  ASSERT_EQ(in.status, 200) << in.body;
  EXPECT_EQ(in.Header(kSse), "aws:kms");
  EXPECT_NE(Head("/kms/into").Header("etag"), Md5Etag(data));
}

TEST_F(EncryptionTest, AdminSetsAndClearsTheBucketDefault) {
  Start();
  ASSERT_TRUE(admin_->SetBucketEncryption("plain", "aws:kms:dsse").ok());
  EXPECT_EQ(Put("/plain/x", "x").Header(kSse), "aws:kms:dsse");
  ASSERT_TRUE(admin_->SetBucketEncryption("plain", "").ok());
  EXPECT_EQ(Put("/plain/y", "y").Header(kSse), "");
  EXPECT_EQ(Put("/plain/y", "y").Header("etag"), Md5Etag("y"));
  EXPECT_FALSE(admin_->SetBucketEncryption("plain", "rot13").ok());
  EXPECT_FALSE(admin_->SetBucketEncryption("no-such-bucket", "aws:kms").ok());
}

TEST(EncryptionConfigTest, BadBucketEncryptionFlagsAreRefused) {
  for (const char* spec : {"kms", "=aws:kms", "kms=rot13", "missing=aws:kms"}) {
    SimConfig c;
    c.access_key = "AKID";
    c.secret_key = "SECRET";
    c.buckets = {"kms"};
    c.bucket_encryption = {spec};
    Server server(c);
    EXPECT_FALSE(server.Start().ok()) << spec;
  }
}

TEST_F(EncryptionTest, CustomerKeysAreCheckedAndNeededToRead) {
  Start();
  const std::string key(32, 'k');
  const std::string key_b64 = digest::Base64Encode(key);
  const std::string md5_b64 = digest::Base64Encode(digest::Md5(key));
  const std::vector<std::pair<std::string, std::string>> with_key = {
      {kCustAlg, "AES256"}, {kCustKey, key_b64}, {kCustMd5, md5_b64}};
  const std::string data = "customer-keyed bytes";
  RawResponse p = Put("/plain/c", data, with_key);
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.Header(kCustAlg), "AES256");
  EXPECT_EQ(p.Header(kCustMd5), md5_b64);
  EXPECT_NE(p.Header("etag"), Md5Etag(data));

  // Reading needs the key: 400 without, 403 with another.
  EXPECT_EQ(Head("/plain/c").status, 400);
  EXPECT_EQ(client_->Get("/plain/c").Code(), "InvalidRequest");
  const std::string other(32, 'o');
  EXPECT_EQ(client_->Get("/plain/c", {{kCustAlg, "AES256"},
                                      {kCustKey, digest::Base64Encode(other)},
                                      {kCustMd5, digest::Base64Encode(digest::Md5(other))}})
                .status,
            403);
  RawResponse g = client_->Get("/plain/c", with_key);
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body, data);
  EXPECT_EQ(g.Header(kCustAlg), "AES256");

  // Invalid keys are refused as AWS does.
  RawResponse wrong_md5 = Put("/plain/d", data,
                              {{kCustAlg, "AES256"}, {kCustKey, key_b64}, {kCustMd5, "AAAA"}});
  EXPECT_EQ(wrong_md5.status, 400);
  EXPECT_EQ(wrong_md5.Code(), "InvalidArgument");
  RawResponse short_key = Put("/plain/d", data,
                              {{kCustAlg, "AES256"}, {kCustKey, digest::Base64Encode("short")}});
  EXPECT_EQ(short_key.status, 400);
  RawResponse bad_alg = Put("/plain/d", data, {{kCustAlg, "DES"}, {kCustKey, key_b64}});
  EXPECT_EQ(bad_alg.Code(), "InvalidEncryptionAlgorithmError");
  RawResponse both = Put("/plain/d", data, {{kSse, "aws:kms"}, {kCustAlg, "AES256"},
                                            {kCustKey, key_b64}, {kCustMd5, md5_b64}});
  EXPECT_EQ(both.status, 400);

  // As a copy source it needs the key in the copy-source headers.
  RequestSpec copy;
  copy.method = "PUT";
  copy.path = "/plain/copied";
  copy.headers = {{"x-amz-copy-source", "/plain/c"}};
  EXPECT_EQ(client_->Send(copy).status, 400);
  copy.headers.insert(copy.headers.end(),
                      {{"x-amz-copy-source-server-side-encryption-customer-algorithm", "AES256"},
                       {"x-amz-copy-source-server-side-encryption-customer-key", key_b64},
                       {"x-amz-copy-source-server-side-encryption-customer-key-md5", md5_b64}});
  RawResponse copied = client_->Send(copy);
  ASSERT_EQ(copied.status, 200) << copied.body;
  EXPECT_EQ(client_->Get("/plain/copied").body, data);  // stored unencrypted now
}

TEST_F(EncryptionTest, CopySourceIfMatchIsHonouredWith412) {
  Start({"kms=aws:kms"});
  RawResponse p = Put("/kms/src", std::string(30, 's'));
  ASSERT_EQ(p.status, 200);
  RequestSpec copy;
  copy.method = "PUT";
  copy.path = "/kms/dst";
  copy.headers = {{"x-amz-copy-source", "/kms/src"},
                  {"x-amz-copy-source-if-match", "\"0123456789abcdef0123456789abcdef\""}};
  RawResponse stale = client_->Send(copy);
  EXPECT_EQ(stale.status, 412);
  EXPECT_EQ(stale.Code(), "PreconditionFailed");
  EXPECT_EQ(Head("/kms/dst").status, 404);
  copy.headers[1].second = p.Header("etag");
  EXPECT_EQ(client_->Send(copy).status, 200);

  // UploadPartCopy too.
  RequestSpec create;
  create.method = "POST";
  create.path = "/kms/parts";
  create.query = {{"uploads", ""}};
  RawResponse c = client_->Send(create);
  auto at = c.body.find("<UploadId>");
  const std::string id = c.body.substr(at + 10, c.body.find("</UploadId>") - at - 10);
  RequestSpec part;
  part.method = "PUT";
  part.path = "/kms/parts";
  part.query = {{"partNumber", "1"}, {"uploadId", id}};
  part.headers = {{"x-amz-copy-source", "/kms/src"},
                  {"x-amz-copy-source-if-match", "\"0123456789abcdef0123456789abcdef\""}};
  EXPECT_EQ(client_->Send(part).status, 412);
  part.headers[1].second = p.Header("etag");
  RawResponse ok = client_->Send(part);
  EXPECT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Header(kSse), "aws:kms");
}

}  // namespace
}  // namespace ferry::sim
