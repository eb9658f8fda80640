#include "engine/sync/unit_gate.h"

#include <algorithm>

#include <nlohmann/json.hpp>
#include <xxhash.h>

namespace ferry::engine {
namespace {

std::string Seconds(std::int64_t ms) {
  return std::to_string((std::max<std::int64_t>(ms, 0) + 999) / 1000) + "s";
}

}  // namespace

bool IsTerminalBackupPhase(std::string_view phase) {
  return phase == "Completed" || phase == "PartiallyFailed" || phase == "Failed" ||
         phase == "FailedValidation";
}

MarkerInfo ParseVeleroMarker(std::string_view json) {
  MarkerInfo m;
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    m.error = "not valid JSON";
    return m;
  }
  if (!j.is_object()) {
    m.error = "not a JSON object";
    return m;
  }
  auto status = j.find("status");
  if (status == j.end() || !status->is_object()) {
    m.error = "no status object";
    return m;
  }
  auto phase = status->find("phase");
  if (phase == status->end() || !phase->is_string()) {
    m.error = "no status.phase string";
    return m;
  }
  m.parsed = true;
  m.phase = phase->get<std::string>();
  m.terminal = IsTerminalBackupPhase(m.phase);
  m.needs_tarball = m.terminal && m.phase != "Failed" && m.phase != "FailedValidation";
  return m;
}

std::string TarballKey(std::string_view unit) {
  std::string_view u = unit;
  if (u.ends_with('/')) u.remove_suffix(1);
  auto slash = u.rfind('/');
  std::string_view name = slash == std::string_view::npos ? u : u.substr(slash + 1);
  return std::string(unit) + std::string(name) + ".tar.gz";
}

bool IsGatedUnit(std::string_view unit) {
  return unit.starts_with("backups/") || unit.starts_with("restores/");
}

bool IsVeleroUnitMarker(std::string_view unit, std::string_view rel_key) {
  constexpr std::string_view kMarker = "velero-backup.json";
  return IsGatedUnit(unit) && rel_key.size() == unit.size() + kMarker.size() &&
         rel_key.starts_with(unit) && rel_key.ends_with(kMarker);
}

std::uint64_t FoldUnitListing(std::uint64_t fingerprint, std::string_view rel_key,
                              std::string_view etag) {
  // Length-prefixed: keys may hold any byte.
  for (std::string_view field : {rel_key, etag}) {
    const std::uint64_t n = field.size();
    fingerprint = XXH3_64bits_withSeed(&n, sizeof n, fingerprint);
    fingerprint = XXH3_64bits_withSeed(field.data(), field.size(), fingerprint);
  }
  return fingerprint;
}

void NoteUnitFile(std::string_view unit, std::string_view rel_key, std::string_view etag,
                  std::int64_t first_seen_ms, std::int64_t mtime_ms, std::int64_t now_ms,
                  UnitFacts* facts) {
  facts->files++;
  facts->listing = FoldUnitListing(facts->listing, rel_key, etag);
  facts->last_change_ms =
      std::max(facts->last_change_ms, ChangeMs(first_seen_ms, mtime_ms, now_ms));
  if (rel_key == TarballKey(unit)) facts->has_tarball = true;
  if (IsVeleroUnitMarker(unit, rel_key)) facts->marker_mtime_ms = mtime_ms;
}

std::int64_t ChangeMs(std::int64_t first_seen_ms, std::int64_t mtime_ms, std::int64_t now_ms) {
  return std::max(first_seen_ms, std::min(mtime_ms, now_ms));
}

GateDecision DecideSettled(const UnitFacts& facts, std::chrono::milliseconds settle,
                           std::int64_t now_ms) {
  GateDecision d;
  if (!facts.complete) {
    d.reason = "the unit was not listed to its end this pass";
    d.recheck_at_ms = now_ms + settle.count();
    return d;
  }
  const std::int64_t quiet_at = facts.last_change_ms + settle.count();
  if (now_ms < quiet_at) {
    d.reason = "unit changed " + Seconds(now_ms - facts.last_change_ms) + " ago; settling for " +
               Seconds(settle.count());
    d.recheck_at_ms = quiet_at;
    d.settling = true;
    return d;
  }
  d.release = true;
  return d;
}

GateDecision DecideMarker(const UnitFacts& facts, const MarkerInfo& marker, int open_uploads,
                          std::chrono::milliseconds settle, std::int64_t now_ms) {
  GateDecision d = DecideSettled(facts, settle, now_ms);
  if (!d.release) return d;
  d.release = false;
  // Nothing of these changes without a write to the unit; look again after
  // another settle period (cheap: the unit's listing and one small GET).
  d.recheck_at_ms = now_ms + std::max<std::int64_t>(settle.count(), 1000);
  if (!marker.parsed) {
    d.reason = "marker unreadable (" + marker.error + ")";
    return d;
  }
  if (!marker.terminal) {
    d.reason = "backup phase " + (marker.phase.empty() ? std::string("\"\"") : marker.phase) +
               " is not final";
    return d;
  }
  if (marker.needs_tarball && !facts.has_tarball) {
    d.reason = "phase " + marker.phase + " but no tarball at the source yet";
    return d;
  }
  if (open_uploads > 0) {
    d.reason = std::to_string(open_uploads) + " upload(s) still open under the unit";
    return d;
  }
  d.release = true;
  d.reason.clear();
  d.recheck_at_ms = 0;
  return d;
}

}  // namespace ferry::engine
