// UnitGate: when a Velero unit's marker (velero-backup.json) may be handed
// to the replica. The facts behind these rules are in docs/layouts.md.
//
// Velero writes the marker second (after the logs, before the tarball and
// the companion files), and with async operations writes it again later with
// a terminal phase, then the final tarball. A replica's sync controller
// imports a backup the first time it reads the marker and never looks again,
// so the marker may go only when the unit is whole at the source:
//   - the marker parses and its status.phase is terminal;
//   - <name>.tar.gz is listed (not needed for Failed / FailedValidation);
//   - no multipart upload begun since the marker was written is still open
//     under the unit (a tarball on its way);
//   - no file of the unit is new or changed for `settle`;
// and (enforced by the UnitTracker) every other file of the unit is verified
// at the replica. Everything here is pure: the pass gathers the facts.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::engine {

// Markers larger than this are not read (a Backup CR is a few KiB).
inline constexpr std::size_t kMaxMarkerBytes = 4u << 20;

struct MarkerInfo {
  bool parsed = false;   // a JSON object with a string status.phase
  std::string phase;     // status.phase as written ("" when absent)
  std::string error;     // why it did not parse (for the report)
  bool terminal = false;       // Completed, PartiallyFailed, Failed, FailedValidation
  bool needs_tarball = false;  // terminal and not Failed / FailedValidation
};

// Parses a marker's bytes; never throws. Malformed JSON, a missing or
// non-string phase: parsed = false (not terminal).
MarkerInfo ParseVeleroMarker(std::string_view json);
bool IsTerminalBackupPhase(std::string_view phase);

// "backups/<b>/" → "backups/<b>/<b>.tar.gz" (also for restores/<r>/).
std::string TarballKey(std::string_view unit);

// What a pass saw of one unit at the source, gathered while listing it.
struct UnitFacts {
  bool complete = false;          // the listing went past the whole unit
  bool has_tarball = false;
  std::int64_t last_change_ms = 0;  // newest ChangeMs over the unit's files
  std::int64_t marker_mtime_ms = 0;  // the marker's LastModified (source clock)
  int files = 0;
  // The unit's keys and ETags as listed, in order (FoldUnitListing): the
  // gate lists the unit again after its open-upload check and lets the
  // marker go only when nothing changed in between (an upload completed
  // after the pass listed the unit shows up there, not in the upload list).
  std::uint64_t listing = 0;
};

// Folds one listed file (key, ETag) into a unit's listing fingerprint.
std::uint64_t FoldUnitListing(std::uint64_t fingerprint, std::string_view rel_key,
                              std::string_view etag);

// Units whose marker is gated: "backups/<b>/" and "restores/<r>/" (layout
// velero). Their marker is `<unit>velero-backup.json`.
bool IsGatedUnit(std::string_view unit);
bool IsVeleroUnitMarker(std::string_view unit, std::string_view rel_key);

// When ferry must assume a file last changed: the later of ferry's first
// sighting of this version (its own clock) and the source's LastModified,
// the latter capped at `now_ms` so a source clock ahead of ours cannot push
// the settle period into the future.
std::int64_t ChangeMs(std::int64_t first_seen_ms, std::int64_t mtime_ms, std::int64_t now_ms);

// Adds one listed file of `unit` (its ETag, first sighting of this version
// by ferry, LastModified at the source) to `facts`.
void NoteUnitFile(std::string_view unit, std::string_view rel_key, std::string_view etag,
                  std::int64_t first_seen_ms, std::int64_t mtime_ms, std::int64_t now_ms,
                  UnitFacts* facts);

struct GateDecision {
  bool release = false;
  // Held only because the unit is still within `settle` of its last change:
  // time alone releases it (if nothing is written meanwhile).
  bool settling = false;
  std::string reason;            // why held (empty when released)
  std::int64_t recheck_at_ms = 0;  // when looking again can change the answer
};

// The part that needs no I/O: a complete listing and a quiet unit.
GateDecision DecideSettled(const UnitFacts& facts, std::chrono::milliseconds settle,
                           std::int64_t now_ms);
// The whole decision once the marker was read and the source's open uploads
// under the unit counted (`open_uploads`: begun at or after the marker).
GateDecision DecideMarker(const UnitFacts& facts, const MarkerInfo& marker, int open_uploads,
                          std::chrono::milliseconds settle, std::int64_t now_ms);

}  // namespace ferry::engine
