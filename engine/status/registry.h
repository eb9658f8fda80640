// Registry: every DestinationStats of the daemon plus process-wide figures,
// rendered as Prometheus text (docs/metrics.md) and as the JSON that
// `ferryctl status` / `lag` show (docs/operations.md).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/status/stats.h"
#include "engine/transfer/buffer_pool.h"
#include "engine/transfer/retry.h"

namespace ferry::engine {

// One capability of an endpoint's backend as ferryd uses it, and where the
// value came from: "config", "probed", "probed earlier" (the manifest's
// cached probe), "assumed" (AWS's behaviour; nothing asked).
struct CapabilityReport {
  std::string name;
  bool value = false;
  std::string source;
};

struct EndpointReport {
  std::string endpoint;  // config name
  std::string backend;   // "s3://host:port/bucket"
  std::vector<CapabilityReport> capabilities;
  std::vector<std::string> notes;  // what the probe saw
};

class Registry {
 public:
  explicit Registry(std::string version);

  // Replaces the set of destinations, routes and endpoints (start, reload).
  // Stats objects are shared with whoever feeds them.
  struct RouteInfo {
    std::string name;
    std::chrono::milliseconds target_lag{15 * 60 * 1000};
    bool paused = false;
    std::vector<std::shared_ptr<DestinationStats>> destinations;
  };
  void SetRoutes(std::vector<RouteInfo> routes);
  void SetEndpoints(std::vector<const Pacer*> pacers);
  void SetEndpointReports(std::vector<EndpointReport> reports);
  void SetBufferPool(const BufferPool* pool, std::uint64_t limit);
  void SetRoutePaused(const std::string& route, bool paused);

  std::shared_ptr<DestinationStats> Find(const std::string& destination) const;
  std::vector<std::shared_ptr<DestinationStats>> All() const;
  std::vector<RouteInfo> Routes() const;

  // Every route listed once (set by the daemon; credentials and reach proven).
  void SetReady(bool ready) { ready_ = ready; }
  bool ready() const { return ready_.load(); }
  // What /readyz, ferry_ready and `ferryctl status` say: ready when every
  // route listed once and no destination of an unpaused route is stalled.
  struct ReadyState {
    bool ready = false;
    std::string why;  // "ready", or "not ready: ..." naming what holds it
  };
  ReadyState Readiness(std::int64_t now_ms) const;
  void CountEvents(const std::string& result, std::uint64_t n);

  // GET /metrics body.
  std::string RenderMetrics(std::int64_t now_ms) const;
  // ferryctl status: routes, destinations, lag vs target, pending, throughput.
  nlohmann::json StatusJson(std::int64_t now_ms) const;
  // ferryctl lag / wait: the lag figures only, plus the worst oldest-pending age.
  nlohmann::json LagJson(std::int64_t now_ms) const;
  // One line for sd_notify STATUS=.
  std::string StatusLine(std::int64_t now_ms) const;

  // Saves every destination's figures (periodically and at shutdown).
  void SaveAll() const;

 private:
  nlohmann::json DestinationJson(const DestinationFigures& f, std::int64_t now_ms,
                                 bool reconciled) const;

  const std::string version_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::atomic<bool> ready_{false};
  mutable std::mutex mu_;
  std::vector<RouteInfo> routes_;                     // GUARDED_BY(mu_)
  std::vector<const Pacer*> pacers_;                  // GUARDED_BY(mu_)
  std::vector<EndpointReport> endpoint_reports_;      // GUARDED_BY(mu_)
  const BufferPool* pool_ = nullptr;                  // GUARDED_BY(mu_)
  std::uint64_t pool_limit_ = 0;                      // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> events_;       // GUARDED_BY(mu_)
};

// "ok" below 2/3 of the target, "warning" up to it, "breach" past it.
std::string_view LagState(std::int64_t oldest_pending_age_ms, std::int64_t target_ms);

}  // namespace ferry::engine
