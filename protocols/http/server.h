// A small HTTP/1.1 server (Beast) for ferryd's operations surface: /metrics,
// /healthz, /readyz and the event webhook. Not a general web server: every
// request is read whole (bounded) and handed to one handler coroutine.
//
// Guarantees:
//  - keep-alive per HTTP/1.1 rules; a connection idle for read_timeout closes
//  - a request must arrive whole within read_timeout of its first byte being
//    awaited (a slow-loris client is dropped), a response must be written
//    within the same time
//  - header block > max_header → 431, body > max_body → 413, malformed → 400;
//    each with a short text body and the connection closed
//  - at most max_connections at once; extra ones get 503 and are closed
//  - a handler exception becomes 500; a bad status or header from the handler
//    is dropped (status 500 / header skipped) instead of going on the wire
//  - Stop() (and the destructor) closes the listener and every connection;
//    coroutines end shortly after on the executor; Stop never blocks
//
// Thread-safety: Start/Stop from any thread; the executor may be
// multi-threaded; the handler may run concurrently for different connections.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"

namespace ferry::http {

struct ServerRequest {
  std::string method;  // "GET", "POST", ... as sent
  std::string target;  // origin-form as sent: "/metrics?x=1"
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Case-insensitive; the first match; "" if absent.
  std::string_view Header(std::string_view name) const;
};

struct ServerResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using ServerHandler = std::function<io::Task<ServerResponse>(ServerRequest)>;

// Resolves a listen host name to address literals ("127.0.0.1", "::1").
// Tests inject their own, so they do not depend on the machine's /etc/hosts.
using ListenResolver = std::function<Result<std::vector<std::string>>(const std::string& host)>;

struct ServerOptions {
  // "host:port", "[::1]:port"; port 0 = any. A host name binds every address
  // it resolves to, on one port (see protocols/http/listen.h).
  std::string listen = "127.0.0.1:9464";
  ListenResolver resolve;  // empty = the system resolver
  std::size_t max_body = 1 << 20;
  std::size_t max_header = 16 << 10;
  std::chrono::milliseconds read_timeout{10000};
  int max_connections = 64;
};

class Server {
 public:
  // Binds and listens before returning (so port() is known); fails with
  // kInvalidArgument on a malformed listen address, kFatal when it cannot bind.
  static Result<std::unique_ptr<Server>> Start(boost::asio::any_io_executor ex, ServerOptions o,
                                               ServerHandler h);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  void Stop();
  // The one port every listener is bound to.
  std::uint16_t port() const;
  // Every address actually listening, as "127.0.0.1:PORT" / "[::1]:PORT",
  // IPv4 first: what logs and tests should name.
  const std::vector<std::string>& addresses() const;
  // Resolved addresses left out because the machine lacks their family,
  // each with the reason (for a warning in the log).
  const std::vector<std::string>& skipped() const;

  struct State;  // shared with the serving coroutines

 private:
  explicit Server(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Splits "host:port" / "[v6]:port" (exposed for tests and config checks).
Result<std::pair<std::string, std::uint16_t>> SplitListenAddress(std::string_view listen);

}  // namespace ferry::http
