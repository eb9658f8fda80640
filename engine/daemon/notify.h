// systemd notification (sd_notify): READY=1 once serving, STATUS= one line
// with the lag, WATCHDOG=1 at half the WatchdogSec systemd asked for,
// STOPPING=1 when draining. Without NOTIFY_SOCKET every call is a no-op.
#pragma once

#include <chrono>
#include <string>

namespace ferry::engine {

class Notifier {
 public:
  Notifier();
  static void Ready();
  static void Stopping();
  void Status(const std::string& line);
  // Sends WATCHDOG=1 when half the watchdog interval has passed since the
  // last one. Called from the I/O loop, so a stuck loop stops the pings.
  void Watchdog(std::chrono::steady_clock::time_point now);

 private:
  std::chrono::microseconds interval_{0};  // 0: no watchdog
  std::chrono::steady_clock::time_point last_{};
  std::string last_status_;
};

}  // namespace ferry::engine
