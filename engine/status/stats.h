// Lag accounting and the daemon's figures (DESIGN.md "Lag").
//
// DestinationStats keeps, for one (route, destination):
//   - the pending set: objects planned but not yet verified, with the time
//     the source had them (earlier of LastModified and first sighting), so
//     "age of the oldest pending object" is exact;
//   - a latency histogram (verified-at-destination minus source time) with
//     buckets around the target, objects that missed the target, failures by
//     reason, bytes/objects transferred, deletes, reconciliation times, and
//     the replica's RPO (completionTimestamp of the newest Velero backup
//     complete and verified there).
// Everything but the pending set is saved in the manifest (meta "lag_stats")
// every few seconds and on shutdown; the pending set is rebuilt at start from
// the manifest's pending/failed records, with their durable first-seen
// times, so figures continue across restarts instead of resetting.
//
// Thread-safe: observers call in from every I/O thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/sync/pass.h"
#include "engine/sync/route_state.h"
#include "engine/transfer/retry.h"

namespace ferry::engine {

// Upper bounds (seconds) of the latency histogram.
inline constexpr std::array<double, 12> kLatencyBuckets = {1,   5,   15,  30,   60,   120,
                                                           300, 600, 900, 1200, 1800, 3600};

struct DestinationFigures {
  std::string route;
  std::string destination;
  std::int64_t target_lag_ms = 0;
  std::uint64_t pending_objects = 0;
  std::uint64_t pending_bytes = 0;
  std::int64_t oldest_pending_since_ms = 0;  // 0: nothing pending
  std::array<std::uint64_t, kLatencyBuckets.size() + 1> latency_buckets{};  // last = +Inf
  std::uint64_t latency_count = 0;
  double latency_sum_s = 0;
  std::uint64_t missed_target = 0;
  std::map<std::string, std::uint64_t> failed;  // by reason
  std::uint64_t transferred_bytes = 0;
  std::uint64_t transferred_objects = 0;
  std::uint64_t deleted_objects = 0;
  std::int64_t last_reconcile_ms = 0;  // last complete full pass ended
  std::uint64_t passes_ok = 0;
  std::uint64_t passes_incomplete = 0;
  std::int64_t rpo_completion_ms = 0;  // newest complete Velero backup at the replica
  std::string rpo_backup;
  bool deletes_paused = false;
  std::string last_error;
  std::int64_t last_error_ms = 0;
  double throughput_bps = 0;  // bytes of objects completed, last minute
  // Now: bytes per second sent to the destination's endpoint over the last
  // 10 s (its wire: falls to zero the moment nothing moves).
  double rate_bps = 0;
  std::uint64_t copies_in_flight = 0;
  // Copies in flight and no byte moved at either endpoint for stall_after.
  bool stalled = false;
  std::int64_t no_progress_ms = 0;  // with copies in flight; 0 otherwise
  std::string stall_reason;         // what it waits for (set while stalled)

  // Age of the oldest pending object at `now_ms` (0 when none).
  std::int64_t OldestPendingAgeMs(std::int64_t now_ms) const;
  // Smallest bucket bound below which `q` of the latencies fall (seconds),
  // +Inf as a large number; 0 with no data.
  double LatencyQuantile(double q) const;
};

class DestinationStats {
 public:
  DestinationStats(std::string route, std::string destination, RouteState* state,
                   std::chrono::milliseconds target_lag);

  // Restores saved figures and rebuilds the pending set from the manifest.
  Status Load();
  // Saves the figures (not the pending set) to the manifest.
  Status Save();

  void Pending(const std::string& rel_key, std::int64_t since_ms, std::uint64_t size);
  void Replicated(const std::string& rel_key, const ObjectState& state, bool bytes_moved,
                  std::int64_t now_ms);
  void InSync(const std::string& rel_key);
  void Dropped(const std::string& rel_key);  // vanished at the source
  void Failed(const std::string& rel_key, std::string_view reason, const std::string& message,
              std::int64_t now_ms);
  void Deleted(const std::string& rel_key);
  // A full pass starts / ended. A complete one forgets pending entries it did
  // not see again (gone at the source) and stamps the reconciliation time.
  void FullPassStarted();
  void FullPassEnded(const PassReport& report, std::int64_t now_ms);
  void Rpo(std::int64_t completion_ms, const std::string& backup);
  void SetTargetLag(std::chrono::milliseconds target_lag);
  // The endpoints this destination reads from and writes to (their
  // exchanges, bytes and retried errors) and how long copies in flight may
  // move no byte before the destination counts as stalled. The pacers
  // outlive the figures' readers (the daemon owns both).
  void SetEndpoints(const Pacer* source, const Pacer* dest, std::chrono::milliseconds stall_after);
  // A copy of one object starts / ends (whatever its outcome).
  void CopyStarted(std::int64_t now_ms);
  void CopyEnded();

  DestinationFigures Figures(std::int64_t now_ms) const;
  const std::string& route() const { return route_; }
  const std::string& destination() const { return destination_; }
  RouteState* state() const { return state_; }
  // True once a full pass of this destination completed (since start).
  bool reconciled() const { return reconciled_.load(); }
  // True once both listings of this destination answered (since start).
  void MarkListed() { listed_ = true; }
  bool listed() const { return listed_.load(); }

 private:
  using SinceIndex = std::multimap<std::int64_t, std::string>;
  struct PendingEntry {
    std::uint64_t size = 0;
    std::uint64_t seq = 0;
    SinceIndex::iterator since;  // into by_since_
  };
  void RemovePendingLocked(const std::string& rel_key);
  void AddThroughputLocked(std::uint64_t bytes, std::int64_t now_ms);
  nlohmann::json ToJsonLocked() const;

  const std::string route_;
  const std::string destination_;
  RouteState* const state_;
  std::atomic<bool> reconciled_{false};
  std::atomic<bool> listed_{false};

  mutable std::mutex mu_;
  std::chrono::milliseconds target_lag_;              // GUARDED_BY(mu_)
  std::map<std::string, PendingEntry> pending_;       // GUARDED_BY(mu_)
  SinceIndex by_since_;                               // GUARDED_BY(mu_)
  std::uint64_t pending_bytes_ = 0;                   // GUARDED_BY(mu_)
  std::uint64_t seq_ = 0;                             // GUARDED_BY(mu_)
  std::uint64_t full_pass_seq_ = 0;                   // GUARDED_BY(mu_)
  DestinationFigures saved_;                          // GUARDED_BY(mu_), the durable part
  std::array<std::uint64_t, 60> tput_{};              // GUARDED_BY(mu_), bytes per second slot
  std::int64_t tput_second_ = 0;                      // GUARDED_BY(mu_)
  const Pacer* source_pacer_ = nullptr;               // GUARDED_BY(mu_)
  const Pacer* dest_pacer_ = nullptr;                 // GUARDED_BY(mu_)
  std::chrono::milliseconds stall_after_{30'000};     // GUARDED_BY(mu_)
  std::uint64_t copies_ = 0;                          // GUARDED_BY(mu_)
  std::int64_t copies_since_ms_ = 0;                  // GUARDED_BY(mu_), wall: copies went 0 -> 1
};

// The failure reason label for a status ("retryable", "throttled", ...).
std::string_view FailureReason(const Status& s);

}  // namespace ferry::engine
