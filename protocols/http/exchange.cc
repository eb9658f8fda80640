// See exchange.h. Both directions move through one io_buffer_size buffer per
// exchange (Beast's buffer_body), and each socket operation is armed with its
// own expiry, so a stalled peer is noticed within progress_timeout even in
// the middle of a 5 GiB body.
#include "protocols/http/exchange.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <exception>
#include <memory>
#include <optional>
#include <span>

namespace ferry::http::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;

bool Is2xx(int status) { return status >= 200 && status < 300; }

ExchangeOutcome Failed(Status status) {
  ExchangeOutcome out;
  out.result = std::move(status);
  return out;
}

bhttp::request<bhttp::buffer_body> BuildHeader(const ExchangeParams& params,
                                               const Request& request) {
  bhttp::request<bhttp::buffer_body> req;
  req.method(request.method);
  req.target(params.url->base_path + request.target);
  req.version(11);
  for (const auto& [name, value] : request.headers) req.insert(name, value);
  req.set(bhttp::field::host, params.url->HostHeader());
  req.set(bhttp::field::user_agent, kUserAgent);
  req.erase(bhttp::field::transfer_encoding);
  const bool has_body = request.body != nullptr;
  if (has_body || request.method == bhttp::verb::put || request.method == bhttp::verb::post) {
    req.content_length(has_body ? request.body->size() : 0);
  } else {
    req.erase(bhttp::field::content_length);
  }
  req.body().data = nullptr;
  req.body().more = has_body;
  return req;
}

struct SendOutcome {
  Status status;
  bool peer_closed_early = false;
};

// Sends the request; the body is pulled from the source chunk by chunk.
template <class Stream>
io::Task<SendOutcome> SendRequest(Stream& stream, Connection& conn, const ExchangeParams& params,
                                  const Request& request, OpTimer& timer) {
  const std::string& ep = *params.endpoint;
  auto req = BuildHeader(params, request);
  bhttp::request_serializer<bhttp::buffer_body> sr(req);
  auto fail = [&](std::string_view doing, const error_code& ec) {
    return SendOutcome{TransportError(ep, doing, ec, timer), IsPeerClosed(ec)};
  };

  if (!timer.Arm(conn.tcp())) co_return fail("sending the request", beast::error::timeout);
  auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kAwait);
  if (hec) co_return fail("sending the request", hec);

  if (request.body == nullptr) {
    if (!sr.is_done()) {
      if (!timer.Arm(conn.tcp())) co_return fail("sending the request", beast::error::timeout);
      auto [ec, n] = co_await bhttp::async_write(stream, sr, kAwait);
      if (ec) co_return fail("sending the request", ec);
    }
    co_return SendOutcome{};
  }

  io::BodySource& source = *request.body;
  const std::uint64_t declared = source.size();
  auto buf = std::make_unique<char[]>(params.io_buffer_size);
  std::uint64_t sent = 0;
  for (bool more = true; more;) {
    auto n = co_await source.Read(std::span<char>(buf.get(), params.io_buffer_size));
    if (!n.ok()) co_return SendOutcome{n.status()};  // the source's error, unchanged
    if (*n == 0) {
      if (sent != declared) {
        co_return SendOutcome{Status::Error(
            ErrorClass::kFatal, ep + ": request body source ended after " + std::to_string(sent) +
                                    " of " + std::to_string(declared) + " bytes")};
      }
      more = false;
      req.body().data = nullptr;
    } else {
      sent += *n;
      if (sent > declared) {
        co_return SendOutcome{
            Status::Error(ErrorClass::kFatal, ep + ": request body source produced more than its " +
                                                  std::to_string(declared) + " declared bytes")};
      }
      req.body().data = buf.get();
      req.body().size = *n;
    }
    req.body().more = more;
    // One write_some per armed expiry: progress means bytes moved.
    while (!sr.is_done()) {
      if (!timer.Arm(conn.tcp())) {
        co_return fail("sending the request body", beast::error::timeout);
      }
      auto [ec, w] = co_await bhttp::async_write_some(stream, sr, kAwait);
      if (ec == bhttp::error::need_buffer) break;
      if (ec) co_return fail("sending the request body", ec);
    }
  }
  co_return SendOutcome{};
}

