// Daemon: ferryd's body. Turns a validated Config into backends, pacers,
// route state over the manifest and a Replicator, then either runs one pass
// (--once) or serves: one reconciliation loop per (route, destination) every
// reconcile_every, targeted passes driven by the event webhook, the control
// socket (ferryctl), the HTTP endpoint (/metrics, /healthz, /readyz,
// /events), sd_notify, SIGHUP reload and SIGTERM drain.
//
// REQUIRES: the io_context outlives the Daemon; the caller runs it on as many
// threads as it likes.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/status/registry.h"
#include "engine/sync/clock.h"
#include "engine/sync/pass.h"
#include "protocols/base/status.h"

namespace ferry::engine {

// Exit codes of ferryd (documented in docs/operations.md).
inline constexpr int kExitMatched = 0;     // --once: every destination matches
inline constexpr int kExitMismatch = 1;    // --once: something not replicated
inline constexpr int kExitConfig = 2;      // bad flags or configuration
inline constexpr int kExitStartup = 3;     // state or backends could not be opened

struct DaemonOptions {
  // Where SIGHUP re-reads the configuration from ("" = reload unsupported).
  std::string config_path;
  // SIGTERM: how long in-flight transfers may run before ferryd exits anyway
  // (their finished parts are in the manifest; the rest is re-sent at start).
  std::chrono::milliseconds drain_timeout{30000};
  std::string version = "0.1.0";
  // Time for delete grace periods and approvals (tests move it); null = the
  // system's clocks. Must outlive the daemon.
  const Clock* clock = nullptr;
};

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Create(config::Config config,
                                                boost::asio::io_context& io,
                                                DaemonOptions options = DaemonOptions());
  ~Daemon();

  // One full pass over every route; returns kExitMatched or kExitMismatch.
  io::Task<int> RunOnce();
  // Serves until Stop(): starts the HTTP endpoint and control socket,
  // notifies systemd, runs the loops. Returns kExitMatched, or kExitStartup
  // when a listener could not be opened.
  io::Task<int> Serve();
  // Kept for callers that only want the loops (no listeners).
  io::Task<void> RunForever();
  // Thread-safe. Stop planning new work, let running transfers finish
  // (bounded by drain_timeout, then Serve returns anyway).
  void Stop();
  // Thread-safe. Re-reads the configuration; an invalid one is rejected
  // with a log line and the running one stays.
  void Reload();

  const std::vector<PassReport>& last_reports() const;
  Registry& registry();

  struct Impl;  // engine/daemon/daemon_internal.h

 private:
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Configures spdlog (text or JSON lines on stderr) per the config.
void ConfigureLogging(const config::LogConfig& log);

}  // namespace ferry::engine
