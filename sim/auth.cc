#include "sim/auth.h"

#include <algorithm>
#include <ctime>

#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/chunked.h"
#include "sim/errors.h"

namespace ferry::sim {
namespace {

Status AccessDenied() { return S3Error(403, "AccessDenied", "Access Denied"); }
Status Malformed(std::string why) {
  return S3Error(400, "AuthorizationHeaderMalformed", "The authorization header is malformed; " + why);
}
Status Mismatch() {
  return S3Error(403, "SignatureDoesNotMatch",
                 "The request signature we calculated does not match the signature you "
                 "provided. Check your key and signing method.");
}

bool IsHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The values of every header named `name`, joined with ',' as SigV4 does.
std::string JoinedHeader(const SimRequest& req, std::string_view name) {
  std::string out;
  bool first = true;
  for (const auto& [n, v] : req.headers) {
    if (n != name) continue;
    if (!first) out += ',';
    out += v;
    first = false;
  }
  return out;
}

Result<Clock::time_point> RequestTime(const SimRequest& req, std::string* amz_date) {
  if (const std::string* d = req.Header("x-amz-date")) {
    *amz_date = *d;
    auto t = s3::ParseAmzDate(*d);
    if (!t.ok()) return S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    return *t;
  }
  return S3Error(403, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
}

struct Parsed {
  std::string access_key, date, region, service, signature, amz_date, payload;
  std::vector<std::string> signed_headers;
  Fields query;  // the query to sign
};

Result<Parsed> FromHeader(const SimRequest& req, const std::string& header) {
  auto pa = s3::ParseAuthorization(header);
  if (!pa.ok()) return Malformed("expecting AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...");
  Parsed p;
  p.access_key = pa->access_key_id;
  p.date = pa->date;
  p.region = pa->region;
  p.service = pa->service;
  p.signature = pa->signature;
  p.signed_headers = pa->signed_headers;
  p.query = req.query;
  const std::string* sha = req.Header("x-amz-content-sha256");
  if (!sha) {
    return S3Error(400, "InvalidRequest",
                   "Missing required header for this request: x-amz-content-sha256");
  }
  p.payload = *sha;
  FERRY_ASSIGN_OR_RETURN(Clock::time_point t, RequestTime(req, &p.amz_date));
  (void)t;
  return p;
}

// X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=...&X-Amz-Date=...&
// X-Amz-Expires=...&X-Amz-SignedHeaders=...&X-Amz-Signature=...
Result<Parsed> FromQuery(const SimRequest& req, Clock::time_point now) {
  auto q = [&](std::string_view n) { return req.Query(n); };
  if (!q("X-Amz-Credential") || !q("X-Amz-Date") || !q("X-Amz-SignedHeaders") ||
      !q("X-Amz-Signature") || *q("X-Amz-Algorithm") != "AWS4-HMAC-SHA256") {
    return S3Error(400, "AuthorizationQueryParametersError",
                   "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                   "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
                   "X-Amz-Expires parameters.");
  }
  // Reuse the header parser for the credential and signed headers.
  std::string header = "AWS4-HMAC-SHA256 Credential=" + *q("X-Amz-Credential") +
                       ", SignedHeaders=" + *q("X-Amz-SignedHeaders") +
                       ", Signature=" + *q("X-Amz-Signature");
  auto pa = s3::ParseAuthorization(header);
  if (!pa.ok()) return S3Error(400, "AuthorizationQueryParametersError", "malformed X-Amz-Credential");
  Parsed p;
  p.access_key = pa->access_key_id;
  p.date = pa->date;
  p.region = pa->region;
  p.service = pa->service;
  p.signature = pa->signature;
  p.signed_headers = pa->signed_headers;
  p.amz_date = *q("X-Amz-Date");
  p.payload = std::string(s3::kUnsignedPayload);
  auto t = s3::ParseAmzDate(p.amz_date);
  if (!t.ok()) return S3Error(400, "AuthorizationQueryParametersError", "bad X-Amz-Date");
  long expires = 0;
  try {
    expires = q("X-Amz-Expires") ? std::stol(*q("X-Amz-Expires")) : 0;
  } catch (const std::exception&) {
    return S3Error(400, "AuthorizationQueryParametersError", "bad X-Amz-Expires");
  }
  if (now > *t + std::chrono::seconds(expires)) {
    return S3Error(403, "AccessDenied", "Request has expired");
  }
  for (const auto& kv : req.query) {
    if (kv.first != "X-Amz-Signature") p.query.push_back(kv);
  }
  return p;
}

}  // namespace

Result<AuthContext> Authenticate(const SimRequest& req, const AuthConfig& cfg,
                                 Clock::time_point now) {
  const std::string* header = req.Header("authorization");
  bool presigned = !header && req.HasQuery("X-Amz-Algorithm");
  if (!header && !presigned) return AccessDenied();
  Parsed p;
  if (presigned) {
    FERRY_ASSIGN_OR_RETURN(p, FromQuery(req, now));
  } else {
    FERRY_ASSIGN_OR_RETURN(p, FromHeader(req, *header));
  }
  if (p.access_key != cfg.access_key) {
    return S3Error(403, "InvalidAccessKeyId",
                   "The AWS Access Key Id you provided does not exist in our records.");
  }
  if (p.service != "s3") return Malformed("incorrect service '" + p.service + "'; expecting 's3'");
  if (p.region != cfg.region) {
    return Malformed("the region '" + p.region + "' is wrong; expecting '" + cfg.region + "'");
  }
  if (p.amz_date.substr(0, 8) != p.date) {
    return Malformed("invalid credential date. Date is not the same as X-Amz-Date.");
  }
  if (!presigned) {
    auto t = s3::ParseAmzDate(p.amz_date);
    auto skew = t.ok() ? (now > *t ? now - *t : *t - now) : Clock::duration::max();
    if (skew > cfg.max_skew) {
      return S3Error(403, "RequestTimeTooSkewed",
                     "The difference between the request time and the current time is too large.");
    }
  }
  if (std::find(p.signed_headers.begin(), p.signed_headers.end(), "host") == p.signed_headers.end()) {
    return Malformed("SignedHeaders must include host");
  }

  AuthContext ctx;
  if (IsHex64(p.payload)) {
    ctx.mode = PayloadMode::kSigned;
    ctx.payload_sha256 = p.payload;
  } else if (p.payload == s3::kUnsignedPayload) {
    ctx.mode = PayloadMode::kUnsigned;
  } else if (p.payload == s3::kStreamingPayload ||
             p.payload == "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") {
    ctx.mode = PayloadMode::kStreamingSigned;
  } else if (p.payload == "STREAMING-UNSIGNED-PAYLOAD-TRAILER") {
    ctx.mode = PayloadMode::kStreamingUnsigned;
  } else {
    return S3Error(400, "InvalidArgument",
                   "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-... or a valid "
                   "sha256 value.");
  }

  auto path = s3::UriDecode(req.raw_path);
  if (!path.ok()) return S3Error(400, "InvalidURI", "Couldn't parse the specified URI.");
  s3::CanonicalInput in;
  in.method = req.method;
  in.path = s3::UriEncode(*path, false);
  in.query = p.query;
  for (const std::string& name : p.signed_headers) in.headers.emplace_back(name, JoinedHeader(req, name));
  in.payload_hash = p.payload;
  s3::SigningOptions opts;
  opts.region = p.region;
  opts.service = p.service;
  s3::CanonicalRequest cr = s3::BuildCanonicalRequest(in, opts);
  std::string scope = s3::CredentialScope(p.date, p.region, p.service);
  std::string sts = s3::StringToSign(p.amz_date, scope, cr.text);
  std::string key = s3::DeriveSigningKey({cfg.secret_key, p.date, p.region, p.service});
  std::string expect = digest::ToHex(digest::HmacSha256(key, sts));
  if (!s3::SignaturesEqual(expect, p.signature)) return Mismatch();

  ctx.signing_key = std::move(key);
  ctx.amz_date = p.amz_date;
  ctx.scope = std::move(scope);
  ctx.signature = p.signature;
  return ctx;
}

namespace {

class Sha256CheckingReader final : public BodyReader {
 public:
  Sha256CheckingReader(BodyReader& raw, std::string want) : raw_(raw), want_(std::move(want)) {}
  std::optional<std::uint64_t> size() const override { return raw_.size(); }
  io::Task<Result<std::size_t>> Read(std::span<char> buf) override {
    auto n = co_await raw_.Read(buf);
    if (!n.ok()) co_return n;
    if (*n > 0) {
      hash_.Update(std::string_view(buf.data(), *n));
    } else if (digest::ToHex(hash_.Finish()) != want_) {
      co_return S3Error(400, "XAmzContentSHA256Mismatch",
                        "The provided 'x-amz-content-sha256' header does not match what was "
                        "computed.");
    }
    co_return n;
  }

