#include "protocols/base/status.h"

namespace ferry {

std::string_view ErrorClassName(ErrorClass c) {
  switch (c) {
    case ErrorClass::kRetryable: return "retryable";
    case ErrorClass::kThrottled: return "throttled";
    case ErrorClass::kNotFound: return "not-found";
    case ErrorClass::kPrecondition: return "precondition-failed";
    case ErrorClass::kAuth: return "auth";
    case ErrorClass::kClockSkew: return "clock-skew";
    case ErrorClass::kInvalidArgument: return "invalid-argument";
    case ErrorClass::kCancelled: return "cancelled";
    case ErrorClass::kFatal: return "fatal";
  }
  return "unknown";
}

Status Status::WithContext(std::string_view endpoint, std::string_view bucket,
                           std::string_view key) const {
  if (ok()) return *this;
  ErrorInfo info = *info_;
  if (info.endpoint.empty()) info.endpoint = endpoint;
  if (info.bucket.empty()) info.bucket = bucket;
  if (info.key.empty()) info.key = key;
  return Status(std::move(info));
}

Status Status::Annotate(std::string_view what) const {
  if (ok()) return *this;
  ErrorInfo info = *info_;
  info.message = std::string(what) + ": " + info.message;
  return Status(std::move(info));
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  const ErrorInfo& e = *info_;
  std::string out(ErrorClassName(e.error_class));
  out += ": ";
  if (!e.code.empty()) out += e.code + " ";
  if (e.http_status != 0) out += "(HTTP " + std::to_string(e.http_status) + ") ";
  if (!e.code.empty() || e.http_status != 0) {
    out.pop_back();
    out += ": ";
  }
  out += e.message;
  std::string ctx;
  auto add = [&ctx](std::string_view name, const std::string& v) {
    if (v.empty()) return;
    if (!ctx.empty()) ctx += ' ';
    ctx += name;
    ctx += '=';
    ctx += v;
  };
  add("endpoint", e.endpoint);
  add("bucket", e.bucket);
  add("key", e.key);
  add("request-id", e.request_id);
  if (!ctx.empty()) out += " [" + ctx + "]";
  return out;
}

}  // namespace ferry