// Reads the response; a 2xx body goes to the sink when there is one.
template <class Stream>
io::Task<ExchangeOutcome> ReadResponse(Stream& stream, Connection& conn,
                                       const ExchangeParams& params, const ResponseOptions& options,
                                       OpTimer& timer) {
  const std::string& ep = *params.endpoint;
  // Interim 1xx responses (e.g. 100 Continue when the caller sent Expect)
  // precede the real one on the same connection: skip them.
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser_storage;
  for (int interim = 0;; ++interim) {
    auto& p = parser_storage.emplace();
    p.body_limit(boost::none);  // our own limits apply below
    p.header_limit(kHeaderLimit);
    if (options.head) p.skip(true);
    if (!timer.Arm(conn.tcp())) {
      co_return Failed(
          TransportError(ep, "waiting for the response", beast::error::timeout, timer));
    }
    auto [hec, hn] = co_await bhttp::async_read_header(stream, conn.buffer, p, kAwait);
    if (hec) {
      ExchangeOutcome out = Failed(TransportError(ep, "reading the response headers", hec, timer));
      out.peer_closed_early =
          interim == 0 && !p.got_some() && conn.buffer.size() == 0 && IsPeerClosed(hec);
      co_return out;
    }
    const int status = p.get().result_int();
    if (status < 100 || status >= 200 || status == 101 || interim >= 8) break;
  }
  auto& parser = *parser_storage;

  Response response;
  response.status = parser.get().result_int();
  for (const auto& field : parser.get()) {
    response.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  io::BodySink* sink = Is2xx(response.status) ? options.sink : nullptr;
  const auto declared = parser.content_length();
  auto too_big = [&] {
    return Failed(Status::Error(
        ErrorClass::kFatal, ep + ": HTTP " + std::to_string(response.status) +
                                " response body is larger than the " +
                                std::to_string(options.max_buffered_body) + "-byte buffer limit"));
  };
  // A HEAD answer's Content-Length describes the object, not a body.
  if (!options.head && !sink && declared && *declared > options.max_buffered_body) {
    co_return too_big();
  }

  std::unique_ptr<char[]> buf;
  if (!parser.is_done()) buf = std::make_unique<char[]>(params.io_buffer_size);
  std::uint64_t received = 0;
  std::size_t filled = 0;
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = buf.get() + filled;
    body.size = params.io_buffer_size - filled;
    if (!timer.Arm(conn.tcp())) {
      co_return Failed(
          TransportError(ep, "reading the response body", beast::error::timeout, timer));
    }
    auto [ec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kAwait);
    if (ec == bhttp::error::need_buffer) ec = {};
    filled = params.io_buffer_size - body.size;
    if (ec == bhttp::error::partial_message || IsPeerClosed(ec)) {
      std::string of = declared ? " of " + std::to_string(*declared) : "";
      co_return Failed(Status::Error(ErrorClass::kRetryable, ep + ": connection closed after " +
                                                                 std::to_string(received + filled) +
                                                                 of + " body bytes"));
    }
    if (ec) co_return Failed(TransportError(ep, "reading the response body", ec, timer));
    if (filled == 0 || (filled < params.io_buffer_size && !parser.is_done())) continue;

    received += filled;
    std::span<const char> chunk(buf.get(), filled);
    filled = 0;
    if (sink) {
      Status s = co_await sink->Write(chunk);
      if (!s.ok()) co_return Failed(s);  // the sink's error, unchanged
      response.streamed_bytes += chunk.size();
    } else {
      if (received > options.max_buffered_body) co_return too_big();
      response.body.append(chunk.data(), chunk.size());
    }
  }

  ExchangeOutcome out;
  out.reusable = parser.get().keep_alive() && !parser.need_eof() && conn.buffer.size() == 0;
  out.result = std::move(response);
  co_return out;
}

template <class Stream>
io::Task<ExchangeOutcome> Exchange(Stream& stream, Connection& conn, const ExchangeParams& params,
                                   const Request& request, const ResponseOptions& options) {
  OpTimer timer(request.deadline, request.progress_timeout);
  if (!conn.connected) {
    Status s = co_await Connect(conn, *params.url, *params.endpoint, timer, params.connect_timeout,
                                params.verify_tls);
    if (!s.ok()) co_return Failed(s);
    if (params.connections_opened) params.connections_opened->fetch_add(1);
  }
  SendOutcome sent = co_await SendRequest(stream, conn, params, request, timer);
  if (!sent.status.ok()) {
    ExchangeOutcome out = Failed(sent.status);
    out.peer_closed_early = sent.peer_closed_early;
    co_return out;
  }
  co_return co_await ReadResponse(stream, conn, params, options, timer);
}

}  // namespace

io::Task<ExchangeOutcome> RunExchange(Connection& conn, const ExchangeParams& params,
                                      const Request& request, const ResponseOptions& options) {
  ExchangeOutcome out;
  try {
    if (TlsStream* tls = conn.tls()) {
      out = co_await Exchange(*tls, conn, params, request, options);
    } else {
      out = co_await Exchange(*conn.plain(), conn, params, request, options);
    }
  } catch (const std::exception& e) {
    out = Failed(Status::Error(
        ErrorClass::kFatal, *params.endpoint + ": internal error in HTTP exchange: " + e.what()));
  }
  // A connection that will not be reused is closed here, on its strand, so
  // that its destruction elsewhere races with none of its timer handlers.
  if (!out.reusable) conn.tcp().close();
  co_return out;
}

}  // namespace ferry::http::internal
