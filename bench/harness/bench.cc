#include "bench/harness/bench.h"

#include <algorithm>
#include <filesystem>
#include <iostream>

#include "bench/harness/direct_copy.h"
#include "bench/harness/scenario_run.h"
#include "bench/harness/sweep.h"

namespace ferry::bench {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

const std::vector<std::string>& ToolNames() {
  static const std::vector<std::string> t = {"ferry", "rclone-default", "rclone-tuned", "awscli"};
  return t;
}

Result<BenchReport> RunBench(const BenchOptions& opts) {
  auto started = Clock::now();
  BenchReport report;
  report.machine = DescribeMachine(opts.programs, opts.work_dir);
  std::vector<std::string> scenarios = opts.scenarios.empty() ? ScenarioNames() : opts.scenarios;
  std::vector<std::string> tools = opts.tools.empty() ? ToolNames() : opts.tools;
  for (const std::string& name : scenarios) {
    FERRY_ASSIGN_OR_RETURN(Workload w, MakeWorkload(name, opts.smoke));
    report.scenario_descriptions.push_back(w.name + ": " + w.description);
    Scenario sc(opts, w, opts.work_dir + "/" + name);
    auto add = [&](Row r) {
      LogRow(r);
      report.rows.push_back(std::move(r));
    };
    if (Status started = sc.Start(); !started.ok()) {
      // Recorded as a failed row; the other scenarios still run.
      Row r;
      r.scenario = name;
      r.tool = "setup";
      r.error = started.ToString();
      add(std::move(r));
      continue;
    }
    add(MeasureW(sc, false));
    if (name == "large" && opts.extra_checks) add(MeasureW(sc, true));
    for (const std::string& tool : tools) add(RunTool(sc, tool, opts.ferry));
  }
  bool large = std::find(scenarios.begin(), scenarios.end(), "large") != scenarios.end();
  bool ferry = std::find(tools.begin(), tools.end(), "ferry") != tools.end();
  if (large && ferry && opts.extra_checks) {
    // TLS on both ends, ferry's default payload signing (auto: unsigned over TLS).
    FERRY_ASSIGN_OR_RETURN(Workload w, MakeWorkload("large", opts.smoke));
    Scenario sc(opts, w, opts.work_dir + "/large-tls");
    sc.tls = true;
    FerrySettings fs = opts.ferry;
    fs.payload_signing = "auto";
    Row r;
    auto cert = MakeSelfSignedCert(sc.dir + "/tls");
    Status started = cert.ok() ? Status::Ok() : cert.status();
    if (started.ok()) {
      sc.tls_files = *cert;
      started = sc.Start();
    }
    if (started.ok()) {
      // The simulator pair's own limit under TLS: what the TLS ratio of any
      // client is bounded by on this machine.
      Row w = MeasureW(sc, false);
      w.tool = "W-tls";
      LogRow(w);
      report.rows.push_back(std::move(w));
      r = RunTool(sc, "ferry", fs);
    } else {
      r.tool = "ferry-tls";
      r.error = started.ToString();
    }
    r.scenario = "large";
    LogRow(r);
    report.rows.push_back(std::move(r));
  }
  if (opts.sweep) FERRY_RETURN_IF_ERROR(RunSweep(opts, &report));
  report.machine.load_after = DescribeMachine(opts.programs, "").load_before;
  report.total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

}  // namespace ferry::bench
