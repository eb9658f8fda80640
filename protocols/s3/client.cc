// s3::Client over http::Client: builds each operation (request_builder),
// signs it with fresh credentials, sends it with a deadline and turns the
// answer into a value or a classified error with endpoint/bucket/key.
#include "protocols/s3/client.h"

#include <algorithm>
#include <array>
#include <charconv>

#include <pugixml.hpp>

#include "protocols/base/digest.h"
#include "protocols/s3/errors.h"
#include "protocols/s3/headers.h"
#include "protocols/s3/request_builder.h"
#include "protocols/s3/sigv4.h"
#include "protocols/s3/times.h"
#include "protocols/s3/xml.h"

namespace ferry::s3 {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Deadline allowance for a body whose size is not known up front (whole
// object GET, server-side copy): the progress timeout is what ends a stall.
constexpr std::uint64_t kUnknownTransferBytes = 5ull << 30;
// CompleteMultipartUpload may take minutes on S3 for large uploads.
constexpr milliseconds kCompleteAllowance{10 * 60 * 1000};
constexpr std::size_t kHashChunk = 256 * 1024;
constexpr std::size_t kMaxDeleteKeys = 1000;

bool Is2xx(int status) { return status >= 200 && status < 300; }

class ClientImpl final : public Client {
 public:
  ClientImpl(std::shared_ptr<http::Client> http, ClientOptions options)
      : http_(std::move(http)), options_(std::move(options)) {
    const http::Url& url = http_->endpoint();
    ctx_.host_header = url.HostHeader();
    ctx_.base_path = url.base_path;
    ctx_.region = options_.region.empty() ? "us-east-1" : options_.region;
    ctx_.bucket = options_.bucket;
    ctx_.addressing = options_.addressing;
    endpoint_name_ = options_.endpoint.host.empty() ? url.ToString() : options_.endpoint.ToString();
    sign_payload_ = options_.payload_signing == PayloadSigning::kSigned ||
                    (options_.payload_signing == PayloadSigning::kAuto && !url.tls);
    clock_ = options_.clock_skew ? options_.clock_skew : ClockSkewFor(endpoint_name_);
  }

  const ClientOptions& options() const override { return options_; }
  std::shared_ptr<http::Client> http_client() const override { return http_; }

  io::Task<Status> CreateBucket() override {
    std::string body;
    if (ctx_.region != "us-east-1") body = xml::BuildCreateBucketConfiguration(ctx_.region);
    io::MemorySource source(body);
    auto r = co_await Send(CreateBucketOp(ctx_), body.empty() ? nullptr : &source, {}, 0);
    if (r.ok()) co_return Status::Ok();
    const std::string& code = r.status().error().code;
    if (code == "BucketAlreadyOwnedByYou") co_return Status::Ok();
    if (code == "BucketAlreadyExists") {
      // Some servers say this for our own bucket too; it is ours if we can use it.
      Status head = co_await HeadBucket();
      co_return head.ok() ? Status::Ok() : r.status();
    }
    co_return r.status();
  }

  io::Task<Status> HeadBucket() override {
    http::ResponseOptions ro;
    ro.head = true;
    auto r = co_await Send(HeadBucketOp(), nullptr, ro, 0);
    co_return r.status();
  }

  io::Task<Result<ListObjectsV2Result>> ListObjectsV2(ListObjectsV2Request req) override {
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp,
                              co_await Send(ListObjectsV2Op(req), nullptr, {}, 0));
    co_return Context(xml::ParseListObjectsV2(resp.body), resp, "");
  }

  io::Task<Result<ObjectInfo>> HeadObject(HeadObjectRequest req) override {
    http::ResponseOptions ro;
    ro.head = true;
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp,
                              co_await Send(HeadObjectOp(req), nullptr, ro, 0));
    Result<ObjectInfo> info = ParseObjectInfo(resp.headers);
    if (info.ok() && req.part_number) {
      // With partNumber the answer describes the part: its length is the
      // Content-Length even when a Content-Range names the whole object.
      std::uint64_t len = 0;
      auto cl = resp.header("Content-Length");
      if (cl && std::from_chars(cl->data(), cl->data() + cl->size(), len).ec == std::errc()) {
        info->size = len;
      }
    }
    co_return Context(std::move(info), resp, req.key);
  }

