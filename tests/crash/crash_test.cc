// Crash-consistency loop: ferryd --once (the binary) replicates a growing
// Velero-like bucket (multipart tarballs, a kopia repository) from one s3sim
// region to another and is killed with SIGKILL at seeded random moments. At
// every kill the destination must be consistent:
//  - no backups/<name>/velero-backup.json unless every other object of that
//    unit is there with the source's size and ETag;
//  - no kopia x* index unless every p*/q* pack that existed at the source
//    when the index was written is there (source request-log order);
//  - no kopia.repository/blobcfg/maintenance unless every pack and index
//    written before it at the source is there.
// After the loop, one uninterrupted run must leave every object
// byte-identical (ETag and MD5 of the bytes).
//
// FERRY_CRASH_CYCLES (default 20) and FERRY_CRASH_SEED (default: from the
// clock, printed) control the loop; tests/crash/run sets them.
#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::uint64_t EnvU64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return std::strtoull(v, nullptr, 10);
}

bool IsKopiaPack(const std::string& rel) { return rel.starts_with("p") || rel.starts_with("q"); }
bool IsKopiaIndex(const std::string& rel) { return rel.starts_with("x"); }
bool IsKopiaFormat(const std::string& rel) {
  return rel == "kopia.repository" || rel == "kopia.blobcfg" || rel == "kopia.maintenance";
}

class CrashLoopTest : public ReliabilityTest {
 protected:
  // Source write order: key -> seq of its last successful write.
  void RefreshSourceOrder() {
    for (const auto& e : src_.Log(src_seq_)) {
      src_seq_ = std::max(src_seq_, e["seq"].get<std::uint64_t>());
      const std::string op = e.value("op", std::string());
      if ((op == "PutObject" || op == "CompleteMultipartUpload") && e.value("status", 0) == 200) {
        written_at_[e["key"].get<std::string>()] = e["seq"].get<std::uint64_t>();
      }
    }
  }

  // One new backup unit (its tarball above the 2 MiB multipart threshold, so
  // its 1 MiB source layout is mirrored and ETags compare) and a kopia generation (packs, then their index),
  // in the order Velero and kopia write them.
  void GrowSource(int n, std::mt19937_64& rng) {
    const std::string name = "crash-" + std::to_string(n);
    const std::string unit = "backups/" + name + "/";
    PutSourceMultipart(unit + name + ".tar.gz",
                       integration::RandomBytes(2 * kMiB + 1 + rng() % (kMiB / 2), rng()), kMiB);
    for (const char* f : {"-logs.gz", "-resource-list.json.gz", "-volumesnapshots.json.gz"}) {
      PutSource(unit + name + f, integration::RandomBytes(4096 + rng() % 8192, rng()));
    }
    PutSource(unit + "velero-backup.json",
              R"({"kind":"Backup","metadata":{"name":")" + name +
                  R"("},"status":{"phase":"Completed"}})");
    char key[64];
    std::snprintf(key, sizeof key, "kopia/app/p%016llx%016x", static_cast<unsigned long long>(rng()), n);
    PutSource(key, integration::RandomBytes(64 * kKiB + rng() % 1024, rng()));
    std::snprintf(key, sizeof key, "kopia/app/q%016llx%016x", static_cast<unsigned long long>(rng()), n);
    PutSource(key, integration::RandomBytes(16 * kKiB + rng() % 1024, rng()));
    std::snprintf(key, sizeof key, "kopia/app/xn%d_%016llx", n, static_cast<unsigned long long>(rng()));
    PutSource(key, integration::RandomBytes(2048 + rng() % 512, rng()));
  }

  // Checks the invariants on a snapshot of the destination; returns the
  // number of violations (each also a GoogleTest failure).
  int CheckSnapshot(int cycle) {
    auto src = ListAll(*src_backend_);
    auto dst = ListAll(*dst_backend_);
    int bad = 0;
    auto same = [&](const std::string& key) {
      auto s = src.find(key);
      auto d = dst.find(key);
      return s != src.end() && d != dst.end() && s->second.size == d->second.size &&
             s->second.etag == d->second.etag;
    };
    for (const auto& [key, obj] : dst) {
      if (key.starts_with("backups/") && key.ends_with("/velero-backup.json")) {
        const std::string unit = key.substr(0, key.size() - std::string("velero-backup.json").size());
        for (auto it = src.lower_bound(unit); it != src.end() && it->first.starts_with(unit); ++it) {
          if (!same(it->first)) {
            ADD_FAILURE() << "cycle " << cycle << ": marker " << key << " present but "
                          << it->first << (dst.count(it->first) ? " differs" : " is missing");
            ++bad;
          }
        }
      }
      const std::string repo = "kopia/app/";
      if (!key.starts_with(repo)) continue;
      const std::string rel = key.substr(repo.size());
      if (!IsKopiaIndex(rel) && !IsKopiaFormat(rel)) continue;
      auto w = written_at_.find(key);
      if (w == written_at_.end()) {
        ADD_FAILURE() << "cycle " << cycle << ": no source write of " << key;
        ++bad;
        continue;
      }
      for (const auto& [other, seq] : written_at_) {
        if (seq > w->second || !other.starts_with(repo) || !src.count(other)) continue;
        const std::string orel = other.substr(repo.size());
        bool needed = IsKopiaPack(orel) || (IsKopiaFormat(rel) && IsKopiaIndex(orel));
        if (needed && !same(other)) {
          ADD_FAILURE() << "cycle " << cycle << ": " << key << " present but " << other
                        << " (written before it at the source) "
                        << (dst.count(other) ? "differs" : "is missing");
          ++bad;
        }
      }
    }
    return bad;
  }

  // Waits until the destination has no more connections than before ferryd
  // started (requests cut by the kill have ended), so the snapshot is stable.
  void Settle(std::int64_t base_connections) {
    auto until = std::chrono::steady_clock::now() + seconds(5);
    while (dst_.Stats().value("open_connections", std::int64_t{0}) > base_connections &&
           std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(milliseconds(5));
    }
  }

  std::uint64_t src_seq_ = 0;
  std::map<std::string, std::uint64_t> written_at_;
};

