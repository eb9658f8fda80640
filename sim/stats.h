// Counters and the request log that tests read through the admin API
// (/_sim/stats, /_sim/log). Thread-safe; the log is a bounded ring.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sim/store.h"

namespace ferry::sim {

class Stats {
 public:
  void CountRequest(const std::string& op, int status);
  void CountFault(std::string_view kind);
  void AddBytesIn(std::uint64_t n) { bytes_in_ += n; }
  void AddBytesOut(std::uint64_t n) { bytes_out_ += n; }
  void ConnectionOpened() {
    ++open_connections_;
    ++total_connections_;
  }
  void ConnectionClosed() { --open_connections_; }
  void CountEvent(std::string_view what);  // "sent", "failed", "dropped"
  void Reset();
  nlohmann::json ToJson() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> statuses_;  // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> faults_;    // GUARDED_BY(mu_)
  std::map<std::string, std::uint64_t> events_;    // GUARDED_BY(mu_)
  std::atomic<std::uint64_t> bytes_in_{0};
  std::atomic<std::uint64_t> bytes_out_{0};
  std::atomic<std::int64_t> open_connections_{0};
  std::atomic<std::uint64_t> total_connections_{0};
};

struct LogEntry {
  std::uint64_t seq = 0;
  Clock::time_point time{};
  std::string method;
  std::string op;
  std::string bucket;
  std::string key;
  std::string part;  // the partNumber query parameter as sent, "" if none
  int status = 0;
  std::uint64_t bytes_in = 0;   // request payload bytes read
  std::uint64_t bytes_out = 0;  // response body bytes sent
  std::string fault;            // kind injected, "" if none
  std::string signature;        // SigV4 signature the client sent (header or query), "" if none
  nlohmann::json ToJson() const;
};

class RequestLog {
 public:
  explicit RequestLog(std::size_t limit) : limit_(limit) {}
  // Assigns and returns the sequence number (1, 2, ...).
  std::uint64_t Append(LogEntry e);
  // Entries with seq > since, oldest first, at most `limit`.
  std::vector<LogEntry> Since(std::uint64_t since, std::size_t limit) const;
  std::uint64_t last_seq() const;

 private:
  const std::size_t limit_;
  mutable std::mutex mu_;
  std::deque<LogEntry> entries_;  // GUARDED_BY(mu_)
  std::uint64_t next_seq_ = 1;    // GUARDED_BY(mu_)
};

}  // namespace ferry::sim
