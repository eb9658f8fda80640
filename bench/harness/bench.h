// ferry-bench's body: the end-to-end benchmark between two simulated regions.
//
// For each scenario (large, mixed, small, list) it starts the source region
// and fills it with synthetic objects, measures W (the simulator pair's own
// limit, see direct_copy.h), then runs each replicator (ferry, rclone with
// defaults and tuned, awscli) against a fresh destination region and judges
// the result from the destination's request log. Extra runs on `large`
// measure the cost of hashing (the direct client with and without ferry's
// per-part hashing) and TLS (ferry with both regions on HTTPS). `--sweep`
// varies part size, parts in flight and connections.
//
// The Ceph RGW pair (rgw_bench.h) runs the same tools between two real
// (throwaway, single-node) Ceph RGW clusters and reports in its own section.
//
// Nothing is asserted about timing: the report states what was measured.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "bench/harness/measure.h"
#include "bench/harness/tools.h"
#include "bench/harness/workload.h"

namespace ferry::bench {

struct BenchOptions {
  Programs programs;
  std::string work_dir;       // scratch: regions, ferry state, awscli's local copy
  std::string out_dir;        // results.json, sweep.csv, sweep.png
  std::string markdown_path;  // the report ("" = out_dir/RESULTS.md)
  std::string command_line;   // as the user typed it, for the report
  LinkSpec link;
  bool smoke = false;
  std::vector<std::string> scenarios;  // default: all (s3sim ones and rgw-set, rgw-small)
  std::vector<std::string> tools;      // ferry, rclone-default, rclone-tuned, awscli
  // The Ceph RGW pair's scenarios run unless this is false (--no-rgw).
  bool rgw = true;
  // Only the RGW pair (--rgw): no s3sim scenario and no sweep; an existing
  // report keeps its s3sim part and gets its RGW section replaced.
  bool rgw_only = false;
  bool sweep = false;
  bool extra_checks = true;  // hashing-cost and TLS runs on `large`
  // Runs of every measurement on `large` (plain and TLS), in interleaved
  // rounds; the row with the median time counts. Its targets are ratios of a
  // few percent, so one run's noise would decide them.
  int rounds = 3;
  std::string dest_data_dir;  // "" = destination bodies in RAM
  // The destination region checks and drops bodies larger than this (its
  // storing them would cost the one machine page faults and copies that a
  // remote store charges to no client); nullopt = keep every body.
  std::optional<std::uint64_t> dest_keep_up_to = 1 * kMiB;
  int sim_threads = 2;
  FerrySettings ferry;
  RcloneSettings rclone_tuned;
  std::chrono::seconds run_timeout{1200};
};

const std::vector<std::string>& ToolNames();
// Every scenario --scenario accepts: ScenarioNames() and RgwScenarioNames().
std::vector<std::string> AllScenarioNames();

struct Row {
  std::string scenario;
  std::string tool;  // a tool name, "W", "W+hash", "ferry-tls"
  std::string command;
  std::string error;  // "" = ok
  std::string note;
  int runs = 1;  // measurements behind the row (the median's; see BenchOptions::rounds)
  double slowest_seconds = 0, fastest_seconds = 0;  // over those runs
  double seconds = 0;
  std::uint64_t bytes = 0;    // workload bytes (0 for list)
  std::uint64_t objects = 0;  // workload objects (list: source keys reconciled)
  double cpu_seconds = -1;    // the tool's processes; -1 = not measured
  std::uint64_t peak_rss = 0;
  double sim_cpu_seconds = 0;  // both simulators during the run
  std::uint64_t dst_objects_written = 0;
  std::uint64_t dst_bytes_in = 0;
  std::optional<LagStats> lag;
  // Ceph RGW pair: CPU of both clusters' radosgw and ceph-osd during the
  // run (-1 = not measured), and what ferryd's start-up probe logged.
  double radosgw_cpu_seconds = -1, osd_cpu_seconds = -1;
  std::string probe;
  std::optional<bool> probe_as_expected;

  bool ok() const { return error.empty(); }
  double mbps() const { return seconds > 0 ? static_cast<double>(bytes) / seconds / 1e6 : 0; }
  double objects_per_second() const {
    return seconds > 0 ? static_cast<double>(objects) / seconds : 0;
  }
  double cpu_per_gb() const {
    return bytes > 0 && cpu_seconds >= 0 ? cpu_seconds / (static_cast<double>(bytes) / 1e9) : -1;
  }
};

struct SweepPoint {
  FerrySettings settings;
  Row row;
};

struct MachineInfo {
  unsigned cores = 0;
  std::string cpu_model;
  std::uint64_t ram_bytes = 0;
  std::string kernel;
  std::string date_utc;
  std::string load_before, load_after;  // /proc/loadavg: other work on the machine
  std::string rclone_version, aws_version;
};

// The Ceph RGW pair's part of a run (its own section of the report; its
// rows are among BenchReport::rows, scenarios rgw-set and rgw-small).
struct RgwReport {
  bool ran = false;
  std::string not_run;  // why it did not run ("" when it did or was not asked for)
  std::string ceph_version;
  std::string date_utc;
  std::string load_before, load_after;
  double total_seconds = 0;
  std::vector<std::string> scenario_descriptions;
};

struct BenchReport {
  MachineInfo machine;
  std::vector<std::string> scenario_descriptions;  // "large: 4 x 1 GiB ..."
  std::vector<Row> rows;
  std::vector<SweepPoint> sweep;
  std::optional<SweepPoint> best;
  RgwReport rgw;
  double total_seconds = 0;
};

// Runs everything the options ask for. Failures of a tool are recorded in
// its row (the run goes on); failures of the harness itself are returned.
Result<BenchReport> RunBench(const BenchOptions& opts);

// results.json, RESULTS.md (and sweep.csv/.png when swept).
Status WriteReports(const BenchOptions& opts, const BenchReport& report);

MachineInfo DescribeMachine(const Programs& p, const std::string& scratch);

}  // namespace ferry::bench
