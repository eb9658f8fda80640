// GraceClock: the time line delete grace periods are measured on, one per
// (route, destination), so that a wall clock that jumps forward never makes
// a deletion come early.
//
// It reads like wall time in milliseconds, but between two readings in the
// same boot it advances by the wall clock's advance capped at the monotonic
// clock's (a forward jump of the wall clock is not counted; a backward one
// advances it by nothing). Across a reboot only the wall clock can say how
// long ferryd was down, so it advances by the wall clock's advance (never
// backwards). The reading is kept in the route state's meta ("grace_clock":
// "<grace ms> <wall ms> <monotonic ms> <boot id>"), so restarts keep it.
//
// REQUIRES: one caller at a time per RouteState (a destination's full passes
// do not overlap).
#pragma once

#include <cstdint>

#include "engine/sync/clock.h"
#include "engine/sync/route_state.h"
#include "protocols/base/status.h"

namespace ferry::engine {

// The grace-clock time now; persists the new reading. An unreadable stored
// reading (older manifest, damage) starts the line at the wall clock.
Result<std::int64_t> GraceNowMs(RouteState& state, const Clock& clock);

}  // namespace ferry::engine
