// The small HTTP/1.1 server (protocols/http/server.h) with real clients on
// loopback: ferry's own HTTP client for keep-alive round trips, raw sockets
// for the misbehaving ones. The server runs on a two-thread io_context.
#include "protocols/http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <cstring>
#include <thread>

#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using namespace std::chrono_literals;

// A blocking TCP client with a 10 s receive timeout.
class RawConn {
 public:
  RawConn(std::uint16_t port, bool v6 = false) {
    fd_ = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (v6) {
      sockaddr_in6 a{};
      a.sin6_family = AF_INET6;
      a.sin6_port = htons(port);
      a.sin6_addr = in6addr_loopback;
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    } else {
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(port);
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
  }
  ~RawConn() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // One response: head and Content-Length body. "<eof>"/"<error>" when the
  // connection ends first.
  std::string ReadResponse() {
    for (;;) {
      auto end = buf_.find("\r\n\r\n");
      if (end != std::string::npos) {
        std::size_t length = 0;
        auto cl = Lower(buf_.substr(0, end)).find("content-length:");
        if (cl != std::string::npos) length = std::stoul(buf_.substr(cl + 15));
        if (buf_.size() >= end + 4 + length) {
          std::string out = buf_.substr(0, end + 4 + length);
          buf_.erase(0, end + 4 + length);
          return out;
        }
      }
      int n = Recv();
      if (n == 0) return "<eof>";
      if (n < 0) return "<error>";
    }
  }
  // True when the server closed the connection (EOF or reset) within 10 s.
  bool Closed() {
    for (;;) {
      int n = Recv();
      if (n <= 0) return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
  }
  // Non-blocking: has the server closed the connection already?
  bool ClosedNow() {
    char c;
    ssize_t n = ::recv(fd_, &c, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

 private:
  static std::string Lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }
  int Recv() {
    char chunk[4096];
    ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n > 0) buf_.append(chunk, static_cast<std::size_t>(n));
    return static_cast<int>(n);
  }
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void TearDown() override { server_.reset(); }

  // /echo: 200 with method, target, x-test header and body reported;
  // /throw: handler exception; /bad-status: status 42; /hdr: hostile headers;
  // /slow: 1 s; anything else: 404.
  ServerHandler Handler() {
    return [this](ServerRequest req) -> io::Task<ServerResponse> {
      ++handled_;
      ServerResponse res;
      if (req.target.starts_with("/echo")) {
        res.body = req.method + " " + req.target + " x-test=" + std::string(req.Header("X-TEST")) +
                   " body=" + req.body;
        res.headers.emplace_back("X-Body-Size", std::to_string(req.body.size()));
      } else if (req.target == "/metrics") {
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = "ferry_up 1\n";
      } else if (req.target == "/throw") {
        throw std::runtime_error("handler bug");
      } else if (req.target == "/bad-status") {
        res.status = 42;
      } else if (req.target == "/hdr") {
        res.headers.emplace_back("X-Good", "yes");
        res.headers.emplace_back("X-Evil", "a\r\nSet-Cookie: injected=1");
        res.headers.emplace_back("Content-Length", "999");
        res.body = "ok";
      } else if (req.target == "/slow") {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, 1000ms);
        co_await t.async_wait(boost::asio::use_awaitable);
        res.body = "slow";
      } else {
        res.status = 404;
        res.body = "not found";
      }
      co_return res;
    };
  }

  void Start(ServerOptions o = ServerOptions()) {
    if (o.listen == ServerOptions().listen) o.listen = "127.0.0.1:0";
    auto s = Server::Start(rig_.executor(), std::move(o), Handler());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_NE(server_->port(), 0);
  }
  std::string Url(const std::string& host = "127.0.0.1") {
    return "http://" + host + ":" + std::to_string(server_->port());
  }

  ClientRig rig_;
  std::unique_ptr<Server> server_;
  std::atomic<int> handled_{0};
};

TEST(HttpServerListen, SplitListenAddress) {
  auto v4 = SplitListenAddress("127.0.0.1:9464");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->first, "127.0.0.1");
  EXPECT_EQ(v4->second, 9464);
  auto v6 = SplitListenAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->first, "::1");
  EXPECT_EQ(v6->second, 0);
  for (const char* bad : {"::1:80", "localhost", ":80", "host:", "host:65536", "host:8x", "[::1]80",
                          "[::1", "[]:80"}) {
    auto r = SplitListenAddress(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument));
    }
  }
}

