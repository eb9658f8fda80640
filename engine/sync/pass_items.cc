// Pass: running one work item, and aborting stale uploads. See pass.h
// (deletes.cc has the deletion step).
#include <algorithm>
#include <chrono>

#include "engine/sync/pass_internal.h"

namespace ferry::engine {
namespace {
constexpr auto kFarDeadline = std::chrono::hours(24 * 365);
}  // namespace

io::Task<void> Pass::RunItem(std::shared_ptr<PassShared> shared, std::shared_ptr<PassItem> item) {
  // A held marker stays pending (not failed): the unit is not whole yet.
  if (item->gated && !co_await MarkerMayGo(shared, *item)) co_return;
  if (!item->holds_gate) {
    Status admitted =
        co_await in_flight_.Acquire(1, std::chrono::steady_clock::now() + kFarDeadline);
    if (!admitted.ok()) {
      std::lock_guard lock(shared->mu);
      shared->report.failed++;
      item->state->phase = ObjectPhase::kFailed;
      co_return;
    }
  }
  // One copy of a key at a time per destination (a targeted pass may race a
  // full one); the second finds the first's result and skips.
  std::optional<std::string> locked;
  if (settings_.key_locks) {
    bool got = co_await settings_.key_locks->Lock(
        item->rel_key, std::chrono::steady_clock::now() + std::chrono::hours(6));
    if (!got) {
      in_flight_.Release(1);
      std::lock_guard lock(shared->mu);
      shared->report.failed++;
      item->state->phase = ObjectPhase::kFailed;
      co_return;
    }
    locked = item->rel_key;
  }
  struct Unlocker {
    KeyLocks* locks;
    const std::optional<std::string>& key;
    ~Unlocker() {
      if (locks && key) locks->Unlock(*key);
    }
  } unlocker{settings_.key_locks, locked};
  CopyRequest req;
  req.src = {source_.backend, source_.pacer};
  req.src_key = source_.prefix + item->rel_key;
  req.dst = {dest_.backend, dest_.pacer};
  req.dst_key = dest_.prefix + item->rel_key;
  req.journal = dest_.state;
  req.read_back = settings_.read_back;
  req.require_checksum = settings_.require_checksum;
  req.require_etag = settings_.require_etag;
  req.listed = item->src;
  req.listed.key = req.src_key;
  req.absent_at_destination = item->absent_at_destination;
  if (observer_) observer_->OnCopyStarted(dest_.id);
  Result<CopyOutcome> r = co_await copier_.Copy(req);
  if (observer_) observer_->OnCopyEnded(dest_.id);
  in_flight_.Release(1);

  ObjectState st = item->state.value_or(ObjectState{});
  st.attempts++;
  if (r.ok()) {
    const CopyOutcome& out = *r;
    st.phase = ObjectPhase::kReplicated;
    st.src_etag = out.src_etag;
    st.dst_etag = out.dst_etag;
    st.size = out.size;
    st.source_mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             out.source.last_modified.time_since_epoch())
                             .count();
    st.replicated_at_ms = NowMs();
    st.verified_by = std::string(VerifiedByName(out.verified_by));
    if (!out.content_hash.empty()) st.content_hash = out.content_hash;
    st.last_error.clear();
    Status put = dest_.state->Put(item->rel_key, st);
    if (put.ok() && out.size > 0) {
      put = dest_.state->AddContent(ContentId(out.src_etag, out.size), req.dst_key, out.dst_etag);
    }
    std::lock_guard lock(shared->mu);
    if (!put.ok()) {
      // Replicated but not recorded: count as failed so the pass does not
      // claim success; the next pass finds it in sync and records it.
      shared->report.failed++;
      if (shared->report.errors.size() < kMaxReportedErrors) {
        shared->report.errors.push_back(put.ToString());
      }
      st.phase = ObjectPhase::kFailed;
    } else if (out.action == CopyAction::kSkipped) {
      shared->report.skipped++;
    } else {
      shared->report.copied++;
      shared->report.copied_bytes += out.size;
      shared->report.parts_resumed += static_cast<std::uint64_t>(out.parts_resumed);
      if (out.action == CopyAction::kServerCopy || out.action == CopyAction::kDedupCopy) {
        shared->report.server_copies++;
      }
    }
    item->state = st;
    if (observer_ && st.phase == ObjectPhase::kReplicated) {
      observer_->OnReplicated(dest_.id, item->rel_key, st, out);
    }
    co_return;
  }
  if (r.status().Is(ErrorClass::kNotFound)) {
    // Gone from the source since it was listed: nothing to replicate.
    (void)dest_.state->Erase(item->rel_key);
    if (observer_) observer_->OnVanished(dest_.id, item->rel_key);
    std::lock_guard lock(shared->mu);
    shared->report.vanished++;
    item->state->phase = ObjectPhase::kFailed;  // holds the unit's later phases back
    co_return;
  }
  st.phase = ObjectPhase::kFailed;
  st.last_error = r.status().ToString().substr(0, 500);
  (void)dest_.state->Put(item->rel_key, st);
  if (observer_) observer_->OnFailed(dest_.id, item->rel_key, r.status());
  std::lock_guard lock(shared->mu);
  shared->resumable.insert(req.dst_key);
  shared->report.failed++;
  if (shared->report.errors.size() < kMaxReportedErrors) {
    shared->report.errors.push_back(r.status().ToString());
  }
  item->state = st;
}

io::Task<void> Pass::AbortStaleUploads(const std::set<std::string>& resumable,
                                        PassReport& report) {
  // After a pass whose source listing was complete, every object that needed
  // copying has run: a copy that finished removed its journaled upload, one
  // that failed keeps it for the next pass (`resumable`). Any other upload
  // of ours (object replicated another way, changed, or gone from the
  // source) will never be resumed: abort it so no parts linger.
  std::vector<std::pair<std::string, std::string>> stale;  // dst key, upload id
  Status scan = dest_.state->ForEachUpload([&](const std::string& dst_key,
                                                const JournalUpload& u) {
    if (!resumable.count(dst_key)) stale.emplace_back(dst_key, u.upload_id);
    return true;
  });
  if (!scan.ok()) {
    report.errors.push_back(scan.Annotate("listing journaled uploads").ToString());
    co_return;
  }
  for (const auto& [key, upload_id] : stale) {
    Status aborted = co_await WithRetry(settings_.retry, *dest_.pacer, [&]() {
      return dest_.backend->AbortMultipart(key, upload_id);
    });
    if (!aborted.ok() && !aborted.Is(ErrorClass::kNotFound)) {
      if (report.errors.size() < kMaxReportedErrors) {
        report.errors.push_back(aborted.Annotate("aborting stale upload").ToString());
      }
      continue;
    }
    if (dest_.state->EndUpload(key).ok()) report.stale_uploads_aborted++;
  }
}

}  // namespace ferry::engine
