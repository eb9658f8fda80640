#include "engine/daemon/daemon.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include <fstream>

#include "engine/daemon/daemon_internal.h"
#include "engine/daemon/notify.h"
#include "engine/transfer/parallel.h"
#include "protocols/control/server.h"

namespace ferry::engine {
namespace {

constexpr auto kIdleTick = std::chrono::milliseconds(50);
constexpr auto kSaveEvery = std::chrono::seconds(5);
// `ferryd --once`: how many more passes wait for held units to settle.
constexpr int kOnceSettleRounds = 2;
// A held unit is looked at again this long after it should have settled.
constexpr auto kRecheckSlack = std::chrono::milliseconds(100);

LayoutKind ToLayout(config::Layout l) {
  return l == config::Layout::kVelero  ? LayoutKind::kVelero
         : l == config::Layout::kKopia ? LayoutKind::kKopia
                                       : LayoutKind::kPlain;
}

DeletePolicy ToPolicy(config::DeletePolicy p) {
  return p == config::DeletePolicy::kKeep        ? DeletePolicy::kKeep
         : p == config::DeletePolicy::kMirrorNow ? DeletePolicy::kMirrorNow
                                                 : DeletePolicy::kMirror;
}

ReplicatorOptions MakeReplicatorOptions(const config::Config& cfg) {
  ReplicatorOptions ro;
  ro.transfer.part_size = cfg.transfer.part_size;
  ro.transfer.multipart_threshold = cfg.transfer.multipart_threshold;
  ro.transfer.parts_in_flight_per_object = cfg.transfer.parts_in_flight;
  ro.transfer.retry = {cfg.transfer.retry.max_attempts, cfg.transfer.retry.initial_backoff,
                       cfg.transfer.retry.max_backoff};
  ro.memory_limit = cfg.transfer.memory_limit;
  ro.max_objects_in_flight = cfg.transfer.max_objects_in_flight;
  return ro;
}

}  // namespace

io::Task<void> Sleep(std::chrono::milliseconds d) {
  boost::asio::steady_timer t(co_await boost::asio::this_coro::executor, d);
  boost::system::error_code ec;
  co_await t.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
}

Result<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return Status::Error(ErrorClass::kInvalidArgument, "cannot read webhook token file " + path);
  }
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) {
    line.pop_back();
  }
  if (line.size() < 16) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "webhook token file " + path +
                             " must hold a token of at least 16 characters on its first line");
  }
  return line;
}

void TargetRuntime::ScheduleRechecks(const PassReport& report) {
  if (report.held_units.empty()) return;
  const std::int64_t now_ms = NowMs();
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mu);
  for (const auto& [unit, held] : report.held_units) {
    // Wall-clock target to steady time; a little after, so the unit has
    // settled when the pass looks.
    const auto wait = std::chrono::milliseconds(
        std::max<std::int64_t>(held.recheck_at_ms - now_ms, 0) + kRecheckSlack.count());
    const auto at = now + wait;
    auto it = rechecks.find(unit);
    if (it != rechecks.end()) {
      it->second = std::min(it->second, at);
    } else if (rechecks.size() < kMaxQueuedTargets) {
      rechecks.emplace(unit, at);
    }  // else: the next full pass looks at it
  }
}

void TargetRuntime::TakeDueRechecks(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu);
  for (auto it = rechecks.begin(); it != rechecks.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    if (queued.size() < kMaxQueuedTargets || queued.count(it->first)) {
      queued.insert(it->first);
    } else {
      resync = true;
    }
    it = rechecks.erase(it);
  }
}

std::vector<TargetRuntime*> Generation::ForRoute(const std::string& route) const {
  std::vector<TargetRuntime*> out;
  for (const auto& t : targets) {
    if (t->route->name == route) out.push_back(t.get());
  }
  return out;
}

std::shared_ptr<Generation> Daemon::Impl::Current() {
  std::lock_guard lock(mu);
  return gen;
}

bool Daemon::Impl::Paused(const std::string& route) {
  std::lock_guard lock(mu);
  return paused_routes.count(route) > 0;
}

void Daemon::Impl::UpdateHalts() {
  std::lock_guard lock(mu);
  if (!gen) return;
  const bool all = stopping.load() || reloading.load();
  for (auto& t : gen->targets) t->halt = all || paused_routes.count(t->route->name) > 0;
}

