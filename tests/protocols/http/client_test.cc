// HTTP client against a real Beast server on loopback: round trips, the
// keep-alive pool and its bound, and the failure classes (truncation,
// stalls, deadlines, idle connections closed by the server).
#include "protocols/http/client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>

#include "tests/protocols/http/test_data.h"
#include "tests/protocols/http/test_server.h"
#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

using boost::beast::http::verb;
using ::testing::HasSubstr;
using Ms = std::chrono::milliseconds;

Ms Since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - start);
}

class ClientTest : public ::testing::Test {
 protected:
  TestServer server_;
  ClientRig rig_;
};

TEST_F(ClientTest, PutAndGetRoundTripWithClientHeaders) {
  auto client = rig_.MakeClient(server_.url());
  io::MemorySource body("hello, ferry");
  Request put = MakeRequest(verb::put, "/echo", &body);
  put.headers.emplace_back("x-custom", "1");
  put.headers.emplace_back("Host", "spoofed");  // the client owns Host
  auto res = rig_.Run(client->Send(put, {}));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "hello, ferry");
  EXPECT_EQ(res->header("X-SEEN-HOST"), "127.0.0.1:" + std::to_string(server_.port()));
  EXPECT_EQ(res->header("x-seen-user-agent"), "ferry/0.1");
  EXPECT_EQ(res->header("x-seen-content-length"), "12");
  EXPECT_EQ(res->header("content-length"), "12");

  auto get = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->body, "");
  EXPECT_EQ(get->header("x-seen-content-length"), "none");

  auto empty_put = rig_.Run(client->Send(MakeRequest(verb::put, "/echo"), {}));
  ASSERT_TRUE(empty_put.ok());
  EXPECT_EQ(empty_put->header("x-seen-content-length"), "0");
}

TEST_F(ClientTest, InterimContinueResponseIsSkipped) {
  auto client = rig_.MakeClient(server_.url());
  io::MemorySource body("payload");
  Request put = MakeRequest(verb::put, "/echo", &body);
  put.headers.emplace_back("Expect", "100-continue");
  auto res = rig_.Run(client->Send(put, {}));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "payload");
  // The connection carries nothing stale into the next exchange.
  auto next = rig_.Run(client->Send(MakeRequest(verb::get, "/status?code=204"), {}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->status, 204);
  EXPECT_EQ(client->stats().reused, 1u);
}

TEST_F(ClientTest, BasePathIsPrefixedToTargets) {
  auto client = rig_.MakeClient(server_.url() + "/base/");
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/echo?x=a%20b"), {}));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("x-seen-target"), "/base/echo?x=a%20b");
}

TEST_F(ClientTest, SequentialRequestsReuseOneConnection) {
  auto client = rig_.MakeClient(server_.url());
  for (int i = 0; i < 10; ++i) {
    auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
    ASSERT_TRUE(res.ok()) << res.status().ToString();
  }
  EXPECT_EQ(server_.accepted(), 1);
  ClientStats stats = client->stats();
  EXPECT_EQ(stats.connections_opened, 1u);
  EXPECT_EQ(stats.exchanges, 10u);
  EXPECT_EQ(stats.reused, 9u);
  EXPECT_EQ(stats.idle, 1u);
  EXPECT_EQ(stats.leased, 0u);
}

TEST_F(ClientTest, PoolNeverExceedsMaxConnections) {
  ClientOptions options;
  options.max_connections = 4;
  auto client = rig_.MakeClient(server_.url(), options);
  std::vector<std::future<Result<Response>>> futures;
  for (int i = 0; i < 20; ++i) {
    futures.push_back(rig_.Start(client->Send(MakeRequest(verb::get, "/slow?ms=100"), {})));
  }
  for (auto& f : futures) {
    auto res = ClientRig::Wait(f);
    ASSERT_TRUE(res.ok()) << res.status().ToString();
    EXPECT_EQ(res->body, "ok");
  }
  EXPECT_LE(server_.max_open(), 4);
  EXPECT_GE(server_.max_open(), 2);  // the requests did run in parallel
  EXPECT_LE(client->stats().connections_opened, 4u);
  EXPECT_EQ(client->stats().leased, 0u);
}

