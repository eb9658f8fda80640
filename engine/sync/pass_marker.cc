// Pass: the gate in front of a Velero unit's marker (see unit_gate.h and
// docs/layouts.md). A held marker stays pending in the manifest (its
// first-seen time kept) and is reported with the time at which looking
// again can release it; the daemon schedules a targeted pass of the unit
// for then.
#include <spdlog/spdlog.h>

#include <atomic>

#include "engine/sync/lister.h"
#include "engine/sync/pass_internal.h"

namespace ferry::engine {
namespace {

// Upload initiation times and LastModified are whole seconds at some
// servers: an upload begun in the marker's second counts as after it.
constexpr std::int64_t kTimestampSlackMs = 1000;

std::int64_t ToMs(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

io::Task<bool> Pass::MarkerMayGo(std::shared_ptr<PassShared> shared, const PassItem& item) {
  UnitFacts facts;
  {
    std::lock_guard lock(shared->mu);
    facts = item.facts;
  }
  auto hold = [&](GateDecision d) {
    std::lock_guard lock(shared->mu);
    shared->report.markers_held++;
    if (shared->report.held_units.size() < kMaxHeldUnitsReported) {
      shared->report.held_units[item.unit] = {std::move(d.reason), d.recheck_at_ms, d.settling};
    }
    return false;
  };
  const std::int64_t now = NowMs();
  GateDecision settled = DecideSettled(facts, settings_.settle, now);
  if (!settled.release) co_return hold(std::move(settled));
  GateDecision later;  // a hold for a reason only another write can change
  later.recheck_at_ms = now + std::max<std::int64_t>(settings_.settle.count(), 1000);
  if (item.src.size > kMaxMarkerBytes) {
    later.reason = "marker is " + std::to_string(item.src.size) + " bytes, more than the " +
                   std::to_string(kMaxMarkerBytes) + " ferry reads";
    co_return hold(std::move(later));
  }

  // The version that was listed, or nothing: a marker rewritten since is
  // judged by a later pass.
  const std::string key = source_.prefix + item.rel_key;
  std::unique_ptr<io::StringSink> sink;
  storage::GetOptions get;
  get.if_match = item.src.etag;
  auto got = co_await WithRetry(settings_.retry, *source_.pacer, [&]() {
    sink = std::make_unique<io::StringSink>(kMaxMarkerBytes);
    return source_.backend->Get(key, get, *sink);
  });
  if (!got.ok()) {
    if (got.status().Is(ErrorClass::kPrecondition)) {
      later.reason = "marker changed since it was listed";
    } else if (got.status().Is(ErrorClass::kNotFound)) {
      later.reason = "marker gone from the source since it was listed";
    } else {
      later.reason = "cannot read the marker: " + got.status().ToString().substr(0, 300);
    }
    co_return hold(std::move(later));
  }
  MarkerInfo marker = ParseVeleroMarker(sink->data());

  // A tarball (first or final) on its way is an open multipart upload under
  // the unit begun after the marker; older ones are abandoned attempts.
  int open_uploads = 0;
  auto uploads = co_await WithRetry(settings_.retry, *source_.pacer, [&]() {
    return source_.backend->ListUploads(source_.prefix + item.unit);
  });
  if (uploads.ok()) {
    for (const storage::UploadInfo& u : *uploads) {
      if (ToMs(u.initiated) + kTimestampSlackMs >= facts.marker_mtime_ms) ++open_uploads;
    }
  } else {
    // Velero's own IAM policy lacks s3:ListBucketMultipartUploads: then the
    // settle period alone covers a tarball still uploading.
    static std::atomic<bool> warned{false};
    if (!warned.exchange(true)) {
      spdlog::warn("route {}: cannot list open uploads at the source ({}); a Velero marker then "
                   "waits only for its unit to settle",
                   settings_.route, uploads.status().ToString());
    }
  }
  GateDecision d = DecideMarker(facts, marker, open_uploads, settings_.settle, NowMs());
  // An unreadable marker is named in the pass summary (held_units).
  if (!d.release) co_return hold(std::move(d));

  // The upload list was read after the pass listed the unit: a tarball
  // whose upload completed in between is in neither. Listing the unit again
  // now closes that window: unchanged since the pass listed it, and no
  // upload open after that, the unit the pass copied is the whole one.
  auto relisted = co_await ListUnitAgain(item.unit);
  if (!relisted.ok()) {
    later.reason = "cannot list the unit again: " + relisted.status().ToString().substr(0, 300);
    co_return hold(std::move(later));
  }
  if (*relisted != facts.listing) {
    GateDecision changed;
    changed.reason = "unit changed while it was being judged; settling again";
    changed.settling = true;
    changed.recheck_at_ms = NowMs() + std::max<std::int64_t>(settings_.settle.count(), 100);
    co_return hold(std::move(changed));
  }
  co_return true;
}

io::Task<Result<std::uint64_t>> Pass::ListUnitAgain(const std::string& unit) {
  Lister lister(*source_.backend, *source_.pacer, settings_.retry, source_.prefix + unit);
  std::uint64_t fingerprint = 0;
  for (;;) {
    auto next = co_await lister.Next();
    if (!next.ok()) co_return next.status();
    if (!*next) break;
    fingerprint = FoldUnitListing(fingerprint, unit + (*next)->key, (*next)->etag);
  }
  co_return fingerprint;
}

}  // namespace ferry::engine
