#include "bench/harness/measure.h"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>

namespace ferry::bench {

std::optional<std::chrono::system_clock::time_point> ParseIsoTime(const std::string& s) {
  std::tm tm{};
  int ms = 0;
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms, &z) != 8 ||
      z != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t t = ::timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t) + std::chrono::milliseconds(ms);
}

Result<std::uint64_t> LastSeq(SimRegion& r) {
  FERRY_ASSIGN_OR_RETURN(nlohmann::json s, r.Stats());
  return s.value("last_seq", std::uint64_t{0});
}

Result<DestinationCheck> CheckDestination(SimRegion& dst, std::uint64_t since_seq,
                                          std::chrono::system_clock::time_point t0) {
  FERRY_ASSIGN_OR_RETURN(std::vector<nlohmann::json> log, dst.Log(since_seq));
  DestinationCheck out;
  std::map<std::string, std::chrono::system_clock::time_point> landed;  // last final write
  for (const auto& e : log) {
    ++out.requests;
    out.bytes_in += e.value("bytes_in", std::uint64_t{0});
    const std::string op = e.value("op", "");
    if (e.value("status", 0) != 200) continue;
    if (op != "PutObject" && op != "CompleteMultipartUpload" && op != "CopyObject") continue;
    auto t = ParseIsoTime(e.value("time", ""));
    if (!t) return Status::Error(ErrorClass::kFatal, "bad time in the s3sim log: " + e.dump());
    landed[e.value("key", "")] = *t;
  }
  out.objects_written = landed.size();
  out.lag_seconds.reserve(landed.size());
  for (const auto& [key, t] : landed) {
    out.lag_seconds.push_back(std::max(0.0, std::chrono::duration<double>(t - t0).count()));
  }
  return out;
}

LagStats Summarize(std::vector<double> v) {
  LagStats s;
  s.count = v.size();
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    // Nearest rank.
    std::size_t i = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(i, 1, v.size()) - 1];
  };
  s.p50 = at(0.50);
  s.p90 = at(0.90);
  s.p99 = at(0.99);
  s.max = v.back();
  return s;
}

}  // namespace ferry::bench
