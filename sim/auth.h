// Strict SigV4 verification of incoming requests (header form, and presigned
// query form), and the body reader that enforces what the signature promised
// about the payload (SHA-256, or aws-chunked with chunk signatures).
//
// The canonical request is rebuilt from what was received: the raw path
// decoded and re-encoded once (S3 rules, no dot-segment normalisation), the
// decoded query, and exactly the headers listed in SignedHeaders.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "protocols/base/status.h"
#include "sim/message.h"
#include "sim/store.h"

namespace ferry::sim {

enum class PayloadMode {
  kSigned,            // hex SHA-256 in x-amz-content-sha256: verified at the end
  kUnsigned,          // UNSIGNED-PAYLOAD
  kStreamingSigned,   // STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]
  kStreamingUnsigned  // STREAMING-UNSIGNED-PAYLOAD-TRAILER
};

struct AuthContext {
  PayloadMode mode = PayloadMode::kUnsigned;
  std::string payload_sha256;  // kSigned
  // For chunk signatures (kStreamingSigned).
  std::string signing_key;
  std::string amz_date;
  std::string scope;
  std::string signature;
};

struct AuthConfig {
  std::string access_key;
  std::string secret_key;
  std::string region;
  std::chrono::seconds max_skew{15 * 60};
};

// Verifies the request's signature. Errors are S3 errors: 403 AccessDenied
// (no auth), 403 InvalidAccessKeyId, 403 SignatureDoesNotMatch, 403
// RequestTimeTooSkewed, 400 AuthorizationHeaderMalformed / InvalidRequest.
Result<AuthContext> Authenticate(const SimRequest& req, const AuthConfig& cfg,
                                 Clock::time_point now);

// Wraps the transport body so that reading it decodes aws-chunked bodies and
// checks the payload against `auth` (400 XAmzContentSHA256Mismatch,
// 403 SignatureDoesNotMatch for a bad chunk, 400 IncompleteBody).
// REQUIRES: `raw` outlives the returned reader.
std::unique_ptr<BodyReader> MakePayloadReader(BodyReader& raw, const AuthContext& auth,
                                              const SimRequest& req);

}  // namespace ferry::sim