TEST_F(HttpServerTest, KeepAliveRoundTripsWithOurClient) {
  Start();
  auto client = rig_.MakeClient(Url());
  auto metrics = rig_.Run(client->Send(MakeRequest(verb::get, "/metrics"), {}));
  ASSERT_TRUE(metrics.ok()) << metrics.status().ToString();
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->body, "ferry_up 1\n");
  EXPECT_EQ(metrics->header("content-type"), "text/plain; version=0.0.4; charset=utf-8");

  io::MemorySource body("{\"Records\":[]}");
  Request post = MakeRequest(verb::post, "/echo?token=1", &body);
  post.headers.emplace_back("x-test", "hello");
  auto echoed = rig_.Run(client->Send(post, {}));
  ASSERT_TRUE(echoed.ok()) << echoed.status().ToString();
  EXPECT_EQ(echoed->body, "POST /echo?token=1 x-test=hello body={\"Records\":[]}");
  EXPECT_EQ(echoed->header("x-body-size"), "14");

  auto missing = rig_.Run(client->Send(MakeRequest(verb::get, "/nope"), {}));
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(client->stats().connections_opened, 1u);  // one keep-alive connection
  EXPECT_EQ(client->stats().exchanges, 3u);
}

TEST_F(HttpServerTest, PipelinedRequestsOnOneConnection) {
  Start();
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /echo/1 HTTP/1.1\r\nHost: x\r\n\r\n"
             "POST /echo/2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
             "GET /echo/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), HasSubstr("GET /echo/1"));
  EXPECT_THAT(c.ReadResponse(), HasSubstr("POST /echo/2 x-test= body=abc"));
  std::string last = c.ReadResponse();
  EXPECT_THAT(last, HasSubstr("GET /echo/3"));
  EXPECT_THAT(last, HasSubstr("Connection: close"));
  EXPECT_TRUE(c.Closed());
}

TEST_F(HttpServerTest, HeadHasLengthButNoBody) {
  Start();
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));
  // ReadResponse would wait for 11 body bytes after HEAD; the GET after it
  // proves none were sent.
  std::string head = c.ReadResponse();
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 200 OK"));
  std::string get = c.ReadResponse();
  EXPECT_THAT(get, HasSubstr("ferry_up 1"));
}

TEST_F(HttpServerTest, ChunkedBodyIsAccepted) {
  Start();
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), HasSubstr("body=abcde"));
}

