// The control-socket server and client through real Unix sockets in a
// temporary directory.
#include "protocols/control/server.h"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

namespace ferry::control {
namespace {

namespace asio = boost::asio;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// A blocking client socket with a receive timeout, so no test can hang.
class RawClient {
 public:
  explicit RawClient(const std::string& path) {
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    timeval tv{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }
  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  // The next line without '\n'; "<eof>" on orderly close, "<error>" otherwise.
  std::string ReadLine() {
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n == 0) return "<eof>";
      if (n < 0) return "<error>";
      buf_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
  std::string buf_;
};

class ControlServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-ctl-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/ferry.sock";
    thread_ = std::thread([this] { ioc_.run(); });
  }
  void TearDown() override {
    servers_.clear();
    work_.reset();
    ioc_.stop();
    thread_.join();
    std::filesystem::remove_all(dir_);
  }

  // A handler: "echo" answers its args, "fail" answers an error, "slow" waits
  // until release_slow() (or 30 s), "throw" throws.
  Handler MakeHandler() {
    return [this](Request r) -> io::Task<std::string> {
      ++handled_;
      if (r.command == "slow") {
        asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::seconds(30));
        slow_timer_.store(&t);
        slow_started_.set_value();
        boost::system::error_code ec;
        co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        slow_timer_.store(nullptr);
        co_return OkResponse(r.id, {{"slow", true}});
      }
      if (r.command == "fail") co_return ErrorResponse(r.id, "paused", "replication is paused");
      if (r.command == "throw") throw std::runtime_error("boom");
      co_return OkResponse(r.id, {{"cmd", r.command}, {"args", r.args}});
    };
  }

  Server* StartServer(ServerOptions o) {
    auto s = Server::Start(ioc_.get_executor(), std::move(o), MakeHandler());
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (!s.ok()) return nullptr;
    servers_.push_back(std::move(s).value());
    return servers_.back().get();
  }
  Server* StartServer() {
    ServerOptions o;
    o.path = path_;
    return StartServer(o);
  }

  void ReleaseSlow() {
    asio::post(ioc_, [this] {
      if (auto* t = slow_timer_.load()) t->cancel();
    });
  }

  asio::io_context ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::thread thread_;
  std::string dir_, path_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::atomic<int> handled_{0};
  std::atomic<asio::steady_timer*> slow_timer_{nullptr};
  std::promise<void> slow_started_;
};

Request Req(std::string cmd, nlohmann::json args = nlohmann::json::object()) {
  Request r;
  r.id = "t1";
  r.command = std::move(cmd);
  r.args = std::move(args);
  return r;
}

TEST_F(ControlServerTest, OkRoundTripAndErrors) {
  ASSERT_NE(StartServer(), nullptr);
  auto r = Call(path_, Req("status", {{"route", "velero"}}), 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok);
  EXPECT_EQ(r->result["cmd"], "status");
  EXPECT_EQ(r->result["args"]["route"], "velero");

  auto f = Call(path_, Req("fail"), 5s);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->ok);
  EXPECT_EQ(f->error_code, "paused");
  EXPECT_EQ(f->error_message, "replication is paused");

  auto t = Call(path_, Req("throw"), 5s);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->ok);
  EXPECT_EQ(t->error_code, "internal");
}

TEST_F(ControlServerTest, GarbageLineGetsBadRequestAndConnectionStaysOpen) {
  ASSERT_NE(StartServer(), nullptr);
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.Send("this is not json\n{\"v\":7,\"cmd\":\"status\"}\n"));
  auto bad = ParseResponse(c.ReadLine());
  ASSERT_TRUE(bad.ok());
  EXPECT_FALSE(bad->ok);
  EXPECT_EQ(bad->error_code, "bad_request");
  auto version = ParseResponse(c.ReadLine());
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(version->error_code, "bad_request");
  EXPECT_THAT(version->error_message, HasSubstr("unsupported protocol version 7"));
  EXPECT_EQ(handled_.load(), 0);  // bad lines never reach the handler
  ASSERT_TRUE(c.Send(RenderRequest(Req("status")) + "\n"));
  auto good = ParseResponse(c.ReadLine());
  ASSERT_TRUE(good.ok());
  EXPECT_TRUE(good->ok);
  EXPECT_EQ(handled_.load(), 1);
}

