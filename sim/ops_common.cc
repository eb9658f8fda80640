// Helpers shared by the operation handlers (see ops.h).
#include <algorithm>
#include <cstdio>
#include <memory>

#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/errors.h"
#include "sim/ops.h"

namespace ferry::sim {
namespace {

bool StoredHeader(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "content-type",
      "cache-control",
      "content-disposition",
      "content-language",
      "expires",
      "x-amz-storage-class",
      "x-amz-website-redirect-location",
      "x-amz-server-side-encryption",
      "x-amz-server-side-encryption-aws-kms-key-id",
      "x-amz-server-side-encryption-bucket-key-enabled",
      "x-amz-server-side-encryption-customer-algorithm",
      "x-amz-server-side-encryption-customer-key-md5",
  };
  for (auto n : kNames) {
    if (n == name) return true;
  }
  return name.starts_with("x-amz-meta-");
}

// Content-Encoding without the transport-only "aws-chunked" token.
std::string StoredEncoding(std::string_view v) {
  std::string out;
  while (!v.empty()) {
    auto comma = v.find(',');
    std::string_view tok = v.substr(0, comma);
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    while (!tok.empty() && tok.front() == ' ') tok.remove_prefix(1);
    while (!tok.empty() && tok.back() == ' ') tok.remove_suffix(1);
    if (tok.empty() || tok == "aws-chunked") continue;
    if (!out.empty()) out += ',';
    out += tok;
  }
  return out;
}

}  // namespace

std::string Services::NewRequestId() {
  char buf[20];
  std::snprintf(buf, sizeof buf, "%016llX",
                static_cast<unsigned long long>(next_request_id_.fetch_add(1)));
  return buf;
}

std::string Quote(std::string_view etag) { return "\"" + std::string(etag) + "\""; }

Metadata MetadataFromRequest(const SimRequest& req) {
  Metadata m;
  for (const auto& [name, value] : req.headers) {
    if (StoredHeader(name)) {
      m.emplace_back(name, value);
    } else if (name == "content-encoding") {
      std::string enc = StoredEncoding(value);
      if (!enc.empty()) m.emplace_back(name, enc);
    }
  }
  return m;
}

void AddMetadataHeaders(const Metadata& m, SimResponse& r) {
  bool has_type = false;
  for (const auto& [name, value] : m) {
    if (name == "x-amz-storage-class" && value == "STANDARD") continue;
    if (name == "content-type") has_type = true;
    r.Set(name, value);
  }
  if (!has_type) r.Set("content-type", "binary/octet-stream");
}

Result<std::optional<std::uint32_t>> RequestCrc32c(const SimRequest& req) {
  const std::string* h = req.Header("x-amz-checksum-crc32c");
  if (!h) return std::optional<std::uint32_t>();
  auto v = crc32c::FromBase64(*h);
  if (!v)
    return S3Error(400, "InvalidRequest", "Value for x-amz-checksum-crc32c header is invalid.");
  return std::optional<std::uint32_t>(*v);
}

void AddChecksumHeaders(const SimRequest& req, const ObjectRecord& obj, long part, SimResponse& r) {
  const std::string* mode = req.Header("x-amz-checksum-mode");
  if (!mode || *mode != "ENABLED" || obj.checksum_crc32c.empty()) return;
  if (part <= 0 || obj.part_sizes.empty()) {
    r.Set("x-amz-checksum-crc32c", obj.checksum_crc32c);
    r.Set("x-amz-checksum-type", obj.checksum_type);
  } else if (static_cast<std::size_t>(part) <= obj.part_crc32c.size()) {
    // A part of a COMPOSITE object: that part's own checksum.
    r.Set("x-amz-checksum-crc32c", obj.part_crc32c[static_cast<std::size_t>(part - 1)]);
    r.Set("x-amz-checksum-type", "COMPOSITE");
  }
}

