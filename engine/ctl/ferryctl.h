// ferryctl's commands: a request over the control socket, the answer shown
// as a table (or JSON with --json), and the exit code scripts rely on.
//
// Exit codes (docs/operations.md):
//   0  ok (verify: replica matches; wait: lag went below the bound)
//   1  the command ran and failed: verify found differences, wait timed out,
//      the daemon refused (unknown route, ...)
//   2  usage error (bad flags, bad duration)
//   3  cannot reach ferryd (no socket, not listening, no answer in time)
#pragma once

#include <chrono>
#include <iosfwd>
#include <string>

namespace ferry::ctl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct Options {
  std::string socket = "/run/ferry/ferry.sock";
  std::string command;  // status, lag, pause, resume, resync, verify, approve-deletes, wait
  std::string route;
  bool json = false;
  std::chrono::milliseconds timeout{10000};       // per request (verify: longer)
  std::chrono::milliseconds lag_below{0};         // wait
  std::chrono::milliseconds wait_timeout{600000};  // wait
};

int Run(const Options& options, std::ostream& out, std::ostream& err);

}  // namespace ferry::ctl
