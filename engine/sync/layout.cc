#include "engine/sync/layout.h"

namespace ferry::engine {
namespace {

constexpr std::string_view kMarker = "velero-backup.json";

// Kopia rules for a blob name inside a repository rooted at `unit`.
Placement KopiaPlacement(std::string unit, std::string_view blob) {
  Placement p;
  p.unit = std::move(unit);
  if (blob == "kopia.repository" || blob == "kopia.blobcfg" || blob == "kopia.maintenance") {
    p.phase = 2;
  } else if (!blob.empty() && blob.front() == 'x' && blob.find('/') == std::string_view::npos) {
    p.phase = 1;
  }
  return p;
}

// Legacy restic repositories: data packs, then indexes, then snapshots and
// the config file.
Placement ResticPlacement(std::string unit, std::string_view path) {
  Placement p;
  p.unit = std::move(unit);
  if (path.starts_with("index/")) {
    p.phase = 1;
  } else if (path.starts_with("snapshots/") || path == "config") {
    p.phase = 2;
  }
  return p;
}

// "<top>/<name>/rest" → unit "<top>/<name>/", rest; false when not that shape.
bool SplitUnit(std::string_view key, std::string_view top, std::string* unit,
               std::string_view* rest) {
  if (key.size() <= top.size() + 1 || key.substr(0, top.size()) != top ||
      key[top.size()] != '/') {
    return false;
  }
  auto slash = key.find('/', top.size() + 1);
  if (slash == std::string_view::npos || slash == top.size() + 1) return false;
  *unit = std::string(key.substr(0, slash + 1));
  *rest = key.substr(slash + 1);
  return true;
}

}  // namespace

std::string_view LayoutName(LayoutKind k) {
  switch (k) {
    case LayoutKind::kPlain: return "plain";
    case LayoutKind::kVelero: return "velero";
    case LayoutKind::kKopia: return "kopia";
  }
  return "plain";
}

Result<LayoutKind> ParseLayout(std::string_view name) {
  if (name == "plain") return LayoutKind::kPlain;
  if (name == "velero") return LayoutKind::kVelero;
  if (name == "kopia") return LayoutKind::kKopia;
  return Status::Error(ErrorClass::kInvalidArgument,
                       "unknown layout \"" + std::string(name) + "\" (velero, kopia or plain)");
}

bool IsVeleroMarker(std::string_view rel_key) {
  std::string unit;
  std::string_view rest;
  return SplitUnit(rel_key, "backups", &unit, &rest) && rest == kMarker;
}

Placement Classify(LayoutKind layout, std::string_view rel_key) {
  std::string unit;
  std::string_view rest;
  switch (layout) {
    case LayoutKind::kPlain:
      return {};
    case LayoutKind::kKopia:
      return KopiaPlacement(".", rel_key);  // the route root is the repository
    case LayoutKind::kVelero:
      if (SplitUnit(rel_key, "backups", &unit, &rest) ||
          SplitUnit(rel_key, "restores", &unit, &rest)) {
        Placement p;
        p.unit = std::move(unit);
        p.phase = rest == kMarker ? 1 : 0;
        return p;
      }
      if (SplitUnit(rel_key, "kopia", &unit, &rest)) {
        return KopiaPlacement(std::move(unit), rest);
      }
      if (SplitUnit(rel_key, "restic", &unit, &rest)) {
        return ResticPlacement(std::move(unit), rest);
      }
      return {};
  }
  return {};
}

}  // namespace ferry::engine
