// Fuzzes SigV4 canonicalisation with fuzzed keys, query parameters and
// headers, plus URI encoding/decoding and Authorization-header parsing.
// Invariants: UriDecode(UriEncode(x)) == x; the canonical request is the
// same whatever order the query and headers come in.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "protocols/s3/sigv4.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ferry::s3;
  FuzzedDataProvider in(data, size);
  std::string key = in.ConsumeRandomLengthString(2048);

  for (bool slash : {true, false}) {
    std::string enc = UriEncode(key, slash);
    auto dec = UriDecode(enc, false);
    if (!dec.ok() || *dec != key) std::abort();
  }
  (void)UriDecode(key, true);
  (void)ParseAuthorization(key);
  (void)ParseAmzDate(key);

  CanonicalInput ci;
  const char* const methods[] = {"GET", "PUT", "POST", "HEAD", "DELETE"};
  ci.method = methods[in.ConsumeIntegralInRange<int>(0, 4)];
  ci.path = "/bucket/" + UriEncode(key, false);
  int nq = in.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < nq; ++i) {
    std::string name = in.ConsumeRandomLengthString(64);
    std::string value = in.ConsumeRandomLengthString(128);
    ci.query.emplace_back(std::move(name), std::move(value));
  }
  ci.headers.emplace_back("Host", "s3.eu-west-1.amazonaws.com");
  int nh = in.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < nh; ++i) {
    std::string name = in.ConsumeRandomLengthString(32);
    std::string value = in.ConsumeRandomLengthString(128);
    ci.headers.emplace_back(std::move(name), std::move(value));
  }
  ci.payload_hash =
      in.ConsumeBool() ? std::string(kUnsignedPayload) : in.ConsumeRandomLengthString(64);
  SigningOptions s3_opts;
  SigningOptions service_opts;
  service_opts.double_encode_path = true;
  service_opts.normalize_path = true;
  (void)BuildCanonicalRequest(ci, service_opts);
  CanonicalRequest a = BuildCanonicalRequest(ci, s3_opts);

  // Order of query parameters and headers must not matter.
  CanonicalInput reversed = ci;
  std::reverse(reversed.query.begin(), reversed.query.end());
  std::reverse(reversed.headers.begin(), reversed.headers.end());
  CanonicalRequest b = BuildCanonicalRequest(reversed, s3_opts);
  // Duplicate names keep their relative order in S3 (values sorted); only
  // compare when names are unique.
  auto unique_names = [](std::vector<std::pair<std::string, std::string>> v, bool fold) {
    std::vector<std::string> names;
    for (auto& [n, unused] : v) {
      std::string k = n;
      if (fold) {  // header names are trimmed and lower-cased by the signer
        auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
        while (!k.empty() && space(k.back())) k.pop_back();
        while (!k.empty() && space(k.front())) k.erase(k.begin());
        std::transform(k.begin(), k.end(), k.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      }
      names.push_back(k);
    }
    std::sort(names.begin(), names.end());
    return std::adjacent_find(names.begin(), names.end()) == names.end();
  };
  if (unique_names(ci.query, false) && unique_names(ci.headers, true)) {
    if (a.text != b.text || a.signed_headers != b.signed_headers) {
      std::fprintf(stderr, "canonical request depends on order:\n%s\n---\n%s\n", a.text.c_str(),
                   b.text.c_str());
      std::abort();
    }
  }

  auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
  (void)Sign(ci, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", key, now, s3_opts);
  return 0;
}
