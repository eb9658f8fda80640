// See connection.h.
#include "protocols/http/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <vector>

#include "protocols/http/tls.h"

namespace ferry::http::internal {

namespace asio = boost::asio;
namespace beast = boost::beast;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

Connection::Connection(const asio::any_io_executor& executor, asio::ssl::context* tls)
    : strand_(asio::make_strand(executor)) {
  if (tls != nullptr) {
    tls_.emplace(*tls, strand_);
  } else {
    plain_.emplace(strand_);
  }
  // Beast sizes each read by the buffer's free capacity (at least 512
  // bytes, at most 64 KiB); reserve the most it reads. Large bodies are
  // received past it (exchange.cc).
  buffer.reserve(64 * 1024);
}

PlainStream& Connection::tcp() { return tls_ ? beast::get_lowest_layer(*tls_) : *plain_; }

bool OpTimer::Arm(PlainStream& stream) {
  connecting_ = false;
  auto now = Clock::now();
  if (now >= deadline_) {
    deadline_binds_ = true;
    return false;
  }
  auto progress_end = now + progress_;
  deadline_binds_ = deadline_ <= progress_end;
  stream.expires_at(std::min(deadline_, progress_end));
  return true;
}

bool OpTimer::ArmConnect(PlainStream& stream, std::chrono::milliseconds limit) {
  bool ok = Arm(stream);
  if (!ok) return false;
  connecting_ = true;
  last_limit_ = limit;
  auto limit_end = Clock::now() + limit;
  deadline_binds_ = deadline_ <= limit_end;
  stream.expires_at(std::min(deadline_, limit_end));
  return true;
}

std::string OpTimer::Reason() const {
  if (deadline_binds_) return "deadline exceeded";
  if (connecting_) return "connect timeout of " + std::to_string(last_limit_.count()) + " ms";
  return "no progress for " + std::to_string(progress_.count()) + " ms";
}

bool IsPeerClosed(const error_code& ec) {
  return ec == asio::error::eof || ec == beast::http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

Status TransportError(const std::string& endpoint, std::string_view doing, const error_code& ec,
                      const OpTimer& timer) {
  std::string what = ec == beast::error::timeout ? timer.Reason() : ec.message();
  return Status::Error(ErrorClass::kRetryable,
                       endpoint + ": " + what + " while " + std::string(doing));
}

namespace {

// Resolves `url.host`, bounded by the timer's current limit. IP literals skip
// the resolver (and its thread) entirely.
io::Task<Result<std::vector<tcp::endpoint>>> Resolve(const Url& url, const std::string& endpoint,
                                                     Clock::time_point limit) {
  error_code ec;
  auto address = asio::ip::make_address(url.host, ec);
  if (!ec) {
    co_return std::vector<tcp::endpoint>{tcp::endpoint(address, url.port)};
  }
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  asio::steady_timer timer(executor, limit);
  auto which = co_await (resolver.async_resolve(url.host, std::to_string(url.port), kAwait) ||
                         timer.async_wait(kAwait));
  if (which.index() == 1) {
    co_return Status::Error(ErrorClass::kRetryable,
                            endpoint + ": timed out resolving host name " + url.host);
  }
  auto [rec, results] = std::get<0>(std::move(which));
  if (rec) {
    co_return Status::Error(ErrorClass::kRetryable, endpoint + ": cannot resolve host name " +
                                                        url.host + ": " + rec.message());
  }
  co_return std::vector<tcp::endpoint>(results.begin(), results.end());
}

}  // namespace

io::Task<Status> Connect(Connection& conn, const Url& url, const std::string& endpoint,
                         OpTimer& timer, std::chrono::milliseconds connect_timeout,
                         bool verify_tls) {
  PlainStream& tcp_stream = conn.tcp();
  Clock::time_point limit = std::min(timer.deadline(), Clock::now() + connect_timeout);
  FERRY_CO_ASSIGN_OR_RETURN(auto endpoints, co_await Resolve(url, endpoint, limit));

  if (!timer.ArmConnect(tcp_stream, connect_timeout)) {
    co_return TransportError(endpoint, "connecting", beast::error::timeout, timer);
  }
  auto [ec, ignored] = co_await tcp_stream.async_connect(endpoints, kAwait);
  if (ec) co_return TransportError(endpoint, "connecting", ec, timer);
  tcp_stream.socket().set_option(tcp::no_delay(true), ec);

  if (TlsStream* tls = conn.tls()) {
    if (!PrepareTlsConnection(tls->native_handle(), url.host, verify_tls)) {
      co_return Status::Error(ErrorClass::kFatal,
                              endpoint + ": cannot set TLS server name for " + url.host);
    }
    if (!timer.ArmConnect(tcp_stream, connect_timeout)) {
      co_return TransportError(endpoint, "in the TLS handshake", beast::error::timeout, timer);
    }
    auto [hec] = co_await tls->async_handshake(asio::ssl::stream_base::client, kAwait);
    if (hec == beast::error::timeout) {
      co_return TransportError(endpoint, "in the TLS handshake", hec, timer);
    }
    if (hec) co_return TlsHandshakeError(tls->native_handle(), hec, endpoint);
  }
  conn.connected = true;
  co_return Status::Ok();
}

}  // namespace ferry::http::internal
