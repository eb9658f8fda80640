// Turning S3 answers into classified errors.
#pragma once

#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::s3 {

// Maps HTTP status + S3 error code to a class:
//   404 / NoSuchKey, NoSuchUpload, NoSuchBucket      → kNotFound
//   412 / PreconditionFailed, 304                    → kPrecondition
//   503 SlowDown, 429, 503 (any)                     → kThrottled
//   RequestTimeTooSkewed                             → kClockSkew
//   401/403 (AccessDenied, SignatureDoesNotMatch, InvalidAccessKeyId,
//            ExpiredToken, InvalidToken)             → kAuth
//   500, 502, 504, InternalError, RequestTimeout     → kRetryable
//   501 NotImplemented, 505                          → kFatal
//   other 4xx                                        → kFatal (InvalidArgument etc.)
ErrorClass ClassifyError(int http_status, std::string_view code);

// Builds the Status for a non-2xx answer (or a 200 with an <Error> body) from
// the status, the response body (XML <Error>, possibly empty for HEAD) and
// the request id header.
Status ErrorFromResponse(int http_status, std::string_view body, std::string_view request_id);

}  // namespace ferry::s3
