// Endpoint URL parsing (see url.h). Endpoints come from operator config, so
// every rejection names the offending text and the rule it broke.
#include "protocols/http/url.h"

#include <boost/asio/ip/address_v6.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace ferry::http {
namespace {

constexpr std::uint16_t DefaultPort(bool tls) { return tls ? 443 : 80; }

Status Invalid(std::string_view text, std::string_view why) {
  return Status::Error(ErrorClass::kInvalidArgument,
                       "invalid endpoint URL \"" + std::string(text) + "\": " + std::string(why));
}

bool IsHostChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
}

// Path characters we pass through as already encoded: visible ASCII except
// the ones that would change the request line's meaning.
bool IsPathChar(char c) { return c > 0x20 && c < 0x7f && c != '?' && c != '#' && c != '\\'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

std::string Url::HostHeader() const {
  std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != DefaultPort(tls)) out += ":" + std::to_string(port);
  return out;
}

std::string Url::ToString() const {
  std::string out = tls ? "https://" : "http://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out += ":" + std::to_string(port);
  out += base_path;
  return out;
}

Result<Url> Url::Parse(std::string_view text) {
  Url url;
  std::string_view rest = text;
  const std::string scheme_end = "://";
  auto sep = rest.find(scheme_end);
  if (sep == std::string_view::npos) return Invalid(text, "missing scheme (http:// or https://)");
  std::string scheme = Lower(rest.substr(0, sep));
  if (scheme == "https") {
    url.tls = true;
  } else if (scheme != "http") {
    return Invalid(text, "scheme must be http or https");
  }
  rest.remove_prefix(sep + scheme_end.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return Invalid(text, "query and fragment are not allowed");
  }

  std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());
  if (auto at = authority.find('@'); at != std::string_view::npos) {
    // The user-info may hold a password: do not echo it back.
    std::string redacted = scheme + "://<user-info>" + std::string(rest.substr(at));
    return Invalid(redacted, "user-info is not allowed (put credentials in the credentials file)");
  }

  std::string_view port_text;
  bool has_port = false;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return Invalid(text, "unterminated IPv6 literal");
    std::string_view literal = authority.substr(1, close - 1);
    boost::system::error_code ec;
    boost::asio::ip::make_address_v6(std::string(literal), ec);
    if (ec || literal.find('%') != std::string_view::npos) {
      return Invalid(text, "bad IPv6 literal");
    }
    url.host = Lower(literal);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return Invalid(text, "unexpected text after IPv6 literal");
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    auto colon = authority.find(':');
    std::string_view host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
    }
    if (host.empty()) return Invalid(text, "missing host");
    if (!std::all_of(host.begin(), host.end(), IsHostChar)) {
      return Invalid(text, "host has characters other than letters, digits, '-', '.', '_'");
    }
    url.host = Lower(host);
  }

  url.port = DefaultPort(url.tls);
  if (has_port) {
    unsigned value = 0;
    auto [end, err] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (port_text.empty() || port_text.size() > 5 || err != std::errc() ||
        end != port_text.data() + port_text.size() || value == 0 || value > 65535) {
      return Invalid(text, "port must be a number from 1 to 65535");
    }
    url.port = static_cast<std::uint16_t>(value);
  }

  if (!std::all_of(path.begin(), path.end(), IsPathChar)) {
    return Invalid(text, "path has spaces, control or non-ASCII characters (percent-encode them)");
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  url.base_path = std::string(path);
  return url;
}

}  // namespace ferry::http
