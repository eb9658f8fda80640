// ferry-bench: end-to-end benchmark of ferry against rclone and awscli between
// two simulated regions and between a Ceph RGW pair. Parses flags and runs
// bench::RunBench; everything else lives in bench/harness/.
#include <stdlib.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <iostream>

#include "bench/harness/bench.h"

namespace {

std::string SelfDir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

std::string MakeWorkDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-bench-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

}  // namespace

int main(int argc, char** argv) {
  using ferry::bench::kMiB;
  ferry::bench::BenchOptions o;
  o.programs.ferryd = SelfDir() + "/ferryd";
  o.programs.s3sim = SelfDir() + "/s3sim";
  std::uint64_t part_size_mib = o.ferry.part_size / kMiB;
  std::uint64_t chunk_mib = o.rclone_tuned.chunk_size / kMiB;
  bool keep_work = false;
  bool no_extra = false;
  bool no_rgw = false;
  int timeout_s = static_cast<int>(o.run_timeout.count());
  CLI::App app{"ferry-bench: ferry vs rclone vs awscli between two S3 regions (s3sim, Ceph RGW)"};
  app.add_option("--out", o.out_dir, "directory for results.json, sweep.csv, sweep.png")
      ->default_val("ferry-bench-out");
  app.add_option("--markdown", o.markdown_path, "the Markdown report (default OUT/RESULTS.md)");
  app.add_option("--work-dir", o.work_dir,
                 "scratch directory (default: a new one in $TMPDIR, removed)");
  app.add_flag("--keep-work", keep_work, "keep the scratch directory (logs, configs)");
  app.add_option("--command-line", o.command_line,
                 "command shown in the report (default: this one)");
  app.add_flag("--smoke", o.smoke, "tiny sizes: every scenario and tool in seconds");
  app.add_option("--scenario", o.scenarios,
                 "large, mixed, small, list, rgw-set, rgw-small (repeatable; default all)")
      ->check(CLI::IsMember(ferry::bench::AllScenarioNames()));
  auto* rgw_only = app.add_flag("--rgw", o.rgw_only,
                                "only the Ceph RGW pair (rgw-set, rgw-small; no sweep); keeps an "
                                "existing report's s3sim part");
  app.add_flag("--no-rgw", no_rgw, "skip the Ceph RGW pair")->excludes(rgw_only);
  app.add_option("--tool", o.tools, "ferry, rclone-default, rclone-tuned, awscli (repeatable)")
      ->check(CLI::IsMember(ferry::bench::ToolNames()));
  app.add_flag("--sweep", o.sweep, "also sweep part size, parts in flight and connections");
  app.add_flag("--no-extra", no_extra, "skip the hashing-cost and TLS runs");
  app.add_option("--rounds", o.rounds,
                 "runs of each measurement on `large` and rgw-set (rgw-small: at most 2), "
                 "interleaved; the median counts")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  app.add_option("--latency-ms", o.link.latency_ms, "simulated latency per request")
      ->capture_default_str();
  app.add_option("--bandwidth", o.link.bandwidth_bps, "bytes/s per connection (0 = unlimited)")
      ->capture_default_str();
  app.add_option("--dest-data-dir", o.dest_data_dir,
                 "keep destination bodies on disk here (default RAM)");
  std::string keep_mib = "1";
  app.add_option("--dest-keep-mib", keep_mib,
                 "the destination checks and drops bodies larger than this many MiB "
                 "(\"all\": keep every body)")
      ->capture_default_str();
  app.add_option("--sim-threads", o.sim_threads, "I/O threads per simulator")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--part-size-mib", part_size_mib, "ferry part size")
      ->capture_default_str()
      ->check(CLI::Range(5, 5120));
  app.add_option("--parts-in-flight", o.ferry.parts_in_flight, "ferry parts in flight")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--max-connections", o.ferry.max_connections, "ferry connections per endpoint")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  app.add_option("--payload-signing", o.ferry.payload_signing,
                 "ferry payload signing on plain HTTP")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "signed", "unsigned"}));
  app.add_option("--rclone-transfers", o.rclone_tuned.transfers, "rclone tuned --transfers")
      ->capture_default_str();
  app.add_option("--rclone-checkers", o.rclone_tuned.checkers, "rclone tuned --checkers")
      ->capture_default_str();
  app.add_option("--rclone-upload-concurrency", o.rclone_tuned.upload_concurrency,
                 "rclone tuned --s3-upload-concurrency")
      ->capture_default_str();
  app.add_option("--rclone-chunk-mib", chunk_mib, "rclone tuned --s3-chunk-size")
      ->capture_default_str();
  app.add_option("--timeout", timeout_s, "limit per tool run, seconds")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  app.add_option("--ferryd", o.programs.ferryd, "ferryd binary")->capture_default_str();
  app.add_option("--s3sim", o.programs.s3sim, "s3sim binary")->capture_default_str();
  app.add_option("--rclone", o.programs.rclone, "rclone binary")->capture_default_str();
  app.add_option("--aws", o.programs.aws, "awscli v2 binary")->capture_default_str();
  app.add_option("--gnuplot", o.programs.gnuplot, "gnuplot binary")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (keep_mib == "all") {
    o.dest_keep_up_to.reset();
  } else {
    // Whole MiB, 0 to 1 TiB: no sign, no suffix, nothing after the digits.
    const bool digits = !keep_mib.empty() && keep_mib.size() <= 7 &&
                        keep_mib.find_first_not_of("0123456789") == std::string::npos;
    const std::uint64_t mib = digits ? std::stoull(keep_mib) : 0;
    if (!digits || mib > (1u << 20)) {
      std::cerr << "ferry-bench: --dest-keep-mib takes a whole number of MiB (0 to 1048576) or "
                   "\"all\", not \""
                << keep_mib << "\"\n";
      return 2;
    }
    o.dest_keep_up_to = mib * kMiB;
  }
  o.ferry.part_size = part_size_mib * kMiB;
  o.rclone_tuned.chunk_size = chunk_mib * kMiB;
  o.extra_checks = !no_extra;
  o.rgw = !no_rgw;
  o.run_timeout = std::chrono::seconds(timeout_s);
  if (o.command_line.empty()) {
    for (int i = 0; i < argc; ++i) o.command_line += (i ? " " : "") + std::string(argv[i]);
  }
  bool own_work = o.work_dir.empty();
  if (own_work) o.work_dir = MakeWorkDir();
  if (o.work_dir.empty()) {
    std::cerr << "ferry-bench: cannot create a scratch directory\n";
    return 3;
  }
  o.out_dir = std::filesystem::absolute(o.out_dir).string();
  if (!o.markdown_path.empty())
    o.markdown_path = std::filesystem::absolute(o.markdown_path).string();

  auto report = ferry::bench::RunBench(o);
  int code = 0;
  if (!report.ok()) {
    std::cerr << "ferry-bench: " << report.status().ToString() << "\n";
    code = 3;
  } else {
    ferry::Status written = ferry::bench::WriteReports(o, *report);
    if (!written.ok()) {
      std::cerr << "ferry-bench: " << written.ToString() << "\n";
      code = 3;
    } else {
      for (const auto& row : report->rows) {
        if (!row.ok() && row.error != "n/a") code = 1;
      }
      for (const auto& p : report->sweep) {
        if (!p.row.ok()) code = 1;
      }
      std::cerr << "ferry-bench: report in "
                << (o.markdown_path.empty() ? o.out_dir + "/RESULTS.md" : o.markdown_path) << "\n";
    }
  }
  if (own_work && !keep_work) {
    std::error_code ec;
    std::filesystem::remove_all(o.work_dir, ec);
  } else {
    std::cerr << "ferry-bench: scratch kept in " << o.work_dir << "\n";
  }
  return code;
}
