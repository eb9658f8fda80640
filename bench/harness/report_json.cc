#include "bench/harness/report_json.h"

#include <fstream>

#include <nlohmann/json.hpp>

#include "bench/harness/rgw_report.h"
#include "bench/harness/rgw_store.h"

namespace ferry::bench {
namespace {

nlohmann::json RowJson(const Row& r) {
  nlohmann::json j = {{"scenario", r.scenario},
                      {"tool", r.tool},
                      {"ok", r.ok()},
                      {"error", r.error},
                      {"note", r.note},
                      {"command", r.command},
                      {"seconds", r.seconds},
                      {"runs", r.runs},
                      {"fastest_seconds", r.fastest_seconds},
                      {"slowest_seconds", r.slowest_seconds},
                      {"bytes", r.bytes},
                      {"objects", r.objects},
                      {"mb_per_s", r.mbps()},
                      {"objects_per_s", r.objects_per_second()},
                      {"cpu_seconds", r.cpu_seconds},
                      {"cpu_seconds_per_gb", r.cpu_per_gb()},
                      {"peak_rss_bytes", r.peak_rss},
                      {"simulators_cpu_seconds", r.sim_cpu_seconds},
                      {"destination_objects_written", r.dst_objects_written},
                      {"destination_bytes_in", r.dst_bytes_in}};
  if (r.radosgw_cpu_seconds >= 0) {
    j["radosgw_cpu_seconds"] = r.radosgw_cpu_seconds;
    j["ceph_osd_cpu_seconds"] = r.osd_cpu_seconds;
  }
  if (r.probe_as_expected) {
    j["probe"] = r.probe;
    j["probe_as_expected"] = *r.probe_as_expected;
  }
  if (r.lag) {
    j["lag_seconds"] = {{"count", r.lag->count},
                        {"p50", r.lag->p50},
                        {"p90", r.lag->p90},
                        {"p99", r.lag->p99},
                        {"max", r.lag->max}};
  }
  return j;
}

nlohmann::json RgwJson(const BenchReport& r) {
  const RgwReport& g = r.rgw;
  nlohmann::json j = {{"ran", g.ran},
                      {"not_run", g.not_run},
                      {"ceph_version", g.ceph_version},
                      {"date", g.date_utc},
                      {"load_before", g.load_before},
                      {"load_after", g.load_after},
                      {"total_seconds", g.total_seconds},
                      {"scenarios", g.scenario_descriptions},
                      {"rows", nlohmann::json::array()}};
  for (const Row& row : r.rows) {
    if (IsRgwScenario(row.scenario)) j["rows"].push_back(RowJson(row));
  }
  return j;
}

}  // namespace

void WriteJson(const BenchOptions& o, const BenchReport& r) {
  const std::string path = o.out_dir + "/results.json";
  const nlohmann::json old = nlohmann::json::parse(ReadWhole(path), nullptr, false);
  if (o.rgw_only && old.is_object() && old.contains("rows")) {
    nlohmann::json kept = old;
    kept["rgw"] = RgwJson(r);
    std::ofstream(path) << kept.dump(2) << "\n";
    return;
  }
  nlohmann::json j;
  j["machine"] = {{"cores", r.machine.cores},          {"cpu", r.machine.cpu_model},
                  {"ram_bytes", r.machine.ram_bytes},  {"kernel", r.machine.kernel},
                  {"date", r.machine.date_utc},        {"load_before", r.machine.load_before},
                  {"load_after", r.machine.load_after}};
  j["link"] = {{"latency_ms", o.link.latency_ms}, {"bandwidth_bps", o.link.bandwidth_bps}};
  j["smoke"] = o.smoke;
  j["rows"] = nlohmann::json::array();
  for (const Row& row : r.rows) {
    if (!IsRgwScenario(row.scenario)) j["rows"].push_back(RowJson(row));
  }
  j["sweep"] = nlohmann::json::array();
  for (const SweepPoint& p : r.sweep) j["sweep"].push_back(RowJson(p.row));
  // Not run this time (--no-rgw): the earlier figures stay, as in RESULTS.md.
  const bool rgw_skipped = !r.rgw.ran && r.rgw.not_run.empty();
  j["rgw"] = rgw_skipped && old.is_object() && old.contains("rgw") ? old["rgw"] : RgwJson(r);
  std::ofstream(path) << j.dump(2) << "\n";
}

}  // namespace ferry::bench
