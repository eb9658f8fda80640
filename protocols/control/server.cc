#include "protocols/control/server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <vector>

namespace ferry::control {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

// One connected client. Socket and timer live on the client's strand.
struct Conn {
  explicit Conn(local::socket s) : sock(std::move(s)), timer(sock.get_executor()) {}
  local::socket sock;
  asio::steady_timer timer;
};

// Arms the idle timer: when it fires the socket closes, which ends the
// pending read or write with an error.
void ArmTimer(const std::shared_ptr<Conn>& c, std::chrono::milliseconds after) {
  c->timer.expires_after(after);
  c->timer.async_wait([c](boost::system::error_code ec) {
    if (!ec) {
      boost::system::error_code ignored;
      c->sock.close(ignored);
    }
  });
}

Status Errno(ErrorClass cls, const std::string& what, int err) {
  return Status::Error(cls, what + ": " + std::strerror(err));
}

// Whether a process accepts connections on the socket at `path`.
// Non-blocking, so a listener with a full backlog counts as alive.
Result<bool> SomeoneListens(const std::string& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Errno(ErrorClass::kFatal, "control socket: socket()", errno);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  int err = errno;
  ::close(fd);
  if (rc == 0 || err == EAGAIN || err == EINPROGRESS) return true;
  if (err == ECONNREFUSED) return false;
  return Errno(ErrorClass::kFatal, "control socket " + path + ": cannot probe existing socket",
               err);
}

}  // namespace

struct Server::State {
  State(asio::any_io_executor e, ServerOptions o, Handler h)
      : ex(std::move(e)),
        opts(std::move(o)),
        handler(std::move(h)),
        acceptor(asio::make_strand(ex)) {}

  asio::any_io_executor ex;
  const ServerOptions opts;
  const Handler handler;
  local::acceptor acceptor;  // used on its own strand only
  dev_t dev = 0;             // identity of the socket file this server made
  ino_t ino = 0;

  std::mutex mu;
  std::set<std::shared_ptr<Conn>> conns;  // GUARDED_BY(mu)
  bool stopped = false;                   // GUARDED_BY(mu)
};

