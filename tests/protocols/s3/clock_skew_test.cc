// ClockSkew: the per-endpoint clock offset the S3 client signs with.
#include "protocols/s3/clock_skew.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::seconds;
using Learned = ClockSkew::Learned;

TEST(ClockSkew, LearnsTheServersClockAndSignsWithIt) {
  ClockSkew skew("http://127.0.0.1:1");
  const auto now = ClockSkew::SystemClock::now();
  EXPECT_EQ(skew.offset(), milliseconds(0));
  EXPECT_EQ(skew.Learn(now + hours(2), now, milliseconds(0)), Learned::kChanged);
  EXPECT_EQ(skew.offset(), hours(2));
  const auto signing = skew.SigningTime();
  EXPECT_GE(signing, now + hours(2));
  EXPECT_LT(signing, now + hours(2) + seconds(60));
  // A request signed with the new offset and still refused: not the clock.
  EXPECT_EQ(skew.Learn(now + hours(2) + seconds(1), now, milliseconds(hours(2))),
            Learned::kUnchanged);
  // A late answer to a request signed before the change is worth resending.
  EXPECT_EQ(skew.Learn(now + hours(2), now, milliseconds(0)), Learned::kChanged);
  // The server's clock comes back.
  EXPECT_EQ(skew.Learn(now - seconds(1), now, milliseconds(hours(2))), Learned::kChanged);
  EXPECT_EQ(skew.offset(), milliseconds(-1000));
}

TEST(ClockSkew, OffsetsBeyondTheBoundAreNotFollowed) {
  ClockSkew skew("http://127.0.0.1:1");
  const auto now = ClockSkew::SystemClock::now();
  EXPECT_EQ(skew.Learn(now + hours(25), now, milliseconds(0)), Learned::kOutOfBounds);
  EXPECT_EQ(skew.Learn(now - hours(25), now, milliseconds(0)), Learned::kOutOfBounds);
  EXPECT_EQ(skew.offset(), milliseconds(0));
  EXPECT_EQ(skew.Learn(now - hours(23), now, milliseconds(0)), Learned::kChanged);
  EXPECT_EQ(skew.offset(), -hours(23));
}

TEST(ClockSkew, SharedPerEndpoint) {
  auto a = ClockSkewFor("http://clock-skew-test-a:9000");
  auto b = ClockSkewFor("http://clock-skew-test-a:9000");
  auto c = ClockSkewFor("http://clock-skew-test-c:9000");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
}

}  // namespace
}  // namespace ferry::s3
