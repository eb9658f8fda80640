// Wiring: builds the runtime objects a Config names — one HTTP connection
// pool and one pacer per endpoint, one backend per (endpoint, bucket), the
// manifest and a RouteState per target — and owns them.
#pragma once

#include <boost/asio/any_io_executor.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>

#include "engine/config/config.h"
#include "engine/sync/route_state.h"
#include "engine/transfer/retry.h"
#include "protocols/http/client.h"
#include "storage/backend.h"

namespace ferry::manifest {
class Manifest;
}

namespace ferry::engine {

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
  Result<Side> GetSide(const config::Endpoint& endpoint, const config::Location& location);
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
};

}  // namespace ferry::engine