namespace {

using State = Server::State;

// Sends a last line, then closes gently: our side shut down first, and what
// the client already sent is read and dropped for a moment (closing with
// unread data would reset the connection and could destroy the line before
// the client reads it).
io::Task<void> WriteAndClose(std::shared_ptr<Conn> c, std::string line) {
  ArmTimer(c, std::chrono::milliseconds(1000));
  auto [ec, n] = co_await asio::async_write(c->sock, asio::buffer(line), kTuple);
  boost::system::error_code ignored;
  if (!ec) {
    c->sock.shutdown(local::socket::shutdown_send, ignored);
    ArmTimer(c, std::chrono::milliseconds(250));
    std::vector<char> sink(16 * 1024);
    for (std::size_t drained = 0; drained < (1u << 20);) {
      auto [rec, rn] = co_await c->sock.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
      drained += rn;
    }
  }
  c->timer.cancel();
  c->sock.close(ignored);
}

io::Task<std::string> CallHandler(std::shared_ptr<State> st, Request req) {
  std::string id = req.id;
  std::string out;
  bool failed = false;
  try {
    out = co_await st->handler(std::move(req));
  } catch (const std::exception&) {
    failed = true;
  }
  if (failed) co_return ErrorResponse(id, "internal", "the command failed unexpectedly");
  if (out.find('\n') != std::string::npos || out.empty()) {
    co_return ErrorResponse(id, "internal", "the command produced a malformed response");
  }
  co_return out;
}

io::Task<void> Serve(std::shared_ptr<State> st, std::shared_ptr<Conn> c) {
  std::string buf;
  const std::chrono::milliseconds idle = st->opts.idle_timeout;
  for (;;) {
    ArmTimer(c, idle);
    auto [ec, n] = co_await asio::async_read_until(c->sock, asio::dynamic_buffer(buf, kMaxLine + 2),
                                                   '\n', kTuple);
    c->timer.cancel();
    if (ec == asio::error::not_found) {
      std::string line =
          ErrorResponse("", "line_too_long",
                        "request line longer than " + std::to_string(kMaxLine) + " bytes") +
          "\n";
      co_await WriteAndClose(c, std::move(line));
      break;
    }
    if (ec) break;  // EOF, timeout (socket closed), reset, Stop()
    std::string_view line(buf.data(), n - 1);
    Result<Request> req = ParseRequest(line);
    buf.erase(0, n);
    std::string response;
    if (!req.ok()) {
      response = ErrorResponse("", "bad_request", req.status().error().message);
    } else {
      response = co_await CallHandler(st, std::move(req).value());
    }
    response += '\n';
    ArmTimer(c, idle);
    auto [wec, wn] = co_await asio::async_write(c->sock, asio::buffer(response), kTuple);
    c->timer.cancel();
    if (wec) break;
  }
  boost::system::error_code ignored;
  c->sock.close(ignored);
  std::lock_guard lock(st->mu);
  st->conns.erase(c);
}

io::Task<void> Accept(std::shared_ptr<State> st) {
  for (;;) {
    auto [ec, sock] = co_await st->acceptor.async_accept(asio::make_strand(st->ex), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !st->acceptor.is_open()) co_return;
      // e.g. EMFILE: keep serving what we have, and do not spin while
      // descriptors are short.
      asio::steady_timer pause(st->ex, std::chrono::milliseconds(100));
      co_await pause.async_wait(kTuple);
      continue;
    }
    auto c = std::make_shared<Conn>(std::move(sock));
    bool accepted = false, stopped = false;
    {
      std::lock_guard lock(st->mu);
      stopped = st->stopped;
      if (!stopped && st->conns.size() < static_cast<std::size_t>(st->opts.max_clients)) {
        st->conns.insert(c);
        accepted = true;
      }
    }
    if (stopped) co_return;
    auto ex = c->sock.get_executor();
    if (accepted) {
      asio::co_spawn(ex, Serve(st, c), asio::detached);
    } else {
      std::string line = ErrorResponse("", "busy",
                                       "too many control clients (limit " +
                                           std::to_string(st->opts.max_clients) + ")") +
                         "\n";
      asio::co_spawn(ex, WriteAndClose(c, std::move(line)), asio::detached);
    }
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(asio::any_io_executor ex, ServerOptions o,
                                              Handler h) {
  const std::string path = o.path;
  if (path.empty())
    return Status::Error(ErrorClass::kInvalidArgument, "control socket: empty path");
  if (path.size() >= sizeof(sockaddr_un{}.sun_path)) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "control socket path longer than " +
                             std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                             " bytes: " + path);
  }
  if (o.max_clients < 1) {
    return Status::Error(ErrorClass::kInvalidArgument, "control socket: max_clients < 1");
  }
  if (!h) return Status::Error(ErrorClass::kInvalidArgument, "control socket: no handler");
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::Error(ErrorClass::kFatal, "control socket " + path +
                                                   " exists and is not a socket; not removing it");
    }
    FERRY_ASSIGN_OR_RETURN(bool alive, SomeoneListens(path));
    if (alive) {
      return Status::Error(ErrorClass::kFatal,
                           "control socket " + path + ": another process is listening there");
    }
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Errno(ErrorClass::kFatal, "control socket " + path + ": cannot remove stale socket",
                   errno);
    }
  }

  auto state = std::make_shared<State>(ex, std::move(o), std::move(h));
  boost::system::error_code ec;
  local::endpoint ep(path);
  state->acceptor.open(ep.protocol(), ec);
  if (!ec) state->acceptor.bind(ep, ec);
  if (ec) {
    return Status::Error(ErrorClass::kFatal,
                         "control socket " + path + ": cannot bind: " + ec.message());
  }
  if (::chmod(path.c_str(), state->opts.mode) != 0) {
    int err = errno;
    ::unlink(path.c_str());
    return Errno(ErrorClass::kFatal, "control socket " + path + ": chmod", err);
  }
  struct stat made {};
  if (::stat(path.c_str(), &made) == 0) {
    state->dev = made.st_dev;
    state->ino = made.st_ino;
  }
  state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    ::unlink(path.c_str());
    return Status::Error(ErrorClass::kFatal,
                         "control socket " + path + ": cannot listen: " + ec.message());
  }
  asio::co_spawn(state->acceptor.get_executor(), Accept(state), asio::detached);
  return std::unique_ptr<Server>(new Server(state));
}

Server::~Server() { Stop(); }

void Server::Stop() {
  std::set<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    conns.swap(state_->conns);
  }
  // Remove the file first (synchronously): from now on nobody can connect,
  // even before the listener closes on its strand.
  struct stat now {};
  if (::stat(state_->opts.path.c_str(), &now) == 0 && now.st_dev == state_->dev &&
      now.st_ino == state_->ino) {
    ::unlink(state_->opts.path.c_str());
  }
  auto st = state_;
  asio::post(st->acceptor.get_executor(), [st] {
    boost::system::error_code ignored;
    st->acceptor.close(ignored);
  });
  for (const auto& c : conns) {
    asio::post(c->sock.get_executor(), [c] {
      boost::system::error_code ignored;
      c->timer.cancel();
      c->sock.close(ignored);
    });
  }
}

}  // namespace ferry::control