  io::Task<Result<GetObjectResult>> GetObject(GetObjectRequest req,
                                              io::BodySink& sink) override {
    http::ResponseOptions ro;
    ro.sink = &sink;
    const std::uint64_t expect = req.range ? req.range->length : kUnknownTransferBytes;
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp,
                              co_await Send(GetObjectOp(req), nullptr, ro, expect));
    Result<ObjectInfo> info = ParseObjectInfo(resp.headers);
    if (!info.ok()) co_return Context(info.status(), resp, req.key);
    GetObjectResult out;
    out.info = std::move(*info);
    out.content_length = resp.streamed_bytes;
    auto cl = resp.header("Content-Length");
    std::uint64_t declared = 0;
    if (cl && std::from_chars(cl->data(), cl->data() + cl->size(), declared).ec == std::errc() &&
        declared != resp.streamed_bytes) {
      co_return Err(ErrorClass::kRetryable,
                    "GET body ended after " + std::to_string(resp.streamed_bytes) + " of " +
                        std::to_string(declared) + " bytes",
                    resp, req.key);
    }
    if (req.range && resp.status == 200 && out.content_length != req.range->length) {
      // The server ignored Range and sent the whole object into the sink.
      co_return Err(ErrorClass::kFatal,
                    "server answered a ranged GET with the whole object (Range ignored)", resp,
                    req.key);
    }
    co_return out;
  }

  io::Task<Result<PutResult>> PutObject(std::string key, const ObjectMetadata& meta,
                                        io::BodySource& body) override {
    auto op = PutObjectOp(key, meta);
    if (!op.ok()) co_return Context(op.status(), key);
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp,
                              co_await Send(std::move(*op), &body, {}, body.size()));
    co_return PutResultFrom(resp);
  }

  io::Task<Result<std::string>> CreateMultipartUpload(std::string key,
                                                      const ObjectMetadata& meta) override {
    auto op = CreateMultipartUploadOp(key, meta);
    if (!op.ok()) co_return Context(op.status(), key);
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp, co_await Send(std::move(*op), nullptr, {}, 0));
    co_return Context(xml::ParseInitiateMultipartUpload(resp.body), resp, key);
  }

  io::Task<Result<PutResult>> UploadPart(std::string key, std::string upload_id,
                                         int part_number, io::BodySource& body) override {
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp,
        co_await Send(UploadPartOp(key, upload_id, part_number), &body, {}, body.size()));
    co_return PutResultFrom(resp);
  }

  io::Task<Result<PutResult>> UploadPartCopy(std::string key, std::string upload_id,
                                             int part_number, CopySource source) override {
    const std::uint64_t expect = source.range ? source.range->length : kUnknownTransferBytes;
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp,
        co_await Send(UploadPartCopyOp(ctx_, key, upload_id, part_number, source), nullptr, {},
                      expect));
    co_return CopyResultFrom(resp, key);
  }

  io::Task<Result<PutResult>> CompleteMultipartUpload(std::string key, std::string upload_id,
                                                      std::vector<CompletedPart> parts) override {
    std::sort(parts.begin(), parts.end(),
              [](const auto& a, const auto& b) { return a.part_number < b.part_number; });
    const std::string body = xml::BuildCompleteMultipartUpload(parts);
    io::MemorySource source(body);
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp,
        co_await Send(CompleteMultipartUploadOp(key, upload_id), &source, {}, 0,
                      kCompleteAllowance));
    Result<PutResult> r = Context(xml::ParseCompleteMultipartUpload(resp.body), resp, key);
    if (r.ok()) {
      r->version_id = VersionId(resp);
      ReadEncryption(resp, *r);
    }
    co_return r;
  }

  io::Task<Status> AbortMultipartUpload(std::string key, std::string upload_id) override {
    auto r = co_await Send(AbortMultipartUploadOp(key, upload_id), nullptr, {}, 0);
    co_return r.status();
  }

  io::Task<Result<ListPartsResult>> ListParts(std::string key, std::string upload_id,
                                              int part_number_marker) override {
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp,
        co_await Send(ListPartsOp(key, upload_id, part_number_marker), nullptr, {}, 0));
    co_return Context(xml::ParseListParts(resp.body), resp, key);
  }

  io::Task<Result<ListUploadsResult>> ListMultipartUploads(std::string prefix,
                                                          std::string key_marker,
                                                          std::string upload_id_marker,
                                                          UploadKeys undeclared) override {
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp,
        co_await Send(ListMultipartUploadsOp(prefix, key_marker, upload_id_marker), nullptr, {},
                      0));
    co_return Context(xml::ParseListMultipartUploads(resp.body, undeclared), resp, "");
  }

  io::Task<Result<PutResult>> CopyObject(std::string key, CopySource source,
                                         std::optional<ObjectMetadata> replace) override {
    auto op = CopyObjectOp(ctx_, key, source, replace);
    if (!op.ok()) co_return Context(op.status(), key);
    FERRY_CO_ASSIGN_OR_RETURN(
        http::Response resp, co_await Send(std::move(*op), nullptr, {}, kUnknownTransferBytes));
    co_return CopyResultFrom(resp, key);
  }

  io::Task<Status> DeleteObject(std::string key) override {
    auto r = co_await Send(DeleteObjectOp(key), nullptr, {}, 0);
    co_return r.status();
  }

  io::Task<Result<std::vector<DeleteError>>> DeleteObjects(
      std::vector<std::string> keys) override {
    if (keys.empty()) co_return std::vector<DeleteError>{};
    if (keys.size() > kMaxDeleteKeys) {
      co_return Context(Status::Error(ErrorClass::kInvalidArgument,
                                      "DeleteObjects takes at most 1000 keys, got " +
                                          std::to_string(keys.size())),
                        "");
    }
    const std::string body = xml::BuildDelete(keys, /*quiet=*/true);
    io::MemorySource source(body);  // knows its MD5: S3 requires Content-MD5 here
    FERRY_CO_ASSIGN_OR_RETURN(http::Response resp,
                              co_await Send(DeleteObjectsOp(), &source, {}, 0));
    co_return Context(xml::ParseDeleteResult(resp.body), resp, "");
  }

 private:
  template <typename T>
  Result<T> Context(Result<T> r, const http::Response& resp, std::string_view key) const {
    if (r.ok()) return r;
    return Context(r.status(), resp, key);
  }
  Status Context(Status st, const http::Response& resp, std::string_view key) const {
    st = st.WithContext(endpoint_name_, ctx_.bucket, key);
    if (st.error().request_id.empty()) {
      if (auto rid = resp.header("x-amz-request-id")) {
        ErrorInfo info = st.error();
        info.request_id = std::string(*rid);
        st = Status(std::move(info));
      }
    }
    return st;
  }
  Status Context(Status st, std::string_view key) const {
    return st.WithContext(endpoint_name_, ctx_.bucket, key);
  }
  Status Err(ErrorClass c, std::string message, const http::Response& resp,
             std::string_view key) const {
    return Context(Status::Error(c, std::move(message)), resp, key);
  }

  static std::string VersionId(const http::Response& resp) {
    auto v = resp.header("x-amz-version-id");
    return v && *v != "null" ? std::string(*v) : std::string();
  }

  Result<PutResult> PutResultFrom(const http::Response& resp) const {
    PutResult out;
    if (auto etag = resp.header("ETag")) out.etag = xml::UnquoteEtag(*etag);
    if (auto crc = resp.header("x-amz-checksum-crc32c")) out.checksum_crc32c = std::string(*crc);
    out.version_id = VersionId(resp);
    ReadEncryption(resp, out);
    return out;
  }

  // How the written object or part is encrypted, as the answer says.
  static void ReadEncryption(const http::Response& resp, PutResult& out) {
    if (auto v = resp.header("x-amz-server-side-encryption")) out.sse = std::string(*v);
    if (auto v = resp.header("x-amz-server-side-encryption-customer-algorithm")) {
      out.sse_customer_algorithm = std::string(*v);
    }
  }

  Result<PutResult> CopyResultFrom(const http::Response& resp, std::string_view key) const {
    Result<PutResult> r = Context(xml::ParseCopyResult(resp.body), resp, key);
    if (r.ok()) {
      r->version_id = VersionId(resp);
      ReadEncryption(resp, *r);
    }
    return r;
  }

  // Hex SHA-256 of the body for a signed payload; reads the source once
  // when it does not know its digest, then rewinds it.
  io::Task<Result<std::string>> PayloadHash(io::BodySource* body) {
    if (body == nullptr) co_return std::string(kEmptyPayloadSha256);
    if (!sign_payload_) co_return std::string(kUnsignedPayload);
    if (auto known = body->sha256_hex()) co_return *known;
    digest::Hasher hasher(digest::Hasher::Kind::kSha256);
    std::vector<char> buf(kHashChunk);
    std::uint64_t total = 0;
    while (true) {
      FERRY_CO_ASSIGN_OR_RETURN(std::size_t n, co_await body->Read(buf));
      if (n == 0) break;
      total += n;
      hasher.Update(std::string_view(buf.data(), n));
    }
    if (total != body->size()) {
      co_return Status::Error(ErrorClass::kFatal,
                              "body source produced " + std::to_string(total) +
                                  " bytes, declared " + std::to_string(body->size()));
    }
    FERRY_CO_RETURN_IF_ERROR(body->Rewind());
    co_return digest::ToHex(hasher.Finish());
  }

  // The server's time from an answer: its Date header, else the ServerTime
  // of a RequestTimeTooSkewed error body.
  static std::optional<std::chrono::system_clock::time_point> ServerTime(
      const http::Response& resp) {
    if (auto date = resp.header("Date")) {
      auto t = ParseHttpDate(*date);
      if (t.ok()) return *t;
    }
    if (resp.body.empty()) return std::nullopt;
    pugi::xml_document doc;
    if (!doc.load_buffer(resp.body.data(), resp.body.size())) return std::nullopt;
    auto t = ParseIso8601(doc.child("Error").child_value("ServerTime"));
    if (!t.ok()) return std::nullopt;
    return *t;
  }

  // A clock-skew answer to a request signed with offset `used`: learns the
  // server's clock and makes the error retryable when the offset changed.
  // HEAD answers carry no error code; a bare 403 whose Date is far from the
  // signing time counts as RequestTimeTooSkewed.
  Status LearnClock(Status st, const http::Response& resp, bool head, milliseconds used) {
    const auto local = std::chrono::system_clock::now();
    const bool skew_code = st.error().code == "RequestTimeTooSkewed";
    if (!skew_code && !(head && resp.status == 403)) return st;
    const auto server = ServerTime(resp);
    if (!server) return st;
    if (!skew_code) {
      const auto off = *server - (local + used);
      if (off <= ClockSkew::kHeadThreshold && off >= -ClockSkew::kHeadThreshold) return st;
    }
    const ClockSkew::Learned learned = clock_->Learn(*server, local, used);
    ErrorInfo info = st.error();
    info.code = "RequestTimeTooSkewed";
    const auto off_s =
        std::chrono::duration_cast<std::chrono::seconds>(*server - local).count();
    const std::string off = (off_s >= 0 ? "+" : "") + std::to_string(off_s) + " s";
    if (info.message.empty() || !skew_code) {
      info.message = "HTTP 403 to HEAD with the server's Date " + off + " off the local clock";
    }
    switch (learned) {
      case ClockSkew::Learned::kChanged:
        info.error_class = ErrorClass::kRetryable;
        info.message += " (clock offset " + off + " learned from the server; send again)";
        break;
      case ClockSkew::Learned::kUnchanged:
        info.error_class = ErrorClass::kClockSkew;
        info.message += " (already signing with the server's time, " + off + ")";
        break;
      case ClockSkew::Learned::kOutOfBounds:
        info.error_class = ErrorClass::kClockSkew;
        info.message += " (server clock " + off + " off, beyond the correctable ±24 h)";
        break;
    }
    return Status(std::move(info));
  }

  // Signs and sends `op`. Every non-2xx answer becomes a classified error.
  io::Task<Result<http::Response>> Send(Operation op, io::BodySource* body,
                                        http::ResponseOptions ro, std::uint64_t transfer_bytes,
                                        milliseconds extra_time = milliseconds(0)) {
    const std::string key = op.ContextKey();
    Result<Credentials> creds = options_.credentials
                                    ? options_.credentials->Get()
                                    : Result<Credentials>(Status::Error(
                                          ErrorClass::kAuth, "no credentials provider"));
    if (!creds.ok()) co_return Context(creds.status(), key);
    Result<std::string> hash = co_await PayloadHash(body);
    if (!hash.ok()) co_return Context(hash.status(), key);
    if (body != nullptr) {
      if (auto md5 = body->content_md5_base64()) op.headers.emplace_back("Content-MD5", *md5);
      // A plain header, signed like every header of `op` (never an
      // aws-chunked trailer: this client sends fixed-length bodies only).
      if (auto crc = body->checksum_crc32c_base64()) {
        op.headers.emplace_back("x-amz-checksum-crc32c", *crc);
      }
    }
    const milliseconds clock_offset = clock_->offset();
    Result<http::Request> built = BuildSignedRequest(
        ctx_, op, *creds, *hash, std::chrono::system_clock::now() + clock_offset);
    if (!built.ok()) co_return Context(built.status(), key);
    http::Request req = std::move(*built);
    req.body = body;
    milliseconds budget = options_.request_timeout + extra_time;
    if (transfer_bytes > 0 && options_.min_throughput_bytes_per_sec > 0) {
      budget += milliseconds(transfer_bytes * 1000 / options_.min_throughput_bytes_per_sec);
    }
    req.deadline = SteadyClock::now() + budget;
    req.progress_timeout = options_.progress_timeout;
    req.activity = options_.activity;

    Result<http::Response> resp = co_await http_->Send(std::move(req), ro);
    if (!resp.ok()) co_return Context(resp.status(), key);
    if (!Is2xx(resp->status)) {
      auto rid = resp->header("x-amz-request-id");
      Status st = ErrorFromResponse(resp->status, resp->body, rid ? *rid : std::string_view());
      st = LearnClock(std::move(st), *resp, ro.head, clock_offset);
      co_return Context(st, key);
    }
    co_return std::move(resp);
  }

  std::shared_ptr<http::Client> http_;
  ClientOptions options_;
  RequestContext ctx_;
  std::string endpoint_name_;
  bool sign_payload_ = false;
  std::shared_ptr<ClockSkew> clock_;
};

