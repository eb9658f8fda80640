#include "sim/faults.h"

#include <array>
#include <utility>

namespace ferry::sim {
namespace {

constexpr std::array<std::pair<FaultKind, std::string_view>, 7> kKinds = {{
    {FaultKind::kError500, "error500"},
    {FaultKind::kSlowDown503, "slowdown503"},
    {FaultKind::kSkew, "skew"},
    {FaultKind::kReset, "reset"},
    {FaultKind::kTruncate, "truncate"},
    {FaultKind::kFlip, "flip"},
    {FaultKind::kLatency, "latency"},
}};

constexpr std::int64_t kDefaultSkewMs = 3600 * 1000;

Status Bad(std::string msg) { return Status::Error(ErrorClass::kInvalidArgument, std::move(msg)); }

bool KnownOp(std::string_view op) {
  static constexpr std::string_view kClasses[] = {
      "any", "get", "put", "upload_part", "complete", "create_multipart",
      "list", "head", "copy", "delete"};
  for (auto c : kClasses) {
    if (c == op) return true;
  }
  // Exact S3 operation names ("UploadPartCopy") start upper-case.
  return !op.empty() && op[0] >= 'A' && op[0] <= 'Z';
}

Status Validate(const FaultRule& r) {
  if (!KnownOp(r.op)) return Bad("unknown fault op '" + r.op + "'");
  if (r.probability < 0 || r.probability > 1) return Bad("fault p must be within [0,1]");
  return Status::Ok();
}

}  // namespace

std::string_view FaultKindName(FaultKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "unknown";
}

std::optional<FaultKind> ParseFaultKind(std::string_view name) {
  for (const auto& [kind, n] : kKinds) {
    if (n == name) return kind;
  }
  return std::nullopt;
}

std::string_view OperationClass(std::string_view op) {
  if (op == "GetObject") return "get";
  if (op == "PutObject") return "put";
  if (op == "UploadPart") return "upload_part";
  if (op == "CompleteMultipartUpload") return "complete";
  if (op == "CreateMultipartUpload") return "create_multipart";
  if (op == "HeadObject" || op == "HeadBucket") return "head";
  if (op == "CopyObject" || op == "UploadPartCopy") return "copy";
  if (op == "DeleteObject" || op == "DeleteObjects") return "delete";
  if (op.starts_with("List")) return "list";
  return "other";
}

nlohmann::json FaultRule::ToJson() const {
  nlohmann::json j = {{"op", op},          {"kind", FaultKindName(kind)},
                      {"p", probability},  {"next", remaining},
                      {"bucket", bucket},  {"prefix", key_prefix},
                      {"ms", latency_ms},  {"injected", injected}};
  return j;
}

Result<FaultRule> ParseFaultSpec(std::string_view spec) {
  FaultRule r;
  bool have_kind = false;
  while (!spec.empty()) {
    auto comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view() : spec.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return Bad("fault spec item '" + std::string(item) + "' is not key=value");
    std::string key(item.substr(0, eq));
    std::string value(item.substr(eq + 1));
    try {
      if (key == "op") {
        r.op = value;
      } else if (key == "kind") {
        auto k = ParseFaultKind(value);
        if (!k) return Bad("unknown fault kind '" + value + "'");
        r.kind = *k;
        have_kind = true;
      } else if (key == "p") {
        r.probability = std::stod(value);
      } else if (key == "next") {
        r.remaining = std::stoll(value);
      } else if (key == "prefix") {
        r.key_prefix = value;
      } else if (key == "bucket") {
        r.bucket = value;
      } else if (key == "ms") {
        r.latency_ms = static_cast<std::uint32_t>(std::stoul(value));
      } else {
        return Bad("unknown fault spec key '" + key + "'");
      }
    } catch (const std::exception&) {
      return Bad("bad number in fault spec for '" + key + "'");
    }
  }
  if (!have_kind) return Bad("fault spec needs kind=...");
  FERRY_RETURN_IF_ERROR(Validate(r));
  return r;
}

Result<FaultRule> FaultRuleFromJson(const nlohmann::json& j) {
  if (!j.is_object()) return Bad("a fault rule must be a JSON object");
  FaultRule r;
  try {
    r.op = j.value("op", std::string("any"));
    auto k = ParseFaultKind(j.value("kind", std::string()));
    if (!k) return Bad("unknown or missing fault kind");
    r.kind = *k;
    r.probability = j.value("p", 1.0);
    r.remaining = j.value("next", std::int64_t{-1});
    r.key_prefix = j.value("prefix", std::string());
    r.bucket = j.value("bucket", std::string());
    r.latency_ms = j.value("ms", std::uint32_t{0});
  } catch (const nlohmann::json::exception& e) {
    return Bad(std::string("bad fault rule: ") + e.what());
  }
  FERRY_RETURN_IF_ERROR(Validate(r));
  return r;
}

void FaultInjector::Reseed(std::uint64_t seed) {
  std::lock_guard lock(mu_);
  rng_ = seed;
}

void FaultInjector::Add(FaultRule rule) {
  std::lock_guard lock(mu_);
  rules_.push_back(std::move(rule));
}

void FaultInjector::Clear() {
  std::lock_guard lock(mu_);
  rules_.clear();
}

std::vector<FaultRule> FaultInjector::Rules() const {
  std::lock_guard lock(mu_);
  return rules_;
}

double FaultInjector::NextUnit() {
  // SplitMix64 step.
  std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

FaultDecision FaultInjector::Decide(std::string_view op, std::string_view bucket,
                                    std::string_view key) {
  FaultDecision d;
  std::string_view cls = OperationClass(op);
  std::lock_guard lock(mu_);
  for (FaultRule& r : rules_) {
    if (r.op != "any" && r.op != cls && r.op != op) continue;
    if (!r.bucket.empty() && r.bucket != bucket) continue;
    if (!key.starts_with(r.key_prefix)) continue;
    if (r.remaining == 0) continue;
    if (r.kind != FaultKind::kLatency && d.kind) continue;
    // Draw only for real probabilities, so "next=N" rules do not move the
    // sequence other rules see.
    if (r.probability < 1.0 && NextUnit() >= r.probability) continue;
    if (r.remaining > 0) --r.remaining;
    ++r.injected;
    d.fired.push_back(r.kind);
    if (r.kind == FaultKind::kLatency) {
      d.extra_latency_ms += r.latency_ms;
    } else {
      d.kind = r.kind;
      if (r.kind == FaultKind::kSkew) d.skew_ms = r.latency_ms > 0 ? r.latency_ms : kDefaultSkewMs;
    }
  }
  return d;
}

}  // namespace ferry::sim
