#include "engine/status/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ferry::engine {
namespace {

constexpr char kMetaName[] = "lag_stats";
constexpr int kStatsFormat = 1;

std::int64_t AsInt(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

std::uint64_t AsUint(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_number_unsigned() ? it->get<std::uint64_t>() : 0;
}

// The throughput ring slot of a second. Seconds before the epoch (a clock or
// a test near 0: Figures looks 60 s back) are negative, and C++'s % keeps the
// sign: a plain `s % n` indexed out of bounds (UBSan).
std::size_t SecondSlot(std::int64_t second, std::size_t slots) {
  const auto n = static_cast<std::int64_t>(slots);
  return static_cast<std::size_t>(((second % n) + n) % n);
}

}  // namespace

std::string_view FailureReason(const Status& s) {
  if (s.ok()) return "other";
  switch (s.error_class()) {
    case ErrorClass::kRetryable: return "retryable";
    case ErrorClass::kThrottled: return "throttled";
    case ErrorClass::kNotFound: return "not_found";
    case ErrorClass::kPrecondition: return "precondition";
    case ErrorClass::kAuth: return "auth";
    case ErrorClass::kClockSkew: return "clock_skew";
    case ErrorClass::kInvalidArgument: return "invalid_argument";
    case ErrorClass::kCancelled: return "cancelled";
    case ErrorClass::kFatal: return "fatal";
  }
  return "other";
}

std::int64_t DestinationFigures::OldestPendingAgeMs(std::int64_t now_ms) const {
  if (pending_objects == 0 || oldest_pending_since_ms == 0) return 0;
  return std::max<std::int64_t>(0, now_ms - oldest_pending_since_ms);
}

double DestinationFigures::LatencyQuantile(double q) const {
  if (latency_count == 0) return 0;
  const double want = q * static_cast<double>(latency_count);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < latency_buckets.size(); ++i) {
    seen += latency_buckets[i];
    if (static_cast<double>(seen) >= want) {
      return i < kLatencyBuckets.size() ? kLatencyBuckets[i]
                                        : std::numeric_limits<double>::infinity();
    }
  }
  return std::numeric_limits<double>::infinity();
}

DestinationStats::DestinationStats(std::string route, std::string destination, RouteState* state,
                                   std::chrono::milliseconds target_lag)
    : route_(std::move(route)),
      destination_(std::move(destination)),
      state_(state),
      target_lag_(target_lag) {
  saved_.route = route_;
  saved_.destination = destination_;
}

Status DestinationStats::Load() {
  std::lock_guard lock(mu_);
  if (auto text = state_->GetMeta(kMetaName); text && !text->empty()) {
    nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (j.is_object() && AsInt(j, "format") == kStatsFormat) {
      auto hist = j.find("latency_buckets");
      if (hist != j.end() && hist->is_array() && hist->size() == saved_.latency_buckets.size()) {
        for (std::size_t i = 0; i < hist->size(); ++i) {
          const auto& v = (*hist)[i];
          saved_.latency_buckets[i] = v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
        }
      }
      saved_.latency_count = AsUint(j, "latency_count");
      auto sum = j.find("latency_sum_s");
      saved_.latency_sum_s = sum != j.end() && sum->is_number() ? sum->get<double>() : 0;
      saved_.missed_target = AsUint(j, "missed_target");
      saved_.transferred_bytes = AsUint(j, "transferred_bytes");
      saved_.transferred_objects = AsUint(j, "transferred_objects");
      saved_.deleted_objects = AsUint(j, "deleted_objects");
      saved_.last_reconcile_ms = AsInt(j, "last_reconcile_ms");
      saved_.passes_ok = AsUint(j, "passes_ok");
      saved_.passes_incomplete = AsUint(j, "passes_incomplete");
      saved_.rpo_completion_ms = AsInt(j, "rpo_completion_ms");
      if (auto b = j.find("rpo_backup"); b != j.end() && b->is_string()) {
        saved_.rpo_backup = b->get<std::string>();
      }
      if (auto f = j.find("failed"); f != j.end() && f->is_object()) {
        for (const auto& [reason, n] : f->items()) {
          if (n.is_number_unsigned()) saved_.failed[reason] = n.get<std::uint64_t>();
        }
      }
    }
    // An unreadable value (another version's) is not fatal: figures restart.
  }
  auto paused = state_->GetMeta("deletes_paused");
  saved_.deletes_paused = paused && !paused->empty();
  // Rebuild the pending set from durable first-seen times.
  return state_->Scan([this](const std::string& key, const ObjectState& st) {
    if (st.phase == ObjectPhase::kPending || st.phase == ObjectPhase::kFailed) {
      std::int64_t since = st.first_seen_ms;
      if (st.source_mtime_ms > 0 && (since == 0 || st.source_mtime_ms < since)) {
        since = st.source_mtime_ms;
      }
      PendingEntry e;
      e.size = st.size;
      e.seq = ++seq_;
      e.since = by_since_.emplace(since, key);
      pending_bytes_ += st.size;
      pending_[key] = e;
    }
    return true;
  });
}

