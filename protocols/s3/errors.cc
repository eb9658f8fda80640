// Classification of S3 errors and the Status built from an error answer.
#include "protocols/s3/errors.h"

#include <pugixml.hpp>

#include <array>
#include <utility>

namespace ferry::s3 {
namespace {

struct CodeClass {
  std::string_view code;
  ErrorClass error_class;
};

// Codes whose meaning does not depend on the HTTP status they come with
// (several arrive with a status that alone would mislead, e.g. 400
// RequestTimeout or 403 RequestTimeTooSkewed).
constexpr std::array kCodeClasses = {
    CodeClass{"NoSuchKey", ErrorClass::kNotFound},
    CodeClass{"NoSuchUpload", ErrorClass::kNotFound},
    CodeClass{"NoSuchBucket", ErrorClass::kNotFound},
    CodeClass{"NoSuchVersion", ErrorClass::kNotFound},
    CodeClass{"NotFound", ErrorClass::kNotFound},
    CodeClass{"PreconditionFailed", ErrorClass::kPrecondition},
    CodeClass{"NotModified", ErrorClass::kPrecondition},
    CodeClass{"SlowDown", ErrorClass::kThrottled},
    CodeClass{"Throttling", ErrorClass::kThrottled},
    CodeClass{"ThrottlingException", ErrorClass::kThrottled},
    CodeClass{"RequestLimitExceeded", ErrorClass::kThrottled},
    CodeClass{"TooManyRequests", ErrorClass::kThrottled},
    CodeClass{"TooManyRequestsException", ErrorClass::kThrottled},
    CodeClass{"RequestThrottled", ErrorClass::kThrottled},
    CodeClass{"ServiceUnavailable", ErrorClass::kThrottled},
    CodeClass{"RequestTimeTooSkewed", ErrorClass::kClockSkew},
    CodeClass{"AccessDenied", ErrorClass::kAuth},
    CodeClass{"SignatureDoesNotMatch", ErrorClass::kAuth},
    CodeClass{"InvalidAccessKeyId", ErrorClass::kAuth},
    CodeClass{"ExpiredToken", ErrorClass::kAuth},
    CodeClass{"InvalidToken", ErrorClass::kAuth},
    CodeClass{"TokenRefreshRequired", ErrorClass::kAuth},
    CodeClass{"InvalidSecurity", ErrorClass::kAuth},
    CodeClass{"AccountProblem", ErrorClass::kAuth},
    CodeClass{"AllAccessDisabled", ErrorClass::kAuth},
    CodeClass{"AuthorizationHeaderMalformed", ErrorClass::kAuth},
    CodeClass{"InternalError", ErrorClass::kRetryable},
    CodeClass{"RequestTimeout", ErrorClass::kRetryable},
    // 409: a conflicting operation on the same resource is in progress.
    CodeClass{"OperationAborted", ErrorClass::kRetryable},
    // The body was damaged or cut in flight; sending it again fixes that.
    CodeClass{"BadDigest", ErrorClass::kRetryable},
    CodeClass{"XAmzContentSHA256Mismatch", ErrorClass::kRetryable},
    CodeClass{"IncompleteBody", ErrorClass::kRetryable},
    CodeClass{"InvalidRange", ErrorClass::kInvalidArgument},
};

// The code S3 would have sent, for answers without a body (HEAD) or with a
// body that is not an S3 error document.
std::string_view CodeForStatus(int status) {
  switch (status) {
    case 301: return "PermanentRedirect";
    case 304: return "NotModified";
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 411: return "MissingContentLength";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 501: return "NotImplemented";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "";
  }
}

// What a code means, for servers that send it with an empty <Message>
// (Ceph RGW 16 leaves most empty); "" for codes that explain themselves.
std::string_view CodeMeaning(std::string_view code) {
  if (code == "InvalidLocationConstraint") {
    return "the bucket's LocationConstraint is not this server's region (on Ceph RGW it must "
           "equal the zonegroup's api_name: set the endpoint's region to it)";
  }
  if (code == "NoSuchUpload") return "the multipart upload does not exist (completed or aborted)";
  if (code == "InvalidPart") return "a part named at Complete was not uploaded or has another ETag";
  if (code == "EntityTooSmall") return "a part other than the last is below the minimum part size";
  return "";
}

// A short, printable excerpt of a body that is not an S3 error document
// (a proxy's HTML page, say), so the user sees who answered.
std::string Excerpt(std::string_view body) {
  constexpr std::size_t kMax = 160;
  std::string out;
  bool space = false;
  for (char c : body.substr(0, kMax * 2)) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
    if (out.size() >= kMax) break;
  }
  if (body.size() > out.size()) out += "...";
  return out;
}

}  // namespace

ErrorClass ClassifyError(int http_status, std::string_view code) {
  for (const auto& entry : kCodeClasses) {
    if (entry.code == code) return entry.error_class;
  }
  if (http_status == 404) return ErrorClass::kNotFound;
  if (http_status == 412 || http_status == 304) return ErrorClass::kPrecondition;
  if (http_status == 429 || http_status == 503) return ErrorClass::kThrottled;
  if (http_status == 401 || http_status == 403) return ErrorClass::kAuth;
  if (http_status == 416) return ErrorClass::kInvalidArgument;
  if (http_status == 408) return ErrorClass::kRetryable;
  // 501 NotImplemented (and 505) will never succeed however often retried.
  if (http_status == 501 || http_status == 505) return ErrorClass::kFatal;
  if (http_status >= 500 && http_status <= 599) return ErrorClass::kRetryable;
  return ErrorClass::kFatal;
}

Status ErrorFromResponse(int http_status, std::string_view body, std::string_view request_id) {
  ErrorInfo info;
  info.http_status = http_status;
  info.request_id = std::string(request_id);

  bool parsed = false;
  if (!body.empty()) {
    pugi::xml_document doc;
    pugi::xml_parse_result r = doc.load_buffer(body.data(), body.size(), pugi::parse_default,
                                               pugi::encoding_utf8);
    pugi::xml_node err = doc.child("Error");
    if (r && err) {
      parsed = true;
      info.code = err.child_value("Code");
      info.message = err.child_value("Message");
      if (info.request_id.empty()) info.request_id = err.child_value("RequestId");
    }
  }
  if (info.code.empty()) info.code = std::string(CodeForStatus(http_status));
  if (info.message.empty()) {
    if (body.empty()) {
      info.message = "HTTP " + std::to_string(http_status) + " with no error body";
    } else if (!parsed) {
      info.message = "HTTP " + std::to_string(http_status) +
                     " with a body that is not an S3 error document: " + Excerpt(body);
    } else {
      info.message = "HTTP " + std::to_string(http_status) + " without an error message";
      if (auto meaning = CodeMeaning(info.code); !meaning.empty()) {
        info.message += " (" + std::string(meaning) + ")";
      }
    }
  }
  info.error_class = ClassifyError(http_status, info.code);
  return Status(std::move(info));
}

}  // namespace ferry::s3
