#include "bench/harness/bench.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>

#include "bench/harness/direct_copy.h"
#include "bench/harness/rgw_bench.h"
#include "bench/harness/rgw_store.h"
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

std::vector<std::string> AllScenarioNames() {
  std::vector<std::string> all = ScenarioNames();
  all.insert(all.end(), RgwScenarioNames().begin(), RgwScenarioNames().end());
  return all;
}

namespace {

// `large`, plain and TLS, in `rounds` interleaved rounds so that drift in
// the machine's speed lands on every tool alike.
void RunLarge(const BenchOptions& opts, const std::vector<std::string>& tools, Scenario& sc,
              BenchReport& report) {
  const bool ferry = std::find(tools.begin(), tools.end(), "ferry") != tools.end();
  const bool with_tls = ferry && opts.extra_checks;
  Scenario tls(opts, sc.w, opts.work_dir + "/large-tls");
  Status tls_started = Status::Ok();
  if (with_tls) {
    tls.tls = true;
    auto cert = MakeSelfSignedCert(tls.dir + "/tls");
    tls_started = cert.ok() ? Status::Ok() : cert.status();
    if (tls_started.ok()) {
      tls.tls_files = *cert;
      tls_started = tls.Start();
    }
  }
  // TLS on both ends, ferry's default payload signing (auto: unsigned over TLS).
  FerrySettings tls_settings = opts.ferry;
  tls_settings.payload_signing = "auto";

  std::vector<std::string> order = {"W"};
  if (opts.extra_checks) order.push_back("W+hash");
  order.insert(order.end(), tools.begin(), tools.end());
  if (with_tls) order.insert(order.end(), {"W-tls", "ferry-tls"});
  std::map<std::string, std::vector<Row>> runs;
  const int rounds = std::max(1, opts.rounds);
  for (int round = 1; round <= rounds; ++round) {
    if (rounds > 1) Say("large: round " + std::to_string(round) + " of " + std::to_string(rounds));
    for (const std::string& what : order) {
      Row r;
      if (what == "W" || what == "W+hash") {
        r = MeasureW(sc, what == "W+hash");
      } else if (what == "W-tls" || what == "ferry-tls") {
        if (!tls_started.ok()) {
          r.tool = what;
          r.error = tls_started.ToString();
        } else if (what == "W-tls") {
          // The simulator pair's own limit under TLS: what the TLS ratio of
          // any client is bounded by on this machine.
          r = MeasureW(tls, false);
        } else {
          r = RunTool(tls, "ferry", tls_settings);
        }
        r.scenario = "large";
        r.tool = what;
      } else {
        r = RunTool(sc, what, opts.ferry);
      }
      LogRow(r);
      runs[what].push_back(std::move(r));
    }
  }
  for (const std::string& what : order) report.rows.push_back(MedianRow(std::move(runs[what])));
}

}  // namespace

Result<BenchReport> RunBench(const BenchOptions& opts) {
  auto started = Clock::now();
  BenchReport report;
  report.machine = DescribeMachine(opts.programs, opts.work_dir);
  std::vector<std::string> scenarios, rgw_scenarios;
  for (const std::string& name : opts.scenarios.empty() ? AllScenarioNames() : opts.scenarios) {
    if (IsRgwScenario(name)) {
      if (opts.rgw) rgw_scenarios.push_back(name);
    } else if (!opts.rgw_only) {
      scenarios.push_back(name);
    }
  }
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
    if (name == "large") {
      RunLarge(opts, tools, sc, report);
      continue;
    }
    add(MeasureW(sc, false));
    for (const std::string& tool : tools) add(RunTool(sc, tool, opts.ferry));
  }
  // The sweep belongs to the s3sim part (bench/run always asks for it).
  if (opts.sweep && !opts.rgw_only) FERRY_RETURN_IF_ERROR(RunSweep(opts, &report));
  if (!rgw_scenarios.empty()) {
    RgwReport& rgw = report.rgw;
    const MachineInfo at_start = DescribeMachine(opts.programs, "");
    rgw.date_utc = at_start.date_utc;
    rgw.load_before = at_start.load_before;
    if (CephAvailable()) {
      RunRgwPair(opts, rgw_scenarios, RgwTools(tools), &report);
    } else {
      rgw.not_run =
          "the Ceph binaries (ceph-mon, ceph-osd, radosgw, ...) are not on PATH; "
          "scripts/bootstrap installs them";
      Say("Ceph RGW pair not run: " + rgw.not_run);
      // Asked for by name: a failure. Left out by default: a line in the report.
      const bool named = std::any_of(opts.scenarios.begin(), opts.scenarios.end(), IsRgwScenario);
      if (opts.rgw_only || named) {
        Row r;
        r.scenario = rgw_scenarios.front();
        r.tool = "setup";
        r.error = rgw.not_run;
        report.rows.push_back(std::move(r));
      }
    }
    rgw.load_after = DescribeMachine(opts.programs, "").load_before;
  }
  report.machine.load_after = DescribeMachine(opts.programs, "").load_before;
  report.total_seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return report;
}

}  // namespace ferry::bench
