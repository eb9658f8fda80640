// S3 request and response messages, as plain values. Keys are raw UTF-8
// (never URL-encoded here); ETags have their quotes removed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ferry::s3 {

using TimePoint = std::chrono::system_clock::time_point;

struct ObjectMetadata {
  std::string content_type;
  std::string content_encoding;
  std::string cache_control;
  std::string content_disposition;
  std::string content_language;
  std::string expires;  // HTTP-date, passed through
  // x-amz-meta-<name>: names lower-case, without the prefix.
  std::map<std::string, std::string> user;
  std::string storage_class;  // "" = bucket default; e.g. STANDARD_IA
  // Server-side encryption: "" (none/bucket default), "AES256" or "aws:kms".
  std::string sse;
  std::string sse_kms_key_id;
  // CreateMultipartUpload only: "CRC32C" asks for per-part CRC32C checksums
  // (x-amz-checksum-algorithm, COMPOSITE type); never read from answers.
  std::string checksum_algorithm{};
};

struct ObjectSummary {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;
  TimePoint last_modified{};
  std::string storage_class;
};

struct ListObjectsV2Request {
  std::string prefix;
  std::string delimiter;
  std::string continuation_token;
  std::string start_after;
  int max_keys = 1000;
  bool encoding_type_url = true;  // ask for encoding-type=url and decode the answer
};

struct ListObjectsV2Result {
  std::vector<ObjectSummary> contents;
  std::vector<std::string> common_prefixes;
  bool is_truncated = false;
  std::string next_continuation_token;
  int key_count = 0;
};

struct HeadObjectRequest {
  std::string key;
  std::optional<int> part_number;  // HEAD ?partNumber=N reveals multipart layout
  std::string if_match;            // ETag without quotes; empty = none
  std::string if_none_match;
  bool checksum_mode = false;      // x-amz-checksum-mode: ENABLED (checksums in the answer)
};

struct ObjectInfo {
  std::uint64_t size = 0;  // whole object (for partNumber: the part's length)
  std::string etag;
  TimePoint last_modified{};
  ObjectMetadata metadata;
  std::optional<int> parts_count;         // x-amz-mp-parts-count
  std::map<std::string, std::string> checksums;  // "CRC32C" -> base64, when returned
  std::string checksum_type{};  // x-amz-checksum-type: "FULL_OBJECT" / "COMPOSITE" / ""
  std::string version_id;
  // The CRC32C the server returned ("" when none): base64, or "base64-N" for
  // a COMPOSITE multipart object.
  std::string crc32c() const {
    auto it = checksums.find("CRC32C");
    return it == checksums.end() ? std::string() : it->second;
  }
};

struct ByteRange {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;  // > 0
};

struct GetObjectRequest {
  std::string key;
  std::optional<ByteRange> range;
  std::optional<int> part_number;
  std::string if_match;
  bool checksum_mode = false;  // x-amz-checksum-mode: ENABLED
};

struct GetObjectResult {
  ObjectInfo info;              // size is the object's total size
  std::uint64_t content_length = 0;  // bytes in this response
};

struct PutResult {
  std::string etag;
  std::string version_id;
  std::string checksum_crc32c{};  // as the server echoed it ("" when none)
};

struct CopySource {
  std::string bucket;  // empty: the client's own bucket
  std::string key;
  std::string if_match;  // x-amz-copy-source-if-match
  std::optional<ByteRange> range;  // UploadPartCopy only
};

struct CompletedPart {
  int part_number = 0;
  std::string etag;
  std::string checksum_crc32c{};  // base64; required by uploads created with CRC32C
};

struct PartSummary {
  int part_number = 0;
  std::string etag;
  std::uint64_t size = 0;
  TimePoint last_modified{};
  std::string checksum_crc32c{};  // base64, when the part has one
};

struct ListPartsResult {
  std::vector<PartSummary> parts;
  bool is_truncated = false;
  int next_part_number_marker = 0;
};

struct UploadSummary {
  std::string key;
  std::string upload_id;
  TimePoint initiated{};
};

struct ListUploadsResult {
  std::vector<UploadSummary> uploads;
  bool is_truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

struct DeleteError {
  std::string key;
  std::string code;
  std::string message;
};

}  // namespace ferry::s3
