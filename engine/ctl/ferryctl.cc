#include "engine/ctl/ferryctl.h"

#include <cmath>
#include <cstdio>
#include <ostream>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/status/format.h"
#include "engine/sync/deletes.h"
#include "protocols/control/client.h"

namespace ferry::ctl {
namespace {

std::string Bytes(double b) { return engine::HumanBytes(b); }

std::string Age(const nlohmann::json& v) {
  return v.is_number() ? engine::HumanAge(v.get<double>()) : "-";
}

std::string Age(double seconds) { return engine::HumanAge(seconds); }

std::string Str(const nlohmann::json& j, const char* k) {
  auto it = j.find(k);
  if (it == j.end() || it->is_null()) return "-";
  if (it->is_string()) return it->get<std::string>();
  return it->dump();
}

void Row(std::ostream& out, const std::vector<std::string>& cells,
         const std::vector<std::size_t>& widths) {
  for (std::size_t i = 0; i < cells.size(); ++i) {
    out << cells[i];
    if (i + 1 < cells.size()) out << std::string(widths[i] + 2 - std::min(widths[i], cells[i].size()), ' ');
  }
  out << '\n';
}

void Table(std::ostream& out, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& r : rows) {
    widths.resize(std::max(widths.size(), r.size()));
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  }
  for (const auto& r : rows) Row(out, r, widths);
}

void PrintStatus(const nlohmann::json& s, std::ostream& out) {
  out << "ferryd " << Str(s, "version") << ", up " << Age(s.value("uptime_s", nlohmann::json()))
      << (s.value("ready", false) ? "" : ", NOT READY") << "\n";
  std::vector<std::vector<std::string>> rows = {{"ROUTE", "DESTINATION", "STATE", "LAG",
                                                 "TARGET", "PENDING", "BYTES", "RATE/s",
                                                 "RPO", "RECONCILED", "LAST ERROR"}};
  for (const auto& r : s.value("routes", nlohmann::json::array())) {
    for (const auto& d : r.value("destinations", nlohmann::json::array())) {
      std::string state = r.value("paused", false) ? "paused" : Str(d, "lag_state");
      if (d.value("stalled", false)) state += ",STALLED";
      if (d.value("deletes_paused", false)) state += ",deletes-held";
      std::string err = Str(d, "last_error");
      if (err.size() > 60) err = err.substr(0, 57) + "...";
      rows.push_back({Str(r, "route"), Str(d, "destination"), state,
                      Age(d.value("oldest_pending_age_s", nlohmann::json())),
                      Age(d.value("target_lag_s", nlohmann::json())),
                      std::to_string(d.value("pending_objects", 0ull)),
                      Bytes(d.value("pending_bytes", 0.0)), Bytes(d.value("rate_bps", 0.0)),
                      Age(d.value("replica_rpo_s", nlohmann::json())),
                      d.value("last_reconcile_age_s", nlohmann::json()).is_number()
                          ? Age(d["last_reconcile_age_s"]) + " ago"
                          : "never",
                      err});
    }
  }
  Table(out, rows);
  // A stall in words: what the destination is waiting for.
  for (const auto& r : s.value("routes", nlohmann::json::array())) {
    for (const auto& d : r.value("destinations", nlohmann::json::array())) {
      if (!d.value("stalled", false)) continue;
      out << "STALLED " << Str(r, "route") << " -> " << Str(d, "destination") << ": "
          << Str(d, "stall_reason") << "\n";
    }
  }
  if (!s.value("ready", true)) out << Str(s, "readiness") << "\n";
  const auto endpoints = s.value("endpoints", nlohmann::json::array());
  if (endpoints.empty()) return;
  // One row per endpoint and bucket: each capability as value and source.
  out << "\n";
  std::vector<std::vector<std::string>> caps = {{"ENDPOINT", "BACKEND", "CAPABILITIES"}};
  for (const auto& e : endpoints) {
    std::string list;
    // Named: a range-for over items() of a temporary would outlive it.
    const nlohmann::json capabilities = e.value("capabilities", nlohmann::json::object());
    for (const auto& [name, c] : capabilities.items()) {
      if (!list.empty()) list += ", ";
      list += name + "=" + (c.value("value", false) ? "true" : "false") + " (" +
              c.value("source", std::string("?")) + ")";
    }
    caps.push_back({Str(e, "endpoint"), Str(e, "backend"), list});
  }
  Table(out, caps);
}

void PrintLag(const nlohmann::json& s, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = {
      {"ROUTE", "DESTINATION", "STATE", "OLDEST PENDING", "TARGET", "PENDING", "MISSED", "RPO"}};
  for (const auto& e : s.value("routes", nlohmann::json::array())) {
    rows.push_back({Str(e, "route"), Str(e, "destination"),
                    e.value("paused", false) ? "paused" : Str(e, "lag_state"),
                    Age(e.value("oldest_pending_age_s", nlohmann::json())),
                    Age(e.value("target_lag_s", nlohmann::json())),
                    std::to_string(e.value("pending_objects", 0ull)),
                    std::to_string(e.value("missed_target", 0ull)),
                    Age(e.value("replica_rpo_s", nlohmann::json()))});
  }
  Table(out, rows);
}

void PrintVerify(const nlohmann::json& v, std::ostream& out) {
  for (const auto& d : v.value("destinations", nlohmann::json::array())) {
    out << "destination " << Str(d, "destination") << ": "
        << (d.value("ok", false) ? "MATCHES" : "DIFFERS") << "\n"
        << "  source " << d.value("source_objects", 0ull) << " objects ("
        << Bytes(d.value("source_bytes", 0.0)) << "), replica " << d.value("replica_objects", 0ull)
        << " objects (" << Bytes(d.value("replica_bytes", 0.0)) << ")\n"
        << "  matched " << d.value("matched", 0ull) << ", missing " << d.value("missing", 0ull)
        << ", size differs " << d.value("size_mismatch", 0ull) << ", etag differs "
        << d.value("etag_mismatch", 0ull) << ", extra at replica " << d.value("extra", 0ull)
        << (d.value("extra_is_mismatch", false) ? "" : " (kept by the delete policy)") << "\n";
    if (!d.value("source_listing_complete", false)) out << "  source listing INCOMPLETE\n";
    if (!d.value("destination_listing_complete", false)) out << "  replica listing INCOMPLETE\n";
    for (const auto& e : d.value("errors", nlohmann::json::array())) out << "  error: " << e.get<std::string>() << "\n";
    for (const auto& x : d.value("diffs", nlohmann::json::array())) {
      out << "  " << Str(x, "problem") << "\t" << Str(x, "key");
      if (x["source"].is_object()) out << "\tsource " << x["source"].dump();
      if (x["replica"].is_object()) out << "\treplica " << x["replica"].dump();
      out << "\n";
    }
    if (d.value("diffs_truncated", false)) out << "  (more differences not shown)\n";
  }
}

// One request; fills `result`. Returns an exit code.
int Ask(const Options& o, const std::string& command, const nlohmann::json& args,
        std::chrono::milliseconds timeout, nlohmann::json* result, std::ostream& err) {
  control::Request req;
  req.command = command;
  req.id = "ferryctl";
  req.args = args;
  auto resp = control::Call(o.socket, req, timeout);
  if (!resp.ok()) {
    err << "ferryctl: cannot talk to ferryd at " << o.socket << ": " << resp.status().ToString()
        << "\n";
    return kExitUnreachable;
  }
  if (!resp->ok) {
    err << "ferryctl: " << command << ": " << resp->error_message << " (" << resp->error_code
        << ")\n";
    return kExitFailed;
  }
  *result = resp->result;
  return kExitOk;
}

void PrintApproval(const nlohmann::json& a, std::ostream& out) {
  for (const auto& d : a.value("approved", nlohmann::json::array())) {
    out << "destination " << Str(d, "destination") << ": ";
    if (d.value("armed", false)) {
      out << "the held batch of " << d.value("deletes_held", 0ull)
          << " deletes is approved for the next pass (this batch only; the approval lapses in "
          << engine::HumanAge(static_cast<double>(engine::kApprovalTtl.count()) * 3600) << ")\n";
    } else {
      out << "the mass-delete guard holds nothing here; nothing approved\n";
    }
  }
}

}  // namespace

