// ferryctl: talks to a running ferryd over its control socket. Parses flags;
// the commands live in engine/ctl.
#include <CLI/CLI.hpp>

#include <iostream>

#include "engine/config/config.h"
#include "engine/ctl/ferryctl.h"

int main(int argc, char** argv) {
  using ferry::ctl::Options;
  Options o;
  std::string timeout = "10s", lag_below, wait_timeout = "10m";
  CLI::App app{"ferryctl: status and control of a running ferryd"};
  app.add_option("-s,--socket", o.socket, "control socket of ferryd (config control.socket)")
      ->capture_default_str();
  app.add_flag("--json", o.json, "print the daemon's answer as JSON");
  app.add_option("--request-timeout", timeout, "per-request deadline (verify: default 10m)");
  app.require_subcommand(1);
  app.fallthrough();
  app.footer(
      "Exit codes: 0 ok, 1 the command failed (verify found differences, wait timed out,\n"
      "unknown route), 2 usage error, 3 ferryd unreachable. Docs: docs/operations.md.");
  app.add_subcommand("status", "routes, lag against target, pending, throughput, last error");
  app.add_subcommand("lag", "lag figures per destination");
  for (const char* name : {"pause", "resume", "resync", "verify", "approve-deletes"}) {
    const char* help = std::string(name) == "pause"    ? "stop starting new work on ROUTE"
                       : std::string(name) == "resume" ? "undo pause"
                       : std::string(name) == "resync" ? "full reconciliation of ROUTE now"
                       : std::string(name) == "verify"
                           ? "compare source and replica (counts, sizes, ETags); exit 1 on a diff"
                           : "let the mass-delete guard's held deletes of ROUTE proceed once";
    app.add_subcommand(name, help)->add_option("ROUTE", o.route, "route name")->required();
  }
  auto* wait = app.add_subcommand("wait", "block until every route's lag is below a bound");
  wait->add_option("--lag-below", lag_below, "e.g. 60s")->required();
  wait->add_option("--timeout", wait_timeout, "give up after (exit 1)")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : ferry::ctl::kExitUsage;
  }
  o.command = app.get_subcommands().front()->get_name();
  auto parse = [](const std::string& text, const char* what) {
    auto d = ferry::config::ParseDuration(text);
    if (!d) {
      std::cerr << "ferryctl: " << what << ": not a duration: " << text << "\n";
      std::exit(ferry::ctl::kExitUsage);
    }
    return *d;
  };
  bool timeout_given = app.count("--request-timeout") > 0;
  o.timeout = parse(timeout, "--request-timeout");
  if (o.command == "verify" && !timeout_given) o.timeout = std::chrono::minutes(10);
  if (o.command == "wait") {
    o.lag_below = parse(lag_below, "--lag-below");
    o.wait_timeout = parse(wait_timeout, "--timeout");
  }
  return ferry::ctl::Run(o, std::cout, std::cerr);
}
