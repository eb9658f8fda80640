// See test_server.h. Single-threaded io_context: all session state is only
// touched from the server thread (CloseAllConnections posts onto it).
#include "tests/protocols/http/test_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <array>
#include <charconv>
#include <functional>
#include <future>
#include <map>
#include <string_view>
#include <thread>

#include "tests/protocols/http/test_data.h"

namespace ferry::http::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

std::uint64_t QueryNumber(std::string_view target, std::string_view name, std::uint64_t dflt) {
  auto q = target.find('?');
  if (q == std::string_view::npos) return dflt;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    auto eq = pair.find('=');
    if (eq == std::string_view::npos || pair.substr(0, eq) != name) continue;
    std::uint64_t v = dflt;
    std::from_chars(pair.data() + eq + 1, pair.data() + pair.size(), v);
    return v;
  }
  return dflt;
}

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

struct TestServer::Impl {
  std::optional<asio::ssl::context> tls;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::thread thread;
  std::atomic<int> accepted{0};
  std::atomic<int> open{0};
  std::atomic<int> max_open{0};
  std::uint64_t next_id = 0;
  std::map<std::uint64_t, std::function<void()>> closers;  // server thread only
  // Last member, so it is destroyed first: the session coroutine frames it
  // still owns die while the TLS context and the rest are intact.
  asio::io_context io{1};

  asio::awaitable<void> Accept() {
    for (;;) {
      auto [ec, socket] = co_await acceptor->async_accept(kAwait);
      if (ec) co_return;
      accepted++;
      int now = ++open;
      int seen = max_open.load();
      while (now > seen && !max_open.compare_exchange_weak(seen, now)) {
      }
      if (tls) {
        asio::co_spawn(io, TlsSession(std::move(socket)), asio::detached);
      } else {
        asio::co_spawn(io, PlainSession(std::move(socket)), asio::detached);
      }
    }
  }

  asio::awaitable<void> PlainSession(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    co_await Serve(stream);
  }

