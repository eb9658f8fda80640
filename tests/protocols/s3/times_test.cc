// ISO 8601 and HTTP-date parsing.
#include "protocols/s3/times.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

std::int64_t Millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

TEST(Iso8601, Forms) {
  EXPECT_EQ(Millis(*ParseIso8601("2009-10-12T17:50:30.000Z")), 1255369830000);
  EXPECT_EQ(Millis(*ParseIso8601("2009-10-12T17:50:30.5Z")), 1255369830500);
  EXPECT_EQ(Millis(*ParseIso8601("2009-10-12T17:50:30Z")), 1255369830000);
  EXPECT_EQ(Millis(*ParseIso8601("2009-10-12T19:50:30.000+02:00")), 1255369830000);
  EXPECT_EQ(FormatIso8601(*ParseIso8601("2024-02-29T23:59:59.999Z")), "2024-02-29T23:59:59.999Z");
  for (const char* bad : {"", "2009-10-12", "2009-10-12T17:50:30", "2009-13-12T17:50:30Z",
                          "2009-02-30T17:50:30Z", "2009-10-12T17:50:30.Z", "2009-10-12 17:50:30Z",
                          "2009-10-12T17:50:30Zjunk"}) {
    EXPECT_FALSE(ParseIso8601(bad).ok()) << bad;
  }
}

TEST(HttpDate, ThreeForms) {
  const std::int64_t want = 784111777000;  // Sun, 06 Nov 1994 08:49:37 GMT
  EXPECT_EQ(Millis(*ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT")), want);
  EXPECT_EQ(Millis(*ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT")), want);
  EXPECT_EQ(Millis(*ParseHttpDate("Sun Nov  6 08:49:37 1994")), want);
  EXPECT_EQ(FormatHttpDate(*ParseHttpDate("Wed, 21 Oct 2015 07:28:00 GMT")),
            "Wed, 21 Oct 2015 07:28:00 GMT");
  for (const char* bad : {"", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Foo 1994 08:49:37 GMT",
                          "Sun, 31 Feb 1994 08:49:37 GMT", "yesterday", "Sun Nov 6 08:49:37 1994"}) {
    EXPECT_FALSE(ParseHttpDate(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace ferry::s3
