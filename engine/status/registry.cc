#include "engine/status/registry.h"

#include <cmath>
#include <cstdio>

#include "engine/status/format.h"
#include "protocols/prom/writer.h"

namespace ferry::engine {
namespace {

double Seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

std::string_view LagState(std::int64_t oldest_pending_age_ms, std::int64_t target_ms) {
  if (oldest_pending_age_ms > target_ms) return "breach";
  if (oldest_pending_age_ms * 3 > target_ms * 2) return "warning";
  return "ok";
}

Registry::Registry(std::string version) : version_(std::move(version)) {}

void Registry::SetRoutes(std::vector<RouteInfo> routes) {
  std::lock_guard lock(mu_);
  routes_ = std::move(routes);
}

void Registry::SetEndpoints(std::vector<const Pacer*> pacers) {
  std::lock_guard lock(mu_);
  pacers_ = std::move(pacers);
}

void Registry::SetBufferPool(const BufferPool* pool, std::uint64_t limit) {
  std::lock_guard lock(mu_);
  pool_ = pool;
  pool_limit_ = limit;
}

void Registry::SetRoutePaused(const std::string& route, bool paused) {
  std::lock_guard lock(mu_);
  for (RouteInfo& r : routes_) {
    if (r.name == route) r.paused = paused;
  }
}

std::shared_ptr<DestinationStats> Registry::Find(const std::string& destination) const {
  std::lock_guard lock(mu_);
  for (const RouteInfo& r : routes_) {
    for (const auto& d : r.destinations) {
      if (d->destination() == destination) return d;
    }
  }
  return nullptr;
}

std::vector<std::shared_ptr<DestinationStats>> Registry::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<DestinationStats>> out;
  for (const RouteInfo& r : routes_) out.insert(out.end(), r.destinations.begin(), r.destinations.end());
  return out;
}

std::vector<Registry::RouteInfo> Registry::Routes() const {
  std::lock_guard lock(mu_);
  return routes_;
}

void Registry::CountEvents(const std::string& result, std::uint64_t n) {
  std::lock_guard lock(mu_);
  events_[result] += n;
}

void Registry::SaveAll() const {
  for (const auto& d : All()) (void)d->Save();
}

std::string Registry::RenderMetrics(std::int64_t now_ms) const {
  std::vector<RouteInfo> routes;
  std::vector<const Pacer*> pacers;
  std::map<std::string, std::uint64_t> events;
  const BufferPool* pool = nullptr;
  std::uint64_t pool_limit = 0;
  {
    std::lock_guard lock(mu_);
    routes = routes_;
    pacers = pacers_;
    events = events_;
    pool = pool_;
    pool_limit = pool_limit_;
  }
  struct Row {
    prom::Labels labels;
    DestinationFigures f;
  };
  std::vector<Row> rows;
  for (const RouteInfo& r : routes) {
    for (const auto& d : r.destinations) {
      rows.push_back({{{"route", r.name}, {"destination", d->destination()}}, d->Figures(now_ms)});
    }
  }
  using prom::Type;
  prom::Writer w;
  w.Family("ferry_build_info", "ferryd build; the value is always 1", Type::kGauge);
  w.Sample({{"version", version_}}, 1);
  w.Family("ferry_up_seconds", "Seconds since ferryd started", Type::kGauge);
  w.Sample({}, std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
  w.Family("ferry_ready",
           "1 while ferryd can replicate: every route listed once and no destination stalled "
           "(as /readyz)",
           Type::kGauge);
  w.Sample({}, Readiness(now_ms).ready ? 1 : 0);

  w.Family("ferry_target_lag_seconds", "Configured replication lag target of the route",
           Type::kGauge);
  for (const RouteInfo& r : routes) w.Sample({{"route", r.name}}, Seconds(r.target_lag.count()));
  w.Family("ferry_route_paused", "1 while the route is paused (ferryctl pause)", Type::kGauge);
  for (const RouteInfo& r : routes) w.Sample({{"route", r.name}}, r.paused ? 1 : 0);

  w.Family("ferry_pending_objects", "Objects known to need copying to the destination",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.pending_objects));
  w.Family("ferry_pending_bytes", "Bytes of the objects pending copy", Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.pending_bytes));
  w.Family("ferry_oldest_pending_age_seconds",
           "Age of the oldest pending object (since the source had it); 0 when none",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, Seconds(r.f.OldestPendingAgeMs(now_ms)));

