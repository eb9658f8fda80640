// S3 operations as unsigned requests, and their signing.
#include "protocols/s3/request_builder.h"

#include "protocols/s3/headers.h"
#include "protocols/s3/sigv4.h"

namespace ferry::s3 {
namespace {

using boost::beast::http::verb;

Operation ObjectOp(verb method, std::string key) {
  Operation op;
  op.method = method;
  op.key = std::move(key);
  return op;
}

std::string CopySourceHeader(const RequestContext& ctx, const CopySource& source) {
  const std::string& bucket = source.bucket.empty() ? ctx.bucket : source.bucket;
  return "/" + bucket + "/" + UriEncode(source.key, /*encode_slash=*/false);
}

}  // namespace

std::string QuoteEtag(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') return std::string(etag);
  return "\"" + std::string(etag) + "\"";
}

std::string RangeHeader(const ByteRange& range) {
  return "bytes=" + std::to_string(range.offset) + "-" +
         std::to_string(range.offset + range.length - 1);
}

std::string QueryString(const QueryParams& query) {
  std::string out;
  for (const auto& [name, value] : query) {
    if (!out.empty()) out.push_back('&');
    out.append(UriEncode(name, true)).push_back('=');
    out.append(UriEncode(value, true));
  }
  return out;
}

std::string TargetPath(const RequestContext& ctx, bool bucket_level, std::string_view key) {
  std::string path;
  if (ctx.addressing == Addressing::kPath) path = "/" + ctx.bucket;
  if (bucket_level) return path.empty() ? "/" : path;
  return path + "/" + UriEncode(key, /*encode_slash=*/false);
}

Result<http::Request> BuildSignedRequest(const RequestContext& ctx, const Operation& op,
                                         const Credentials& creds, std::string_view payload_hash,
                                         std::chrono::system_clock::time_point now) {
  if (!op.bucket_level && op.key.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument, "empty object key");
  }
  for (const auto& [name, value] : op.headers) {
    if (!IsValidHeaderValue(value)) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "header " + name + " contains CR, LF or NUL");
    }
  }
  const std::string path = TargetPath(ctx, op.bucket_level, op.key);
  http::Request req;
  req.method = op.method;
  req.target = path;
  if (!op.query.empty()) req.target += "?" + QueryString(op.query);
  req.headers = op.headers;

  CanonicalInput in;
  in.method = std::string(boost::beast::http::to_string(op.method));
  in.path = ctx.base_path + path;
  in.query = op.query;
  in.headers = op.headers;
  in.headers.emplace_back("host", ctx.host_header);
  in.payload_hash = std::string(payload_hash);
  SigningOptions opts;
  opts.region = ctx.region;
  opts.service = "s3";
  SignedHeaders signed_headers = Sign(std::move(in), creds.access_key_id,
                                      creds.secret_access_key, creds.session_token, now, opts);
  for (auto& h : signed_headers.add) req.headers.push_back(std::move(h));
  return req;
}

Operation CreateBucketOp(const RequestContext& ctx) {
  Operation op;
  op.method = verb::put;
  op.bucket_level = true;
  if (ctx.region != "us-east-1" && !ctx.region.empty()) {
    op.headers.emplace_back("Content-Type", "application/xml");
  }
  return op;
}

Operation HeadBucketOp() {
  Operation op;
  op.method = verb::head;
  op.bucket_level = true;
  return op;
}

Operation ListObjectsV2Op(const ListObjectsV2Request& req) {
  Operation op;
  op.method = verb::get;
  op.bucket_level = true;
  op.query.emplace_back("list-type", "2");
  if (!req.continuation_token.empty()) {
    op.query.emplace_back("continuation-token", req.continuation_token);
  }
  if (!req.delimiter.empty()) op.query.emplace_back("delimiter", req.delimiter);
  if (req.encoding_type_url) op.query.emplace_back("encoding-type", "url");
  if (req.max_keys > 0) op.query.emplace_back("max-keys", std::to_string(req.max_keys));
  if (!req.prefix.empty()) op.query.emplace_back("prefix", req.prefix);
  if (!req.start_after.empty()) op.query.emplace_back("start-after", req.start_after);
  return op;
}

Operation HeadObjectOp(const HeadObjectRequest& req) {
  Operation op = ObjectOp(verb::head, req.key);
  if (req.part_number) op.query.emplace_back("partNumber", std::to_string(*req.part_number));
  if (!req.if_match.empty()) op.headers.emplace_back("If-Match", QuoteEtag(req.if_match));
  if (!req.if_none_match.empty()) {
    op.headers.emplace_back("If-None-Match", QuoteEtag(req.if_none_match));
  }
  if (req.checksum_mode) op.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  return op;
}

