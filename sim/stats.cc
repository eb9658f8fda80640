#include "sim/stats.h"

#include "sim/xml.h"

namespace ferry::sim {

void Stats::CountRequest(const std::string& op, int status) {
  std::lock_guard lock(mu_);
  ++requests_[op];
  ++statuses_[std::to_string(status)];
}

void Stats::CountFault(std::string_view kind) {
  std::lock_guard lock(mu_);
  ++faults_[std::string(kind)];
}

void Stats::CountEvent(std::string_view what) {
  std::lock_guard lock(mu_);
  ++events_[std::string(what)];
}

void Stats::Reset() {
  std::lock_guard lock(mu_);
  requests_.clear();
  statuses_.clear();
  faults_.clear();
  events_.clear();
  bytes_in_ = 0;
  bytes_out_ = 0;
  total_connections_ = 0;
}

nlohmann::json Stats::ToJson() const {
  std::lock_guard lock(mu_);
  std::uint64_t total = 0, faults = 0;
  for (const auto& [op, n] : requests_) total += n;
  for (const auto& [k, n] : faults_) faults += n;
  return {{"requests", requests_},
          {"requests_total", total},
          {"statuses", statuses_},
          {"faults", faults_},
          {"faults_total", faults},
          {"events", events_},
          {"bytes_in", bytes_in_.load()},
          {"bytes_out", bytes_out_.load()},
          {"open_connections", open_connections_.load()},
          {"connections_total", total_connections_.load()}};
}

nlohmann::json LogEntry::ToJson() const {
  return {{"seq", seq},
          {"time", Iso8601(time)},
          {"method", method},
          {"op", op},
          {"bucket", bucket},
          {"key", key},
          {"part", part},
          {"status", status},
          {"bytes_in", bytes_in},
          {"bytes_out", bytes_out},
          {"bytes", bytes_in + bytes_out},
          {"fault", fault},
          {"signature", signature}};
}

std::uint64_t RequestLog::Append(LogEntry e) {
  std::lock_guard lock(mu_);
  e.seq = next_seq_++;
  entries_.push_back(std::move(e));
  while (entries_.size() > limit_) entries_.pop_front();
  return entries_.back().seq;
}

std::vector<LogEntry> RequestLog::Since(std::uint64_t since, std::size_t limit) const {
  std::lock_guard lock(mu_);
  std::vector<LogEntry> out;
  if (entries_.empty()) return out;
  // Sequence numbers are contiguous in the ring.
  std::uint64_t first = entries_.front().seq;
  std::size_t start = since < first ? 0 : static_cast<std::size_t>(since - first + 1);
  for (std::size_t i = start; i < entries_.size() && out.size() < limit; ++i) {
    out.push_back(entries_[i]);
  }
  return out;
}

std::uint64_t RequestLog::last_seq() const {
  std::lock_guard lock(mu_);
  return next_seq_ - 1;
}

}  // namespace ferry::sim
