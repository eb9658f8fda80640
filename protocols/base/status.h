// Status and Result<T>: how every fallible call in ferry reports failure.
//
// No exceptions cross the async pipeline. An error carries a class that tells
// the engine what to do with it (retry, back off, treat as missing, give up)
// and the context a user needs to act on it (endpoint, bucket, key, HTTP
// status, S3 error code, request id). Messages never contain secrets.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace ferry {

// What the caller should do about an error. Backends classify; the engine
// decides on retry and backoff.
enum class ErrorClass : std::uint8_t {
  kRetryable,        // transient: 500, reset, timeout, truncated body
  kThrottled,        // 503 SlowDown / 429: retry after backing off the endpoint
  kNotFound,         // 404 NoSuchKey / NoSuchUpload / NoSuchBucket
  kPrecondition,     // 412 / 304: If-Match or If-None-Match failed
  kAuth,             // 401/403 (signature, access denied, expired token)
  kClockSkew,        // RequestTimeTooSkewed: local clock is off
  kInvalidArgument,  // caller or input error (bad config, bad key, bad XML)
  kCancelled,        // operation cancelled (shutdown)
  kFatal,            // anything else that retrying will not fix
};

std::string_view ErrorClassName(ErrorClass c);

struct ErrorInfo {
  ErrorClass error_class = ErrorClass::kFatal;
  std::string message;     // what went wrong, for a human
  int http_status = 0;     // 0 when no HTTP response was received
  std::string code;        // S3 error code, e.g. "NoSuchKey"; empty if none
  std::string request_id;  // x-amz-request-id, when known
  std::string endpoint;    // context, when known
  std::string bucket;
  std::string key;
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  explicit Status(ErrorInfo info) : info_(std::make_shared<ErrorInfo>(std::move(info))) {}

  static Status Ok() { return Status(); }
  static Status Error(ErrorClass c, std::string message) {
    ErrorInfo info;
    info.error_class = c;
    info.message = std::move(message);
    return Status(std::move(info));
  }

  bool ok() const { return info_ == nullptr; }
  // REQUIRES: !ok().
  const ErrorInfo& error() const { return *info_; }
  ErrorClass error_class() const { return info_->error_class; }
  bool Is(ErrorClass c) const { return !ok() && info_->error_class == c; }

  // Returns a copy with context fields filled where they are still empty.
  Status WithContext(std::string_view endpoint, std::string_view bucket,
                     std::string_view key) const;
  // Returns a copy whose message is prefixed with `what: `.
  Status Annotate(std::string_view what) const;

  // "OK" or e.g. "not-found: NoSuchKey (HTTP 404): The specified key does not
  // exist. [endpoint=... bucket=... key=... request-id=...]".
  std::string ToString() const;

 private:
  std::shared_ptr<const ErrorInfo> info_;
};

// A value or an error Status. Constructing from an OK Status is a bug.
template <typename T>
class [[nodiscard]] Result {
 public:
  // An error; exists because coroutine frames need default-constructible values.
  Result() : v_(Status::Error(ErrorClass::kFatal, "internal error: unset Result")) {}
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (std::get<Status>(v_).ok()) {
      v_ = Status::Error(ErrorClass::kFatal, "internal error: Result built from OK status");
    }
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  // REQUIRES: ok().
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  // OK status when ok(), else the error.
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace ferry

#define FERRY_CONCAT_INNER_(a, b) a##b
#define FERRY_CONCAT_(a, b) FERRY_CONCAT_INNER_(a, b)

// In a function returning Status or Result<T>.
#define FERRY_RETURN_IF_ERROR(expr)             \
  do {                                          \
    ::ferry::Status ferry_status_ = (expr);     \
    if (!ferry_status_.ok()) return ferry_status_; \
  } while (0)

#define FERRY_ASSIGN_OR_RETURN(lhs, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL_(FERRY_CONCAT_(ferry_result_, __LINE__), lhs, expr, return)

// In a coroutine returning awaitable<Status> or awaitable<Result<T>>.
#define FERRY_CO_RETURN_IF_ERROR(expr)             \
  do {                                             \
    ::ferry::Status ferry_status_ = (expr);        \
    if (!ferry_status_.ok()) co_return ferry_status_; \
  } while (0)

#define FERRY_CO_ASSIGN_OR_RETURN(lhs, expr) \
  FERRY_ASSIGN_OR_RETURN_IMPL_(FERRY_CONCAT_(ferry_result_, __LINE__), lhs, expr, co_return)

#define FERRY_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr, ret) \
  auto tmp = (expr);                                      \
  if (!tmp.ok()) ret tmp.status();                        \
  lhs = std::move(tmp).value()