  asio::awaitable<void> TlsSession(tcp::socket socket) {
    beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
    auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kAwait);
    if (ec) {
      --open;
      co_return;
    }
    co_await Serve(stream);
  }

  template <class Stream>
  asio::awaitable<void> Serve(Stream& stream) {
    std::uint64_t id = next_id++;
    closers[id] = [&stream] {
      error_code ignored;
      beast::get_lowest_layer(stream).socket().shutdown(tcp::socket::shutdown_both, ignored);
      beast::get_lowest_layer(stream).socket().close(ignored);
    };
    beast::flat_buffer buffer;
    while (co_await ServeOne(stream, buffer)) {
    }
    closers.erase(id);
    error_code ignored;
    beast::get_lowest_layer(stream).socket().close(ignored);
    --open;
  }

  // Reads the rest of the request body, hashing it and keeping up to
  // `keep` bytes of it.
  template <class Stream>
  asio::awaitable<bool> ReadBody(Stream& stream, beast::flat_buffer& buffer,
                                 bhttp::request_parser<bhttp::buffer_body>& parser,
                                 std::string* kept, std::uint64_t* bytes, Xxh3* hash) {
    std::vector<char> chunk(64 * 1024);
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kAwait);
      if (ec && ec != bhttp::error::need_buffer) co_return false;
      std::size_t got = chunk.size() - parser.get().body().size;
      *bytes += got;
      hash->Update(chunk.data(), got);
      if (kept && kept->size() < (1 << 20)) kept->append(chunk.data(), got);
    }
    co_return true;
  }

  // Waits until the client goes away (for the stall routes).
  template <class Stream>
  asio::awaitable<void> DrainUntilClosed(Stream& stream) {
    std::array<char, 4096> sink;
    for (;;) {
      auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), kAwait);
      if (ec) co_return;
    }
  }

  template <class Stream>
  asio::awaitable<bool> Reply(Stream& stream, unsigned status, std::string body,
                              const Headers& extra, bool keep_alive) {
    bhttp::response<bhttp::string_body> res(static_cast<bhttp::status>(status), 11);
    for (const auto& [k, v] : extra) res.set(k, v);
    res.body() = std::move(body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    auto [ec, n] = co_await bhttp::async_write(stream, res, kAwait);
    co_return !ec && keep_alive;
  }

  // Sends a header declaring `size` body bytes and the first `send` of them.
  template <class Stream>
  asio::awaitable<bool> SendGenerated(Stream& stream, std::uint64_t seed, std::uint64_t size,
                                      std::uint64_t send, bool head) {
    bhttp::response<bhttp::buffer_body> res(bhttp::status::ok, 11);
    res.content_length(size);
    res.body().data = nullptr;
    res.body().more = !head;
    bhttp::response_serializer<bhttp::buffer_body> sr(res);
    if (head) sr.split(true);
    auto [hec, hn] = co_await bhttp::async_write_header(stream, sr, kAwait);
    if (hec || head) co_return !hec;
    std::vector<char> chunk(64 * 1024);
    for (std::uint64_t off = 0; off < send;) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), send - off));
      FillGenerated(seed, off, chunk.data(), n);
      off += n;
      res.body().data = chunk.data();
      res.body().size = n;
      res.body().more = off < size;
      auto [ec, w] = co_await bhttp::async_write(stream, sr, kAwait);
      if (ec && ec != bhttp::error::need_buffer) co_return false;
    }
    co_return send == size;
  }

  // Serves one request; false ends the connection.
  template <class Stream>
  asio::awaitable<bool> ServeOne(Stream& stream, beast::flat_buffer& buffer) {
    bhttp::request_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kAwait);
    if (ec) co_return false;
    const auto& req = parser.get();
    std::string target(req.target());
    const std::string seen_target = target;
    // "/base/..." serves the same routes: for endpoints with a base path.
    if (target.rfind("/base/", 0) == 0) target.erase(0, 5);
    const std::string_view path = PathOf(target);
    const bool is_head = req.method() == bhttp::verb::head;

    std::string seen_host(req[bhttp::field::host]);
    std::string seen_agent(req[bhttp::field::user_agent]);
    std::string seen_length = req.count(bhttp::field::content_length)
                                  ? std::string(req[bhttp::field::content_length])
                                  : "none";
    const std::uint64_t size = QueryNumber(target, "size", 0);
    const std::uint64_t send = QueryNumber(target, "send", 0);
    const std::uint64_t seed = QueryNumber(target, "seed", 1);
    const std::uint64_t ms = QueryNumber(target, "ms", 100);
    const unsigned code = static_cast<unsigned>(QueryNumber(target, "code", 500));
    const bool is_echo = path == "/echo";
    if (req[bhttp::field::expect] == "100-continue") {
      bhttp::response<bhttp::empty_body> interim(bhttp::status::continue_, 11);
      auto [cec, cn] = co_await bhttp::async_write(stream, interim, kAwait);
      if (cec) co_return false;
    }
    std::string body;
    std::uint64_t bytes = 0;
    Xxh3 hash;
    if (!co_await ReadBody(stream, buffer, parser, is_echo ? &body : nullptr, &bytes, &hash)) {
      co_return false;
    }

    // Headers are built outside the co_await expressions: GCC 12 rejects
    // braced initialisers with string literals there.
    Headers extra;
    if (path == "/echo") {
      extra.emplace_back(std::string("x-seen-host"), seen_host);
      extra.emplace_back(std::string("x-seen-user-agent"), seen_agent);
      extra.emplace_back(std::string("x-seen-content-length"), seen_length);
      extra.emplace_back(std::string("x-seen-target"), seen_target);
      co_return co_await Reply(stream, 200, std::move(body), extra, true);
    }
    if (path == "/upload") {
      extra.emplace_back(std::string("x-bytes"), std::to_string(bytes));
      extra.emplace_back(std::string("x-hash"), std::to_string(hash.Digest()));
      co_return co_await Reply(stream, 200, std::string(), extra, true);
    }
    if (path == "/download") {
      co_return co_await SendGenerated(stream, seed, size, size, is_head);
    }
    if (path == "/slow") {
      asio::steady_timer timer(io, std::chrono::milliseconds(ms));
      co_await timer.async_wait(kAwait);
      co_return co_await Reply(stream, 200, std::string("ok"), extra, true);
    }
    if (path == "/status") {
      co_return co_await Reply(stream, code, std::string(size, 'e'), extra, true);
    }
    if (path == "/close") co_return co_await Reply(stream, 200, std::string("ok"), extra, false);
    if (path == "/stall") {
      co_await DrainUntilClosed(stream);
      co_return false;
    }
    if (path == "/stall-body" || path == "/truncate") {
      co_await SendGenerated(stream, 1, size, send, false);
      if (path == "/stall-body") co_await DrainUntilClosed(stream);
      co_return false;
    }
    co_return co_await Reply(stream, 404, std::string("no such route"), extra, true);
  }
};

TestServer::TestServer(std::optional<ServerTls> tls) : impl_(std::make_unique<Impl>()) {
  if (tls) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(tls->cert_chain_file);
    impl_->tls->use_private_key_file(tls->key_file, asio::ssl::context::pem);
  }
  impl_->acceptor = std::make_unique<tcp::acceptor>(
      impl_->io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

TestServer::~TestServer() {
  impl_->io.stop();
  impl_->thread.join();
  impl_->acceptor.reset();
  impl_.reset();
}

std::uint16_t TestServer::port() const { return impl_->acceptor->local_endpoint().port(); }

std::string TestServer::url(const std::string& host) const {
  return std::string(impl_->tls ? "https://" : "http://") + host + ":" + std::to_string(port());
}

int TestServer::accepted() const { return impl_->accepted.load(); }
int TestServer::open() const { return impl_->open.load(); }
int TestServer::max_open() const { return impl_->max_open.load(); }

void TestServer::CloseAllConnections() {
  std::promise<void> done;
  asio::post(impl_->io, [this, &done] {
    for (auto& [id, close] : impl_->closers) close();
    done.set_value();
  });
  done.get_future().wait();
}

}  // namespace ferry::http::testing
