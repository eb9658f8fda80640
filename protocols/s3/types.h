// S3 request and response messages, as plain values. Keys are raw UTF-8
// (never URL-encoded here); ETags have their quotes removed.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::s3 {

// How the server encrypted an object, from x-amz-server-side-encryption
// ("AES256", "aws:kms", "aws:kms:dsse") or
// x-amz-server-side-encryption-customer-algorithm (SSE-C). Only objects
// stored unencrypted or with SSE-S3 have ETags that are MD5s of their bytes
// (or md5(part MD5s)-N); SSE-KMS, DSSE-KMS and SSE-C ETags are opaque.
enum class Encryption { kNone, kSseS3, kSseKms, kDsseKms, kSseC, kOther };

inline Encryption EncryptionOf(std::string_view sse, std::string_view customer_algorithm) {
  if (!customer_algorithm.empty()) return Encryption::kSseC;
  if (sse.empty()) return Encryption::kNone;
  if (sse == "AES256") return Encryption::kSseS3;
  if (sse == "aws:kms") return Encryption::kSseKms;
  if (sse == "aws:kms:dsse") return Encryption::kDsseKms;
  return Encryption::kOther;  // unknown: never taken for an MD5
}

inline std::string_view EncryptionName(Encryption e) {
  switch (e) {
    case Encryption::kNone: return "none";
    case Encryption::kSseS3: return "SSE-S3";
    case Encryption::kSseKms: return "SSE-KMS";
    case Encryption::kDsseKms: return "DSSE-KMS";
    case Encryption::kSseC: return "SSE-C";
    case Encryption::kOther: return "unknown";
  }
  return "unknown";
}

// True when an object so encrypted has an MD5-based ETag (on an endpoint
// whose ETags are MD5s at all: Capabilities::etag_is_md5).
inline bool EtagMayBeMd5(Encryption e) {
  return e == Encryption::kNone || e == Encryption::kSseS3;
}

// The N of a multipart ETag "<hex>-N" (quotes allowed); 0 for any other.
inline int EtagPartCount(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  const auto dash = etag.rfind('-');
  if (dash == std::string_view::npos || dash + 1 >= etag.size()) return 0;
  int n = 0;
  for (std::size_t i = dash + 1; i < etag.size(); ++i) {
    if (etag[i] < '0' || etag[i] > '9' || n > 100000) return 0;
    n = n * 10 + (etag[i] - '0');
  }
  return n;
}

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
  // x-amz-server-side-encryption-customer-algorithm of an answer (SSE-C);
  // never sent (ferry holds no customer keys).
  std::string sse_customer_algorithm{};
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
  Encryption encryption() const {
    return EncryptionOf(metadata.sse, metadata.sse_customer_algorithm);
  }
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
  // x-amz-server-side-encryption(-customer-algorithm) of the answer: how
  // the written object (or part) is encrypted ("" when not said).
  std::string sse{};
  std::string sse_customer_algorithm{};
  Encryption encryption() const { return EncryptionOf(sse, sse_customer_algorithm); }
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

// How ListMultipartUploads' <Key> and key marker are read when the answer
// has no <EncodingType> although encoding-type=url was asked for: as sent
// (AWS always declares what it encoded), or URL-encoded anyway (Ceph RGW 16
// encodes as asked and leaves the element out; the start-up probe learns
// it, storage/s3/s3_probe.h).
enum class UploadKeys { kAsDeclared, kUrlEncoded };

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