  w.Family("ferry_replication_latency_seconds",
           "Time from the source having an object to its verified copy at the destination",
           Type::kHistogram);
  std::vector<double> bounds(kLatencyBuckets.begin(), kLatencyBuckets.end());
  for (const Row& r : rows) {
    std::vector<std::uint64_t> cumulative;
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      acc += r.f.latency_buckets[i];
      cumulative.push_back(acc);
    }
    w.Histogram(r.labels, bounds, cumulative, r.f.latency_sum_s, r.f.latency_count);
  }
  w.Family("ferry_objects_missed_target_total",
           "Objects whose replication latency exceeded the route's target lag", Type::kCounter);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.missed_target));
  w.Family("ferry_failed_operations_total", "Failed object operations by reason",
           Type::kCounter);
  for (const Row& r : rows) {
    for (const auto& [reason, n] : r.f.failed) {
      prom::Labels l = r.labels;
      l.emplace_back("reason", reason);
      w.Sample(l, static_cast<double>(n));
    }
  }
  w.Family("ferry_replica_rpo_seconds",
           "Age of the newest Velero backup complete and verified at the replica "
           "(its completionTimestamp)",
           Type::kGauge);
  for (const Row& r : rows) {
    if (r.f.rpo_completion_ms > 0) {
      w.Sample(r.labels, Seconds(std::max<std::int64_t>(0, now_ms - r.f.rpo_completion_ms)));
    }
  }
  w.Family("ferry_last_reconcile_timestamp_seconds",
           "Unix time the last complete reconciliation of the destination finished",
           Type::kGauge);
  for (const Row& r : rows) {
    if (r.f.last_reconcile_ms > 0) w.Sample(r.labels, Seconds(r.f.last_reconcile_ms));
  }
  w.Family("ferry_reconcile_passes_total", "Full reconciliation passes by result",
           Type::kCounter);
  for (const Row& r : rows) {
    prom::Labels ok = r.labels, incomplete = r.labels;
    ok.emplace_back("result", "ok");
    incomplete.emplace_back("result", "incomplete");
    w.Sample(ok, static_cast<double>(r.f.passes_ok));
    w.Sample(incomplete, static_cast<double>(r.f.passes_incomplete));
  }
  w.Family("ferry_transferred_bytes_total", "Bytes written to the destination", Type::kCounter);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.transferred_bytes));
  w.Family("ferry_transferred_objects_total", "Objects replicated and verified",
           Type::kCounter);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.transferred_objects));
  w.Family("ferry_deleted_objects_total", "Objects deleted at the destination", Type::kCounter);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.deleted_objects));
  w.Family("ferry_destination_stalled",
           "1 while copies to the destination are in flight and no byte moved at its endpoints "
           "for transfer.stall_after",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, r.f.stalled ? 1 : 0);
  w.Family("ferry_destination_no_progress_seconds",
           "Seconds without a byte moved while copies to the destination are in flight; 0 when "
           "none are",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, Seconds(r.f.no_progress_ms));
  w.Family("ferry_copies_in_flight", "Objects being copied to the destination now", Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, static_cast<double>(r.f.copies_in_flight));
  w.Family("ferry_write_rate_bytes_per_second",
           "Bytes per second sent to the destination's endpoint over the last 10 s",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, r.f.rate_bps);
  w.Family("ferry_deletes_paused",
           "1 while the mass-delete guard holds deletes until ferryctl approve-deletes",
           Type::kGauge);
  for (const Row& r : rows) w.Sample(r.labels, r.f.deletes_paused ? 1 : 0);

  w.Family("ferry_retries_total", "Retried requests per endpoint", Type::kCounter);
  for (const Pacer* p : pacers) w.Sample({{"endpoint", p->endpoint()}}, static_cast<double>(p->retries()));
  w.Family("ferry_throttles_total", "Throttled responses (503 SlowDown, 429) per endpoint",
           Type::kCounter);
  for (const Pacer* p : pacers) {
    w.Sample({{"endpoint", p->endpoint()}}, static_cast<double>(p->throttles()));
  }
  w.Family("ferry_retried_errors_total",
           "Failed attempts that were tried again, per endpoint and reason", Type::kCounter);
  for (const Pacer* p : pacers) {
    const Pacer::RetriedErrors e = p->retried_errors();
    for (const char* reason : {"retryable", "throttled", "auth"}) {
      auto it = e.by_reason.find(reason);
      w.Sample({{"endpoint", p->endpoint()}, {"reason", reason}},
               it == e.by_reason.end() ? 0 : static_cast<double>(it->second));
    }
  }
  w.Family("ferry_endpoint_requests_in_flight", "Requests to the endpoint awaiting their end",
           Type::kGauge);
  for (const Pacer* p : pacers) {
    w.Sample({{"endpoint", p->endpoint()}}, p->activity()->Read().in_flight);
  }
  w.Family("ferry_events_received_total", "Event notification records by result",
           Type::kCounter);
  for (const char* result : {"accepted", "rejected", "ignored"}) {
    auto it = events.find(result);
    w.Sample({{"result", result}}, it == events.end() ? 0 : static_cast<double>(it->second));
  }
  w.Family("ferry_buffer_pool_bytes", "Bytes of the transfer buffer pool in use", Type::kGauge);
  w.Sample({}, pool ? static_cast<double>(pool->in_use()) : 0);
  w.Family("ferry_buffer_pool_limit_bytes", "Cap of the transfer buffer pool", Type::kGauge);
  w.Sample({}, static_cast<double>(pool_limit));
  return w.Take();
}

