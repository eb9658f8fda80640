// A throwaway Ceph RGW (Ceph 16.2 "Pacific") for tests: one monitor, one
// bluestore OSD on a sparse file and radosgw with the beast frontend, all
// under one temporary directory (ceph.conf, keyring, monitor data, OSD block
// file, run dir with admin sockets, logs, crash dir), with a fresh S3 user
// whose keys are random.
//
//   auto rgw = RgwCluster::Start({.api_name = "eu-west-1"});
//   // rgw.value()->endpoint(), access_key(), secret_key(), region()
//
// Several clusters can run at once in one process: each has its own fsid,
// directory, monitor port and S3 port (both picked free, outside the range
// the OSDs bind in). Start takes a few seconds; every step has a deadline and
// a failure names the step, with the command's output and the tail of the
// log of the daemon concerned.
//
// The destructor stops exactly the three daemons Start launched (TERM, then
// KILL after a grace period) and removes the directory. The daemons also die
// with the test binary (testing::Process sets PDEATHSIG), so a crashed or
// timed-out test leaves none behind.
//
// REQUIRES: the Ceph binaries (ceph-mon, ceph-osd, radosgw, ceph-common's
// ceph, ceph-authtool, radosgw-admin; monmaptool) on PATH: scripts/bootstrap
// installs them. Not thread-safe: one thread drives a cluster.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocols/base/status.h"
#include "protocols/http/client.h"
#include "tests/support/process.h"

namespace ferry::testing {

struct RgwOptions {
  // The zonegroup's api_name: the S3 region. GetBucketLocation answers it,
  // and CreateBucket's LocationConstraint must equal it (s3::Client sends
  // its region as LocationConstraint unless that is us-east-1).
  std::string api_name = "default";
  // SSE-KMS with RGW's "testing" backend: one 32-byte key (random, base64 in
  // ceph.conf) under kms_key_id(); rgw_crypt_require_ssl off, so SSE-KMS and
  // SSE-C work over plain HTTP.
  bool kms_testing_key = true;
  // rgw_multipart_min_part_size; S3 (and RGW's default) is 5 MiB.
  std::uint64_t min_part_size = 5ull << 20;
  // Whole start-up, every step included.
  std::chrono::milliseconds start_timeout{120'000};
  // Copy radosgw's log (request lines) to the test's stderr as it runs.
  bool echo_rgw_log = false;
};

// True when every Ceph binary the cluster needs is found on PATH.
bool RgwAvailable();

class RgwCluster {
 public:
  static Result<std::unique_ptr<RgwCluster>> Start(RgwOptions options);
  ~RgwCluster();
  RgwCluster(const RgwCluster&) = delete;
  RgwCluster& operator=(const RgwCluster&) = delete;

  std::uint16_t port() const { return s3_port_; }
  const std::string& access_key() const { return access_key_; }
  const std::string& secret_key() const { return secret_key_; }
  const std::string& region() const { return options_.api_name; }
  std::string endpoint() const;  // http://127.0.0.1:PORT
  // "" when RgwOptions::kms_testing_key is off.
  std::string kms_key_id() const;
  const std::string& dir() const { return dir_.path(); }

  // OK while the three daemons run; else which one ended and how, with the
  // tail of its log.
  Status Healthy();
  pid_t radosgw_pid() const;
  pid_t osd_pid() const;
  pid_t monitor_pid() const;
  // "Ceph RGW eu-west-1 at http://127.0.0.1:N (mon pid .., osd pid .., radosgw pid .., in DIR)".
  std::string Describe() const;

  // How long each start-up step took: "keyring mon. 0.05s, ..., radosgw ready 2.10s"
  // (seconds since Start began).
  const std::string& startup_profile() const { return startup_profile_; }

  // One SigV4-signed request without a body, for what s3::Client has no call
  // for (ListBuckets: bucket ""; GetBucketLocation: query {{"location", ""}}).
  // Any HTTP status is a successful exchange. Runs its own io_context.
  Result<http::Response> SignedRequest(std::string_view method, std::string_view bucket,
                                       std::vector<std::pair<std::string, std::string>> query,
                                       std::chrono::milliseconds timeout) const;

 private:
  explicit RgwCluster(RgwOptions options) : options_(std::move(options)) {}
  class Starter;

  RgwOptions options_;
  TempDir dir_{"ferry-rgw"};
  std::uint16_t mon_port_ = 0;
  std::uint16_t s3_port_ = 0;
  std::string access_key_;
  std::string secret_key_;
  std::string startup_profile_;
  // Started in this order, stopped in the reverse one.
  std::unique_ptr<Process> mon_;
  std::unique_ptr<Process> osd_;
  std::unique_ptr<Process> rgw_;
};

}  // namespace ferry::testing
