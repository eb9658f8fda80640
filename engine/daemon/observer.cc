// The daemon's PassObserver: feeds each destination's lag figures, and reads
// Velero markers that reach the replica for its RPO (completionTimestamp of
// the newest backup that is complete there).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <spdlog/spdlog.h>

#include "engine/daemon/daemon_internal.h"
#include "engine/sync/layout.h"
#include "protocols/s3/times.h"

namespace ferry::engine {
namespace {

constexpr std::size_t kMaxMarkerBytes = 4u << 20;

class DaemonObserver final : public PassObserver {
 public:
  explicit DaemonObserver(Daemon::Impl& impl) : impl_(impl) {}

  void OnListed(const std::string& dest_id) override {
    if (auto s = impl_.registry.Find(dest_id)) s->MarkListed();
  }
  void OnPending(const std::string& dest_id, const std::string& rel_key, std::int64_t since_ms,
                 std::uint64_t size) override {
    if (auto s = impl_.registry.Find(dest_id)) s->Pending(rel_key, since_ms, size);
  }
  void OnInSync(const std::string& dest_id, const std::string& rel_key,
                const ObjectState& state) override {
    auto s = impl_.registry.Find(dest_id);
    if (!s) return;
    s->InSync(rel_key);
    // Markers already at the replica are read once, for the RPO at start.
    if (IsVeleroMarker(rel_key)) {
      TargetRuntime* t = FindTarget(dest_id);
      if (t && !t->rpo_bootstrapped.load()) FetchMarker(t, s, rel_key);
    }
  }
  void OnCopyStarted(const std::string& dest_id) override {
    if (auto s = impl_.registry.Find(dest_id)) s->CopyStarted(NowMs());
  }
  void OnCopyEnded(const std::string& dest_id) override {
    if (auto s = impl_.registry.Find(dest_id)) s->CopyEnded();
  }
  void OnReplicated(const std::string& dest_id, const std::string& rel_key,
                    const ObjectState& state, const CopyOutcome& outcome) override {
    auto s = impl_.registry.Find(dest_id);
    if (!s) return;
    const bool moved = outcome.action != CopyAction::kSkipped;
    s->Replicated(rel_key, state, moved, NowMs());
    if (IsVeleroMarker(rel_key)) {
      if (TargetRuntime* t = FindTarget(dest_id)) FetchMarker(t, s, rel_key);
    }
  }
  void OnFailed(const std::string& dest_id, const std::string& rel_key,
                const Status& error) override {
    if (auto s = impl_.registry.Find(dest_id)) {
      s->Failed(rel_key, FailureReason(error), error.ToString(), NowMs());
    }
  }
  void OnDeleted(const std::string& dest_id, const std::string& rel_key) override {
    if (auto s = impl_.registry.Find(dest_id)) s->Deleted(rel_key);
  }
  void OnVanished(const std::string& dest_id, const std::string& rel_key) override {
    if (auto s = impl_.registry.Find(dest_id)) s->Dropped(rel_key);
  }

 private:
  TargetRuntime* FindTarget(const std::string& dest_id) {
    std::shared_ptr<Generation> g = impl_.Current();
    if (!g) return nullptr;
    for (const auto& t : g->targets) {
      if (t->rt.dest.id == dest_id) return t.get();
    }
    return nullptr;
  }

  // Reads backups/<name>/velero-backup.json at the replica (it is verified
  // there) and takes its status.completionTimestamp when phase is Completed.
  void FetchMarker(TargetRuntime* t, std::shared_ptr<DestinationStats> stats,
                   const std::string& rel_key) {
    std::shared_ptr<Generation> keep = impl_.Current();  // keeps `t` alive
    storage::Backend* backend = t->rt.dest.backend;
    Pacer* pacer = t->rt.dest.pacer;
    RetryPolicy retry = t->rt.settings.retry;
    std::string key = t->rt.dest.prefix + rel_key;
    boost::asio::co_spawn(
        impl_.io,
        [keep, backend, pacer, retry, key, rel_key, stats]() -> io::Task<void> {
          auto sink = std::make_shared<io::StringSink>(kMaxMarkerBytes);
          auto got = co_await WithRetry(retry, *pacer, [&]() {
            return backend->Get(key, storage::GetOptions(), *sink);
          });
          if (!got.ok()) {
            spdlog::debug("RPO: cannot read {}: {}", key, got.status().ToString());
            co_return;
          }
          nlohmann::json j = nlohmann::json::parse(sink->data(), nullptr, false);
          if (!j.is_object()) {
            spdlog::warn("RPO: {} at the replica is not JSON; ignored", key);
            co_return;
          }
          auto status = j.find("status");
          if (status == j.end() || !status->is_object()) co_return;
          auto phase = status->find("phase");
          auto done = status->find("completionTimestamp");
          if (phase == status->end() || !phase->is_string() || *phase != "Completed" ||
              done == status->end() || !done->is_string()) {
            co_return;
          }
          auto when = s3::ParseIso8601(done->get<std::string>());
          if (!when.ok()) co_return;
          // backups/<name>/velero-backup.json → <name>
          std::string name = rel_key;
          auto slash = name.rfind('/');
          if (slash != std::string::npos) name.resize(slash);
          slash = name.rfind('/');
          if (slash != std::string::npos) name = name.substr(slash + 1);
          stats->Rpo(std::chrono::duration_cast<std::chrono::milliseconds>(
                         when->time_since_epoch())
                         .count(),
                     name);
        },
        boost::asio::detached);
  }

  Daemon::Impl& impl_;
};

}  // namespace

std::unique_ptr<PassObserver> MakeObserver(Daemon::Impl& impl) {
  return std::make_unique<DaemonObserver>(impl);
}

}  // namespace ferry::engine
