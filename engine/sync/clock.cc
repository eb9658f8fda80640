#include "engine/sync/clock.h"

#include <chrono>
#include <fstream>

namespace ferry::engine {
namespace {

class RealClock final : public Clock {
 public:
  std::int64_t WallMs() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  std::int64_t MonotonicMs() const override {
    // steady_clock is CLOCK_MONOTONIC on Linux: one time line per boot.
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
  std::string BootId() const override {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    if (!std::getline(in, id)) return "";
    return id;
  }
};

}  // namespace

const Clock& SystemClock() {
  static const RealClock clock;
  return clock;
}

}  // namespace ferry::engine
