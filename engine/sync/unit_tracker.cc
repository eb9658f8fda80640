#include "engine/sync/unit_tracker.h"

#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace ferry::engine {

void UnitTracker::Submit(std::uint64_t token, const Placement& placement) {
  std::vector<std::uint64_t> start;
  {
    std::lock_guard lock(mu_);
    Unit& unit = units_[placement.unit];
    int phase = std::clamp(placement.phase, 0, kMaxPhase);
    if (placement.unit.empty() || phase <= unit.released) {
      unit.outstanding[phase]++;
      running_[token] = {placement.unit, phase};
      start.push_back(token);
    } else {
      unit.deferred[phase].push_back(token);
    }
  }
  StartAll(start);
}

void UnitTracker::Seal(const std::string& name) {
  std::vector<std::uint64_t> start;
  {
    std::lock_guard lock(mu_);
    auto it = units_.find(name);
    if (it == units_.end()) return;
    it->second.sealed = true;
    AdvanceLocked(name, it->second, &start);
  }
  StartAll(start);
}

void UnitTracker::Done(std::uint64_t token, bool ok) {
  std::vector<std::uint64_t> start;
  {
    std::lock_guard lock(mu_);
    auto r = running_.find(token);
    if (r == running_.end()) return;
    auto [name, phase] = r->second;
    running_.erase(r);
    auto it = units_.find(name);
    if (it != units_.end()) {
      Unit& unit = it->second;
      unit.outstanding[phase]--;
      if (!ok) unit.failed = true;
      AdvanceLocked(name, unit, &start);
    }
    SignalIfIdleLocked();
  }
  StartAll(start);
}

void UnitTracker::AdvanceLocked(const std::string& name, Unit& unit,
                                std::vector<std::uint64_t>* start) {
  if (name.empty()) {
    if (unit.outstanding[0] == 0 && unit.sealed) units_.erase(name);
    return;
  }
  while (unit.sealed && unit.outstanding[unit.released] == 0) {
    if (unit.failed || unit.released == kMaxPhase) {
      for (int p = unit.released + 1; p <= kMaxPhase; ++p) {
        held_back_ += unit.deferred[p].size();
      }
      units_.erase(name);  // invalidates `unit`
      return;
    }
    ++unit.released;
    for (std::uint64_t token : unit.deferred[unit.released]) {
      unit.outstanding[unit.released]++;
      running_[token] = {name, unit.released};
      start->push_back(token);
    }
    unit.deferred[unit.released].clear();
  }
}

void UnitTracker::StartAll(const std::vector<std::uint64_t>& tokens) {
  for (std::uint64_t t : tokens) start_(t);
}

void UnitTracker::SignalIfIdleLocked() {
  if (draining_ && running_.empty() && units_.empty() && idle_) {
    idle_->try_send(boost::system::error_code{});
  }
}

io::Task<void> UnitTracker::Drain() {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    idle_ = std::make_unique<Signal>(co_await boost::asio::this_coro::executor, 1);
    draining_ = true;
    for (auto& [name, unit] : units_) names.push_back(name);
  }
  for (const std::string& n : names) Seal(n);
  {
    std::lock_guard lock(mu_);
    // The unnamed unit is sealed too: it only ever holds running items.
    auto it = units_.find("");
    if (it != units_.end() && it->second.outstanding[0] == 0) units_.erase(it);
    if (running_.empty() && units_.empty()) co_return;
  }
  co_await idle_->async_receive(boost::asio::use_awaitable);
}

std::uint64_t UnitTracker::held_back() const {
  std::lock_guard lock(mu_);
  return held_back_;
}

}  // namespace ferry::engine
