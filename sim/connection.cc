#include "sim/connection.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <cctype>

#include "protocols/http/tls_stream.h"
#include "sim/admin.h"
#include "sim/errors.h"
#include "sim/router.h"
#include "sim/xml.h"

namespace ferry::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Parser = http::request_parser<http::buffer_body>;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::uint64_t kMaxBody = 6ull << 30;  // a 5 GiB part plus aws-chunked framing
constexpr std::size_t kChunk = 256 << 10;
constexpr std::uint64_t kDrainLimit = 16u << 20;

io::Task<void> Sleep(std::chrono::nanoseconds d) {
  if (d <= std::chrono::nanoseconds(0)) co_return;
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(kTuple);
}

template <class Stream>
class Connection {
 public:
  Connection(Stream& stream, Services& svc) : stream_(stream), svc_(svc) {
    // Beast sizes each read by the buffer's free capacity (at least 512
    // bytes); a body drained chunk by chunk never grows it, so reserve room
    // for large reads up front.
    buffer_.reserve(kChunk);
  }

  io::Task<void> Run() {
    for (;;) {
      bool again = co_await ServeOne();
      if (!again) break;
    }
  }

  void Reset() {
    beast::error_code ec;
    auto& sock = beast::get_lowest_layer(stream_).socket();
    sock.set_option(asio::socket_base::linger(true, 0), ec);
    sock.close(ec);
  }

  void ShutdownSend() {
    beast::error_code ec;
    beast::get_lowest_layer(stream_).socket().shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  }

 private:
  // The transport body of the current request, shaped and counted.
  class RawBody final : public BodyReader {
   public:
    RawBody(Connection& c, Parser& p, bool expect_continue)
        : c_(c), p_(p), continue_pending_(expect_continue) {}
    std::optional<std::uint64_t> size() const override {
      auto n = p_.content_length();
      return n ? std::optional<std::uint64_t>(*n) : std::nullopt;
    }
    io::Task<Result<std::size_t>> Read(std::span<char> out) override {
      if (p_.is_done()) co_return std::size_t{0};
      if (continue_pending_) {
        continue_pending_ = false;
        static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
        beast::get_lowest_layer(c_.stream_).expires_after(c_.svc_.config.io_timeout);
        auto [ec, n] = co_await asio::async_write(c_.stream_, asio::buffer(kContinue), kTuple);
        if (ec) co_return Broken("100 Continue");
      }
      for (;;) {
        p_.get().body().data = out.data();
        p_.get().body().size = out.size();
        beast::get_lowest_layer(c_.stream_).expires_after(c_.svc_.config.io_timeout);
        auto [ec, n] = co_await http::async_read(c_.stream_, c_.buffer_, p_, kTuple);
        if (ec == http::error::need_buffer) ec = {};
        if (ec) co_return Broken(ec.message());
        std::size_t got = out.size() - p_.get().body().size;
        if (got > 0) {
          consumed_ += got;
          c_.svc_.stats.AddBytesIn(got);
          co_await c_.Shape(got);
          co_return got;
        }
        if (p_.is_done()) co_return std::size_t{0};
      }
    }
    bool continue_pending() const { return continue_pending_; }
    bool broken() const { return broken_; }
    std::uint64_t consumed() const { return consumed_; }

   private:
    Status Broken(const std::string& what) {
      broken_ = true;
      return S3Error(400, "IncompleteBody", "request body: " + what);
    }
    Connection& c_;
    Parser& p_;
    bool continue_pending_;
    bool broken_ = false;
    std::uint64_t consumed_ = 0;
  };

  io::Task<void> Shape(std::uint64_t bytes) {
    std::uint64_t rate = svc_.link.bandwidth_bps.load();
    if (rate == 0) co_return;
    co_await Sleep(bucket_.Take(bytes, rate, TokenBucket::Clock::now()));
  }

  io::Task<bool> WriteShaped(std::string_view data) {
    while (!data.empty()) {
      std::size_t n = std::min(data.size(), TokenBucket::ChunkFor(svc_.link.bandwidth_bps, kChunk));
      co_await Shape(n);
      beast::get_lowest_layer(stream_).expires_after(svc_.config.io_timeout);
      auto [ec, w] = co_await asio::async_write(stream_, asio::buffer(data.data(), n), kTuple);
      if (ec) co_return false;
      data.remove_prefix(n);
    }
    co_return true;
  }

