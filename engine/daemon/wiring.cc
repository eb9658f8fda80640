#include "engine/daemon/wiring.h"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <sstream>

#include "engine/daemon/manifest_state.h"
#include "protocols/s3/credentials.h"
#include "storage/manifest/manifest.h"
#include "storage/s3/s3_backend.h"

namespace ferry::engine {
namespace {

std::shared_ptr<s3::CredentialsProvider> MakeCredentials(const config::CredentialsConfig& c) {
  switch (c.kind) {
    case config::CredentialsConfig::Kind::kFile:
      return s3::SharedFileCredentials(c.file, c.profile);
    case config::CredentialsConfig::Kind::kEnv:
      return s3::EnvCredentials();
    case config::CredentialsConfig::Kind::kInline:
      return s3::StaticCredentials({c.access_key_id, c.secret_access_key, c.session_token});
  }
  return s3::EnvCredentials();
}

storage::Capabilities MakeCapabilities(const config::CapabilityOverrides& o) {
  storage::Capabilities caps = storage::AwsS3Capabilities();
  if (o.list_common_prefixes) caps.list_common_prefixes = *o.list_common_prefixes;
  if (o.head_part_number) caps.head_part_number = *o.head_part_number;
  if (o.cross_bucket_copy) caps.cross_bucket_copy = *o.cross_bucket_copy;
  if (o.etag_is_md5) caps.etag_is_md5 = *o.etag_is_md5;
  if (o.checksum_crc32c) caps.checksum_crc32c = *o.checksum_crc32c;
  if (o.uploads_encoded_undeclared) caps.uploads_encoded_undeclared = *o.uploads_encoded_undeclared;
  if (o.min_part_size) caps.min_part_size = *o.min_part_size;
  if (o.max_parts) caps.max_parts = *o.max_parts;
  return caps;
}

// Everything about an endpoint that its clients are built from, so a reload
// that changes any of it gets fresh clients (secrets enter only as a hash).
std::string Fingerprint(const config::Endpoint& ep) {
  const config::CredentialsConfig& c = ep.credentials;
  std::size_t secret = std::hash<std::string>{}(c.access_key_id + '\n' + c.secret_access_key +
                                                '\n' + c.session_token);
  const config::CapabilityOverrides& o = ep.capabilities;
  auto opt = [](const auto& v) { return v ? std::to_string(static_cast<long long>(*v)) : "-"; };
  return ep.name + '|' + ep.url.text + '|' + ep.region + '|' +
         std::string(config::ToString(ep.addressing)) + '|' +
         std::string(config::ToString(c.kind)) + '|' + c.file + '|' + c.profile + '|' +
         std::to_string(secret) + '|' + ep.tls.ca_file + '|' +
         (ep.tls.insecure_skip_verify ? "1" : "0") + '|' + std::to_string(ep.max_connections) +
         '|' + std::string(config::ToString(ep.payload_signing)) + '|' +
         opt(o.list_common_prefixes) + opt(o.head_part_number) + opt(o.cross_bucket_copy) +
         opt(o.etag_is_md5) + opt(o.checksum_crc32c) + opt(o.uploads_encoded_undeclared) +
         opt(o.min_part_size) + opt(o.max_parts);
}

}  // namespace

Wiring::Wiring() = default;
Wiring::~Wiring() = default;

Status Wiring::Open(const config::Config& config, boost::asio::any_io_executor executor) {
  executor_ = executor;
  transfer_ = config.transfer;
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (ec) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "cannot create state_dir " + config.state_dir + ": " + ec.message());
  }
  FERRY_ASSIGN_OR_RETURN(manifest_, OpenManifest(config.state_dir));
  return Status::Ok();
}