TEST_F(ControlServerTest, OversizedLineDropsClient) {
  ASSERT_NE(StartServer(), nullptr);
  RawClient c(path_);
  ASSERT_TRUE(c.connected());
  // More than kMaxLine bytes without a newline: answered and dropped before
  // the newline ever comes.
  c.Send(std::string(kMaxLine + 100, 'x'));
  auto r = ParseResponse(c.ReadLine());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->error_code, "line_too_long");
  EXPECT_EQ(c.ReadLine(), "<eof>");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ControlServerTest, LineOfExactlyMaxLengthIsAccepted) {
  ASSERT_NE(StartServer(), nullptr);
  std::string line = RenderRequest(Req("status", {{"pad", ""}}));
  line.insert(line.find("\"pad\":\"") + 7, std::string(kMaxLine - line.size(), 'p'));
  ASSERT_EQ(line.size(), kMaxLine);
  RawClient c(path_);
  ASSERT_TRUE(c.Send(line + "\n"));
  auto r = ParseResponse(c.ReadLine());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->error_message;
}

TEST_F(ControlServerTest, SlowClientIsDropped) {
  ServerOptions o;
  o.path = path_;
  o.idle_timeout = 200ms;
  ASSERT_NE(StartServer(o), nullptr);
  RawClient idle(path_);
  RawClient partial(path_);
  ASSERT_TRUE(partial.Send("{\"v\":1,\"cmd\":"));  // never finishes the line
  // Both are closed by the server (the client's own timeout is 10 s).
  EXPECT_EQ(idle.ReadLine(), "<eof>");
  EXPECT_EQ(partial.ReadLine(), "<eof>");
  EXPECT_EQ(handled_.load(), 0);
}

TEST_F(ControlServerTest, TooManyClients) {
  ServerOptions o;
  o.path = path_;
  o.max_clients = 2;
  ASSERT_NE(StartServer(o), nullptr);
  RawClient a(path_), b(path_);
  // A round trip on each proves both are registered.
  for (RawClient* c : {&a, &b}) {
    ASSERT_TRUE(c->Send(RenderRequest(Req("status")) + "\n"));
    auto r = ParseResponse(c->ReadLine());
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->ok);
  }
  RawClient extra(path_);
  auto busy = ParseResponse(extra.ReadLine());
  ASSERT_TRUE(busy.ok());
  EXPECT_EQ(busy->error_code, "busy");
  EXPECT_THAT(busy->error_message, HasSubstr("limit 2"));
  EXPECT_EQ(extra.ReadLine(), "<eof>");
  // The admitted clients still work.
  ASSERT_TRUE(a.Send(RenderRequest(Req("status")) + "\n"));
  EXPECT_TRUE(ParseResponse(a.ReadLine())->ok);
}

TEST_F(ControlServerTest, ClientSlotFreedAfterDisconnect) {
  ServerOptions o;
  o.path = path_;
  o.max_clients = 1;
  ASSERT_NE(StartServer(o), nullptr);
  for (int i = 0; i < 5; ++i) {
    // Each Call disconnects when done; the next must get the slot. The
    // server notices the close asynchronously, so retry "busy" briefly.
    Result<Response> r;
    for (int attempt = 0; attempt < 100; ++attempt) {
      r = Call(path_, Req("status"), 5s);
      if (!r.ok() || r->ok) break;
      ASSERT_EQ(r->error_code, "busy");
      std::this_thread::sleep_for(20ms);
    }
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->ok) << r->error_code;
  }
}

TEST_F(ControlServerTest, ModeBits) {
  ServerOptions o;
  o.path = path_;
  o.mode = 0600;
  ASSERT_NE(StartServer(o), nullptr);
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  ServerOptions d;
  d.path = dir_ + "/default.sock";
  ASSERT_NE(StartServer(d), nullptr);
  ASSERT_EQ(::stat(d.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0660u);
}

TEST_F(ControlServerTest, StaleSocketFileIsReplaced) {
  {
    // A socket file nobody listens on any more (a crashed ferryd).
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ::close(fd);
  }
  ASSERT_TRUE(std::filesystem::exists(path_));
  EXPECT_FALSE(Call(path_, Req("status"), 2s).ok());
  ASSERT_NE(StartServer(), nullptr);
  auto r = Call(path_, Req("status"), 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlServerTest, SecondServerOnSamePathRefused) {
  ASSERT_NE(StartServer(), nullptr);
  ServerOptions o;
  o.path = path_;
  auto second = Server::Start(ioc_.get_executor(), o, MakeHandler());
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().error().message, HasSubstr("another process is listening"));
  // The first is untouched.
  auto r = Call(path_, Req("status"), 5s);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok);
}

