// Control-socket requests (ferryctl). Protocol: protocols/control; commands
// and their results: docs/operations.md "ferryctl".
#include <spdlog/spdlog.h>

#include "engine/daemon/daemon_internal.h"
#include "engine/sync/deletes.h"
#include "engine/sync/verify.h"
#include "engine/transfer/parallel.h"

namespace ferry::engine {
namespace {

std::string RouteArg(const control::Request& r) {
  auto it = r.args.find("route");
  return it != r.args.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

io::Task<std::string> Daemon::Impl::HandleControl(control::Request req) {
  const std::string& cmd = req.command;
  const std::int64_t now = NowMs();
  if (cmd == "status") co_return control::OkResponse(req.id, registry.StatusJson(now));
  if (cmd == "lag") co_return control::OkResponse(req.id, registry.LagJson(now));
  if (cmd == "ping") {
    co_return control::OkResponse(req.id, nlohmann::json{{"version", options.version}});
  }
  const bool route_cmd = cmd == "pause" || cmd == "resume" || cmd == "resync" ||
                         cmd == "verify" || cmd == "approve-deletes";
  if (!route_cmd) {
    co_return control::ErrorResponse(
        req.id, "unknown_command",
        "unknown command \"" + cmd +
            "\" (known: status, lag, ping, pause, resume, resync, verify, approve-deletes)");
  }
  const std::string route = RouteArg(req);
  std::shared_ptr<Generation> g = Current();
  std::vector<TargetRuntime*> targets = g->ForRoute(route);
  if (route.empty() || targets.empty()) {
    std::string known;
    for (const config::Route& r : g->config.routes) known += (known.empty() ? "" : ", ") + r.name;
    co_return control::ErrorResponse(req.id, "unknown_route",
                                     "unknown route \"" + route + "\" (known: " + known + ")");
  }

  if (cmd == "pause" || cmd == "resume") {
    const bool pause = cmd == "pause";
    for (TargetRuntime* t : targets) {
      Status st = t->rt.dest.state->PutMeta("paused", pause ? "1" : "");
      if (!st.ok()) co_return control::ErrorResponse(req.id, "internal", st.ToString());
    }
    {
      std::lock_guard lock(mu);
      if (pause) {
        paused_routes.insert(route);
      } else {
        paused_routes.erase(route);
      }
    }
    registry.SetRoutePaused(route, pause);
    UpdateHalts();
    spdlog::info("route {} {} by ferryctl", route, pause ? "paused" : "resumed");
    co_return control::OkResponse(req.id, nlohmann::json{{"route", route}, {"paused", pause}});
  }

  if (cmd == "resync") {
    for (TargetRuntime* t : targets) t->resync = true;
    spdlog::info("route {}: full reconciliation requested by ferryctl", route);
    co_return control::OkResponse(
        req.id, nlohmann::json{{"route", route}, {"resync", "started"}, {"paused", Paused(route)}});
  }

  if (cmd == "approve-deletes") {
    // Arms an approval only for a batch the guard holds now (deletes.h).
    nlohmann::json held = nlohmann::json::array();
    bool armed_any = false;
    for (TargetRuntime* t : targets) {
      auto r = ApproveHeldDeletes(*t->rt.dest.state, NowMs());
      if (!r.ok()) co_return control::ErrorResponse(req.id, "internal", r.status().ToString());
      nlohmann::json row = {{"destination", t->rt.dest.id},
                            {"deletes_held", r->held},
                            {"armed", r->armed}};
      if (r->armed) {
        row["expires_ms"] = r->expires_ms;
        t->resync = true;
        armed_any = true;
        spdlog::warn("route {} → {}: mass delete of {} objects approved by ferryctl (this batch "
                     "only, next pass)",
                     route, t->rt.dest.id, r->held);
      }
      held.push_back(std::move(row));
    }
    if (!armed_any) {
      spdlog::info("route {}: approve-deletes: the mass-delete guard holds nothing; nothing armed",
                   route);
    }
    co_return control::OkResponse(
        req.id, nlohmann::json{{"route", route}, {"armed", armed_any}, {"approved", held}});
  }

  // verify: every destination of the route, compared now.
  std::vector<VerifyReport> reports(targets.size());
  Status ignored = co_await RunParallel(
      static_cast<int>(targets.size()), [&](int i, ParallelControl&) -> io::Task<Status> {
        TargetRuntime* t = targets[static_cast<std::size_t>(i)];
        reports[static_cast<std::size_t>(i)] =
            co_await VerifyDestination(t->rt.settings, t->rt.source, t->rt.dest);
        co_return Status::Ok();
      });
  (void)ignored;
  bool ok = true;
  nlohmann::json out;
  out["route"] = route;
  out["destinations"] = nlohmann::json::array();
  for (const VerifyReport& r : reports) {
    ok = ok && r.ok();
    out["destinations"].push_back(r.ToJson());
  }
  out["ok"] = ok;
  spdlog::info("route {}: verify {}", route, ok ? "clean" : "found differences");
  co_return control::OkResponse(req.id, out);
}

}  // namespace ferry::engine
