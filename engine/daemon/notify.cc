#include "engine/daemon/notify.h"

#include <systemd/sd-daemon.h>

namespace ferry::engine {

Notifier::Notifier() {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(/*unset_environment=*/0, &usec) > 0 && usec > 0) {
    interval_ = std::chrono::microseconds(usec / 2);
  }
}

void Notifier::Ready() { sd_notify(0, "READY=1"); }

void Notifier::Stopping() { sd_notify(0, "STOPPING=1"); }

void Notifier::Status(const std::string& line) {
  if (line == last_status_) return;
  last_status_ = line;
  std::string msg = "STATUS=";
  for (char c : line) msg += c == '\n' ? ' ' : c;
  sd_notify(0, msg.c_str());
}

void Notifier::Watchdog(std::chrono::steady_clock::time_point now) {
  if (interval_.count() == 0 || now - last_ < interval_) return;
  last_ = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace ferry::engine
