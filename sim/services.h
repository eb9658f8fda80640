// What request handling shares across connections and threads: the store,
// counters, request log, fault rules, link settings and the event sink. Every
// member is thread-safe; Services outlives all connections (Server owns it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "sim/config.h"
#include "sim/faults.h"
#include "sim/link.h"
#include "sim/stats.h"
#include "sim/store.h"

namespace ferry::sim {

// An S3 event to publish (see events.h).
struct ObjectEvent {
  std::string name;  // "ObjectCreated:Put", "ObjectRemoved:Delete", ...
  std::string bucket;
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // unquoted; "" for deletes
  Clock::time_point time{};
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  // Never blocks; may drop (and count) when its queue is full.
  virtual void Publish(ObjectEvent e) = 0;
};

struct Services {
  Services(SimConfig cfg, std::unique_ptr<BlobFactory> blobs)
      : config(std::move(cfg)),
        store(std::move(blobs)),
        log(config.request_log_limit),
        faults(config.fault_seed) {
    link.latency_ms = config.latency_ms;
    link.bandwidth_bps = config.bandwidth_bps;
  }

  std::string NewRequestId();
  void Publish(ObjectEvent e) {
    if (events) events->Publish(std::move(e));
  }

  const SimConfig config;
  Store store;
  Stats stats;
  RequestLog log;
  FaultInjector faults;
  LinkSettings link;
  EventSink* events = nullptr;  // set once before serving; owned by Server

 private:
  std::atomic<std::uint64_t> next_request_id_{1};
};

}  // namespace ferry::sim