nlohmann::json Registry::DestinationJson(const DestinationFigures& f, std::int64_t now_ms,
                                         bool reconciled) const {
  nlohmann::json d;
  const std::int64_t age = f.OldestPendingAgeMs(now_ms);
  d["destination"] = f.destination;
  d["pending_objects"] = f.pending_objects;
  d["pending_bytes"] = f.pending_bytes;
  d["oldest_pending_age_s"] = Seconds(age);
  d["target_lag_s"] = Seconds(f.target_lag_ms);
  d["lag_state"] = LagState(age, f.target_lag_ms);
  d["reconciled"] = reconciled;
  d["last_reconcile_age_s"] =
      f.last_reconcile_ms > 0 ? nlohmann::json(Seconds(now_ms - f.last_reconcile_ms)) : nullptr;
  d["replica_rpo_s"] =
      f.rpo_completion_ms > 0 ? nlohmann::json(Seconds(now_ms - f.rpo_completion_ms)) : nullptr;
  d["rpo_backup"] = f.rpo_backup;
  d["latency_count"] = f.latency_count;
  auto q = [&](double p) -> nlohmann::json {
    double v = f.LatencyQuantile(p);
    if (f.latency_count == 0) return nullptr;
    if (std::isinf(v)) return "+Inf";
    return v;
  };
  d["latency_p50_le_s"] = q(0.5);
  d["latency_p99_le_s"] = q(0.99);
  d["missed_target"] = f.missed_target;
  d["transferred_bytes"] = f.transferred_bytes;
  d["transferred_objects"] = f.transferred_objects;
  d["deleted_objects"] = f.deleted_objects;
  d["throughput_bps"] = f.throughput_bps;
  d["rate_bps"] = f.rate_bps;
  d["copies_in_flight"] = f.copies_in_flight;
  d["stalled"] = f.stalled;
  d["no_progress_s"] = Seconds(f.no_progress_ms);
  d["stall_reason"] = f.stall_reason;
  std::uint64_t failed = 0;
  for (const auto& [_, n] : f.failed) failed += n;
  d["failed_operations"] = failed;
  d["failed_by_reason"] = f.failed;
  d["deletes_paused"] = f.deletes_paused;
  d["last_error"] = f.last_error;
  d["last_error_age_s"] =
      f.last_error_ms > 0 ? nlohmann::json(Seconds(now_ms - f.last_error_ms)) : nullptr;
  return d;
}

void Registry::SetEndpointReports(std::vector<EndpointReport> reports) {
  std::lock_guard lock(mu_);
  endpoint_reports_ = std::move(reports);
}

Registry::ReadyState Registry::Readiness(std::int64_t now_ms) const {
  ReadyState r;
  if (!ready_.load()) {
    r.why = "not ready: waiting for the first listing of every route";
    return r;
  }
  for (const RouteInfo& route : Routes()) {
    if (route.paused) continue;  // deliberately idle
    for (const auto& d : route.destinations) {
      DestinationFigures f = d->Figures(now_ms);
      if (!f.stalled) continue;
      if (r.why.empty()) r.why = "not ready: stalled:";
      r.why += " " + route.name + " -> " + f.destination + ": " + f.stall_reason + ";";
    }
  }
  if (!r.why.empty()) {
    r.why.pop_back();
    return r;
  }
  r.ready = true;
  r.why = "ready";
  return r;
}