TEST_F(CrashLoopTest, KilledAtRandomMomentsNeverExposesAnIncompleteUnit) {
  const std::uint64_t cycles = EnvU64("FERRY_CRASH_CYCLES", 20);
  const std::uint64_t seed = EnvU64(
      "FERRY_CRASH_SEED",
      static_cast<std::uint64_t>(std::chrono::system_clock::now().time_since_epoch().count()) % 1000000007);
  std::cerr << "crash loop: " << cycles << " cycles, FERRY_CRASH_SEED=" << seed << "\n";
  RecordProperty("seed", std::to_string(seed));
  std::mt19937_64 rng(seed);

  // 3 MiB/s per destination connection and 3 ms per request: a pass takes
  // long enough to be killed in the middle of units.
  ASSERT_NO_FATAL_FAILURE(StartRegions({}, {"--bandwidth", std::to_string(3 * kMiB), "--latency-ms", "3"}));
  PopulateVelero(3);
  ConfigOptions o;
  o.layout = "velero";
  o.parts_in_flight = 8;
  o.max_objects_in_flight = 16;
  o.log_level = "error";
  const std::string config = WriteConfig(o);

  int grown = 0, killed_running = 0, finished = 0, violations = 0;
  for (std::uint64_t cycle = 1; cycle <= cycles; ++cycle) {
    if (rng() % 4 != 0) GrowSource(++grown, rng);
    RefreshSourceOrder();
    const std::int64_t base_connections = dst_.Stats().value("open_connections", std::int64_t{0});
    const std::uint64_t base_requests = dst_.Stats().value("requests_total", std::uint64_t{0});
    auto ferryd = integration::StartFerryd(config);
    ASSERT_TRUE(ferryd);
    // Kill after a random number of destination requests (so the kill lands
    // inside the pass's writes, whatever the machine's speed) plus a random
    // few milliseconds; or after a random delay, whichever comes first.
    const std::uint64_t after_requests = 1 + rng() % 30;
    const auto deadline = std::chrono::steady_clock::now() + milliseconds(200 + rng() % 2000);
    const milliseconds jitter(rng() % 40);
    while (ferryd->Running() && std::chrono::steady_clock::now() < deadline &&
           dst_.Stats().value("requests_total", std::uint64_t{0}) - base_requests < after_requests) {
      std::this_thread::sleep_for(milliseconds(2));
    }
    std::this_thread::sleep_for(jitter);
    if (ferryd->Running()) {
      ASSERT_EQ(::kill(ferryd->pid(), SIGKILL), 0);
      ASSERT_TRUE(integration::WaitExit(*ferryd, seconds(10)));
      ++killed_running;
    } else {
      ++finished;
      EXPECT_TRUE(WIFEXITED(ferryd->wait_status()) &&
                  (WEXITSTATUS(ferryd->wait_status()) == engine::kExitMatched ||
                   WEXITSTATUS(ferryd->wait_status()) == engine::kExitMismatch))
          << "cycle " << cycle << ": ferryd ended with wait status " << ferryd->wait_status();
    }
    Settle(base_connections);
    violations += CheckSnapshot(static_cast<int>(cycle));
    if (violations > 20) break;  // enough to diagnose
  }
  std::cerr << "crash loop: " << killed_running << " kills mid-run, " << finished
            << " runs finished before the kill, " << grown << " units added, " << violations
            << " violations\n";
  EXPECT_EQ(violations, 0) << "FERRY_CRASH_SEED=" << seed;
  // The loop must actually crash ferryd mid-run most of the time.
  EXPECT_GE(killed_running, static_cast<int>(cycles / 2)) << "kills came too late to test anything";

  // One run without interruption completes everything.
  RefreshSourceOrder();
  FerrydRun last = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(300));
  EXPECT_EQ(last.exit_code, engine::kExitMatched) << last.err;
  EXPECT_EQ(CheckSnapshot(static_cast<int>(cycles) + 1), 0);
  // Read everything back at full speed for the byte comparison.
  ASSERT_TRUE(dst_.admin().Post("/_sim/link", {{"latency_ms", 0}, {"bandwidth", 0}}).ok());
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::reliability
