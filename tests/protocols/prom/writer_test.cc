// Prometheus text exposition: escaping, number formatting, misuse handling,
// and a realistic exposition checked by promtool (Debian package prometheus).
#include "protocols/prom/writer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

namespace ferry::prom {
namespace {

using ::testing::HasSubstr;

TEST(PromNames, MetricAndLabelNames) {
  EXPECT_TRUE(ValidMetricName("ferry_objects_total"));
  EXPECT_TRUE(ValidMetricName(":recording:rule"));
  EXPECT_TRUE(ValidMetricName("_x9"));
  EXPECT_FALSE(ValidMetricName(""));
  EXPECT_FALSE(ValidMetricName("9lives"));
  EXPECT_FALSE(ValidMetricName("has-dash"));
  EXPECT_FALSE(ValidMetricName("sp ace"));
  EXPECT_FALSE(ValidMetricName("ümlaut"));
  EXPECT_TRUE(ValidLabelName("route"));
  EXPECT_TRUE(ValidLabelName("_private"));
  EXPECT_FALSE(ValidLabelName("__name__"));
  EXPECT_FALSE(ValidLabelName("a:b"));
  EXPECT_FALSE(ValidLabelName("1a"));
  EXPECT_FALSE(ValidLabelName(""));
}

TEST(PromFormat, Values) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(-7), "-7");
  EXPECT_EQ(FormatValue(1e15), "1000000000000000");
  EXPECT_EQ(FormatValue(9007199254740993.0), "9007199254740992");  // nearest double, exact
  EXPECT_EQ(FormatValue(0.25), "0.25");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e-9), "1e-09");
  EXPECT_EQ(FormatValue(1e300), "1e+300");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::quiet_NaN()), "NaN");
  EXPECT_EQ(FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  // Shortest round trip.
  double third = 1.0 / 3.0;
  EXPECT_EQ(std::stod(FormatValue(third)), third);
}

