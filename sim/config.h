// Settings of one s3sim instance: what the command line (cmd/s3sim) or an
// in-process test fills in before constructing a sim::Server.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ferry::sim {

struct SimConfig {
  std::string listen_host = "127.0.0.1";
  std::uint16_t port = 0;  // 0 = pick a free port; Server::port() tells which
  std::string access_key;
  std::string secret_key;
  std::vector<std::string> buckets;            // created at start
  std::vector<std::string> synthetic_buckets;  // created at start, for admin-made objects
  // Default bucket encryption, "BUCKET=ALGORITHM" (AES256, aws:kms,
  // aws:kms:dsse), applied at start (see encryption.h).
  std::vector<std::string> bucket_encryption;
  std::string data_dir;                        // "" = bodies in memory
  // Bodies declared larger are hashed and dropped (GET: 501); unset = keep all.
  std::optional<std::uint64_t> keep_bodies_up_to;
  std::string region = "us-east-1";
  int threads = 2;
  std::uint32_t latency_ms = 0;     // delay before every response
  std::uint64_t bandwidth_bps = 0;  // per connection, both directions; 0 = unlimited
  std::uint64_t min_part_size = 5u << 20;
  std::vector<std::string> faults;  // fault specs, see faults.h
  std::uint64_t fault_seed = 1;
  // How far the simulator's clock is ahead of the host's (negative: behind).
  // It signs the Date header and is what request times are checked against,
  // so a non-zero value is a persistent clock skew between client and server.
  std::chrono::seconds clock_offset{0};
  std::string event_webhook;  // "http://host:port/path"; "" = no events
  std::string event_token;    // sent as X-Ferry-Token
  std::string tls_cert;       // PEM files; both set = HTTPS
  std::string tls_key;
  bool handle_signals = false;  // SIGINT/SIGTERM stop the server (the binary sets it)

  // Limits. Every read has a deadline and every buffer a bound.
  std::size_t header_limit = 64 << 10;
  std::chrono::seconds idle_timeout{60};  // waiting for (all of) the next request header
  std::chrono::seconds io_timeout{30};    // each body read / write chunk
  std::chrono::minutes max_clock_skew{15};
  std::size_t event_queue_limit = 1024;
  std::size_t request_log_limit = 200000;
};

}  // namespace ferry::sim
