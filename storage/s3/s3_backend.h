// S3Backend: the storage::Backend over one bucket of an S3-compatible
// endpoint, built on s3::Client.
//
// The backend is bucket-wide: prefixes are the engine's business. It maps each
// Backend call to one S3 operation (ListParts and ListUploads follow the pages
// to the end, DeleteBatch splits into requests of at most 1000 keys) and never
// retries: errors come back classified by the client, with the endpoint,
// bucket and key filled in, and the engine decides what to do with them.
//
// What a particular server supports is described by S3BackendOptions::
// capabilities; the defaults describe AWS S3. Callers override them for
// servers that deviate (no CommonPrefixes, no HEAD ?partNumber, ...).
//
// REQUIRES: the executor (or the shared HTTP client's executor) outlives the
// backend and every coroutine started on it.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <memory>

#include "protocols/http/client.h"
#include "protocols/s3/client.h"
#include "storage/backend.h"

namespace ferry::storage {

// Capabilities of AWS S3 as seen through this backend.
Capabilities AwsS3Capabilities();

struct S3BackendOptions {
  s3::ClientOptions client;
  Capabilities capabilities = AwsS3Capabilities();
};

// Fails (kInvalidArgument) on bad client options: empty bucket, bad TLS files.
Result<std::shared_ptr<Backend>> OpenS3Backend(boost::asio::any_io_executor ex,
                                               S3BackendOptions opts);
// Shares the connection pool of `http` (same endpoint, e.g. another bucket).
// REQUIRES: http->endpoint() is opts.client.endpoint.
Result<std::shared_ptr<Backend>> OpenS3Backend(std::shared_ptr<http::Client> http,
                                               S3BackendOptions opts);
// Wraps an existing client (tests that also talk to the client directly).
std::shared_ptr<Backend> MakeS3Backend(std::shared_ptr<s3::Client> client,
                                       Capabilities capabilities);

}  // namespace ferry::storage
