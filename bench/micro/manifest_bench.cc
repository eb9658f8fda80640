// Manifest micro benchmarks: batched object-record writes (the planner and
// transfer pipeline group their updates) and point lookups (the planner's
// "is this object already replicated?"). Each run uses a fresh manifest in
// $TMPDIR (or /tmp), removed afterwards.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <random>
#include <string>

#include "storage/manifest/manifest.h"

namespace {

using ferry::manifest::Batch;
using ferry::manifest::Manifest;
using ferry::manifest::ObjectRecord;
using ferry::manifest::Scope;

const Scope kScope{"bench-route", "bench-dest"};

class BenchDir {
 public:
  BenchDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-manifest-bench-XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~BenchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Key(std::uint64_t i) {
  // Velero/kopia-like keys: a unit prefix and a hashed blob name.
  char buf[96];
  std::snprintf(buf, sizeof(buf), "kopia/ns-%02llu/p%016llx%016llx",
                static_cast<unsigned long long>(i % 37), static_cast<unsigned long long>(i),
                static_cast<unsigned long long>(i * 0x9e3779b97f4a7c15ull));
  return buf;
}

ObjectRecord Record(std::uint64_t i) {
  ObjectRecord r;
  r.source_etag = "\"9a0364b9e99bb480dd25e1f0284c8555\"";
  r.size = 20 << 20;
  r.source_mtime_ms = 1700000000000 + static_cast<std::int64_t>(i);
  r.content_hash = "00112233445566778899aabbccddeeff";
  r.dest_etag = r.source_etag;
  r.state = ferry::manifest::ObjectState::kReplicated;
  r.first_seen_ms = r.source_mtime_ms + 100;
  r.verified_by = ferry::manifest::VerifiedBy::kEtagMirror;
  r.replicated_at_ms = r.source_mtime_ms + 4000;
  r.lag_ms = 4000;
  return r;
}

std::unique_ptr<Manifest> OpenOrSkip(benchmark::State& state, const BenchDir& dir) {
  auto m = Manifest::Open(dir.path() + "/manifest");
  if (!m.ok()) {
    state.SkipWithError(m.status().ToString().c_str());
    return nullptr;
  }
  return std::move(m).value();
}

// Arg 0: records per batch; arg 1: sync each batch (0/1).
void BM_BatchWriteObjects(benchmark::State& state) {
  BenchDir dir;
  auto m = OpenOrSkip(state, dir);
  if (!m) return;
  const auto per_batch = static_cast<std::uint64_t>(state.range(0));
  const ferry::manifest::WriteOptions w{.sync = state.range(1) != 0};
  std::uint64_t next = 0;
  for (auto _ : state) {
    Batch b;
    for (std::uint64_t i = 0; i < per_batch; ++i, ++next)
      b.PutObject(kScope, Key(next), Record(next));
    ferry::Status s = m->Write(b, w);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      return;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(next));
}
BENCHMARK(BM_BatchWriteObjects)
    ->Args({1, 0})
    ->Args({64, 0})
    ->Args({1024, 0})
    ->Args({1, 1})
    ->Args({256, 1})
    ->Unit(benchmark::kMicrosecond);

// Arg 0: records in the manifest. Half the lookups hit, half miss.
void BM_PointLookup(benchmark::State& state) {
  BenchDir dir;
  auto m = OpenOrSkip(state, dir);
  if (!m) return;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  for (std::uint64_t start = 0; start < n; start += 1024) {
    Batch b;
    for (std::uint64_t i = start; i < std::min(n, start + 1024); ++i) {
      b.PutObject(kScope, Key(i), Record(i));
    }
    if (!m->Write(b).ok()) {
      state.SkipWithError("populate failed");
      return;
    }
  }
  if (!m->Flush().ok()) {
    state.SkipWithError("flush failed");
    return;
  }
  std::mt19937_64 rng(42);
  std::uint64_t found = 0;
  for (auto _ : state) {
    std::uint64_t i = rng() % (2 * n);  // >= n: not in the manifest
    auto r = m->GetObject(kScope, Key(i));
    if (r.ok() && r->has_value()) ++found;
    benchmark::DoNotOptimize(r);
  }
  state.counters["hit_ratio"] = static_cast<double>(found) /
                                static_cast<double>(std::max<std::int64_t>(1, state.iterations()));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PointLookup)->Arg(10000)->Arg(200000)->Unit(benchmark::kMicrosecond);

// Streaming one scope in key order, as the planner's merge-diff does.
void BM_ScanScope(benchmark::State& state) {
  BenchDir dir;
  auto m = OpenOrSkip(state, dir);
  if (!m) return;
  const auto n = static_cast<std::uint64_t>(state.range(0));
  Batch b;
  for (std::uint64_t i = 0; i < n; ++i) b.PutObject(kScope, Key(i), Record(i));
  if (!m->Write(b).ok() || !m->Flush().ok()) {
    state.SkipWithError("populate failed");
    return;
  }
  for (auto _ : state) {
    std::uint64_t seen = 0;
    auto c = m->NewObjectCursor(kScope);
    for (; c->Valid(); c->Next()) ++seen;
    benchmark::DoNotOptimize(seen);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_ScanScope)->Arg(100000)->Unit(benchmark::kMillisecond);

}  // namespace
