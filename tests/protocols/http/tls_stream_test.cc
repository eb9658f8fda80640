// TlsStream with our own stream at both ends of a loopback connection:
// bodies of many records arrive intact in both directions, HTTP-like small
// exchanges interleave, the peer's close_notify reads as eof and a bare TCP
// close as stream_truncated, a refused certificate fails the handshake in
// the SSL category, and the client prefers AES-128-GCM. (Interop with
// OpenSSL through asio::ssl::stream is covered by TlsTest, whose server is
// Beast's; s3sim serves TLS with this stream to the client of TlsTest's
// kind in tests/reliability/tls_test.cc.)
#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include <openssl/x509_vfy.h>

#include "protocols/http/tls.h"
#include "protocols/http/tls_stream.h"
#include "tests/support/run.h"

namespace ferry::http::testing {
namespace {

namespace asio = boost::asio;
namespace fs = std::filesystem;
using asio::ip::tcp;
using boost::system::error_code;
constexpr auto kAwait = asio::as_tuple(asio::use_awaitable);
using ferry::testing::RunTask;

class TlsStreamTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/ferry-tls-stream-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    std::string cmd = "cd '" + dir_ +
                      "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
                      "-nodes -keyout key.pem -out cert.pem -days 2 -subj /CN=localhost "
                      "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    server_ctx_.use_certificate_chain_file(dir_ + "/cert.pem");
    server_ctx_.use_private_key_file(dir_ + "/key.pem", asio::ssl::context::pem);
    TlsOptions options;
    options.ca_file = dir_ + "/cert.pem";
    auto ctx = internal::MakeTlsContext(options);
    ASSERT_TRUE(ctx.ok()) << ctx.status().ToString();
    client_ctx_ = *ctx;
  }

  // A connected pair: server accepted, client connected (no handshake yet).
  void Connect() {
    tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket a(io_);
    tcp::socket b(io_);
    b.connect(acceptor.local_endpoint());
    acceptor.accept(a);
    server_.emplace(server_ctx_, std::move(a));
    client_.emplace(*client_ctx_, std::move(b));
    ASSERT_TRUE(internal::PrepareTlsConnection(client_->native_handle(), "127.0.0.1", true));
  }

  // Runs `server_side` and `client_side` at once on io_; returns when both
  // have finished.
  void RunBoth(const std::function<io::Task<void>()>& server_side,
               const std::function<io::Task<void>()>& client_side) {
    EXPECT_TRUE(RunTask(io_,
                        [&]() -> io::Task<Status> {
                          auto ex = co_await asio::this_coro::executor;
                          bool server_done = false;
                          asio::co_spawn(
                              ex,
                              [&]() -> io::Task<void> {
                                co_await server_side();
                                server_done = true;
                              },
                              asio::detached);
                          co_await client_side();
                          while (!server_done) co_await asio::post(ex, asio::use_awaitable);
                          co_return Status::Ok();
                        }())
                    .ok());
  }

  // Runs both handshakes; returns the client's and the server's error.
  std::pair<error_code, error_code> Handshake() {
    error_code cec, sec;
    RunBoth(
        [&]() -> io::Task<void> {
          auto [ec] = co_await server_->async_handshake(asio::ssl::stream_base::server, kAwait);
          sec = ec;
        },
        [&]() -> io::Task<void> {
          auto [ec] = co_await client_->async_handshake(asio::ssl::stream_base::client, kAwait);
          cec = ec;
          if (ec) client_->next_layer().close();  // lets a waiting server fail too
        });
    return {cec, sec};
  }

  static std::string Random(std::size_t n, unsigned seed) {
    std::mt19937_64 rng(seed);
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  }

  static inline std::string dir_;
  asio::io_context io_;
  asio::ssl::context server_ctx_{asio::ssl::context::tls_server};
  std::shared_ptr<asio::ssl::context> client_ctx_;
  std::optional<TlsStream> server_, client_;
};

TEST_F(TlsStreamTest, LargeBodiesCrossIntactBothWaysAndAes128IsPreferred) {
  Connect();
  auto [cec, sec] = Handshake();
  ASSERT_FALSE(cec) << cec.message();
  ASSERT_FALSE(sec) << sec.message();
  EXPECT_STREQ(SSL_get_cipher_name(client_->native_handle()), "TLS_AES_128_GCM_SHA256");

  // Many records, sizes that straddle the record size and the write batch.
  const std::string up = Random(20 * 1024 * 1024 + 12345, 1);
  const std::string down = Random(9 * 1024 * 1024 + 7, 2);
  std::string got_up(up.size(), '\0'), got_down(down.size(), '\0');
  RunBoth(
      [&]() -> io::Task<void> {
        auto [rec, rn] = co_await asio::async_read(*server_, asio::buffer(got_up), kAwait);
        EXPECT_FALSE(rec) << rec.message();
        EXPECT_EQ(rn, up.size());
        auto [wec, wn] = co_await asio::async_write(*server_, asio::buffer(down), kAwait);
        EXPECT_FALSE(wec) << wec.message();
      },
      [&]() -> io::Task<void> {
        auto [wec, wn] = co_await asio::async_write(*client_, asio::buffer(up), kAwait);
        EXPECT_FALSE(wec) << wec.message();
        EXPECT_EQ(wn, up.size());
        auto [rec, rn] = co_await asio::async_read(*client_, asio::buffer(got_down), kAwait);
        EXPECT_FALSE(rec) << rec.message();
      });
  EXPECT_TRUE(got_up == up);
  EXPECT_TRUE(got_down == down);
}

