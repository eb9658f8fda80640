// s3sim as a library: an S3-compatible HTTP(S) server on Boost.Beast with
// C++20 coroutines, used in-process by tests and wrapped by cmd/s3sim.
//
//   SimConfig cfg; cfg.access_key = "AK"; cfg.secret_key = "SK"; cfg.buckets = {"b"};
//   sim::Server server(cfg);
//   FERRY_RETURN_IF_ERROR(server.Start());   // binds; server.port() is known now
//   ... talk S3 to 127.0.0.1:server.port(), admin API under /_sim/ ...
//   server.Stop();                           // or the destructor
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "protocols/base/status.h"
#include "sim/config.h"
#include "sim/services.h"

namespace ferry::sim {

class Server {
 public:
  explicit Server(SimConfig config);
  ~Server();  // stops and joins
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Validates the config, creates the buckets, binds and starts the I/O
  // threads. Errors name the flag or address at fault.
  Status Start();
  // The bound port. REQUIRES: Start() succeeded.
  std::uint16_t port() const;
  // Shared state (store, stats, faults, link), e.g. to seed objects in tests.
  Services& services();
  // Stops accepting, drops connections, joins the threads. Idempotent, any thread.
  void Stop();
  // Blocks until Stop() (or, with config.handle_signals, SIGINT/SIGTERM).
  void Wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes "<port>\n" to `path` atomically (temp file + rename), so a reader
// never sees a partial number.
Status WritePortFile(const std::string& path, std::uint16_t port);

}  // namespace ferry::sim
