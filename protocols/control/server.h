// The control socket: a Unix-socket server speaking protocol.h, and the
// blocking client ferryctl uses.
//
// Server guarantees:
//  - Start refuses a path where another process listens, and a path that
//    exists but is not a socket; a stale socket file (nobody listening) is
//    removed first. The socket gets `mode` (default 0660) after bind.
//  - Each client is served by its own coroutine on its own strand; lines are
//    handled one at a time per client, so a slow handler delays only its own
//    client. Lines over kMaxLine get "line_too_long" and the client is
//    dropped; a line that does not parse gets "bad_request" and the
//    connection stays open (the handler never sees it).
//  - A client that takes longer than idle_timeout to send a complete line (or
//    to read a response) is dropped. The handler's own time does not count.
//  - At most max_clients at once; others get one "busy" error line and close.
//  - Stop() (also run by the destructor) closes the listener and every client
//    and removes the socket file (if it is still the one this server made).
//    Coroutines end shortly after, on the executor; Stop never blocks.
//
// Thread-safety: Start/Stop from any thread; the executor may be
// multi-threaded. The handler may be called concurrently for different
// clients.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "protocols/control/protocol.h"

namespace ferry::control {

// Returns one response line (OkResponse/ErrorResponse; no '\n'). An exception
// or a line containing '\n' becomes an "internal" error response.
using Handler = std::function<io::Task<std::string>(Request request)>;

struct ServerOptions {
  std::string path;
  unsigned mode = 0660;
  int max_clients = 16;
  std::chrono::milliseconds idle_timeout{30000};
};

class Server {
 public:
  static Result<std::unique_ptr<Server>> Start(boost::asio::any_io_executor ex, ServerOptions o,
                                               Handler h);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  void Stop();

  struct State;  // shared with the serving coroutines

 private:
  explicit Server(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

// Blocking client for ferryctl (own io_context inside): connects to
// `socket_path`, sends `request`, reads one response line, all within
// `timeout`. Errors: kNotFound (no socket file), kAuth (permission denied),
// kRetryable (nothing listening, timeout, connection closed early),
// kInvalidArgument (the answer is not a protocol-1 response).
Result<Response> Call(const std::string& socket_path, const Request& request,
                      std::chrono::milliseconds timeout);

}  // namespace ferry::control
