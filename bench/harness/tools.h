// The replicators under test, each run as a child process against a
// source and a destination region: ferryd (one pass, --once), rclone copy
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

struct RegionPair {
  SimRegion* src = nullptr;
  SimRegion* dst = nullptr;
  std::string src_bucket = "src";
  std::string dst_bucket = "dst";
  std::string ca_file;  // PEM the tools trust when the regions serve TLS
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
  std::string Describe() const;              // "part 16 MiB, 32 parts in flight, ..."
};

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
