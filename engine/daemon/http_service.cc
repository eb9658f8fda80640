// The daemon's HTTP endpoint: /metrics, /healthz, /readyz and the S3 event
// webhook (POST /events). An event is a hint: each record is confirmed with
// HEAD on the source, then the backup unit it belongs to gets a targeted
// pass (so layout ordering holds), within a second instead of at the next
// reconciliation.
#include <openssl/crypto.h>
#include <spdlog/spdlog.h>

#include "engine/daemon/daemon_internal.h"
#include "engine/sync/layout.h"
#include "protocols/prom/writer.h"

namespace ferry::engine {
namespace {

http::ServerResponse Text(int status, std::string body) {
  http::ServerResponse r;
  r.status = status;
  r.body = std::move(body);
  if (r.body.empty() || r.body.back() != '\n') r.body += '\n';
  return r;
}

bool TokenMatches(std::string_view got, const std::string& want) {
  if (want.empty() || got.size() != want.size()) return false;
  return CRYPTO_memcmp(got.data(), want.data(), want.size()) == 0;
}

std::string_view PathOf(std::string_view target) {
  auto q = target.find('?');
  return q == std::string_view::npos ? target : target.substr(0, q);
}

}  // namespace

io::Task<http::ServerResponse> Daemon::Impl::HandleHttp(http::ServerRequest req) {
  const std::string_view path = PathOf(req.target);
  if (path == "/metrics") {
    if (req.method != "GET" && req.method != "HEAD") co_return Text(405, "use GET");
    http::ServerResponse r;
    r.content_type = std::string(prom::kContentType);
    r.body = registry.RenderMetrics(NowMs());
    co_return r;
  }
  if (path == "/healthz") co_return Text(200, "ok");
  if (path == "/readyz") {
    const Registry::ReadyState r = registry.Readiness(NowMs());
    co_return Text(r.ready ? 200 : 503, r.why);
  }
  if (path == "/events") {
    if (req.method != "POST") co_return Text(405, "POST S3 event notifications here");
    std::string token;
    {
      std::lock_guard lock(mu);
      token = webhook_token;
    }
    if (token.empty()) {
      co_return Text(404, "event webhook disabled: set http.webhook_token_file");
    }
    std::string_view got = req.Header("X-Ferry-Token");
    if (got.empty()) {
      std::string_view auth = req.Header("Authorization");
      if (auth.substr(0, 7) == "Bearer ") got = auth.substr(7);
    }
    if (!TokenMatches(got, token)) {
      registry.CountEvents("rejected", 1);
      spdlog::warn("event webhook: request without a valid token refused");
      co_return Text(401, "missing or wrong token");
    }
    auto parsed = events::ParseNotification(req.body);
    if (!parsed.ok()) {
      registry.CountEvents("rejected", 1);
      spdlog::warn("event webhook: {}", parsed.status().ToString());
      co_return Text(400, parsed.status().ToString());
    }
    if (parsed->sns_subscribe_url) {
      spdlog::warn("event webhook: SNS subscription confirmation received; confirm it by "
                   "visiting the SubscribeURL from the SNS console (ferryd does not fetch it)");
      co_return Text(200, "subscription confirmation noted");
    }
    registry.CountEvents("ignored", parsed->ignored_records);
    std::size_t accepted = 0, ignored = 0;
    {
      std::lock_guard lock(mu);
      if (events.size() + parsed->events.size() > kMaxQueuedEvents) {
        registry.CountEvents("rejected", parsed->events.size());
        co_return Text(503, "event queue full; retry later");
      }
      for (events::ObjectEvent& e : parsed->events) {
        if (e.kind != events::EventKind::kCreated) {
          ++ignored;  // deletes wait for reconciliation (grace, 404-confirm)
          continue;
        }
        events.push_back({std::move(e)});
        ++accepted;
      }
    }
    registry.CountEvents("accepted", accepted);
    registry.CountEvents("ignored", ignored);
    co_return Text(200, "accepted " + std::to_string(accepted));
  }
  co_return Text(404, "not found (try /metrics, /healthz, /readyz, POST /events)");
}

io::Task<void> Daemon::Impl::EventLoop() {
  while (!stopping.load()) {
    std::vector<events::ObjectEvent> batch;
    {
      std::lock_guard lock(mu);
      while (!events.empty() && batch.size() < 64) {
        batch.push_back(std::move(events.front().event));
        events.pop_front();
      }
    }
    if (batch.empty()) {
      co_await Sleep(std::chrono::milliseconds(20));
      continue;
    }
    for (events::ObjectEvent& e : batch) co_await ProcessEvent(std::move(e));
  }
}

io::Task<void> Daemon::Impl::ProcessEvent(events::ObjectEvent e) {
  std::shared_ptr<Generation> g = Current();
  if (!g) co_return;
  for (const auto& tp : g->targets) {
    TargetRuntime* t = tp.get();
    if (t->source_bucket != e.bucket) continue;
    const std::string& prefix = t->rt.source.prefix;
    if (e.key.compare(0, prefix.size(), prefix) != 0) continue;
    const std::string rel = e.key.substr(prefix.size());
    if (rel.empty()) continue;
    // The event is a hint: the source's word decides.
    auto head = co_await WithRetry(t->rt.settings.retry, *t->rt.source.pacer, [&]() {
      return t->rt.source.backend->Head(e.key, storage::HeadOptions());
    });
    if (!head.ok()) {
      if (!head.status().Is(ErrorClass::kNotFound)) {
        spdlog::warn("event for {}: HEAD on the source failed: {}", e.key,
                     head.status().ToString());
      }
      continue;
    }
    std::int64_t since = std::chrono::duration_cast<std::chrono::milliseconds>(
                             head->last_modified.time_since_epoch())
                             .count();
    if (e.event_time) {
      since = std::min(since, std::chrono::duration_cast<std::chrono::milliseconds>(
                                  e.event_time->time_since_epoch())
                                  .count());
    }
    // Durable first sighting, so the lag clock survives a restart even if
    // the copy has not started yet (paused route, long queue).
    auto known = t->rt.dest.state->Get(rel);
    if (known.ok() && (!known->has_value() || (*known)->src_etag != head->etag)) {
      ObjectState ns;
      ns.phase = ObjectPhase::kPending;
      ns.src_etag = head->etag;
      ns.size = head->size;
      ns.source_mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               head->last_modified.time_since_epoch())
                               .count();
      ns.first_seen_ms = NowMs();
      (void)t->rt.dest.state->Put(rel, ns);
    }
    t->stats->Pending(rel, since, head->size);
    Placement p = Classify(t->rt.settings.layout, rel);
    // The unit's prefix keeps its ordering; plain keys go alone.
    std::string sub = p.unit.empty() ? rel : p.unit;
    std::lock_guard lock(t->mu);
    if (t->queued.size() >= kMaxQueuedTargets && !t->queued.count(sub)) {
      t->resync = true;  // too much at once: a full pass covers it
    } else {
      t->queued.insert(sub);
    }
  }
}

}  // namespace ferry::engine
