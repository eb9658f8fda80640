// WriteReports: results.json (every row) and the Markdown report.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/harness/bench.h"
#include "bench/harness/report_format.h"
#include "bench/harness/report_json.h"
#include "bench/harness/rgw_report.h"
#include "bench/harness/rgw_store.h"
#include "bench/harness/sweep.h"

namespace ferry::bench {
namespace {

// Throughput for copy scenarios, source keys reconciled per second for list.
double Rate(const Row& r) { return r.bytes > 0 ? r.mbps() : r.objects_per_second(); }

struct Target {
  std::string name;
  std::string measured;
  std::string verdict;  // met / missed / not measured
};

std::vector<Target> Targets(const BenchOptions& o, const BenchReport& r) {
  std::vector<Target> t;
  const Row* fl = Find(r, "large", "ferry");
  const Row* rt = Find(r, "large", "rclone-tuned");
  const Row* rd = Find(r, "large", "rclone-default");
  const Row* wl = Find(r, "large", "W");
  const Row* wh = Find(r, "large", "W+hash");
  const Row* tls = Find(r, "large", "ferry-tls");
  {
    bool m = fl && rt;
    t.push_back(
        {"large: ≥ 2× rclone tuned",
         m ? Fmt(fl->mbps()) + " vs " + Fmt(rt->mbps()) + " MB/s = " + Ratio(fl->mbps(), rt->mbps())
           : "",
         Verdict(m, m && fl->mbps() >= 2 * rt->mbps())});
    m = fl && wl;
    t.push_back({"large: ≥ 0.8 × W",
                 m ? Fmt(fl->mbps()) + " vs W " + Fmt(wl->mbps()) +
                         " MB/s = " + Ratio(fl->mbps(), wl->mbps())
                   : "",
                 Verdict(m, m && fl->mbps() >= 0.8 * wl->mbps())});
  }
  for (const Row* peer : {rd, rt}) {
    bool m = fl && peer && fl->cpu_per_gb() > 0 && peer->cpu_per_gb() > 0;
    t.push_back(
        {"CPU-seconds per GB ≤ 0.4× " + (peer ? peer->tool : std::string("rclone")) + " (large)",
         m ? Fmt(fl->cpu_per_gb(), 2) + " vs " + Fmt(peer->cpu_per_gb(), 2) +
                 " s/GB = " + Ratio(fl->cpu_per_gb(), peer->cpu_per_gb())
           : "",
         Verdict(m, m && fl->cpu_per_gb() <= 0.4 * peer->cpu_per_gb())});
  }
  {
    const Row* fs = Find(r, "small", "ferry");
    const Row* sd = Find(r, "small", "rclone-default");
    const Row* st = Find(r, "small", "rclone-tuned");
    bool m = fs && sd;
    t.push_back({"small: ≥ 3× rclone defaults",
                 m ? Fmt(fs->objects_per_second(), 0) + " vs " + Fmt(sd->objects_per_second(), 0) +
                         " objects/s = " + Ratio(fs->objects_per_second(), sd->objects_per_second())
                   : "",
                 Verdict(m, m && fs->objects_per_second() >= 3 * sd->objects_per_second())});
    m = fs && st;
    t.push_back({"small: ≥ 1.5× rclone tuned",
                 m ? Fmt(fs->objects_per_second(), 0) + " vs " + Fmt(st->objects_per_second(), 0) +
                         " objects/s = " + Ratio(fs->objects_per_second(), st->objects_per_second())
                   : "",
                 Verdict(m, m && fs->objects_per_second() >= 1.5 * st->objects_per_second())});
  }
  {
    const Row* fli = Find(r, "list", "ferry");
    bool m = fli != nullptr;
    t.push_back({"list: reconcile with peak RSS < 256 MiB",
                 m ? Fmt(static_cast<double>(fli->peak_rss) / kMiB, 0) + " MiB for " +
                         std::to_string(fli->objects) + " keys in " + Fmt(fli->seconds) + " s"
                   : "",
                 Verdict(m, m && fli->peak_rss < 256 * kMiB)});
  }
  {
    bool m = wl && wh;
    t.push_back({"hashing and verification cost ≤ 5% of throughput",
                 m ? "direct client hashing as ferry does here (XXH3-128 per part; mirrored "
                     "layout, no MD5): " +
                         Fmt(wh->mbps()) + " vs " + Fmt(wl->mbps()) +
                         " MB/s without = " + Fmt(100.0 * (1 - wh->mbps() / wl->mbps())) + "% less"
                   : "",
                 Verdict(m, m && wh->mbps() >= 0.95 * wl->mbps())});
  }
  {
    bool m = fl && tls;
    const Row* wt = Find(r, "large", "W-tls");
    std::string limit;
    if (wt && wl && wt->mbps() > 0 && wl->mbps() > 0) {
      limit = "; the simulator pair itself: W-tls " + Fmt(wt->mbps()) + " vs W " + Fmt(wl->mbps()) +
              " MB/s = " + Ratio(wt->mbps(), wl->mbps());
    }
    t.push_back({"TLS on both ends ≥ 0.65× plain HTTP (ferry, large)",
                 m ? Fmt(tls->mbps()) + " vs " + Fmt(fl->mbps()) +
                         " MB/s = " + Ratio(tls->mbps(), fl->mbps()) + limit
                   : "",
                 Verdict(m, m && tls->mbps() >= 0.65 * fl->mbps())});
  }
  {
    const double bound =
        64.0 * kMiB + 1.25 * o.ferry.parts_in_flight * static_cast<double>(o.ferry.part_size);
    std::uint64_t peak = 0;
    std::string worst;
    for (const Row& row : r.rows) {
      if (row.ok() && !IsRgwScenario(row.scenario) &&
          (row.tool == "ferry" || row.tool == "ferry-tls") && row.peak_rss > peak) {
        peak = row.peak_rss;
        worst = row.scenario + "/" + row.tool;
      }
    }
    t.push_back(
        {"peak RSS ≤ 64 MiB + 1.25 × parts in flight × part size (= " + Fmt(bound / kMiB, 0) +
             " MiB)",
         peak ? Fmt(static_cast<double>(peak) / kMiB, 0) + " MiB (largest, " + worst + ")" : "",
         Verdict(peak > 0, static_cast<double>(peak) <= bound)});
  }
  return t;
}

void WriteTables(std::ostream& md, const BenchReport& r) {
  md << "## Results\n\n"
     << "| scenario | tool | time s | runs (time range s) | MB/s | objects/s | × W | CPU s | "
        "CPU s/GB | peak RSS MiB | simulators CPU s | status |\n"
     << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const Row& row : r.rows) {
    if (IsRgwScenario(row.scenario)) continue;  // their own section
    const Row* w = Find(r, row.scenario, "W");
    std::string status = row.ok() ? "ok" : row.error == "n/a" ? "n/a" : "FAILED";
    std::string runs = std::to_string(row.runs);
    if (row.ok() && row.runs > 1) {
      runs += " (" + Fmt(row.fastest_seconds, 2) + "–" + Fmt(row.slowest_seconds, 2) + ")";
    }
    md << "| " << row.scenario << " | " << row.tool << " | "
       << (row.ok() ? Fmt(row.seconds, 2) : "—") << " | " << runs << " | "
       << (row.ok() && row.bytes ? Fmt(row.mbps()) : "—") << " | "
       << (row.ok() ? Fmt(row.objects_per_second(), 0) : "—") << " | "
       << (row.ok() && w && row.tool != "W" ? Fmt(Rate(row) / Rate(*w), 2) : "—") << " | "
       << (row.ok() ? Fmt(row.cpu_seconds, 2) : "—") << " | "
       << (row.ok() ? Fmt(row.cpu_per_gb(), 2) : "—") << " | "
       << (row.ok() && row.peak_rss ? Fmt(static_cast<double>(row.peak_rss) / kMiB, 0) : "—")
       << " | " << (row.ok() ? Fmt(row.sim_cpu_seconds, 1) : "—") << " | " << status << " |\n";
  }
  md << "\nMB/s are 10^6 bytes per second of object data; objects/s for `list` are source keys "
        "reconciled per second. Where a row has several runs (`large`, run in interleaved "
        "rounds), its figures are those of the run with the median time. `× W` compares with the "
        "direct client on the same scenario. CPU "
        "is the tool's own processes (wait4: user + system seconds), peak RSS their VmHWM "
        "(/proc/PID/status, sampled while they run); for awscli the CPU of its two steps "
        "added and the larger peak. `simulators CPU s`: both s3sim regions during the run.\n\n";
  bool failures = false;
  for (const Row& row : r.rows) {
    if (row.ok() || row.error == "n/a" || IsRgwScenario(row.scenario)) continue;
    if (!failures) md << "Failures:\n\n";
    failures = true;
    md << "- " << row.scenario << "/" << row.tool << ": `" << row.error.substr(0, 400) << "`\n";
  }
  if (failures) md << "\n";

