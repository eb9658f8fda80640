// Planner micro benchmark: one reconciliation pass (engine::Pass) over N
// synthetic keys present, identical, at both ends, against the real RocksDB
// route state. This is the merge-diff of the two listings plus a state
// lookup per key, without any network: the CPU floor of `ferry-bench`'s
// `list` scenario.
//
// The listings come from a Backend that serves pages of generated keys from
// memory (only List is used by a pass with nothing to copy; anything else
// fails the run). The first pass, which records every key in the state, is
// run once untimed; the timed passes are the steady state.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "engine/daemon/manifest_state.h"
#include "engine/sync/pass.h"

namespace {

using namespace ferry;

std::string KeyAt(std::uint64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "kopia/app/p%08llu", static_cast<unsigned long long>(i));
  return buf;
}

class SyntheticListing final : public storage::Backend {
 public:
  explicit SyntheticListing(std::uint64_t n) : n_(n) {}
  const storage::Capabilities& capabilities() const override { return caps_; }
  std::string Describe() const override { return "synthetic-listing"; }
  std::string endpoint_id() const override { return ""; }
  std::string bucket() const override { return "bench"; }

  storage::Task<Result<storage::ListPage>> List(storage::ListOptions opts) override {
    std::uint64_t at = 0;
    if (!opts.continuation_token.empty()) {
      at = std::stoull(opts.continuation_token);
    } else if (!opts.start_after.empty()) {
      at = std::stoull(opts.start_after.substr(opts.start_after.size() - 8)) + 1;
    }
    storage::ListPage page;
    const auto end = std::min<std::uint64_t>(n_, at + static_cast<std::uint64_t>(opts.max_keys));
    page.contents.reserve(end - at);
    for (std::uint64_t i = at; i < end; ++i) {
      storage::ObjectSummary s;
      s.key = KeyAt(i);
      s.size = 1024;
      s.etag = "0123456789abcdef0123456789abcdef";
      s.last_modified = std::chrono::system_clock::time_point(std::chrono::seconds(1700000000));
      page.contents.push_back(std::move(s));
    }
    page.key_count = static_cast<int>(page.contents.size());
    page.is_truncated = end < n_;
    if (page.is_truncated) page.next_continuation_token = std::to_string(end);
    co_return page;
  }

  // A pass with nothing to copy never calls these.
  storage::Task<Result<storage::ObjectInfo>> Head(std::string, storage::HeadOptions) override {
    co_return Unused();
  }
  storage::Task<Result<storage::ObjectInfo>> Get(std::string, storage::GetOptions,
                                                 io::BodySink&) override {
    co_return Unused();
  }
  storage::Task<Result<storage::PutResult>> Put(std::string, io::BodySource&,
                                                const storage::Metadata&) override {
    co_return Unused();
  }
  storage::Task<Result<std::string>> CreateMultipart(std::string, const storage::Metadata&) override {
    co_return Unused();
  }
  storage::Task<Result<storage::PutResult>> UploadPart(std::string, std::string, int,
                                                       io::BodySource&) override {
    co_return Unused();
  }
  storage::Task<Result<storage::PutResult>> UploadPartCopy(std::string, std::string, int,
                                                           storage::CopySourceRef) override {
    co_return Unused();
  }
  storage::Task<Result<storage::PutResult>> CompleteMultipart(
      std::string, std::string, std::vector<storage::CompletedPart>) override {
    co_return Unused();
  }
  storage::Task<Status> AbortMultipart(std::string, std::string) override { co_return Unused(); }
  storage::Task<Result<std::vector<storage::PartInfo>>> ListParts(std::string, std::string) override {
    co_return Unused();
  }
  storage::Task<Result<std::vector<storage::UploadInfo>>> ListUploads(std::string) override {
    co_return Unused();
  }
  storage::Task<Result<storage::PutResult>> Copy(storage::CopySourceRef, std::string,
                                                 std::optional<storage::Metadata>) override {
    co_return Unused();
  }
  storage::Task<Status> Delete(std::string) override { co_return Unused(); }
  storage::Task<Result<std::vector<storage::DeleteError>>> DeleteBatch(
      std::vector<std::string>) override {
    co_return Unused();
  }

 private:
  static Status Unused() {
    return Status::Error(ErrorClass::kFatal, "not expected in a pass with nothing to copy");
  }
  std::uint64_t n_;
  storage::Capabilities caps_;
};

std::string TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-planner-bench-XXXXXX";
  return ::mkdtemp(tmpl.data()) ? tmpl : "";
}

engine::PassReport RunPass(boost::asio::io_context& ioc, engine::Pass& pass) {
  engine::PassReport report;
  boost::asio::co_spawn(ioc, pass.Run(), [&report](std::exception_ptr, engine::PassReport r) {
    report = std::move(r);
  });
  ioc.restart();
  ioc.run();
  return report;
}

// Arg: keys at each end.
void BM_PlannerDiffNothingToCopy(benchmark::State& state) {
  const auto n = static_cast<std::uint64_t>(state.range(0));
  const std::string dir = TempDir();
  if (dir.empty()) {
    state.SkipWithError("cannot create a temp dir");
    return;
  }
  {
    auto manifest = engine::OpenManifest(dir);
    if (!manifest.ok()) {
      state.SkipWithError(manifest.status().ToString().c_str());
      return;
    }
    auto route_state = engine::MakeManifestState(**manifest, {"bench", "bench/0"}, "");
    SyntheticListing src(n), dst(n);
    engine::Pacer src_pacer("src"), dst_pacer("dst");
    engine::BufferPool pool(64ull << 20);
    engine::TransferCounters counters;
    engine::ObjectCopier copier(pool, engine::TransferSettings(), counters);
    engine::AsyncGate gate(256);
    engine::PassSettings settings;
    settings.route = "bench";
    settings.deletes.policy = engine::DeletePolicy::kKeep;
    engine::SourceSide source{&src, &src_pacer, ""};
    engine::DestinationSide dest{"bench/0", &dst, &dst_pacer, "", route_state.get()};
    boost::asio::io_context ioc;
    {
      engine::Pass first(settings, source, dest, copier, gate, nullptr);
      engine::PassReport r = RunPass(ioc, first);  // records every key in the state
      if (r.in_sync != n || !r.errors.empty()) {
        state.SkipWithError(("first pass: " + r.Summary()).c_str());
        return;
      }
    }
    for (auto _ : state) {
      engine::Pass pass(settings, source, dest, copier, gate, nullptr);
      engine::PassReport r = RunPass(ioc, pass);
      if (r.in_sync != n || r.copied != 0 || !r.errors.empty()) {
        state.SkipWithError(r.Summary().c_str());
        break;
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(n));
}
BENCHMARK(BM_PlannerDiffNothingToCopy)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(2);

}  // namespace
