// S3 operation handlers and what they share. Each handler runs one
// authenticated request against the store and returns the response (or an S3
// error). Handlers live in ops_bucket.cc, ops_object.cc, ops_multipart.cc.
#pragma once

#include <optional>
#include <string>

#include "protocols/base/status.h"
#include "sim/message.h"
#include "sim/services.h"

namespace ferry::sim {

struct OpContext {
  Services& svc;
  const SimRequest& req;
  BodyReader& body;  // the verified payload
  std::string bucket;
  std::string key;
  std::string request_id;
  bool head = false;         // HEAD request: no body in the answer
  bool flip_upload = false;  // fault: flip one byte of the received body
};

using HandlerResult = io::Task<Result<SimResponse>>;

// Buckets and listings.
HandlerResult ListBuckets(OpContext& c);
HandlerResult CreateBucket(OpContext& c);
HandlerResult HeadBucket(OpContext& c);
HandlerResult DeleteBucket(OpContext& c);
HandlerResult GetBucketLocation(OpContext& c);
HandlerResult GetBucketVersioning(OpContext& c);
HandlerResult ListObjectsV2(OpContext& c);
HandlerResult ListObjectsV1(OpContext& c);
HandlerResult ListMultipartUploads(OpContext& c);
HandlerResult DeleteObjects(OpContext& c);
// Objects.
HandlerResult HeadObject(OpContext& c);
HandlerResult GetObject(OpContext& c);
HandlerResult PutObject(OpContext& c);
HandlerResult CopyObject(OpContext& c);
HandlerResult DeleteObject(OpContext& c);
// Multipart uploads.
HandlerResult CreateMultipartUpload(OpContext& c);
HandlerResult UploadPart(OpContext& c);
HandlerResult UploadPartCopy(OpContext& c);
HandlerResult CompleteMultipartUpload(OpContext& c);
HandlerResult AbortMultipartUpload(OpContext& c);
HandlerResult ListParts(OpContext& c);

// --- shared helpers (ops_common.cc) ---

std::string Quote(std::string_view etag);
// Content-Type & co., x-amz-meta-*, storage class and SSE headers of a request.
Metadata MetadataFromRequest(const SimRequest& req);
// Adds stored metadata to a response (storage class only when not STANDARD).
void AddMetadataHeaders(const Metadata& m, SimResponse& r);

struct ReceivedBody {
  BlobPtr blob;
  std::string md5_raw;  // 16 bytes
  std::uint64_t size = 0;
  std::uint32_t crc32c = 0;       // only when the request sent x-amz-checksum-crc32c
  std::string checksum_crc32c{};  // base64, when the request sent x-amz-checksum-crc32c
};
// Streams the request payload into a new blob, hashing (MD5, and CRC32C when
// the request sent one to check) as it goes; checks Content-MD5 (400 InvalidDigest / BadDigest) and
// x-amz-checksum-crc32c (400 InvalidRequest when malformed, checked before
// the body is read; 400 BadDigest on mismatch). `flip` corrupts one byte first.
io::Task<Result<ReceivedBody>> ReceiveBody(OpContext& c, bool flip);
// The request's x-amz-checksum-crc32c: nullopt when absent; 400
// InvalidRequest when it is not base64 of 4 bytes.
Result<std::optional<std::uint32_t>> RequestCrc32c(const SimRequest& req);
// Adds x-amz-checksum-crc32c and x-amz-checksum-type for a whole object (or
// one part with `part` > 0) when the request asked (x-amz-checksum-mode:
// ENABLED) and the object has one.
void AddChecksumHeaders(const SimRequest& req, const ObjectRecord& obj, long part, SimResponse& r);

struct CopySource {
  std::string bucket;
  std::string key;
};
// Parses x-amz-copy-source ("/bucket/key" or "bucket/key", URL-encoded).
Result<CopySource> ParseCopySource(const SimRequest& req);
// True when an If-Match style list ("\"a\", \"b\"" or "*") names `etag`.
bool ConditionalEtagMatches(std::string_view cond, const std::string& etag);
// Applies x-amz-copy-source-if-{match,none-match} (412 PreconditionFailed).
Status CheckCopyConditions(const SimRequest& req, const ObjectRecord& src);

// Small integer query parameter with a default; 400 InvalidArgument if bad.
Result<long> IntQuery(const SimRequest& req, std::string_view name, long fallback, long min,
                      long max);

}  // namespace ferry::sim
