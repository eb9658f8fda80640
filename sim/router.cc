#include "sim/router.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "protocols/s3/sigv4.h"
#include "sim/auth.h"
#include "sim/errors.h"
#include "sim/ops.h"
#include "sim/xml.h"

namespace ferry::sim {
namespace {

using Handler = HandlerResult (*)(OpContext&);

struct OpEntry {
  std::string_view name;
  Handler handler;
};

constexpr OpEntry kOps[] = {
    {"ListBuckets", ListBuckets},
    {"CreateBucket", CreateBucket},
    {"HeadBucket", HeadBucket},
    {"DeleteBucket", DeleteBucket},
    {"GetBucketLocation", GetBucketLocation},
    {"GetBucketVersioning", GetBucketVersioning},
    {"ListObjectsV2", ListObjectsV2},
    {"ListObjects", ListObjectsV1},
    {"ListMultipartUploads", ListMultipartUploads},
    {"DeleteObjects", DeleteObjects},
    {"HeadObject", HeadObject},
    {"GetObject", GetObject},
    {"PutObject", PutObject},
    {"CopyObject", CopyObject},
    {"DeleteObject", DeleteObject},
    {"CreateMultipartUpload", CreateMultipartUpload},
    {"UploadPart", UploadPart},
    {"UploadPartCopy", UploadPartCopy},
    {"CompleteMultipartUpload", CompleteMultipartUpload},
    {"AbortMultipartUpload", AbortMultipartUpload},
    {"ListParts", ListParts},
};

Handler FindHandler(std::string_view op) {
  for (const auto& e : kOps) {
    if (e.name == op) return e.handler;
  }
  return nullptr;
}

// Sub-resources we do not implement: answering them as if they were plain
// GET/PUT would be wrong, so they get 501.
bool UnsupportedSubresource(const SimRequest& req) {
  static constexpr std::string_view kSub[] = {
      "acl", "policy", "lifecycle", "tagging", "cors", "encryption", "notification",
      "object-lock", "replication", "website", "logging", "retention", "legal-hold",
      "versions", "torrent", "restore", "select", "attributes", "accelerate",
      "requestPayment", "analytics", "inventory", "metrics", "ownershipControls",
      "publicAccessBlock", "intelligent-tiering", "policyStatus"};
  for (auto s : kSub) {
    if (req.HasQuery(s)) return true;
  }
  return false;
}

bool IsIpLiteral(std::string_view host) {
  return host.find_first_not_of("0123456789.") == std::string_view::npos || host.starts_with("[");
}

// Reads and drops about half the payload, for a reset mid-upload.
io::Task<void> ConsumeHalf(BodyReader& raw) {
  std::uint64_t want = raw.size() ? *raw.size() / 2 : 0;
  std::uint64_t got = 0;
  std::string buf(64 << 10, '\0');
  while (got < want) {
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), want - got));
    auto r = co_await raw.Read(std::span<char>(buf.data(), n));
    if (!r.ok() || *r == 0) break;
    got += *r;
  }
}

}  // namespace

Result<Target> ParseTarget(const SimRequest& req, const Store& store) {
  auto path = s3::UriDecode(req.raw_path);
  if (!path.ok() || path->empty() || (*path)[0] != '/') {
    return S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  }
  Target t;
  std::string host = req.HeaderOr("host");
  host = host.substr(0, host.rfind(':') == std::string::npos || host.ends_with("]")
                            ? host.size()
                            : host.rfind(':'));
  auto dot = host.find('.');
  if (dot != std::string::npos && !IsIpLiteral(host) && store.BucketExists(host.substr(0, dot))) {
    t.bucket = host.substr(0, dot);
    t.key = path->substr(1);
    return t;
  }
  std::string_view rest = std::string_view(*path).substr(1);
  auto slash = rest.find('/');
  t.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) t.key = std::string(rest.substr(slash + 1));
  return t;
}

