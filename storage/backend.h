// Backend: the narrow interface the engine moves bytes through (S3, file).
//
// What differs between providers is a Capabilities value, never provider
// checks in the engine. A backend never retries: it classifies every error
// (ErrorClass) and the engine decides on retry, backoff and pacing.
//
// Keys are raw UTF-8 up to 1024 bytes; backends must round-trip any such key
// (spaces, '+', '%', '?', '#', '~', "//", non-ASCII) exactly. ETags are
// returned without quotes. All calls are coroutines on the backend's
// executor; a backend is safe to use from many coroutines at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/s3/types.h"

namespace ferry::storage {

using Metadata = s3::ObjectMetadata;
using ObjectInfo = s3::ObjectInfo;
using ObjectSummary = s3::ObjectSummary;
using ByteRange = s3::ByteRange;
using ListPage = s3::ListObjectsV2Result;
using PartInfo = s3::PartSummary;
using CompletedPart = s3::CompletedPart;
using UploadInfo = s3::UploadSummary;
using DeleteError = s3::DeleteError;
using PutResult = s3::PutResult;
using io::Task;

struct Capabilities {
  bool multipart = true;
  bool server_side_copy = true;      // Copy / UploadPartCopy inside this backend
  bool cross_bucket_copy = false;    // CopySource naming another bucket, same endpoint
  bool head_part_number = true;      // HEAD ?partNumber=N reveals the part layout
  bool etag_is_md5 = true;           // single: MD5 hex; multipart: md5(md5s)-N
  bool list_common_prefixes = true;  // delimiter listing fills common_prefixes
  bool conditional_get = true;       // If-Match on GET answered with 412
  bool checksum_crc32c = false;      // x-amz-checksum-crc32c stored and returned
  // ListMultipartUploads URL-encodes keys as asked but leaves out
  // <EncodingType> (Ceph RGW 16): its keys are decoded anyway.
  bool uploads_encoded_undeclared = false;
  std::uint64_t min_part_size = 5ull << 20;    // all parts but the last
  std::uint64_t max_part_size = 5ull << 30;
  int max_parts = 10000;
  std::uint64_t max_single_put = 5ull << 30;   // PutObject and CopyObject limit
};

struct ListOptions {
  std::string prefix;
  std::string delimiter;
  std::string start_after;
  std::string continuation_token;  // from the previous page
  int max_keys = 1000;
};

struct HeadOptions {
  std::optional<int> part_number;
  std::string if_match;
};

struct GetOptions {
  std::optional<ByteRange> range;
  std::string if_match;  // 412 (kPrecondition) when the object changed
};

struct CopySourceRef {
  std::string bucket;  // empty: this backend's bucket (see cross_bucket_copy)
  std::string key;
  std::string if_match;
  std::optional<ByteRange> range;  // UploadPartCopy only
};

// What to learn about a server at start-up (see Backend::Probe).
struct ProbeOptions {
  // Writes allowed (a destination): small probe objects named
  // `prefix` + ".ferry-probe-<random>" are written and deleted again.
  bool may_write = false;
  std::string prefix;  // where probe objects go, or where a read probe lists
  bool head_part_number = true;  // learn this (false: the config decided it)
  bool checksum_crc32c = true;   // learn this (needs may_write)
  bool etag_is_md5 = true;       // learn this
  // How ListMultipartUploads answers (needs may_write: a probe upload).
  bool uploads_encoding = true;
};

// What a probe learned: a field is set only when the server's answers
// decided it. `notes` say how, for the log.
struct ProbeResult {
  std::optional<bool> head_part_number;
  std::optional<bool> checksum_crc32c;
  std::optional<bool> etag_is_md5;
  std::optional<bool> uploads_encoded_undeclared;
  std::vector<std::string> notes;
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Asks the server what it really does, instead of assuming. A backend that
  // has nothing to learn answers with an empty result.
  virtual Task<ProbeResult> Probe(ProbeOptions opts) { co_return ProbeResult{}; }
  // Takes in what a probe (or a cached probe) learned.
  // REQUIRES: no other operation in flight on this backend.
  virtual void Learn(const ProbeResult& learned) {}

  virtual const Capabilities& capabilities() const = 0;
  // "s3://host:port/bucket" or "file:///path": for messages and metrics.
  virtual std::string Describe() const = 0;
  // Backends with equal endpoint ids can copy between each other server-side
  // (when cross_bucket_copy). Empty: none.
  virtual std::string endpoint_id() const = 0;
  virtual std::string bucket() const = 0;

  // One page of a listing in key (UTF-8 byte) order.
  virtual Task<Result<ListPage>> List(ListOptions opts) = 0;
  virtual Task<Result<ObjectInfo>> Head(std::string key, HeadOptions opts) = 0;
  // Streams the object (or range) into `sink`; returns the object's info.
  virtual Task<Result<ObjectInfo>> Get(std::string key, GetOptions opts, io::BodySink& sink) = 0;
  // Writes a whole object; readers see the old or the new object, never a mix.
  virtual Task<Result<PutResult>> Put(std::string key, io::BodySource& body,
                                      const Metadata& meta) = 0;

  virtual Task<Result<std::string>> CreateMultipart(std::string key, const Metadata& meta) = 0;
  virtual Task<Result<PutResult>> UploadPart(std::string key, std::string upload_id,
                                             int part_number, io::BodySource& body) = 0;
  virtual Task<Result<PutResult>> UploadPartCopy(std::string key, std::string upload_id,
                                                 int part_number, CopySourceRef source) = 0;
  virtual Task<Result<PutResult>> CompleteMultipart(std::string key, std::string upload_id,
                                                    std::vector<CompletedPart> parts) = 0;
  virtual Task<Status> AbortMultipart(std::string key, std::string upload_id) = 0;
  // All parts uploaded so far, in part-number order (pages followed).
  virtual Task<Result<std::vector<PartInfo>>> ListParts(std::string key,
                                                        std::string upload_id) = 0;
  // All open uploads under `prefix` (pages followed).
  virtual Task<Result<std::vector<UploadInfo>>> ListUploads(std::string prefix) = 0;

  // Server-side copy; metadata copied unless `replace` is given.
  virtual Task<Result<PutResult>> Copy(CopySourceRef source, std::string dst_key,
                                       std::optional<Metadata> replace) = 0;
  // Deleting a missing key is OK (S3 semantics).
  virtual Task<Status> Delete(std::string key) = 0;
  // Up to 1000 keys; returns per-key failures.
  virtual Task<Result<std::vector<DeleteError>>> DeleteBatch(std::vector<std::string> keys) = 0;
};

}  // namespace ferry::storage
