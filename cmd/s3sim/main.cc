// s3sim: ferry's S3 simulator for tests and benchmarks. Parses flags and runs
// sim::Server until SIGINT/SIGTERM; everything else lives in sim/.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <iostream>

#include "sim/server.h"

int main(int argc, char** argv) {
  ferry::sim::SimConfig cfg;
  std::string listen = "127.0.0.1:0";
  std::string port_file;
  CLI::App app{"s3sim: an S3 server for ferry's tests and benchmarks"};
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0 = any free port)");
  app.add_option("--access-key", cfg.access_key, "Access key id clients sign with")->required();
  app.add_option("--secret-key", cfg.secret_key, "Secret access key")->required();
  app.add_option("--bucket", cfg.buckets, "Bucket to create at start (repeatable)");
  app.add_option("--synthetic-bucket", cfg.synthetic_buckets,
                 "Bucket for synthetic objects made through POST /_sim/synthetic (repeatable)");
  app.add_option("--bucket-encryption", cfg.bucket_encryption,
                 "Default encryption of a bucket, BUCKET=ALGORITHM (AES256, aws:kms, "
                 "aws:kms:dsse; repeatable)");
  app.add_option("--data-dir", cfg.data_dir, "Keep object bodies in files here instead of RAM");
  std::uint64_t keep_up_to = 0;
  auto* keep = app.add_option("--keep-bodies-up-to", keep_up_to,
                              "Drop (after checking) bodies declared larger than this many bytes; "
                              "GETs of them answer 501 (benchmark destinations)")
                   ->check([](const std::string& v) {
                     return !v.empty() && v.find_first_not_of("0123456789") == std::string::npos
                                ? std::string()
                                : "takes a whole number of bytes, not " + v;
                   });
  app.add_option("--region", cfg.region, "Region clients must sign for");
  app.add_option("--threads", cfg.threads, "I/O threads");
  app.add_option("--latency-ms", cfg.latency_ms, "Delay before every response");
  app.add_option("--bandwidth", cfg.bandwidth_bps,
                 "Bytes/s per connection, each direction (0 = unlimited)");
  app.add_option("--min-part-size", cfg.min_part_size,
                 "Smallest non-final multipart part (last wins)")
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.add_option("--fault", cfg.faults, "Fault rule, e.g. op=get,kind=reset,next=1 (repeatable)");
  app.add_option("--fault-seed", cfg.fault_seed, "Seed for probabilistic faults");
  std::int64_t clock_offset_s = 0;
  app.add_option("--clock-offset", clock_offset_s,
                 "Seconds the simulator's clock is ahead of the host's (negative: behind)");
  app.add_option("--event-webhook", cfg.event_webhook,
                 "http:// URL to POST S3 event notifications to");
  app.add_option("--event-token", cfg.event_token, "X-Ferry-Token sent with events");
  app.add_option("--port-file", port_file, "Write the bound port here");
  app.add_option("--tls-cert", cfg.tls_cert, "PEM certificate chain (serve HTTPS)");
  app.add_option("--tls-key", cfg.tls_key, "PEM private key");
  CLI11_PARSE(app, argc, argv);
  cfg.clock_offset = std::chrono::seconds(clock_offset_s);
  if (keep->count() > 0) cfg.keep_bodies_up_to = keep_up_to;

  auto colon = listen.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "s3sim: --listen must be HOST:PORT\n";
    return 2;
  }
  cfg.listen_host = listen.substr(0, colon);
  try {
    cfg.port = static_cast<std::uint16_t>(std::stoul(listen.substr(colon + 1)));
  } catch (const std::exception&) {
    std::cerr << "s3sim: bad port in --listen " << listen << "\n";
    return 2;
  }
  cfg.handle_signals = true;

  ferry::sim::Server server(cfg);
  if (auto st = server.Start(); !st.ok()) {
    std::cerr << "s3sim: " << st.ToString() << "\n";
    return 1;
  }
  if (!port_file.empty()) {
    if (auto st = ferry::sim::WritePortFile(port_file, server.port()); !st.ok()) {
      std::cerr << "s3sim: " << st.ToString() << "\n";
      return 1;
    }
  }
  std::printf("s3sim listening on %s:%u\n", cfg.listen_host.c_str(), server.port());
  std::fflush(stdout);
  server.Wait();
  return 0;
}
