// Durations and sizes as written in the config file and on command lines.
// Strict on purpose: "15" (no unit) or "1.5h" is rejected rather than guessed.
#include <charconv>
#include <cstdint>
#include <limits>

#include "engine/config/config.h"

namespace ferry::config {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads a run of decimal digits at `*pos`; false on none or overflow.
bool ReadNumber(std::string_view text, size_t* pos, std::uint64_t* out) {
  size_t start = *pos;
  while (*pos < text.size() && IsDigit(text[*pos])) ++*pos;
  if (*pos == start) return false;
  auto [ptr, ec] = std::from_chars(text.data() + start, text.data() + *pos, *out);
  return ec == std::errc() && ptr == text.data() + *pos;
}

bool MulAdd(std::uint64_t a, std::uint64_t b, std::uint64_t* acc) {
  constexpr auto kMax = std::numeric_limits<std::uint64_t>::max();
  if (b != 0 && a > kMax / b) return false;
  if (*acc > kMax - a * b) return false;
  *acc += a * b;
  return true;
}

}  // namespace

std::optional<Duration> ParseDuration(std::string_view text) {
  if (text == "0") return Duration(0);
  if (text.empty()) return std::nullopt;
  // Bound the total so that conversions elsewhere (to ns, to clocks) cannot
  // overflow: 100 years is more than any sane setting.
  constexpr std::uint64_t kMaxMs = 100ull * 365 * 24 * 3600 * 1000;
  std::uint64_t total_ms = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    std::uint64_t n = 0;
    if (!ReadNumber(text, &pos, &n)) return std::nullopt;
    std::string_view rest = text.substr(pos);
    std::uint64_t unit_ms = 0;
    if (rest.starts_with("ms")) {
      unit_ms = 1;
      pos += 2;
    } else if (rest.starts_with("s")) {
      unit_ms = 1000;
      pos += 1;
    } else if (rest.starts_with("m")) {
      unit_ms = 60 * 1000;
      pos += 1;
    } else if (rest.starts_with("h")) {
      unit_ms = 3600 * 1000;
      pos += 1;
    } else {
      return std::nullopt;  // missing or unknown unit
    }
    if (!MulAdd(n, unit_ms, &total_ms) || total_ms > kMaxMs) return std::nullopt;
  }
  return Duration(static_cast<Duration::rep>(total_ms));
}

std::string FormatDuration(Duration d) {
  std::int64_t ms = d.count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  const std::int64_t h = ms / 3'600'000;
  const std::int64_t m = ms / 60'000 % 60;
  const std::int64_t s = ms / 1000 % 60;
  const std::int64_t rest_ms = ms % 1000;
  if (h) out += std::to_string(h) + "h";
  if (m) out += std::to_string(m) + "m";
  if (s) out += std::to_string(s) + "s";
  if (rest_ms) out += std::to_string(rest_ms) + "ms";
  return out;
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  size_t pos = 0;
  std::uint64_t n = 0;
  if (!ReadNumber(text, &pos, &n)) return std::nullopt;
  std::string_view unit = text.substr(pos);
  struct Unit {
    std::string_view name;
    std::uint64_t factor;
  };
  static constexpr Unit kUnits[] = {
      {"", 1},
      {"B", 1},
      {"KiB", 1ull << 10},
      {"MiB", 1ull << 20},
      {"GiB", 1ull << 30},
      {"TiB", 1ull << 40},
      {"KB", 1000ull},
      {"kB", 1000ull},
      {"MB", 1000ull * 1000},
      {"GB", 1000ull * 1000 * 1000},
      {"TB", 1000ull * 1000 * 1000 * 1000},
  };
  for (const Unit& u : kUnits) {
    if (unit == u.name) {
      std::uint64_t total = 0;
      if (!MulAdd(n, u.factor, &total)) return std::nullopt;
      return total;
    }
  }
  return std::nullopt;
}

std::string FormatSize(std::uint64_t bytes) {
  static constexpr std::pair<std::string_view, int> kBinary[] = {
      {"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}};
  if (bytes != 0) {
    for (const auto& [name, shift] : kBinary) {
      const std::uint64_t unit = 1ull << shift;
      if (bytes % unit == 0) return std::to_string(bytes / unit) + std::string(name);
    }
  }
  return std::to_string(bytes);
}

}  // namespace ferry::config
