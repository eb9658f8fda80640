// Pass: the deletion step and the mass-delete guard. See deletes.h.
#include "engine/sync/deletes.h"

#include <xxhash.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>

#include "engine/sync/grace_clock.h"
#include "engine/sync/layout.h"
#include "engine/sync/pass_internal.h"
#include "engine/transfer/parallel.h"
#include "protocols/base/digest.h"

namespace ferry::engine {
namespace {

constexpr int kDeleteWorkers = 16;
constexpr std::string_view kMarkerName = "velero-backup.json";

bool ParseInt(std::string_view s, std::int64_t* out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
  return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// What a Velero backup's marker is doing at the replica, for the gating of
// the backup's other files.
enum class MarkerAtReplica { kUnknown, kDeletedThisPass, kAbsent, kPresent };

}  // namespace

std::string EncodeApproval(const DeleteApproval& a) {
  return std::to_string(a.count) + " " + a.batch + " " + std::to_string(a.approved_ms) + " " +
         std::to_string(a.expires_ms);
}

std::optional<DeleteApproval> DecodeApproval(std::string_view text) {
  std::vector<std::string_view> parts;
  while (!text.empty()) {
    auto sp = text.find(' ');
    parts.push_back(text.substr(0, sp));
    if (sp == std::string_view::npos) break;
    text.remove_prefix(sp + 1);
  }
  if (parts.size() != 4 || parts[1].size() != 32) return std::nullopt;
  DeleteApproval a;
  std::int64_t count = 0;
  if (!ParseInt(parts[0], &count) || count <= 0 || !ParseInt(parts[2], &a.approved_ms) ||
      !ParseInt(parts[3], &a.expires_ms)) {
    return std::nullopt;
  }
  a.count = static_cast<std::uint64_t>(count);
  a.batch = std::string(parts[1]);
  return a;
}

std::string BatchFingerprint(const std::vector<std::string>& keys) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), &XXH3_freeState);
  XXH3_128bits_reset(st.get());
  for (const std::string& k : keys) {
    // Length first: keys may hold any byte, so no separator is unambiguous.
    const std::uint64_t n = k.size();
    XXH3_128bits_update(st.get(), &n, sizeof n);
    XXH3_128bits_update(st.get(), k.data(), k.size());
  }
  XXH128_canonical_t c;
  XXH128_canonicalFromHash(&c, XXH3_128bits_digest(st.get()));
  return digest::ToHex(std::string_view(reinterpret_cast<const char*>(c.digest), sizeof c.digest));
}

Result<ApproveResult> ApproveHeldDeletes(RouteState& state, std::int64_t now_wall_ms) {
  ApproveResult out;
  auto held = state.GetMeta(kMetaDeletesPaused);
  auto batch = state.GetMeta(kMetaDeletesBatch);
  std::int64_t count = 0;
  if (!held || !ParseInt(*held, &count) || count <= 0 || !batch || batch->size() != 32) {
    return out;  // nothing held: nothing armed
  }
  DeleteApproval a;
  a.count = static_cast<std::uint64_t>(count);
  a.batch = *batch;
  a.approved_ms = now_wall_ms;
  a.expires_ms =
      now_wall_ms + std::chrono::duration_cast<std::chrono::milliseconds>(kApprovalTtl).count();
  FERRY_RETURN_IF_ERROR(state.PutMeta(kMetaApproval, EncodeApproval(a)));
  out.held = a.count;
  out.armed = true;
  out.expires_ms = a.expires_ms;
  return out;
}

