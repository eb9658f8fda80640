// Number formatting and row lookup shared by the report's sections
// (report.cc, rgw_report.cc): "—" for what was not measured.
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

#include "bench/harness/bench.h"

namespace ferry::bench {

inline std::string Fmt(double v, int decimals = 1) {
  if (v < 0 || std::isnan(v)) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

inline std::string Ratio(double a, double b) {
  return a > 0 && b > 0 ? Fmt(a / b, 2) + "×" : "—";
}

inline std::string Verdict(bool measured, bool met) {
  return !measured ? "not measured" : met ? "met" : "**missed**";
}

// The successful row of `tool` in `scenario`, or nullptr.
inline const Row* Find(const BenchReport& r, const std::string& scenario,
                       const std::string& tool) {
  for (const Row& row : r.rows) {
    if (row.scenario == scenario && row.tool == tool && row.ok()) return &row;
  }
  return nullptr;
}

}  // namespace ferry::bench
