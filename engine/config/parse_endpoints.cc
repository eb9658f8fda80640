// The `endpoints:` section: S3 services by name, with their credentials.
// Inline secrets are read like any string but never shown: string readers do
// not echo values, and this file never puts a credential value in a message.
#include "engine/config/checks.h"
#include "engine/config/parse_internal.h"

namespace ferry::config::internal {
namespace {

constexpr EnumName<Addressing> kAddressing[] = {{"path", Addressing::kPath},
                                                {"virtual", Addressing::kVirtual}};
constexpr EnumName<PayloadSigning> kSigning[] = {{"auto", PayloadSigning::kAuto},
                                                 {"signed", PayloadSigning::kSigned},
                                                 {"unsigned", PayloadSigning::kUnsigned}};

constexpr std::uint64_t kMaxPartSize = 5ull << 30;

void ParseCredentials(const Field& field, CredentialsConfig* out) {
  MapReader m(field,
              {"file", "profile", "env", "access_key_id", "secret_access_key", "session_token"});
  if (!m.ok()) return;
  const bool has_file = m.Has("file");
  const bool has_env = m.Has("env");
  const bool has_inline =
      m.Has("access_key_id") || m.Has("secret_access_key") || m.Has("session_token");
  const int kinds = int{has_file} + int{has_env} + int{has_inline};
  if (kinds != 1) {
    std::string msg =
        kinds == 0 ? "no credentials given" : "more than one kind of credentials given";
    field.Error(msg +
                "; use exactly one of: `file` (with optional `profile`), `env: true`, or "
                "`access_key_id` + `secret_access_key` (+ optional `session_token`)");
    return;
  }
  if (m.Has("profile") && !has_file) {
    m.Get("profile")->Error("`profile` applies only to credentials read from a `file`");
  }
  if (has_file) {
    out->kind = CredentialsConfig::Kind::kFile;
    ReadOptional(m, "file", &out->file, ReadNonEmptyString);
    ReadOptional(m, "profile", &out->profile, ReadNonEmptyString);
  } else if (has_env) {
    out->kind = CredentialsConfig::Kind::kEnv;
    const Field env = *m.Get("env");
    if (auto v = ReadBool(env); v && !*v) {
      env.Error("`env: false` selects no credentials; set `env: true` or use another kind");
    }
  } else {
    out->kind = CredentialsConfig::Kind::kInline;
    if (auto f = m.Require("access_key_id")) {
      if (auto v = ReadNonEmptyString(*f)) out->access_key_id = std::move(*v);
    }
    if (auto f = m.Require("secret_access_key")) {
      if (auto v = ReadNonEmptyString(*f)) out->secret_access_key = std::move(*v);
    }
    ReadOptional(m, "session_token", &out->session_token, ReadString);
    field.Warning(
        "inline credentials in the configuration file are discouraged; prefer a credentials "
        "`file` or `env: true`");
  }
}

void ParseCapabilities(const Field& field, CapabilityOverrides* out) {
  MapReader m(field, {"list_common_prefixes", "head_part_number", "cross_bucket_copy",
                      "etag_is_md5", "checksum_crc32c", "uploads_encoded_undeclared",
                      "min_part_size", "max_parts"});
  ReadOptional(m, "list_common_prefixes", &out->list_common_prefixes, ReadBool);
  ReadOptional(m, "head_part_number", &out->head_part_number, ReadBool);
  ReadOptional(m, "cross_bucket_copy", &out->cross_bucket_copy, ReadBool);
  ReadOptional(m, "etag_is_md5", &out->etag_is_md5, ReadBool);
  ReadOptional(m, "checksum_crc32c", &out->checksum_crc32c, ReadBool);
  ReadOptional(m, "uploads_encoded_undeclared", &out->uploads_encoded_undeclared, ReadBool);
  ReadOptional(m, "min_part_size", &out->min_part_size,
               [](const Field& f) { return ReadSize(f, 1, kMaxPartSize); });
  ReadOptional(m, "max_parts", &out->max_parts,
               [](const Field& f) { return ReadInt(f, 1, 100000); });
}

void ParseEndpoint(const Field& field, Endpoint* ep) {
  MapReader m(field, {"url", "region", "addressing", "credentials", "tls", "max_connections",
                      "payload_signing", "capabilities"});
  if (!m.ok()) return;
  if (auto f = m.Require("url")) {
    if (auto text = ReadNonEmptyString(*f)) {
      std::string why;
      if (!ParseEndpointUrl(*text, &ep->url, &why)) {
        // The URL is shown unless it may hold user info (a password).
        const bool show = text->find('@') == std::string::npos;
        f->Error("bad url" + (show ? " " + Quote(*text, 200) : std::string()) + ": " + why);
      }
    }
  }
  ReadOptional(m, "region", &ep->region, ReadNonEmptyString);
  ReadOptional(m, "addressing", &ep->addressing,
               [](const Field& f) { return ReadEnum(f, kAddressing); });
  if (auto f = m.Require("credentials")) ParseCredentials(*f, &ep->credentials);
  if (auto f = m.Get("tls")) {
    MapReader tls(*f, {"ca_file", "insecure_skip_verify"});
    ReadOptional(tls, "ca_file", &ep->tls.ca_file, ReadNonEmptyString);
    ReadOptional(tls, "insecure_skip_verify", &ep->tls.insecure_skip_verify, ReadBool);
    if (ep->tls.insecure_skip_verify) {
      tls.Get("insecure_skip_verify")
          ->Warning("TLS certificate verification is OFF for endpoint \"" + ep->name +
                    "\"; anyone on the path can read and alter replicated data");
    }
  }
  ReadOptional(m, "max_connections", &ep->max_connections,
               [](const Field& f) { return ReadInt(f, 1, 1024); });
  ReadOptional(m, "payload_signing", &ep->payload_signing,
               [](const Field& f) { return ReadEnum(f, kSigning); });
  if (auto f = m.Get("capabilities")) ParseCapabilities(*f, &ep->capabilities);
}

}  // namespace

void ParseEndpoints(const Field& field, Config* config) {
  if (field.node.IsNull() || (field.node.IsMap() && field.node.size() == 0)) {
    field.Error("at least one endpoint is required");
    return;
  }
  if (!field.node.IsMap()) {
    field.Error("expected a map of endpoint name to settings, got " +
                std::string(KindName(field.node)));
    return;
  }
  for (auto it = field.node.begin(); it != field.node.end(); ++it) {
    // A copy: yaml-cpp iterators hand out a temporary pair.
    const YAML::Node key = it->first;
    const Field key_field = field.Key(key);
    if (!key.IsScalar()) {
      key_field.Error("endpoint names must be plain names, got " + std::string(KindName(key)));
      continue;
    }
    const std::string& name = key.Scalar();
    Field value = field.Child(name, it->second, key_field.pos);
    if (std::string why = CheckEndpointName(name); !why.empty()) {
      key_field.Error("bad endpoint name " + Quote(name, 80) + ": " + why);
      continue;
    }
    if (config->FindEndpoint(name) != nullptr) {
      key_field.Error("duplicate endpoint \"" + name + "\"");
      continue;
    }
    Endpoint ep;
    ep.name = name;
    ParseEndpoint(value, &ep);
    config->endpoints.push_back(std::move(ep));
  }
}

}  // namespace ferry::config::internal
