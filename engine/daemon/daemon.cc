#include "engine/daemon/daemon.h"

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <map>

#include "engine/daemon/manifest_state.h"
#include "engine/daemon/wiring.h"
#include "engine/replicator.h"

namespace ferry::engine {

struct Daemon::Impl {
  config::Config config;
  boost::asio::io_context& io;
  Wiring wiring;
  std::unique_ptr<Replicator> replicator;
  std::vector<ReplicatorTarget> targets;
  std::vector<DeletePolicy> policies;  // per target
  std::vector<PassReport> last_reports;
  std::atomic<bool> stop{false};
  std::shared_ptr<boost::asio::steady_timer> sleep_timer;

  Impl(config::Config c, boost::asio::io_context& i) : config(std::move(c)), io(i) {}
};

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Daemon::~Daemon() = default;

Result<std::unique_ptr<Daemon>> Daemon::Create(config::Config config,
                                               boost::asio::io_context& io) {
  auto impl = std::make_unique<Impl>(std::move(config), io);
  const config::Config& cfg = impl->config;
  for (const std::string& w : cfg.warnings) spdlog::warn("config: {}", w);
  FERRY_RETURN_IF_ERROR(impl->wiring.Open(cfg, io.get_executor()));

  ReplicatorOptions ro;
  ro.transfer.part_size = cfg.transfer.part_size;
  ro.transfer.multipart_threshold = cfg.transfer.multipart_threshold;
  ro.transfer.parts_in_flight_per_object = cfg.transfer.parts_in_flight;
  ro.transfer.retry = {cfg.transfer.retry.max_attempts, cfg.transfer.retry.initial_backoff,
                       cfg.transfer.retry.max_backoff};
  ro.memory_limit = cfg.transfer.memory_limit;
  ro.max_objects_in_flight = cfg.transfer.max_objects_in_flight;
  impl->replicator = std::make_unique<Replicator>(ro);

  for (const config::Target& t : config::Targets(cfg)) {
    ReplicatorTarget rt;
    rt.settings.route = t.route->name;
    rt.settings.layout = t.route->layout == config::Layout::kVelero  ? LayoutKind::kVelero
                         : t.route->layout == config::Layout::kKopia ? LayoutKind::kKopia
                                                                      : LayoutKind::kPlain;
    const config::DeleteConfig& d = t.route->deletion;
    rt.settings.deletes.policy = d.policy == config::DeletePolicy::kKeep ? DeletePolicy::kKeep
                                 : d.policy == config::DeletePolicy::kMirrorNow
                                     ? DeletePolicy::kMirrorNow
                                     : DeletePolicy::kMirror;
    rt.settings.deletes.grace = d.grace;
    rt.settings.deletes.max_fraction = d.max_fraction;
    rt.settings.retry = ro.transfer.retry;
    rt.settings.read_back = t.route->verify == config::VerifyMode::kReadBack;
    FERRY_ASSIGN_OR_RETURN(Wiring::Side src, impl->wiring.GetSide(*t.source_endpoint, *t.source));
    FERRY_ASSIGN_OR_RETURN(Wiring::Side dst,
                           impl->wiring.GetSide(*t.destination_endpoint, *t.destination));
    rt.source = {src.backend, src.pacer, t.source->prefix};
    rt.dest.id = t.id;
    rt.dest.backend = dst.backend;
    rt.dest.pacer = dst.pacer;
    rt.dest.prefix = t.destination->prefix;
    FERRY_ASSIGN_OR_RETURN(rt.dest.state,
                           impl->wiring.State(t.route->name, t.id, t.destination->prefix));
    impl->policies.push_back(rt.settings.deletes.policy);
    impl->targets.push_back(std::move(rt));
  }
  spdlog::info("ferryd ready: {} route target(s), state in {}", impl->targets.size(),
               cfg.state_dir);
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

io::Task<int> Daemon::RunOnce() {
  Impl& d = *impl_;
  auto started = std::chrono::steady_clock::now();
  d.last_reports = co_await d.replicator->RunPass(d.targets, nullptr);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  bool all = true;
  for (std::size_t i = 0; i < d.last_reports.size(); ++i) {
    const PassReport& r = d.last_reports[i];
    bool ok = r.Matches(d.policies[i]);
    all = all && ok;
    if (ok) {
      spdlog::info("{}", r.Summary());
    } else {
      spdlog::error("{}", r.Summary());
    }
  }
  const TransferCounters& c = d.replicator->counters();
  spdlog::info("pass finished in {:.1f}s: {} bytes read, {} bytes written, {} parts, {} resumed",
               secs, c.bytes_read.load(), c.bytes_written.load(), c.parts_uploaded.load(),
               c.parts_resumed.load());
  co_return all ? kExitMatched : kExitMismatch;
}

io::Task<void> Daemon::RunForever() {
  Impl& d = *impl_;
  while (!d.stop.load()) {
    (void)co_await RunOnce();
    if (d.stop.load()) break;
    d.sleep_timer = std::make_shared<boost::asio::steady_timer>(d.io, d.config.reconcile_every);
    boost::system::error_code ec;
    co_await d.sleep_timer->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
}

void Daemon::Stop() {
  impl_->stop = true;
  boost::asio::post(impl_->io, [this] {
    if (impl_->sleep_timer) impl_->sleep_timer->cancel();
  });
}

const std::vector<PassReport>& Daemon::last_reports() const { return impl_->last_reports; }

}  // namespace ferry::engine
