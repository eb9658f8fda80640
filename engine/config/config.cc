// Accessors and small helpers of config.h (parsing is in parse*.cc, the
// redacted dump in redact.cc).
#include "engine/config/config.h"

#include <algorithm>

namespace ferry::config {

std::string_view ToString(LogLevel v) {
  switch (v) {
    case LogLevel::kTrace:
      return "trace";
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "?";
}

std::string_view ToString(LogFormat v) { return v == LogFormat::kJson ? "json" : "text"; }

std::string_view ToString(Addressing v) { return v == Addressing::kVirtual ? "virtual" : "path"; }

std::string_view ToString(PayloadSigning v) {
  switch (v) {
    case PayloadSigning::kAuto:
      return "auto";
    case PayloadSigning::kSigned:
      return "signed";
    case PayloadSigning::kUnsigned:
      return "unsigned";
  }
  return "?";
}

std::string_view ToString(Layout v) {
  switch (v) {
    case Layout::kPlain:
      return "plain";
    case Layout::kVelero:
      return "velero";
    case Layout::kKopia:
      return "kopia";
  }
  return "?";
}

std::string_view ToString(DeletePolicy v) {
  switch (v) {
    case DeletePolicy::kMirror:
      return "mirror";
    case DeletePolicy::kKeep:
      return "keep";
    case DeletePolicy::kMirrorNow:
      return "mirror-now";
  }
  return "?";
}

std::string_view ToString(VerifyMode v) {
  switch (v) {
    case VerifyMode::kAuto:
      return "auto";
    case VerifyMode::kEtag:
      return "etag";
    case VerifyMode::kChecksum:
      return "checksum";
    case VerifyMode::kReadBack:
      return "read-back";
  }
  return "?";
}

std::string_view ToString(CredentialsConfig::Kind v) {
  switch (v) {
    case CredentialsConfig::Kind::kFile:
      return "file";
    case CredentialsConfig::Kind::kEnv:
      return "env";
    case CredentialsConfig::Kind::kInline:
      return "inline";
  }
  return "?";
}

bool CapabilityOverrides::empty() const {
  return !list_common_prefixes && !head_part_number && !cross_bucket_copy && !etag_is_md5 &&
         !checksum_crc32c && !uploads_encoded_undeclared && !min_part_size && !max_parts;
}

const Endpoint* Config::FindEndpoint(std::string_view name) const {
  for (const Endpoint& ep : endpoints) {
    if (ep.name == name) return &ep;
  }
  return nullptr;
}

const Route* Config::FindRoute(std::string_view name) const {
  for (const Route& r : routes) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

std::string Diagnostic::ToString() const {
  std::string out = source + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::vector<Target> Targets(const Config& config) {
  std::vector<Target> out;
  for (const Route& route : config.routes) {
    for (size_t i = 0; i < route.destinations.size(); ++i) {
      const Location& dest = route.destinations[i];
      Target t;
      t.route = &route;
      t.destination_index = static_cast<int>(i);
      t.source_endpoint = config.FindEndpoint(route.source.endpoint);
      t.source = &route.source;
      t.destination_endpoint = config.FindEndpoint(dest.endpoint);
      t.destination = &dest;
      t.id = route.name + "/" + dest.endpoint + "/" + dest.bucket + "/" + dest.prefix;
      out.push_back(std::move(t));
    }
  }
  return out;
}

std::string DestinationKey(const Target& target, std::string_view source_key) {
  std::string out = target.destination->prefix;
  out += source_key.substr(std::min(target.source->prefix.size(), source_key.size()));
  return out;
}

}  // namespace ferry::config