Result<Wiring::Side> Wiring::GetSide(const config::Endpoint& ep, const config::Location& loc,
                                     bool destination) {
  // Pacers are per endpoint name and survive reloads (throttle state and
  // counters carry on); clients and backends are per definition.
  auto& pacer = pacers_[ep.name];
  if (!pacer) pacer = std::make_unique<Pacer>(ep.name);
  s3::ClientOptions co;
  FERRY_ASSIGN_OR_RETURN(co.endpoint, http::Url::Parse(ep.url.text));
  co.region = ep.region;
  co.bucket = loc.bucket;
  co.addressing = ep.addressing == config::Addressing::kVirtual ? s3::Addressing::kVirtualHosted
                                                                : s3::Addressing::kPath;
  co.payload_signing =
      ep.payload_signing == config::PayloadSigning::kSigned     ? s3::PayloadSigning::kSigned
      : ep.payload_signing == config::PayloadSigning::kUnsigned ? s3::PayloadSigning::kUnsigned
                                                                : s3::PayloadSigning::kAuto;
  co.credentials = MakeCredentials(ep.credentials);
  co.http.max_connections = static_cast<std::size_t>(ep.max_connections);
  co.http.tls.ca_file = ep.tls.ca_file;
  co.http.tls.insecure_skip_verify = ep.tls.insecure_skip_verify;
  co.request_timeout = transfer_.request_timeout;
  co.progress_timeout = transfer_.progress_timeout;
  co.activity = pacer->activity();

  const std::string fp = Fingerprint(ep);
  auto key = std::make_pair(fp, loc.bucket);
  auto& backend = backends_[key];
  if (!backend) {
    if (ep.tls.insecure_skip_verify) {
      spdlog::warn("endpoint {}: TLS certificate verification is OFF (tls.insecure_skip_verify)",
                   ep.name);
    }
    storage::S3BackendOptions so;
    so.client = co;
    so.capabilities = MakeCapabilities(ep.capabilities);
    auto& http = http_[fp];
    if (!http) {
      FERRY_ASSIGN_OR_RETURN(http, http::Client::Create(executor_, co.endpoint, co.http));
    }
    FERRY_ASSIGN_OR_RETURN(backend, storage::OpenS3Backend(http, std::move(so)));
  }
  if (!probed_.count(backend.get())) {
    ProbePlan& plan = to_probe_[backend.get()];
    if (plan.endpoint.empty()) {
      plan.endpoint = ep.name;
      plan.cache_key = "probe|" + ep.url.text + "|" + ep.region + "|" + loc.bucket;
      const config::CapabilityOverrides& set = ep.capabilities;
      plan.options.head_part_number = !set.head_part_number.has_value();
      plan.options.checksum_crc32c = !set.checksum_crc32c.has_value();
      plan.options.etag_is_md5 = !set.etag_is_md5.has_value();
      plan.options.uploads_encoding = !set.uploads_encoded_undeclared.has_value();
      if (set.uploads_encoded_undeclared) plan.from_config.insert("uploads_encoded_undeclared");
      if (set.head_part_number) plan.from_config.insert("head_part_number");
      if (set.checksum_crc32c) plan.from_config.insert("checksum_crc32c");
      if (set.etag_is_md5) plan.from_config.insert("etag_is_md5");
      plan.options.prefix = loc.prefix;
    }
    if (destination && !plan.options.may_write) {
      plan.options.may_write = true;
      plan.options.prefix = loc.prefix;
    }
  }
  return Side{backend.get(), pacer.get()};
}

std::vector<const Pacer*> Wiring::Pacers() const {
  std::vector<const Pacer*> out;
  for (const auto& [_, p] : pacers_) out.push_back(p.get());
  return out;
}

Result<RouteState*> Wiring::State(const std::string& route, const std::string& target_id,
                                  const std::string& dest_prefix) {
  auto& st = states_[target_id];
  if (!st) st = MakeManifestState(*manifest_, {route, target_id}, dest_prefix);
  return st.get();
}

