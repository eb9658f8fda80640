#include "protocols/base/body.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gtest/gtest.h>

namespace ferry::io {
namespace {

template <typename T>
T RunTask(Task<T> task) {
  boost::asio::io_context io;
  auto fut = boost::asio::co_spawn(io, std::move(task), boost::asio::use_future);
  io.run();
  return fut.get();
}

TEST(BodyTest, MemorySourceReadsInChunksAndRewinds) {
  MemorySource src("hello world");
  EXPECT_EQ(src.size(), 11u);
  char buf[4];
  std::string got;
  for (;;) {
    auto n = RunTask(src.Read(std::span<char>(buf, sizeof buf)));
    ASSERT_TRUE(n.ok());
    if (*n == 0) break;
    got.append(buf, *n);
  }
  EXPECT_EQ(got, "hello world");
  ASSERT_TRUE(src.Rewind().ok());
  auto n = RunTask(src.Read(std::span<char>(buf, sizeof buf)));
  EXPECT_EQ(*n, 4u);
  EXPECT_EQ(*src.content_md5_base64(), "XrY7u+Ae7tCTyyK7j1rNww==");
}

TEST(BodyTest, StringSinkEnforcesLimit) {
  StringSink sink(5);
  EXPECT_TRUE(RunTask(sink.Write(std::span<const char>("abc", 3))).ok());
  Status s = RunTask(sink.Write(std::span<const char>("def", 3)));
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(sink.data(), "abc");
}

}  // namespace
}  // namespace ferry::io