TEST_F(ControlServerTest, RegularFileAtPathIsNotRemoved) {
  { std::ofstream(path_) << "precious"; }
  ServerOptions o;
  o.path = path_;
  auto s = Server::Start(ioc_.get_executor(), o, MakeHandler());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().error().message, HasSubstr("not a socket"));
  std::ifstream in(path_);
  std::string content;
  in >> content;
  EXPECT_EQ(content, "precious");
}

TEST_F(ControlServerTest, SlowHandlerDoesNotBlockOtherClients) {
  ASSERT_NE(StartServer(), nullptr);
  auto slow = std::async(std::launch::async, [this] { return Call(path_, Req("slow"), 20s); });
  slow_started_.get_future().wait();
  // While "slow" is parked in its handler, other clients get answers.
  for (int i = 0; i < 3; ++i) {
    auto r = Call(path_, Req("status"), 5s);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_TRUE(r->ok);
  }
  EXPECT_EQ(slow.wait_for(0s), std::future_status::timeout);
  ReleaseSlow();
  auto s = slow.get();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->result["slow"], true);
}

TEST_F(ControlServerTest, HandlerTimeIsNotIdleTime) {
  ServerOptions o;
  o.path = path_;
  o.idle_timeout = 300ms;  // generous: the client sends right after connecting
  ASSERT_NE(StartServer(o), nullptr);
  auto slow = std::async(std::launch::async, [this] { return Call(path_, Req("slow"), 20s); });
  slow_started_.get_future().wait();
  std::this_thread::sleep_for(1000ms);  // well past idle_timeout while the handler runs
  ReleaseSlow();
  auto s = slow.get();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_TRUE(s->ok);
}

TEST_F(ControlServerTest, StopClosesClientsAndRemovesSocket) {
  Server* s = StartServer();
  ASSERT_NE(s, nullptr);
  RawClient c(path_);
  ASSERT_TRUE(c.Send(RenderRequest(Req("status")) + "\n"));
  ASSERT_TRUE(ParseResponse(c.ReadLine())->ok);
  s->Stop();
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(c.ReadLine(), "<eof>");
  auto r = Call(path_, Req("status"), 2s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kNotFound)) << r.status().ToString();
  s->Stop();  // idempotent
}

TEST_F(ControlServerTest, CallErrors) {
  auto missing = Call(dir_ + "/nothing.sock", Req("status"), 2s);
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(missing.status().Is(ErrorClass::kNotFound));
  EXPECT_THAT(missing.status().error().message, HasSubstr("is ferryd running"));

  ASSERT_NE(StartServer(), nullptr);
  auto timed_out = Call(path_, Req("slow"), 300ms);
  ASSERT_FALSE(timed_out.ok());
  EXPECT_TRUE(timed_out.status().Is(ErrorClass::kRetryable));
  EXPECT_THAT(timed_out.status().error().message, HasSubstr("no response within 300 ms"));
  ReleaseSlow();
}

TEST_F(ControlServerTest, RejectsBadOptions) {
  ServerOptions o;
  o.path = dir_ + "/" + std::string(200, 'p');
  EXPECT_FALSE(Server::Start(ioc_.get_executor(), o, MakeHandler()).ok());
  o.path = path_;
  o.max_clients = 0;
  EXPECT_FALSE(Server::Start(ioc_.get_executor(), o, MakeHandler()).ok());
  o.max_clients = 1;
  o.path = dir_ + "/no/such/dir/x.sock";
  auto s = Server::Start(ioc_.get_executor(), o, MakeHandler());
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.status().error().message, HasSubstr("cannot bind"));
}

}  // namespace
}  // namespace ferry::control
