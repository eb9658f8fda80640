#include "protocols/base/status.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

Result<int> Half(int v) {
  if (v % 2 != 0) return Status::Error(ErrorClass::kInvalidArgument, "odd");
  return v / 2;
}

Result<int> Quarter(int v) {
  FERRY_ASSIGN_OR_RETURN(int h, Half(v));
  return Half(h);
}

TEST(StatusTest, OkAndErrorCarryTheirFields) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "OK");
  ErrorInfo info;
  info.error_class = ErrorClass::kNotFound;
  info.http_status = 404;
  info.code = "NoSuchKey";
  info.message = "The specified key does not exist.";
  info.request_id = "req-1";
  Status s = Status(info).WithContext("http://h:1", "b", "k");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.Is(ErrorClass::kNotFound));
  EXPECT_EQ(s.ToString(),
            "not-found: NoSuchKey (HTTP 404): The specified key does not exist. "
            "[endpoint=http://h:1 bucket=b key=k request-id=req-1]");
  EXPECT_EQ(s.Annotate("head").error().message, "head: The specified key does not exist.");
}

TEST(ResultTest, PropagatesErrorsThroughMacros) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().error().message, "odd");
}

TEST(ResultTest, OkStatusIsNotAValue) {
  Result<int> r{Status::Ok()};
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kFatal));
}

}  // namespace
}  // namespace ferry
