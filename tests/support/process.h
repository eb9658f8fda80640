// Child processes for tests: start a server binary (s3sim, s3rver, ...),
// learn the port it listens on, and stop it when the test is done.
//
// A Process owns its child: the destructor stops it (SIGTERM, then SIGKILL
// after a grace period) and reaps it, so a failing test never leaves a server
// behind. The child's stdout is a pipe the parent reads lines from until it
// has what it waits for; after that a background thread drains it (so the
// child never blocks on a full pipe) and copies it to the test's stderr when
// `echo_stdout` is set. The child's stderr is the test's stderr.
//
// The child also gets PR_SET_PDEATHSIG(SIGKILL): if the test binary dies
// (crash, ctest timeout) its servers go with it.
//
// Not thread-safe: one thread drives a Process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::testing {

struct SpawnOptions {
  std::vector<std::string> argv;  // argv[0] is the program path (no PATH search)
  std::vector<std::pair<std::string, std::string>> env;  // added to the inherited environment
  std::string working_dir;                               // "" = the test's
  bool echo_stdout = false;  // copy the child's stdout to our stderr once drained
};

class Process {
 public:
  // Starts the child. kInvalidArgument when the program cannot be executed.
  static Result<std::unique_ptr<Process>> Spawn(SpawnOptions opts);
  ~Process();
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  const std::string& program() const { return program_; }
  // False once the child has exited (reaps it when so).
  bool Running();
  // Exit status as from waitpid, once the child exited.
  int wait_status() const { return wait_status_; }

  // Reads the child's stdout until a line contains `marker` followed by a
  // port number ("... listening on 127.0.0.1:PORT" style: the number after the
  // last ':' of the rest of the line). Fails when the child exits, closes its
  // stdout or `timeout` passes first. Lines read are kept (see output()).
  Result<std::uint16_t> WaitForListeningLine(std::string_view marker,
                                             std::chrono::milliseconds timeout);
  // Waits until `path` holds a port number (decimal, optional newline),
  // watching that the child is still running. Reads (and keeps) stdout
  // meanwhile, so a chatty child cannot block.
  Result<std::uint16_t> WaitForPortFile(const std::string& path, std::chrono::milliseconds timeout);

  // For one-shot commands: reads stdout (kept in output()) until the child
  // exits, at most `timeout`. Returns the wait status (as from waitpid);
  // kRetryable when the child is still running at the deadline (it is left
  // running: Stop() or the destructor ends it).
  Result<int> WaitForExit(std::chrono::milliseconds timeout);

  // Starts the background drain of stdout (called by the waits above once
  // they succeed; idempotent).
  void DrainStdout();
  // SIGTERM, wait up to `grace`, then SIGKILL; reaps. OK if already exited.
  void Stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

  // Stdout lines read so far by the waits (for error messages).
  const std::string& output() const { return output_; }

 private:
  Process() = default;
  // Reads what is available on stdout within `wait`; false at EOF.
  bool ReadSome(std::chrono::milliseconds wait);
  Status Exited(std::string_view waiting_for);

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int wait_status_ = 0;
  bool exited_ = false;
  bool echo_ = false;
  std::string program_;
  std::string output_;       // everything read before the drain started
  std::size_t scanned_ = 0;  // output_ bytes already searched for the marker
  std::thread drain_;
};

// The first executable `name` in $PATH (or `name` itself when it contains a
// '/' and is executable); "" when there is none.
std::string FindProgram(std::string_view name);

// A port on 127.0.0.1 that was free a moment ago (bind to 0, read, close),
// for servers that cannot report the port they bound. Racy by nature: prefer
// servers that bind port 0 themselves and report it.
Result<std::uint16_t> PickFreePort();

// Blocks until a TCP connect to 127.0.0.1:port succeeds or `timeout` passes.
Status WaitForTcpPort(std::uint16_t port, std::chrono::milliseconds timeout);

// A fresh directory under $TMPDIR (or /tmp) removed with its contents when
// the object is destroyed.
class TempDir {
 public:
  explicit TempDir(std::string_view name_hint = "ferry-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Random lower-case hex, for unique names (prefixes, buckets).
std::string RandomHex(std::size_t chars);

}  // namespace ferry::testing