 private:
  BodyReader& raw_;
  std::string want_;
  digest::Hasher hash_{digest::Hasher::Kind::kSha256};
};

class ChunkedReader final : public BodyReader {
 public:
  ChunkedReader(BodyReader& raw, std::optional<ChunkSigner> signer,
                std::optional<std::uint64_t> decoded_size)
      : raw_(raw), decoder_(std::move(signer)), size_(decoded_size) {}
  std::optional<std::uint64_t> size() const override { return size_; }
  io::Task<Result<std::size_t>> Read(std::span<char> buf) override {
    while (pending_.size() == pos_) {
      pending_.clear();
      pos_ = 0;
      raw_buf_.resize(buf.size());
      auto n = co_await raw_.Read(std::span<char>(raw_buf_.data(), raw_buf_.size()));
      if (!n.ok()) co_return n;
      if (*n == 0) {
        if (!decoder_.done() || (size_ && decoder_.decoded_bytes() != *size_)) {
          co_return S3Error(400, "IncompleteBody",
                            "You did not provide the number of bytes specified by the "
                            "x-amz-decoded-content-length HTTP header");
        }
        co_return std::size_t{0};
      }
      Status st = decoder_.Feed(std::string_view(raw_buf_.data(), *n), &pending_);
      if (!st.ok()) co_return st;
    }
    std::size_t n = std::min(buf.size(), pending_.size() - pos_);
    std::copy_n(pending_.data() + pos_, n, buf.data());
    pos_ += n;
    co_return n;
  }

