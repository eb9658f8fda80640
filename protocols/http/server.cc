#include "protocols/http/server.h"

#include "protocols/http/listen.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <limits>
#include <mutex>
#include <set>

namespace ferry::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Header names and values that are safe to put on the wire.
bool SafeHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (c <= ' ' || c == ':' || c == 127) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  // The server frames the message itself.
  return !EqualsIgnoreCase(name, "content-length") &&
         !EqualsIgnoreCase(name, "transfer-encoding") && !EqualsIgnoreCase(name, "connection");
}

struct Conn {
  explicit Conn(tcp::socket s) : stream(std::move(s)) {}
  beast::tcp_stream stream;
};

}  // namespace

std::string_view ServerRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

struct Server::State {
  State(asio::any_io_executor e, ServerOptions o, ServerHandler h)
      : ex(std::move(e)),
        opts(std::move(o)),
        handler(std::move(h)) {}
  asio::any_io_executor ex;
  const ServerOptions opts;
  const ServerHandler handler;
  Listeners listeners;  // set once by Start; each acceptor used on its own strand only

  std::mutex mu;
  std::set<std::shared_ptr<Conn>> conns;  // GUARDED_BY(mu)
  bool stopped = false;                   // GUARDED_BY(mu)
};

namespace {

using State = Server::State;
using StringResponse = bhttp::response<bhttp::string_body>;

StringResponse MakeResponse(int status, unsigned version, std::string_view content_type,
                            std::string body) {
  StringResponse res;
  res.version(version == 10 ? 10 : 11);
  res.result(static_cast<unsigned>(status));
  res.set(bhttp::field::content_type, content_type);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

// Sends a final error response, then closes gently: shut down our side and
// read (discard) what the client still sends for a moment, so the close does
// not become a reset that destroys the response before the client reads it.
io::Task<void> FailAndClose(std::shared_ptr<Conn> c, int status, std::string message,
                            std::chrono::milliseconds timeout) {
  StringResponse res = MakeResponse(status, 11, "text/plain; charset=utf-8", message + "\n");
  res.keep_alive(false);
  c->stream.expires_after(timeout);
  auto [ec, n] = co_await bhttp::async_write(c->stream, res, kTuple);
  if (!ec) {
    boost::system::error_code ignored;
    c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    c->stream.expires_after(std::chrono::milliseconds(500));
    std::vector<char> sink(16 * 1024);
    std::size_t drained = 0;
    while (drained < (1u << 20)) {
      auto [rec, rn] = co_await c->stream.async_read_some(asio::buffer(sink), kTuple);
      if (rec) break;
      drained += rn;
    }
  }
  c->stream.close();
}

io::Task<ServerResponse> RunHandler(std::shared_ptr<State> st, ServerRequest req) {
  ServerResponse out;
  bool failed = false;
  try {
    out = co_await st->handler(std::move(req));
  } catch (const std::exception&) {
    failed = true;
  }
  if (failed) {
    ServerResponse err;
    err.status = 500;
    err.body = "internal error\n";
    co_return err;
  }
  co_return out;
}

io::Task<void> Serve(std::shared_ptr<State> st, std::shared_ptr<Conn> c) {
  const auto timeout = st->opts.read_timeout;
  beast::flat_buffer buf;
  buf.reserve(64 * 1024);
  for (;;) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(st->opts.max_header, std::numeric_limits<std::uint32_t>::max())));
    parser.body_limit(st->opts.max_body);
    c->stream.expires_after(timeout);
    auto [ec, n] = co_await bhttp::async_read(c->stream, buf, parser, kTuple);
    if (ec == bhttp::error::body_limit) {
      co_await FailAndClose(
          c, 413, "request body larger than " + std::to_string(st->opts.max_body) + " bytes",
          timeout);
      break;
    }
    if (ec == bhttp::error::header_limit) {
      co_await FailAndClose(
          c, 431, "request header larger than " + std::to_string(st->opts.max_header) + " bytes",
          timeout);
      break;
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_method).category() &&
        ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
      co_await FailAndClose(c, 400, "malformed request", timeout);
      break;
    }
    if (ec) break;  // EOF between requests, timeout, reset, Stop()

    auto& msg = parser.get();
    ServerRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    for (const auto& f : msg) {
      req.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    }
    req.body = std::move(msg.body());
    const bool head = msg.method() == bhttp::verb::head;
    const bool keep_alive = msg.keep_alive();
    const unsigned version = msg.version();

    c->stream.expires_never();  // the handler's time is the handler's business
    ServerResponse out = co_await RunHandler(st, std::move(req));
    if (out.status < 100 || out.status > 599) {
      out = ServerResponse();
      out.status = 500;
      out.body = "internal error: invalid status\n";
    }
    std::string_view content_type = out.content_type;
    if (!SafeHeader("content-type", content_type)) content_type = "application/octet-stream";
    StringResponse res = MakeResponse(out.status, version, content_type, std::move(out.body));
    for (const auto& [k, v] : out.headers) {
      if (SafeHeader(k, v) && !EqualsIgnoreCase(k, "content-type")) res.insert(k, v);
    }
    bool stopped;
    {
      std::lock_guard lock(st->mu);
      stopped = st->stopped;
    }
    res.keep_alive(keep_alive && !stopped);
    if (head) {
      // HEAD: the headers describe the body, which is not sent.
      std::size_t length = res.body().size();
      res.body().clear();
      res.content_length(length);
    }
    c->stream.expires_after(timeout);
    auto [wec, wn] = co_await bhttp::async_write(c->stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  c->stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  c->stream.close();
  std::lock_guard lock(st->mu);
  st->conns.erase(c);
}