TEST_F(HttpServerTest, BodyTooLargeIs413AndClosed) {
  ServerOptions o;
  o.max_body = 1000;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                     std::string(5000, 'b')));
  std::string res = c.ReadResponse();
  EXPECT_THAT(res, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(res, HasSubstr("larger than 1000 bytes"));
  EXPECT_TRUE(c.Closed());

  // Chunked bodies are bounded too.
  RawConn chunked(server_->port());
  std::string big = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) big += "1f4\r\n" + std::string(500, 'c') + "\r\n";
  big += "0\r\n\r\n";
  ASSERT_TRUE(chunked.Send(big));
  EXPECT_THAT(chunked.ReadResponse(), StartsWith("HTTP/1.1 413"));
  EXPECT_EQ(handled_.load(), 0);

  // Exactly max_body is fine.
  RawConn exact(server_->port());
  ASSERT_TRUE(exact.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                         std::string(1000, 'b')));
  EXPECT_THAT(exact.ReadResponse(), StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, HeaderTooLargeIs431) {
  ServerOptions o;
  o.max_header = 1024;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(
      c.Send("GET /echo HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'h') + "\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), StartsWith("HTTP/1.1 431"));
  EXPECT_TRUE(c.Closed());
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, MalformedRequestIs400) {
  Start();
  for (const char* bad :
       {"GARBAGE\r\n\r\n", "GET / HTTP/9.9\r\n\r\n", "GET / HTTP/1.1\r\nBad Header\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n"}) {
    RawConn c(server_->port());
    ASSERT_TRUE(c.Send(bad));
    EXPECT_THAT(c.ReadResponse(), StartsWith("HTTP/1.1 400")) << bad;
    EXPECT_TRUE(c.Closed()) << bad;
  }
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(HttpServerTest, SlowLorisIsDropped) {
  ServerOptions o;
  o.read_timeout = 300ms;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\nHost: x\r\n"));
  // Trickle one header byte every 50 ms for up to 10 s: the whole request must
  // arrive within read_timeout, so the trickle does not keep it alive.
  bool closed = false;
  for (int i = 0; i < 200 && !closed; ++i) {
    if (!c.Send("X") || c.ClosedNow()) closed = true;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(closed);
  EXPECT_EQ(handled_.load(), 0);

  // An idle keep-alive connection is closed after read_timeout too.
  RawConn idle(server_->port());
  ASSERT_TRUE(idle.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(idle.ReadResponse(), StartsWith("HTTP/1.1 200"));
  EXPECT_TRUE(idle.Closed());
}

TEST_F(HttpServerTest, HandlerTimeDoesNotCountAsReadTimeout) {
  ServerOptions o;
  o.read_timeout = 400ms;
  Start(o);
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));  // handler takes 1 s
  EXPECT_THAT(c.ReadResponse(), HasSubstr("slow"));
}

TEST_F(HttpServerTest, MaxConnections) {
  ServerOptions o;
  o.max_connections = 2;
  Start(o);
  RawConn a(server_->port()), b(server_->port());
  for (RawConn* c : {&a, &b}) {
    ASSERT_TRUE(c->Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
    EXPECT_THAT(c->ReadResponse(), StartsWith("HTTP/1.1 200"));
  }
  RawConn extra(server_->port());
  ASSERT_TRUE(extra.connected());
  extra.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string res = extra.ReadResponse();
  EXPECT_THAT(res, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(res, HasSubstr("too many connections"));
  EXPECT_TRUE(extra.Closed());
  // The admitted ones still work.
  ASSERT_TRUE(a.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(a.ReadResponse(), StartsWith("HTTP/1.1 200"));
}

TEST_F(HttpServerTest, HandlerFailuresBecome500AndHeadersAreSanitised) {
  Start();
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /throw HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), StartsWith("HTTP/1.1 500"));
  ASSERT_TRUE(c.Send("GET /bad-status HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), StartsWith("HTTP/1.1 500"));
  ASSERT_TRUE(c.Send("GET /hdr HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string res = c.ReadResponse();
  EXPECT_THAT(res, HasSubstr("X-Good: yes"));
  EXPECT_THAT(res, Not(HasSubstr("injected")));
  EXPECT_THAT(res, Not(HasSubstr("999")));
  EXPECT_THAT(res, HasSubstr("Content-Length: 2"));
}

TEST_F(HttpServerTest, Ipv6Loopback) {
  ServerOptions o;
  o.listen = "[::1]:0";
  Start(o);
  auto client = rig_.MakeClient(Url("[::1]"));
  auto r = rig_.Run(client->Send(MakeRequest(verb::get, "/echo/v6"), {}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_THAT(r->body, HasSubstr("GET /echo/v6"));
  RawConn v4(server_->port());  // bound to ::1 only (v6_only)
  EXPECT_FALSE(v4.connected());
  RawConn v6(server_->port(), /*v6=*/true);
  EXPECT_TRUE(v6.connected());
}

TEST_F(HttpServerTest, StopClosesListenerAndConnections) {
  Start();
  RawConn c(server_->port());
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_THAT(c.ReadResponse(), StartsWith("HTTP/1.1 200"));
  std::uint16_t port = server_->port();
  server_->Stop();
  EXPECT_TRUE(c.Closed());
  // The listener closes on its strand shortly after Stop returns.
  bool refused = false;
  for (int i = 0; i < 200 && !refused; ++i) {
    RawConn late(port);
    refused = !late.connected();
    if (!refused) std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(refused);
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, BadListenAddresses) {
  // (No name that needs DNS: tests stay on loopback.)
  for (const char* listen : {"nonsense", "localhost:99999", "[zz::1]:80", "[::1]"}) {
    ServerOptions o;
    o.listen = listen;
    auto s = Server::Start(rig_.executor(), o, Handler());
    EXPECT_FALSE(s.ok()) << listen;
  }
  ServerOptions named;
  named.listen = "localhost:0";
  Start(named);
  // `localhost` may name 127.0.0.1, ::1 or both (listen_test.cc covers
  // each): ask the server where it listens instead of assuming.
  ASSERT_FALSE(server_->addresses().empty());
  auto client = rig_.MakeClient("http://" + server_->addresses().front());
  auto r = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  ServerOptions taken;
  taken.listen = "127.0.0.1:" + std::to_string(server_->port());
  auto s = Server::Start(rig_.executor(), taken, Handler());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().error().message, HasSubstr("cannot listen"));
}

}  // namespace
}  // namespace ferry::http::testing