  md << "## Ratios ferry / peer\n\n"
     << "| scenario | metric | vs rclone defaults | vs rclone tuned | vs awscli |\n"
     << "|---|---|---:|---:|---:|\n";
  for (const std::string& sc : ScenarioNames()) {
    const Row* f = Find(r, sc, "ferry");
    if (!f) continue;
    auto cell = [&](const std::string& peer, bool cpu) {
      const Row* p = Find(r, sc, peer);
      if (!p) return std::string("—");
      if (cpu) return Ratio(f->cpu_per_gb(), p->cpu_per_gb());
      return Ratio(Rate(*f), Rate(*p));
    };
    md << "| " << sc << " | " << (f->bytes ? "throughput" : "keys/s") << " | "
       << cell("rclone-default", false) << " | " << cell("rclone-tuned", false) << " | "
       << cell("awscli", false) << " |\n";
    if (f->bytes) {
      md << "| " << sc << " | CPU s/GB (lower is better) | " << cell("rclone-default", true)
         << " | " << cell("rclone-tuned", true) << " | " << cell("awscli", true) << " |\n";
    }
  }
  md << "\n## Replication lag (ferry)\n\n"
     << "Per object: the destination's request-log time of its final write (PutObject or "
        "CompleteMultipartUpload, status 200) minus the moment ferryd started; every source "
        "object existed at that moment. Seconds.\n\n"
     << "| scenario | objects | p50 | p90 | p99 | max |\n|---|---:|---:|---:|---:|---:|\n";
  for (const Row& row : r.rows) {
    if (!row.lag) continue;
    md << "| " << row.scenario << (row.tool == "ferry" ? "" : " (" + row.tool + ")") << " | "
       << row.lag->count << " | " << Fmt(row.lag->p50, 2) << " | " << Fmt(row.lag->p90, 2) << " | "
       << Fmt(row.lag->p99, 2) << " | " << Fmt(row.lag->max, 2) << " |\n";
  }
  md << "\n";
}

}  // namespace

