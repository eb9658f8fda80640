#include "sim/message.h"

#include "protocols/s3/sigv4.h"
#include "sim/errors.h"
#include "sim/xml.h"

namespace ferry::sim {

const std::string* SimRequest::Header(std::string_view name) const {
  for (const auto& [n, v] : headers) {
    if (n == name) return &v;
  }
  return nullptr;
}

std::string SimRequest::HeaderOr(std::string_view name, std::string_view fallback) const {
  const std::string* v = Header(name);
  return v ? *v : std::string(fallback);
}

const std::string* SimRequest::Query(std::string_view name) const {
  for (const auto& [n, v] : query) {
    if (n == name) return &v;
  }
  return nullptr;
}

Status ParseQuery(SimRequest& req) {
  req.query.clear();
  std::string_view q = req.raw_query;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view pair = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    auto n = s3::UriDecode(name, true);
    auto v = s3::UriDecode(value, true);
    if (!n.ok() || !v.ok()) {
      return S3Error(400, "InvalidArgument", "The query string has an invalid escape sequence");
    }
    req.query.emplace_back(std::move(n).value(), std::move(v).value());
  }
  return Status::Ok();
}

io::Task<Result<std::string>> ReadAll(BodyReader& body, std::size_t limit) {
  std::string out;
  char buf[64 << 10];
  for (;;) {
    auto n = co_await body.Read(std::span<char>(buf, sizeof buf));
    if (!n.ok()) co_return n.status();
    if (*n == 0) break;
    if (out.size() + *n > limit) {
      co_return S3Error(400, "MaxMessageLengthExceeded", "Your request was too big.");
    }
    out.append(buf, *n);
  }
  co_return out;
}

SimResponse ErrorResponse(const Status& error, std::string_view resource,
                          std::string_view request_id, bool head) {
  SimResponse r;
  std::string code = "InternalError";
  std::string message = "We encountered an internal error. Please try again.";
  r.status = 500;
  if (!error.ok() && error.error().http_status != 0) {
    r.status = error.error().http_status;
    code = error.error().code;
    message = error.error().message;
  } else if (!error.ok()) {
    message += " (" + error.error().message + ")";
  }
  r.Set("Content-Type", "application/xml");
  if (head) {
    r.omit_body = true;
    // HEAD answers have no body; clients see only the status.
    r.Set("x-amz-error-code", code);
  }
  r.body = ErrorXml(code, message, resource, request_id);
  if (head) r.body.clear();
  return r;
}

}  // namespace ferry::sim