nlohmann::json DestinationStats::ToJsonLocked() const {
  nlohmann::json j;
  j["format"] = kStatsFormat;
  j["latency_buckets"] = saved_.latency_buckets;
  j["latency_count"] = saved_.latency_count;
  j["latency_sum_s"] = saved_.latency_sum_s;
  j["missed_target"] = saved_.missed_target;
  j["transferred_bytes"] = saved_.transferred_bytes;
  j["transferred_objects"] = saved_.transferred_objects;
  j["deleted_objects"] = saved_.deleted_objects;
  j["last_reconcile_ms"] = saved_.last_reconcile_ms;
  j["passes_ok"] = saved_.passes_ok;
  j["passes_incomplete"] = saved_.passes_incomplete;
  j["rpo_completion_ms"] = saved_.rpo_completion_ms;
  j["rpo_backup"] = saved_.rpo_backup;
  j["failed"] = saved_.failed;
  return j;
}

Status DestinationStats::Save() {
  std::string text;
  {
    std::lock_guard lock(mu_);
    text = ToJsonLocked().dump();
  }
  return state_->PutMeta(kMetaName, text);
}

void DestinationStats::RemovePendingLocked(const std::string& rel_key) {
  auto it = pending_.find(rel_key);
  if (it == pending_.end()) return;
  pending_bytes_ -= std::min(pending_bytes_, it->second.size);
  by_since_.erase(it->second.since);
  pending_.erase(it);
}

void DestinationStats::Pending(const std::string& rel_key, std::int64_t since_ms,
                               std::uint64_t size) {
  std::lock_guard lock(mu_);
  auto it = pending_.find(rel_key);
  if (it != pending_.end()) {
    // Seen again (next pass, or an event then the pass): keep the earliest time.
    std::int64_t since = std::min(it->second.since->first, since_ms > 0 ? since_ms
                                                                        : it->second.since->first);
    by_since_.erase(it->second.since);
    it->second.since = by_since_.emplace(since, rel_key);
    pending_bytes_ -= std::min(pending_bytes_, it->second.size);
    it->second.size = size;
    pending_bytes_ += size;
    it->second.seq = ++seq_;
    return;
  }
  PendingEntry e;
  e.size = size;
  e.seq = ++seq_;
  e.since = by_since_.emplace(since_ms, rel_key);
  pending_bytes_ += size;
  pending_.emplace(rel_key, e);
}

void DestinationStats::AddThroughputLocked(std::uint64_t bytes, std::int64_t now_ms) {
  const std::int64_t second = now_ms / 1000;
  if (second - tput_second_ >= static_cast<std::int64_t>(tput_.size())) {
    tput_.fill(0);
  } else {
    for (std::int64_t s = tput_second_ + 1; s <= second; ++s) {
      tput_[SecondSlot(s, tput_.size())] = 0;
    }
  }
  if (second > tput_second_) tput_second_ = second;
  tput_[SecondSlot(second, tput_.size())] += bytes;
}

