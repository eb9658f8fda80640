// results.json: every row of a run (the Ceph RGW pair's under "rgw"), the
// sweep's points and the machine, for tools that read the figures.
#pragma once

#include "bench/harness/bench.h"

namespace ferry::bench {

// Writes OUT/results.json. A run of the RGW pair alone (--rgw) replaces only
// "rgw" in an existing file and keeps the rest; a run without it (--no-rgw)
// keeps the existing "rgw".
void WriteJson(const BenchOptions& o, const BenchReport& r);

}  // namespace ferry::bench
