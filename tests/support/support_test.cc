// Tests of the test helpers themselves: a broken helper would make every
// suite that uses it hang or pass for the wrong reason.
#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fstream>

#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

SpawnOptions Sh(std::string script, std::vector<std::pair<std::string, std::string>> env = {}) {
  SpawnOptions o;
  o.argv = {"/bin/sh", "-c", std::move(script)};
  o.env = std::move(env);
  return o;
}

TEST(ProcessTest, ReadsPortFromListeningLine) {
  auto p =
      Process::Spawn(Sh("echo starting; echo 'demo listening on 127.0.0.1:4321'; exec sleep 60"));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  auto port = (*p)->WaitForListeningLine("listening on", seconds(10));
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, 4321);
  EXPECT_TRUE((*p)->Running());
  (*p)->Stop(seconds(5));
  EXPECT_FALSE((*p)->Running());
  EXPECT_TRUE(WIFSIGNALED((*p)->wait_status()));
}

TEST(ProcessTest, ReadsPortFile) {
  TempDir dir;
  std::string file = dir.path() + "/port";
  auto p = Process::Spawn(Sh("echo 5555 > " + file + "; exec sleep 60"));
  ASSERT_TRUE(p.ok());
  auto port = (*p)->WaitForPortFile(file, seconds(10));
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, 5555);
}

TEST(ProcessTest, ChildExitingEarlyIsAnErrorNotAHang) {
  auto p = Process::Spawn(Sh("echo oops; exit 3"));
  ASSERT_TRUE(p.ok());
  auto port = (*p)->WaitForListeningLine("listening on", seconds(30));
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.status().ToString().find("status 3"), std::string::npos)
      << port.status().ToString();
  EXPECT_NE(port.status().ToString().find("oops"), std::string::npos);
}

TEST(ProcessTest, TimesOutWhenNothingArrives) {
  auto p = Process::Spawn(Sh("exec sleep 60"));
  ASSERT_TRUE(p.ok());
  auto port = (*p)->WaitForListeningLine("listening on", milliseconds(200));
  ASSERT_FALSE(port.ok());
  EXPECT_EQ(port.status().error_class(), ErrorClass::kRetryable);
}

TEST(ProcessTest, MissingProgramIsInvalidArgument) {
  SpawnOptions o;
  o.argv = {"/nonexistent/server"};
  auto p = Process::Spawn(o);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().error_class(), ErrorClass::kInvalidArgument);
}

TEST(ProcessTest, EnvironmentIsPassed) {
  auto p = Process::Spawn(
      Sh("echo \"port :$FERRY_TEST_PORT\"; exec sleep 60", {{"FERRY_TEST_PORT", "7777"}}));
  ASSERT_TRUE(p.ok());
  auto port = (*p)->WaitForListeningLine("port ", seconds(10));
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  EXPECT_EQ(*port, 7777);
}

TEST(ProcessTest, WaitForExitCollectsOutputAndStatus) {
  auto p = Process::Spawn(Sh("echo one; echo two; exit 4"));
  ASSERT_TRUE(p.ok());
  auto ws = (*p)->WaitForExit(seconds(10));
  ASSERT_TRUE(ws.ok()) << ws.status().ToString();
  EXPECT_TRUE(WIFEXITED(*ws));
  EXPECT_EQ(WEXITSTATUS(*ws), 4);
  EXPECT_EQ((*p)->output(), "one\ntwo\n");
  EXPECT_FALSE((*p)->Running());
}

TEST(ProcessTest, WaitForExitTimesOutAndLeavesTheChildToStop) {
  auto p = Process::Spawn(Sh("echo started; exec sleep 60"));
  ASSERT_TRUE(p.ok());
  auto ws = (*p)->WaitForExit(milliseconds(200));
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(ws.status().error_class(), ErrorClass::kRetryable);
  EXPECT_TRUE((*p)->Running());
  EXPECT_EQ((*p)->output(), "started\n");
}

TEST(ProcessTest, FindProgramSearchesPath) {
  EXPECT_EQ(FindProgram("sh").empty(), false);
  EXPECT_EQ(FindProgram("ferry-no-such-program-anywhere"), "");
  EXPECT_EQ(FindProgram("/bin/sh"), "/bin/sh");
  EXPECT_EQ(FindProgram("/nonexistent/sh"), "");
}

io::Task<int> Wait(milliseconds d, int value) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  co_await t.async_wait(boost::asio::use_awaitable);
  co_return value;
}

io::Task<Status> OkAfter(milliseconds d) {
  co_await Wait(d, 0);
  co_return Status::Ok();
}

TEST(RunTest, ReturnsTheValue) {
  boost::asio::io_context ioc;
  EXPECT_EQ(RunTask(ioc, Wait(milliseconds(1), 42)), 42);
  EXPECT_EQ(RunTask(ioc, Wait(milliseconds(1), 43)), 43);  // the context is reusable
}

TEST(RunTest, TimesOut) {
  boost::asio::io_context ioc;
  EXPECT_THROW(RunTask(ioc, Wait(seconds(60), 1), milliseconds(50)), TaskTimeout);
}

TEST(RunTest, ParallelRespectsWidthAndReportsFirstError) {
  boost::asio::io_context ioc;
  auto live = std::make_shared<int>(0);
  auto peak = std::make_shared<int>(0);
  auto make = [live, peak](std::size_t i) -> io::Task<Status> {
    return [](std::shared_ptr<int> live, std::shared_ptr<int> peak,
              std::size_t i) -> io::Task<Status> {
      *peak = std::max(*peak, ++*live);
      co_await Wait(milliseconds(1), 0);
      --*live;
      if (i == 37) co_return Status::Error(ErrorClass::kFatal, "boom");
      co_return Status::Ok();
    }(live, peak, i);
  };
  Status s = RunParallel(ioc, 100, 8, make);
  EXPECT_EQ(*peak, 8);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("task 37"), std::string::npos) << s.ToString();
  EXPECT_TRUE(RunParallel(ioc, 20, 4, [](std::size_t) { return OkAfter(milliseconds(1)); }).ok());
}

}  // namespace
}  // namespace ferry::testing