void DestinationStats::Replicated(const std::string& rel_key, const ObjectState& state,
                                  bool bytes_moved, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  std::int64_t since = state.first_seen_ms;
  if (state.source_mtime_ms > 0 && (since == 0 || state.source_mtime_ms < since)) {
    since = state.source_mtime_ms;
  }
  if (auto it = pending_.find(rel_key); it != pending_.end()) {
    since = std::min(since > 0 ? since : it->second.since->first, it->second.since->first);
  }
  RemovePendingLocked(rel_key);
  const std::int64_t verified = state.replicated_at_ms > 0 ? state.replicated_at_ms : now_ms;
  const double latency_s =
      since > 0 ? std::max<double>(0, static_cast<double>(verified - since) / 1000.0) : 0;
  std::size_t b = 0;
  while (b < kLatencyBuckets.size() && latency_s > kLatencyBuckets[b]) ++b;
  saved_.latency_buckets[b]++;
  saved_.latency_count++;
  saved_.latency_sum_s += latency_s;
  if (latency_s * 1000.0 > static_cast<double>(target_lag_.count())) saved_.missed_target++;
  saved_.transferred_objects++;
  if (bytes_moved) {
    saved_.transferred_bytes += state.size;
    AddThroughputLocked(state.size, now_ms);
  }
}

void DestinationStats::InSync(const std::string& rel_key) {
  std::lock_guard lock(mu_);
  RemovePendingLocked(rel_key);
}

void DestinationStats::Dropped(const std::string& rel_key) {
  std::lock_guard lock(mu_);
  RemovePendingLocked(rel_key);
}

void DestinationStats::Failed(const std::string& rel_key, std::string_view reason,
                              const std::string& message, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  saved_.failed[std::string(reason)]++;
  saved_.last_error = message.substr(0, 500);
  saved_.last_error_ms = now_ms;
}

void DestinationStats::Deleted(const std::string& rel_key) {
  std::lock_guard lock(mu_);
  RemovePendingLocked(rel_key);
  saved_.deleted_objects++;
}

void DestinationStats::FullPassStarted() {
  std::lock_guard lock(mu_);
  full_pass_seq_ = ++seq_;
}

