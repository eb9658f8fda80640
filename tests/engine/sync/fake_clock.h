// A Clock the test moves by hand: wall, monotonic and boot id each set or
// advanced on their own (a wall clock that jumps, a reboot).
#pragma once

#include <atomic>
#include <mutex>
#include <string>

#include "engine/sync/clock.h"

namespace ferry::engine::testing {

class FakeClock final : public Clock {
 public:
  FakeClock(std::int64_t wall_ms, std::int64_t mono_ms, std::string boot = "boot-1")
      : wall_(wall_ms), mono_(mono_ms), boot_(std::move(boot)) {}
  std::int64_t WallMs() const override { return wall_.load(); }
  std::int64_t MonotonicMs() const override { return mono_.load(); }
  std::string BootId() const override {
    std::lock_guard lock(mu_);
    return boot_;
  }
  // Time passing normally: both clocks move together.
  void Advance(std::int64_t ms) {
    wall_ += ms;
    mono_ += ms;
  }
  // Only the wall clock moves (NTP step, operator, VM restore).
  void JumpWall(std::int64_t ms) { wall_ += ms; }
  // A new boot: the monotonic clock restarts and the boot id changes.
  void Reboot(std::string boot, std::int64_t mono_ms) {
    std::lock_guard lock(mu_);
    boot_ = std::move(boot);
    mono_ = mono_ms;
  }

 private:
  std::atomic<std::int64_t> wall_;
  std::atomic<std::int64_t> mono_;
  mutable std::mutex mu_;
  std::string boot_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::engine::testing
