#include "protocols/prom/writer.h"

#include <charconv>
#include <cmath>
#include <limits>

namespace ferry::prom {

namespace {

bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid
// (overlong forms, surrogates and code points past U+10FFFF are invalid).
std::size_t Utf8SequenceLength(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

// Appends `in` with `\`, newline (and `"` when quote) escaped and invalid
// UTF-8 bytes replaced by U+FFFD.
void AppendEscaped(std::string_view in, bool quote, std::string* out) {
  for (std::size_t i = 0; i < in.size();) {
    char c = in[i];
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (c == '"' && quote) {
      *out += "\\\"";
    } else {
      std::size_t n = Utf8SequenceLength(in, i);
      if (n == 0) {
        *out += "\xEF\xBF\xBD";
        ++i;
        continue;
      }
      out->append(in.substr(i, n));
      i += n;
      continue;
    }
    ++i;
  }
}

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kCounter:
      return "counter";
    case Type::kGauge:
      return "gauge";
    case Type::kHistogram:
      return "histogram";
  }
  return "untyped";
}

}  // namespace

bool ValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = IsAlpha(c) || c == '_' || c == ':' || (i > 0 && IsDigit(c));
    if (!ok) return false;
  }
  return true;
}

bool ValidLabelName(std::string_view name) {
  if (name.empty() || name.starts_with("__")) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = IsAlpha(c) || c == '_' || (i > 0 && IsDigit(c));
    if (!ok) return false;
  }
  return true;
}

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Integers print exactly (no exponent) while they fit an int64; 2^63 itself
  // does not, hence the strict bound.
  if (value == std::trunc(value) && std::fabs(value) < 9223372036854775808.0) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(value));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, value);  // shortest round trip
  return std::string(buf, r.ptr);
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  AppendEscaped(value, true, &out);
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  AppendEscaped(help, false, &out);
  return out;
}

void Writer::Error(std::string message) { errors_.push_back(std::move(message)); }

void Writer::Family(std::string_view name, std::string_view help, Type type) {
  current_.clear();
  label_sets_.clear();
  if (!ValidMetricName(name)) {
    Error("invalid metric name \"" + EscapeLabelValue(name) + "\": family skipped");
    return;
  }
  if (families_.contains(name)) {
    Error("family " + std::string(name) + " started twice: second one skipped");
    return;
  }
  families_.emplace(name);
  current_ = std::string(name);
  current_type_ = type;
  text_ += "# HELP ";
  text_ += name;
  text_ += ' ';
  AppendEscaped(help, false, &text_);
  text_ += "\n# TYPE ";
  text_ += name;
  text_ += ' ';
  text_ += TypeName(type);
  text_ += '\n';
}

bool Writer::CheckFamily(Type want, std::string_view what) {
  if (current_.empty()) {
    Error(std::string(what) + " without a valid family: skipped");
    return false;
  }
  bool histogram = current_type_ == Type::kHistogram;
  if (histogram != (want == Type::kHistogram)) {
    Error(std::string(what) + " in " + std::string(TypeName(current_type_)) + " family " +
          current_ + ": skipped");
    return false;
  }
  return true;
}

bool Writer::RenderLabels(const Labels& labels, std::string* out) {
  std::set<std::string_view> seen;
  for (const auto& [name, value] : labels) {
    if (!ValidLabelName(name)) {
      Error("invalid label name \"" + EscapeLabelValue(name) + "\" in " + current_ +
            ": sample skipped");
      return false;
    }
    if (!seen.insert(name).second) {
      Error("duplicate label name " + name + " in " + current_ + ": sample skipped");
      return false;
    }
    *out += out->empty() ? '{' : ',';
    *out += name;
    *out += "=\"";
    AppendEscaped(value, true, out);
    *out += '"';
  }
  return true;
}

void Writer::Sample(const Labels& labels, double value) {
  if (!CheckFamily(Type::kCounter, "sample")) return;
  std::string rendered;
  if (!RenderLabels(labels, &rendered)) return;
  if (!label_sets_.insert(rendered).second) {
    Error("duplicate label set in " + current_ + ": sample skipped");
    return;
  }
  text_ += current_;
  if (!rendered.empty()) text_ += rendered + '}';
  text_ += ' ';
  text_ += FormatValue(value);
  text_ += '\n';
}

void Writer::Histogram(const Labels& labels, std::span<const double> upper_bounds,
                       std::span<const std::uint64_t> cumulative_counts, double sum,
                       std::uint64_t count) {
  if (!CheckFamily(Type::kHistogram, "histogram")) return;
  auto fail = [&](const std::string& why) {
    Error("histogram in " + current_ + ": " + why + ": skipped");
  };
  if (upper_bounds.size() != cumulative_counts.size()) {
    return fail("bounds and counts differ in length");
  }
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    if (!std::isfinite(upper_bounds[i])) return fail("non-finite upper bound");
    if (i > 0 && !(upper_bounds[i] > upper_bounds[i - 1])) {
      return fail("upper bounds not strictly ascending");
    }
    if (i > 0 && cumulative_counts[i] < cumulative_counts[i - 1]) {
      return fail("counts not cumulative");
    }
  }
  if (!cumulative_counts.empty() && cumulative_counts.back() > count) {
    return fail("bucket count above total count");
  }
  for (const auto& kv : labels) {
    if (kv.first == "le") return fail("label \"le\" is reserved");
  }
  std::string rendered;
  if (!RenderLabels(labels, &rendered)) return;
  if (!label_sets_.insert(rendered).second) {
    Error("duplicate label set in " + current_ + ": histogram skipped");
    return;
  }
  std::string prefix = rendered.empty() ? "{" : rendered + ",";
  std::string suffix = rendered.empty() ? "" : rendered + "}";
  auto bucket = [&](const std::string& le, std::uint64_t n) {
    text_ += current_;
    text_ += "_bucket";
    text_ += prefix;
    text_ += "le=\"" + le + "\"} ";
    text_ += std::to_string(n);
    text_ += '\n';
  };
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    bucket(FormatValue(upper_bounds[i]), cumulative_counts[i]);
  }
  bucket("+Inf", count);
  text_ += current_ + "_sum" + suffix + ' ' + FormatValue(sum) + '\n';
  text_ += current_ + "_count" + suffix + ' ' + std::to_string(count) + '\n';
}

}  // namespace ferry::prom
