// The simulator's buckets, objects and multipart uploads.
//
// Thread-safe: one mutex guards all metadata; bodies are immutable Blobs read
// outside the lock. Errors are S3 errors: Status with http_status and code
// set (see S3Error in errors.h), ready to be sent back to a client.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/base/status.h"
#include "sim/blob.h"

namespace ferry::sim {

using Clock = std::chrono::system_clock;
// Stored headers: lower-case names (content-type, x-amz-meta-*, ...), values as sent.
using Metadata = std::vector<std::pair<std::string, std::string>>;

struct ObjectRecord {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // unquoted
  Clock::time_point last_modified{};
  Metadata metadata;
  std::vector<std::uint64_t> part_sizes;  // non-empty for multipart objects
  BlobPtr body;
  // x-amz-checksum-crc32c when the object was written with one: base64, or
  // for a COMPOSITE multipart object "base64-N". checksum_type is
  // "FULL_OBJECT" or "COMPOSITE" then; part_crc32c holds the part CRCs
  // (base64) of a COMPOSITE object (HEAD ?partNumber returns them).
  std::string checksum_crc32c{};
  std::string checksum_type{};
  std::vector<std::string> part_crc32c{};
};

struct PartRecord {
  int number = 0;
  std::string etag;  // unquoted MD5 hex
  std::uint64_t size = 0;
  Clock::time_point last_modified{};
  BlobPtr body;
  std::string checksum_crc32c{};  // base64, when the part was sent with one
};

struct UploadRecord {
  std::string id;
  std::string bucket;
  std::string key;
  Clock::time_point initiated{};
  Metadata metadata;
  std::map<int, PartRecord> parts;
  // x-amz-checksum-algorithm / -type of CreateMultipartUpload, upper-case
  // ("" when none; only CRC32C is validated, others are accepted and ignored).
  std::string checksum_algorithm{};
  std::string checksum_type{};  // "COMPOSITE" (default) or "FULL_OBJECT"
};

struct BucketRecord {
  std::string name;
  Clock::time_point created{};
  // Default encryption of objects written without their own (see
  // encryption.h): "" (none), "AES256", "aws:kms" or "aws:kms:dsse".
  std::string default_sse{};
  std::string default_kms_key_id{};
};

struct ListQuery {
  std::string prefix;
  std::string delimiter;
  std::string after;  // exclusive: keys (and common prefixes) <= after are skipped
  int max_keys = 1000;
};

struct ListPage {
  std::vector<ObjectRecord> contents;  // bodies not set
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // last key or common prefix returned (the next marker)
};

struct CompletePart {
  int number = 0;
  std::string etag;  // quotes allowed
  std::string checksum_crc32c{};  // <ChecksumCRC32C>, "" when absent
};

struct UploadListQuery {
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  int max_uploads = 1000;
};

class Store {
 public:
  explicit Store(std::unique_ptr<BlobFactory> blobs);

  BlobFactory& blobs() { return *blobs_; }

  Status CreateBucket(const std::string& name);
  Status DeleteBucket(const std::string& name);
  bool BucketExists(const std::string& name) const;
  Status CheckBucket(const std::string& name) const;  // NoSuchBucket
  std::vector<BucketRecord> ListBuckets() const;
  Result<BucketRecord> GetBucket(const std::string& name) const;  // NoSuchBucket
  // Sets (algorithm "" clears) the bucket's default encryption; the caller
  // validated the values.
  Status SetBucketEncryption(const std::string& name, std::string algorithm,
                             std::string kms_key_id);

  // Replaces any object at (bucket, record.key).
  Status PutObject(const std::string& bucket, ObjectRecord record);
  Result<ObjectRecord> GetObject(const std::string& bucket, const std::string& key) const;
  // OK when the key did not exist (S3 semantics); *existed says which.
  Status DeleteObject(const std::string& bucket, const std::string& key, bool* existed);
  Result<ListPage> List(const std::string& bucket, const ListQuery& q) const;

  // `checksum_algorithm`/`checksum_type` as in UploadRecord.
  Result<std::string> CreateUpload(const std::string& bucket, const std::string& key,
                                   Metadata metadata, std::string checksum_algorithm = "",
                                   std::string checksum_type = "");
  Status PutPart(const std::string& bucket, const std::string& key, const std::string& upload_id,
                 PartRecord part);
  // A copy of the upload (part bodies shared).
  Result<UploadRecord> GetUpload(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id) const;
  // Validates parts (order, ETags, sizes; CRC32C per part when the upload
  // was created with that algorithm) and publishes the object; a CRC32C
  // upload's object gets its COMPOSITE ("b64-N") or FULL_OBJECT checksum.
  // `expected_crc32c` (x-amz-checksum-crc32c of the request, "" = none) must
  // equal that checksum (400 BadDigest).
  Result<ObjectRecord> CompleteUpload(const std::string& bucket, const std::string& key,
                                      const std::string& upload_id,
                                      const std::vector<CompletePart>& parts,
                                      std::uint64_t min_part_size,
                                      const std::string& expected_crc32c = "");
  Status AbortUpload(const std::string& bucket, const std::string& key,
                     const std::string& upload_id);
  // Sorted by (key, initiation order); parts not included. *truncated set.
  Result<std::vector<UploadRecord>> ListUploads(const std::string& bucket,
                                                const UploadListQuery& q, bool* truncated) const;

 private:
  struct Bucket {
    BucketRecord info;
    std::map<std::string, ObjectRecord> objects;
  };
  Bucket* FindLocked(const std::string& name);
  const Bucket* FindLocked(const std::string& name) const;
  Result<UploadRecord*> FindUploadLocked(const std::string& bucket, const std::string& key,
                                         const std::string& upload_id);

  std::unique_ptr<BlobFactory> blobs_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket> buckets_;       // GUARDED_BY(mu_)
  std::map<std::string, UploadRecord> uploads_;  // GUARDED_BY(mu_), by upload id
  std::uint64_t next_upload_ = 1;               // GUARDED_BY(mu_)
};

}  // namespace ferry::sim