Status ValidateOptions(const ClientOptions& options) {
  if (options.bucket.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument, "S3 client: bucket is empty");
  }
  if (!options.credentials) {
    return Status::Error(ErrorClass::kInvalidArgument, "S3 client: no credentials provider");
  }
  if (options.request_timeout.count() <= 0 || options.progress_timeout.count() <= 0) {
    return Status::Error(ErrorClass::kInvalidArgument, "S3 client: timeouts must be positive");
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<Client>> Client::Create(boost::asio::any_io_executor executor,
                                               ClientOptions options) {
  FERRY_RETURN_IF_ERROR(ValidateOptions(options));
  if (options.endpoint.host.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument, "S3 client: endpoint has no host");
  }
  http::Url url = options.endpoint;
  // Virtual-hosted style: the bucket is part of the host the connection
  // names (and the Host header the HTTP client sends).
  if (options.addressing == Addressing::kVirtualHosted) url.host = options.bucket + "." + url.host;
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<http::Client> http,
                         http::Client::Create(std::move(executor), url, options.http));
  return std::shared_ptr<Client>(std::make_shared<ClientImpl>(std::move(http), std::move(options)));
}

Result<std::shared_ptr<Client>> Client::Create(std::shared_ptr<http::Client> http,
                                               ClientOptions options) {
  FERRY_RETURN_IF_ERROR(ValidateOptions(options));
  if (!http) return Status::Error(ErrorClass::kInvalidArgument, "S3 client: no HTTP client");
  return std::shared_ptr<Client>(std::make_shared<ClientImpl>(std::move(http), std::move(options)));
}

}  // namespace ferry::s3
