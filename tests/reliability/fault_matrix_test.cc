// Fault matrix: every fault kind of the simulator on every S3 operation the
// copier depends on (GET, PUT, UploadPart, Complete, List and HEAD, on the
// side that serves it). Each case must end, in one pass that exits 0, in a
// replica identical to the source, with retries bounded: every injected fault shows as exactly one
// faulted request in the log, and the pass sent no more requests than a
// fault-free pass plus a small, fixed number per fault (no busy loop).
#include <map>
#include <mutex>
#include <optional>
#include <ostream>

#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

struct MatrixCase {
  std::string op;    // fault op class
  bool dst = false;  // which region the rule is set on
  std::string kind;  // fault kind
};

void PrintTo(const MatrixCase& c, std::ostream* os) {
  *os << c.op << (c.dst ? "@dst/" : "@src/") << c.kind;
}

// Every case ends in a replica within the pass, those that were once
// expected to fail included:
//  - skew: the simulator's clock jumps an hour ahead and stays there; the
//    client learns the offset from the answer's Date (a HEAD answer has no
//    body: its bare 403 with a far-off Date counts as RequestTimeTooSkewed),
//    signs later requests with it, and the rejected request is retried;
//  - a flipped byte in a listing page: the page is out of order (or does not
//    parse) and is fetched again.
std::string CaseName(const ::testing::TestParamInfo<MatrixCase>& info) {
  return info.param.op + (info.param.dst ? "_dst_" : "_src_") + info.param.kind;
}

// Rule text for a case: bursts for throttles, a delay past every deadline
// for latency (request and progress timeouts are 1 s below).
std::string Spec(const MatrixCase& c) {
  std::string spec = "op=" + c.op + ",kind=" + c.kind;
  if (c.kind == "slowdown503") return spec + ",next=5";
  if (c.kind == "latency") return spec + ",next=2,ms=2500";
  return spec + ",next=2";
}

// Most requests one fault may cost: the worst is a corrupted part of a
// 4-part object, which restarts the object (Create, 4 GETs, 4 UploadParts,
// Complete, HEAD, Abort, ListParts) once more.
constexpr std::uint64_t kMaxExtraPerFault = 16;
constexpr int kMaxAttempts = 6;

const char kTimeouts[] = "  request_timeout: 1s\n  progress_timeout: 1s\n";

ConfigOptions MatrixOptions() {
  ConfigOptions o;
  o.max_attempts = kMaxAttempts;
  o.initial_backoff = "5ms";
  o.max_backoff = "100ms";
  return o;
}

struct Counts {
  std::uint64_t src = 0, dst = 0;
};

class FaultMatrixTest : public ReliabilityTest, public ::testing::WithParamInterface<MatrixCase> {
 protected:
  // Requests per region of a fault-free pass over the same data (measured
  // once per process, in its own regions).
  Counts Baseline() {
    static std::mutex mu;
    static std::optional<Counts> cached;
    std::lock_guard lock(mu);
    if (cached) return *cached;
    Region src, dst;
    EXPECT_TRUE(src.Start(dir_->path(), "base-src", integration::kSrcBucket).ok());
    EXPECT_TRUE(dst.Start(dir_->path(), "base-dst", integration::kDstBucket).ok());
    // Swap the fixture's regions for the baseline run, then back.
    std::swap(src_, src);
    std::swap(dst_, dst);
    StartBackends();
    PopulateVelero(1);
    const std::uint64_t populated = src_.Stats().value("requests_total", std::uint64_t{0});
    EXPECT_EQ(RunOnceYaml(Yaml(MatrixOptions(), kTimeouts)), engine::kExitMatched);
    Counts c{src_.Stats().value("requests_total", std::uint64_t{0}) - populated,
             dst_.Stats().value("requests_total", std::uint64_t{0})};
    std::cerr << "baseline requests: src " << c.src << ", dst " << c.dst << "\n";
    std::swap(src_, src);
    std::swap(dst_, dst);
    written_.clear();
    cached = c;
    return c;
  }
  // No velero-backup.json at the destination unless its whole unit is there
  // with the source's sizes and ETags.
  void ExpectNoIncompleteUnitPresented() {
    auto src = ListAll(*src_backend_);
    auto dst = ListAll(*dst_backend_);
    for (const auto& [key, o] : dst) {
      if (!key.ends_with("/velero-backup.json")) continue;
      const std::string unit = key.substr(0, key.size() - 18);
      for (auto it = src.lower_bound(unit); it != src.end() && it->first.starts_with(unit); ++it) {
        auto d = dst.find(it->first);
        EXPECT_TRUE(d != dst.end() && d->second.etag == it->second.etag &&
                    d->second.size == it->second.size)
            << key << " presented while " << it->first << " is not replicated";
      }
    }
  }
  void StartBackends() {
    src_backend_ = src_.OpenBackend(ioc_);
    dst_backend_ = dst_.OpenBackend(ioc_);
  }
};

