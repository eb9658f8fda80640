// S3 client for one bucket on one endpoint: builds, signs and sends each S3
// operation and turns the answer into a value or a classified error.
//
// No retries here (the engine owns retry, backoff and pacing). Every error
// is classified (see ClassifyError in errors.h) and carries HTTP status, S3
// error code, message, request id, endpoint, bucket and key. A 200 whose
// body is an <Error> (CompleteMultipartUpload, CopyObject, UploadPartCopy)
// is an error. Malformed or truncated XML is kRetryable with a clear message.
// A RequestTimeTooSkewed answer teaches the client the server's clock (see
// clock_skew.h); it is then kRetryable when the offset changed, so a retry
// signed with the corrected time goes through.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/http/client.h"
#include "protocols/s3/clock_skew.h"
#include "protocols/s3/credentials.h"
#include "protocols/s3/types.h"

namespace ferry::s3 {

enum class Addressing { kPath, kVirtualHosted };
enum class PayloadSigning {
  kAuto,      // sign the payload hash on plain HTTP, UNSIGNED-PAYLOAD over TLS
  kSigned,    // always compute and sign SHA-256 of bodies
  kUnsigned,  // always UNSIGNED-PAYLOAD (Content-MD5 still sent when known)
};

struct ClientOptions {
  http::Url endpoint;
  std::string region = "us-east-1";
  std::string bucket;
  Addressing addressing = Addressing::kPath;
  PayloadSigning payload_signing = PayloadSigning::kAuto;
  std::shared_ptr<CredentialsProvider> credentials;
  http::ClientOptions http;
  std::chrono::milliseconds request_timeout{60'000};    // small requests
  std::chrono::milliseconds progress_timeout{30'000};   // body transfers
  // Body transfers get request_timeout + size / min_throughput as deadline.
  std::uint64_t min_throughput_bytes_per_sec = 1u << 20;
  // Clock offset to sign with (see clock_skew.h); nullptr = the one shared
  // by every client of this endpoint in the process (ClockSkewFor).
  std::shared_ptr<ClockSkew> clock_skew;
  // Told of every exchange and byte (stall detection, current rates); may be
  // shared by clients of one endpoint. nullptr: none.
  std::shared_ptr<http::Activity> activity;
};

class Client {
 public:
  // Fails on bad options (empty bucket, bad TLS settings).
  static Result<std::shared_ptr<Client>> Create(boost::asio::any_io_executor executor,
                                                ClientOptions options);
  // Shares an existing HTTP client (same endpoint, another bucket).
  static Result<std::shared_ptr<Client>> Create(std::shared_ptr<http::Client> http,
                                                ClientOptions options);
  virtual ~Client() = default;

  virtual const ClientOptions& options() const = 0;
  virtual std::shared_ptr<http::Client> http_client() const = 0;

  // Bucket (for tests, demos and fixtures).
  virtual io::Task<Status> CreateBucket() = 0;  // OK if it exists and is ours
  virtual io::Task<Status> HeadBucket() = 0;

  virtual io::Task<Result<ListObjectsV2Result>> ListObjectsV2(ListObjectsV2Request req) = 0;
  virtual io::Task<Result<ObjectInfo>> HeadObject(HeadObjectRequest req) = 0;
  // Streams the body into `sink`. 206 for ranges; 416 → kInvalidArgument.
  virtual io::Task<Result<GetObjectResult>> GetObject(GetObjectRequest req,
                                                      io::BodySink& sink) = 0;
  virtual io::Task<Result<PutResult>> PutObject(std::string key, const ObjectMetadata& meta,
                                                io::BodySource& body) = 0;
  virtual io::Task<Result<std::string>> CreateMultipartUpload(std::string key,
                                                              const ObjectMetadata& meta) = 0;
  virtual io::Task<Result<PutResult>> UploadPart(std::string key, std::string upload_id,
                                                 int part_number, io::BodySource& body) = 0;
  virtual io::Task<Result<PutResult>> UploadPartCopy(std::string key, std::string upload_id,
                                                     int part_number, CopySource source) = 0;
  virtual io::Task<Result<PutResult>> CompleteMultipartUpload(
      std::string key, std::string upload_id, std::vector<CompletedPart> parts) = 0;
  virtual io::Task<Status> AbortMultipartUpload(std::string key, std::string upload_id) = 0;
  virtual io::Task<Result<ListPartsResult>> ListParts(std::string key, std::string upload_id,
                                                      int part_number_marker) = 0;
  virtual io::Task<Result<ListUploadsResult>> ListMultipartUploads(
      std::string prefix, std::string key_marker, std::string upload_id_marker,
      UploadKeys undeclared) = 0;
  // Copies within the endpoint. With `replace` the metadata is replaced
  // (REPLACE directive), else copied from the source.
  virtual io::Task<Result<PutResult>> CopyObject(std::string key, CopySource source,
                                                 std::optional<ObjectMetadata> replace) = 0;
  virtual io::Task<Status> DeleteObject(std::string key) = 0;
  // Up to 1000 keys; returns the per-key failures (empty: all deleted).
  virtual io::Task<Result<std::vector<DeleteError>>> DeleteObjects(
      std::vector<std::string> keys) = 0;
};

}  // namespace ferry::s3