io::Task<Result<ReceivedBody>> ReceiveBody(OpContext& c, bool flip) {
  FERRY_CO_ASSIGN_OR_RETURN(std::optional<std::uint32_t> want_crc, RequestCrc32c(c.req));
  std::unique_ptr<BlobWriter> writer = c.svc.store.blobs().NewWriter(c.body.size());
  if (!writer) co_return InternalError("cannot create a body file in --data-dir");
  digest::Hasher md5(digest::Hasher::Kind::kMd5);
  std::uint64_t flip_at = c.body.size() ? *c.body.size() / 2 : 0;
  // Not zeroed, and no larger than the body: most bodies are small.
  const std::size_t cap = static_cast<std::size_t>(
      std::clamp<std::uint64_t>(c.body.size().value_or(256 << 10), 1, 256 << 10));
  std::unique_ptr<char[]> buf(new char[cap]);
  ReceivedBody out;
  for (;;) {
    auto n = co_await c.body.Read(std::span<char>(buf.get(), cap));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    if (flip && flip_at >= out.size && flip_at < out.size + *n) {
      buf[flip_at - out.size] ^= 0x01;
    }
    std::string_view chunk(buf.get(), *n);
    md5.Update(chunk);
    if (want_crc) out.crc32c = crc32c::Extend(out.crc32c, chunk);  // only when asked to check
    FERRY_CO_RETURN_IF_ERROR(writer->Append(chunk));
    out.size += *n;
  }
  out.md5_raw = md5.Finish();
  if (const std::string* want = c.req.Header("content-md5")) {
    std::string raw;
    if (!digest::Base64Decode(*want, &raw) || raw.size() != 16) {
      co_return S3Error(400, "InvalidDigest", "The Content-MD5 you specified was invalid.");
    }
    if (raw != out.md5_raw) {
      co_return S3Error(400, "BadDigest",
                        "The Content-MD5 you specified did not match what we received.");
    }
  }
  if (want_crc) {
    if (*want_crc != out.crc32c) {
      co_return S3Error(400, "BadDigest",
                        "The CRC32C you specified did not match the calculated checksum.");
    }
    out.checksum_crc32c = crc32c::ToBase64(out.crc32c);
  }
  auto blob = writer->Finish();
  if (!blob.ok()) co_return InternalError(blob.status().error().message);
  out.blob = std::move(blob).value();
  co_return out;
}

Result<CopySource> ParseCopySource(const SimRequest& req) {
  const std::string* h = req.Header("x-amz-copy-source");
  if (!h) return InvalidArgument("missing x-amz-copy-source");
  std::string_view v = *h;
  auto q = v.find("?versionId=");
  if (q != std::string_view::npos) v = v.substr(0, q);
  auto decoded = s3::UriDecode(v);
  if (!decoded.ok()) return InvalidArgument("Invalid copy source encoding");
  std::string_view s = *decoded;
  if (!s.empty() && s.front() == '/') s.remove_prefix(1);
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) {
    return InvalidArgument(
        "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  }
  return CopySource{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1))};
}

namespace {
bool EtagMatches(std::string_view cond, const std::string& etag) {
  // A comma-separated list of quoted ETags, or "*".
  while (!cond.empty()) {
    auto comma = cond.find(',');
    std::string_view t = cond.substr(0, comma);
    cond = comma == std::string_view::npos ? std::string_view() : cond.substr(comma + 1);
    while (!t.empty() && t.front() == ' ') t.remove_prefix(1);
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    if (t.starts_with("W/")) t.remove_prefix(2);
    if (t.size() >= 2 && t.front() == '"' && t.back() == '"') t = t.substr(1, t.size() - 2);
    if (t == "*" || t == etag) return true;
  }
  return false;
}
}  // namespace

bool ConditionalEtagMatches(std::string_view cond, const std::string& etag) {
  return EtagMatches(cond, etag);
}

Status CheckCopyConditions(const SimRequest& req, const ObjectRecord& src) {
  auto failed = [] {
    return S3Error(412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  };
  if (const std::string* m = req.Header("x-amz-copy-source-if-match")) {
    if (!EtagMatches(*m, src.etag)) return failed();
  }
  if (const std::string* m = req.Header("x-amz-copy-source-if-none-match")) {
    if (EtagMatches(*m, src.etag)) return failed();
  }
  return Status::Ok();
}

Result<long> IntQuery(const SimRequest& req, std::string_view name, long fallback, long min,
                      long max) {
  const std::string* v = req.Query(name);
  if (!v) return fallback;
  try {
    std::size_t used = 0;
    long n = std::stol(*v, &used);
    if (used != v->size() || n < min) throw std::invalid_argument("range");
    return std::min(n, max);
  } catch (const std::exception&) {
    return InvalidArgument("Provided " + std::string(name) +
                           " not an integer or within integer range");
  }
}

}  // namespace ferry::sim