TEST_F(ClientTest, WaitingForALeaseIsBoundedByTheDeadline) {
  ClientOptions options;
  options.max_connections = 1;
  auto client = rig_.MakeClient(server_.url(), options);
  auto slow = rig_.Start(client->Send(MakeRequest(verb::get, "/slow?ms=1500"), {}));
  // Wait (bounded) until the slow request holds the only connection.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_.accepted() == 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  ASSERT_EQ(server_.accepted(), 1);
  Request waiting = MakeRequest(verb::get, "/echo");
  waiting.deadline = std::chrono::steady_clock::now() + Ms(200);
  auto start = std::chrono::steady_clock::now();
  auto res = rig_.Run(client->Send(waiting, {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("waiting for a free connection"));
  EXPECT_LT(Since(start), Ms(1000));
  auto slow_res = ClientRig::Wait(slow);
  EXPECT_TRUE(slow_res.ok()) << slow_res.status().ToString();
  EXPECT_EQ(client->stats().leased, 0u);
}

TEST_F(ClientTest, HeadReadsHeadersOnlyAndKeepsTheConnection) {
  auto client = rig_.MakeClient(server_.url());
  ResponseOptions head;
  head.head = true;
  auto res = rig_.Run(client->Send(MakeRequest(verb::head, "/download?size=123456"), head));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->header("Content-Length"), "123456");
  EXPECT_TRUE(res->body.empty());
  auto next = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(server_.accepted(), 1);
}

TEST_F(ClientTest, ErrorBodiesAreBufferedEvenWithASink) {
  auto client = rig_.MakeClient(server_.url());
  HashingSink sink;
  ResponseOptions options;
  options.sink = &sink;
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/status?code=404&size=100"), options));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, std::string(100, 'e'));
  EXPECT_EQ(sink.bytes(), 0u);
  EXPECT_EQ(res->streamed_bytes, 0u);
}

TEST_F(ClientTest, OversizedBufferedBodyIsFatal) {
  auto client = rig_.MakeClient(server_.url());
  ResponseOptions options;
  options.max_buffered_body = 1 << 20;
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/download?size=2000000"), options));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kFatal);
  EXPECT_THAT(res.status().error().message, HasSubstr("1048576-byte buffer limit"));
}

TEST_F(ClientTest, ServerClosingMidBodyIsRetryable) {
  auto client = rig_.MakeClient(server_.url());
  HashingSink sink;
  ResponseOptions options;
  options.sink = &sink;
  auto start = std::chrono::steady_clock::now();
  auto res =
      rig_.Run(client->Send(MakeRequest(verb::get, "/truncate?size=1000000&send=1000"), options));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message,
              HasSubstr("connection closed after 1000 of 1000000 body bytes"));
  EXPECT_THAT(res.status().error().message, HasSubstr(server_.url()));
  EXPECT_LT(Since(start), Ms(2000));
  EXPECT_EQ(client->stats().idle, 0u);  // a broken connection is not pooled
}

TEST_F(ClientTest, StalledServerHitsProgressTimeout) {
  auto client = rig_.MakeClient(server_.url());
  Request req = MakeRequest(verb::get, "/stall");
  req.progress_timeout = Ms(200);
  auto start = std::chrono::steady_clock::now();
  auto res = rig_.Run(client->Send(req, {}));
  Ms took = Since(start);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("no progress for 200 ms"));
  EXPECT_THAT(res.status().error().message, HasSubstr(server_.url()));
  EXPECT_GE(took, Ms(190));
  EXPECT_LT(took, Ms(2000));
}

TEST_F(ClientTest, StallInTheBodyHitsProgressTimeout) {
  auto client = rig_.MakeClient(server_.url());
  HashingSink sink;
  ResponseOptions options;
  options.sink = &sink;
  Request req = MakeRequest(verb::get, "/stall-body?size=1000000&send=5000");
  req.progress_timeout = Ms(200);
  auto start = std::chrono::steady_clock::now();
  auto res = rig_.Run(client->Send(req, options));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message,
              HasSubstr("no progress for 200 ms while reading the response body"));
  EXPECT_LT(Since(start), Ms(2000));
}

