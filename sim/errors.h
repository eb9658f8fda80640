// S3 error values used throughout the simulator: a Status whose ErrorInfo
// carries the HTTP status and S3 code that go back to the client.
#pragma once

#include <string>

#include "protocols/base/status.h"

namespace ferry::sim {

Status S3Error(int http_status, std::string code, std::string message);

inline Status NoSuchBucket() {
  return S3Error(404, "NoSuchBucket", "The specified bucket does not exist");
}
inline Status NoSuchKey() { return S3Error(404, "NoSuchKey", "The specified key does not exist."); }
inline Status NoSuchUpload() {
  return S3Error(404, "NoSuchUpload",
                 "The specified upload does not exist. The upload ID may be invalid, or the "
                 "upload may have been aborted or completed.");
}
inline Status InvalidArgument(std::string message) {
  return S3Error(400, "InvalidArgument", std::move(message));
}
inline Status InternalError(std::string message) {
  return S3Error(500, "InternalError", std::move(message));
}

}  // namespace ferry::sim
