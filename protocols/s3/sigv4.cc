// AWS Signature Version 4: canonical request, string to sign, signing key
// and the Authorization header, plus the URI encoding rules SigV4 relies on.
#include "protocols/s3/sigv4.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>
#include <map>

#include "protocols/base/digest.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Trims the value and folds every run of whitespace into one space, as
// SigV4 requires for canonical header values.
std::string CanonicalHeaderValue(std::string_view v) {
  v = Trim(v);
  std::string out;
  out.reserve(v.size());
  bool in_space = false;
  for (char c : v) {
    if (IsSpace(c)) {
      in_space = true;
      continue;
    }
    if (in_space) out.push_back(' ');
    in_space = false;
    out.push_back(c);
  }
  return out;
}

// Removes "." and ".." segments and empty segments ("//"), keeping a
// trailing slash, as non-S3 services do before signing.
std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  std::size_t pos = 0;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string_view seg = path.substr(pos, next - pos);
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segments.push_back(seg);
    }
    pos = next + 1;
  }
  std::string out = "/";
  for (std::size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    out.append(segments[i]);
  }
  bool trailing = !path.empty() && (path.back() == '/' || path.ends_with("/.") ||
                                    path.ends_with("/.."));
  if (trailing && out.size() > 1) out.push_back('/');
  return out;
}

std::string CanonicalUri(std::string_view path, const SigningOptions& opts) {
  if (path.empty()) return "/";
  if (opts.double_encode_path) {
    std::string p = opts.normalize_path ? NormalizePath(path) : std::string(path);
    return UriEncode(p, /*encode_slash=*/false);
  }
  // S3: the path is encoded once. Escapes are decoded and every byte
  // re-encoded, so the result does not depend on how a client chose to escape
  // characters (some leave '$' or '!' raw, some escape '~'); that is what S3
  // itself does. An escaped '/' stays escaped (it is part of a key, not a
  // separator) and a stray '%' is taken literally.
  std::string p = opts.normalize_path ? NormalizePath(path) : std::string(path);
  std::string out;
  out.reserve(p.size() * 3);
  for (std::size_t i = 0; i < p.size(); ++i) {
    char c = p[i];
    if (c == '%' && i + 2 < p.size() && HexValue(p[i + 1]) >= 0 && HexValue(p[i + 2]) >= 0) {
      char b = static_cast<char>(HexValue(p[i + 1]) * 16 + HexValue(p[i + 2]));
      out.append(UriEncode(std::string_view(&b, 1), /*encode_slash=*/true));
      i += 2;
    } else {
      out.append(UriEncode(std::string_view(&c, 1), /*encode_slash=*/false));
    }
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).push_back('=');
    out.append(value);
  }
  return out;
}

bool IsSignerHeader(std::string_view lower_name) {
  return lower_name == "x-amz-date" || lower_name == "x-amz-content-sha256" ||
         lower_name == "x-amz-security-token" || lower_name == "authorization";
}

}  // namespace

std::string UriEncode(std::string_view in, bool encode_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size() * 3);
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    if (IsUnreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

Result<std::string> UriDecode(std::string_view in, bool plus_as_space) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) {
        return Status::Error(ErrorClass::kInvalidArgument,
                             "truncated percent-escape at offset " + std::to_string(i));
      }
      int hi = HexValue(in[i + 1]);
      int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) {
        return Status::Error(ErrorClass::kInvalidArgument,
                             "invalid percent-escape at offset " + std::to_string(i));
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_as_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string DateStamp(std::chrono::system_clock::time_point t) { return AmzDate(t).substr(0, 8); }

Result<std::chrono::system_clock::time_point> ParseAmzDate(std::string_view s) {
  auto bad = [&] {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "bad x-amz-date (want yyyymmddThhmmssZ): '" + std::string(s) + "'");
  };
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return bad();
  for (std::size_t i = 0; i < 15; ++i) {
    if (i != 8 && !std::isdigit(static_cast<unsigned char>(s[i]))) return bad();
  }
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  int year = num(0, 4), month = num(4, 2), day = num(6, 2);
  int hour = num(9, 2), minute = num(11, 2), second = num(13, 2);
  // Nanosecond time points cover years ~1678-2262 only; beyond, the
  // conversion overflows.
  if (year < 1700 || year > 2200) return bad();
  using namespace std::chrono;
  year_month_day ymd{std::chrono::year(year), std::chrono::month(static_cast<unsigned>(month)),
                     std::chrono::day(static_cast<unsigned>(day))};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 60) return bad();
  return system_clock::time_point(sys_days(ymd)) + hours(hour) + minutes(minute) +
         seconds(second);
}

std::string DeriveSigningKey(const SigningKeyInput& in) {
  std::string k = digest::HmacSha256("AWS4" + in.secret_access_key, in.date);
  k = digest::HmacSha256(k, in.region);
  k = digest::HmacSha256(k, in.service);
  return digest::HmacSha256(k, "aws4_request");
}

CanonicalRequest BuildCanonicalRequest(const CanonicalInput& in, const SigningOptions& opts) {
  // Lower-cased name -> values in the order given (duplicates joined by ',').
  std::map<std::string, std::string> headers;
  for (const auto& [name, value] : in.headers) {
    std::string lower = ToLower(Trim(name));
    auto [it, inserted] = headers.try_emplace(lower, CanonicalHeaderValue(value));
    if (!inserted) it->second.append(",").append(CanonicalHeaderValue(value));
  }
  CanonicalRequest out;
  std::string canonical_headers;
  for (const auto& [name, value] : headers) {
    canonical_headers.append(name).append(":").append(value).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(name);
  }
  out.text.reserve(256 + canonical_headers.size());
  out.text.append(in.method).append("\n");
  out.text.append(CanonicalUri(in.path, opts)).append("\n");
  out.text.append(CanonicalQuery(in.query)).append("\n");
  out.text.append(canonical_headers).append("\n");
  out.text.append(out.signed_headers).append("\n");
  out.text.append(in.payload_hash);
  return out;
}

