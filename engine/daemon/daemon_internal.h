// Internals of the Daemon shared by daemon.cc (generations, loops, reload,
// drain), control_service.cc (ferryctl requests), http_service.cc
// (/metrics, probes, event webhook) and observer.cc (lag accounting, RPO).
#pragma once

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/daemon/daemon.h"
#include "engine/daemon/wiring.h"
#include "engine/replicator.h"
#include "engine/status/registry.h"
#include "engine/status/stats.h"
#include "protocols/control/protocol.h"
#include "protocols/control/server.h"
#include "protocols/events/notification.h"
#include "protocols/http/server.h"

namespace ferry::engine {

// At most this many distinct targeted prefixes wait per destination; past
// it the destination gets a full pass instead (nothing is lost).
inline constexpr std::size_t kMaxQueuedTargets = 10000;
// Targeted passes running at once per destination.
inline constexpr int kTargetedParallel = 8;
// Event records waiting for their HEAD; past it the webhook answers 503.
inline constexpr std::size_t kMaxQueuedEvents = 10000;

// One (route, destination) while a configuration generation runs.
struct TargetRuntime {
  ReplicatorTarget rt;
  const config::Route* route = nullptr;  // into Generation::config
  std::string source_bucket;
  std::string source_endpoint;
  std::shared_ptr<DestinationStats> stats;
  KeyLocks locks;
  std::atomic<bool> halt{false};    // pause, drain or reload: stop planning
  std::atomic<bool> resync{false};  // a full pass requested now
  std::atomic<bool> rpo_bootstrapped{false};
  std::mutex mu;
  std::set<std::string> queued;  // GUARDED_BY(mu): route-relative subprefixes
  // Velero units whose marker a pass held, with when to look again (a
  // targeted pass of the unit then); at most kMaxQueuedTargets.
  std::map<std::string, std::chrono::steady_clock::time_point> rechecks;  // GUARDED_BY(mu)
  // Queues a recheck of every unit `report` held; due ones are moved to
  // `queued` by TakeDueRechecks.
  void ScheduleRechecks(const PassReport& report);
  void TakeDueRechecks(std::chrono::steady_clock::time_point now);
};

struct Generation {
  config::Config config;
  std::vector<std::unique_ptr<TargetRuntime>> targets;
  std::vector<TargetRuntime*> ForRoute(const std::string& route) const;
};

struct QueuedEvent {
  events::ObjectEvent event;
};

struct Daemon::Impl {
  Impl(config::Config c, boost::asio::io_context& i, DaemonOptions o)
      : first_config(std::move(c)), io(i), options(std::move(o)), registry(options.version) {}

  config::Config first_config;  // until the first generation takes it
  boost::asio::io_context& io;
  DaemonOptions options;
  Wiring wiring;
  // The daemon's time source (DaemonOptions::clock, else the system's).
  const Clock& TimeSource() const { return options.clock ? *options.clock : SystemClock(); }
  std::unique_ptr<Replicator> replicator;
  Registry registry;
  std::unique_ptr<PassObserver> observer;
  std::vector<PassReport> last_reports;

  std::mutex mu;
  std::shared_ptr<Generation> gen;                  // GUARDED_BY(mu)
  std::vector<std::shared_ptr<Generation>> retired; // GUARDED_BY(mu): kept alive
  std::optional<config::Config> pending_config;     // GUARDED_BY(mu)
  std::set<std::string> paused_routes;              // GUARDED_BY(mu)
  std::string webhook_token;                        // GUARDED_BY(mu)
  std::deque<QueuedEvent> events;                   // GUARDED_BY(mu)

  std::atomic<bool> stopping{false};
  std::atomic<bool> reloading{false};
  std::unique_ptr<http::Server> http_server;
  std::unique_ptr<control::Server> control_server;

  std::shared_ptr<Generation> Current();
  bool Paused(const std::string& route);
  // Recomputes every target's halt flag from stopping/reloading/paused.
  void UpdateHalts();
  Result<std::shared_ptr<Generation>> BuildGeneration(config::Config config);
  io::Task<void> TargetLoop(std::shared_ptr<Generation> g, TargetRuntime* t);
  io::Task<void> TargetedLoop(std::shared_ptr<Generation> g, TargetRuntime* t);
  io::Task<void> EventLoop();
  io::Task<void> HousekeepingLoop();
  // Logs each destination entering or leaving the stalled state; `stalled`
  // holds the ones logged as stalled.
  void LogStalls(std::set<std::string>* stalled);
  PassSettings SettingsFor(TargetRuntime& t) const;

  // control_service.cc
  io::Task<std::string> HandleControl(control::Request request);
  // http_service.cc
  io::Task<http::ServerResponse> HandleHttp(http::ServerRequest request);
  // Confirms one event with HEAD and queues targeted passes for it.
  io::Task<void> ProcessEvent(events::ObjectEvent event);
};

// The PassObserver feeding the Registry (observer.cc).
std::unique_ptr<PassObserver> MakeObserver(Daemon::Impl& impl);
// Sleeps `d` on the current executor (cancellation-free).
io::Task<void> Sleep(std::chrono::milliseconds d);
// Reads a token file (first line, trimmed); kInvalidArgument when unreadable or empty.
Result<std::string> ReadTokenFile(const std::string& path);

}  // namespace ferry::engine
