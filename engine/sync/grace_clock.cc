#include "engine/sync/grace_clock.h"

#include <algorithm>
#include <sstream>

namespace ferry::engine {
namespace {

constexpr char kMetaName[] = "grace_clock";

struct Reading {
  std::int64_t grace_ms = 0;
  std::int64_t wall_ms = 0;
  std::int64_t mono_ms = 0;
  std::string boot_id;
};

bool Parse(const std::string& text, Reading* out) {
  std::istringstream in(text);
  Reading r;
  if (!(in >> r.grace_ms >> r.wall_ms >> r.mono_ms)) return false;
  in >> r.boot_id;  // may be empty (boot id unreadable then)
  if (r.grace_ms < 0 || r.wall_ms < 0) return false;
  *out = r;
  return true;
}

}  // namespace

Result<std::int64_t> GraceNowMs(RouteState& state, const Clock& clock) {
  Reading now;
  now.wall_ms = clock.WallMs();
  now.mono_ms = clock.MonotonicMs();
  now.boot_id = clock.BootId();
  auto stored = state.GetMeta(kMetaName);
  Reading last;
  if (stored && Parse(*stored, &last)) {
    std::int64_t advance = std::max<std::int64_t>(0, now.wall_ms - last.wall_ms);
    if (!now.boot_id.empty() && now.boot_id == last.boot_id) {
      advance = std::min(advance, std::max<std::int64_t>(0, now.mono_ms - last.mono_ms));
    }
    now.grace_ms = last.grace_ms + advance;
  } else {
    now.grace_ms = now.wall_ms;
  }
  std::string text = std::to_string(now.grace_ms) + " " + std::to_string(now.wall_ms) + " " +
                     std::to_string(now.mono_ms) + " " + now.boot_id;
  FERRY_RETURN_IF_ERROR(state.PutMeta(kMetaName, text));
  return now.grace_ms;
}

}  // namespace ferry::engine
