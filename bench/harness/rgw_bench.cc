#include "bench/harness/rgw_bench.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

#include "bench/harness/rgw_store.h"
#include "bench/harness/scenario_run.h"

namespace ferry::bench {
namespace {

using Clock = std::chrono::steady_clock;

// What Ceph RGW 16.2 answers to each probed capability (docs: /work/shared/RGW.md).
const std::map<std::string, std::string>& ExpectedProbe() {
  static const std::map<std::string, std::string> m = {{"head_part_number", "false"},
                                                       {"checksum_crc32c", "false"},
                                                       {"etag_is_md5", "true"},
                                                       {"uploads_encoded_undeclared", "true"}};
  return m;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

void LogRgwRow(const Row& r) {
  const std::string s = r.scenario + " " + r.tool + ": ";
  if (!r.ok()) {
    Say(s + "FAILED: " + r.error);
    return;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "%.2f s, %.1f MB/s, %.0f objects/s, cpu %.2f s (%.2f s/GB), rss %.0f MiB; "
                "radosgw %.1f s, ceph-osd %.1f s",
                r.seconds, r.mbps(), r.objects_per_second(), r.cpu_seconds, r.cpu_per_gb(),
                static_cast<double>(r.peak_rss) / kMiB, r.radosgw_cpu_seconds, r.osd_cpu_seconds);
  Say(s + buf + (r.probe.empty() ? "" : "; probe: " + r.probe));
}

struct RgwScenario {
  const BenchOptions& opts;
  Workload w;
  std::string dir;
  std::unique_ptr<RgwStore> src;
  // Smoke runs only: one destination cluster for every run, a bucket each
  // (tiny data; a cluster's start and stop would be most of a run's cost).
  std::unique_ptr<RgwStore> shared_dst = nullptr;
  int buckets = 0;
};

// One run of `tool` into an empty bucket of a destination cluster of its
// own (smoke runs: of the scenario's shared one).
Row RunOne(RgwScenario& sc, const std::string& tool) {
  Row row;
  row.scenario = sc.w.name;
  row.tool = tool;
  row.bytes = sc.w.bytes();
  row.objects = sc.w.objects();
  std::unique_ptr<RgwStore> own;
  std::unique_ptr<RgwStore>& slot = sc.opts.smoke ? sc.shared_dst : own;
  if (!slot) {
    auto started = RgwStore::Start(kRgwDestinationRegion);
    if (!started.ok()) {
      row.error = "destination cluster: " + started.status().ToString();
      return row;
    }
    slot = std::move(*started);
    if (Status warm = slot->WarmUp(); !warm.ok()) {
      row.error = warm.ToString();
      return row;
    }
  }
  RgwStore* dst = slot.get();
  RegionPair pair;
  pair.dst_bucket = sc.opts.smoke ? "dst-" + std::to_string(++sc.buckets) : "dst";
  if (Status made = dst->CreateBucket(pair.dst_bucket); !made.ok()) {
    row.error = made.ToString();
    return row;
  }
  pair.src_store = sc.src->endpoint();
  pair.dst_store = dst->endpoint();
  const std::string dir = sc.dir + "/" + tool;
  const double radosgw_before = sc.src->RadosgwCpuSeconds() + dst->RadosgwCpuSeconds();
  const double osd_before = sc.src->OsdCpuSeconds() + dst->OsdCpuSeconds();
  ToolRun run;
  const Programs& p = sc.opts.programs;
  if (tool == "ferry" || tool == "ferry-unsigned") {
    run = RunFerry(p, pair, sc.w, RgwFerrySettings(tool == "ferry-unsigned"), dir,
                   sc.opts.run_timeout);
  } else if (tool == "rclone-default" || tool == "rclone-tuned") {
    RcloneSettings rs = RgwRcloneTuned(sc.w.name);
    rs.tuned = tool == "rclone-tuned";
    run = RunRclone(p, pair, rs, dir, sc.opts.run_timeout);
  } else {
    run = RunAwscli(p, pair, dir, sc.opts.run_timeout);
  }
  row.radosgw_cpu_seconds = sc.src->RadosgwCpuSeconds() + dst->RadosgwCpuSeconds() - radosgw_before;
  row.osd_cpu_seconds = sc.src->OsdCpuSeconds() + dst->OsdCpuSeconds() - osd_before;
  row.command = run.command;
  row.error = run.error;
  row.seconds = run.usage.wall_seconds;
  row.cpu_seconds = run.usage.cpu_seconds();
  row.peak_rss = run.usage.peak_rss_bytes;
  if (tool.starts_with("ferry")) {
    ProbeSeen probe = ReadProbe(run.log_path);
    row.probe = probe.text;
    row.probe_as_expected = probe.as_expected;
  }
  if (!row.error.empty()) {
    for (RgwStore* s : {sc.src.get(), dst}) {
      if (Status h = s->Healthy(); !h.ok()) row.error += "; " + h.ToString();
    }
    return row;
  }
  auto check = dst->Check(pair.dst_bucket, sc.w);
  if (!check.ok()) {
    row.error = check.status().ToString();
    return row;
  }
  row.dst_objects_written = check->matching;
  if (check->matching != sc.w.objects()) {
    row.error = "destination lists " + std::to_string(check->matching) + " of " +
                std::to_string(sc.w.objects()) + " source objects with their size (" +
                check->first_problem + ")";
  }
  if (check->extra > 0) {
    row.note = std::to_string(check->extra) + " keys at the destination not in the source";
  }
  return row;
}

}  // namespace

std::vector<std::string> RgwTools(const std::vector<std::string>& tools) {
  std::vector<std::string> out;
  for (const std::string& t : tools.empty() ? ToolNames() : tools) {
    out.push_back(t);
    if (t == "ferry") out.push_back("ferry-unsigned");
  }
  return out;
}

RcloneSettings RgwRcloneTuned(const std::string& scenario) {
  RcloneSettings s;
  if (scenario == "rgw-small") {
    s.transfers = 32;
    s.checkers = 64;
    s.upload_concurrency = 0;
    s.chunk_size = 0;
  } else {
    s.transfers = 16;
    s.checkers = 0;
    s.upload_concurrency = 8;
    s.chunk_size = 16 * kMiB;
  }
  return s;
}

FerrySettings RgwFerrySettings(bool unsigned_payload) {
  FerrySettings s;
  s.ferryd_defaults = true;
  s.probe_capabilities = true;
  s.payload_signing = unsigned_payload ? "unsigned" : "";
  return s;
}

ProbeSeen ReadProbe(const std::string& ferryd_log) {
  // "endpoint dst (s3://...): probed: head_part_number=false, etag_is_md5=true (notes)"
  std::ifstream in(ferryd_log);
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, std::string>>>> by_endpoint;
  for (std::string line; std::getline(in, line);) {
    const auto at = line.find("): probed: ");
    const auto ep = line.find("endpoint ");
    if (at == std::string::npos || ep == std::string::npos || ep > at) continue;
    by_endpoint.push_back({line.substr(ep + 9, line.find(' ', ep + 9) - (ep + 9)), {}});
    std::string values = line.substr(at + 11);
    values = values.substr(0, values.find(" ("));
    for (std::size_t from = 0; from < values.size();) {
      std::size_t end = values.find(", ", from);
      if (end == std::string::npos) end = values.size();
      const std::string kv = values.substr(from, end - from);
      if (auto eq = kv.find('='); eq != std::string::npos) {
        by_endpoint.back().second.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
      }
      from = end + 2;
    }
  }
  std::sort(by_endpoint.begin(), by_endpoint.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  ProbeSeen seen;
  if (by_endpoint.empty()) {
    seen.text = "no probe in ferryd's log";
    return seen;
  }
  seen.as_expected = true;
  std::map<std::string, bool> decided;
  for (const auto& [name, values] : by_endpoint) {
    if (!seen.text.empty()) seen.text += "; ";
    seen.text += name + ":";
    for (const auto& [cap, value] : values) {
      seen.text += " " + cap + "=" + value;
      auto want = ExpectedProbe().find(cap);
      // "undecided": that endpoint could not tell (a source without
      // multipart objects cannot show head_part_number); the other may.
      if (want == ExpectedProbe().end() || value == "undecided") continue;
      decided[cap] = true;
      if (value != want->second) seen.as_expected = false;
    }
  }
  // Every capability must have been decided by one endpoint or the other.
  if (decided.size() != ExpectedProbe().size()) seen.as_expected = false;
  return seen;
}

void RunRgwPair(const BenchOptions& opts, const std::vector<std::string>& scenarios,
                const std::vector<std::string>& tools, BenchReport* report) {
  const auto started = Clock::now();
  RgwReport* out = &report->rgw;
  out->ran = true;
  out->ceph_version = CephVersion(opts.work_dir);
  for (const std::string& name : scenarios) {
    auto w = MakeRgwWorkload(name, opts.smoke);
    if (!w.ok()) {
      Row r;
      r.scenario = name;
      r.tool = "setup";
      r.error = w.status().ToString();
      report->rows.push_back(std::move(r));
      continue;
    }
    out->scenario_descriptions.push_back(w->name + ": " + w->description);
    RgwScenario sc{opts, *w, opts.work_dir + "/" + name, nullptr};
    std::filesystem::create_directories(sc.dir);
    const auto t = Clock::now();
    Status ready = Status::Ok();
    auto src = RgwStore::Start(kRgwSourceRegion);
    if (!src.ok()) ready = src.status().Annotate("source cluster");
    if (ready.ok()) {
      sc.src = std::move(*src);
      ready = sc.src->CreateBucket("src");
    }
    if (ready.ok()) ready = sc.src->Fill("src", sc.w, 16).Annotate("filling the source");
    if (ready.ok()) {  // what every run is judged against must be there
      auto listed = sc.src->Check("src", sc.w);
      if (!listed.ok()) {
        ready = listed.status();
      } else if (listed->matching != sc.w.objects() || listed->extra != 0) {
        ready = Status::Error(ErrorClass::kFatal,
                              "the filled source lists " + std::to_string(listed->keys) +
                                  " keys, " + std::to_string(listed->matching) + " of " +
                                  std::to_string(sc.w.objects()) + " as written (" +
                                  listed->first_problem + ")");
      }
    }
    if (!ready.ok()) {
      Row r;
      r.scenario = name;
      r.tool = "setup";
      r.error = ready.ToString();
      LogRgwRow(r);
      report->rows.push_back(std::move(r));
      continue;
    }
    Say(name + ": source ready on " + sc.src->Describe() + " (" + std::to_string(sc.w.objects()) +
        " objects, " + std::to_string(sc.w.bytes() / kMiB) + " MiB) in " +
        Seconds(std::chrono::duration<double>(Clock::now() - t).count()));
    // rgw-small's runs are long and its targets are ratios of 1.5x and
    // more: at most two rounds there.
    const int rounds = std::max(1, name == "rgw-small" ? std::min(opts.rounds, 2) : opts.rounds);
    std::map<std::string, std::vector<Row>> runs;
    for (int round = 1; round <= rounds; ++round) {
      if (rounds > 1) {
        Say(name + ": round " + std::to_string(round) + " of " + std::to_string(rounds));
      }
      for (const std::string& tool : tools) {
        Row r = RunOne(sc, tool);
        LogRgwRow(r);
        runs[tool].push_back(std::move(r));
      }
    }
    for (const std::string& tool : tools) report->rows.push_back(MedianRow(std::move(runs[tool])));
  }
  out->total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
}

}  // namespace ferry::bench