nlohmann::json Registry::StatusJson(std::int64_t now_ms) const {
  nlohmann::json j;
  j["version"] = version_;
  j["uptime_s"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const ReadyState readiness = Readiness(now_ms);
  j["ready"] = readiness.ready;
  j["listed"] = ready_.load();
  j["readiness"] = readiness.why;
  j["routes"] = nlohmann::json::array();
  for (const RouteInfo& r : Routes()) {
    nlohmann::json route;
    route["route"] = r.name;
    route["paused"] = r.paused;
    route["target_lag_s"] = Seconds(r.target_lag.count());
    route["destinations"] = nlohmann::json::array();
    for (const auto& d : r.destinations) {
      route["destinations"].push_back(DestinationJson(d->Figures(now_ms), now_ms, d->reconciled()));
    }
    j["routes"].push_back(route);
  }
  std::vector<EndpointReport> reports;
  {
    std::lock_guard lock(mu_);
    reports = endpoint_reports_;
  }
  j["endpoints"] = nlohmann::json::array();
  for (const EndpointReport& r : reports) {
    nlohmann::json e;
    e["endpoint"] = r.endpoint;
    e["backend"] = r.backend;
    e["capabilities"] = nlohmann::json::object();
    for (const CapabilityReport& c : r.capabilities) {
      e["capabilities"][c.name] = {{"value", c.value}, {"source", c.source}};
    }
    e["probe_notes"] = r.notes;
    j["endpoints"].push_back(std::move(e));
  }
  return j;
}

nlohmann::json Registry::LagJson(std::int64_t now_ms) const {
  nlohmann::json j;
  double worst = 0;
  bool all_reconciled = true;
  j["routes"] = nlohmann::json::array();
  for (const RouteInfo& r : Routes()) {
    for (const auto& d : r.destinations) {
      DestinationFigures f = d->Figures(now_ms);
      double age = Seconds(f.OldestPendingAgeMs(now_ms));
      worst = std::max(worst, age);
      all_reconciled = all_reconciled && d->reconciled();
      nlohmann::json e;
      e["route"] = r.name;
      e["destination"] = f.destination;
      e["paused"] = r.paused;
      e["pending_objects"] = f.pending_objects;
      e["pending_bytes"] = f.pending_bytes;
      e["oldest_pending_age_s"] = age;
      e["target_lag_s"] = Seconds(f.target_lag_ms);
      e["lag_state"] = LagState(f.OldestPendingAgeMs(now_ms), f.target_lag_ms);
      e["missed_target"] = f.missed_target;
      e["stalled"] = f.stalled;
      e["reconciled"] = d->reconciled();
      e["replica_rpo_s"] =
          f.rpo_completion_ms > 0 ? nlohmann::json(Seconds(now_ms - f.rpo_completion_ms)) : nullptr;
      j["routes"].push_back(e);
    }
  }
  j["max_oldest_pending_age_s"] = worst;
  j["all_reconciled"] = all_reconciled;
  return j;
}

std::string Registry::StatusLine(std::int64_t now_ms) const {
  std::uint64_t pending = 0, bytes = 0;
  std::int64_t oldest = 0, target = 0;
  std::string state = "ok";
  int dests = 0, stalled = 0;
  for (const RouteInfo& r : Routes()) {
    for (const auto& d : r.destinations) {
      DestinationFigures f = d->Figures(now_ms);
      ++dests;
      if (f.stalled && !r.paused) ++stalled;
      pending += f.pending_objects;
      bytes += f.pending_bytes;
      std::int64_t age = f.OldestPendingAgeMs(now_ms);
      if (age >= oldest) {
        oldest = age;
        target = f.target_lag_ms;
      }
      std::string_view s = LagState(age, f.target_lag_ms);
      if (s == "breach" || (s == "warning" && state == "ok")) state = std::string(s);
    }
  }
  return std::to_string(dests) + " destination(s), " + std::to_string(pending) + " pending (" +
         HumanBytes(static_cast<double>(bytes), " ") + "), oldest " + HumanAge(Seconds(oldest)) + ", lag " +
         state + (target > 0 ? " (target " + HumanAge(Seconds(target)) + ")" : "") +
         (stalled > 0 ? ", " + std::to_string(stalled) + " STALLED (ferryctl status)" : "") +
         (ready_.load() ? "" : ", not ready");
}

}  // namespace ferry::engine
