// The exact wire form of each S3 operation (target, headers, signature) and
// the object information read back from answer headers.
#include "protocols/s3/request_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "protocols/base/digest.h"
#include "protocols/s3/headers.h"
#include "protocols/s3/sigv4.h"

namespace ferry::s3 {
namespace {

using boost::beast::http::verb;

RequestContext PathCtx() {
  RequestContext ctx;
  ctx.host_header = "127.0.0.1:9000";
  ctx.bucket = "velero";
  ctx.region = "eu-west-1";
  return ctx;
}

RequestContext VirtualCtx() {
  RequestContext ctx = PathCtx();
  ctx.host_header = "velero.s3.eu-west-1.amazonaws.com";
  ctx.addressing = Addressing::kVirtualHosted;
  return ctx;
}

std::chrono::system_clock::time_point Now() { return *ParseAmzDate("20240102T030405Z"); }

const Credentials kCreds{"AKIDEXAMPLE", "SECRETKEY", ""};

std::string Header(const http::Request& r, std::string_view name) {
  auto v = http::FindHeader(r.headers, name);
  return v ? std::string(*v) : std::string("<none>");
}

// Verifies the signature the way a server does: from the wire target and
// the signed headers only.
void ExpectVerifies(const RequestContext& ctx, const http::Request& r,
                    const Credentials& creds = kCreds) {
  auto auth = ParseAuthorization(Header(r, "Authorization"));
  ASSERT_TRUE(auth.ok()) << auth.status().ToString();
  CanonicalInput in;
  in.method = std::string(boost::beast::http::to_string(r.method));
  std::string target = ctx.base_path + r.target;
  std::size_t q = target.find('?');
  in.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string_view rest = std::string_view(target).substr(q + 1);
    while (!rest.empty()) {
      std::size_t amp = rest.find('&');
      std::string_view pair = rest.substr(0, amp);
      std::size_t eq = pair.find('=');
      auto name = UriDecode(pair.substr(0, eq));
      auto value = UriDecode(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
      ASSERT_TRUE(name.ok() && value.ok());
      in.query.emplace_back(*name, *value);
      rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    }
  }
  for (const auto& name : auth->signed_headers) {
    if (name == "host") {
      in.headers.emplace_back("host", ctx.host_header);
    } else {
      in.headers.emplace_back(name, Header(r, name));
    }
  }
  in.payload_hash = Header(r, "x-amz-content-sha256");
  SigningOptions opts;
  opts.region = auth->region;
  CanonicalRequest creq = BuildCanonicalRequest(in, opts);
  std::string sts = StringToSign(Header(r, "x-amz-date"),
                                 CredentialScope(auth->date, auth->region, auth->service),
                                 creq.text);
  std::string key = DeriveSigningKey({creds.secret_access_key, auth->date, auth->region, "s3"});
  EXPECT_EQ(digest::ToHex(digest::HmacSha256(key, sts)), auth->signature) << creq.text;
}

TEST(RequestBuilder, PathAndVirtualTargets) {
  RequestContext p = PathCtx();
  RequestContext v = VirtualCtx();
  EXPECT_EQ(TargetPath(p, false, "backups/b1/velero-backup.json"),
            "/velero/backups/b1/velero-backup.json");
  EXPECT_EQ(TargetPath(v, false, "backups/b1/velero-backup.json"),
            "/backups/b1/velero-backup.json");
  EXPECT_EQ(TargetPath(p, true, ""), "/velero");
  EXPECT_EQ(TargetPath(v, true, ""), "/");
  EXPECT_EQ(TargetPath(p, false, "/lead//double/../x "), "/velero//lead//double/../x%20");
  EXPECT_EQ(TargetPath(p, false, "a+b%c?d#e~f"), "/velero/a%2Bb%25c%3Fd%23e~f");
  EXPECT_EQ(TargetPath(v, false, "\xE6\x97\xA5"), "/%E6%97%A5");
}

TEST(RequestBuilder, OddKeysSignAndVerify) {
  std::string big(1024, 'k');
  for (std::string key : {std::string("a b+c%d?e#f~g"), std::string("/leading"),
                          std::string("x//y/../z/./"), std::string("trailing "),
                          std::string("\xE6\x97\xA5\xE6\x9C\xAC/\xC3\xA9"), big}) {
    for (const RequestContext& ctx : {PathCtx(), VirtualCtx()}) {
      auto r = BuildSignedRequest(ctx, GetObjectOp({key, ByteRange{5, 10}, std::nullopt, "e1"}),
                                  kCreds, kEmptyPayloadSha256, Now());
      ASSERT_TRUE(r.ok());
      EXPECT_EQ(r->method, verb::get);
      EXPECT_EQ(Header(*r, "Range"), "bytes=5-14");
      EXPECT_EQ(Header(*r, "If-Match"), "\"e1\"");
      ExpectVerifies(ctx, *r);
      auto decoded = UriDecode(r->target.substr(
          ctx.addressing == Addressing::kPath ? std::string("/velero/").size() : 1));
      ASSERT_TRUE(decoded.ok());
      EXPECT_EQ(*decoded, key);
    }
  }
}

TEST(RequestBuilder, BasePathIsSignedButNotInTarget) {
  RequestContext ctx = PathCtx();
  ctx.base_path = "/s3";
  auto r = BuildSignedRequest(ctx, HeadObjectOp({"k", 1, "", "etag"}), kCreds,
                              kEmptyPayloadSha256, Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->target, "/velero/k?partNumber=1");
  EXPECT_EQ(r->method, verb::head);
  EXPECT_EQ(Header(*r, "If-None-Match"), "\"etag\"");
  ExpectVerifies(ctx, *r);
}

TEST(RequestBuilder, SignedHeadersAndSessionToken) {
  Credentials creds{"AKID", "SK", "SESSION/TOKEN+="};
  auto r = BuildSignedRequest(PathCtx(), DeleteObjectOp("k"), creds, kUnsignedPayload, Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, verb::delete_);
  EXPECT_EQ(Header(*r, "x-amz-date"), "20240102T030405Z");
  EXPECT_EQ(Header(*r, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(Header(*r, "x-amz-security-token"), "SESSION/TOKEN+=");
  EXPECT_NE(Header(*r, "Authorization")
                .find("Credential=AKID/20240102/eu-west-1/s3/aws4_request, SignedHeaders=host;"
                      "x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature="),
            std::string::npos);
  ExpectVerifies(PathCtx(), *r, creds);
}

TEST(RequestBuilder, ListObjectsV2Query) {
  ListObjectsV2Request req;
  req.prefix = "backups/a b+c/";
  req.delimiter = "/";
  req.continuation_token = "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=";
  req.start_after = "x";
  req.max_keys = 500;
  auto r = BuildSignedRequest(PathCtx(), ListObjectsV2Op(req), kCreds, kEmptyPayloadSha256,
                              Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->target,
            "/velero?list-type=2&continuation-token=1ueGcxLPRx1Tr%2FXYExHnhbYLgveDs2J%2Fwm36Hy4vbO"
            "wM%3D&delimiter=%2F&encoding-type=url&max-keys=500&prefix=backups%2Fa%20b%2Bc%2F&"
            "start-after=x");
  ExpectVerifies(PathCtx(), *r);
  ListObjectsV2Request plain;
  plain.encoding_type_url = false;
  auto v = BuildSignedRequest(VirtualCtx(), ListObjectsV2Op(plain), kCreds, kEmptyPayloadSha256,
                              Now());
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->target, "/?list-type=2&max-keys=1000");
  ExpectVerifies(VirtualCtx(), *v);
}

TEST(RequestBuilder, MultipartTargets) {
  RequestContext ctx = PathCtx();
  ObjectMetadata meta;
  meta.content_type = "application/gzip";
  meta.user["Velero-Backup"] = "b1";
  meta.storage_class = "STANDARD_IA";
  meta.sse = "aws:kms";
  meta.sse_kms_key_id = "arn:aws:kms:k";
  auto create = CreateMultipartUploadOp("k y", meta);
  ASSERT_TRUE(create.ok());
  auto r = BuildSignedRequest(ctx, *create, kCreds, kEmptyPayloadSha256, Now());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->method, verb::post);
  EXPECT_EQ(r->target, "/velero/k%20y?uploads=");
  EXPECT_EQ(Header(*r, "Content-Type"), "application/gzip");
  EXPECT_EQ(Header(*r, "x-amz-meta-velero-backup"), "b1");
  EXPECT_EQ(Header(*r, "x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(Header(*r, "x-amz-server-side-encryption"), "aws:kms");
  EXPECT_EQ(Header(*r, "x-amz-server-side-encryption-aws-kms-key-id"), "arn:aws:kms:k");
  ExpectVerifies(ctx, *r);

  const std::string upload = "VXBsb2FkIElE+/=";
  EXPECT_EQ(BuildSignedRequest(ctx, UploadPartOp("k", upload, 7), kCreds, "h", Now())->target,
            "/velero/k?partNumber=7&uploadId=VXBsb2FkIElE%2B%2F%3D");
  auto copy = BuildSignedRequest(
      ctx, UploadPartCopyOp(ctx, "k", upload, 2, {"src", "a b/c+d", "e9", ByteRange{0, 100}}),
      kCreds, kEmptyPayloadSha256, Now());
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->method, verb::put);
  EXPECT_EQ(Header(*copy, "x-amz-copy-source"), "/src/a%20b/c%2Bd");
  EXPECT_EQ(Header(*copy, "x-amz-copy-source-if-match"), "\"e9\"");
  EXPECT_EQ(Header(*copy, "x-amz-copy-source-range"), "bytes=0-99");
  ExpectVerifies(ctx, *copy);

  auto complete = BuildSignedRequest(ctx, CompleteMultipartUploadOp("k", upload), kCreds, "h",
                                     Now());
  EXPECT_EQ(complete->method, verb::post);
  EXPECT_EQ(complete->target, "/velero/k?uploadId=VXBsb2FkIElE%2B%2F%3D");
  auto abort = BuildSignedRequest(ctx, AbortMultipartUploadOp("k", upload), kCreds, "h", Now());
  EXPECT_EQ(abort->method, verb::delete_);
  EXPECT_EQ(abort->target, "/velero/k?uploadId=VXBsb2FkIElE%2B%2F%3D");
  auto parts = BuildSignedRequest(ctx, ListPartsOp("k", "u", 5), kCreds, "h", Now());
  EXPECT_EQ(parts->target, "/velero/k?part-number-marker=5&uploadId=u");
  auto uploads = BuildSignedRequest(ctx, ListMultipartUploadsOp("p/", "km", "um"), kCreds, "h",
                                    Now());
  EXPECT_EQ(uploads->target,
            "/velero?uploads=&encoding-type=url&key-marker=km&prefix=p%2F&upload-id-marker=um");
  ExpectVerifies(ctx, *uploads);
}

TEST(RequestBuilder, CopyObjectAndBucketOps) {
  RequestContext ctx = PathCtx();
  ObjectMetadata meta;
  meta.cache_control = "no-cache";
  auto op = CopyObjectOp(ctx, "dst", {"", "src key", "", std::nullopt}, meta);
  ASSERT_TRUE(op.ok());
  auto r = BuildSignedRequest(ctx, *op, kCreds, kEmptyPayloadSha256, Now());
  EXPECT_EQ(r->target, "/velero/dst");
  EXPECT_EQ(Header(*r, "x-amz-copy-source"), "/velero/src%20key");
  EXPECT_EQ(Header(*r, "x-amz-metadata-directive"), "REPLACE");
  EXPECT_EQ(Header(*r, "Cache-Control"), "no-cache");
  auto keep = CopyObjectOp(ctx, "dst", {"", "s", "", std::nullopt}, std::nullopt);
  EXPECT_EQ(Header(*BuildSignedRequest(ctx, *keep, kCreds, "h", Now()),
                   "x-amz-metadata-directive"),
            "<none>");

  auto del = BuildSignedRequest(ctx, DeleteObjectsOp(), kCreds, "h", Now());
  EXPECT_EQ(del->method, verb::post);
  EXPECT_EQ(del->target, "/velero?delete=");
  auto create = BuildSignedRequest(ctx, CreateBucketOp(ctx), kCreds, "h", Now());
  EXPECT_EQ(create->method, verb::put);
  EXPECT_EQ(create->target, "/velero");
  auto head = BuildSignedRequest(VirtualCtx(), HeadBucketOp(), kCreds, "h", Now());
  EXPECT_EQ(head->method, verb::head);
  EXPECT_EQ(head->target, "/");
}

TEST(RequestBuilder, RejectsBadInput) {
  EXPECT_TRUE(BuildSignedRequest(PathCtx(), DeleteObjectOp(""), kCreds, "h", Now())
                  .status()
                  .Is(ErrorClass::kInvalidArgument));
  ObjectMetadata meta;
  meta.content_disposition = "attachment\r\nX-Injected: 1";
  EXPECT_TRUE(PutObjectOp("k", meta).status().Is(ErrorClass::kInvalidArgument));
  ObjectMetadata badname;
  badname.user["bad name"] = "v";
  EXPECT_TRUE(PutObjectOp("k", badname).status().Is(ErrorClass::kInvalidArgument));
  ObjectMetadata badvalue;
  badvalue.user["ok"] = std::string("a\0b", 3);
  EXPECT_TRUE(PutObjectOp("k", badvalue).status().Is(ErrorClass::kInvalidArgument));
}

TEST(ParseObjectInfo, HeadAnswer) {
  http::Headers h = {{"Content-Length", "10485760"},
                     {"ETag", "\"d41d8cd98f00b204e9800998ecf8427e-2\""},
                     {"Last-Modified", "Wed, 21 Oct 2015 07:28:00 GMT"},
                     {"Content-Type", "application/gzip"},
                     {"Content-Encoding", "gzip"},
                     {"Cache-Control", "max-age=1"},
                     {"Content-Disposition", "attachment"},
                     {"Content-Language", "en"},
                     {"Expires", "Thu, 01 Dec 1994 16:00:00 GMT"},
                     {"X-Amz-Meta-Velero-Backup", "b1"},
                     {"x-amz-storage-class", "STANDARD_IA"},
                     {"x-amz-server-side-encryption", "aws:kms"},
                     {"x-amz-server-side-encryption-aws-kms-key-id", "arn"},
                     {"x-amz-mp-parts-count", "2"},
                     {"x-amz-checksum-crc32c", "yZRlqg=="},
                     {"x-amz-checksum-type", "COMPOSITE"},
                     {"x-amz-version-id", "v1"}};
  auto info = ParseObjectInfo(h);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->size, 10485760u);
  EXPECT_EQ(info->etag, "d41d8cd98f00b204e9800998ecf8427e-2");
  EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(
                info->last_modified.time_since_epoch()).count(),
            1445412480);
  EXPECT_EQ(info->metadata.content_type, "application/gzip");
  EXPECT_EQ(info->metadata.content_encoding, "gzip");
  EXPECT_EQ(info->metadata.cache_control, "max-age=1");
  EXPECT_EQ(info->metadata.content_disposition, "attachment");
  EXPECT_EQ(info->metadata.content_language, "en");
  EXPECT_EQ(info->metadata.expires, "Thu, 01 Dec 1994 16:00:00 GMT");
  EXPECT_EQ(info->metadata.user, (std::map<std::string, std::string>{{"velero-backup", "b1"}}));
  EXPECT_EQ(info->metadata.storage_class, "STANDARD_IA");
  EXPECT_EQ(info->metadata.sse, "aws:kms");
  EXPECT_EQ(info->metadata.sse_kms_key_id, "arn");
  EXPECT_EQ(info->parts_count, 2);
  EXPECT_EQ(info->checksums, (std::map<std::string, std::string>{{"CRC32C", "yZRlqg=="}}));
  EXPECT_EQ(info->crc32c(), "yZRlqg==");
  EXPECT_EQ(info->checksum_type, "COMPOSITE");
  EXPECT_EQ(info->version_id, "v1");