TEST_P(FaultMatrixTest, EndsInAnIdenticalReplicaWithBoundedRetries) {
  const MatrixCase& c = GetParam();
  const std::vector<std::string> rule = {"--fault", Spec(c)};
  ASSERT_NO_FATAL_FAILURE(StartRegions(c.dst ? std::vector<std::string>{} : rule,
                                       c.dst ? rule : std::vector<std::string>{}));
  const Counts base = Baseline();
  StartBackends();  // (Baseline swapped regions; the fixture's own are back)
  PopulateVelero(1);
  if (c.op == "head" && c.dst) {
    // A new object costs no HEAD at the destination (its listing says the
    // key is absent there): stale replicas of two make the copier ask.
    for (const char* key : {"backups/nightly-1/nightly-1-logs.gz",
                            "backups/nightly-1/nightly-1-results.gz"}) {
      io::MemorySource stale("stale replica");
      auto put = testing::RunTask(ioc_, dst_backend_->Put(key, stale, storage::Metadata()));
      ASSERT_TRUE(put.ok()) << put.status().ToString();
    }
  }
  const std::uint64_t src_before = src_.Stats().value("requests_total", std::uint64_t{0});
  const std::uint64_t dst_before = dst_.Stats().value("requests_total", std::uint64_t{0});

  std::vector<engine::PassReport> reports;
  const int code = RunOnceYaml(Yaml(MatrixOptions(), kTimeouts), &reports);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(code, engine::kExitMatched);
  EXPECT_EQ(reports[0].failed, 0u);
  EXPECT_TRUE(reports[0].errors.empty()) << reports[0].errors[0];

  Region& faulted = c.dst ? dst_ : src_;
  if (c.kind == "skew") {
    // A real, persistent skew: the simulator's clock moved and stayed.
    auto clock = faulted.admin().Get("/_sim/clock");
    ASSERT_TRUE(clock.ok());
    EXPECT_GE((*clock)["offset_ms"].get<std::int64_t>(), 3600 * 1000);
  }
  const std::uint64_t injected = InjectedFaults(faulted);
  EXPECT_GE(injected, 1u) << "the rule never fired: the case tests nothing";
  auto log = faulted.Log();
  // (A latency fault leaves no mark in the log: the simulator completes the
  // request after the client gave up on it.)
  if (c.kind != "latency") {
    EXPECT_EQ(FaultedEntries(log), injected) << "each fault is one faulted request";
  }
  // Per request (operation, object and part): failures never exceed the
  // attempt budget. (Per part: a clock that jumps fails every part in
  // flight once, however many there are.)
  std::map<std::string, std::uint64_t> failures;
  for (const auto& e : log) {
    int status = e.value("status", 0);
    if (status < 200 || status >= 300) {
      std::string what = e["op"].get<std::string>() + " " + e["key"].get<std::string>();
      if (const std::string part = e.value("part", std::string()); !part.empty()) {
        what += " part " + part;
      }
      ++failures[what];
    }
  }
  for (const auto& [what, n] : failures) {
    EXPECT_LE(n, static_cast<std::uint64_t>(kMaxAttempts)) << what;
  }
  const std::uint64_t src_reqs =
      src_.Stats().value("requests_total", std::uint64_t{0}) - src_before;
  const std::uint64_t dst_reqs =
      dst_.Stats().value("requests_total", std::uint64_t{0}) - dst_before;
  std::cerr << "requests: src " << src_reqs << " (baseline " << base.src << "), dst " << dst_reqs
            << " (baseline " << base.dst << "), injected " << injected << "\n";
  EXPECT_LE(src_reqs + dst_reqs, base.src + base.dst + injected * kMaxExtraPerFault);
  ExpectNoIncompleteUnitPresented();
  ExpectReplicaIdentical();
}

std::vector<MatrixCase> AllCases() {
  const std::vector<std::pair<std::string, bool>> ops = {
      {"get", false},  {"put", true},  {"upload_part", true}, {"complete", true},
      {"list", false}, {"list", true}, {"head", false},       {"head", true}};
  const std::vector<std::string> kinds = {"error500", "slowdown503", "reset", "truncate",
                                          "flip",     "latency",     "skew"};
  std::vector<MatrixCase> out;
  for (const auto& [op, dst] : ops) {
    for (const auto& k : kinds) out.push_back({op, dst, k});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Matrix, FaultMatrixTest, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace ferry::reliability
