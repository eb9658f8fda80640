// HTTP/1.1 client for one endpoint, on Boost.Beast, with a bounded pool of
// keep-alive connections (plain TCP or TLS through OpenSSL).
//
// Bodies stream both ways: a request body is pulled from an io::BodySource
// and a 2xx response body is pushed into an io::BodySink chunk by chunk, so
// memory does not grow with object size. Every exchange has a deadline (the
// whole exchange) and a progress timeout (no byte moved for that long); both
// end the exchange with a retryable error.
//
// TLS: certificate chain and hostname verification are on by default, SNI is
// sent, the CA bundle is configurable; verification can be turned off only
// through TlsOptions::insecure_skip_verify, which callers must log.
//
// This layer does not retry, with one exception: a request that fails on a
// reused keep-alive connection before any response byte arrived is sent once
// more on a fresh connection (the server closed an idle connection).
//
// Thread-safety: a Client may be used by many coroutines on many threads at
// once. Each exchange leases one connection exclusively.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/verb.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/http/activity.h"
#include "protocols/http/url.h"

namespace ferry::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

// Case-insensitive header lookup; the first match.
std::optional<std::string_view> FindHeader(const Headers& headers, std::string_view name);

struct TlsOptions {
  // Verify the server's certificate chain and hostname. Turning this off is
  // only for test rigs; whoever sets it must log a warning.
  bool insecure_skip_verify = false;
  std::string ca_file;  // PEM bundle; empty: the system's default paths
  std::string ca_path;  // directory of hashed certs; optional
};

struct ClientOptions {
  std::size_t max_connections = 64;  // per endpoint; exchanges wait for a lease past this
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds idle_timeout{30'000};  // pooled idle connection dropped after
  std::size_t io_buffer_size = 256 * 1024;         // bytes per read/write chunk
  TlsOptions tls;
};

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;  // origin-form, already percent-encoded: "/bucket/key?uploads="
  Headers headers;     // Host, Content-Length and User-Agent are set by the client
  io::BodySource* body = nullptr;  // null: empty body
  // Whole exchange (connect, send, receive) must finish by this time.
  std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(60);
  // No byte sent or received for this long ends the exchange.
  std::chrono::milliseconds progress_timeout{30'000};
  // When set, told of the exchange and of every byte it moves (status).
  // Shared: a request may outlive whoever made the Activity (a detached
  // coroutine destroyed with its io_context).
  std::shared_ptr<Activity> activity;
};

struct Response {
  int status = 0;
  Headers headers;
  std::string body;                  // buffered body (when not streamed to a sink)
  std::uint64_t streamed_bytes = 0;  // bytes delivered to the sink
  std::optional<std::string_view> header(std::string_view name) const {
    return FindHeader(headers, name);
  }
};

struct ResponseOptions {
  // When set and the status is 2xx, the body goes to the sink and
  // Response::body stays empty. Error bodies are always buffered.
  io::BodySink* sink = nullptr;
  // Larger buffered bodies fail the exchange (kFatal) instead of growing memory.
  std::size_t max_buffered_body = 32u << 20;
  // HEAD: the response has headers only (Content-Length describes the object).
  bool head = false;
};

struct ClientStats {
  std::uint64_t connections_opened = 0;
  std::uint64_t exchanges = 0;
  std::uint64_t reused = 0;  // exchanges on a pooled connection
  std::size_t idle = 0;      // idle pooled connections now
  std::size_t leased = 0;    // connections in use now
};

class Client {
 public:
  virtual ~Client() = default;

  // Creates a client for `endpoint`. Fails (kInvalidArgument) when the TLS
  // settings cannot be loaded, e.g. an unreadable CA file.
  static Result<std::shared_ptr<Client>> Create(boost::asio::any_io_executor executor,
                                                Url endpoint, ClientOptions options);

  // Sends `request` and reads the response. A response with any status is a
  // successful exchange; transport failures are errors:
  //   kRetryable  connect/reset/EOF/truncated body/deadline/progress timeout
  //   kFatal      TLS verification failure, oversized buffered body
  //   (errors from the body source or sink are passed through unchanged)
  // Error messages name the endpoint; they never include header values.
  virtual io::Task<Result<Response>> Send(Request request, ResponseOptions options) = 0;

  virtual const Url& endpoint() const = 0;
  virtual ClientStats stats() const = 0;
  // Closes idle connections; leased ones close when returned.
  virtual void Shutdown() = 0;
};

}  // namespace ferry::http
