// Shared pieces of the reliability suite (tests/reliability, tests/crash):
// a fixture on top of the engine integration harness that can run a pass
// with any configuration text, run the ferryd binary capturing its stderr,
// and read what the simulator's fault rules did.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/engine/integration/harness.h"

namespace ferry::reliability {

using integration::ConfigOptions;
using integration::Region;
using integration::Written;
using integration::kKiB;
using integration::kMiB;

// Result of a ferryd child run.
struct FerrydRun {
  int exit_code = -1;  // -1: killed by a signal or did not finish in time
  std::string err;     // its stderr
};

// Runs `ferryd_args` (after the binary) with stderr captured in `dir`.
FerrydRun RunFerryd(const std::vector<std::string>& ferryd_args, const std::string& dir,
                    std::chrono::seconds timeout);

// Sum of "injected" over the region's fault rules.
std::uint64_t InjectedFaults(Region& r);
// Log entries that carry an injected fault.
std::uint64_t FaultedEntries(const std::vector<nlohmann::json>& log);

class ReliabilityTest : public integration::IntegrationTest {
 protected:
  // The harness configuration with `transfer_extra` lines added under
  // `transfer:` (each "  key: value\n").
  std::string Yaml(const ConfigOptions& o, const std::string& transfer_extra = "") const {
    return ConfigYaml(o) + transfer_extra;
  }
  std::string WriteYaml(const std::string& yaml, const std::string& name = "ferry.yaml");
  // One pass in-process with this configuration text; ferryd's exit code.
  int RunOnceYaml(const std::string& yaml, std::vector<engine::PassReport>* reports = nullptr,
                  std::chrono::seconds timeout = std::chrono::seconds(120));
  // Rewrites the shared credentials file the generated configs point at.
  void WriteCredentials(const std::string& access_key, const std::string& secret_key);
};

}  // namespace ferry::reliability
