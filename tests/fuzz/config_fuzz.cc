// Fuzzes the YAML configuration parser (engine/config ParseConfig): it must
// never crash or throw, and a configuration it accepts must survive the
// documented round trip through Redacted() (which "parses back to an
// equivalent Config").
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "engine/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<ferry::config::Diagnostic> diags;
  auto cfg = ferry::config::ParseConfig(text, "fuzz.yaml", &diags);
  if (!cfg.ok()) return 0;
  std::string redacted = ferry::config::Redacted(*cfg);
  auto again = ferry::config::ParseConfig(redacted, "fuzz.yaml");
  if (!again.ok()) {
    std::fprintf(stderr, "Redacted() output does not parse:\n%s\n---\n%s\n", redacted.c_str(),
                 again.status().ToString().c_str());
    std::abort();
  }
  if (ferry::config::Redacted(*again) != redacted) {
    std::fprintf(stderr, "Redacted() is not stable:\n%s\n", redacted.c_str());
    std::abort();
  }
  return 0;
}
