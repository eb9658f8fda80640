#include "tests/security/secret_scan.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace ferry::security {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string PercentEncode(const std::string& v) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : v) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Printable context around [at, at+len) with the match itself masked, so the
// report does not repeat the secret.
std::string Context(std::string_view text, std::size_t at, std::size_t len) {
  constexpr std::size_t kSide = 60;
  std::size_t from = at > kSide ? at - kSide : 0;
  std::size_t to = std::min(text.size(), at + len + kSide);
  std::string out;
  for (std::size_t i = from; i < to; ++i) {
    if (i == at) {
      out += "<<MATCH>>";
      i = at + len - 1;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? ' ' : static_cast<char>(c));
  }
  return out;
}

}  // namespace

std::vector<std::string> Spellings(const std::string& value) {
  std::vector<std::string> out = {value, PercentEncode(value), Lower(PercentEncode(value))};
  std::string json;
  for (char c : value) {
    if (c == '/') json += "\\/";
    else json.push_back(c);
  }
  out.push_back(json);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void SecretScanner::AddSecret(std::string name, std::string value) {
  if (value.size() < 8) throw std::invalid_argument("secret too short to scan for: " + name);
  for (std::string& s : Spellings(value)) needles_.push_back({name, std::move(s)});
}

void SecretScanner::AddSignature(const std::string& hex64) {
  if (hex64.size() != 64 || !std::all_of(hex64.begin(), hex64.end(), IsHex)) {
    throw std::invalid_argument("not a 64-hex signature: " + hex64);
  }
  signatures_.insert(Lower(hex64));
}

std::vector<Leak> SecretScanner::Scan(std::string_view source, std::string_view text) const {
  std::vector<Leak> leaks;
  auto add = [&](std::string what, std::size_t at, std::size_t len) {
    leaks.push_back({std::string(source), std::move(what), at, Context(text, at, len)});
  };
  for (const Needle& n : needles_) {
    for (std::size_t at = text.find(n.value); at != std::string_view::npos;
         at = text.find(n.value, at + 1)) {
      add(n.what, at, n.value.size());
    }
  }
  // Signature-shaped text, whoever computed it.
  static const std::regex kSigned(
      R"re((Signature|X-Amz-Signature|chunk-signature|signature)"?\s*[=:]\s*"?[0-9a-fA-F]{64})re",
      std::regex::ECMAScript);
  static const std::regex kAuthorization(R"(AWS4-HMAC-SHA256\s+Credential=)", std::regex::ECMAScript);
  const std::string str(text);
  for (auto it = std::sregex_iterator(str.begin(), str.end(), kSigned); it != std::sregex_iterator();
       ++it) {
    add("SigV4 signature (" + (*it)[1].str() + "=<64 hex>)", static_cast<std::size_t>(it->position()),
        static_cast<std::size_t>(it->length()));
  }
  for (auto it = std::sregex_iterator(str.begin(), str.end(), kAuthorization);
       it != std::sregex_iterator(); ++it) {
    add("Authorization header value", static_cast<std::size_t>(it->position()),
        static_cast<std::size_t>(it->length()));
  }
  // Any run of exactly 64 hex digits equal to a known signature or key.
  for (std::size_t i = 0; i < text.size();) {
    if (!IsHex(text[i])) {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < text.size() && IsHex(text[j])) ++j;
    if (j - i == 64 && signatures_.count(Lower(std::string(text.substr(i, 64))))) {
      add("a signature or signing key the server saw", i, 64);
    }
    i = j;
  }
  return leaks;
}

std::string Describe(const std::vector<Leak>& leaks) {
  std::ostringstream out;
  for (const Leak& l : leaks) {
    out << l.source << ": " << l.what << " at offset " << l.offset << ": ..." << l.context
        << "...\n";
  }
  return out.str();
}

}  // namespace ferry::security
