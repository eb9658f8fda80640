// ferryd: the replication daemon. Parses flags, loads the config and runs
// the engine's Daemon; everything else lives in engine/.
#include <CLI/CLI.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include <functional>
#include <iostream>
#include <thread>

#include "engine/config/config.h"
#include "engine/daemon/daemon.h"

int main(int argc, char** argv) {
  CLI::App app{"ferryd: replicates backup buckets (Velero, kopia) between S3 endpoints"};
  std::string config_path = "/etc/ferry/ferry.yaml";
  bool once = false;
  bool check = false;
  unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::string drain = "30s";
  app.add_option("-c,--config", config_path, "configuration file (YAML)")->capture_default_str();
  app.add_flag("--once", once,
               "run one full pass and exit: 0 when every destination matches, 1 otherwise");
  app.add_flag("--check-config", check, "validate the configuration, print it redacted, exit");
  app.add_option("--threads", threads, "I/O threads")->capture_default_str()->check(
      CLI::Range(1u, 256u));
  app.add_option("--drain-timeout", drain,
                 "on SIGTERM, how long running transfers may finish before exit")
      ->capture_default_str();
  app.footer(
      "Signals: SIGHUP reloads the configuration (an invalid one is rejected and the running one\n"
      "kept); SIGTERM/SIGINT drain and stop. Exit codes: 0 ok (--once: every destination\n"
      "matches), 1 --once found something not replicated, 2 bad flags or configuration,\n"
      "3 state, backends or listeners could not be opened. Docs: docs/operations.md.");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : ferry::engine::kExitConfig;
  }

  auto drain_timeout = ferry::config::ParseDuration(drain);
  if (!drain_timeout) {
    std::cerr << "ferryd: --drain-timeout: not a duration: " << drain << "\n";
    return ferry::engine::kExitConfig;
  }
  auto cfg = ferry::config::LoadConfig(config_path);
  if (!cfg.ok()) {
    std::cerr << "ferryd: invalid configuration:\n" << cfg.status().error().message << "\n";
    return ferry::engine::kExitConfig;
  }
  if (check) {
    std::cout << ferry::config::Redacted(*cfg);
    return 0;
  }
  ferry::engine::ConfigureLogging(cfg->log);

  boost::asio::io_context io(static_cast<int>(threads));
  ferry::engine::DaemonOptions options;
  options.config_path = config_path;
  options.drain_timeout = *drain_timeout;
  options.version = FERRY_VERSION;
  auto daemon = ferry::engine::Daemon::Create(std::move(*cfg), io, options);
  if (!daemon.ok()) {
    spdlog::critical("cannot start: {}", daemon.status().ToString());
    return ferry::engine::kExitStartup;
  }
  int exit_code = 0;
  boost::asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);
  boost::asio::steady_timer drain_timer(io);
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int sig) {
        if (ec) return;
        if (sig == SIGHUP) {
          spdlog::info("SIGHUP: reloading {}", config_path);
          (*daemon)->Reload();
        } else {
          (*daemon)->Stop();
          drain_timer.expires_after(*drain_timeout);
          drain_timer.async_wait([&](const boost::system::error_code& e) {
            if (e) return;
            spdlog::warn("drain timed out after {}: exiting; finished parts are recorded and "
                         "the rest is re-sent at the next start",
                         ferry::config::FormatDuration(*drain_timeout));
            io.stop();
          });
        }
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        if (once) {
          exit_code = co_await (*daemon)->RunOnce();
        } else {
          exit_code = co_await (*daemon)->Serve();
        }
        signals.cancel();
        drain_timer.cancel();
        io.stop();
      },
      [](std::exception_ptr ep) {
        if (ep) std::rethrow_exception(ep);
      });
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads; ++i) pool.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& t : pool) t.join();
  return exit_code;
}
