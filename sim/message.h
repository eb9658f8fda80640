// Transport-independent request and response values, and the streaming
// request-body interface. The connection layer (Beast) fills a SimRequest and
// writes a SimResponse; everything between (auth, routing, handlers, admin)
// works on these and never sees a socket.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "sim/blob.h"

namespace ferry::sim {

using Fields = std::vector<std::pair<std::string, std::string>>;

struct SimRequest {
  std::string method;     // "GET", "PUT", ...
  std::string target;     // raw request target, "/bucket/key?x=y"
  std::string raw_path;   // target before '?', still percent-encoded
  std::string raw_query;  // after '?'
  Fields query;           // decoded name/value pairs, in order
  Fields headers;         // names lower-case, values as received
  bool has_body = false;  // Content-Length > 0 or chunked

  // First value of a header (name lower-case), or nullptr.
  const std::string* Header(std::string_view name) const;
  std::string HeaderOr(std::string_view name, std::string_view fallback = "") const;
  const std::string* Query(std::string_view name) const;
  bool HasQuery(std::string_view name) const { return Query(name) != nullptr; }
};

// Splits the raw query and fills `req.query`. Fails on a bad escape.
Status ParseQuery(SimRequest& req);

// A request body as a stream of bytes. Read() returns 0 only at the end, and
// only after every integrity check on the body passed; an error is an S3 error
// (or a transport failure, which closes the connection).
class BodyReader {
 public:
  virtual ~BodyReader() = default;
  virtual io::Task<Result<std::size_t>> Read(std::span<char> buf) = 0;
  // Bytes the body will produce, when known up front.
  virtual std::optional<std::uint64_t> size() const = 0;
};

// Reads the whole body, failing with 400 MaxMessageLengthExceeded past `limit`.
io::Task<Result<std::string>> ReadAll(BodyReader& body, std::size_t limit);

struct SimResponse {
  int status = 200;
  Fields headers;
  std::string body;  // sent when blob is null
  BlobPtr blob;      // streamed: bytes [blob_offset, blob_offset + blob_length)
  std::uint64_t blob_offset = 0;
  std::uint64_t blob_length = 0;
  // HEAD: Content-Length describes the body a GET would have; none is sent.
  bool omit_body = false;

  void Set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
  std::uint64_t content_length() const { return blob ? blob_length : body.size(); }
};

// An S3 error response: status and XML from `error` (whose ErrorInfo holds
// http_status and code; others become 500 InternalError).
SimResponse ErrorResponse(const Status& error, std::string_view resource,
                          std::string_view request_id, bool head);

}  // namespace ferry::sim