std::string ClassifyOperation(const SimRequest& req, const Target& t) {
  const std::string& m = req.method;
  if (t.bucket.empty()) return m == "GET" ? "ListBuckets" : "";
  if (UnsupportedSubresource(req)) return "";
  if (t.key.empty()) {
    if (m == "PUT") return req.HasQuery("versioning") ? "" : "CreateBucket";
    if (m == "HEAD") return "HeadBucket";
    if (m == "DELETE") return "DeleteBucket";
    if (m == "POST") return req.HasQuery("delete") ? "DeleteObjects" : "";
    if (m != "GET") return "";
    if (req.HasQuery("location")) return "GetBucketLocation";
    if (req.HasQuery("versioning")) return "GetBucketVersioning";
    if (req.HasQuery("uploads")) return "ListMultipartUploads";
    const std::string* lt = req.Query("list-type");
    if (lt && *lt == "2") return "ListObjectsV2";
    return "ListObjects";
  }
  bool upload = req.HasQuery("uploadId");
  if (m == "GET") return upload ? "ListParts" : "GetObject";
  if (m == "HEAD") return "HeadObject";
  if (m == "PUT") {
    bool copy = req.Header("x-amz-copy-source") != nullptr;
    if (upload || req.HasQuery("partNumber")) return copy ? "UploadPartCopy" : "UploadPart";
    return copy ? "CopyObject" : "PutObject";
  }
  if (m == "POST") {
    if (req.HasQuery("uploads")) return "CreateMultipartUpload";
    if (upload) return "CompleteMultipartUpload";
    return "";
  }
  if (m == "DELETE") return upload ? "AbortMultipartUpload" : "DeleteObject";
  return "";
}

io::Task<Outcome> HandleS3(Services& svc, const SimRequest& req, BodyReader& raw_body) {
  Outcome out;
  out.request_id = svc.NewRequestId();
  bool head = req.method == "HEAD";
  auto fail = [&](const Status& st) {
    out.response = ErrorResponse(st, req.raw_path, out.request_id, head);
  };
  auto target = ParseTarget(req, svc.store);
  if (!target.ok()) {
    out.op = "Unknown";
    fail(target.status());
    co_return out;
  }
  out.bucket = target->bucket;
  out.key = target->key;
  out.op = ClassifyOperation(req, *target);
  if (out.op.empty()) {
    out.op = "Unsupported";
    fail(S3Error(501, "NotImplemented",
                 "A header or query you provided implies functionality that is not implemented"));
    co_return out;
  }

  // (no structured binding: this is a coroutine, see STYLE/GCC 12 notes)
  std::pair<std::string, std::string> keys = svc.keys.Get();
  AuthConfig auth_cfg{keys.first, keys.second, svc.config.region, svc.config.max_clock_skew};
  auto auth = Authenticate(req, auth_cfg, svc.Now());
  if (!auth.ok()) {
    fail(auth.status());
    co_return out;
  }

  FaultDecision fd = svc.faults.Decide(out.op, out.bucket, out.key);
  for (FaultKind k : fd.fired) svc.stats.CountFault(FaultKindName(k));
  bool flip_upload = false;
  if (fd.kind) {
    out.fault = std::string(FaultKindName(*fd.kind));
    switch (*fd.kind) {
      case FaultKind::kError500:
        fail(S3Error(500, "InternalError", "We encountered an internal error. Please try again."));
        break;
      case FaultKind::kSlowDown503:
        fail(S3Error(503, "SlowDown", "Please reduce your request rate."));
        break;
      case FaultKind::kSkew:
        // The clock jumps (persistently): this request and every later one
        // signed with the old time are too skewed until the client adapts.
        svc.clock_offset_ms += fd.skew_ms;
        fail(S3Error(403, "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large."));
        break;
      case FaultKind::kReset:
        if (req.has_body) {
          co_await ConsumeHalf(raw_body);
          out.reset_now = true;
          co_return out;
        }
        out.write_fault = FaultKind::kReset;
        break;
      case FaultKind::kTruncate:
        out.write_fault = FaultKind::kTruncate;
        break;
      case FaultKind::kFlip:
        if (out.op == "PutObject" || out.op == "UploadPart") {
          flip_upload = true;
        } else {
          out.write_fault = FaultKind::kFlip;
        }
        break;
      case FaultKind::kLatency:
        break;
    }
  }
  bool failed_by_fault = fd.kind && (*fd.kind == FaultKind::kError500 ||
                                     *fd.kind == FaultKind::kSlowDown503 ||
                                     *fd.kind == FaultKind::kSkew);
  if (!failed_by_fault) {
    std::unique_ptr<BodyReader> payload = MakePayloadReader(raw_body, *auth, req);
    OpContext ctx{svc, req, *payload, out.bucket, out.key, out.request_id, head, flip_upload};
    Result<SimResponse> r = co_await FindHandler(out.op)(ctx);
    if (r.ok()) {
      out.response = std::move(r).value();
    } else {
      fail(r.status());
    }
  }

  std::uint32_t delay = svc.link.latency_ms.load() + fd.extra_latency_ms;
  if (delay > 0) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    timer.expires_after(std::chrono::milliseconds(delay));
    boost::system::error_code ec;
    co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  co_return out;
}

}  // namespace ferry::sim