  std::string HeaderBlock(const SimResponse& r, const std::string& request_id,
                          bool keep_alive) const {
    std::string h = "HTTP/1.1 " + std::to_string(r.status) + " " +
                    std::string(http::obsolete_reason(static_cast<http::status>(r.status))) +
                    "\r\n";
    for (const auto& [n, v] : r.headers) h += n + ": " + v + "\r\n";
    h += "x-amz-request-id: " + request_id + "\r\n";
    h += "x-amz-id-2: s3sim/" + request_id + "\r\n";
    h += "Date: " + HttpDate(svc_.Now()) + "\r\n";
    h += "Server: s3sim\r\n";
    if (r.status != 204) h += "Content-Length: " + std::to_string(r.content_length()) + "\r\n";
    if (!keep_alive) h += "Connection: close\r\n";
    h += "\r\n";
    return h;
  }

  // Writes the response, carrying out a transport fault. Returns false when
  // the connection must not be reused.
  io::Task<bool> Respond(const Outcome& out, bool keep_alive, std::uint64_t* bytes_out) {
    const SimResponse& r = out.response;
    bool no_body = r.omit_body || r.status == 204 || r.status == 304;
    std::uint64_t total = no_body ? 0 : r.content_length();
    std::optional<FaultKind> fault = out.write_fault;
    if (fault && (*fault == FaultKind::kReset || *fault == FaultKind::kTruncate) && total == 0) {
      // Nothing to cut short: the client sees the connection go away.
      if (*fault == FaultKind::kReset) Reset();
      co_return false;
    }
    bool wrote = co_await WriteShaped(HeaderBlock(r, out.request_id, keep_alive));
    if (!wrote) co_return false;
    std::uint64_t send = total;
    if (fault && *fault != FaultKind::kFlip) send = total / 2;
    std::uint64_t flip_at = fault && *fault == FaultKind::kFlip ? total / 2 : total;
    std::string buf;
    std::uint64_t at = 0;
    while (at < send) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, send - at));
      if (r.blob) {
        buf.resize(n);
        if (!r.blob->ReadAt(r.blob_offset + at, std::span<char>(buf.data(), n)).ok())
          co_return false;
      } else {
        buf.assign(r.body, static_cast<std::size_t>(at), n);
      }
      if (flip_at >= at && flip_at < at + n) buf[flip_at - at] ^= 0x01;
      wrote = co_await WriteShaped(buf);
      if (!wrote) co_return false;
      at += n;
      *bytes_out += n;
      svc_.stats.AddBytesOut(n);
    }
    if (fault && *fault == FaultKind::kReset) {
      Reset();
      co_return false;
    }
    if (fault && *fault == FaultKind::kTruncate) {
      ShutdownSend();
      co_return false;
    }
    co_return keep_alive;
  }

  io::Task<bool> ServeOne() {
    Parser parser;
    parser.header_limit(static_cast<std::uint32_t>(svc_.config.header_limit));
    parser.body_limit(kMaxBody);
    beast::get_lowest_layer(stream_).expires_after(svc_.config.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, kTuple);
    if (ec) {
      if (ec == http::error::header_limit) {
        Outcome o;
        o.request_id = svc_.NewRequestId();
        o.response = ErrorResponse(S3Error(400, "RequestHeaderSectionTooLarge",
                                           "Your request header section exceeds the maximum "
                                           "allowed size."),
                                   "", o.request_id, false);
        std::uint64_t ignored = 0;
        co_await Respond(o, false, &ignored);
      }
      co_return false;
    }
    auto& msg = parser.get();
    SimRequest req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    auto q = req.target.find('?');
    req.raw_path = req.target.substr(0, q);
    if (q != std::string::npos) req.raw_query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return std::tolower(ch); });
      req.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    req.has_body = !parser.is_done();
    std::string expect = req.HeaderOr("expect");
    std::transform(expect.begin(), expect.end(), expect.begin(),
                   [](unsigned char ch) { return std::tolower(ch); });
    RawBody raw(*this, parser, req.has_body && expect == "100-continue");
    bool keep_alive = msg.keep_alive();

    Outcome out;
    bool admin = req.raw_path.starts_with(kAdminPrefix);
    Status qs = ParseQuery(req);
    if (!qs.ok()) {
      out.request_id = svc_.NewRequestId();
      out.op = "Unknown";
      out.response = ErrorResponse(qs, req.raw_path, out.request_id, req.method == "HEAD");
    } else if (admin) {
      out.request_id = svc_.NewRequestId();
      auto body = co_await ReadAll(raw, 16u << 20);
      out.response = body.ok() ? HandleAdmin(svc_, req, *body)
                               : ErrorResponse(body.status(), req.raw_path, out.request_id, false);
    } else {
      out = co_await HandleS3(svc_, req, raw);
    }
    if (out.reset_now || raw.broken()) {
      Reset();
      if (!admin) LogRequest(req, out, raw.consumed(), 0);
      co_return false;
    }
    if (!parser.is_done()) {
      // The handler answered without reading the whole body. Without "100
      // Continue" the client has not sent it; otherwise drain a little so
      // the connection can be reused.
      if (raw.continue_pending()) {
        keep_alive = false;
      } else {
        std::string scratch(64 << 10, '\0');
        std::uint64_t drained = 0;
        while (!parser.is_done() && drained < kDrainLimit) {
          auto r = co_await raw.Read(std::span<char>(scratch.data(), scratch.size()));
          if (!r.ok() || *r == 0) break;
          drained += *r;
        }
        if (!parser.is_done()) keep_alive = false;
      }
    }
    // Logged before answering: once a client has its answer, the log (which
    // tests read to check write order) already shows the request.
    if (!admin) LogRequest(req, out, raw.consumed(), PlannedBytesOut(out));
    std::uint64_t bytes_out = 0;
    bool again = co_await Respond(out, keep_alive, &bytes_out);
    if (!again) ShutdownSend();
    co_return again;
  }

  static std::uint64_t PlannedBytesOut(const Outcome& out) {
    const SimResponse& r = out.response;
    if (r.omit_body || r.status == 204 || r.status == 304) return 0;
    std::uint64_t total = r.content_length();
    bool cut = out.write_fault && *out.write_fault != FaultKind::kFlip;
    return cut ? total / 2 : total;
  }

  void LogRequest(const SimRequest& req, const Outcome& out, std::uint64_t in, std::uint64_t o) {
    int status = out.reset_now ? 0 : out.response.status;
    svc_.stats.CountRequest(out.op, status);
    LogEntry e;
    e.time = Clock::now();
    e.method = req.method;
    e.op = out.op;
    e.bucket = out.bucket;
    e.key = out.key;
    if (const std::string* part = req.Query("partNumber")) e.part = part->substr(0, 16);
    e.status = status;
    e.bytes_in = in;
    e.bytes_out = o;
    e.fault = out.fault;
    // The signature as sent (even a wrong one), so tests can check that it
    // never shows up in a client's logs or output.
    if (const std::string* a = req.Header("authorization")) {
      auto at = a->find("Signature=");
      if (at != std::string::npos) e.signature = a->substr(at + 10, 64);
    } else {
      for (const auto& [name, value] : req.query) {
        if (name == "X-Amz-Signature") e.signature = value.substr(0, 64);
      }
    }
    svc_.log.Append(std::move(e));
  }

  Stream& stream_;
  Services& svc_;
  beast::flat_buffer buffer_;
  TokenBucket bucket_;
};

struct ConnectionCounter {
  explicit ConnectionCounter(Stats& s) : stats(s) { stats.ConnectionOpened(); }
  ~ConnectionCounter() { stats.ConnectionClosed(); }
  Stats& stats;
};

}  // namespace

io::Task<void> ServeConnection(asio::ip::tcp::socket socket, Services& svc) {
  ConnectionCounter counter(svc.stats);
  beast::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  beast::tcp_stream stream(std::move(socket));
  Connection<beast::tcp_stream> c(stream, svc);
  co_await c.Run();
  stream.socket().close(ec);
}

io::Task<void> ServeTlsConnection(asio::ip::tcp::socket socket, asio::ssl::context& tls,
                                  Services& svc) {
  ConnectionCounter counter(svc.stats);
  beast::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  ferry::http::TlsStream stream(tls, std::move(socket));
  beast::get_lowest_layer(stream).expires_after(svc.config.io_timeout);
  auto [hs] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (hs) co_return;
  Connection<ferry::http::TlsStream> c(stream, svc);
  co_await c.Run();
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  auto [sd] = co_await stream.async_shutdown(kTuple);
  (void)sd;
  beast::get_lowest_layer(stream).socket().close(ec);
}

}  // namespace ferry::sim
