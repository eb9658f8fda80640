// Backend fixtures for the conformance suite: each one starts (or reaches) a
// storage server once per test binary and hands out a storage::Backend on it.
//
//   s3sim     the project's simulator binary, strict SigV4, 1 MiB min parts
//   file      the file backend on a temporary directory
//   s3rver    the node s3rver from tools/npm (a third-party S3 imitation)
//   rgw       a throwaway Ceph RGW 16.2 cluster (tests/support/rgw.h)
//   moto      moto_server (Python), only when it is on PATH; the binary
//             says on stderr when its cases did not run
//   external  a real endpoint, only when every FERRY_S3_* variable is set
//
// Where a server knowingly differs from S3, its fixture says so in
// Capabilities (what the engine also sees) or in Deviations (what only the
// suite needs to know), and the cases assert the server's actual behaviour.
//
// Fixtures live until the end of the test binary (a GoogleTest environment
// tears them down), so servers are started once and shared by all cases.
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "storage/backend.h"

namespace ferry::conformance {

// Behaviour the suite has to know about that Capabilities does not describe.
// Defaults are AWS S3's.
struct Deviations {
  // The ETag of a completed multipart upload is the MD5 of the whole object
  // instead of "<md5 of the part MD5s>-N".
  bool multipart_etag_is_whole_md5 = false;
  // A delimiter listing reports a common prefix only when an object sits
  // directly one level under it; deeper trees are missing from the answer.
  bool common_prefixes_one_level_only = false;
  // ListParts / ListMultipartUploads / AbortMultipartUpload answered at all.
  bool list_parts = true;
  bool list_uploads = true;
  bool abort_upload = true;
  // UploadPart / CompleteMultipartUpload reject an upload id never created.
  bool checks_upload_id = true;
  // UploadPartCopy implemented.
  bool upload_part_copy = true;
  // x-amz-copy-source decoded like JavaScript's decodeURI, which leaves the
  // escapes of ; / ? : @ & = + $ , # in place: such keys cannot be copied.
  bool copy_source_decode_uri = false;
  // Keys are stored as file paths joined and normalised: "a//b", "x/../y"
  // and "/k" name the same object as "a/b", "y" and "k".
  bool keys_are_normalised_paths = false;
  // Keys with an empty segment ("a//b", a leading '/') do not match the
  // server's routes: every request on them is a plain-text 404.
  bool rejects_empty_key_segments = false;
  // Longest path component (bytes between slashes) the server can store;
  // 0 = no limit beyond the 1024-byte key. s3rver exits (unhandled
  // ENAMETOOLONG) on a longer one, so such keys are not sent to it.
  std::size_t max_key_component = 0;
  // DeleteObjects may fail with 500 InternalError when it empties a
  // folder (s3rver deletes the keys concurrently and races on removing the
  // empty directory). The keys are gone; a retry, as the engine makes, passes.
  bool delete_batch_may_race = false;
  // "Range: bytes=0-0" answered with the whole object (s3rver reads the end
  // 0 as "no end"); the backend must notice and fail.
  bool ignores_range_ending_at_zero = false;
  // HEAD ?partNumber=N answers with part N's own MD5 as ETag instead of the
  // whole object's ETag (moto). Size and parts count are right, and they are
  // all the engine takes from that answer.
  bool head_part_etag_is_part_md5 = false;
  // UploadPart naming an upload id never created answers 500 (moto's lookup
  // of the id raises) instead of 404 NoSuchUpload: retryable, not not-found.
  bool unknown_upload_part_is_500 = false;
  // What Backend::Probe must find (storage/s3/s3_probe.h); nullopt where the
  // backend has nothing to probe (the file backend knows itself).
  std::optional<bool> probe_head_part_number = true;
  std::optional<bool> probe_checksum_crc32c = true;
  std::optional<bool> probe_etag_is_md5 = true;
  std::optional<bool> probe_uploads_encoded_undeclared = false;
};

class BackendFixture {
 public:
  virtual ~BackendFixture() = default;
  virtual std::string name() const = 0;
  // Starts the server (if any) and opens the backend on `ioc`.
  virtual Status Start(boost::asio::io_context& ioc) = 0;
  virtual std::shared_ptr<storage::Backend> backend() const = 0;
  // The part size the fast multipart cases use (>= the backend's minimum).
  virtual std::uint64_t fast_part_size() const = 0;
  virtual const Deviations& deviations() const = 0;
  // A second bucket on the same endpoint (sharing the connection pool), for
  // cross-bucket copies; nullptr when the fixture has none.
  virtual std::shared_ptr<storage::Backend> other_bucket() const { return nullptr; }
  // OK while the fixture's server (if any) is still running; else how it
  // ended, so a crashed server is named instead of "connection refused".
  virtual Status Healthy() { return Status::Ok(); }
  // Where this fixture keeps its data, for messages ("s3sim at 127.0.0.1:N").
  virtual std::string Describe() const = 0;
};

// Fixture names in the order they are instantiated: s3sim, file, s3rver, rgw
// and, when available, moto, then external when configured.
std::vector<std::string> FixtureNames();

// The shared io_context every fixture's backend runs on.
boost::asio::io_context& SharedIoContext();

// The started fixture called `name` (started on first use; the failure is
// remembered so later cases fail fast with the same message).
Result<BackendFixture*> GetFixture(std::string_view name);

// "ferry-conformance-<random>/": the one prefix under which this run writes.
const std::string& RunPrefix();

}  // namespace ferry::conformance
