// The replicators under test, each run as a child process against a
// source and a destination store (two s3sim regions, or two Ceph RGW
// clusters: see Endpoint): ferryd (one pass, --once), rclone copy
// (defaults and tuned for the link) and awscli v2 as a CronJob uses it
// (s3 sync from the source into a local directory, then s3 sync up to the
// destination: awscli cannot copy between two endpoints).
//
// A ToolRun carries what the kernel accounted for the tool's own processes
// (CPU, peak RSS) and its wall time; the harness judges the result from the
// destination's request log.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/child.h"
#include "bench/harness/sim_region.h"
#include "bench/harness/workload.h"

namespace ferry::bench {

struct Programs {
  std::string ferryd;
  std::string s3sim;
  std::string rclone = "rclone";
  std::string aws = "/usr/bin/aws";
  std::string gnuplot = "gnuplot";
};

// One end of a copy as the tools see it: where, which region, whose keys.
struct Endpoint {
  std::string url;  // http(s)://host:port
  std::string region = kRegionName;
  std::string access_key = kAccessKey;
  std::string secret_key = kSecretKey;
  std::string rclone_provider = "Other";  // rclone's s3 provider option
  bool tls = false;
};

// The simulator region's endpoint (the bench's fixed keys and region).
Endpoint SimEndpoint(const SimRegion& r);

struct RegionPair {
  SimRegion* src = nullptr;
  SimRegion* dst = nullptr;
  std::string src_bucket = "src";
  std::string dst_bucket = "dst";
  std::string ca_file;  // PEM the tools trust when the regions serve TLS
  // Stores that are not simulator regions (the Ceph RGW pair): when set,
  // the tools connect here and src/dst may be null.
  std::optional<Endpoint> src_store = std::nullopt;
  std::optional<Endpoint> dst_store = std::nullopt;

  Endpoint Source() const { return src_store ? *src_store : SimEndpoint(*src); }
  Endpoint Destination() const { return dst_store ? *dst_store : SimEndpoint(*dst); }
};

struct FerrySettings {
  std::uint64_t part_size = 16 * kMiB;
  int parts_in_flight = 32;
  int max_connections = 64;
  int max_objects_in_flight = 256;
  std::string payload_signing = "unsigned";  // auto | signed | unsigned
  int threads = 0;                           // 0 = ferryd's default (one per core)
  std::string layout;                        // "" = the workload's
  std::string log_level = "info";
  // ferryd as installed (the Ceph RGW pair): no `transfer` section, no
  // max_connections, and payload_signing only when not "" (ferryd's
  // default is auto). The settings above are then not written.
  bool ferryd_defaults = false;
  // Capabilities left to ferryd's start-up probe instead of set in the
  // configuration (the simulator's are known, and a probe's writes would
  // count in its request log).
  bool probe_capabilities = false;
  std::string Describe() const;              // "part 16 MiB, 32 parts in flight, ..."
};

// Tuned flags with value 0 are not passed (rclone's default applies).
struct RcloneSettings {
  bool tuned = false;
  int transfers = 32;
  int checkers = 64;
  int upload_concurrency = 8;
  std::uint64_t chunk_size = 16 * kMiB;
};

struct ToolRun {
  std::string tool;     // ferry, rclone-default, rclone-tuned, awscli
  std::string command;  // what ran (no secrets), for the report
  Usage usage;          // summed over the tool's steps; peak RSS is the largest
  std::chrono::system_clock::time_point started{};
  std::string error;    // "" when every step exited 0
  std::string log_path;
};

// Writes ferryd's configuration for `pair` (its state and socket under `dir`).
std::string FerryConfigYaml(const RegionPair& pair, const FerrySettings& s, const std::string& dir,
                            const std::string& layout);

ToolRun RunFerry(const Programs& p, const RegionPair& pair, const Workload& w,
                 const FerrySettings& s, const std::string& dir, std::chrono::seconds timeout);
ToolRun RunRclone(const Programs& p, const RegionPair& pair, const RcloneSettings& s,
                  const std::string& dir, std::chrono::seconds timeout);
ToolRun RunAwscli(const Programs& p, const RegionPair& pair, const std::string& dir,
                  std::chrono::seconds timeout);

// The peers' settings as the report prints them.
std::string RcloneFlags(const RcloneSettings& s);

}  // namespace ferry::bench
