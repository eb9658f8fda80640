// UnitTracker: enforces the layout's write order inside each backup unit.
//
// Phase-0 items start at once. An item of a higher phase waits in its unit
// until the unit is sealed (the planner has moved past it, so no more items
// of lower phases can come) and every item of every lower phase has finished
// successfully. If any item of a unit fails, its later phases are held back
// for the next pass: a Velero marker is never written for an incomplete unit.
//
// Thread-safe: completions arrive from any io thread; state is one block
// under one mutex.
#pragma once

#include <boost/asio/experimental/concurrent_channel.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/sync/layout.h"
#include "protocols/base/body.h"

namespace ferry::engine {

class UnitTracker {
 public:
  // Starts one item (asynchronously); must eventually call Done(token, ok).
  using Starter = std::function<void(std::uint64_t token)>;

  explicit UnitTracker(Starter start) : start_(std::move(start)) {}

  // Registers item `token` in `unit` at `phase`; starts it now or defers it.
  void Submit(std::uint64_t token, const Placement& placement);
  // No more items will be submitted for `unit`.
  void Seal(const std::string& unit);
  // The item finished (ok = verified at the destination).
  void Done(std::uint64_t token, bool ok);
  // Seals every unit and waits until nothing is running or startable.
  io::Task<void> Drain();

  // Items never started because an earlier phase of their unit failed.
  std::uint64_t held_back() const;

 private:
  struct Unit {
    std::array<int, kMaxPhase + 1> outstanding{};
    std::array<std::vector<std::uint64_t>, kMaxPhase + 1> deferred;
    int released = 0;  // highest phase allowed to run
    bool sealed = false;
    bool failed = false;
  };
  // Returns tokens to start; caller starts them after unlocking.
  void AdvanceLocked(const std::string& name, Unit& unit, std::vector<std::uint64_t>* start);
  void StartAll(const std::vector<std::uint64_t>& tokens);
  void SignalIfIdleLocked();

  Starter start_;
  mutable std::mutex mu_;
  std::map<std::string, Unit> units_;                    // GUARDED_BY(mu_)
  std::map<std::uint64_t, std::pair<std::string, int>> running_;  // GUARDED_BY(mu_)
  std::uint64_t held_back_ = 0;                          // GUARDED_BY(mu_)
  bool draining_ = false;                                // GUARDED_BY(mu_)
  using Signal = boost::asio::experimental::concurrent_channel<void(boost::system::error_code)>;
  std::unique_ptr<Signal> idle_;                         // set by Drain()
};

}  // namespace ferry::engine
