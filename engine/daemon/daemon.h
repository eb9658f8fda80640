// Daemon: ferryd's body. Turns a validated Config into backends, pacers,
// route state over the manifest and a Replicator, then runs passes: once
// (--once) or every reconcile_every until stopped.
//
// REQUIRES: the io_context outlives the Daemon; the caller runs it on as many
// threads as it likes.
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

#include "engine/config/config.h"
#include "engine/sync/pass.h"
#include "protocols/base/status.h"

namespace ferry::engine {

// Exit codes of ferryd (documented in docs/operations.md).
inline constexpr int kExitMatched = 0;     // --once: every destination matches
inline constexpr int kExitMismatch = 1;    // --once: something not replicated
inline constexpr int kExitConfig = 2;      // bad flags or configuration
inline constexpr int kExitStartup = 3;     // state or backends could not be opened

class Daemon {
 public:
  static Result<std::unique_ptr<Daemon>> Create(config::Config config,
                                                boost::asio::io_context& io);
  ~Daemon();

  // One full pass over every route; returns kExitMatched or kExitMismatch.
  io::Task<int> RunOnce();
  // Passes every reconcile_every until Stop().
  io::Task<void> RunForever();
  // Thread-safe; makes RunForever return after the current pass.
  void Stop();

  const std::vector<PassReport>& last_reports() const;

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Configures spdlog (text or JSON lines on stderr) per the config.
void ConfigureLogging(const config::LogConfig& log);

}  // namespace ferry::engine
