// Internals of ferry-bench shared by the scenario runs (bench.cc) and the
// sweep (sweep.cc): one scenario's regions and the runs made against them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "bench/harness/bench.h"
#include "bench/harness/sim_region.h"

namespace ferry::bench {

void Say(const std::string& line);  // progress on stderr

// One scenario: its source region (filled at Start) and, for `list`, the
// preloaded destination shared by every run.
struct Scenario {
  Scenario(const BenchOptions& o, Workload wl, std::string d)
      : opts(o), w(std::move(wl)), dir(std::move(d)) {}

  const BenchOptions& opts;
  Workload w;
  std::string dir;
  bool tls = false;
  TlsFiles tls_files;
  std::unique_ptr<SimRegion> src;
  std::unique_ptr<SimRegion> shared_dst;  // list: preloaded once, never written

  RegionOptions Region(const std::string& name) const;
  Status Start();
  // A destination for one run: a fresh, empty region (returned), or null
  // when the preloaded shared one is to be used.
  Result<std::unique_ptr<SimRegion>> Destination();
};

// W (hash=false) or W with ferry's per-part hashing (hash=true).
Row MeasureW(Scenario& sc, bool hash);
// One run of `tool` (ferry, rclone-default, rclone-tuned, awscli) against a
// fresh destination, judged from the destination's request log.
Row RunTool(Scenario& sc, const std::string& tool, const FerrySettings& fs);
void LogRow(const Row& r);
// The run with the median time, carrying the spread of all of them; the
// first failed run when any failed (a failure is never averaged away).
// REQUIRES: at least one run.
Row MedianRow(std::vector<Row> runs);

}  // namespace ferry::bench
