#include "bench/harness/rgw_report.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

#include "bench/harness/report_format.h"
#include "bench/harness/rgw_bench.h"
#include "bench/harness/rgw_store.h"

namespace ferry::bench {
namespace {

std::string Mib(std::uint64_t bytes) { return Fmt(static_cast<double>(bytes) / kMiB, 0); }

// Share of the machine's CPU the tool and the RGW daemons used together.
double Busy(const Row& row, unsigned cores) {
  if (row.seconds <= 0 || cores == 0 || row.cpu_seconds < 0 || row.radosgw_cpu_seconds < 0) {
    return -1;
  }
  return 100 * (row.cpu_seconds + row.radosgw_cpu_seconds + row.osd_cpu_seconds) /
         (row.seconds * cores);
}

struct Target {
  std::string name, measured, verdict;
};

// `v` with `decimals`, or more when fewer would put it on the other side
// of `limit` than it is (1.4965 against 1.5 is "1.497", not "1.50").
std::string FmtAgainst(double v, int decimals, double limit) {
  std::string s = Fmt(v, decimals);
  for (int d = decimals + 1; d <= 6; ++d) {
    const double shown = std::strtod(s.c_str(), nullptr);
    if ((shown >= limit) == (v >= limit) && (shown <= limit) == (v <= limit)) break;
    s = Fmt(v, d);
  }
  return s;
}

// A "≤ limit CPU-s/GB" target for one row.
Target CpuTarget(const std::string& name, const Row* row, double limit) {
  const bool m = row && row->cpu_per_gb() >= 0;
  return {name, m ? FmtAgainst(row->cpu_per_gb(), 2, limit) + " CPU-s/GB" : "",
          Verdict(m, m && row->cpu_per_gb() <= limit)};
}

// An "a ≥ factor × b" target on throughput (MB/s) or objects/s.
Target RateTarget(const std::string& name, const Row* a, const Row* b, double factor,
                  bool objects) {
  const bool m = a && b;
  if (!m || a->seconds <= 0 || b->seconds <= 0) return {name, "", Verdict(false, false)};
  const double x = objects ? a->objects_per_second() : a->mbps();
  const double y = objects ? b->objects_per_second() : b->mbps();
  return {name,
          Fmt(x, objects ? 0 : 1) + " vs " + Fmt(y, objects ? 0 : 1) +
              (objects ? " objects/s = " : " MB/s = ") + FmtAgainst(x / y, 2, factor) + "×",
          Verdict(true, x >= factor * y)};
}

std::vector<Target> Targets(const BenchReport& r) {
  const Row* f = Find(r, "rgw-set", "ferry");
  const Row* fu = Find(r, "rgw-set", "ferry-unsigned");
  std::vector<Target> t;
  t.push_back(CpuTarget("rgw-set: ferry ≤ 1.5 CPU-s/GB with payload_signing unsigned", fu, 1.5));
  t.push_back(CpuTarget("rgw-set: ferry ≤ 2.2 CPU-s/GB with defaults", f, 2.2));
  {
    const bool m = f && f->peak_rss > 0;
    const double mib = static_cast<double>(f ? f->peak_rss : 0) / kMiB;
    t.push_back({"rgw-set: ferry peak RSS ≤ 256 MiB with default settings",
                 m ? FmtAgainst(mib, 0, 256) + " MiB" : "", Verdict(m, m && mib <= 256)});
  }
  t.push_back(RateTarget("rgw-set: ferry (defaults) throughput ≥ 1.3× rclone tuned", f,
                         Find(r, "rgw-set", "rclone-tuned"), 1.3, false));
  const Row* s = Find(r, "rgw-small", "ferry");
  t.push_back(RateTarget("rgw-small: ferry objects/s ≥ 2.5× rclone defaults", s,
                         Find(r, "rgw-small", "rclone-default"), 2.5, true));
  t.push_back(RateTarget("rgw-small: ferry objects/s ≥ 1.5× rclone tuned", s,
                         Find(r, "rgw-small", "rclone-tuned"), 1.5, true));
  t.push_back(CpuTarget("rgw-small: ferry ≤ 6 CPU-s/GB", s, 6));
  return t;
}

void WriteRows(std::ostream& md, const BenchReport& r) {
  md << "| scenario | tool | time s | runs (time range s) | MB/s | objects/s | CPU s | CPU s/GB | "
        "peak RSS MiB | radosgw CPU s | ceph-osd CPU s | machine busy % | status |\n"
     << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  for (const Row& row : r.rows) {
    if (!IsRgwScenario(row.scenario)) continue;
    const bool ok = row.ok();
    std::string runs = std::to_string(row.runs);
    if (ok && row.runs > 1) {
      runs += " (" + Fmt(row.fastest_seconds, 2) + "–" + Fmt(row.slowest_seconds, 2) + ")";
    }
    md << "| " << row.scenario << " | " << row.tool << " | " << (ok ? Fmt(row.seconds, 2) : "—")
       << " | " << runs << " | " << (ok ? Fmt(row.mbps()) : "—") << " | "
       << (ok ? Fmt(row.objects_per_second(), 0) : "—") << " | "
       << (ok ? Fmt(row.cpu_seconds, 2) : "—") << " | " << (ok ? Fmt(row.cpu_per_gb(), 2) : "—")
       << " | " << (ok && row.peak_rss ? Mib(row.peak_rss) : "—") << " | "
       << (ok ? Fmt(row.radosgw_cpu_seconds, 1) : "—") << " | "
       << (ok ? Fmt(row.osd_cpu_seconds, 1) : "—") << " | "
       << (ok ? Fmt(Busy(row, r.machine.cores), 0) : "—") << " | " << (ok ? "ok" : "FAILED")
       << " |\n";
  }
  md << "\nMB/s are 10^6 bytes per second of object data. Each row is the run with the median "
        "time of its rounds (interleaved: every tool once per round). CPU and peak RSS are the "
        "tool's own processes, as in the s3sim part. `radosgw CPU s` and `ceph-osd CPU s`: both "
        "clusters' daemons during the run (/proc/PID/stat); `machine busy %`: the tool's and "
        "those daemons' CPU over time × "
     << r.machine.cores
     << " cores (the monitors, the harness and anything else on the machine not counted). "
        "Replication lag is not measured here: RGW keeps no request log the bench can read.\n\n";
  for (const Row& row : r.rows) {
    if (IsRgwScenario(row.scenario) && row.ok() && !row.note.empty()) {
      md << "Note, " << row.scenario << "/" << row.tool << ": " << row.note << ".\n\n";
    }
  }
  bool failures = false;
  for (const Row& row : r.rows) {
    if (!IsRgwScenario(row.scenario) || row.ok()) continue;
    if (!failures) md << "Failures:\n\n";
    failures = true;
    md << "- " << row.scenario << "/" << row.tool << ": `" << row.error.substr(0, 600) << "`\n";
  }
  if (failures) md << "\n";
}

void WriteProbe(std::ostream& md, const BenchReport& r) {
  md << "### ferryd's start-up probe\n\n"
     << "What each ferry run's log says the probe found (capabilities are not set in its "
        "configuration). Expected for RGW 16.2: head_part_number=false, checksum_crc32c=false, "
        "etag_is_md5=true, uploads_encoded_undeclared=true (the source endpoint is probed "
        "read-only, so only the destination decides the last two).\n\n"
     << "| scenario | tool | probed | as expected |\n|---|---|---|---|\n";
  for (const Row& row : r.rows) {
    if (!IsRgwScenario(row.scenario) || !row.probe_as_expected) continue;
    md << "| " << row.scenario << " | " << row.tool << " | " << row.probe << " | "
       << (*row.probe_as_expected ? "yes" : "**no**") << " |\n";
  }
  md << "\n";
}

void WriteRatios(std::ostream& md, const BenchReport& r) {
  md << "### Ratios ferry / peer\n\n"
     << "| scenario | ferry | metric | vs rclone defaults | vs rclone tuned | vs awscli |\n"
     << "|---|---|---|---:|---:|---:|\n";
  for (const std::string& sc : RgwScenarioNames()) {
    for (const char* ferry : {"ferry", "ferry-unsigned"}) {
      const Row* f = Find(r, sc, ferry);
      if (!f) continue;
      auto cell = [&](const char* peer, bool cpu) {
        const Row* p = Find(r, sc, peer);
        if (!p) return std::string("—");
        return cpu ? Ratio(f->cpu_per_gb(), p->cpu_per_gb()) : Ratio(f->mbps(), p->mbps());
      };
      for (bool cpu : {false, true}) {
        md << "| " << sc << " | " << ferry << " | "
           << (cpu ? "CPU s/GB (lower is better)" : "throughput") << " | "
           << cell("rclone-default", cpu) << " | " << cell("rclone-tuned", cpu) << " | "
           << cell("awscli", cpu) << " |\n";
      }
    }
  }
  md << "\n";
}

// CPU a run used on this machine: the tool's and both clusters' daemons'.
double TotalCpu(const Row& row) {
  return row.cpu_seconds + row.radosgw_cpu_seconds + row.osd_cpu_seconds;
}

// When the runs keep the machine busy, RGW's own CPU sets the pace: a
// tool can then beat a peer by no more than the peer's total CPU over its
// own. Says so for ferry against each rclone, from the rows.
void WriteCpuCeiling(std::ostream& md, const BenchReport& r) {
  bool any = false;
  for (const std::string& sc : RgwScenarioNames()) {
    const Row* f = Find(r, sc, "ferry");
    if (!f || f->radosgw_cpu_seconds < 0) continue;
    for (const char* peer : {"rclone-default", "rclone-tuned"}) {
      const Row* p = Find(r, sc, peer);
      if (!p || p->radosgw_cpu_seconds < 0 || TotalCpu(*f) <= 0) continue;
      // Below this the runs wait on something else (latency, one stream).
      constexpr double kBusy = 80;
      if (Busy(*f, r.machine.cores) < kBusy || Busy(*p, r.machine.cores) < kBusy) continue;
      if (!any) {
        md << "CPU-bound ceiling: where both runs keep the machine ≥ 80% busy they are limited "
              "by its cores, which the RGW daemons share with the tool. At equal busy "
              "fractions ferry's rate over a peer's is then at most the peer's run CPU (tool + "
              "radosgw + ceph-osd) over ferry's:\n\n";
        any = true;
      }
      md << "- " << sc << ", ferry vs " << peer << ": " << Fmt(TotalCpu(*f)) << " vs "
         << Fmt(TotalCpu(*p)) << " CPU-s (machine busy " << Fmt(Busy(*f, r.machine.cores), 0)
         << "% vs " << Fmt(Busy(*p, r.machine.cores), 0) << "%): ceiling "
         << Ratio(TotalCpu(*p), TotalCpu(*f)) << ", measured "
         << (sc == "rgw-small" ? Ratio(f->objects_per_second(), p->objects_per_second())
                               : Ratio(f->mbps(), p->mbps()))
         << "\n";
    }
  }
  if (any) md << "\n";
}

}  // namespace

void WriteRgwSection(std::ostream& md, const BenchOptions& o, const BenchReport& r) {
  const RgwReport& g = r.rgw;
  md << kRgwSectionBegin << "\n## Ceph RGW pair\n\n";
  if (!g.ran) {
    md << "Not run: " << (g.not_run.empty() ? "not asked for" : g.not_run) << ".\n\n"
       << kRgwSectionEnd << "\n";
    return;
  }
  auto tuned = [](const std::string& scenario) {
    RcloneSettings s = RgwRcloneTuned(scenario);
    s.tuned = true;
    return RcloneFlags(s);
  };
  md << "The same tools between two throwaway single-node Ceph RGW clusters on this machine ("
     << (g.ceph_version.empty() ? "Ceph version unknown" : g.ceph_version)
     << "; one monitor, one BlueStore OSD on a sparse file, radosgw with the beast frontend, "
        "plain HTTP): source region `"
     << kRgwSourceRegion << "`, destination region `" << kRgwDestinationRegion
     << "`. The source is filled once per scenario by ferry's S3 client with generated, "
        "incompressible bytes (multipart objects in their part layout). Every run copies into a "
        "destination cluster of its own, started empty with the bucket made before the clock "
        "starts and stopped after the run, so no run sees another's data or RGW's lazily "
        "collected garbage"
     << (o.smoke ? " (smoke sizes: one destination cluster per scenario, a new bucket per run)"
                 : "")
     << ". A run counts when the tool exits 0 and the destination's listing "
        "holds every source key with the source's size. No latency or bandwidth limit is "
        "added: both clusters, the tool and the harness share the machine's cores.\n\n"
     << "- Run: " << g.date_utc << "; RGW part " << Fmt(g.total_seconds / 60, 1)
     << " min; load average (1/5/15 min) before: " << g.load_before << "; after: " << g.load_after
     << "\n"
     << "- ferry: `ferryd --once`, " << RgwFerrySettings(false).Describe()
     << " (plain HTTP: every body's SHA-256 is signed); "
     << "`ferry-unsigned`: the same with payload_signing unsigned on both endpoints\n"
     << "- rclone tuned: rgw-set `" << tuned("rgw-set") << "`; rgw-small `" << tuned("rgw-small")
     << "`; rclone defaults: `" << RcloneFlags(RcloneSettings()) << "`; provider Ceph\n"
     << "- awscli: `aws s3 sync` source → local directory, then `aws s3 sync` → destination "
        "(defaults), timed as a whole\n\n";
  md << "### Scenarios\n\n";
  for (const std::string& d : g.scenario_descriptions) md << "- " << d << "\n";
  if (o.smoke) md << "\n(smoke sizes)\n";
  md << "\n### Results\n\n";
  WriteRows(md, r);
  WriteProbe(md, r);
  WriteRatios(md, r);
  md << "### Targets\n\n| target | measured | verdict |\n|---|---|---|\n";
  for (const Target& t : Targets(r)) {
    md << "| " << t.name << " | " << (t.measured.empty() ? "—" : t.measured) << " | " << t.verdict
       << " |\n";
  }
  md << "\n";
  WriteCpuCeiling(md, r);
  md << kRgwSectionEnd << "\n";
}

std::string SpliceRgwSection(const std::string& existing, const std::string& section,
                             const std::string& header_line) {
  std::string out = existing;
  const auto begin = out.find(kRgwSectionBegin);
  const auto end = out.find(kRgwSectionEnd);
  if (begin != std::string::npos && end != std::string::npos && end > begin) {
    auto after = end + std::string(kRgwSectionEnd).size();
    if (after < out.size() && out[after] == '\n') ++after;
    out.replace(begin, after - begin, section);
  } else {
    auto method = out.find("\n## Method");
    if (method == std::string::npos) {
      out += (out.empty() || out.back() == '\n' ? "" : "\n") + section;
    } else {
      out.insert(method + 1, section + "\n");
    }
  }
  // The header line: replace the earlier one, or add it after the last
  // bullet of the first block of bullets.
  if (auto mark = out.find(kRgwHeaderMark); mark != std::string::npos) {
    auto start = out.rfind('\n', mark);
    start = start == std::string::npos ? 0 : start + 1;
    auto stop = out.find('\n', mark);
    out.replace(start, stop == std::string::npos ? std::string::npos : stop - start, header_line);
  } else if (auto first = out.find("\n- "); first != std::string::npos) {
    auto block_end = out.find("\n\n", first);
    if (block_end == std::string::npos) block_end = out.size();
    out.insert(block_end, "\n" + header_line);
  }
  return out;
}

std::string RgwHeaderLine(const BenchOptions& o, const BenchReport& r) {
  return "- Ceph RGW pair section: regenerated alone by `" + o.command_line + "` on " +
         r.rgw.date_utc + " (load average before: " + r.rgw.load_before +
         "; after: " + r.rgw.load_after +
         "); the rest of this report, header included, is from the earlier "
         "run it kept " +
         kRgwHeaderMark;
}

std::string ExtractRgwSection(const std::string& md) {
  const auto begin = md.find(kRgwSectionBegin);
  const auto end = md.find(kRgwSectionEnd);
  if (begin == std::string::npos || end == std::string::npos || end < begin) return "";
  return md.substr(begin, end + std::string(kRgwSectionEnd).size() - begin) + "\n";
}

std::string ReadWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace ferry::bench
