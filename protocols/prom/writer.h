// Prometheus text exposition format 0.0.4 (what /metrics serves).
//
// A Writer renders families of samples into one string:
//
//   prom::Writer w;
//   w.Family("ferry_objects_replicated_total", "Objects replicated.", prom::Type::kCounter);
//   w.Sample({{"route", "velero"}}, 1234);
//   w.Family("ferry_replication_latency_seconds", "...", prom::Type::kHistogram);
//   w.Histogram({{"route", "velero"}}, bounds, cumulative, sum, count);
//   response.body = w.Take();
//
// Misuse never crashes and never produces an exposition Prometheus would
// reject: an invalid metric or label name, a sample before any Family, a
// family started twice, a sample of the wrong kind for its family, a
// duplicate label set or a malformed histogram is skipped, and a line
// describing it is added to errors() (callers log them; tests assert on them).
// Label values are escaped; invalid UTF-8 in them is replaced by U+FFFD.
//
// Thread-safety: none; one Writer per scrape.
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ferry::prom {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { kCounter, kGauge, kHistogram };

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool ValidMetricName(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved by Prometheus).
bool ValidLabelName(std::string_view name);

// A sample value as the format spells it: "NaN", "+Inf", "-Inf", integers
// exactly ("42", "-7"), other doubles in the shortest form that reads back
// to the same value ("0.25", "1e-09").
std::string FormatValue(double value);
// Text for a label value between double quotes: \ " and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// Text for a HELP line: \ and newline escaped.
std::string EscapeHelp(std::string_view help);

class Writer {
 public:
  // Starts a family: "# HELP name help" and "# TYPE name type".
  // Each family name may be started once per Writer.
  void Family(std::string_view name, std::string_view help, Type type);
  // A counter/gauge sample of the current family: name{labels} value.
  void Sample(const Labels& labels, double value);
  // A histogram of the current family: name_bucket{labels...,le="x"} for each
  // bound and le="+Inf" (== count), then name_sum and name_count.
  // REQUIRES (else skipped with an error): upper_bounds finite and strictly
  // ascending; cumulative_counts the same length, non-decreasing and <= count;
  // no label named "le".
  void Histogram(const Labels& labels, std::span<const double> upper_bounds,
                 std::span<const std::uint64_t> cumulative_counts, double sum, std::uint64_t count);

  const std::string& text() const { return text_; }
  std::string Take() { return std::move(text_); }
  // One line per skipped family or sample, in order.
  const std::vector<std::string>& errors() const { return errors_; }

 private:
  // Renders `{a="x",b="y"` (no closing brace) or "" for no labels; false on an
  // invalid or duplicate label name (error recorded).
  bool RenderLabels(const Labels& labels, std::string* out);
  bool CheckFamily(Type want, std::string_view what);
  void Error(std::string message);

  std::string text_;
  std::vector<std::string> errors_;
  std::set<std::string, std::less<>> families_;  // names started so far
  std::set<std::string> label_sets_;             // of the current family
  std::string current_;                          // "" when no valid family is open
  Type current_type_ = Type::kGauge;
};

}  // namespace ferry::prom
