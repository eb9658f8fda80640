// Child processes for the benchmark harness: a tool under test (ferryd,
// rclone, aws) or a server (s3sim), with its resource usage.
//
// A Child owns its process: the destructor stops it (SIGTERM, then SIGKILL)
// and reaps it, and the child gets PR_SET_PDEATHSIG(SIGKILL) so it dies with
// ferry-bench. Its stdout and stderr go to one log file. When it is reaped
// by Wait(), the kernel's accounting for exactly that process (wait4) gives
// user and system CPU seconds and the peak RSS (ru_maxrss, the same figure
// as VmHWM in /proc/<pid>/status), so a tool's cost is measured without
// counting the simulator or the harness.
//
// Not thread-safe: one thread drives a Child.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::bench {

struct ChildOptions {
  std::vector<std::string> argv;  // argv[0]: a path, or a name looked up in PATH
  // Environment changes applied to ferry-bench's own: set (value) or unset (nullopt).
  std::vector<std::pair<std::string, std::optional<std::string>>> env;
  std::string log_path;     // stdout + stderr (appended); "" = /dev/null
  std::string working_dir;  // "" = ferry-bench's
};

struct Usage {
  int exit_code = -1;        // -1 when killed by a signal or not finished
  int signal = 0;            // the signal that ended it, 0 if none
  double wall_seconds = 0;   // from spawn to exit
  double user_seconds = 0;
  double system_seconds = 0;
  std::uint64_t peak_rss_bytes = 0;
  bool timed_out = false;
  double cpu_seconds() const { return user_seconds + system_seconds; }
  bool ok() const { return exit_code == 0 && !timed_out; }
};

class Child {
 public:
  // Starts the process. kInvalidArgument when it cannot be executed.
  static Result<std::unique_ptr<Child>> Spawn(ChildOptions opts);
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  bool Running();
  // Waits for the exit (killing the child at `timeout`) and returns its usage.
  Usage Wait(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; reaps. Idempotent.
  Usage Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
  std::chrono::steady_clock::time_point started() const { return started_; }
  const std::string& log_path() const { return log_path_; }
  const std::string& program() const { return program_; }

 private:
  Child() = default;
  // Non-blocking reap; true once the child has exited (usage_ filled).
  bool Reap(bool block);
  // Reads VmHWM once the child runs its own program (after exec).
  void SampleHwm();

  pid_t pid_ = -1;
  bool exited_ = false;
  Usage usage_;
  std::string program_;
  std::string log_path_;
  std::string self_exe_;          // ferry-bench itself: the child before exec
  std::uint64_t hwm_bytes_ = 0;   // largest VmHWM seen after exec
  std::chrono::steady_clock::time_point started_{};
};

// Runs a command to its end (for short helper steps such as openssl).
Result<Usage> RunToEnd(ChildOptions opts, std::chrono::milliseconds timeout);

// The last `max_bytes` of a file (a child's log, for error messages).
std::string Tail(const std::string& path, std::size_t max_bytes = 2000);

// Looks `name` up in PATH (or returns it when it contains '/'); "" when not found.
std::string FindProgram(const std::string& name);

// User + system CPU seconds a running process has used so far
// (/proc/PID/stat, clock ticks); 0 when it cannot be read. For servers the
// harness did not spawn itself (s3sim regions, Ceph daemons).
double ProcessCpuSeconds(pid_t pid);

}  // namespace ferry::bench
