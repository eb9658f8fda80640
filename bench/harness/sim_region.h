// SimRegion: one s3sim process standing for one region of the benchmark's
// simulated cross-region link, and a blocking client for its admin API
// (/_sim/...) that also speaks TLS when the region serves HTTPS.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/harness/child.h"
#include "protocols/base/status.h"

namespace ferry::bench {

inline constexpr char kAccessKey[] = "ferry-bench-key";
inline constexpr char kSecretKey[] = "ferry-bench-secret-0123456789";
inline constexpr char kRegionName[] = "us-east-1";

struct LinkSpec {
  std::uint32_t latency_ms = 40;              // before every response
  std::uint64_t bandwidth_bps = 100'000'000;  // per connection, each direction; 0 = unlimited
};

struct TlsFiles {
  std::string cert;  // PEM server certificate (also the CA clients trust)
  std::string key;
  bool enabled() const { return !cert.empty(); }
};

struct RegionOptions {
  std::string name;   // "src", "dst": file names and messages
  std::string dir;    // port file and log go here
  std::string s3sim;  // path of the s3sim binary
  std::vector<std::string> buckets;
  std::vector<std::string> synthetic_buckets;
  std::string data_dir;                            // "" = object bodies in RAM
  std::optional<std::uint64_t> keep_bodies_up_to;  // s3sim --keep-bodies-up-to
  LinkSpec link;
  TlsFiles tls;
  int threads = 2;
  std::uint64_t min_part_size = 5ull << 20;
};

class SimRegion {
 public:
  static Result<std::unique_ptr<SimRegion>> Start(RegionOptions opts);
  ~SimRegion();

  std::uint16_t port() const { return port_; }
  bool tls() const { return opts_.tls.enabled(); }
  std::string url() const;  // http(s)://127.0.0.1:PORT
  const RegionOptions& options() const { return opts_; }

  // Admin API. Long calls (1M synthetic objects) get `timeout`.
  Result<nlohmann::json> Get(const std::string& target,
                             std::chrono::milliseconds timeout = std::chrono::seconds(60));
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& body,
                              std::chrono::milliseconds timeout = std::chrono::seconds(300));
  Result<nlohmann::json> Stats() { return Get("/_sim/stats"); }
  // Every request-log entry with seq > since (follows the pages).
  Result<std::vector<nlohmann::json>> Log(std::uint64_t since = 0);
  Status SetLink(const LinkSpec& link);
  Status CreateBucket(const std::string& name);
  bool Running() { return child_ && child_->Running(); }
  // CPU and peak memory of the simulator so far (from /proc).
  double CpuSeconds() const;

 private:
  SimRegion() = default;
  Result<nlohmann::json> Call(const std::string& method, const std::string& target,
                              const std::string& body, std::chrono::milliseconds timeout);

  RegionOptions opts_;
  std::unique_ptr<Child> child_;
  std::uint16_t port_ = 0;
};

// A self-signed certificate for 127.0.0.1 made with the openssl command.
Result<TlsFiles> MakeSelfSignedCert(const std::string& dir);

}  // namespace ferry::bench
