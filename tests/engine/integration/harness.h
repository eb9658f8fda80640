// Harness for the engine integration tests: two real s3sim processes
// ("regions"), storage backends on them for populating and checking, a
// generated ferryd configuration, and the engine's Daemon run in-process (or
// the ferryd binary, for crash tests).
//
// Each test owns its regions and temp directory; everything stops and is
// removed when the fixture is destroyed. The test body drives one
// io_context on its own thread (RunTask); helper threads that act while a
// pass runs use their own io_context and backends (OpenSideBackend).
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <thread>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/config/config.h"
#include "engine/daemon/daemon.h"
#include "engine/sync/pass.h"
#include "protocols/base/status.h"
#include "protocols/s3/clock_skew.h"
#include "sim/admin_client.h"
#include "storage/backend.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::integration {

inline constexpr std::uint64_t kKiB = 1ull << 10;
inline constexpr std::uint64_t kMiB = 1ull << 20;
inline constexpr char kAccessKey[] = "integration-key";
inline constexpr char kSecretKey[] = "integration-secret";
inline constexpr char kSrcBucket[] = "src-bucket";
inline constexpr char kDstBucket[] = "dst-bucket";

// One s3sim process with one bucket.
class Region {
 public:
  // `extra` is appended to the s3sim command line (--bandwidth, --fault ...).
  Status Start(const std::string& dir, const std::string& name, const std::string& bucket,
               const std::vector<std::string>& extra = {});
  std::uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& bucket() const { return bucket_; }
  sim::AdminClient& admin() { return *admin_; }
  // A backend on this region's bucket bound to `ioc` (1 MiB minimum parts).
  std::shared_ptr<storage::Backend> OpenBackend(boost::asio::io_context& ioc) const;
  Status Healthy();

  // Requests of `op` (e.g. "UploadPart") counted by /_sim/stats.
  std::uint64_t Requests(const std::string& op);
  nlohmann::json Stats();
  // The whole request log after `since` (follows the admin API's pages).
  std::vector<nlohmann::json> Log(std::uint64_t since = 0);
  std::uint64_t LastSeq();

 private:
  std::unique_ptr<testing::Process> proc_;
  std::unique_ptr<sim::AdminClient> admin_;
  std::uint16_t port_ = 0;
  std::string bucket_;
};

// Knobs of the generated configuration.
struct ConfigOptions {
  std::string layout = "velero";
  std::string delete_policy = "mirror";
  std::string grace = "24h";
  double max_fraction = 0.10;
  std::string part_size = "5MiB";
  std::string multipart_threshold = "2MiB";
  int parts_in_flight = 8;
  int max_objects_in_flight = 16;
  int max_attempts = 10;
  std::string initial_backoff = "10ms";
  std::string max_backoff = "200ms";
  std::string payload_signing = "auto";
  std::string log_level = "warn";
  std::string http_listen;         // "" = no HTTP endpoint
  std::string webhook_token_file;  // "" = none
  std::string reconcile_every = "5m";
  std::string target_lag = "15m";
  std::string verify = "auto";  // the route's verify mode
  // layout velero: the marker's settle period. Most suites write a whole
  // unit before the pass runs, so none; velero_writer_test sets its own.
  std::string settle = "0s";
  std::string progress_timeout;  // "" = ferryd's default
  // Appended to both endpoints' capabilities, e.g. ", checksum_crc32c: true".
  std::string capabilities_extra;
  // false: the capabilities ferryd would probe at start-up are set in the
  // config (head_part_number true, checksum_crc32c false, etag_is_md5 true,
  // uploads_encoded_undeclared false, unless
  // capabilities_extra names them), so the request counts of a test hold
  // only its own traffic. probe_test.cc turns it on.
  bool probe = false;
};

// An object written to the source: its key, bytes' MD5 (hex) and size.
struct Written {
  std::string md5_hex;
  std::uint64_t size = 0;
  std::string etag;
};

class IntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  // Starts both regions (extra s3sim flags per side).
  void StartRegions(const std::vector<std::string>& src_extra = {},
                    const std::vector<std::string>& dst_extra = {});
  std::string ConfigYaml(const ConfigOptions& o) const;
  // Endpoints the harness does not run (a Ceph RGW pair): ConfigYaml names
  // them instead of the s3sim regions, each with its own credentials
  // profile ("src", "dst") in the shared credentials file.
  struct ExternalEndpoint {
    std::string url;
    std::string region;
    std::string bucket;
    std::string access_key;
    std::string secret_key;
  };
  // Writes the credentials file and opens src_backend_ / dst_backend_ on
  // them (`caps` as the suite knows the servers).
  void UseExternalEndpoints(ExternalEndpoint src, ExternalEndpoint dst,
                            const storage::Capabilities& caps);
  std::string WriteConfig(const ConfigOptions& o, const std::string& name = "ferry.yaml");
  // Runs one pass in-process (engine::Daemon); returns ferryd's exit code
  // and fills `reports`.
  int RunOnce(const ConfigOptions& o, std::vector<engine::PassReport>* reports = nullptr);
  // When set, RunOnce's daemon reads time from it (grace periods, approvals).
  const engine::Clock* clock_ = nullptr;
  // Runs the ferryd binary with --once on `config`; its exit code (-1 when
  // it did not exit normally within `timeout`).
  int RunFerrydOnce(const std::string& config, std::chrono::seconds timeout);
  // The manifest's RouteState of the only target, opened after the daemon
  // closed it: `fn` runs while it is open.
  void WithRouteState(const ConfigOptions& o,
                      const std::function<void(engine::RouteState&)>& fn);
  // The manifest's verified_by of `key` ("<none>" when it has no record).
  std::string VerifiedBy(const ConfigOptions& o, const std::string& key);

  // Source population through the backend.
  Written PutSource(const std::string& key, const std::string& data,
                    const storage::Metadata& meta = {});
  Written PutSourceMultipart(const std::string& key, const std::string& data,
                             std::uint64_t part_size);
  // A synthetic object at the source (s3sim generates its bytes).
  Written SyntheticSource(const std::string& key, std::uint64_t size, std::uint64_t seed,
                          std::uint64_t part_size);
  Status DeleteSource(const std::string& key);

  // key -> summary, whole bucket.
  std::map<std::string, storage::ObjectSummary> ListAll(storage::Backend& b);
  // MD5 hex and size of an object's bytes as a GET returns them.
  std::pair<std::string, std::uint64_t> Md5Of(storage::Backend& b, const std::string& key);
  // Asserts the destination holds exactly the source's keys with identical
  // bytes, and that multipart source ETags are mirrored (except `etag_exempt`).
  // Returns the number of objects.
  std::size_t ExpectReplicaIdentical(const std::set<std::string>& etag_exempt = {});

  // A Velero-like bucket: `backups` backups (multipart tarball + small
  // files + marker) and a kopia repository under kopia/app/.
  void PopulateVelero(int backups);

  boost::asio::io_context ioc_;
  std::unique_ptr<testing::TempDir> dir_;
  Region src_, dst_;
  std::optional<ExternalEndpoint> external_src_, external_dst_;
  std::shared_ptr<storage::Backend> src_backend_, dst_backend_;
  std::map<std::string, Written> written_;  // source content by key
};

std::string RandomBytes(std::uint64_t size, std::uint64_t seed);

// ferryd's Daemon in daemon mode, serving on its own thread and io_context,
// for tests that watch it while it runs (status, /metrics, /readyz).
class DaemonThread {
 public:
  DaemonThread() = default;
  DaemonThread(const DaemonThread&) = delete;
  DaemonThread& operator=(const DaemonThread&) = delete;
  ~DaemonThread() { Stop(); }
  // Loads `config_path`, configures logging from it and starts serving.
  Status Start(const std::string& config_path);
  // Stops serving (at most 30 s; a failure to stop is a test failure).
  void Stop();
  engine::Daemon& daemon() { return *daemon_; }
  bool running() const { return daemon_ != nullptr; }

 private:
  boost::asio::io_context ioc_;
  std::unique_ptr<engine::Daemon> daemon_;
  std::thread thread_;
  std::atomic<bool> served_{false};
};

// GET http://127.0.0.1:`port``target`: status code (-1 on a transport
// error) and body.
std::pair<int, std::string> HttpGet(std::uint16_t port, const std::string& target);
// The value of one sample line "name{labels} value" of a /metrics text
// (labels must match exactly).
std::optional<double> Metric(const std::string& text, const std::string& series);
// A free TCP port on 127.0.0.1 (closed again: another process may take it).
std::uint16_t FreePort();

// ferryd --config `config` --once as a child process.
std::unique_ptr<testing::Process> StartFerryd(const std::string& config);
// Waits for the child to exit; false on timeout.
bool WaitExit(testing::Process& p, std::chrono::steady_clock::duration timeout);

// Log helpers: writes are PutObject, CreateMultipartUpload, UploadPart,
// CompleteMultipartUpload, CopyObject, UploadPartCopy.
bool IsWrite(const nlohmann::json& entry);
std::vector<nlohmann::json> Filter(const std::vector<nlohmann::json>& log, const std::string& op,
                                   const std::string& key_prefix = "");

// Checks the layout order in a destination log (see ordering tests); adds
// GoogleTest failures naming the unit and the offending entries.
void ExpectVeleroOrder(const std::vector<nlohmann::json>& log, const std::vector<std::string>& units);
void ExpectKopiaOrder(const std::vector<nlohmann::json>& log, const std::string& repo_prefix);
// One multipart upload dropped before Complete (a damaged part found by a
// checksum or the mirrored ETag) and one made again: 2 creates, 1 abort and
// 1 complete at `dst`; the damaged upload never completed.
void ExpectOneUploadAbortedThenCompleted(Region& dst);

}  // namespace ferry::integration
