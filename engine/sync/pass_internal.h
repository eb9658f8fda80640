// Internals shared by pass.cc (planner) and pass_items.cc (items, deletes).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>

#include "engine/sync/pass.h"
#include "engine/sync/unit_gate.h"
#include "engine/sync/unit_tracker.h"

namespace ferry::engine {

inline constexpr std::size_t kMaxReportedErrors = 10;

struct PassItem {
  std::uint64_t token = 0;
  std::string rel_key;
  storage::ObjectSummary src;
  // The destination's listing, read without error up to this key, lacks it.
  bool absent_at_destination = false;
  std::optional<ObjectState> state;
  bool holds_gate = false;
  // layout velero: this is a unit's marker, copied only when the unit is
  // whole (unit_gate.h). `facts` is filled before the unit is sealed, so
  // before the tracker can start the item.
  bool gated = false;
  std::string unit;
  UnitFacts facts;  // GUARDED_BY(PassShared::mu)
};

// Shared by the planner and every spawned item; kept alive by the items.
struct PassShared {
  std::mutex mu;
  PassReport report;                                        // GUARDED_BY(mu)
  std::map<std::uint64_t, std::shared_ptr<PassItem>> items;  // GUARDED_BY(mu)
  std::unique_ptr<UnitTracker> tracker;
  // Destination keys whose copy failed this pass: their journaled uploads
  // are resumed next pass. Every other journaled upload is stale.
  std::set<std::string> resumable;                          // GUARDED_BY(mu)
};

}  // namespace ferry::engine
