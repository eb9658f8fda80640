// ferry-bench: the harness's pieces, and a smoke run of the whole benchmark
// at tiny sizes through every scenario with ferry, rclone and awscli (and
// the sweep), checking that the report is produced with sane figures.
// Nothing here asserts anything about speed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bench/harness/child.h"
#include "bench/harness/measure.h"
#include "bench/harness/tools.h"
#include "bench/harness/workload.h"
#include "engine/config/config.h"

#ifndef FERRY_BENCH_PATH
#error "FERRY_BENCH_PATH must be defined by the build"
#endif

namespace ferry::bench {
namespace {

std::string TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-bench-test-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : "";
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(WorkloadTest, FullSizesAreTheIssues) {
  auto large = MakeWorkload("large", false);
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->objects(), 4u);
  EXPECT_EQ(large->bytes(), 4 * kGiB);
  auto small = MakeWorkload("small", false);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->objects(), 10'000u);
  EXPECT_EQ(small->bytes(), 10'000 * 64 * kKiB);
  auto list = MakeWorkload("list", false);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->objects(), 1'000'000u);
  EXPECT_TRUE(list->preload_destination);
  auto mixed = MakeWorkload("mixed", false);
  ASSERT_TRUE(mixed.ok());
  std::size_t markers = 0, packs = 0;
  mixed->ForEach([&](const std::string& key, std::uint64_t size, std::uint64_t, std::uint64_t) {
    if (key.ends_with("/velero-backup.json")) ++markers;
    if (key.starts_with("kopia/app/p")) {
      ++packs;
      EXPECT_EQ(size, 20 * kMiB) << key;
    }
  });
  EXPECT_EQ(markers, 3u);
  EXPECT_GT(packs, 0u);
  EXPECT_FALSE(MakeWorkload("huge", false).ok());
}

TEST(WorkloadTest, KeysAreUnique) {
  for (const std::string& name : ScenarioNames()) {
    auto w = MakeWorkload(name, true);
    ASSERT_TRUE(w.ok()) << name;
    std::set<std::string> keys;
    w->ForEach([&](const std::string& key, std::uint64_t, std::uint64_t, std::uint64_t) {
      EXPECT_TRUE(keys.insert(key).second) << name << ": " << key;
    });
    EXPECT_EQ(keys.size(), w->objects()) << name;
  }
}

TEST(MeasureTest, ParsesSimulatorTimes) {
  auto t = ParseIsoTime("2026-11-23T14:27:10.258Z");
  ASSERT_TRUE(t.has_value());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
  EXPECT_EQ(ms, 1795444030258LL);
  EXPECT_FALSE(ParseIsoTime("2026-11-23 14:27:10").has_value());
  EXPECT_FALSE(ParseIsoTime("").has_value());
}

TEST(MeasureTest, SummarizesWithNearestRank) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);
  LagStats s = Summarize(v);
  EXPECT_EQ(s.count, 100u);
  EXPECT_DOUBLE_EQ(s.p50, 50);
  EXPECT_DOUBLE_EQ(s.p90, 90);
  EXPECT_DOUBLE_EQ(s.p99, 99);
  EXPECT_DOUBLE_EQ(s.max, 100);
  EXPECT_EQ(Summarize({}).count, 0u);
}

TEST(ChildTest, AccountsCpuAndMemoryOfTheChild) {
  ChildOptions co;
  // Touches 64 MiB and spins a little: both must show in the accounting.
  co.argv = {"python3", "-c",
             "b = bytearray(64 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1\n"
             "x = sum(range(3000000))"};
  auto u = RunToEnd(co, std::chrono::seconds(60));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(u->exit_code, 0);
  EXPECT_GT(u->cpu_seconds(), 0.0);
  EXPECT_GE(u->peak_rss_bytes, 64 * kMiB);
  EXPECT_GT(u->wall_seconds, 0.0);

  {
    // The harness's own memory must not be charged to the child: 256 MiB
    // resident here, a child of a few MiB.
    std::vector<char> ballast(256 * kMiB);
    for (std::size_t i = 0; i < ballast.size(); i += 4096) ballast[i] = 1;
    co.argv = {"sleep", "0.5"};
    u = RunToEnd(co, std::chrono::seconds(30));
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->exit_code, 0);
    EXPECT_GT(u->peak_rss_bytes, 0u);
    EXPECT_LT(u->peak_rss_bytes, 64 * kMiB);
    EXPECT_EQ(ballast[4096], 1);
  }

  co.argv = {"sleep", "30"};
  u = RunToEnd(co, std::chrono::milliseconds(200));
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->timed_out);
  EXPECT_FALSE(u->ok());

  co.argv = {"/nonexistent/ferry-bench-tool"};
  EXPECT_FALSE(RunToEnd(co, std::chrono::seconds(5)).ok());
}