io::Task<void> Accept(std::shared_ptr<State> st, tcp::acceptor* acceptor) {
  for (;;) {
    auto [ec, sock] = co_await acceptor->async_accept(asio::make_strand(st->ex), kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
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
      if (!stopped && st->conns.size() < static_cast<std::size_t>(st->opts.max_connections)) {
        st->conns.insert(c);
        accepted = true;
      }
    }
    if (stopped) co_return;
    auto ex = c->stream.get_executor();
    if (accepted) {
      asio::co_spawn(ex, Serve(st, c), asio::detached);
    } else {
      asio::co_spawn(ex,
                     FailAndClose(c, 503, "too many connections", std::chrono::milliseconds(1000)),
                     asio::detached);
    }
  }
}

}  // namespace

Result<std::unique_ptr<Server>> Server::Start(asio::any_io_executor ex, ServerOptions o,
                                              ServerHandler h) {
  if (!h) return Status::Error(ErrorClass::kInvalidArgument, "http server: no handler");
  if (o.max_connections < 1) {
    return Status::Error(ErrorClass::kInvalidArgument, "http server: max_connections < 1");
  }
  FERRY_ASSIGN_OR_RETURN(Listeners listeners, BindListeners(ex, o.listen, o.resolve));
  auto state = std::make_shared<State>(ex, std::move(o), std::move(h));
  state->listeners = std::move(listeners);
  for (auto& acc : state->listeners.acceptors) {
    asio::co_spawn(acc->get_executor(), Accept(state, acc.get()), asio::detached);
  }
  return std::unique_ptr<Server>(new Server(state));
}

Server::~Server() { Stop(); }

std::uint16_t Server::port() const { return state_->listeners.port; }

const std::vector<std::string>& Server::addresses() const { return state_->listeners.addresses; }

const std::vector<std::string>& Server::skipped() const { return state_->listeners.skipped; }

void Server::Stop() {
  std::set<std::shared_ptr<Conn>> conns;
  {
    std::lock_guard lock(state_->mu);
    if (state_->stopped) return;
    state_->stopped = true;
    conns.swap(state_->conns);
  }
  auto st = state_;
  for (auto& acc : st->listeners.acceptors) {
    asio::post(acc->get_executor(), [st, a = acc.get()] {
      boost::system::error_code ignored;
      a->close(ignored);
    });
  }
  for (const auto& c : conns) {
    asio::post(c->stream.get_executor(), [c] { c->stream.close(); });
  }
}

}  // namespace ferry::http