void DestinationStats::FullPassEnded(const PassReport& report, std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  const bool complete = report.source_listing_complete && report.destination_listing_complete &&
                        !report.halted;
  saved_.deletes_paused = report.deletes_paused;
  if (!complete) {
    saved_.passes_incomplete++;
    if (!report.errors.empty()) {
      saved_.last_error = report.errors.front().substr(0, 500);
      saved_.last_error_ms = now_ms;
    }
    return;
  }
  saved_.passes_ok++;
  saved_.last_reconcile_ms = now_ms;
  reconciled_ = true;
  // Entries the complete listing did not produce again are gone at the source.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.seq < full_pass_seq_) {
      pending_bytes_ -= std::min(pending_bytes_, it->second.size);
      by_since_.erase(it->second.since);
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void DestinationStats::Rpo(std::int64_t completion_ms, const std::string& backup) {
  std::lock_guard lock(mu_);
  if (completion_ms > saved_.rpo_completion_ms) {
    saved_.rpo_completion_ms = completion_ms;
    saved_.rpo_backup = backup;
  }
}

void DestinationStats::SetTargetLag(std::chrono::milliseconds target_lag) {
  std::lock_guard lock(mu_);
  target_lag_ = target_lag;
}

void DestinationStats::SetEndpoints(const Pacer* source, const Pacer* dest,
                                    std::chrono::milliseconds stall_after) {
  std::lock_guard lock(mu_);
  source_pacer_ = source;
  dest_pacer_ = dest;
  stall_after_ = stall_after;
}

void DestinationStats::CopyStarted(std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  if (copies_++ == 0) copies_since_ms_ = now_ms;
}

void DestinationStats::CopyEnded() {
  std::lock_guard lock(mu_);
  if (copies_ > 0) --copies_;
}

namespace {

std::string WholeSeconds(std::chrono::milliseconds d) {
  return std::to_string(d.count() / 1000) + " s";
}

// What a stalled destination waits for: the endpoint whose requests went
// longest without a byte, else the gap between attempts.
std::string StallReason(const Pacer& source, const http::Activity::Snapshot& s, const Pacer& dest,
                        const http::Activity::Snapshot& d, std::chrono::milliseconds quiet) {
  const bool dest_waits = d.in_flight > 0 && (s.in_flight == 0 || d.since_progress >= s.since_progress);
  const Pacer* waited = dest_waits ? &dest : s.in_flight > 0 ? &source : nullptr;
  std::string why;
  if (waited != nullptr) {
    const http::Activity::Snapshot& a = dest_waits ? d : s;
    why = "waiting for endpoint " + waited->endpoint() + " (" +
          (dest_waits ? "destination" : "source") + "): " + std::to_string(a.in_flight) +
          " request(s) in flight, no byte for " + WholeSeconds(a.since_progress);
  } else {
    why = "no request in flight for " + WholeSeconds(quiet) +
          " (between retries, or waiting for buffers or the transfer queue)";
  }
  const Pacer::RetriedErrors src_err = source.retried_errors();
  const Pacer::RetriedErrors dst_err = dest.retried_errors();
  const Pacer::RetriedErrors& newest = dst_err.last_ms >= src_err.last_ms ? dst_err : src_err;
  if (newest.last_ms > 0) why += "; last retried error: " + newest.last.substr(0, 300);
  return why;
}

}  // namespace

DestinationFigures DestinationStats::Figures(std::int64_t now_ms) const {
  std::lock_guard lock(mu_);
  DestinationFigures f = saved_;
  f.target_lag_ms = target_lag_.count();
  f.pending_objects = pending_.size();
  f.pending_bytes = pending_bytes_;
  f.oldest_pending_since_ms = by_since_.empty() ? 0 : by_since_.begin()->first;
  // Bytes over the last full 60 seconds (the current one is partial).
  const std::int64_t second = now_ms / 1000;
  std::uint64_t sum = 0;
  for (std::int64_t s = std::max<std::int64_t>(0, second - 60); s < second; ++s) {
    if (s <= tput_second_ && tput_second_ - s < static_cast<std::int64_t>(tput_.size())) {
      sum += tput_[SecondSlot(s, tput_.size())];
    }
  }
  f.throughput_bps = static_cast<double>(sum) / 60.0;
  f.copies_in_flight = copies_;
  if (source_pacer_ == nullptr || dest_pacer_ == nullptr) return f;
  const http::Activity::Snapshot s = source_pacer_->activity()->Read();
  const http::Activity::Snapshot d = dest_pacer_->activity()->Read();
  f.rate_bps = d.sent_bps;
  // LAST ERROR: the newest of an object's failure and an attempt that
  // failed and is being retried (a stalled endpoint shows up here long
  // before its objects run out of attempts).
  for (const Pacer* p : {source_pacer_, dest_pacer_}) {
    Pacer::RetriedErrors e = p->retried_errors();
    if (e.last_ms > f.last_error_ms) {
      f.last_error = "retried: " + e.last;
      f.last_error_ms = e.last_ms;
    }
  }
  if (copies_ == 0) return f;
  // Quiet since the later of the last byte at either endpoint and the
  // start of this spell of copying.
  // An endpoint never used has no progress to offer.
  std::chrono::milliseconds quiet(std::max<std::int64_t>(0, now_ms - copies_since_ms_));
  for (const http::Activity::Snapshot* a : {&s, &d}) {
    if (a->used) quiet = std::min(quiet, a->since_progress);
  }
  f.no_progress_ms = quiet.count();
  if (quiet >= stall_after_) {
    f.stalled = true;
    f.stall_reason = StallReason(*source_pacer_, s, *dest_pacer_, d, quiet);
  }
  return f;
}

}  // namespace ferry::engine
