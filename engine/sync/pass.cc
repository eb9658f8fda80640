#include "engine/sync/pass.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <map>
#include <mutex>
#include <sstream>

#include "engine/sync/lister.h"
#include "engine/sync/pass_internal.h"
#include "engine/sync/unit_tracker.h"

namespace ferry::engine {

namespace {
constexpr auto kFarDeadline = std::chrono::hours(24 * 365);
}  // namespace

io::Task<bool> KeyLocks::Lock(const std::string& key,
                              std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (held_.insert(key).second) co_return true;
    }
    if (std::chrono::steady_clock::now() >= deadline) co_return false;
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor,
                                std::chrono::milliseconds(25));
    boost::system::error_code ec;
    co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

void KeyLocks::Unlock(const std::string& key) {
  std::lock_guard lock(mu_);
  held_.erase(key);
}

std::size_t KeyLocks::size() const {
  std::lock_guard lock(mu_);
  return held_.size();
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view DeletePolicyName(DeletePolicy p) {
  switch (p) {
    case DeletePolicy::kMirror: return "mirror";
    case DeletePolicy::kKeep: return "keep";
    case DeletePolicy::kMirrorNow: return "mirror-now";
  }
  return "mirror";
}

bool PassReport::Matches(DeletePolicy policy) const {
  bool copied_all = source_listing_complete && destination_listing_complete && failed == 0 &&
                    held_back == 0 && markers_held == 0 && !halted;
  if (policy == DeletePolicy::kMirrorNow) return copied_all && extra == deleted;
  return copied_all;
}

std::string PassReport::Summary() const {
  std::ostringstream o;
  o << "route " << route << " → " << destination << ": " << source_objects << " source objects, "
    << in_sync << " in sync, " << copied << " copied (" << copied_bytes << " bytes, "
    << server_copies << " server-side), " << skipped << " already present, " << failed
    << " failed, " << held_back << " held back, " << markers_held << " markers held, " << extra
    << " extra at destination, "
    << deleted << " deleted, " << deletes_waiting << " awaiting grace";
  if (deletes_blocked > 0) {
    o << ", " << deletes_blocked << " deletes waiting for their unit's marker to go first";
  }
  if (stale_uploads_aborted > 0) o << ", " << stale_uploads_aborted << " stale uploads aborted";
  if (parts_resumed > 0) o << ", " << parts_resumed << " parts resumed";
  if (deletes_paused) o << ", DELETES PAUSED by the mass-delete guard";
  if (halted) o << ", HALTED before the end (paused or stopping)";
  if (!source_listing_complete) o << ", source listing INCOMPLETE";
  if (!destination_listing_complete) o << ", destination listing INCOMPLETE";
  std::size_t shown = 0;
  for (const auto& [unit, held] : held_units) {
    if (++shown > kMaxReportedErrors) break;
    o << "\n  marker held: " << unit << ": " << held.reason;
  }
  for (const std::string& e : errors) o << "\n  error: " << e;
  return o.str();
}

io::Task<PassReport> Pass::Run() {
  auto executor = co_await boost::asio::this_coro::executor;
  const std::int64_t started_ms = (settings_.clock ? *settings_.clock : SystemClock()).WallMs();
  auto shared = std::make_shared<PassShared>();
  shared->report.route = settings_.route;
  shared->report.destination = dest_.id;
  shared->report.targeted = !settings_.subprefix.empty();
  const std::string& sub = settings_.subprefix;
  // The tracker's callback holds `shared` weakly: PassShared owns the tracker,
  // so a strong capture is a cycle that leaked every pass (LeakSanitizer). It
  // runs only from Submit (below) and Done (in an item's coroutine, which holds
  // `shared`), so the lock always succeeds.
  std::weak_ptr<PassShared> weak_shared = shared;
  shared->tracker = std::make_unique<UnitTracker>([this, weak_shared,
                                                   executor](std::uint64_t token) {
    std::shared_ptr<PassShared> shared = weak_shared.lock();
    if (!shared) return;
    std::shared_ptr<PassItem> item;
    {
      std::lock_guard lock(shared->mu);
      item = shared->items[token];
    }
    boost::asio::co_spawn(
        executor,
        [this, shared, item]() -> io::Task<void> {
          bool ok = false;
          // RunItem reports through `shared`; its result decides the unit.
          co_await RunItem(shared, item);
          {
            std::lock_guard lock(shared->mu);
            ok = item->state && item->state->phase == ObjectPhase::kReplicated;
            shared->items.erase(item->token);
          }
          shared->tracker->Done(item->token, ok);
        },
        boost::asio::detached);
  });

  Lister src(*source_.backend, *source_.pacer, settings_.retry, source_.prefix + sub);
  Lister dst(*dest_.backend, *dest_.pacer, settings_.retry, dest_.prefix + sub);
  std::vector<std::string> candidates;
  bool candidates_capped = false;
  auto note_error = [&](const Status& s) {
    std::lock_guard lock(shared->mu);
    if (shared->report.errors.size() < kMaxReportedErrors) {
      shared->report.errors.push_back(s.ToString());
    }
  };

  std::optional<storage::ObjectSummary> s, d;
  bool src_ok = true, dst_ok = true;
  auto next_src = [&]() -> io::Task<void> {
    auto r = co_await src.Next();
    if (r.ok()) {
      s = std::move(*r);
      if (s && !sub.empty()) s->key.insert(0, sub);
    } else {
      s.reset();
      src_ok = false;
      note_error(r.status().Annotate("listing source"));
    }
  };
  auto next_dst = [&]() -> io::Task<void> {
    if (!dst_ok) co_return;
    auto r = co_await dst.Next();
    if (r.ok()) {
      d = std::move(*r);
      if (d) {
        if (!sub.empty()) d->key.insert(0, sub);
        std::lock_guard lock(shared->mu);
        shared->report.destination_objects++;
      }
    } else {
      d.reset();
      dst_ok = false;  // keep copying: the copier HEADs the destination itself
      note_error(r.status().Annotate("listing destination"));
    }
  };
  co_await next_src();
  co_await next_dst();
  if (observer_ && src_ok && dst_ok) observer_->OnListed(dest_.id);

  std::string current_unit;
  std::uint64_t next_token = 1;
  bool halted = false;
  // layout velero: what the listing shows of the current unit, for its
  // marker's gate. Handed to the marker item before the unit is sealed.
  UnitFacts facts;
  std::shared_ptr<PassItem> marker_item;
  auto finish_unit = [&](bool complete) {
    if (marker_item) {
      std::lock_guard lock(shared->mu);
      marker_item->facts = facts;
      marker_item->facts.complete = complete;
    }
    marker_item.reset();
    facts = UnitFacts{};
  };
  while (src_ok && (s || d)) {
    if (settings_.halt && settings_.halt->load()) {
      halted = true;
      break;
    }
    if (!s || (d && d->key < s->key)) {
      if (candidates.size() < settings_.max_delete_candidates) {
        candidates.push_back(d->key);
      } else {
        candidates_capped = true;
      }
      co_await next_dst();
      continue;
    }
    std::optional<storage::ObjectSummary> at_dst;
    if (d && d->key == s->key) at_dst = std::move(d);
    storage::ObjectSummary cur = std::move(*s);

    Placement placement = Classify(settings_.layout, cur.key);
    if (placement.unit != current_unit) {
      finish_unit(true);
      if (!current_unit.empty()) shared->tracker->Seal(current_unit);
      current_unit = placement.unit;
    }
    const bool watched = settings_.layout == LayoutKind::kVelero && IsGatedUnit(placement.unit);
    {
      std::lock_guard lock(shared->mu);
      shared->report.source_objects++;
    }
    auto st = dest_.state->Get(cur.key);
    if (!st.ok()) {
      note_error(st.status());
      src_ok = false;  // state unreadable: stop planning, delete nothing
      break;
    }
    std::optional<ObjectState> state = std::move(*st);
    bool same = at_dst && at_dst->size == cur.size &&
                (at_dst->etag == cur.etag ||
                 (state && state->phase == ObjectPhase::kReplicated &&
                  state->src_etag == cur.etag && state->dst_etag == at_dst->etag));
    const std::int64_t mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      cur.last_modified.time_since_epoch())
                                      .count();
    if (same) {
      std::lock_guard lock(shared->mu);
      shared->report.in_sync++;
      if (!state || state->phase != ObjectPhase::kReplicated || state->src_etag != cur.etag) {
        ObjectState ns;
        ns.phase = ObjectPhase::kReplicated;
        ns.src_etag = cur.etag;
        ns.dst_etag = at_dst->etag;
        ns.size = cur.size;
        ns.source_mtime_ms = mtime_ms;
        ns.first_seen_ms = state ? state->first_seen_ms : NowMs();
        ns.replicated_at_ms = state && state->replicated_at_ms ? state->replicated_at_ms : NowMs();
        ns.verified_by = "listing-etag";
        auto put = dest_.state->Put(cur.key, ns);
        if (!put.ok() && shared->report.errors.size() < kMaxReportedErrors) {
          shared->report.errors.push_back(put.ToString());
        }
        state = ns;
      }
      if (observer_) observer_->OnInSync(dest_.id, cur.key, *state);
      if (watched) NoteUnitFile(placement.unit, cur.key, cur.etag, state->first_seen_ms, mtime_ms, NowMs(), &facts);
    } else {
      // New or changed: record when we first saw this version (durable), then copy.
      if (!state || state->src_etag != cur.etag || state->phase == ObjectPhase::kDeletePending) {
        ObjectState ns;
        ns.phase = ObjectPhase::kPending;
        ns.src_etag = cur.etag;
        ns.size = cur.size;
        ns.source_mtime_ms = mtime_ms;
        ns.first_seen_ms = NowMs();
        Status put = dest_.state->Put(cur.key, ns);
        if (!put.ok()) {
          note_error(put);
          src_ok = false;  // cannot record what we do: stop planning
          break;
        }
        state = ns;
      }
      if (observer_) {
        std::int64_t since = state->first_seen_ms;
        if (state->source_mtime_ms > 0 && (since == 0 || state->source_mtime_ms < since)) {
          since = state->source_mtime_ms;
        }
        observer_->OnPending(dest_.id, cur.key, since, cur.size);
      }
      auto item = std::make_shared<PassItem>();
      item->token = next_token++;
      item->rel_key = cur.key;
      item->src = cur;
      item->absent_at_destination = !at_dst && dst_ok;
      item->state = state;
      item->holds_gate = placement.unit.empty() || placement.phase == 0;
      if (watched) {
        NoteUnitFile(placement.unit, cur.key, cur.etag, state->first_seen_ms, mtime_ms, NowMs(), &facts);
        if (IsVeleroUnitMarker(placement.unit, cur.key)) {
          item->gated = true;
          item->unit = placement.unit;
          marker_item = item;
        }
      }
      if (item->holds_gate) {
        Status admitted = co_await in_flight_.Acquire(1, std::chrono::steady_clock::now() +
                                                             kFarDeadline);
        if (!admitted.ok()) {
          note_error(admitted);
          src_ok = false;
          break;
        }
      }
      {
        std::lock_guard lock(shared->mu);
        shared->items[item->token] = item;
      }
      shared->tracker->Submit(item->token, placement);
    }
    co_await next_src();
    if (at_dst) co_await next_dst();
  }
  // A unit cut short (halt, error) is not known whole: its marker waits.
  finish_unit(src_ok && !halted && !s);
  // The planner may stop early (halt, error): a page fetch may still run.
  co_await src.Drain();
  co_await dst.Drain();
  co_await shared->tracker->Drain();

  PassReport report;
  std::set<std::string> resumable;
  {
    std::lock_guard lock(shared->mu);
    resumable = shared->resumable;
    shared->report.halted = halted;
    shared->report.source_listing_complete = src_ok && !halted && src.complete();
    shared->report.destination_listing_complete = dst_ok && dst.complete();
    shared->report.held_back = shared->tracker->held_back();
    report = shared->report;
  }
  if (report.targeted) {
    // A targeted pass sees one corner of the route: nothing it did not
    // list may be judged stale or extra.
    co_return report;
  }
  // Only when the planner saw every source object (nothing broke off early).
  if (report.source_listing_complete) co_await AbortStaleUploads(resumable, report);
  if (report.source_listing_complete && report.destination_listing_complete) {
    if (candidates_capped) {
      report.errors.push_back("more than " + std::to_string(settings_.max_delete_candidates) +
                              " objects only at the destination; deletes skipped this pass");
      report.extra = candidates.size();
    } else {
      co_await RunDeletes(std::move(candidates), report, started_ms);
    }
  } else {
    report.extra = candidates.size();
  }
  co_return report;
}

}  // namespace ferry::engine
