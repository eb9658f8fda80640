// Object handlers: HeadObject, GetObject, PutObject, CopyObject, DeleteObject.
#include "protocols/base/digest.h"
#include "sim/encryption.h"
#include "sim/errors.h"
#include "sim/ops.h"
#include "sim/xml.h"

namespace ferry::sim {
namespace {

constexpr std::uint64_t kMaxCopySize = 5ull << 30;

struct Span {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// Parses "bytes=a-b" / "bytes=a-" / "bytes=-n" against `size`. nullopt:
// ignore the header (not a single byte range). Error: 416 InvalidRange.
Result<std::optional<Span>> ParseRange(std::string_view h, std::uint64_t size) {
  auto invalid = [] {
    return S3Error(416, "InvalidRange", "The requested range is not satisfiable");
  };
  if (!h.starts_with("bytes=")) return std::optional<Span>();
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return std::optional<Span>();
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return std::optional<Span>();
  auto num = [](std::string_view s, std::uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    std::uint64_t v = 0;
    for (char ch : s) {
      if (ch < '0' || ch > '9') return false;
      v = v * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    *out = v;
    return true;
  };
  std::uint64_t a = 0, b = 0;
  std::string_view first = h.substr(0, dash), last = h.substr(dash + 1);
  if (first.empty()) {  // suffix: the last n bytes
    if (!num(last, &b)) return std::optional<Span>();
    if (b == 0 || size == 0) return invalid();
    b = std::min(b, size);
    return std::optional<Span>(Span{size - b, b});
  }
  if (!num(first, &a)) return std::optional<Span>();
  if (last.empty()) {
    b = size == 0 ? 0 : size - 1;
  } else if (!num(last, &b) || b < a) {
    return std::optional<Span>();
  }
  if (a >= size) return invalid();
  b = std::min(b, size - 1);
  return std::optional<Span>(Span{a, b - a + 1});
}

// GET and HEAD share everything but the body.
Result<SimResponse> ObjectResponse(OpContext& c) {
  FERRY_ASSIGN_OR_RETURN(ObjectRecord obj, c.svc.store.GetObject(c.bucket, c.key));
  FERRY_RETURN_IF_ERROR(CheckCustomerKey(c.req, SseOf(obj.metadata), /*copy_source=*/false));
  SimResponse r;
  if (const std::string* m = c.req.Header("if-match")) {
    if (!ConditionalEtagMatches(*m, obj.etag)) {
      return S3Error(412, "PreconditionFailed",
                     "At least one of the pre-conditions you specified did not hold");
    }
  }
  if (const std::string* m = c.req.Header("if-none-match")) {
    if (ConditionalEtagMatches(*m, obj.etag)) {
      r.status = 304;
      r.Set("ETag", Quote(obj.etag));
      r.Set("Last-Modified", HttpDate(obj.last_modified));
      r.omit_body = true;
      return r;
    }
  }
  Span span{0, obj.size};
  bool partial = false;
  FERRY_ASSIGN_OR_RETURN(long part, IntQuery(c.req, "partNumber", 0, 1, 10000));
  const std::string* range = c.req.Header("range");
  if (part > 0 && range) {
    return S3Error(400, "InvalidRequest",
                   "Cannot specify both Range header and partNumber query parameter");
  }
  if (part > 0) {
    std::size_t count = obj.part_sizes.empty() ? 1 : obj.part_sizes.size();
    if (static_cast<std::size_t>(part) > count) {
      return S3Error(416, "InvalidPartNumber", "The requested partnumber is not satisfiable");
    }
    if (!obj.part_sizes.empty()) {
      for (long i = 0; i < part - 1; ++i)
        span.offset += obj.part_sizes[static_cast<std::size_t>(i)];
      span.length = obj.part_sizes[static_cast<std::size_t>(part - 1)];
      r.Set("x-amz-mp-parts-count", std::to_string(count));
      partial = true;
    }
  } else if (range) {
    auto parsed = ParseRange(*range, obj.size);
    if (!parsed.ok()) {
      Status st = parsed.status();
      return st;
    }
    if (parsed->has_value()) {
      span = **parsed;
      partial = true;
    }
  }
  r.status = partial ? 206 : 200;
  if (partial) {
    r.Set("Content-Range", "bytes " + std::to_string(span.offset) + "-" +
                               std::to_string(span.offset + span.length - (span.length ? 1 : 0)) +
                               "/" + std::to_string(obj.size));
  }
  r.Set("ETag", Quote(obj.etag));
  r.Set("Last-Modified", HttpDate(obj.last_modified));
  r.Set("Accept-Ranges", "bytes");
  // A checksum describes the whole object or one part, never a byte range.
  if (!range || part > 0) AddChecksumHeaders(c.req, obj, part, r);
  AddMetadataHeaders(obj.metadata, r);
  // response-content-type & co. override stored headers on GET.
  static constexpr std::pair<std::string_view, std::string_view> kOverrides[] = {
      {"response-content-type", "content-type"},
      {"response-content-disposition", "content-disposition"},
      {"response-content-encoding", "content-encoding"},
      {"response-content-language", "content-language"},
      {"response-cache-control", "cache-control"},
      {"response-expires", "expires"}};
  for (const auto& [q, h] : kOverrides) {
    if (const std::string* v = c.req.Query(q)) {
      std::erase_if(r.headers, [&](const auto& kv) { return kv.first == h; });
      r.Set(std::string(h), *v);
    }
  }
  if (!c.head && !obj.body->kept()) return BodyNotKept(obj.size);
  r.blob = obj.body;
  r.blob_offset = span.offset;
  r.blob_length = span.length;
  r.omit_body = c.head;
  return r;
}

}  // namespace

HandlerResult HeadObject(OpContext& c) { co_return ObjectResponse(c); }

HandlerResult GetObject(OpContext& c) { co_return ObjectResponse(c); }

HandlerResult PutObject(OpContext& c) {
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  const std::string* if_none = c.req.Header("if-none-match");
  auto exists = [&] { return c.svc.store.GetObject(c.bucket, c.key).ok(); };
  auto precondition = [] {
    return S3Error(412, "PreconditionFailed",
                   "At least one of the pre-conditions you specified did not hold");
  };
  if (if_none && *if_none == "*" && exists()) co_return precondition();
  FERRY_CO_ASSIGN_OR_RETURN(Sse sse, SseForWrite(c.svc.store, c.bucket, c.req));
  FERRY_CO_ASSIGN_OR_RETURN(ReceivedBody body, co_await ReceiveBody(c, c.flip_upload));
  if (if_none && *if_none == "*" && exists()) co_return precondition();
  ObjectRecord rec;
  rec.key = c.key;
  rec.size = body.size;
  rec.etag = EtagFor(sse, body.md5_raw);
  rec.last_modified = Clock::now();
  rec.metadata = MetadataFromRequest(c.req);
  StoreSse(sse, rec.metadata);
  rec.body = body.blob;
  if (!body.checksum_crc32c.empty()) {
    rec.checksum_crc32c = body.checksum_crc32c;
    rec.checksum_type = "FULL_OBJECT";
  }
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.PutObject(c.bucket, rec));
  c.svc.Publish({"ObjectCreated:Put", c.bucket, c.key, rec.size, rec.etag, rec.last_modified});
  SimResponse r;
  r.Set("ETag", Quote(rec.etag));
  if (!rec.checksum_crc32c.empty()) {
    r.Set("x-amz-checksum-crc32c", rec.checksum_crc32c);
    r.Set("x-amz-checksum-type", rec.checksum_type);
  }
  AddSseHeaders(sse, r);
  co_return r;
}

HandlerResult CopyObject(OpContext& c) {
  FERRY_CO_ASSIGN_OR_RETURN(CopySource src, ParseCopySource(c.req));
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.CheckBucket(c.bucket));
  FERRY_CO_ASSIGN_OR_RETURN(ObjectRecord obj, c.svc.store.GetObject(src.bucket, src.key));
  FERRY_CO_RETURN_IF_ERROR(CheckCustomerKey(c.req, SseOf(obj.metadata), /*copy_source=*/true));
  FERRY_CO_RETURN_IF_ERROR(CheckCopyConditions(c.req, obj));
  // A copy is encrypted as its request or the target bucket says, never
  // as its source was.
  FERRY_CO_ASSIGN_OR_RETURN(Sse sse, SseForWrite(c.svc.store, c.bucket, c.req));
  if (obj.size > kMaxCopySize) {
    co_return S3Error(400, "InvalidRequest",
                      "The specified copy source is larger than the maximum allowable size for "
                      "a copy source: 5368709120");
  }
  bool replace = c.req.HeaderOr("x-amz-metadata-directive") == "REPLACE";
  bool changes = replace || c.req.Header("x-amz-storage-class") ||
                 c.req.Header("x-amz-server-side-encryption") ||
                 c.req.Header("x-amz-server-side-encryption-customer-algorithm");
  if (src.bucket == c.bucket && src.key == c.key && !changes) {
    co_return S3Error(400, "InvalidRequest",
                      "This copy request is illegal because it is trying to copy an object to "
                      "itself without changing the object's metadata, storage class, website "
                      "redirect location or encryption attributes.");
  }
  ObjectRecord rec;
  rec.key = c.key;
  rec.size = obj.size;
  rec.body = obj.body;
  rec.last_modified = Clock::now();
  if (replace) {
    rec.metadata = MetadataFromRequest(c.req);
  } else {
    rec.metadata = obj.metadata;
    for (const auto& [n, v] : MetadataFromRequest(c.req)) {
      if (n == "x-amz-storage-class" || n.starts_with("x-amz-server-side-encryption")) {
        std::erase_if(rec.metadata, [&](const auto& kv) { return kv.first == n; });
        rec.metadata.emplace_back(n, v);
      }
    }
  }
  StoreSse(sse, rec.metadata);
  // A copy is a single-part object: its ETag is the MD5 of the bytes (or
  // opaque, when encrypted so).
  if (obj.part_sizes.empty()) {
    rec.checksum_crc32c = obj.checksum_crc32c;  // the bytes are the same
    rec.checksum_type = obj.checksum_type;
  }
  if (obj.part_sizes.empty() && SseOf(obj.metadata).EtagIsMd5() && sse.EtagIsMd5()) {
    rec.etag = obj.etag;
  } else {
    if (!obj.body->kept()) co_return BodyNotKept(obj.size);
    auto md5 = Md5HexOfBlob(*obj.body, 0, obj.size);
    if (!md5.ok()) co_return InternalError(md5.status().error().message);
    std::string raw;
    if (!digest::FromHex(*md5, &raw)) co_return InternalError("bad MD5 of a copied object");
    rec.etag = EtagFor(sse, raw);
  }
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.PutObject(c.bucket, rec));
  c.svc.Publish({"ObjectCreated:Copy", c.bucket, c.key, rec.size, rec.etag, rec.last_modified});
  SimResponse r;
  r.Set("Content-Type", "application/xml");
  AddSseHeaders(sse, r);
  r.body = XmlWriter("CopyObjectResult")
               .Element("LastModified", Iso8601(rec.last_modified))
               .Element("ETag", Quote(rec.etag))
               .Finish();
  co_return r;
}

HandlerResult DeleteObject(OpContext& c) {
  bool existed = false;
  FERRY_CO_RETURN_IF_ERROR(c.svc.store.DeleteObject(c.bucket, c.key, &existed));
  if (existed) c.svc.Publish({"ObjectRemoved:Delete", c.bucket, c.key, 0, "", Clock::now()});
  SimResponse r;
  r.status = 204;
  co_return r;
}

}  // namespace ferry::sim