TEST_F(ClientTest, StalledServerHitsDeadline) {
  auto client = rig_.MakeClient(server_.url());
  Request req = MakeRequest(verb::get, "/stall");
  req.deadline = std::chrono::steady_clock::now() + Ms(300);
  auto start = std::chrono::steady_clock::now();
  auto res = rig_.Run(client->Send(req, {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("deadline exceeded"));
  EXPECT_LT(Since(start), Ms(2000));
}

TEST_F(ClientTest, IdleConnectionClosedByServerIsResentOnce) {
  auto client = rig_.MakeClient(server_.url());
  auto first = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(client->stats().idle, 1u);
  server_.CloseAllConnections();

  // A PUT with a body: the resend has to rewind it.
  GeneratedSource body(7, 100'000);
  auto second = rig_.Run(client->Send(MakeRequest(verb::put, "/upload", &body), {}));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->status, 200);
  EXPECT_EQ(second->header("x-bytes"), "100000");
  EXPECT_EQ(second->header("x-hash"), std::to_string(GeneratedHash(7, 100'000)));
  EXPECT_EQ(body.rewinds(), 1);
  EXPECT_EQ(server_.accepted(), 2);
  EXPECT_EQ(client->stats().connections_opened, 2u);
}

TEST_F(ClientTest, FailureAfterResponseBytesIsNotResent) {
  auto client = rig_.MakeClient(server_.url());
  ASSERT_TRUE(rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {})).ok());
  GeneratedSource body(7, 1000);
  auto res = rig_.Run(client->Send(MakeRequest(verb::put, "/truncate?size=10&send=0", &body), {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("connection closed after 0 of 10"));
  EXPECT_EQ(body.rewinds(), 0);
  EXPECT_EQ(server_.accepted(), 1);
  EXPECT_EQ(client->stats().reused, 1u);
}

TEST_F(ClientTest, ConnectionCloseResponseIsNotPooled) {
  auto client = rig_.MakeClient(server_.url());
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/close"), {}));
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(client->stats().idle, 0u);
  auto again = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(client->stats().connections_opened, 2u);
  EXPECT_EQ(client->stats().reused, 0u);
}

TEST_F(ClientTest, IdleTimeoutDropsPooledConnections) {
  ClientOptions options;
  options.idle_timeout = Ms(0);  // every pooled connection is already too old
  auto client = rig_.MakeClient(server_.url(), options);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {})).ok());
  }
  EXPECT_EQ(client->stats().connections_opened, 2u);
  EXPECT_EQ(server_.accepted(), 2);
}

TEST_F(ClientTest, ConnectionRefusedIsRetryable) {
  std::uint16_t port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  auto client = rig_.MakeClient("http://127.0.0.1:" + std::to_string(port));
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/"), {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("while connecting"));
  EXPECT_EQ(client->stats().leased, 0u);
}

class FailingSource final : public io::BodySource {
 public:
  std::uint64_t size() const override { return 10; }
  io::Task<Result<std::size_t>> Read(std::span<char>) override {
    co_return Status::Error(ErrorClass::kNotFound, "source file vanished");
  }
  Status Rewind() override { return Status::Ok(); }
};

class FailingSink final : public io::BodySink {
 public:
  io::Task<Status> Write(std::span<const char>) override {
    co_return Status::Error(ErrorClass::kCancelled, "sink closed");
  }
};

TEST_F(ClientTest, SourceAndSinkErrorsPassThroughUnchanged) {
  auto client = rig_.MakeClient(server_.url());
  FailingSource source;
  auto put = rig_.Run(client->Send(MakeRequest(verb::put, "/upload", &source), {}));
  ASSERT_FALSE(put.ok());
  EXPECT_EQ(put.status().error_class(), ErrorClass::kNotFound);
  EXPECT_EQ(put.status().error().message, "source file vanished");

  FailingSink sink;
  ResponseOptions options;
  options.sink = &sink;
  auto get = rig_.Run(client->Send(MakeRequest(verb::get, "/download?size=1000"), options));
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().error_class(), ErrorClass::kCancelled);
  EXPECT_EQ(get.status().error().message, "sink closed");
}

TEST_F(ClientTest, RejectsHeaderInjection) {
  auto client = rig_.MakeClient(server_.url());
  Request req = MakeRequest(verb::get, "/echo");
  req.headers.emplace_back("x-amz-meta-a", "secret\r\nInjected: 1");
  auto res = rig_.Run(client->Send(req, {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kInvalidArgument);
  EXPECT_EQ(res.status().ToString().find("secret"), std::string::npos);
  EXPECT_EQ(server_.accepted(), 0);
}

TEST_F(ClientTest, ShutdownClosesIdleAndRefusesNewExchanges) {
  auto client = rig_.MakeClient(server_.url());
  ASSERT_TRUE(rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {})).ok());
  EXPECT_EQ(client->stats().idle, 1u);
  client->Shutdown();
  EXPECT_EQ(client->stats().idle, 0u);
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kCancelled);
}

}  // namespace
}  // namespace ferry::http::testing
