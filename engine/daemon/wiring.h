// Wiring: builds the runtime objects a Config names — one HTTP connection
// pool and one pacer per endpoint, one backend per (endpoint, bucket), the
// manifest and a RouteState per target — and owns them.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <chrono>
#include <cstdint>

#include <map>
#include <set>
#include <memory>
#include <string>
#include <utility>

#include "engine/config/config.h"
#include "engine/status/registry.h"
#include "engine/sync/route_state.h"
#include "engine/transfer/retry.h"
#include "protocols/http/client.h"
#include "storage/backend.h"

namespace ferry::manifest {
class Manifest;
}

namespace ferry::engine {

// How long a probe's answers are trusted before ferryd asks the server again.
inline constexpr std::chrono::hours kProbeTtl{24};

class Wiring {
 public:
  struct Side {
    storage::Backend* backend = nullptr;
    Pacer* pacer = nullptr;
  };

  Wiring();
  ~Wiring();

  // Opens the manifest under config.state_dir. Backends are made lazily.
  Status Open(const config::Config& config, boost::asio::any_io_executor executor);
  // `destination`: the side is written to (probes may write there too).
  Result<Side> GetSide(const config::Endpoint& endpoint, const config::Location& location,
                       bool destination);
  // Probes every backend made since the last call for the capabilities its
  // endpoint's config leaves open (storage/s3/s3_probe.h), logs what each
  // answer showed and applies it. A probe is remembered in the manifest for
  // kProbeTtl, so a restart does not repeat it. REQUIRES: none of these
  // backends is in use yet (call before a generation's loops start).
  io::Task<void> ProbeNewBackends(std::int64_t now_wall_ms);
  // What every probed backend's capabilities are and where each came from
  // (config, probe, assumed), for `ferryctl status`.
  std::vector<EndpointReport> EndpointReports() const;
  // The state of one (route, destination); `dest_prefix` maps destination
  // keys to route-relative ones.
  Result<RouteState*> State(const std::string& route, const std::string& target_id,
                            const std::string& dest_prefix);
  manifest::Manifest* manifest() { return manifest_.get(); }
  // Every endpoint's pacer (retry and throttle counters), by endpoint name.
  std::vector<const Pacer*> Pacers() const;

 private:
  boost::asio::any_io_executor executor_;
  // Clients and backends are keyed by the endpoint's definition (name and
  // settings), so a reload that changes an endpoint builds new ones; the old
  // ones stay alive (transfers of the previous configuration may hold them).
  std::map<std::string, std::shared_ptr<http::Client>> http_;  // by definition
  std::map<std::string, std::unique_ptr<Pacer>> pacers_;       // by endpoint name
  std::map<std::pair<std::string, std::string>, std::shared_ptr<storage::Backend>> backends_;
  std::unique_ptr<manifest::Manifest> manifest_;
  std::map<std::string, std::unique_ptr<RouteState>> states_;
  config::TransferConfig transfer_;
  struct ProbePlan {
    std::string endpoint;  // name, for the log
    std::string cache_key;  // manifest meta name
    storage::ProbeOptions options;
    std::set<std::string> from_config;  // capabilities the endpoint's config set
  };
  std::map<storage::Backend*, ProbePlan> to_probe_;
  std::set<storage::Backend*> probed_;
  std::map<std::string, EndpointReport> reports_;  // by "endpoint|bucket"
};

}  // namespace ferry::engine
