// ferry-bench on the Ceph RGW pair: the replicators between two real
// (throwaway, single-node) Ceph RGW 16.2 clusters, source region eu-west-1
// and destination eu-central-1 (see rgw_store.h for the scenarios).
//
// Per scenario, the source cluster starts and is filled once. Each run then
// gets a destination cluster of its own, started empty (a bucket created
// before the clock starts) and stopped after the run: no run inherits
// another's data, deleted objects waiting for RGW's lazy garbage collection,
// or a grown OSD block file (smoke runs share one destination cluster per
// scenario, a bucket per run). Tools run in interleaved rounds and the run
// with the median time counts, as on `large`.
//
// Tools: ferry as installed (no transfer settings, capabilities probed at
// start-up, default payload signing), ferry-unsigned (the same with
// payload_signing unsigned on both endpoints), rclone with defaults and
// tuned for the scenario, awscli. A run counts when the tool exits 0 and the
// destination's listing holds every source key with the source's size
// (RGW has no request log: no lag figures here). Besides the tool's own CPU
// and peak RSS, a row has the CPU the two clusters' radosgw and ceph-osd
// daemons used during the run (/proc/PID/stat).
#pragma once

#include <string>
#include <vector>

#include "bench/harness/bench.h"

namespace ferry::bench {

// The RGW pair's tool names for the --tool selection (`ferry` brings
// ferry-unsigned along).
std::vector<std::string> RgwTools(const std::vector<std::string>& tools);
// rclone tuned for a scenario: the part size and concurrency that suit the
// big objects of rgw-set, the transfers and checkers that suit rgw-small.
RcloneSettings RgwRcloneTuned(const std::string& scenario);
// ferry as installed; `unsigned_payload` sets payload_signing unsigned.
FerrySettings RgwFerrySettings(bool unsigned_payload);

// Runs `scenarios` (RGW ones) with `tools` (RgwTools names): adds their
// rows to report->rows and fills report->rgw. A harness failure (a cluster
// that does not start) becomes a failed row.
void RunRgwPair(const BenchOptions& opts, const std::vector<std::string>& scenarios,
                const std::vector<std::string>& tools, BenchReport* report);

// What ferryd's log says its start-up probe found, and whether that is
// what Ceph RGW 16.2 is known to answer (head_part_number=false,
// checksum_crc32c=false, etag_is_md5=true, uploads_encoded_undeclared=true).
struct ProbeSeen {
  std::string text;  // "dst: head_part_number=false, ...; src: ..."
  bool as_expected = false;
};
ProbeSeen ReadProbe(const std::string& ferryd_log);

}  // namespace ferry::bench
