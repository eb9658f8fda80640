// Finds secrets in text a user or an operator could see (logs, command
// output, HTTP answers): the literal values of known secrets in the spellings
// they take on the way out (raw, percent-encoded, JSON-escaped), SigV4
// signatures (`Signature=<64 hex>`, `X-Amz-Signature=`, `chunk-signature=`,
// or any 64-hex run equal to a signature a server saw or to a derived signing
// key), and Authorization header values (`AWS4-HMAC-SHA256 Credential=...`).
//
// Pure logic, no I/O: the test collects texts and feeds them in.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ferry::security {

struct Leak {
  std::string source;  // name of the text (e.g. "ferryd stderr, daemon run")
  std::string what;    // which secret or pattern
  std::size_t offset = 0;
  std::string context;  // the surrounding text with the secret itself masked
};

class SecretScanner {
 public:
  // A literal secret (secret key, session token, webhook token). Values
  // shorter than 8 characters are refused (they would match by chance).
  void AddSecret(std::string name, std::string value);
  // A signature (or signing key) that must never appear: 64 lower-case hex.
  void AddSignature(const std::string& hex64);
  std::size_t signatures() const { return signatures_.size(); }

  // Every leak in `text`; `source` names it in the results.
  std::vector<Leak> Scan(std::string_view source, std::string_view text) const;

 private:
  struct Needle {
    std::string what;
    std::string value;
  };
  std::vector<Needle> needles_;
  std::set<std::string> signatures_;
};

// The spellings of `value` a program might print: raw, percent-encoded (as in
// a URL or a canonical request), JSON-escaped (`/` as `\/`).
std::vector<std::string> Spellings(const std::string& value);

// "source: what at offset: ...context..." one per line.
std::string Describe(const std::vector<Leak>& leaks);

}  // namespace ferry::security
