#include "bench/harness/sweep.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "bench/harness/scenario_run.h"

namespace ferry::bench {

std::vector<FerrySettings> SweepGrid(const FerrySettings& base, bool smoke) {
  std::vector<FerrySettings> grid;
  const std::vector<std::uint64_t> parts = smoke ? std::vector<std::uint64_t>{5 * kMiB}
                                                 : std::vector<std::uint64_t>{8 * kMiB, 16 * kMiB,
                                                                              32 * kMiB};
  const std::vector<int> in_flight = smoke ? std::vector<int>{2, 4} : std::vector<int>{8, 32, 64};
  const std::vector<int> connections = smoke ? std::vector<int>{4} : std::vector<int>{16, 64};
  for (std::uint64_t ps : parts) {
    for (int c : connections) {
      for (int n : in_flight) {
        FerrySettings s = base;
        s.part_size = ps;
        s.parts_in_flight = n;
        s.max_connections = c;
        s.log_level = "warn";
        grid.push_back(s);
      }
    }
  }
  return grid;
}

Status RunSweep(const BenchOptions& opts, BenchReport* report) {
  FERRY_ASSIGN_OR_RETURN(Workload w, MakeWorkload("sweep", opts.smoke));
  report->scenario_descriptions.push_back("sweep: " + w.description);
  Scenario sc(opts, w, opts.work_dir + "/sweep");
  FERRY_RETURN_IF_ERROR(sc.Start());
  for (const FerrySettings& s : SweepGrid(opts.ferry, opts.smoke)) {
    SweepPoint p;
    p.settings = s;
    p.row = RunTool(sc, "ferry", s);
    p.row.note = s.Describe();
    LogRow(p.row);
    if (p.row.ok() && (!report->best || p.row.mbps() > report->best->row.mbps())) report->best = p;
    report->sweep.push_back(std::move(p));
  }
  if (!report->best) return Status::Error(ErrorClass::kFatal, "no sweep point succeeded");
  return Status::Ok();
}

std::string LinkText(const LinkSpec& link) {
  return std::to_string(link.latency_ms) + " ms, " +
         (link.bandwidth_bps ? std::to_string(link.bandwidth_bps / 1'000'000) + " MB/s"
                             : std::string("unlimited")) +
         " per connection";
}

std::string ConfigSnippet(const FerrySettings& s, const LinkSpec& link) {
  std::ostringstream y;
  y << "# ferry-bench --sweep: best settings for a link of " << LinkText(link) << "\n"
    << "transfer:\n"
    << "  part_size: " << s.part_size / kMiB << "MiB\n"
    << "  parts_in_flight: " << s.parts_in_flight << "\n"
    << "endpoints:\n"
    << "  <each endpoint>:\n"
    << "    max_connections: " << s.max_connections << "\n";
  return y.str();
}

Status WriteSweepFiles(const Programs& p, const std::vector<SweepPoint>& points,
                       const std::string& csv_path, const std::string& png_path,
                       const LinkSpec& link) {
  {
    std::ofstream csv(csv_path);
    csv << "part_size_mib,parts_in_flight,max_connections,seconds,mb_per_s,cpu_seconds,"
           "peak_rss_mib,ok\n";
    for (const SweepPoint& pt : points) {
      const Row& r = pt.row;
      csv << pt.settings.part_size / kMiB << "," << pt.settings.parts_in_flight << ","
          << pt.settings.max_connections << "," << r.seconds << "," << r.mbps() << ","
          << r.cpu_seconds << "," << r.peak_rss / kMiB << "," << (r.ok() ? 1 : 0) << "\n";
    }
    if (!csv) return Status::Error(ErrorClass::kFatal, "cannot write " + csv_path);
  }
  std::string gnuplot = FindProgram(p.gnuplot);
  if (gnuplot.empty()) {
    return Status::Error(ErrorClass::kFatal, "gnuplot not found (scripts/bootstrap installs it)");
  }
  std::set<std::pair<std::uint64_t, int>> series;
  for (const SweepPoint& pt : points) {
    series.insert({pt.settings.part_size / kMiB, pt.settings.max_connections});
  }
  std::string script_path = png_path + ".gp";
  {
    std::ofstream gp(script_path);
    gp << "set terminal pngcairo size 900,540 font 'sans,10'\n"
       << "set output '" << png_path << "'\n"
       << "set datafile separator ','\n"
       << "set title 'ferry throughput by settings (link: " << LinkText(link) << ")'\n"
       << "set xlabel 'parts in flight'\nset ylabel 'MB/s'\nset logscale x 2\n"
       << "set key outside right\nset grid\nset yrange [0:*]\n"
       << "plot ";
    bool first = true;
    for (const auto& [part, conns] : series) {
      if (!first) gp << ", \\\n     ";
      first = false;
      gp << "'" << csv_path << "' every ::1 using 2:(($1==" << part << " && $3==" << conns
         << " && $8==1) ? $5 : 1/0) with linespoints title '" << part << " MiB parts, " << conns
         << " connections'";
    }
    gp << "\n";
  }
  ChildOptions co;
  co.argv = {gnuplot, script_path};
  co.log_path = png_path + ".log";
  std::filesystem::remove(co.log_path);
  FERRY_ASSIGN_OR_RETURN(Usage u, RunToEnd(std::move(co), std::chrono::seconds(60)));
  if (!u.ok() || !std::filesystem::exists(png_path)) {
    return Status::Error(ErrorClass::kFatal, "gnuplot failed: " + Tail(png_path + ".log"));
  }
  std::filesystem::remove(script_path);
  std::filesystem::remove(png_path + ".log");
  return Status::Ok();
}

}  // namespace ferry::bench
