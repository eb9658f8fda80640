// See checks.h. Bucket rules follow the S3 general-purpose bucket naming
// rules; providers that accept more (legacy upper-case names) are not
// supported on purpose: a name that S3 would reject is almost always a typo.
#include "engine/config/checks.h"

#include <algorithm>
#include <charconv>
#include <cstdio>

namespace ferry::config::internal {
namespace {

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool LooksLikeIPv4(std::string_view s) {
  int parts = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = i;
    while (j < s.size() && IsDigit(s[j])) ++j;
    if (j == i || j - i > 3) return false;
    ++parts;
    if (j == s.size()) break;
    if (s[j] != '.') return false;
    i = j + 1;
  }
  return parts == 4;
}

bool ParsePort(std::string_view text, std::uint16_t* port, bool allow_zero) {
  if (text.empty() || text.size() > 5) return false;
  unsigned v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return false;
  if (v > 65535 || (v == 0 && !allow_zero)) return false;
  *port = static_cast<std::uint16_t>(v);
  return true;
}

// Splits "host[:port]" / "[v6][:port]". Empty port_text when none.
bool SplitHostPort(std::string_view hp, std::string* host, std::string_view* port_text,
                   std::string* why) {
  *port_text = {};
  if (hp.starts_with("[")) {
    size_t close = hp.find(']');
    if (close == std::string_view::npos) {
      *why = "unclosed '[' in IPv6 address";
      return false;
    }
    *host = std::string(hp.substr(1, close - 1));
    if (host->empty() || host->find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) {
      *why = "bad IPv6 address";
      return false;
    }
    std::string_view rest = hp.substr(close + 1);
    if (!rest.empty()) {
      if (rest[0] != ':') {
        *why = "unexpected text after ']'";
        return false;
      }
      *port_text = rest.substr(1);
      if (port_text->empty()) {
        *why = "empty port";
        return false;
      }
    }
    return true;
  }
  size_t colon = hp.rfind(':');
  if (colon != std::string_view::npos) {
    if (hp.substr(0, colon).find(':') != std::string_view::npos) {
      *why = "IPv6 addresses must be written in brackets, e.g. [::1]:9000";
      return false;
    }
    *port_text = hp.substr(colon + 1);
    if (port_text->empty()) {
      *why = "empty port";
      return false;
    }
    hp = hp.substr(0, colon);
  }
  *host = std::string(hp);
  for (char c : *host) {
    if (!(IsLower(c) || IsUpper(c) || IsDigit(c) || c == '.' || c == '-' || c == '_')) {
      *why = "host name may hold only letters, digits, '.', '-' and '_'";
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CheckBucketName(std::string_view name) {
  if (name.size() < 3 || name.size() > 63) return "bucket names are 3 to 63 characters long";
  for (char c : name) {
    if (!(IsLower(c) || IsDigit(c) || c == '.' || c == '-')) {
      return "bucket names hold only lower-case letters, digits, '.' and '-'";
    }
  }
  auto alnum = [](char c) { return IsLower(c) || IsDigit(c); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return "bucket names start and end with a letter or digit";
  }
  if (name.find("..") != std::string_view::npos) return "bucket names have no two adjacent dots";
  if (LooksLikeIPv4(name)) return "bucket names must not look like an IP address";
  if (name.starts_with("xn--") || name.starts_with("sthree-")) {
    return "bucket names must not start with \"xn--\" or \"sthree-\"";
  }
  if (name.ends_with("-s3alias") || name.ends_with("--ol-s3")) {
    return "bucket names must not end with \"-s3alias\" or \"--ol-s3\"";
  }
  return "";
}

std::string CheckPrefix(std::string_view prefix) {
  if (prefix.size() > 1024) return "prefixes are at most 1024 bytes (the S3 key limit)";
  if (!IsValidUtf8(prefix)) return "prefixes must be valid UTF-8";
  return "";
}

std::string CheckRouteName(std::string_view name) {
  if (name.empty() || name.size() > 63) return "route names are 1 to 63 characters long";
  for (char c : name) {
    if (!(IsLower(c) || IsDigit(c) || c == '-' || c == '_')) {
      return "route names hold only lower-case letters, digits, '-' and '_'";
    }
  }
  return "";
}

std::string CheckEndpointName(std::string_view name) {
  if (name.empty() || name.size() > 63) return "endpoint names are 1 to 63 characters long";
  for (char c : name) {
    if (!(IsLower(c) || IsUpper(c) || IsDigit(c) || c == '-' || c == '_' || c == '.')) {
      return "endpoint names hold only letters, digits, '.', '-' and '_'";
    }
  }
  return "";
}

bool ParseEndpointUrl(std::string_view text, EndpointUrl* out, std::string* why) {
  EndpointUrl url;
  url.text = std::string(text);
  auto starts_with_ci = [&](std::string_view p) {
    if (text.size() < p.size()) return false;
    for (size_t i = 0; i < p.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text[i])) != p[i]) return false;
    }
    return true;
  };
  std::string_view rest;
  if (starts_with_ci("https://")) {
    url.https = true;
    url.port = 443;
    rest = text.substr(8);
  } else if (starts_with_ci("http://")) {
    url.port = 80;
    rest = text.substr(7);
  } else {
    *why = "must start with http:// or https://";
    return false;
  }
  if (rest.find_first_of("?#") != std::string_view::npos) {
    *why = "must not have a query or fragment";
    return false;
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (authority.find('@') != std::string_view::npos) {
    *why = "must not hold user info (put credentials under `credentials`)";
    return false;
  }
  std::string_view port_text;
  if (!SplitHostPort(authority, &url.host, &port_text, why)) return false;
  if (url.host.empty()) {
    *why = "has no host";
    return false;
  }
  std::transform(url.host.begin(), url.host.end(), url.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (!port_text.empty() && !ParsePort(port_text, &url.port, /*allow_zero=*/false)) {
    *why = "port must be a number from 1 to 65535";
    return false;
  }
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (!path.empty() && path.back() == '/') path.remove_suffix(1);
    // Same rule as http::Url::Parse: visible ASCII, already percent-encoded.
    for (char c : path) {
      if (c <= 0x20 || c >= 0x7f || c == '\\') {
        *why = "path has spaces, control or non-ASCII characters (percent-encode them)";
        return false;
      }
    }
    url.base_path = std::string(path);
  }
  *out = std::move(url);
  return true;
}

bool ParseListen(std::string_view text, std::string* host, std::uint16_t* port, std::string* why) {
  std::string_view port_text;
  if (!SplitHostPort(text, host, &port_text, why)) return false;
  if (host->empty()) {
    *why = "needs a host; use 0.0.0.0:PORT or [::]:PORT to listen on every interface";
    return false;
  }
  if (port_text.empty() || !ParsePort(port_text, port, /*allow_zero=*/true)) {
    *why = "needs a port from 0 to 65535 (host:port)";
    return false;
  }
  return true;
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

std::string_view Suggest(std::string_view word, const std::vector<std::string_view>& candidates) {
  if (word.size() > 64) return {};
  std::string_view best;
  size_t best_distance = 0;
  for (std::string_view cand : candidates) {
    // Levenshtein distance, one row at a time.
    std::vector<size_t> row(cand.size() + 1);
    for (size_t j = 0; j <= cand.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      size_t diag = row[0];
      row[0] = i;
      for (size_t j = 1; j <= cand.size(); ++j) {
        size_t up = row[j];
        size_t cost = std::tolower(static_cast<unsigned char>(word[i - 1])) ==
                              std::tolower(static_cast<unsigned char>(cand[j - 1]))
                          ? 0
                          : 1;
        row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + cost});
        diag = up;
      }
    }
    const size_t d = row[cand.size()];
    if (best.empty() || d < best_distance) {
      best = cand;
      best_distance = d;
    }
  }
  // A third of the word's length, at least 1 and at most 3 edits.
  const size_t limit = std::clamp<size_t>(word.size() / 3, 1, 3);
  return best_distance <= limit ? best : std::string_view();
}

std::string Join(const std::vector<std::string_view>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    out += items[i];
  }
  return out;
}

std::string Quote(std::string_view s, size_t max_bytes) {
  bool cut = false;
  if (max_bytes > 0 && s.size() > max_bytes) {
    s = s.substr(0, max_bytes);
    // Do not end in the middle of a UTF-8 sequence.
    size_t keep = s.size();
    while (keep > 0 && (static_cast<unsigned char>(s[keep - 1]) & 0xC0) == 0x80) --keep;
    if (keep > 0 && static_cast<unsigned char>(s[keep - 1]) >= 0xC0) s = s.substr(0, keep - 1);
    cut = true;
  }
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7F) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02X", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += cut ? "...\"" : "\"";
  return out;
}

}  // namespace ferry::config::internal
