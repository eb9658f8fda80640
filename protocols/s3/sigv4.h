// AWS Signature Version 4 (header form), for signing requests (client) and
// verifying them (s3sim).
//
// S3 rules differ from other services: the canonical URI is the path encoded
// once, with no dot-segment normalisation. Other services (and the published
// aws-sig-v4-test-suite) double-encode and normalise; SigningOptions selects.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::s3 {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kStreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
// SHA-256 of the empty string.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters
// (A-Z a-z 0-9 - _ . ~) stay, every other byte becomes %XX (upper-case hex).
// With encode_slash=false '/' stays (object key paths).
std::string UriEncode(std::string_view in, bool encode_slash);
// Decodes %XX escapes. With plus_as_space, '+' decodes to ' ' (form encoding).
// Fails on a truncated or non-hex escape.
Result<std::string> UriDecode(std::string_view in, bool plus_as_space = false);

// "20150830T123600Z" and "20150830" for a time point (UTC).
std::string AmzDate(std::chrono::system_clock::time_point t);
std::string DateStamp(std::chrono::system_clock::time_point t);
// Parses "20150830T123600Z".
Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view s);

struct SigningKeyInput {
  std::string secret_access_key;
  std::string date;  // yyyymmdd
  std::string region;
  std::string service;
};
// kSigning = HMAC chain over "AWS4"+secret, date, region, service, "aws4_request".
std::string DeriveSigningKey(const SigningKeyInput& in);

struct SigningOptions {
  std::string region = "us-east-1";
  std::string service = "s3";
  // S3: false/false. Other services (and the test suite): true/true.
  bool double_encode_path = false;
  bool normalize_path = false;
};

// A request as seen by the signer. `path` is the raw path as it goes on the
// wire (already encoded once for S3). `query` holds decoded name/value pairs.
// `headers` are names and values as sent (any case); the signer lower-cases
// names, trims and folds whitespace in values, and signs all of them that it
// is given (callers pass the set they want signed; host and x-amz-* at least).
struct CanonicalInput {
  std::string method;
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string payload_hash;  // hex SHA-256, or UNSIGNED-PAYLOAD / STREAMING-...
};

struct CanonicalRequest {
  std::string text;            // the canonical request
  std::string signed_headers;  // "host;x-amz-content-sha256;x-amz-date"
};

CanonicalRequest BuildCanonicalRequest(const CanonicalInput& in, const SigningOptions& opts);
// "AWS4-HMAC-SHA256\n<amz-date>\n<scope>\n<hex sha256 of canonical request>"
std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request);
std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service);

struct SignedHeaders {
  // Headers to add to the request: x-amz-date, x-amz-content-sha256,
  // x-amz-security-token (when a session token is set), Authorization.
  std::vector<std::pair<std::string, std::string>> add;
  std::string canonical_request;  // for diagnostics in tests only; never logged
  std::string string_to_sign;
};

// Signs `in` (whose headers must already contain Host). Adds the x-amz-date
// and x-amz-content-sha256 (= in.payload_hash) headers to the signed set.
SignedHeaders Sign(CanonicalInput in, std::string_view access_key_id,
                   std::string_view secret_access_key, std::string_view session_token,
                   std::chrono::system_clock::time_point now, const SigningOptions& opts);

// The parts of an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..."
// header. Parsing fails with kAuth on a malformed header.
struct ParsedAuthorization {
  std::string access_key_id;
  std::string date;     // yyyymmdd from the scope
  std::string region;
  std::string service;
  std::vector<std::string> signed_headers;  // lower-case, as listed
  std::string signature;                    // hex
};
Result<ParsedAuthorization> ParseAuthorization(std::string_view header);

// Constant-time comparison of two signatures.
bool SignaturesEqual(std::string_view a, std::string_view b);

}  // namespace ferry::s3