PassSettings Daemon::Impl::SettingsFor(TargetRuntime& t) const {
  PassSettings s = t.rt.settings;
  s.halt = &t.halt;
  s.key_locks = &t.locks;
  s.clock = options.clock;
  return s;
}

Result<std::shared_ptr<Generation>> Daemon::Impl::BuildGeneration(config::Config cfg) {
  auto g = std::make_shared<Generation>();
  g->config = std::move(cfg);
  const config::Config& c = g->config;
  std::shared_ptr<Generation> old = Current();
  std::vector<Registry::RouteInfo> routes;
  std::set<std::string> paused;
  for (const config::Target& t : config::Targets(c)) {
    auto tr = std::make_unique<TargetRuntime>();
    tr->route = t.route;
    tr->source_bucket = t.source->bucket;
    tr->source_endpoint = t.source_endpoint->name;
    ReplicatorTarget& rt = tr->rt;
    rt.settings.route = t.route->name;
    rt.settings.layout = ToLayout(t.route->layout);
    rt.settings.deletes.policy = ToPolicy(t.route->deletion.policy);
    rt.settings.deletes.grace = t.route->deletion.grace;
    rt.settings.deletes.max_fraction = t.route->deletion.max_fraction;
    rt.settings.retry = {c.transfer.retry.max_attempts, c.transfer.retry.initial_backoff,
                         c.transfer.retry.max_backoff};
    rt.settings.read_back = t.route->verify == config::VerifyMode::kReadBack;
    rt.settings.settle = t.route->settle;
    FERRY_ASSIGN_OR_RETURN(Wiring::Side src,
                           wiring.GetSide(*t.source_endpoint, *t.source, /*destination=*/false));
    FERRY_ASSIGN_OR_RETURN(Wiring::Side dst, wiring.GetSide(*t.destination_endpoint,
                                                            *t.destination, /*destination=*/true));
    rt.settings.require_checksum = t.route->verify == config::VerifyMode::kChecksum;
    if (rt.settings.require_checksum) {
      // Checksums are compared only where both ends store and return them.
      const config::Endpoint* lacking =
          !src.backend->capabilities().checksum_crc32c   ? t.source_endpoint
          : !dst.backend->capabilities().checksum_crc32c ? t.destination_endpoint
                                                         : nullptr;
      if (lacking != nullptr) {
        return Status::Error(ErrorClass::kInvalidArgument,
                             "route " + t.route->name + ": verify: checksum needs "
                             "capabilities.checksum_crc32c: true on endpoint " + lacking->name);
      }
    }
    rt.settings.require_etag = t.route->verify == config::VerifyMode::kEtag;
    if (rt.settings.require_etag) {
      // Equal ETags prove equal bytes only where both ends' ETags are MD5s,
      // and a multipart source's layout can be mirrored only where HEAD
      // ?partNumber=1 reveals it.
      const auto& sc = src.backend->capabilities();
      const auto& dc = dst.backend->capabilities();
      std::string lacking = !sc.etag_is_md5        ? "etag_is_md5: true on endpoint " +
                                                         t.source_endpoint->name
                            : !dc.etag_is_md5      ? "etag_is_md5: true on endpoint " +
                                                         t.destination_endpoint->name
                            : !sc.head_part_number ? "head_part_number: true on endpoint " +
                                                         t.source_endpoint->name
                                                   : std::string();
      if (!lacking.empty()) {
        return Status::Error(ErrorClass::kInvalidArgument,
                             "route " + t.route->name + ": verify: etag needs capabilities." +
                                 lacking);
      }
    }
    rt.source = {src.backend, src.pacer, t.source->prefix};
    rt.dest.id = t.id;
    rt.dest.backend = dst.backend;
    rt.dest.pacer = dst.pacer;
    rt.dest.prefix = t.destination->prefix;
    FERRY_ASSIGN_OR_RETURN(rt.dest.state, wiring.State(t.route->name, t.id, t.destination->prefix));
    // Figures carry over a reload when the destination stays.
    std::shared_ptr<DestinationStats> stats = registry.Find(t.id);
    if (stats) {
      stats->SetTargetLag(t.route->target_lag);
    } else {
      stats = std::make_shared<DestinationStats>(t.route->name, t.id, rt.dest.state,
                                                 t.route->target_lag);
      FERRY_RETURN_IF_ERROR(stats->Load().Annotate("loading lag figures of " + t.id));
    }
    stats->SetEndpoints(src.pacer, dst.pacer, c.transfer.stall_after);
    tr->stats = stats;
    if (old) {
      for (const auto& ot : old->targets) {
        if (ot->rt.dest.id == t.id && ot->rpo_bootstrapped.load()) tr->rpo_bootstrapped = true;
      }
    }
    auto p = rt.dest.state->GetMeta("paused");
    if (p && *p == "1") paused.insert(t.route->name);
    if (routes.empty() || routes.back().name != t.route->name) {
      Registry::RouteInfo ri;
      ri.name = t.route->name;
      ri.target_lag = t.route->target_lag;
      routes.push_back(ri);
    }
    routes.back().destinations.push_back(stats);
    g->targets.push_back(std::move(tr));
  }
  for (auto& r : routes) r.paused = paused.count(r.name) > 0;
  std::string token;
  if (!c.http.webhook_token_file.empty()) {
    FERRY_ASSIGN_OR_RETURN(token, ReadTokenFile(c.http.webhook_token_file));
  }
  {
    std::lock_guard lock(mu);
    paused_routes = paused;
    webhook_token = token;
  }
  registry.SetRoutes(std::move(routes));
  registry.SetEndpoints(wiring.Pacers());
  return g;
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(config::Config config, boost::asio::io_context& io,
                                               DaemonOptions options) {
  auto impl = std::make_unique<Impl>(std::move(config), io, std::move(options));
  const config::Config& cfg = impl->first_config;
  for (const std::string& w : cfg.warnings) spdlog::warn("config: {}", w);
  FERRY_RETURN_IF_ERROR(impl->wiring.Open(cfg, io.get_executor()));
  impl->replicator = std::make_unique<Replicator>(MakeReplicatorOptions(cfg));
  impl->registry.SetBufferPool(&impl->replicator->pool(), cfg.transfer.memory_limit);
  impl->observer = MakeObserver(*impl);
  config::Config first = impl->first_config;
  FERRY_ASSIGN_OR_RETURN(auto g, impl->BuildGeneration(std::move(first)));
  {
    std::lock_guard lock(impl->mu);
    impl->gen = g;
  }
  impl->UpdateHalts();
  spdlog::info("ferryd ready: {} route target(s), state in {}", g->targets.size(), cfg.state_dir);
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

io::Task<int> Daemon::RunOnce() {
  Impl& d = *impl_;
  std::shared_ptr<Generation> g = d.Current();
  co_await d.wiring.ProbeNewBackends(d.TimeSource().WallMs());
  d.registry.SetEndpointReports(d.wiring.EndpointReports());
  auto started = std::chrono::steady_clock::now();
  d.last_reports.assign(g->targets.size(), PassReport());
  Status ignored = co_await RunParallel(
      static_cast<int>(g->targets.size()), [&](int i, ParallelControl&) -> io::Task<Status> {
        TargetRuntime& t = *g->targets[static_cast<std::size_t>(i)];
        // A Velero unit held only while it settles is whole once `settle`
        // has passed quietly: one run waits for it (a pass again after each
        // settle period, a bounded number of times) instead of leaving its
        // marker behind. A unit that keeps changing stays held.
        for (int round = 0; round <= kOnceSettleRounds; ++round) {
          t.stats->FullPassStarted();
          PassReport r = co_await d.replicator->RunTarget(d.SettingsFor(t), t.rt.source,
                                                          t.rt.dest, d.observer.get());
          t.stats->FullPassEnded(r, NowMs());
          std::int64_t wait_until = 0;
          for (const auto& [unit, held] : r.held_units) {
            if (held.settling) wait_until = std::max(wait_until, held.recheck_at_ms);
          }
          d.last_reports[static_cast<std::size_t>(i)] = std::move(r);
          if (wait_until == 0 || round == kOnceSettleRounds || d.stopping.load()) break;
          const std::int64_t wait_ms =
              std::min<std::int64_t>(std::max<std::int64_t>(wait_until - NowMs(), 0),
                                     t.rt.settings.settle.count()) +
              kRecheckSlack.count();
          spdlog::info("route {}: waiting {} ms for held backups to settle", t.route->name,
                       wait_ms);
          co_await Sleep(std::chrono::milliseconds(wait_ms));
        }
        co_return Status::Ok();
      });
  (void)ignored;
  d.registry.SaveAll();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  bool all = true;
  for (std::size_t i = 0; i < d.last_reports.size(); ++i) {
    const PassReport& r = d.last_reports[i];
    bool ok = r.Matches(g->targets[i]->rt.settings.deletes.policy);
    all = all && ok;
    if (ok) {
      spdlog::info("{}", r.Summary());
    } else {
      spdlog::error("{}", r.Summary());
    }
  }
  const TransferCounters& c = d.replicator->counters();
  spdlog::info(
      "pass finished in {:.1f}s: {} bytes read, {} bytes written, {} parts, {} resumed, {} "
      "layouts_misguessed, {} buffers allocated (peak {} bytes in use)",
      secs, c.bytes_read.load(), c.bytes_written.load(), c.parts_uploaded.load(),
      c.parts_resumed.load(), c.layouts_misguessed.load(), d.replicator->pool().allocations(),
      d.replicator->pool().peak_in_use());
  co_return all ? kExitMatched : kExitMismatch;
}

io::Task<void> Daemon::Impl::TargetLoop(std::shared_ptr<Generation> g, TargetRuntime* t) {
  auto next_full = std::chrono::steady_clock::now();
  bool logged_pause = false;
  while (!stopping.load() && !reloading.load()) {
    if (Paused(t->route->name)) {
      if (!logged_pause) spdlog::info("route {} paused", t->route->name);
      logged_pause = true;
      co_await Sleep(kIdleTick * 4);
      continue;
    }
    logged_pause = false;
    const bool asked = t->resync.exchange(false);
    if (!asked && std::chrono::steady_clock::now() < next_full) {
      co_await Sleep(kIdleTick);
      continue;
    }
    t->stats->FullPassStarted();
    PassReport r = co_await replicator->RunTarget(SettingsFor(*t), t->rt.source, t->rt.dest,
                                                  observer.get());
    t->stats->FullPassEnded(r, NowMs());
    t->ScheduleRechecks(r);
    if (r.source_listing_complete && r.destination_listing_complete && !r.halted) {
      t->rpo_bootstrapped = true;
    }
    const bool only_held = r.failed == 0 && r.held_back == 0 && r.source_listing_complete &&
                           r.destination_listing_complete;
    if (r.Matches(t->rt.settings.deletes.policy)) {
      spdlog::info("{}", r.Summary());
    } else if (r.halted || only_held) {
      spdlog::info("{}", r.Summary());
    } else {
      spdlog::warn("{}", r.Summary());
    }
    (void)t->stats->Save();
    next_full = std::chrono::steady_clock::now() + g->config.reconcile_every;
  }
}

io::Task<void> Daemon::Impl::TargetedLoop(std::shared_ptr<Generation> g, TargetRuntime* t) {
  while (!stopping.load() && !reloading.load()) {
    std::vector<std::string> batch;
    t->TakeDueRechecks(std::chrono::steady_clock::now());
    if (!Paused(t->route->name)) {
      std::lock_guard lock(t->mu);
      while (!t->queued.empty() && batch.size() < static_cast<std::size_t>(kTargetedParallel)) {
        batch.push_back(*t->queued.begin());
        t->queued.erase(t->queued.begin());
      }
    }
    if (batch.empty()) {
      co_await Sleep(kIdleTick);
      continue;
    }
    Status ignored = co_await RunParallel(
        static_cast<int>(batch.size()), [&](int i, ParallelControl&) -> io::Task<Status> {
          PassSettings s = SettingsFor(*t);
          s.subprefix = batch[static_cast<std::size_t>(i)];
          PassReport r =
              co_await replicator->RunTarget(s, t->rt.source, t->rt.dest, observer.get());
          t->ScheduleRechecks(r);
          if (r.failed > 0 || r.held_back > 0 || !r.source_listing_complete) {
            spdlog::warn("targeted pass of {} ({}): {}", s.subprefix, t->rt.dest.id, r.Summary());
          } else if (r.markers_held > 0) {
            spdlog::debug("targeted pass of {}: {}", s.subprefix, r.Summary());
          } else {
            spdlog::debug("targeted pass of {}: {} copied", s.subprefix, r.copied);
          }
          co_return Status::Ok();
        });
    (void)ignored;
  }
}

void Daemon::Impl::LogStalls(std::set<std::string>* stalled) {
  const std::int64_t now = NowMs();
  for (const auto& s : registry.All()) {
    const DestinationFigures f = s->Figures(now);
    const bool was = stalled->count(f.destination) > 0;
    if (f.stalled && !was) {
      stalled->insert(f.destination);
      spdlog::warn("route {} -> {}: STALLED, {} cop{} in flight: {}", f.route, f.destination,
                   f.copies_in_flight, f.copies_in_flight == 1 ? "y" : "ies", f.stall_reason);
    } else if (!f.stalled && was) {
      stalled->erase(f.destination);
      spdlog::info("route {} -> {}: moving again (stall over)", f.route, f.destination);
    }
  }
}

io::Task<void> Daemon::Impl::HousekeepingLoop() {
  auto next_save = std::chrono::steady_clock::now() + kSaveEvery;
  Notifier notifier;
  auto next_status = std::chrono::steady_clock::now();
  auto next_stall_check = next_status;
  std::set<std::string> stalled;  // destinations logged as stalled
  while (!stopping.load()) {
    auto now = std::chrono::steady_clock::now();
    notifier.Watchdog(now);
    if (now >= next_status) {
      notifier.Status(registry.StatusLine(NowMs()));
      next_status = now + std::chrono::seconds(2);
    }
    if (now >= next_stall_check) {
      LogStalls(&stalled);
      next_stall_check = now + std::chrono::seconds(1);
    }
    if (now >= next_save) {
      registry.SaveAll();
      next_save = now + kSaveEvery;
    }
    // Ready: manifest open (it is) and every destination listed once;
    // a paused route is deliberately idle and does not hold readiness back.
    if (!registry.ready()) {
      bool all = true;
      for (const auto& s : registry.All()) all = all && (s->listed() || Paused(s->route()));
      if (all) {
        registry.SetReady(true);
        // systemd's start completes here, with /readyz turning 200 (see
        // docs/operations.md): not before a first listing proved the
        // credentials and reachability of every route.
        Notifier::Ready();
        spdlog::info("ready: every route listed");
      }
    }
    co_await Sleep(std::chrono::milliseconds(250));
  }
}

io::Task<int> Daemon::Serve() {
  Impl& d = *impl_;
  auto ex = co_await boost::asio::this_coro::executor;
  const config::Config& cfg = d.Current()->config;
  if (cfg.http.enabled()) {
    http::ServerOptions ho;
    ho.listen = cfg.http.listen;
    auto server = http::Server::Start(ex, ho, [&d](http::ServerRequest r) {
      return d.HandleHttp(std::move(r));
    });
    if (!server.ok()) {
      spdlog::critical("cannot serve http.listen {}: {}", cfg.http.listen,
                       server.status().ToString());
      co_return kExitStartup;
    }
    d.http_server = std::move(*server);
    for (const std::string& skipped : d.http_server->skipped()) {
      spdlog::warn("http.listen {}: not listening on {}", cfg.http.listen, skipped);
    }
    spdlog::info("serving /metrics, /healthz, /readyz and /events on {} (http.listen {})",
                 fmt::join(d.http_server->addresses(), ", "), cfg.http.listen);
  }
  {
    control::ServerOptions co;
    co.path = cfg.control.socket;
    auto server = control::Server::Start(ex, co, [&d](control::Request r) {
      return d.HandleControl(std::move(r));
    });
    if (!server.ok()) {
      spdlog::critical("cannot open control socket {}: {}", cfg.control.socket,
                       server.status().ToString());
      if (d.http_server) d.http_server->Stop();
      co_return kExitStartup;
    }
    d.control_server = std::move(*server);
    spdlog::info("control socket {}", cfg.control.socket);
  }
  boost::asio::co_spawn(ex, d.HousekeepingLoop(), boost::asio::detached);
  boost::asio::co_spawn(ex, d.EventLoop(), boost::asio::detached);
  co_await RunForever();
  Notifier::Stopping();
  d.registry.SaveAll();
  if (d.control_server) d.control_server->Stop();
  if (d.http_server) d.http_server->Stop();
  spdlog::info("ferryd stopped");
  co_return kExitMatched;
}

io::Task<void> Daemon::RunForever() {
  Impl& d = *impl_;
  while (!d.stopping.load()) {
    std::shared_ptr<Generation> g = d.Current();
    co_await d.wiring.ProbeNewBackends(d.TimeSource().WallMs());  // this generation's new backends
    d.registry.SetEndpointReports(d.wiring.EndpointReports());
    const int n = static_cast<int>(g->targets.size());
    Status ignored = co_await RunParallel(2 * n, [&](int i, ParallelControl&) -> io::Task<Status> {
      TargetRuntime* t = g->targets[static_cast<std::size_t>(i / 2)].get();
      if (i % 2 == 0) {
        co_await d.TargetLoop(g, t);
      } else {
        co_await d.TargetedLoop(g, t);
      }
      co_return Status::Ok();
    });
    (void)ignored;
    if (d.stopping.load()) break;
    // Reload: every loop of the old generation has finished its work.
    std::optional<config::Config> next;
    {
      std::lock_guard lock(d.mu);
      next = std::move(d.pending_config);
      d.pending_config.reset();
    }
    if (next) {
      auto built = d.BuildGeneration(std::move(*next));
      if (!built.ok()) {
        spdlog::error("reload failed, keeping the running configuration: {}",
                      built.status().ToString());
      } else {
        // Queued targeted work moves over to the same destinations.
        for (auto& nt : (*built)->targets) {
          for (auto& ot : g->targets) {
            if (ot->rt.dest.id != nt->rt.dest.id) continue;
            std::lock_guard lock(ot->mu);
            nt->queued.insert(ot->queued.begin(), ot->queued.end());
            nt->rechecks.insert(ot->rechecks.begin(), ot->rechecks.end());
          }
        }
        std::lock_guard lock(d.mu);
        d.retired.push_back(d.gen);
        d.gen = *built;
        spdlog::info("configuration reloaded: {} route target(s)", d.gen->targets.size());
      }
    }
    d.reloading = false;
    d.UpdateHalts();
  }
}

void Daemon::Stop() {
  if (impl_->stopping.exchange(true)) return;
  spdlog::info("stopping: no new work; running transfers may finish for up to {}s",
               std::chrono::duration_cast<std::chrono::seconds>(impl_->options.drain_timeout)
                   .count());
  impl_->UpdateHalts();
}

void Daemon::Reload() {
  Impl& d = *impl_;
  if (d.options.config_path.empty()) {
    spdlog::warn("reload requested but ferryd was not started from a file; ignored");
    return;
  }
  auto cfg = config::LoadConfig(d.options.config_path);
  if (!cfg.ok()) {
    spdlog::error("reload rejected, keeping the running configuration: {}",
                  cfg.status().error().message);
    return;
  }
  const config::Config& cur = d.Current()->config;
  auto keep = [&](const char* what, bool changed) {
    if (changed) {
      spdlog::warn("reload: {} changed; that takes a restart, keeping the running value", what);
    }
  };
  keep("state_dir", cfg->state_dir != cur.state_dir);
  keep("http.listen", cfg->http.listen != cur.http.listen);
  keep("control.socket", cfg->control.socket != cur.control.socket);
  keep("transfer (memory_limit, part sizes, concurrency)",
       cfg->transfer.memory_limit != cur.transfer.memory_limit ||
           cfg->transfer.part_size != cur.transfer.part_size ||
           cfg->transfer.parts_in_flight != cur.transfer.parts_in_flight ||
           cfg->transfer.max_objects_in_flight != cur.transfer.max_objects_in_flight ||
           cfg->transfer.multipart_threshold != cur.transfer.multipart_threshold);
  cfg->state_dir = cur.state_dir;
  const std::string token_file = cfg->http.webhook_token_file;  // may change
  cfg->http = cur.http;
  cfg->http.webhook_token_file = token_file;
  cfg->control = cur.control;
  const config::RetryConfig retry = cfg->transfer.retry;
  cfg->transfer = cur.transfer;
  cfg->transfer.retry = retry;
  for (const std::string& w : cfg->warnings) spdlog::warn("config: {}", w);
  ConfigureLogging(cfg->log);
  {
    std::lock_guard lock(d.mu);
    d.pending_config = std::move(*cfg);
  }
  spdlog::info("reload: configuration valid; switching once running transfers finish");
  d.reloading = true;
  d.UpdateHalts();
}

const std::vector<PassReport>& Daemon::last_reports() const { return impl_->last_reports; }
Registry& Daemon::registry() { return impl_->registry; }

}  // namespace ferry::engine
