// Deletes: the last step of a full pass, and the mass-delete guard's
// approvals (see Pass::RunDeletes in deletes.cc).
//
// Rules, in the order they apply to a key found only at the destination:
//  1. policy `keep` deletes nothing; `mirror` waits `grace` on the grace
//     clock (grace_clock.h: a wall clock jumping forward does not shorten
//     it); `mirror-now` does not wait.
//  2. Mass-delete guard: when the keys now eligible are more than
//     `max_fraction` of the replica, the whole batch is held until an
//     operator approves THAT batch (its count and a fingerprint of its keys)
//     with `ferryctl approve-deletes`. An approval is used by the first full
//     pass that holds the same batch, expires after kApprovalTtl, and is
//     dropped when a pass holds a different batch or, having started after
//     it was given, needs none. Approving when nothing is held arms nothing.
//  3. Units: keys go highest phase first (a Velero marker before the rest of
//     its backup). A key of a unit waits (reported as blocked) when a
//     higher-phase delete of the same unit was not done this pass (source
//     not confirmed gone, delete failed, blocked), and a Velero backup's
//     other files wait while its marker is still at the replica: a replica
//     must never show a marker whose backup has lost files.
//  4. A key is deleted only after the source answers HEAD with 404.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/sync/route_state.h"
#include "protocols/base/status.h"

namespace ferry::engine {

inline constexpr std::chrono::hours kApprovalTtl{1};

// Meta names in the route state.
inline constexpr char kMetaDeletesPaused[] = "deletes_paused";  // held count, "" = none
inline constexpr char kMetaDeletesBatch[] =
    "deletes_paused_batch";                                 // fingerprint of the held batch
inline constexpr char kMetaApproval[] = "approve_deletes";  // EncodeApproval, "" = none

// An operator's approval of one held batch.
struct DeleteApproval {
  std::uint64_t count = 0;
  std::string batch;             // BatchFingerprint of the approved keys
  std::int64_t approved_ms = 0;  // wall clock when given
  std::int64_t expires_ms = 0;   // wall clock
};
std::string EncodeApproval(const DeleteApproval& a);
std::optional<DeleteApproval> DecodeApproval(std::string_view text);

// XXH3-128 over the keys in the given order (32 hex characters); streamed,
// so a batch of a million keys costs no copy.
std::string BatchFingerprint(const std::vector<std::string>& keys);

struct ApproveResult {
  std::uint64_t held = 0;  // keys the guard holds at this destination
  bool armed = false;      // false: nothing was held, nothing approved
  std::int64_t expires_ms = 0;
};

// `ferryctl approve-deletes`: arms an approval for the batch held at this
// destination, if any.
Result<ApproveResult> ApproveHeldDeletes(RouteState& state, std::int64_t now_wall_ms);

}  // namespace ferry::engine