std::string CredentialScope(std::string_view date, std::string_view region,
                            std::string_view service) {
  std::string out;
  out.append(date).append("/").append(region).append("/").append(service).append(
      "/aws4_request");
  return out;
}

std::string StringToSign(std::string_view amz_date, std::string_view scope,
                         std::string_view canonical_request) {
  std::string out(kAlgorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(digest::Sha256Hex(canonical_request));
  return out;
}

SignedHeaders Sign(CanonicalInput in, std::string_view access_key_id,
                   std::string_view secret_access_key, std::string_view session_token,
                   std::chrono::system_clock::time_point now, const SigningOptions& opts) {
  // Headers the signer owns are replaced, never duplicated.
  std::erase_if(in.headers, [](const auto& h) { return IsSignerHeader(ToLower(h.first)); });
  const std::string amz_date = AmzDate(now);
  const std::string date = amz_date.substr(0, 8);
  SignedHeaders out;
  out.add.emplace_back("x-amz-date", amz_date);
  out.add.emplace_back("x-amz-content-sha256", in.payload_hash);
  if (!session_token.empty()) out.add.emplace_back("x-amz-security-token", session_token);
  for (const auto& h : out.add) in.headers.push_back(h);

  CanonicalRequest creq = BuildCanonicalRequest(in, opts);
  const std::string scope = CredentialScope(date, opts.region, opts.service);
  out.string_to_sign = StringToSign(amz_date, scope, creq.text);
  const std::string key = DeriveSigningKey(
      SigningKeyInput{std::string(secret_access_key), date, opts.region, opts.service});
  const std::string signature = digest::ToHex(digest::HmacSha256(key, out.string_to_sign));

  std::string authz(kAlgorithm);
  authz.append(" Credential=").append(access_key_id).append("/").append(scope);
  authz.append(", SignedHeaders=").append(creq.signed_headers);
  authz.append(", Signature=").append(signature);
  out.add.emplace_back("Authorization", std::move(authz));
  out.canonical_request = std::move(creq.text);
  return out;
}

Result<ParsedAuthorization> ParseAuthorization(std::string_view header) {
  auto bad = [](std::string_view why) {
    return Status::Error(ErrorClass::kAuth,
                         "malformed Authorization header: " + std::string(why));
  };
  header = Trim(header);
  if (!header.starts_with(kAlgorithm)) return bad("algorithm is not AWS4-HMAC-SHA256");
  header.remove_prefix(kAlgorithm.size());
  if (header.empty() || !IsSpace(header.front())) return bad("no space after the algorithm");
  ParsedAuthorization out;
  bool have_credential = false, have_signed = false, have_signature = false;
  while (!header.empty()) {
    std::size_t comma = header.find(',');
    std::string_view part = Trim(header.substr(0, comma));
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    if (part.empty()) continue;
    std::size_t eq = part.find('=');
    if (eq == std::string_view::npos) return bad("component without '='");
    std::string_view name = Trim(part.substr(0, eq));
    std::string_view value = Trim(part.substr(eq + 1));
    if (name == "Credential") {
      if (have_credential) return bad("Credential given twice");
      have_credential = true;
      // <key id>/<date>/<region>/<service>/aws4_request; the key id itself
      // may not contain '/', so split from the right.
      std::vector<std::string_view> f;
      std::string_view rest = value;
      for (int i = 0; i < 4; ++i) {
        std::size_t slash = rest.rfind('/');
        if (slash == std::string_view::npos) return bad("Credential has too few fields");
        f.push_back(rest.substr(slash + 1));
        rest = rest.substr(0, slash);
      }
      if (f[0] != "aws4_request") return bad("Credential scope does not end in aws4_request");
      if (rest.empty() || f[1].empty() || f[2].empty() || f[3].size() != 8) {
        return bad("Credential has an empty or malformed field");
      }
      out.access_key_id = std::string(rest);
      out.service = std::string(f[1]);
      out.region = std::string(f[2]);
      out.date = std::string(f[3]);
      for (char c : out.date) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return bad("bad date in Credential");
      }
    } else if (name == "SignedHeaders") {
      if (have_signed) return bad("SignedHeaders given twice");
      have_signed = true;
      std::string_view rest = value;
      while (true) {
        std::size_t semi = rest.find(';');
        std::string_view h = rest.substr(0, semi);
        if (h.empty()) return bad("empty name in SignedHeaders");
        out.signed_headers.push_back(ToLower(h));
        if (semi == std::string_view::npos) break;
        rest = rest.substr(semi + 1);
      }
    } else if (name == "Signature") {
      if (have_signature) return bad("Signature given twice");
      have_signature = true;
      if (value.size() != 64) return bad("Signature is not 64 hex digits");
      for (char c : value) {
        if (HexValue(c) < 0) return bad("Signature is not hex");
      }
      out.signature = ToLower(value);
    } else {
      return bad("unknown component '" + std::string(name) + "'");
    }
  }
  if (!have_credential) return bad("no Credential");
  if (!have_signed) return bad("no SignedHeaders");
  if (!have_signature) return bad("no Signature");
  return out;
}

bool SignaturesEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace ferry::s3