TEST(PromFormat, Escaping) {
  EXPECT_EQ(EscapeLabelValue(R"(a"b\c)"), R"(a\"b\\c)");
  EXPECT_EQ(EscapeLabelValue("line1\nline2"), "line1\\nline2");
  EXPECT_EQ(EscapeLabelValue("caf\xC3\xA9 \xF0\x9F\x9A\xA2"), "caf\xC3\xA9 \xF0\x9F\x9A\xA2");
  EXPECT_EQ(EscapeLabelValue("bad\xFFutf8\xC3"), "bad\xEF\xBF\xBDutf8\xEF\xBF\xBD");
  EXPECT_EQ(EscapeHelp("says \"hi\"\\\n"), "says \"hi\"\\\\\\n");
}

TEST(PromWriter, CounterGaugeText) {
  Writer w;
  w.Family("ferry_objects_replicated_total", "Objects replicated.\nSecond line \\ here.",
           Type::kCounter);
  w.Sample({{"route", "velero"}, {"dest", "dr"}}, 12);
  w.Sample({}, 3);
  w.Family("ferry_pending_bytes", "Bytes waiting.", Type::kGauge);
  w.Sample({{"route", "a\"b"}}, 0.5);
  EXPECT_TRUE(w.errors().empty());
  EXPECT_EQ(w.text(),
            "# HELP ferry_objects_replicated_total Objects replicated.\\nSecond line \\\\ here.\n"
            "# TYPE ferry_objects_replicated_total counter\n"
            "ferry_objects_replicated_total{route=\"velero\",dest=\"dr\"} 12\n"
            "ferry_objects_replicated_total 3\n"
            "# HELP ferry_pending_bytes Bytes waiting.\n"
            "# TYPE ferry_pending_bytes gauge\n"
            "ferry_pending_bytes{route=\"a\\\"b\"} 0.5\n");
  std::string taken = w.Take();
  EXPECT_THAT(taken, HasSubstr("ferry_pending_bytes"));
}

TEST(PromWriter, HistogramText) {
  Writer w;
  w.Family("ferry_lag_seconds", "Lag.", Type::kHistogram);
  std::array<double, 3> bounds{0.5, 60, 900};
  std::array<std::uint64_t, 3> counts{1, 4, 4};
  w.Histogram({{"route", "r"}}, bounds, counts, 123.25, 6);
  w.Histogram({}, bounds, counts, 1, 4);
  EXPECT_TRUE(w.errors().empty()) << w.errors().front();
  EXPECT_EQ(w.text(),
            "# HELP ferry_lag_seconds Lag.\n"
            "# TYPE ferry_lag_seconds histogram\n"
            "ferry_lag_seconds_bucket{route=\"r\",le=\"0.5\"} 1\n"
            "ferry_lag_seconds_bucket{route=\"r\",le=\"60\"} 4\n"
            "ferry_lag_seconds_bucket{route=\"r\",le=\"900\"} 4\n"
            "ferry_lag_seconds_bucket{route=\"r\",le=\"+Inf\"} 6\n"
            "ferry_lag_seconds_sum{route=\"r\"} 123.25\n"
            "ferry_lag_seconds_count{route=\"r\"} 6\n"
            "ferry_lag_seconds_bucket{le=\"0.5\"} 1\n"
            "ferry_lag_seconds_bucket{le=\"60\"} 4\n"
            "ferry_lag_seconds_bucket{le=\"900\"} 4\n"
            "ferry_lag_seconds_bucket{le=\"+Inf\"} 4\n"
            "ferry_lag_seconds_sum 1\n"
            "ferry_lag_seconds_count 4\n");
}

TEST(PromWriter, MisuseIsSkippedAndReported) {
  Writer w;
  w.Sample({}, 1);  // before any family
  ASSERT_EQ(w.errors().size(), 1u);
  EXPECT_THAT(w.errors()[0], HasSubstr("without a valid family"));
  EXPECT_EQ(w.text(), "");

  w.Family("bad-name", "x", Type::kGauge);
  EXPECT_THAT(w.errors().back(), HasSubstr("invalid metric name"));
  w.Sample({}, 1);  // still no valid family
  EXPECT_THAT(w.errors().back(), HasSubstr("without a valid family"));
  EXPECT_EQ(w.text(), "");

  w.Family("good", "x", Type::kGauge);
  w.Sample({{"__reserved", "v"}}, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("invalid label name"));
  w.Sample({{"bad label", "v"}}, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("invalid label name"));
  w.Sample({{"a", "1"}, {"a", "2"}}, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("duplicate label name a"));
  w.Sample({{"a", "1"}}, 1);
  w.Sample({{"a", "1"}}, 2);
  EXPECT_THAT(w.errors().back(), HasSubstr("duplicate label set in good"));
  std::array<double, 1> b{1};
  std::array<std::uint64_t, 1> c{1};
  w.Histogram({}, b, c, 1, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("histogram in gauge family good"));

  w.Family("good", "again", Type::kCounter);
  EXPECT_THAT(w.errors().back(), HasSubstr("family good started twice"));
  w.Sample({}, 5);  // belongs to the rejected duplicate: skipped
  EXPECT_THAT(w.errors().back(), HasSubstr("without a valid family"));

  w.Family("h", "x", Type::kHistogram);
  w.Sample({}, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("sample in histogram family h"));
  std::array<double, 2> unsorted{2, 1};
  std::array<std::uint64_t, 2> two{1, 2};
  w.Histogram({}, unsorted, two, 1, 2);
  EXPECT_THAT(w.errors().back(), HasSubstr("not strictly ascending"));
  std::array<double, 2> sorted{1, 2};
  std::array<std::uint64_t, 2> decreasing{2, 1};
  w.Histogram({}, sorted, decreasing, 1, 2);
  EXPECT_THAT(w.errors().back(), HasSubstr("not cumulative"));
  w.Histogram({}, sorted, c, 1, 2);
  EXPECT_THAT(w.errors().back(), HasSubstr("differ in length"));
  w.Histogram({}, sorted, two, 1, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("above total count"));
  std::array<double, 1> inf{std::numeric_limits<double>::infinity()};
  w.Histogram({}, inf, c, 1, 1);
  EXPECT_THAT(w.errors().back(), HasSubstr("non-finite"));
  w.Histogram({{"le", "x"}}, sorted, two, 1, 2);
  EXPECT_THAT(w.errors().back(), HasSubstr("\"le\" is reserved"));

  // Only the valid parts were written.
  EXPECT_EQ(w.text(),
            "# HELP good x\n# TYPE good gauge\ngood{a=\"1\"} 1\n"
            "# HELP h x\n# TYPE h histogram\n");
}

// Runs `command` through the shell; returns exit status and combined output.
std::pair<int, std::string> RunShell(const std::string& command) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(PromWriter, RealisticExpositionPassesPromtool) {
  auto [which_rc, promtool] = RunShell("command -v promtool");
  ASSERT_EQ(which_rc, 0) << "promtool not found (Debian package prometheus; scripts/bootstrap)";
  while (!promtool.empty() && promtool.back() == '\n') promtool.pop_back();

  Writer w;
  w.Family("ferry_objects_replicated_total", "Objects replicated and verified.", Type::kCounter);
  w.Sample({{"route", "velero"}, {"destination", "dr"}}, 1234);
  w.Sample({{"route", "kopia"}, {"destination", "dr"}}, 0);
  w.Family("ferry_bytes_replicated_total", "Bytes replicated.", Type::kCounter);
  w.Sample({{"route", "velero"}}, 5.5e12);
  w.Family("ferry_failures_total", "Failed operations by reason.", Type::kCounter);
  // Hostile label values: quotes, backslashes, newlines, UTF-8, invalid UTF-8.
  w.Sample({{"reason", "say \"no\""}}, 1);
  w.Sample({{"reason", "C:\\path\\to"}}, 2);
  w.Sample({{"reason", "two\nlines"}}, 3);
  w.Sample({{"reason", "caf\xC3\xA9 \xE2\x9B\xB4 \xF0\x9F\x9A\xA2"}}, 4);
  w.Sample({{"reason", "broken \xFF\xFE bytes"}}, 5);
  w.Sample({{"reason", ""}}, 6);
  w.Family("ferry_pending_objects", "Objects waiting to be replicated.\nPer route.", Type::kGauge);
  w.Sample({{"route", "velero"}}, 17);
  w.Family("ferry_oldest_pending_age_seconds", "Age of the oldest pending item.", Type::kGauge);
  w.Sample({{"route", "velero"}}, 0.125);
  w.Sample({{"route", "kopia"}}, std::numeric_limits<double>::quiet_NaN());
  w.Family("ferry_last_reconcile_timestamp_seconds", "Unix time of the last reconciliation.",
           Type::kGauge);
  w.Sample({}, 1.7e9);
  w.Family("ferry_replication_latency_seconds", "Source-to-verified latency.", Type::kHistogram);
  std::array<double, 6> bounds{1, 10, 60, 300, 900, 3600};
  std::array<std::uint64_t, 6> counts{3, 10, 40, 41, 41, 42};
  w.Histogram({{"route", "velero"}}, bounds, counts, 2345.5, 43);
  std::array<std::uint64_t, 6> zero{0, 0, 0, 0, 0, 0};
  w.Histogram({{"route", "kopia \"quoted\""}}, bounds, zero, 0, 0);
  ASSERT_TRUE(w.errors().empty()) << w.errors().front();

  auto dir =
      std::filesystem::temp_directory_path() / ("ferry-prom-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto file = dir / "metrics.txt";
  {
    std::ofstream f(file, std::ios::binary);
    f << w.text();
  }
  auto [rc, output] = RunShell(promtool + " check metrics < '" + file.string() + "'");
  std::filesystem::remove_all(dir);
  EXPECT_EQ(rc, 0) << output << "\n--- exposition ---\n" << w.text();
  EXPECT_EQ(output, "") << "promtool reported problems";
}

TEST(PromWriter, PromtoolCatchesWhatWeWouldGetWrong) {
  // The promtool check above can fail: a counter without _total is a lint
  // problem (exit 3), which proves the harness sees promtool's verdict.
  auto [which_rc, promtool] = RunShell("command -v promtool");
  ASSERT_EQ(which_rc, 0);
  while (!promtool.empty() && promtool.back() == '\n') promtool.pop_back();
  Writer w;
  w.Family("ferry_objects", "No suffix.", Type::kCounter);
  w.Sample({}, 1);
  auto [rc, output] = RunShell("printf '%s' '" + w.text() + "' | " + promtool + " check metrics");
  EXPECT_NE(rc, 0);
  EXPECT_THAT(output, HasSubstr("_total"));
}

}  // namespace
}  // namespace ferry::prom
