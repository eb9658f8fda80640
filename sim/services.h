// What request handling shares across connections and threads: the store,
// counters, request log, fault rules, link settings and the event sink. Every
// member is thread-safe; Services outlives all connections (Server owns it).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

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

// The key pair requests must be signed with; POST /_sim/keys replaces it
// (credential rotation tests). Thread-safe.
class KeyPair {
 public:
  KeyPair(std::string access_key, std::string secret_key)
      : access_key_(std::move(access_key)), secret_key_(std::move(secret_key)) {}
  std::pair<std::string, std::string> Get() const {
    std::lock_guard lock(mu_);
    return {access_key_, secret_key_};
  }
  void Set(std::string access_key, std::string secret_key) {
    std::lock_guard lock(mu_);
    access_key_ = std::move(access_key);
    secret_key_ = std::move(secret_key);
  }

 private:
  mutable std::mutex mu_;
  std::string access_key_;  // GUARDED_BY(mu_)
  std::string secret_key_;  // GUARDED_BY(mu_)
};

struct Services {
  Services(SimConfig cfg, std::unique_ptr<BlobFactory> blobs)
      : config(std::move(cfg)),
        store(std::move(blobs)),
        log(config.request_log_limit),
        faults(config.fault_seed),
        keys(config.access_key, config.secret_key) {
    link.latency_ms = config.latency_ms;
    link.bandwidth_bps = config.bandwidth_bps;
    clock_offset_ms = std::chrono::duration_cast<std::chrono::milliseconds>(config.clock_offset).count();
  }

  // The simulator's clock: the host's plus clock_offset_ms (see SimConfig).
  Clock::time_point Now() const {
    return Clock::now() + std::chrono::milliseconds(clock_offset_ms.load());
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
  KeyPair keys;  // starts as config.access_key / secret_key
  // Moved by POST /_sim/clock and by the `skew` fault.
  std::atomic<std::int64_t> clock_offset_ms{0};
  EventSink* events = nullptr;  // set once before serving; owned by Server

 private:
  std::atomic<std::uint64_t> next_request_id_{1};
};

}  // namespace ferry::sim