 private:
  BodyReader& raw_;
  AwsChunkedDecoder decoder_;
  std::optional<std::uint64_t> size_;
  std::string raw_buf_;
  std::string pending_;  // decoded, not yet returned (at most one raw read's worth)
  std::size_t pos_ = 0;
};

class PassThrough final : public BodyReader {
 public:
  explicit PassThrough(BodyReader& raw) : raw_(raw) {}
  std::optional<std::uint64_t> size() const override { return raw_.size(); }
  io::Task<Result<std::size_t>> Read(std::span<char> buf) override { return raw_.Read(buf); }

 private:
  BodyReader& raw_;
};

}  // namespace

std::unique_ptr<BodyReader> MakePayloadReader(BodyReader& raw, const AuthContext& auth,
                                              const SimRequest& req) {
  switch (auth.mode) {
    case PayloadMode::kSigned:
      return std::make_unique<Sha256CheckingReader>(raw, auth.payload_sha256);
    case PayloadMode::kUnsigned:
      return std::make_unique<PassThrough>(raw);
    case PayloadMode::kStreamingSigned:
    case PayloadMode::kStreamingUnsigned: {
      std::optional<std::uint64_t> size;
      if (const std::string* d = req.Header("x-amz-decoded-content-length")) {
        try {
          size = std::stoull(*d);
        } catch (const std::exception&) {
        }
      }
      std::optional<ChunkSigner> signer;
      if (auth.mode == PayloadMode::kStreamingSigned) {
        signer = ChunkSigner{auth.signing_key, auth.amz_date, auth.scope, auth.signature};
      }
      return std::make_unique<ChunkedReader>(raw, std::move(signer), size);
    }
  }
  return std::make_unique<PassThrough>(raw);
}

}  // namespace ferry::sim