io::Task<void> Pass::RunDeletes(std::vector<std::string> candidates, PassReport& report,
                                std::int64_t pass_started_ms) {
  report.extra = candidates.size();
  const DeleteSettings& del = settings_.deletes;
  if (del.policy == DeletePolicy::kKeep || candidates.empty()) co_return;
  const Clock& clock = settings_.clock ? *settings_.clock : SystemClock();
  RouteState& state = *dest_.state;
  auto fail = [&](const Status& s) {
    if (report.errors.size() < kMaxReportedErrors) report.errors.push_back(s.ToString());
  };

  std::vector<std::string> eligible;
  if (del.policy == DeletePolicy::kMirror) {
    auto now = GraceNowMs(state, clock);
    if (!now.ok()) {
      fail(now.status().Annotate("reading the grace clock; deletes skipped this pass"));
      co_return;
    }
    for (const std::string& key : candidates) {
      auto st = state.Get(key);
      if (!st.ok()) {
        fail(st.status());
        co_return;
      }
      ObjectState s = st->value_or(ObjectState{});
      // A record from before the grace clock (or a wall clock that went
      // back) may lie in its future: the wait then starts now.
      if (s.phase != ObjectPhase::kDeletePending || s.delete_seen_ms > *now) {
        s.phase = ObjectPhase::kDeletePending;
        s.delete_seen_ms = *now;
        Status put = state.Put(key, s);
        if (!put.ok()) {
          fail(put);
          co_return;
        }
      }
      if (*now - s.delete_seen_ms < del.grace.count()) {
        report.deletes_waiting++;
        continue;
      }
      eligible.push_back(key);
    }
  } else {
    eligible = std::move(candidates);
  }
  if (eligible.empty()) co_return;

  // Mass-delete guard.
  const double limit = del.max_fraction * static_cast<double>(report.destination_objects);
  auto stored = state.GetMeta(kMetaApproval);
  std::optional<DeleteApproval> approval;
  if (stored && !stored->empty()) approval = DecodeApproval(*stored);
  const bool had_approval = stored && !stored->empty();
  const std::int64_t now_wall = clock.WallMs();
  if (static_cast<double>(eligible.size()) > limit) {
    const std::string batch = BatchFingerprint(eligible);
    const bool approved = approval && approval->expires_ms > now_wall &&
                          approval->count == eligible.size() && approval->batch == batch;
    if (had_approval) {
      // Used now, or not for this batch: either way it is spent.
      Status cleared = state.PutMeta(kMetaApproval, "");
      if (!cleared.ok()) {
        fail(cleared);
        co_return;
      }
    }
    if (!approved) {
      Status put = state.PutMeta(kMetaDeletesPaused, std::to_string(eligible.size()));
      if (put.ok()) put = state.PutMeta(kMetaDeletesBatch, batch);
      if (!put.ok()) {
        fail(put);
        co_return;
      }
      report.deletes_paused = true;
      std::string why = "mass-delete guard: " + std::to_string(eligible.size()) + " of " +
                        std::to_string(report.destination_objects) +
                        " replica objects would be deleted; paused until approved "
                        "(ferryctl approve-deletes " +
                        settings_.route + ")";
      if (had_approval) {
        why += approval && approval->expires_ms <= now_wall
                   ? "; the earlier approval had expired"
                   : "; the earlier approval was for another batch (" +
                         (approval ? std::to_string(approval->count) : std::string("?")) +
                         " keys) and is dropped";
      }
      report.errors.push_back(why);
      co_return;
    }
  } else if (had_approval && (!approval || approval->approved_ms < pass_started_ms ||
                              approval->expires_ms <= now_wall)) {
    // Given before this pass began, and this pass needs none: the batch it
    // was for is gone. (One given during this pass waits for the next.)
    Status cleared = state.PutMeta(kMetaApproval, "");
    if (!cleared.ok()) {
      fail(cleared);
      co_return;
    }
  }
  Status unpaused = state.PutMeta(kMetaDeletesPaused, "");
  if (unpaused.ok()) unpaused = state.PutMeta(kMetaDeletesBatch, "");
  if (!unpaused.ok()) {
    fail(unpaused);
    co_return;
  }

  // Highest phase first: a Velero marker goes before the rest of its unit.
  std::vector<std::pair<Placement, std::string>> keyed;
  keyed.reserve(eligible.size());
  for (std::string& k : eligible) keyed.emplace_back(Classify(settings_.layout, k), std::move(k));
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& a, const auto& b) { return a.first.phase > b.first.phase; });

  std::mutex mu;
  std::set<std::string> blocked_units;             // GUARDED_BY(mu)
  std::map<std::string, MarkerAtReplica> markers;  // GUARDED_BY(mu)
  // Is this key's Velero backup marker still at the replica? (Only for the
  // files of a backups/<name>/ unit other than the marker.)
  auto marker_in_the_way = [&](const Placement& p, const std::string& key) -> io::Task<bool> {
    if (p.unit.empty() || p.phase != 0 || !IsVeleroMarker(p.unit + std::string(kMarkerName)) ||
        key == p.unit + std::string(kMarkerName)) {
      co_return false;
    }
    {
      std::lock_guard lock(mu);
      auto it = markers.find(p.unit);
      if (it != markers.end() && it->second != MarkerAtReplica::kUnknown) {
        co_return it->second == MarkerAtReplica::kPresent;
      }
    }
    auto head = co_await WithRetry(settings_.retry, *dest_.pacer, [&]() {
      return dest_.backend->Head(dest_.prefix + p.unit + std::string(kMarkerName),
                                 storage::HeadOptions());
    });
    const bool absent = !head.ok() && head.status().Is(ErrorClass::kNotFound);
    std::lock_guard lock(mu);
    if (!head.ok() && !absent && report.errors.size() < kMaxReportedErrors) {
      report.errors.push_back(head.status().Annotate("checking the unit's marker").ToString());
    }
    // An error counts as present: when in doubt, keep the backup whole.
    markers[p.unit] = absent ? MarkerAtReplica::kAbsent : MarkerAtReplica::kPresent;
    co_return !absent;
  };

  std::size_t begin = 0;
  while (begin < keyed.size()) {
    const int phase = keyed[begin].first.phase;
    std::size_t end = begin;
    while (end < keyed.size() && keyed[end].first.phase == phase) ++end;
    std::size_t next = begin;
    (void)co_await RunParallel(kDeleteWorkers, [&](int, ParallelControl&) -> io::Task<Status> {
      for (;;) {
        const Placement* p = nullptr;
        const std::string* key = nullptr;
        {
          std::lock_guard lock(mu);
          if (next >= end) co_return Status::Ok();
          p = &keyed[next].first;
          key = &keyed[next].second;
          ++next;
          if (!p->unit.empty() && blocked_units.count(p->unit)) {
            report.deletes_blocked++;
            continue;
          }
        }
        auto block = [&]() {
          // REQUIRES: mu held. Lower phases of this unit wait.
          if (!p->unit.empty() && p->phase > 0) blocked_units.insert(p->unit);
        };
        if (co_await marker_in_the_way(*p, *key)) {
          std::lock_guard lock(mu);
          report.deletes_blocked++;
          continue;
        }
        // Act only on the source's own word that the object is gone.
        auto head = co_await WithRetry(settings_.retry, *source_.pacer, [&]() {
          return source_.backend->Head(source_.prefix + *key, storage::HeadOptions());
        });
        if (head.ok() || !head.status().Is(ErrorClass::kNotFound)) {
          std::lock_guard lock(mu);
          block();
          if (!head.ok() && report.errors.size() < kMaxReportedErrors) {
            report.errors.push_back(head.status().Annotate("confirming delete").ToString());
          }
          continue;
        }
        Status gone = co_await WithRetry(settings_.retry, *dest_.pacer, [&]() {
          return dest_.backend->Delete(dest_.prefix + *key);
        });
        std::lock_guard lock(mu);
        if (!gone.ok()) {
          block();
          if (report.errors.size() < kMaxReportedErrors) report.errors.push_back(gone.ToString());
          continue;
        }
        if (IsVeleroMarker(*key)) markers[p->unit] = MarkerAtReplica::kDeletedThisPass;
        // Dedup must never copy from an object that is gone.
        Status dropped = state.DropContent(*key);
        if (!dropped.ok() && report.errors.size() < kMaxReportedErrors) {
          report.errors.push_back(
              dropped.Annotate("forgetting a deleted object's content").ToString());
        }
        Status erased = state.Erase(*key);
        if (!erased.ok() && report.errors.size() < kMaxReportedErrors) {
          report.errors.push_back(erased.Annotate("forgetting a deleted object").ToString());
        }
        report.deleted++;
        if (observer_) observer_->OnDeleted(dest_.id, *key);
      }
    });
    begin = end;
  }
}

}  // namespace ferry::engine
