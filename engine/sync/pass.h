// Pass: one reconciliation of a route's source against one destination.
//
// A streaming merge-diff of the source listing and the destination listing
// (both in key order, a page of memory each) with point lookups in the
// route's state: memory does not grow with bucket size (only with the number
// of units in flight and of deletion candidates). Each difference becomes a
// work item with a durable first-seen time; the UnitTracker orders writes per
// the layout; the ObjectCopier moves bytes. Deletions run only after both
// listings completed, confirm each key with HEAD on the source (404), follow
// the delete policy and stop at the mass-delete guard.
#pragma once

#include <chrono>
#include <cstdint>
#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/sync/clock.h"
#include "engine/sync/layout.h"
#include "engine/sync/route_state.h"
#include "engine/transfer/async_gate.h"
#include "engine/transfer/object_copier.h"

namespace ferry::engine {

enum class DeletePolicy { kMirror, kKeep, kMirrorNow };

// The set of keys being copied at one destination. Lock() waits (polling,
// bounded by `deadline`) while another pass copies the same key.
class KeyLocks {
 public:
  io::Task<bool> Lock(const std::string& key, std::chrono::steady_clock::time_point deadline);
  void Unlock(const std::string& key);
  std::size_t size() const;

 private:
  mutable std::mutex mu_;
  std::set<std::string> held_;  // GUARDED_BY(mu_)
};
std::string_view DeletePolicyName(DeletePolicy p);

struct DeleteSettings {
  DeletePolicy policy = DeletePolicy::kMirror;
  std::chrono::milliseconds grace{24 * 3600 * 1000};
  double max_fraction = 0.10;  // guard: more than this share of the replica in one pass
};

struct SourceSide {
  storage::Backend* backend = nullptr;
  Pacer* pacer = nullptr;
  std::string prefix;
};

struct DestinationSide {
  std::string id;  // "route/index", for messages and state
  storage::Backend* backend = nullptr;
  Pacer* pacer = nullptr;
  std::string prefix;
  RouteState* state = nullptr;
};

struct PassSettings {
  std::string route;
  LayoutKind layout = LayoutKind::kPlain;
  DeleteSettings deletes;
  RetryPolicy retry;
  bool read_back = false;  // verify every copy by re-reading the replica
  bool require_checksum = false;  // verify: checksum (see CopyRequest)
  bool require_etag = false;      // verify: etag (see CopyRequest)
  std::size_t max_delete_candidates = 1'000'000;
  // A targeted pass: only keys under this route-relative prefix (e.g. one
  // Velero unit "backups/b1/"). It copies but never deletes nor aborts
  // uploads (it does not see the whole route). "" = the whole route.
  std::string subprefix;
  // When set and true, the planner stops submitting new work (pause, drain);
  // items already running finish. The report then says `halted`.
  const std::atomic<bool>* halt = nullptr;
  // Keys being copied right now at this destination, shared by concurrent
  // passes (full and targeted) so one key is never copied twice at once.
  KeyLocks* key_locks = nullptr;
  // Time for grace periods and approvals; null = SystemClock().
  const Clock* clock = nullptr;
  // layout velero: a unit's marker goes only once no file of the unit is
  // new or changed for this long (and the unit is whole: unit_gate.h).
  std::chrono::milliseconds settle{60'000};
};

// A Velero unit whose marker a pass held back (unit_gate.h).
struct HeldUnit {
  std::string reason;
  std::int64_t recheck_at_ms = 0;  // wall clock: when looking again can release it
  bool settling = false;           // GateDecision::settling: time alone releases it
};
// At most this many held units are itemised in one report (all are counted).
inline constexpr std::size_t kMaxHeldUnitsReported = 10000;

// Called as objects are planned and verified (lag accounting and metrics).
// Calls come from any I/O thread; implementations synchronise.
struct PassObserver {
  virtual ~PassObserver() = default;
  // An object needs copying: `since_ms` is when the source had it (the
  // earlier of its LastModified and ferry's first sighting).
  virtual void OnPending(const std::string& dest_id, const std::string& rel_key,
                         std::int64_t since_ms, std::uint64_t size) {}
  // The first page of both listings arrived (credentials and reachability
  // proven).
  virtual void OnListed(const std::string& dest_id) {}
  // Found already identical at the destination by the listing.
  virtual void OnInSync(const std::string& dest_id, const std::string& rel_key,
                        const ObjectState& state) {}
  // A copy of one object starts / ends, whatever its outcome (stall
  // detection: copies in flight that move no byte).
  virtual void OnCopyStarted(const std::string& dest_id) {}
  virtual void OnCopyEnded(const std::string& dest_id) {}
  virtual void OnReplicated(const std::string& dest_id, const std::string& rel_key,
                            const ObjectState& state, const CopyOutcome& outcome) {}
  virtual void OnFailed(const std::string& dest_id, const std::string& rel_key,
                        const Status& error) {}
  virtual void OnDeleted(const std::string& dest_id, const std::string& rel_key) {}
  // Gone from the source before it could be copied: no longer pending.
  virtual void OnVanished(const std::string& dest_id, const std::string& rel_key) {}
};

struct PassReport {
  std::string route;
  std::string destination;
  bool source_listing_complete = false;
  bool destination_listing_complete = false;
  std::uint64_t source_objects = 0;
  std::uint64_t destination_objects = 0;
  std::uint64_t in_sync = 0;
  std::uint64_t copied = 0;         // put, multipart, server or dedup copy
  std::uint64_t copied_bytes = 0;   // bytes of the objects copied
  std::uint64_t skipped = 0;        // copier found the destination already right
  std::uint64_t server_copies = 0;  // of `copied`: no bytes crossed regions
  std::uint64_t failed = 0;
  std::uint64_t vanished = 0;       // gone from the source before we copied
  std::uint64_t held_back = 0;      // later phases held because a unit failed
  std::uint64_t markers_held = 0;   // Velero markers held: unit not whole or settling
  std::map<std::string, HeldUnit> held_units;  // by unit, at most kMaxHeldUnitsReported
  std::uint64_t extra = 0;          // at the destination, not at the source
  std::uint64_t deleted = 0;
  std::uint64_t deletes_waiting = 0;  // within the grace period
  std::uint64_t deletes_blocked = 0;  // their unit's marker (or higher phase) not gone yet
  std::uint64_t stale_uploads_aborted = 0;  // ours, no longer needed
  std::uint64_t parts_resumed = 0;  // of journaled uploads, not sent again
  bool deletes_paused = false;        // mass-delete guard tripped
  bool halted = false;                // stopped early by PassSettings::halt
  bool targeted = false;              // PassSettings::subprefix was set
  std::vector<std::string> errors;    // first few, for the summary

