// Pure construction of S3 requests: where each operation goes (path-style or
// virtual-hosted), its query string and headers, and the SigV4 signature.
// No I/O, so every operation's exact wire form is unit-testable.
//
// The HTTP client prefixes the endpoint's base path to the target and sets
// Host itself; the builder therefore leaves the base path out of the target
// but signs the full path and the Host the client will send.
#pragma once

#include <boost/beast/http/verb.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/base/status.h"
#include "protocols/http/client.h"
#include "protocols/s3/client.h"
#include "protocols/s3/credentials.h"
#include "protocols/s3/types.h"

namespace ferry::s3 {

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // decoded

// Where requests go, as the HTTP client will send them.
struct RequestContext {
  std::string host_header;  // e.g. "s3.example.com:9000" or "bucket.s3.amazonaws.com"
  std::string base_path;    // "" or "/prefix", added by the HTTP client
  std::string region = "us-east-1";
  std::string bucket;
  Addressing addressing = Addressing::kPath;
};

// One S3 operation before signing.
struct Operation {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  bool bucket_level = false;  // no key in the path
  std::string key;            // raw UTF-8
  QueryParams query;
  http::Headers headers;
  // The object the operation is about, for error context ("" for bucket ops).
  std::string ContextKey() const { return bucket_level ? std::string() : key; }
};

// "name=value&..." with both sides UriEncode(..., true), in the order given.
std::string QueryString(const QueryParams& query);
// Target path without the base path: "/bucket/<key>" (path-style) or
// "/<key>" (virtual-hosted); bucket-level: "/bucket" or "/".
std::string TargetPath(const RequestContext& ctx, bool bucket_level, std::string_view key);

// Builds and signs `op`: target, op's headers and the signer's headers.
// The caller sets body, deadline and progress timeout. Fails
// (kInvalidArgument) on an empty key or a header value with CR/LF/NUL.
Result<http::Request> BuildSignedRequest(const RequestContext& ctx, const Operation& op,
                                         const Credentials& creds, std::string_view payload_hash,
                                         std::chrono::system_clock::time_point now);

// ---- The operations (everything but the body and the signature).
Operation CreateBucketOp(const RequestContext& ctx);  // body: BuildCreateBucketConfiguration
Operation HeadBucketOp();
Operation ListObjectsV2Op(const ListObjectsV2Request& req);
Operation HeadObjectOp(const HeadObjectRequest& req);
Operation GetObjectOp(const GetObjectRequest& req);
Result<Operation> PutObjectOp(std::string key, const ObjectMetadata& meta);
Result<Operation> CreateMultipartUploadOp(std::string key, const ObjectMetadata& meta);
Operation UploadPartOp(std::string key, const std::string& upload_id, int part_number);
Operation UploadPartCopyOp(const RequestContext& ctx, std::string key,
                           const std::string& upload_id, int part_number,
                           const CopySource& source);
Operation CompleteMultipartUploadOp(std::string key, const std::string& upload_id);
Operation AbortMultipartUploadOp(std::string key, const std::string& upload_id);
Operation ListPartsOp(std::string key, const std::string& upload_id, int part_number_marker);
Operation ListMultipartUploadsOp(const std::string& prefix, const std::string& key_marker,
                                 const std::string& upload_id_marker);
Result<Operation> CopyObjectOp(const RequestContext& ctx, std::string key,
                               const CopySource& source,
                               const std::optional<ObjectMetadata>& replace);
Operation DeleteObjectOp(std::string key);
Operation DeleteObjectsOp();  // body: BuildDelete(keys, quiet=true)

// "\"etag\"" (If-Match and friends want the quoted form).
std::string QuoteEtag(std::string_view etag);
// "bytes=a-b" for a range (REQUIRES: range.length > 0).
std::string RangeHeader(const ByteRange& range);

}  // namespace ferry::s3