// Every number the smoke run reports must be present and non-zero where it
// must (times, CPU, memory, bytes), and every run must have succeeded.
TEST(FerryBenchSmokeTest, EveryScenarioAndPeerProducesAReport) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  const std::string out = dir + "/out";
  ChildOptions co;
  co.argv = {FERRY_BENCH_PATH, "--smoke",     "--sweep",      "--out",    out,
             "--work-dir",     dir + "/work", "--latency-ms", "5",        "--bandwidth",
             "200000000",      "--timeout",   "240",          "--rounds", "2"};
  co.log_path = dir + "/ferry-bench.log";
  auto u = RunToEnd(co, std::chrono::seconds(540));
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  ASSERT_EQ(u->exit_code, 0) << Tail(co.log_path, 6000);

  nlohmann::json j = nlohmann::json::parse(ReadFile(out + "/results.json"), nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << "results.json is not JSON";
  EXPECT_TRUE(j["smoke"].get<bool>());
  EXPECT_GT(j["machine"]["cores"].get<int>(), 0);
  std::set<std::string> seen;
  for (const auto& r : j["rows"]) {
    const std::string scenario = r["scenario"], tool = r["tool"];
    SCOPED_TRACE(scenario + "/" + tool);
    seen.insert(scenario + "/" + tool);
    if (scenario == "list" && tool == "awscli") {
      EXPECT_EQ(r["error"], "n/a");
      continue;
    }
    ASSERT_TRUE(r["ok"].get<bool>()) << r["error"];
    EXPECT_GT(r["seconds"].get<double>(), 0);
    if (scenario == "large") {
      // Two rounds: the median of two runs, within their spread.
      EXPECT_EQ(r["runs"], 2);
      EXPECT_LE(r["fastest_seconds"].get<double>(), r["seconds"].get<double>());
      EXPECT_GE(r["slowest_seconds"].get<double>(), r["seconds"].get<double>());
    } else {
      EXPECT_EQ(r["runs"], 1);
    }
    EXPECT_GT(r["objects"].get<std::uint64_t>(), 0u);
    const bool copies = scenario != "list";
    if (copies) {
      EXPECT_GT(r["bytes"].get<std::uint64_t>(), 0u);
      EXPECT_GT(r["mb_per_s"].get<double>(), 0);
    }
    if (tool.starts_with("W")) continue;  // in-process: no CPU or RSS of its own
    EXPECT_GT(r["cpu_seconds"].get<double>(), 0);
    EXPECT_GT(r["peak_rss_bytes"].get<std::uint64_t>(), 1 * kMiB);
    EXPECT_GE(r["simulators_cpu_seconds"].get<double>(), 0);  // clock ticks: may round to 0
    if (copies) {
      EXPECT_EQ(r["destination_objects_written"], r["objects"]);
      EXPECT_GE(r["destination_bytes_in"].get<std::uint64_t>(), r["bytes"].get<std::uint64_t>());
    } else {
      EXPECT_EQ(r["destination_objects_written"].get<std::uint64_t>(), 0u);
    }
    if (tool.starts_with("ferry") && copies) {
      ASSERT_TRUE(r.contains("lag_seconds"));
      EXPECT_EQ(r["lag_seconds"]["count"], r["objects"]);
      EXPECT_GT(r["lag_seconds"]["max"].get<double>(), 0);
      EXPECT_LE(r["lag_seconds"]["p50"].get<double>(), r["lag_seconds"]["max"].get<double>());
    }
  }
  for (const std::string& scenario : ScenarioNames()) {
    for (const char* tool : {"W", "ferry", "rclone-default", "rclone-tuned", "awscli"}) {
      EXPECT_TRUE(seen.count(scenario + "/" + tool)) << "no row for " << scenario << "/" << tool;
    }
  }
  EXPECT_TRUE(seen.count("large/W+hash"));
  EXPECT_TRUE(seen.count("large/ferry-tls"));
  EXPECT_TRUE(seen.count("large/W-tls"));
  ASSERT_GE(j["sweep"].size(), 2u);
  for (const auto& p : j["sweep"]) EXPECT_TRUE(p["ok"].get<bool>()) << p["error"];

  const std::string md = ReadFile(out + "/RESULTS.md");
  for (const char* section :
       {"## Results", "## Ratios ferry / peer", "## Replication lag", "## Targets", "## Sweep",
        "parts_in_flight:", "sweep.png", "| large | ferry |", "| small | rclone-default |"}) {
    EXPECT_NE(md.find(section), std::string::npos) << "RESULTS.md lacks " << section;
  }
  EXPECT_EQ(md.find("FAILED"), std::string::npos) << md;
  EXPECT_GT(std::filesystem::file_size(out + "/sweep.png"), 1000u);
  const std::string csv = ReadFile(out + "/sweep.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + static_cast<long>(j["sweep"].size()));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

// The configuration ferry-bench writes is one ferryd accepts.
TEST(ToolsTest, FerryConfigParses) {
  FerrySettings s;
  // Regions are only asked for their URL and TLS state; not started here.
  std::string yaml = "";
  {
    const std::string dir = TempDir();
    ASSERT_FALSE(dir.empty());
    RegionOptions a;
    a.name = "src";
    a.dir = dir;
    a.s3sim = FERRY_S3SIM_PATH;
    a.synthetic_buckets = {"src"};
    auto src = SimRegion::Start(a);
    ASSERT_TRUE(src.ok()) << src.status().ToString();
    a.name = "dst";
    a.synthetic_buckets = {};
    a.buckets = {"dst"};
    auto dst = SimRegion::Start(a);
    ASSERT_TRUE(dst.ok()) << dst.status().ToString();
    RegionPair pair{src->get(), dst->get(), "src", "dst", ""};
    yaml = FerryConfigYaml(pair, s, dir, "velero");
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  auto cfg = config::ParseConfig(yaml, "ferry-bench.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString() << "\n" << yaml;
  EXPECT_EQ(cfg->transfer.part_size, s.part_size);
  EXPECT_EQ(cfg->transfer.parts_in_flight, s.parts_in_flight);
}

}  // namespace
}  // namespace ferry::bench