Operation GetObjectOp(const GetObjectRequest& req) {
  Operation op = ObjectOp(verb::get, req.key);
  if (req.part_number) op.query.emplace_back("partNumber", std::to_string(*req.part_number));
  if (req.range) op.headers.emplace_back("Range", RangeHeader(*req.range));
  if (!req.if_match.empty()) op.headers.emplace_back("If-Match", QuoteEtag(req.if_match));
  if (req.checksum_mode) op.headers.emplace_back("x-amz-checksum-mode", "ENABLED");
  return op;
}

Result<Operation> PutObjectOp(std::string key, const ObjectMetadata& meta) {
  Operation op = ObjectOp(verb::put, std::move(key));
  FERRY_RETURN_IF_ERROR(AppendMetadataHeaders(meta, op.headers));
  return op;
}

Result<Operation> CreateMultipartUploadOp(std::string key, const ObjectMetadata& meta) {
  Operation op = ObjectOp(verb::post, std::move(key));
  op.query.emplace_back("uploads", "");
  FERRY_RETURN_IF_ERROR(AppendMetadataHeaders(meta, op.headers));
  if (!meta.checksum_algorithm.empty()) {
    if (meta.checksum_algorithm != "CRC32C") {
      return Status::Error(ErrorClass::kInvalidArgument,
                           "unsupported checksum algorithm " + meta.checksum_algorithm);
    }
    op.headers.emplace_back("x-amz-checksum-algorithm", "CRC32C");
    op.headers.emplace_back("x-amz-checksum-type", "COMPOSITE");
  }
  return op;
}

Operation UploadPartOp(std::string key, const std::string& upload_id, int part_number) {
  Operation op = ObjectOp(verb::put, std::move(key));
  op.query.emplace_back("partNumber", std::to_string(part_number));
  op.query.emplace_back("uploadId", upload_id);
  return op;
}

Operation UploadPartCopyOp(const RequestContext& ctx, std::string key,
                           const std::string& upload_id, int part_number,
                           const CopySource& source) {
  Operation op = UploadPartOp(std::move(key), upload_id, part_number);
  op.headers.emplace_back("x-amz-copy-source", CopySourceHeader(ctx, source));
  if (!source.if_match.empty()) {
    op.headers.emplace_back("x-amz-copy-source-if-match", QuoteEtag(source.if_match));
  }
  if (source.range) op.headers.emplace_back("x-amz-copy-source-range", RangeHeader(*source.range));
  return op;
}

Operation CompleteMultipartUploadOp(std::string key, const std::string& upload_id) {
  Operation op = ObjectOp(verb::post, std::move(key));
  op.query.emplace_back("uploadId", upload_id);
  op.headers.emplace_back("Content-Type", "application/xml");
  return op;
}

Operation AbortMultipartUploadOp(std::string key, const std::string& upload_id) {
  Operation op = ObjectOp(verb::delete_, std::move(key));
  op.query.emplace_back("uploadId", upload_id);
  return op;
}

Operation ListPartsOp(std::string key, const std::string& upload_id, int part_number_marker) {
  Operation op = ObjectOp(verb::get, std::move(key));
  if (part_number_marker > 0) {
    op.query.emplace_back("part-number-marker", std::to_string(part_number_marker));
  }
  op.query.emplace_back("uploadId", upload_id);
  return op;
}

Operation ListMultipartUploadsOp(const std::string& prefix, const std::string& key_marker,
                                 const std::string& upload_id_marker) {
  Operation op;
  op.method = verb::get;
  op.bucket_level = true;
  op.query.emplace_back("uploads", "");
  op.query.emplace_back("encoding-type", "url");
  if (!key_marker.empty()) op.query.emplace_back("key-marker", key_marker);
  if (!prefix.empty()) op.query.emplace_back("prefix", prefix);
  if (!upload_id_marker.empty()) op.query.emplace_back("upload-id-marker", upload_id_marker);
  return op;
}

Result<Operation> CopyObjectOp(const RequestContext& ctx, std::string key,
                               const CopySource& source,
                               const std::optional<ObjectMetadata>& replace) {
  Operation op = ObjectOp(verb::put, std::move(key));
  op.headers.emplace_back("x-amz-copy-source", CopySourceHeader(ctx, source));
  if (!source.if_match.empty()) {
    op.headers.emplace_back("x-amz-copy-source-if-match", QuoteEtag(source.if_match));
  }
  if (replace) {
    op.headers.emplace_back("x-amz-metadata-directive", "REPLACE");
    FERRY_RETURN_IF_ERROR(AppendMetadataHeaders(*replace, op.headers));
  }
  return op;
}

Operation DeleteObjectOp(std::string key) { return ObjectOp(verb::delete_, std::move(key)); }

Operation DeleteObjectsOp() {
  Operation op;
  op.method = verb::post;
  op.bucket_level = true;
  op.query.emplace_back("delete", "");
  op.headers.emplace_back("Content-Type", "application/xml");
  return op;
}

}  // namespace ferry::s3