  // The metadata sent for what was read reproduces the same headers.
  http::Headers sent;
  ASSERT_TRUE(AppendMetadataHeaders(info->metadata, sent).ok());
  EXPECT_EQ(sent.size(), 10u);
}

TEST(ParseObjectInfo, RangeAndErrors) {
  auto r = ParseObjectInfo({{"Content-Length", "10"}, {"Content-Range", "bytes 0-9/12345"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->size, 12345u);
  auto r2 = ParseObjectInfo({{"Content-Range", "bytes 0-9/12345"}, {"Content-Length", "10"}});
  EXPECT_EQ(r2->size, 12345u);
  EXPECT_TRUE(ParseObjectInfo({}).status().Is(ErrorClass::kRetryable));
  EXPECT_TRUE(ParseObjectInfo({{"Content-Length", "12x"}}).status().Is(ErrorClass::kRetryable));
}

TEST(Checksums, ModeAlgorithmAndSignedChecksumHeader) {
  HeadObjectRequest head;
  head.key = "k";
  head.checksum_mode = true;
  Operation h = HeadObjectOp(head);
  ASSERT_EQ(h.headers.size(), 1u);
  EXPECT_EQ(h.headers[0], (std::pair<std::string, std::string>("x-amz-checksum-mode", "ENABLED")));
  head.checksum_mode = false;
  EXPECT_TRUE(HeadObjectOp(head).headers.empty());
  GetObjectRequest get;
  get.key = "k";
  get.checksum_mode = true;
  EXPECT_EQ(GetObjectOp(get).headers.size(), 1u);

  ObjectMetadata meta;
  meta.checksum_algorithm = "CRC32C";
  auto create = CreateMultipartUploadOp("k", meta);
  ASSERT_TRUE(create.ok());
  http::Headers want = {{"x-amz-checksum-algorithm", "CRC32C"},
                        {"x-amz-checksum-type", "COMPOSITE"}};
  EXPECT_EQ(create->headers, want);
  // PutObject never asks for an algorithm: the value itself is sent.
  EXPECT_TRUE(PutObjectOp("k", meta)->headers.empty());
  meta.checksum_algorithm = "MD5";
  EXPECT_TRUE(CreateMultipartUploadOp("k", meta).status().Is(ErrorClass::kInvalidArgument));

  // The client adds x-amz-checksum-crc32c to the operation's headers, and
  // every header of an operation is signed.
  Operation part = UploadPartOp("k", "up", 3);
  part.headers.emplace_back("x-amz-checksum-crc32c", "yZRlqg==");
  auto r = BuildSignedRequest(PathCtx(), part, kCreds, kUnsignedPayload, Now());
  ASSERT_TRUE(r.ok());
  auto auth = ParseAuthorization(Header(*r, "Authorization"));
  ASSERT_TRUE(auth.ok());
  EXPECT_NE(std::find(auth->signed_headers.begin(), auth->signed_headers.end(),
                      "x-amz-checksum-crc32c"),
            auth->signed_headers.end());
  EXPECT_EQ(Header(*r, "x-amz-checksum-crc32c"), "yZRlqg==");
  ExpectVerifies(PathCtx(), *r);
}

}  // namespace
}  // namespace ferry::s3
