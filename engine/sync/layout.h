// Layout policies: which backup unit a key belongs to and in which phase of
// that unit it may be written (the Velero and kopia facts behind these rules
// are in docs/layouts.md; the marker's gate is engine/sync/unit_gate.h).
//
//   velero: unit backups/<name>/ (and restores/<name>/): every file is phase 0
//           and velero-backup.json, the marker Velero's sync controller
//           imports a backup by, is phase 1 (written only after the rest of
//           the unit is replicated and verified). kopia/<ns>/ and restic/<ns>/
//           repositories inside the location follow the kopia rules.
//   kopia:  unit = the repository (the route root): pack blobs p*/q* and any
//           other blob phase 0, index blobs x* phase 1, format/config blobs
//           kopia.repository, kopia.blobcfg, kopia.maintenance phase 2.
//           (Legacy restic/<ns>/: data/ and keys phase 0, index/ phase 1,
//           snapshots/ and config phase 2.)
//   plain:  no units, everything phase 0.
//
// Deletion reverses the order: the highest phase goes first (marker first).
#pragma once

#include <string>
#include <string_view>

#include "protocols/base/status.h"

namespace ferry::engine {

enum class LayoutKind { kPlain, kVelero, kKopia };
std::string_view LayoutName(LayoutKind k);
Result<LayoutKind> ParseLayout(std::string_view name);

struct Placement {
  std::string unit;  // "" = no unit (no ordering constraint)
  int phase = 0;     // 0..kMaxPhase
};
inline constexpr int kMaxPhase = 2;

// `rel_key` is the key relative to the route's prefix.
Placement Classify(LayoutKind layout, std::string_view rel_key);

// True for velero-backup.json markers (the unit's completion, for RPO).
bool IsVeleroMarker(std::string_view rel_key);

}  // namespace ferry::engine