int Run(const Options& o, std::ostream& out, std::ostream& err) {
  nlohmann::json result;
  nlohmann::json args = nlohmann::json::object();
  if (!o.route.empty()) args["route"] = o.route;
  if (o.command == "wait") {
    auto deadline = std::chrono::steady_clock::now() + o.wait_timeout;
    for (;;) {
      int rc = Ask(o, "lag", args, o.timeout, &result, err);
      if (rc == kExitOk) {
        double worst = result.value("max_oldest_pending_age_s", 0.0);
        bool reconciled = result.value("all_reconciled", false);
        if (reconciled && worst * 1000.0 < static_cast<double>(o.lag_below.count())) {
          if (o.json) {
            out << result.dump() << "\n";
          } else {
            out << "lag " << Age(worst) << " is below " << Age(o.lag_below.count() / 1000.0)
                << "\n";
          }
          return kExitOk;
        }
      } else if (rc == kExitFailed) {
        return rc;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        err << "ferryctl: wait: timed out; "
            << (rc == kExitOk ? (result.value("all_reconciled", false)
                                     ? "oldest pending object is " +
                                           Age(result.value("max_oldest_pending_age_s", 0.0)) +
                                           " old"
                                     : std::string("a route has not completed a reconciliation"))
                              : std::string("ferryd did not answer"))
            << "\n";
        if (rc == kExitOk && !o.json) PrintLag(result, err);
        return kExitFailed;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  int rc = Ask(o, o.command, args, o.timeout, &result, err);
  if (rc != kExitOk) return rc;
  if (o.json) {
    out << result.dump(2) << "\n";
  } else if (o.command == "status") {
    PrintStatus(result, out);
  } else if (o.command == "lag") {
    PrintLag(result, out);
  } else if (o.command == "verify") {
    PrintVerify(result, out);
  } else if (o.command == "approve-deletes") {
    PrintApproval(result, out);
  } else {
    out << result.dump() << "\n";
  }
  if (o.command == "verify" && !result.value("ok", false)) return kExitFailed;
  if (o.command == "approve-deletes" && !result.value("armed", false)) return kExitFailed;
  return kExitOk;
}

}  // namespace ferry::ctl