Status WriteReports(const BenchOptions& o, const BenchReport& r) {
  std::filesystem::create_directories(o.out_dir);
  std::string md_path = o.markdown_path.empty() ? o.out_dir + "/RESULTS.md" : o.markdown_path;
  const std::string csv = o.out_dir + "/sweep.csv";
  const std::string png = o.out_dir + "/sweep.png";
  if (!r.sweep.empty())
    FERRY_RETURN_IF_ERROR(WriteSweepFiles(o.programs, r.sweep, csv, png, o.link));

  WriteJson(o, r);

  std::filesystem::create_directories(std::filesystem::path(md_path).parent_path());
  const std::string existing = ReadWhole(md_path);
  // The RGW section: this run's, or the earlier report's when the pair was
  // not run this time (--no-rgw): regenerating one part keeps the other.
  std::string rgw_section, rgw_header;
  if (r.rgw.ran || !r.rgw.not_run.empty()) {
    std::ostringstream sec;
    WriteRgwSection(sec, o, r);
    rgw_section = sec.str();
  } else if (rgw_section = ExtractRgwSection(existing); !rgw_section.empty()) {
    rgw_header =
        "- Ceph RGW pair section: kept from the earlier report (not run this time); its "
        "own date and load average are in it";
  }
  if (o.rgw_only && existing.find("\n## Results") != std::string::npos) {
    std::ofstream out(md_path);
    out << SpliceRgwSection(existing, rgw_section, RgwHeaderLine(o, r));
    if (!out) return Status::Error(ErrorClass::kFatal, "cannot write " + md_path);
    return Status::Ok();
  }
  std::ofstream md(md_path);
  const MachineInfo& m = r.machine;
  md << "# ferry-bench results\n\n"
     << "Generated by `ferry-bench`; regenerate with `bench/run` (do not edit by hand).\n\n"
     << "- Command: `" << o.command_line << "`\n"
     << "- Date: " << m.date_utc << "; whole run " << Fmt(r.total_seconds / 60, 1) << " min\n"
     << "- Machine: " << m.cores << " cores, " << m.cpu_model << ", "
     << Fmt(static_cast<double>(m.ram_bytes) / (1ull << 30), 1) << " GiB RAM, " << m.kernel << "\n"
     << "- Load average (1/5/15 min) before: " << m.load_before << "; after: " << m.load_after
     << " (other work on the machine makes figures noisy)\n"
     << "- Peers: " << (m.rclone_version.empty() ? "rclone not found" : m.rclone_version) << "; "
     << (m.aws_version.empty() ? "awscli not found" : m.aws_version) << "\n";
  if (!rgw_header.empty()) md << rgw_header << "\n";
  if (o.rgw_only) {  // no earlier report to keep the s3sim part of
    md << "- Only the Ceph RGW pair ran (--rgw)\n\n" << rgw_section;
    if (!md) return Status::Error(ErrorClass::kFatal, "cannot write " + md_path);
    return Status::Ok();
  }
  md << "- Link (each s3sim region): " << o.link.latency_ms << " ms before every response, "
     << (o.link.bandwidth_bps ? Fmt(o.link.bandwidth_bps / 1e6, 0) + " MB/s" : "unlimited")
     << " per connection each direction; " << o.sim_threads << " threads per simulator; "
     << "destination bodies "
     << (o.dest_data_dir.empty() ? "in RAM" : "on disk (" + o.dest_data_dir + ")")
     << (o.dest_keep_up_to ? " up to " + Fmt(static_cast<double>(*o.dest_keep_up_to) / kMiB, 0) +
                                 " MiB" + " (larger ones are checked, MD5 and CRC32C, then dropped)"
                           : "")
     << "; source objects synthetic (generated on read)\n"
     << "- ferry: " << o.ferry.Describe() << ", max_objects_in_flight "
     << o.ferry.max_objects_in_flight << " (TLS run: payload_signing auto)\n"
     << "- rclone tuned: `" << RcloneFlags([&] {
          RcloneSettings s = o.rclone_tuned;
          s.tuned = true;
          return s;
        }())
     << "`; rclone defaults: `" << RcloneFlags(RcloneSettings()) << "`\n"
     << "- awscli: `aws s3 sync` source → local directory, then `aws s3 sync` → destination "
        "(defaults), timed as a whole\n\n"
     << "## Scenarios\n\n";
  for (const std::string& d : r.scenario_descriptions) md << "- " << d << "\n";
  md << "\n";
  WriteTables(md, r);
  md << "## Targets\n\n| target | measured | verdict |\n|---|---|---|\n";
  for (const Target& t : Targets(o, r)) {
    md << "| " << t.name << " | " << (t.measured.empty() ? "—" : t.measured) << " | " << t.verdict
       << " |\n";
  }
  md << "\n";
  if (r.best) {
    std::string rel =
        std::filesystem::relative(png, std::filesystem::path(md_path).parent_path()).string();
    std::string rel_csv =
        std::filesystem::relative(csv, std::filesystem::path(md_path).parent_path()).string();
    md << "## Sweep\n\n"
       << r.sweep.size() << " ferry runs on the sweep workload; best " << Fmt(r.best->row.mbps())
       << " MB/s with " << r.best->settings.Describe() << ":\n\n```yaml\n"
       << ConfigSnippet(r.best->settings, o.link) << "```\n\n"
       << "![throughput against settings](" << rel << ")\n\nEvery point: [" << rel_csv << "]("
       << rel_csv << ")\n\n";
  }
  md << rgw_section << (rgw_section.empty() ? "" : "\n") << "## Method\n\n"
     << "Each scenario starts a source s3sim region holding synthetic objects, measures W with "
        "the direct client (ranged GETs into memory, UploadPart/PUT out of it, no hashing, no "
        "HEADs; for `list` the two paged listings), then runs each tool against a fresh "
        "destination region (for `list`, one destination preloaded with the same objects, so "
        "nothing is copied). A run counts only if the tool exits 0 and the destination's "
        "request log shows every object written (none for `list`) and at least the workload's "
        "bytes received. Time is the tool's wall time from spawn to exit, start-up included. "
        "ferry runs `ferryd --once` with a fresh state directory. The Ceph RGW pair's method "
        "is in its section.\n";
  if (!md) return Status::Error(ErrorClass::kFatal, "cannot write " + md_path);
  return Status::Ok();
}

}  // namespace ferry::bench