namespace {

// The capabilities a probe can learn, in the order the cache stores them.
struct ProbedCapability {
  const char* name;
  std::optional<bool> storage::ProbeResult::*learned;
  bool storage::ProbeOptions::*wanted;
  bool storage::Capabilities::*value;
};
constexpr ProbedCapability kProbed[] = {
    {"head_part_number", &storage::ProbeResult::head_part_number,
     &storage::ProbeOptions::head_part_number, &storage::Capabilities::head_part_number},
    {"checksum_crc32c", &storage::ProbeResult::checksum_crc32c,
     &storage::ProbeOptions::checksum_crc32c, &storage::Capabilities::checksum_crc32c},
    {"etag_is_md5", &storage::ProbeResult::etag_is_md5, &storage::ProbeOptions::etag_is_md5,
     &storage::Capabilities::etag_is_md5},
    {"uploads_encoded_undeclared", &storage::ProbeResult::uploads_encoded_undeclared,
     &storage::ProbeOptions::uploads_encoding, &storage::Capabilities::uploads_encoded_undeclared},
};

// Cached probe: "<wall ms> <may_write 0|1>" and then "0", "1" or "-"
// (undecided) for each of kProbed.
std::string EncodeProbe(std::int64_t at_ms, bool may_write, const storage::ProbeResult& r) {
  std::string out = std::to_string(at_ms) + " " + (may_write ? "1" : "0");
  for (const ProbedCapability& c : kProbed) {
    const std::optional<bool>& v = r.*c.learned;
    out += v ? (*v ? " 1" : " 0") : " -";
  }
  return out;
}

bool DecodeProbe(const std::string& text, std::int64_t* at_ms, bool* may_write,
                 storage::ProbeResult* r) {
  std::istringstream in(text);
  std::string write;
  if (!(in >> *at_ms >> write) || (write != "0" && write != "1")) return false;
  *may_write = write == "1";
  for (const ProbedCapability& c : kProbed) {
    std::string t;
    if (!(in >> t)) return false;  // an older, shorter entry: probe again
    if (t == "1" || t == "0") {
      r->*c.learned = t == "1";
    } else if (t != "-") {
      return false;
    }
  }
  std::string extra;
  return !(in >> extra);
}

std::string Describe(const storage::ProbeResult& r, const storage::ProbeOptions& o) {
  std::string out;
  for (const ProbedCapability& c : kProbed) {
    if (!(o.*c.wanted)) continue;
    const std::optional<bool>& v = r.*c.learned;
    if (!out.empty()) out += ", ";
    out += std::string(c.name) + "=" + (v ? (*v ? "true" : "false") : "undecided");
  }
  for (std::size_t i = 0; i < r.notes.size(); ++i) out += (i == 0 ? " (" : "; ") + r.notes[i];
  if (!r.notes.empty()) out += ")";
  return out;
}

}  // namespace

io::Task<void> Wiring::ProbeNewBackends(std::int64_t now_wall_ms) {
  auto plans = std::move(to_probe_);
  to_probe_.clear();
  const std::int64_t ttl_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(kProbeTtl).count();
  for (auto& [backend, plan] : plans) {
    probed_.insert(backend);
    storage::ProbeOptions& o = plan.options;
    if (!o.may_write) {  // cannot be learned without writing
      o.checksum_crc32c = false;
      o.uploads_encoding = false;
    }
    bool any = false;
    for (const ProbedCapability& c : kProbed) any = any || o.*c.wanted;
    storage::ProbeResult result;
    bool cached = false;
    if (any && manifest_) {
      auto stored = manifest_->GetMeta(plan.cache_key);
      std::int64_t at = 0;
      bool wrote = false;
      storage::ProbeResult r;
      bool usable = stored.ok() && *stored && DecodeProbe(**stored, &at, &wrote, &r) &&
                    now_wall_ms - at >= 0 && now_wall_ms - at < ttl_ms && wrote == o.may_write;
      if (!stored.ok()) {
        spdlog::warn("endpoint {}: cannot read its earlier probe: {}", plan.endpoint,
                     stored.status().ToString());
      }
      if (usable) {
        result = r;
        cached = true;
      }
    }
    if (any && !cached) {
      result = co_await backend->Probe(o);
      if (manifest_) {
        Status put =
            manifest_->PutMeta(plan.cache_key, EncodeProbe(now_wall_ms, o.may_write, result));
        if (!put.ok()) {
          spdlog::warn("endpoint {}: cannot remember its probe: {}", plan.endpoint, put.ToString());
        }
      }
    }
    // Only what the config left open.
    for (const ProbedCapability& c : kProbed) {
      if (!(o.*c.wanted)) (result.*c.learned).reset();
    }
    backend->Learn(result);
    if (any) {
      spdlog::info("endpoint {} ({}): {} {}", plan.endpoint, backend->Describe(),
                   cached ? "capabilities from an earlier probe:" : "probed:", Describe(result, o));
    }
    EndpointReport report;
    report.endpoint = plan.endpoint;
    report.backend = backend->Describe();
    for (const ProbedCapability& c : kProbed) {
      CapabilityReport cap;
      cap.name = c.name;
      cap.value = backend->capabilities().*c.value;
      cap.source = plan.from_config.count(c.name) ? "config"
                   : (result.*c.learned).has_value()
                       ? (cached ? "probed earlier" : "probed")
                       : (o.*c.wanted ? "assumed (probe undecided)" : "assumed");
      report.capabilities.push_back(std::move(cap));
    }
    report.notes = result.notes;
    reports_[plan.endpoint + "|" + backend->bucket()] = std::move(report);
  }
}

std::vector<EndpointReport> Wiring::EndpointReports() const {
  std::vector<EndpointReport> out;
  for (const auto& [_, r] : reports_) out.push_back(r);
  return out;
}

}  // namespace ferry::engine
