#include "bench/harness/scenario_run.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "bench/harness/direct_copy.h"

namespace ferry::bench {
using Clock = std::chrono::steady_clock;

void Say(const std::string& line) { std::cerr << "ferry-bench: " << line << std::endl; }

RegionOptions Scenario::Region(const std::string& name) const {
  RegionOptions r;
  r.name = name;
  r.dir = dir;
  r.s3sim = opts.programs.s3sim;
  r.link = opts.link;
  r.tls = tls ? tls_files : TlsFiles();
  r.threads = opts.sim_threads;
  r.min_part_size = 5 * kMiB;  // the smoke sizes use 5 MiB parts, ferry's smallest
  return r;
}

Status Scenario::Start() {
  std::filesystem::create_directories(dir);
  RegionOptions ro = Region("src");
  ro.synthetic_buckets = {"src"};
  FERRY_ASSIGN_OR_RETURN(src, SimRegion::Start(ro));
  auto t = Clock::now();
  FERRY_RETURN_IF_ERROR(Populate(*src, "src", w));
  if (w.preload_destination) {
    RegionOptions d = Region("dst");
    d.synthetic_buckets = {"dst"};
    FERRY_ASSIGN_OR_RETURN(shared_dst, SimRegion::Start(d));
    FERRY_RETURN_IF_ERROR(Populate(*shared_dst, "dst", w));
  }
  char buf[160];
  std::snprintf(buf, sizeof buf, "%s: source ready (%llu objects, %llu MiB) in %.1f s",
                w.name.c_str(), static_cast<unsigned long long>(w.objects()),
                static_cast<unsigned long long>(w.bytes() / kMiB),
                std::chrono::duration<double>(Clock::now() - t).count());
  Say(buf);
  return Status::Ok();
}

Result<std::unique_ptr<SimRegion>> Scenario::Destination() {
  if (shared_dst) return std::unique_ptr<SimRegion>();
  RegionOptions d = Region("dst");
  d.buckets = {"dst"};
  d.keep_bodies_up_to = opts.dest_keep_up_to;
  if (!opts.dest_data_dir.empty()) {
    d.data_dir = opts.dest_data_dir + "/" + w.name;
    std::filesystem::remove_all(d.data_dir);
  }
  return SimRegion::Start(d);
}

namespace {

Row BaseRow(const Workload& w, const std::string& tool) {
  Row r;
  r.scenario = w.name;
  r.tool = tool;
  r.bytes = w.preload_destination ? 0 : w.bytes();
  r.objects = w.objects();
  return r;
}

}  // namespace

// W: the direct client between the two regions (see direct_copy.h).
Row MeasureW(Scenario& sc, bool hash) {
  Row row = BaseRow(sc.w, hash ? "W+hash" : "W");
  auto fresh = sc.Destination();
  if (!fresh.ok()) {
    row.error = fresh.status().ToString();
    return row;
  }
  SimRegion* dst = *fresh ? fresh->get() : sc.shared_dst.get();
  RegionPair pair{sc.src.get(), dst, "src", "dst", sc.tls ? sc.tls_files.cert : ""};
  DirectOptions o;
  o.streams =
      sc.w.name == "small" ? sc.opts.ferry.max_objects_in_flight : sc.opts.ferry.parts_in_flight;
  o.streams = std::min(o.streams, sc.opts.ferry.max_connections);
  o.part_size = sc.opts.ferry.part_size;
  o.hash = hash;
  double sim_before = sc.src->CpuSeconds() + dst->CpuSeconds();
  auto r = sc.w.preload_destination ? DirectList(pair, o) : DirectCopy(pair, sc.w, o);
  row.sim_cpu_seconds = sc.src->CpuSeconds() + dst->CpuSeconds() - sim_before;
  row.command =
      sc.w.preload_destination
          ? "direct client: ListObjectsV2 of both buckets, paged"
          : "direct client: " + std::to_string(o.streams) + " streams, " +
                std::to_string(o.part_size / kMiB) + " MiB ranged GET -> UploadPart/PUT" +
                (hash ? ", XXH3-128 per part as ferry (mirrored layout)" : ", no hashing");
  if (!r.ok()) {
    row.error = r.status().ToString();
    return row;
  }
  row.seconds = r->seconds;
  return row;
}

Row RunTool(Scenario& sc, const std::string& tool, const FerrySettings& fs) {
  Row row = BaseRow(sc.w, sc.tls ? tool + "-tls" : tool);
  if (tool == "awscli" && sc.w.preload_destination) {
    row.error = "n/a";
    row.note =
        "awscli has no endpoint-to-endpoint sync; its two hops through a local "
        "directory have no 'nothing to copy' state to reconcile against";
    return row;
  }
  auto fresh = sc.Destination();
  if (!fresh.ok()) {
    row.error = fresh.status().ToString();
    return row;
  }
  SimRegion* dst = *fresh ? fresh->get() : sc.shared_dst.get();
  RegionPair pair{sc.src.get(), dst, "src", "dst", sc.tls ? sc.tls_files.cert : ""};
  auto since = LastSeq(*dst);
  if (!since.ok()) {
    row.error = since.status().ToString();
    return row;
  }
  const std::string dir = sc.dir + "/" + row.tool;
  double sim_before = sc.src->CpuSeconds() + dst->CpuSeconds();
  ToolRun run;
  if (tool == "ferry") {
    run = RunFerry(sc.opts.programs, pair, sc.w, fs, dir, sc.opts.run_timeout);
  } else if (tool == "rclone-default" || tool == "rclone-tuned") {
    RcloneSettings rs = sc.opts.rclone_tuned;
    rs.tuned = tool == "rclone-tuned";
    run = RunRclone(sc.opts.programs, pair, rs, dir, sc.opts.run_timeout);
  } else {
    run = RunAwscli(sc.opts.programs, pair, dir, sc.opts.run_timeout);
  }
  row.sim_cpu_seconds = sc.src->CpuSeconds() + dst->CpuSeconds() - sim_before;
  row.command = run.command;
  row.error = run.error;
  row.seconds = run.usage.wall_seconds;
  row.cpu_seconds = run.usage.cpu_seconds();
  row.peak_rss = run.usage.peak_rss_bytes;
  auto check = CheckDestination(*dst, *since, run.started);
  if (!check.ok()) {
    if (row.error.empty()) row.error = check.status().ToString();
    return row;
  }
  row.dst_objects_written = check->objects_written;
  row.dst_bytes_in = check->bytes_in;
  const std::uint64_t expect = sc.w.preload_destination ? 0 : sc.w.objects();
  if (row.error.empty() && check->objects_written != expect) {
    row.error = "destination shows " + std::to_string(check->objects_written) +
                " objects written, expected " + std::to_string(expect);
  }
  if (row.error.empty() && check->bytes_in < row.bytes) {
    row.error = "destination received " + std::to_string(check->bytes_in) + " bytes, expected " +
                std::to_string(row.bytes);
  }
  if (tool == "ferry" && !check->lag_seconds.empty()) row.lag = Summarize(check->lag_seconds);
  return row;
}

void LogRow(const Row& r) {
  std::string s = r.scenario + " " + r.tool + ": ";
  if (!r.ok()) {
    Say(s + (r.error == "n/a" ? "n/a" : "FAILED: " + r.error));
    return;
  }
  char buf[256];
  std::snprintf(buf, sizeof buf, "%.2f s, %.1f MB/s, %.0f objects/s, cpu %.2f s, rss %.0f MiB",
                r.seconds, r.mbps(), r.objects_per_second(), r.cpu_seconds,
                static_cast<double>(r.peak_rss) / kMiB);
  Say(s + buf);
}

Row MedianRow(std::vector<Row> runs) {
  for (Row& r : runs) {
    if (!r.ok()) return std::move(r);
  }
  std::sort(runs.begin(), runs.end(),
            [](const Row& a, const Row& b) { return a.seconds < b.seconds; });
  Row m = runs[runs.size() / 2];
  m.runs = static_cast<int>(runs.size());
  m.fastest_seconds = runs.front().seconds;
  m.slowest_seconds = runs.back().seconds;
  return m;
}

}  // namespace ferry::bench