TEST_F(TlsStreamTest, SmallRequestsAndAnswersInterleave) {
  Connect();
  auto [cec, sec] = Handshake();
  ASSERT_FALSE(cec || sec);
  EXPECT_TRUE(
      RunTask(io_,
              [&]() -> io::Task<Status> {
                auto ex = co_await asio::this_coro::executor;
                asio::co_spawn(
                    ex,
                    [&]() -> io::Task<void> {
                      // Echo: read what is there (any amount), send it back.
                      char buf[4096];
                      for (;;) {
                        auto [ec, n] = co_await server_->async_read_some(asio::buffer(buf), kAwait);
                        if (ec) co_return;
                        auto [wec, wn] =
                            co_await asio::async_write(*server_, asio::buffer(buf, n), kAwait);
                        if (wec) co_return;
                      }
                    },
                    asio::detached);
                for (int i = 1; i <= 300; ++i) {
                  std::string msg = Random(static_cast<std::size_t>(i * 7 % 3000 + 1), i);
                  auto [wec, wn] = co_await asio::async_write(*client_, asio::buffer(msg), kAwait);
                  EXPECT_FALSE(wec);
                  std::string back(msg.size(), '\0');
                  auto [rec, rn] = co_await asio::async_read(*client_, asio::buffer(back), kAwait);
                  EXPECT_FALSE(rec);
                  EXPECT_TRUE(back == msg) << "exchange " << i;
                }
                co_return Status::Ok();
              }())
          .ok());
}

TEST_F(TlsStreamTest, CloseNotifyReadsAsEofAndABareCloseAsTruncation) {
  for (bool notify : {true, false}) {
    SCOPED_TRACE(notify ? "close_notify" : "bare close");
    Connect();
    auto [cec, sec] = Handshake();
    ASSERT_FALSE(cec || sec);
    error_code read_ec;
    std::string got;
    EXPECT_TRUE(
        RunTask(io_,
                [&]() -> io::Task<Status> {
                  const std::string tail = "tail";
                  auto [wec, wn] = co_await asio::async_write(*client_, asio::buffer(tail), kAwait);
                  EXPECT_FALSE(wec);
                  if (notify) {
                    auto [sec2] = co_await client_->async_shutdown(kAwait);
                    EXPECT_FALSE(sec2) << sec2.message();
                  }
                  // FIN, not close(): unread session tickets would turn a close into RST.
                  error_code ignored;
                  client_->next_layer().socket().shutdown(tcp::socket::shutdown_send, ignored);
                  char buf[64];
                  for (;;) {
                    auto [ec, n] = co_await server_->async_read_some(asio::buffer(buf), kAwait);
                    got.append(buf, n);
                    if (ec) {
                      read_ec = ec;
                      break;
                    }
                  }
                  co_return Status::Ok();
                }())
            .ok());
    EXPECT_EQ(got, "tail");  // data before the end is delivered first
    if (notify) {
      EXPECT_EQ(read_ec, asio::error::eof) << read_ec.message();
    } else {
      EXPECT_EQ(read_ec, asio::ssl::error::stream_truncated) << read_ec.message();
    }
  }
}

TEST_F(TlsStreamTest, UntrustedCertificateFailsTheHandshakeInTheSslCategory) {
  TlsOptions options;  // system CAs only: our self-signed certificate is unknown
  auto ctx = internal::MakeTlsContext(options);
  ASSERT_TRUE(ctx.ok());
  client_ctx_ = *ctx;
  Connect();
  auto [cec, sec] = Handshake();
  ASSERT_TRUE(cec);
  EXPECT_EQ(cec.category(), asio::error::get_ssl_category()) << cec.message();
  EXPECT_NE(SSL_get_verify_result(client_->native_handle()), X509_V_OK);
  EXPECT_TRUE(sec);  // the server sees the client give up
  Status s = internal::TlsHandshakeError(client_->native_handle(), cec, "https://127.0.0.1");
  EXPECT_TRUE(s.Is(ErrorClass::kFatal)) << s.ToString();
  EXPECT_NE(s.ToString().find("certificate verification failed"), std::string::npos)
      << s.ToString();
}

}  // namespace
}  // namespace ferry::http::testing
