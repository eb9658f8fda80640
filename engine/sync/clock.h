// Clock: the engine's view of time, injected so tests can move it.
//
// WallMs is the system's real-time clock (it can jump either way: NTP, an
// operator, a VM restore); MonotonicMs never goes back and is shared by every
// process of one boot (CLOCK_MONOTONIC); BootId names that boot, so a stored
// monotonic reading is only compared with one from the same boot.
#pragma once

#include <cstdint>
#include <string>

namespace ferry::engine {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t WallMs() const = 0;
  virtual std::int64_t MonotonicMs() const = 0;
  virtual std::string BootId() const = 0;
};

// The machine's clocks. BootId reads /proc/sys/kernel/random/boot_id ("" when
// unreadable: no two readings are then taken as the same boot).
const Clock& SystemClock();

}  // namespace ferry::engine
