// See exchange.h. A body already in memory (a part buffer) is sent straight
// from it, and a response body bound for a sink with memory of its own is
// received straight into it: a part crosses no buffer of ours. Other bodies
// move through one io_buffer_size buffer per exchange. Each socket operation
// is armed with its own expiry, so a stalled peer is noticed within
// progress_timeout even in the middle of a 5 GiB body.
#include "protocols/http/exchange.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
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

// Writes what the serializer holds (the header, then the body buffer it was
// given), one write_some per armed expiry: progress means bytes moved.
// Beast's need_buffer (the body buffer is used up) is success.
template <class Stream, class Serializer>
io::Task<error_code> WriteSome(Stream& stream, Serializer& sr, Connection& conn, OpTimer& timer) {
  while (!sr.is_done()) {
    if (!timer.Arm(conn.tcp())) co_return beast::error::timeout;
    auto [ec, w] = co_await bhttp::async_write_some(stream, sr, kAwait);
    timer.Moved(w, true);
    if (ec == bhttp::error::need_buffer) break;
    if (ec) co_return ec;
  }
  co_return error_code();
}

// Sends the request: a body in memory straight from there, any other pulled
// from its source chunk by chunk.
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
  timer.Moved(hn, true);
  if (hec) co_return fail("sending the request", hec);

  if (request.body == nullptr) {
    if (!sr.is_done()) {
      if (!timer.Arm(conn.tcp())) co_return fail("sending the request", beast::error::timeout);
      auto [ec, n] = co_await bhttp::async_write(stream, sr, kAwait);
      timer.Moved(n, true);
      if (ec) co_return fail("sending the request", ec);
    }
    co_return SendOutcome{};
  }

  io::BodySource& source = *request.body;
  const std::uint64_t declared = source.size();
  if (auto whole = source.contiguous()) {
    // Already in memory: sent straight from there, no copy.
    if (whole->size() != declared) {
      co_return SendOutcome{Status::Error(
          ErrorClass::kFatal, ep + ": request body holds " + std::to_string(whole->size()) +
                                  " bytes, not its declared " + std::to_string(declared))};
    }
    req.body().data = const_cast<char*>(whole->data());  // Beast only reads it
    req.body().size = whole->size();
    req.body().more = false;
    error_code ec = co_await WriteSome(stream, sr, conn, timer);
    if (ec) co_return fail("sending the request body", ec);
    co_return SendOutcome{};
  }
  std::unique_ptr<char[]> buf(new char[params.io_buffer_size]);  // not zeroed: Read fills it
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
    error_code ec = co_await WriteSome(stream, sr, conn, timer);
    if (ec) co_return fail("sending the request body", ec);
  }
  co_return SendOutcome{};
}

// The body of a response whose header said `length` bytes, into `sink`:
// first what arrived with the header (in conn.buffer), then straight from the
// stream into the sink's direct space, or through one buffer and Write.
template <class Stream>
io::Task<Status> ReceiveBody(Stream& stream, Connection& conn, const ExchangeParams& params,
                             io::BodySink& sink, std::uint64_t length, OpTimer& timer) {
  const std::string& ep = *params.endpoint;
  std::uint64_t received = 0;
  if (conn.buffer.size() > 0) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(conn.buffer.size(), length));
    std::span<const char> early(static_cast<const char*>(conn.buffer.data().data()), n);
    FERRY_CO_RETURN_IF_ERROR(co_await sink.Write(early));  // the sink's error, unchanged
    conn.buffer.consume(n);
    received = n;
  }
  std::unique_ptr<char[]> buf;
  while (received < length) {
    std::span<char> into = sink.direct_space();
    const bool direct = !into.empty();
    if (!direct) {
      if (!buf) buf.reset(new char[params.io_buffer_size]);
      into = std::span<char>(buf.get(), params.io_buffer_size);
    }
    into = into.first(static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), length - received)));
    if (!timer.Arm(conn.tcp())) {
      co_return TransportError(ep, "reading the response body", beast::error::timeout, timer);
    }
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(into.data(), into.size()), kAwait);
    timer.Moved(n, false);
    if (IsPeerClosed(ec) || (!ec && n == 0)) {
      co_return Status::Error(ErrorClass::kRetryable,
                              ep + ": connection closed after " + std::to_string(received + n) +
                                  " of " + std::to_string(length) + " body bytes");
    }
    if (ec) co_return TransportError(ep, "reading the response body", ec, timer);
    if (direct) {
      sink.Received(n);
    } else {
      FERRY_CO_RETURN_IF_ERROR(co_await sink.Write(into.first(n)));
    }
    received += n;
  }
  co_return Status::Ok();
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
    timer.Moved(hn, false);
    if (!hec) {
      timer.Answered();
      conn.answered_at = Clock::now();
    }
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

  // A 2xx body of known length bound for a sink bypasses the parser: it is
  // received straight into the sink's memory where it offers some (a part
  // buffer), else into one io_buffer_size buffer. Chunked or unbounded
  // bodies, and bodies we buffer ourselves, go through the parser.
  if (sink && !parser.is_done() && declared && !parser.chunked()) {
    Status s = co_await ReceiveBody(stream, conn, params, *sink, *declared, timer);
    if (!s.ok()) co_return Failed(s);
    response.streamed_bytes = *declared;
    ExchangeOutcome out;
    out.reusable = parser.get().keep_alive() && conn.buffer.size() == 0;
    out.result = std::move(response);
    co_return out;
  }

  // Sized by the body when it is known and small (most are XML answers).
  const std::size_t room = static_cast<std::size_t>(std::clamp<std::uint64_t>(
      declared.value_or(params.io_buffer_size), 1, params.io_buffer_size));
  std::unique_ptr<char[]> buf;
  if (!parser.is_done()) buf.reset(new char[room]);
  std::uint64_t received = 0;
  std::size_t filled = 0;
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = buf.get() + filled;
    body.size = room - filled;
    if (!timer.Arm(conn.tcp())) {
      co_return Failed(
          TransportError(ep, "reading the response body", beast::error::timeout, timer));
    }
    auto [ec, n] = co_await bhttp::async_read_some(stream, conn.buffer, parser, kAwait);
    timer.Moved(n, false);
    if (ec == bhttp::error::need_buffer) ec = {};
    filled = room - body.size;
    if (ec == bhttp::error::partial_message || IsPeerClosed(ec)) {
      std::string of = declared ? " of " + std::to_string(*declared) : "";
      co_return Failed(Status::Error(ErrorClass::kRetryable, ep + ": connection closed after " +
                                                                 std::to_string(received + filled) +
                                                                 of + " body bytes"));
    }
    if (ec) co_return Failed(TransportError(ep, "reading the response body", ec, timer));
    if (filled == 0 || (filled < room && !parser.is_done())) continue;

    received += filled;
    std::span<const char> piece(buf.get(), filled);
    filled = 0;
    if (sink) {
      Status s = co_await sink->Write(piece);
      if (!s.ok()) co_return Failed(s);  // the sink's error, unchanged
      response.streamed_bytes += piece.size();
    } else {
      if (received > options.max_buffered_body) co_return too_big();
      response.body.append(piece.data(), piece.size());
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
  OpTimer timer(request.deadline, request.progress_timeout, request.activity.get());
  timer.SetProven(conn.connected ? conn.answered_at : Clock::time_point{});
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
