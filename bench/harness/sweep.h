// ferry-bench --sweep: ferry on the `sweep` workload (single-part sources,
// so ferry chooses the part size) over a grid of part size x parts in
// flight x connections per endpoint. The best point becomes a config
// snippet; every point goes to sweep.csv and a gnuplot PNG of throughput
// against the settings.
#pragma once

#include <string>
#include <vector>

#include "bench/harness/bench.h"

namespace ferry::bench {

// The grid (smaller for smoke runs).
std::vector<FerrySettings> SweepGrid(const FerrySettings& base, bool smoke);
// Runs the grid; fills report->sweep and report->best.
Status RunSweep(const BenchOptions& opts, BenchReport* report);
// "40 ms, 100 MB/s per connection".
std::string LinkText(const LinkSpec& link);
// The best settings as a ferryd configuration snippet.
std::string ConfigSnippet(const FerrySettings& s, const LinkSpec& link);
// sweep.csv and sweep.png (gnuplot) next to it.
Status WriteSweepFiles(const Programs& p, const std::vector<SweepPoint>& points,
                       const std::string& csv_path, const std::string& png_path,
                       const LinkSpec& link);

}  // namespace ferry::bench