  // Every source object is verified at the destination (and, with policy
  // mirror-now, nothing extra remains). A held marker is not verified there.
  bool Matches(DeletePolicy policy) const;
  std::string Summary() const;
};

struct PassItem;
struct PassShared;

class Pass {
 public:
  Pass(PassSettings settings, SourceSide source, DestinationSide dest, ObjectCopier& copier,
       AsyncGate& objects_in_flight, PassObserver* observer)
      : settings_(std::move(settings)),
        source_(std::move(source)),
        dest_(std::move(dest)),
        copier_(copier),
        in_flight_(objects_in_flight),
        observer_(observer) {}

  io::Task<PassReport> Run();

 private:
  io::Task<void> RunItem(std::shared_ptr<PassShared> shared, std::shared_ptr<PassItem> item);
  // layout velero: may this unit marker go now? (pass_marker.cc)
  io::Task<bool> MarkerMayGo(std::shared_ptr<PassShared> shared, const PassItem& item);
  // The unit's listing fingerprint as the source shows it now (UnitFacts::listing).
  io::Task<Result<std::uint64_t>> ListUnitAgain(const std::string& unit);
  // deletes.cc. `pass_started_ms`: wall clock at the start of this pass.
  io::Task<void> RunDeletes(std::vector<std::string> candidates, PassReport& report,
                            std::int64_t pass_started_ms);
  io::Task<void> AbortStaleUploads(const std::set<std::string>& resumable, PassReport& report);

  PassSettings settings_;
  SourceSide source_;
  DestinationSide dest_;
  ObjectCopier& copier_;
  AsyncGate& in_flight_;
  PassObserver* observer_;
};

std::int64_t NowMs();

}  // namespace ferry::engine
