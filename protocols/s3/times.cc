// ISO 8601 and HTTP-date parsing and formatting, without locale or TZ
// dependence (no strptime/mktime: both consult the process's locale and zone).
#include "protocols/s3/times.h"

#include <array>
#include <cstdio>
#include <ctime>

namespace ferry::s3 {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed",
                                                   "Thu", "Fri", "Sat"};

// Reads exactly `n` digits at `pos`, advancing it.
bool Digits(std::string_view s, std::size_t& pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  pos += n;
  return true;
}

bool Expect(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

bool Compose(int year, int month, int day, int hour, int minute, int second,
             Clock::time_point& out) {
  using namespace std::chrono;
  // system_clock counts nanoseconds in 64 bits (years ~1678-2262); outside
  // that the conversion below overflows. No S3 time is near either end.
  if (year < 1700 || year > 2200) return false;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return false;
  out = Clock::time_point(sys_days(ymd)) + hours(hour) + minutes(minute) + seconds(second);
  return true;
}

int MonthIndex(std::string_view m) {
  for (std::size_t i = 0; i < kMonths.size(); ++i) {
    if (kMonths[i] == m) return static_cast<int>(i) + 1;
  }
  return 0;
}

Status Bad(std::string_view what, std::string_view s) {
  return Status::Error(ErrorClass::kInvalidArgument,
                       "bad " + std::string(what) + ": '" + std::string(s.substr(0, 64)) + "'");
}

}  // namespace

Result<Clock::time_point> ParseIso8601(std::string_view s) {
  std::size_t p = 0;
  int y, mo, d, h, mi, se;
  if (!Digits(s, p, 4, y) || !Expect(s, p, '-') || !Digits(s, p, 2, mo) || !Expect(s, p, '-') ||
      !Digits(s, p, 2, d) || !Expect(s, p, 'T') || !Digits(s, p, 2, h) || !Expect(s, p, ':') ||
      !Digits(s, p, 2, mi) || !Expect(s, p, ':') || !Digits(s, p, 2, se)) {
    return Bad("ISO 8601 time", s);
  }
  std::chrono::nanoseconds frac{0};
  if (p < s.size() && s[p] == '.') {
    ++p;
    std::size_t start = p;
    std::int64_t scale = 100'000'000;
    while (p < s.size() && s[p] >= '0' && s[p] <= '9') {
      frac += std::chrono::nanoseconds((s[p] - '0') * scale);
      scale /= 10;
      ++p;
    }
    if (p == start) return Bad("ISO 8601 time", s);
  }
  std::chrono::minutes offset{0};
  if (p < s.size() && s[p] == 'Z') {
    ++p;
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int sign = s[p] == '+' ? 1 : -1;
    ++p;
    int oh, om;
    if (!Digits(s, p, 2, oh) || !Expect(s, p, ':') || !Digits(s, p, 2, om)) {
      return Bad("ISO 8601 time", s);
    }
    offset = std::chrono::minutes(sign * (oh * 60 + om));
  } else {
    return Bad("ISO 8601 time (no zone)", s);
  }
  Clock::time_point t;
  if (p != s.size() || !Compose(y, mo, d, h, mi, se, t)) return Bad("ISO 8601 time", s);
  return t + std::chrono::duration_cast<Clock::duration>(frac) - offset;
}

std::string FormatIso8601(Clock::time_point t) {
  auto secs = std::chrono::floor<std::chrono::seconds>(t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
  std::time_t tt = Clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms));
  return buf;
}

Result<Clock::time_point> ParseHttpDate(std::string_view s) {
  std::size_t p = 0;
  int d, y, h, mi, se, mo;
  Clock::time_point t;
  std::size_t comma = s.find(',');
  if (comma == 3) {
    // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
    p = 4;
    if (!Expect(s, p, ' ') || !Digits(s, p, 2, d) || !Expect(s, p, ' ') || p + 3 > s.size()) {
      return Bad("HTTP-date", s);
    }
    mo = MonthIndex(s.substr(p, 3));
    p += 3;
    if (!Expect(s, p, ' ') || !Digits(s, p, 4, y) || !Expect(s, p, ' ') ||
        !Digits(s, p, 2, h) || !Expect(s, p, ':') || !Digits(s, p, 2, mi) ||
        !Expect(s, p, ':') || !Digits(s, p, 2, se) || s.substr(p) != " GMT" || mo == 0 ||
        !Compose(y, mo, d, h, mi, se, t)) {
      return Bad("HTTP-date", s);
    }
    return t;
  }
  if (comma != std::string_view::npos) {
    // RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT"
    p = comma + 1;
    if (!Expect(s, p, ' ') || !Digits(s, p, 2, d) || !Expect(s, p, '-') || p + 3 > s.size()) {
      return Bad("HTTP-date", s);
    }
    mo = MonthIndex(s.substr(p, 3));
    p += 3;
    if (!Expect(s, p, '-') || !Digits(s, p, 2, y) || !Expect(s, p, ' ') ||
        !Digits(s, p, 2, h) || !Expect(s, p, ':') || !Digits(s, p, 2, mi) ||
        !Expect(s, p, ':') || !Digits(s, p, 2, se) || s.substr(p) != " GMT" || mo == 0) {
      return Bad("HTTP-date", s);
    }
    y += y < 70 ? 2000 : 1900;
    if (!Compose(y, mo, d, h, mi, se, t)) return Bad("HTTP-date", s);
    return t;
  }
  // asctime: "Sun Nov  6 08:49:37 1994"
  if (s.size() != 24 || s[3] != ' ' || s[7] != ' ') return Bad("HTTP-date", s);
  mo = MonthIndex(s.substr(4, 3));
  p = 8;
  if (s[p] == ' ') {
    ++p;
    if (!Digits(s, p, 1, d)) return Bad("HTTP-date", s);
  } else if (!Digits(s, p, 2, d)) {
    return Bad("HTTP-date", s);
  }
  if (!Expect(s, p, ' ') || !Digits(s, p, 2, h) || !Expect(s, p, ':') || !Digits(s, p, 2, mi) ||
      !Expect(s, p, ':') || !Digits(s, p, 2, se) || !Expect(s, p, ' ') || !Digits(s, p, 4, y) ||
      mo == 0 || !Compose(y, mo, d, h, mi, se, t)) {
    return Bad("HTTP-date", s);
  }
  return t;
}

std::string FormatHttpDate(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(std::chrono::floor<std::chrono::seconds>(t));
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                std::string(kDays[static_cast<std::size_t>(tm.tm_wday)]).c_str(), tm.tm_mday,
                std::string(kMonths[static_cast<std::size_t>(tm.tm_mon)]).c_str(),
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

}  // namespace ferry::s3
