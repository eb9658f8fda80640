// Wire robustness of the S3 client under the backends: a raw TCP server
// answers canned bytes (bad XML, <Error> inside a 200, bodies cut short,
// stalls) and every case must end in a typed error — never a crash, a hang
// or a success. Plus: a wrong secret against s3sim is an auth error.
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "protocols/s3/client.h"
#include "protocols/s3/credentials.h"
#include "storage/s3/s3_backend.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using std::chrono::milliseconds;
using std::chrono::seconds;

// What the canned server does with each request it reads.
struct Answer {
  std::string bytes;   // written as is
  bool stall = false;  // then keep the connection open, silent
};

// Accepts connections on 127.0.0.1:0; for each request (headers + any
// Content-Length body) writes the next canned answer, then closes or stalls.
class CannedServer {
 public:
  CannedServer(asio::io_context& ioc, Answer answer)
      : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        answer_(std::move(answer)) {
    asio::co_spawn(ioc, Accept(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_; }

 private:
  io::Task<void> Accept() {
    for (;;) {
      auto [ec, sock] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      auto shared = std::make_shared<tcp::socket>(std::move(sock));
      open_.push_back(shared);  // stalled sockets stay open until the test ends
      asio::co_spawn(acceptor_.get_executor(), Serve(shared), asio::detached);
    }
  }

  io::Task<void> Serve(std::shared_ptr<tcp::socket> sock) {
    std::string buf;
    auto [ec, n] = co_await asio::async_read_until(*sock, asio::dynamic_buffer(buf), "\r\n\r\n",
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    ++requests_;
    // Drain a request body so the client is not stuck sending it.
    std::string head = buf.substr(0, n);
    std::size_t body_len = 0;
    for (std::string_view name : {"content-length:", "Content-Length:"}) {
      if (auto at = head.find(name); at != std::string::npos) {
        body_len = std::stoul(head.substr(at + name.size()));
      }
    }
    if (buf.size() - n < body_len) {
      std::string rest(body_len - (buf.size() - n), '\0');
      auto [rec, got] =
          co_await asio::async_read(*sock, asio::buffer(rest), asio::as_tuple(asio::use_awaitable));
      if (rec) co_return;
    }
    auto [wec, written] = co_await asio::async_write(*sock, asio::buffer(answer_.bytes),
                                                     asio::as_tuple(asio::use_awaitable));
    if (wec || answer_.stall) co_return;
    boost::system::error_code ignored;
    sock->shutdown(tcp::socket::shutdown_both, ignored);
    sock->close(ignored);
  }

  tcp::acceptor acceptor_;
  Answer answer_;
  int requests_ = 0;
  std::vector<std::shared_ptr<tcp::socket>> open_;
};

std::string Response(std::string_view status_line, std::string_view body,
                     std::string_view extra_headers = "") {
  return "HTTP/1.1 " + std::string(status_line) + "\r\nContent-Type: application/xml\r\n" +
         "x-amz-request-id: CANNED123\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         std::string(extra_headers) + "\r\n" + std::string(body);
}

class WireTest : public ::testing::Test {
 protected:
  std::shared_ptr<s3::Client> ClientFor(std::uint16_t port, std::string secret = "secret") {
    s3::ClientOptions o;
    o.endpoint = http::Url::Parse("http://127.0.0.1:" + std::to_string(port)).value();
    o.bucket = "wire";
    o.credentials = s3::StaticCredentials({"wire-key", std::move(secret), ""});
    // Short enough that stall cases end quickly, long enough for a slow CI box.
    o.request_timeout = milliseconds(3'000);
    o.progress_timeout = milliseconds(1'000);
    auto c = s3::Client::Create(ioc_.get_executor(), std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : nullptr;
  }
  template <typename T>
  T Run(io::Task<T> t) {
    return testing::RunTask(ioc_, std::move(t), seconds(30));
  }

  asio::io_context ioc_;
};

io::Task<Result<s3::ListObjectsV2Result>> List(std::shared_ptr<s3::Client> c) {
  s3::ListObjectsV2Request req;
  co_return co_await c->ListObjectsV2(std::move(req));
}

io::Task<Result<std::string>> GetBody(std::shared_ptr<s3::Client> c, std::string key) {
  io::StringSink sink;
  s3::GetObjectRequest req;
  req.key = std::move(key);
  auto r = co_await c->GetObject(std::move(req), sink);
  if (!r.ok()) co_return r.status();
  co_return sink.Take();
}

void ExpectClass(const Status& s, ErrorClass c) {
  ASSERT_FALSE(s.ok()) << "succeeded; expected " << ErrorClassName(c);
  EXPECT_EQ(s.error_class(), c) << s.ToString();
  EXPECT_EQ(s.ToString().find("Authorization"), std::string::npos) << s.ToString();
}

TEST_F(WireTest, MalformedListXmlIsRetryable) {
  CannedServer server(ioc_, {Response("200 OK",
                                      "<ListBucketResult><Contents><Key>a</Key>"
                                      "</Size></Contents>garbage</Broken>")});
  auto r = Run(List(ClientFor(server.port())));
  ExpectClass(r.status(), ErrorClass::kRetryable);
  EXPECT_EQ(server.requests(), 1) << "the client must not retry";
}

TEST_F(WireTest, TruncatedListXmlIsRetryable) {
  CannedServer server(
      ioc_, {Response("200 OK",
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult "
                      "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>wire</Name>"
                      "<IsTruncated>false</IsTruncated><Contents><Key>a</Key><Size>1")});
  auto r = Run(List(ClientFor(server.port())));
  ExpectClass(r.status(), ErrorClass::kRetryable);
}

TEST_F(WireTest, NotXmlAtAllIsRetryable) {
  CannedServer server(ioc_, {Response("200 OK", "this is not xml", "")});
  auto r = Run(List(ClientFor(server.port())));
  ExpectClass(r.status(), ErrorClass::kRetryable);
}

TEST_F(WireTest, ErrorInsideOkCompleteMultipart) {
  // S3 may answer CompleteMultipartUpload with 200 and an <Error> body once
  // it has started streaming whitespace; that is a failure, not an ETag.
  CannedServer server(
      ioc_, {Response("200 OK",
                      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\n  <Error><Code>InternalError"
                      "</Code><Message>We encountered an internal error. Please try again."
                      "</Message><RequestId>REQ42</RequestId></Error>")});
  auto c = ClientFor(server.port());
  auto r = Run(c->CompleteMultipartUpload("key", "upload", {{1, "etag1"}}));
  ExpectClass(r.status(), ErrorClass::kRetryable);
  EXPECT_EQ(r.status().error().code, "InternalError");
  EXPECT_EQ(r.status().error().http_status, 200);
}

TEST_F(WireTest, ErrorInsideOkCopyObject) {
  CannedServer server(ioc_, {Response("200 OK",
                                      "<Error><Code>SlowDown</Code><Message>Reduce your request "
                                      "rate.</Message><RequestId>R</RequestId></Error>")});
  auto c = ClientFor(server.port());
  auto r = Run(c->CopyObject("dst", s3::CopySource{"", "src", "", std::nullopt}, std::nullopt));
  ExpectClass(r.status(), ErrorClass::kThrottled);
  EXPECT_EQ(r.status().error().code, "SlowDown");
}

TEST_F(WireTest, SlowDownIsThrottled) {
  CannedServer server(ioc_, {Response("503 Slow Down",
                                      "<Error><Code>SlowDown</Code><Message>Reduce your request "
                                      "rate.</Message></Error>")});
  auto r = Run(List(ClientFor(server.port())));
  ExpectClass(r.status(), ErrorClass::kThrottled);
  EXPECT_EQ(r.status().error().http_status, 503);
  EXPECT_EQ(r.status().error().request_id, "CANNED123");
}

TEST_F(WireTest, ConnectionDropsMidBody) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nETag: \"abc\"\r\n\r\n";
  CannedServer server(ioc_, {head + std::string(1000, 'x')});
  auto r = Run(GetBody(ClientFor(server.port()), "object"));
  ExpectClass(r.status(), ErrorClass::kRetryable);
}

TEST_F(WireTest, StallBeforeResponseTimesOut) {
  CannedServer server(ioc_, {"", /*stall=*/true});
  auto start = std::chrono::steady_clock::now();
  auto r = Run(GetBody(ClientFor(server.port()), "object"));
  ExpectClass(r.status(), ErrorClass::kRetryable);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(20));
}

TEST_F(WireTest, StallMidBodyTimesOut) {
  std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nETag: \"abc\"\r\n\r\n";
  CannedServer server(ioc_, {head + std::string(500, 'x'), /*stall=*/true});
  auto r = Run(GetBody(ClientFor(server.port()), "object"));
  ExpectClass(r.status(), ErrorClass::kRetryable);
}

TEST_F(WireTest, ConnectionRefusedIsRetryable) {
  auto port = testing::PickFreePort();
  ASSERT_TRUE(port.ok());
  auto r = Run(List(ClientFor(*port)));
  ExpectClass(r.status(), ErrorClass::kRetryable);
}

TEST_F(WireTest, WrongSecretAgainstS3simIsAuth) {
  testing::TempDir dir("ferry-wire-s3sim");
  std::string port_file = dir.path() + "/port";
  testing::SpawnOptions so;
  so.argv = {FERRY_S3SIM_PATH, "--listen",     "127.0.0.1:0", "--port-file",
             port_file,        "--access-key", "wire-key",    "--secret-key",
             "right-secret",   "--bucket",     "wire"};
  auto proc = testing::Process::Spawn(std::move(so));
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  auto port = (*proc)->WaitForPortFile(port_file, seconds(30));
  ASSERT_TRUE(port.ok()) << port.status().ToString();

  auto good = Run(List(ClientFor(*port, "right-secret")));
  ASSERT_TRUE(good.ok()) << good.status().ToString();

  auto bad = Run(List(ClientFor(*port, "wrong-secret")));
  ExpectClass(bad.status(), ErrorClass::kAuth);
  EXPECT_EQ(bad.status().error().code, "SignatureDoesNotMatch");
  EXPECT_EQ(bad.status().ToString().find("wrong-secret"), std::string::npos)
      << "the secret leaked into the message";

  // Through the backend the class and code are the same, with context.
  storage::S3BackendOptions bo;
  bo.client.endpoint = http::Url::Parse("http://127.0.0.1:" + std::to_string(*port)).value();
  bo.client.bucket = "wire";
  bo.client.credentials = s3::StaticCredentials({"wire-key", "wrong-secret", ""});
  auto backend = storage::OpenS3Backend(ioc_.get_executor(), bo);
  ASSERT_TRUE(backend.ok()) << backend.status().ToString();
  auto head = Run((*backend)->Head("some/key", {}));
  ExpectClass(head.status(), ErrorClass::kAuth);
  EXPECT_EQ(head.status().error().key, "some/key");
}

}  // namespace
}  // namespace ferry
