// Redacted(): the effective configuration as YAML for the startup log, every
// default spelled out, every secret replaced by "***". The output is itself a
// valid configuration (with "***" as the inline secrets), which the tests use
// to check that nothing is lost.
#include <charconv>

#include "engine/config/checks.h"
#include "engine/config/config.h"

namespace ferry::config {
namespace {

using internal::Quote;

constexpr std::string_view kSecret = "\"***\"";

class Writer {
 public:
  void Line(int indent, std::string_view key, std::string_view value = {}) {
    out_.append(static_cast<size_t>(indent) * 2, ' ');
    out_ += key;
    out_ += ':';
    if (!value.empty()) {
      out_ += ' ';
      out_ += value;
    }
    out_ += '\n';
  }
  void Raw(std::string_view text) { out_ += text; }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string Bool(bool b) { return b ? "true" : "false"; }

std::string Number(double v) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, ptr) : "0";
}

void WriteLocation(Writer& w, int indent, const Location& l, bool list_item) {
  const std::string lead = list_item ? "- " : "";
  w.Line(indent, lead + "endpoint", Quote(l.endpoint));
  const int inner = list_item ? indent + 1 : indent;
  w.Line(inner, "bucket", Quote(l.bucket));
  w.Line(inner, "prefix", Quote(l.prefix));
}

void WriteEndpoint(Writer& w, const Endpoint& ep) {
  w.Line(1, Quote(ep.name));
  w.Line(2, "url", Quote(ep.url.text));
  w.Line(2, "region", Quote(ep.region));
  w.Line(2, "addressing", ToString(ep.addressing));
  w.Line(2, "credentials");
  const CredentialsConfig& c = ep.credentials;
  switch (c.kind) {
    case CredentialsConfig::Kind::kFile:
      w.Line(3, "file", Quote(c.file));
      w.Line(3, "profile", Quote(c.profile));
      break;
    case CredentialsConfig::Kind::kEnv:
      w.Line(3, "env", "true");
      break;
    case CredentialsConfig::Kind::kInline:
      w.Line(3, "access_key_id", kSecret);
      w.Line(3, "secret_access_key", kSecret);
      if (!c.session_token.empty()) w.Line(3, "session_token", kSecret);
      break;
  }
  w.Line(2, "tls");
  if (!ep.tls.ca_file.empty()) w.Line(3, "ca_file", Quote(ep.tls.ca_file));
  w.Line(3, "insecure_skip_verify", Bool(ep.tls.insecure_skip_verify));
  w.Line(2, "max_connections", std::to_string(ep.max_connections));
  w.Line(2, "payload_signing", ToString(ep.payload_signing));
  const CapabilityOverrides& cap = ep.capabilities;
  if (!cap.empty()) {
    w.Line(2, "capabilities");
    if (cap.list_common_prefixes)
      w.Line(3, "list_common_prefixes", Bool(*cap.list_common_prefixes));
    if (cap.head_part_number) w.Line(3, "head_part_number", Bool(*cap.head_part_number));
    if (cap.cross_bucket_copy) w.Line(3, "cross_bucket_copy", Bool(*cap.cross_bucket_copy));
    if (cap.etag_is_md5) w.Line(3, "etag_is_md5", Bool(*cap.etag_is_md5));
    if (cap.checksum_crc32c) w.Line(3, "checksum_crc32c", Bool(*cap.checksum_crc32c));
    if (cap.uploads_encoded_undeclared) {
      w.Line(3, "uploads_encoded_undeclared", Bool(*cap.uploads_encoded_undeclared));
    }
    if (cap.min_part_size) w.Line(3, "min_part_size", FormatSize(*cap.min_part_size));
    if (cap.max_parts) w.Line(3, "max_parts", std::to_string(*cap.max_parts));
  }
}

void WriteRoute(Writer& w, const Route& r) {
  w.Line(1, "- name", Quote(r.name));
  w.Line(2, "source");
  WriteLocation(w, 3, r.source, false);
  w.Line(2, "destinations");
  for (const Location& d : r.destinations) WriteLocation(w, 3, d, true);
  w.Line(2, "layout", ToString(r.layout));
  w.Line(2, "target_lag", FormatDuration(r.target_lag));
  w.Line(2, "delete");
  w.Line(3, "policy", ToString(r.deletion.policy));
  w.Line(3, "grace", FormatDuration(r.deletion.grace));
  w.Line(3, "max_fraction", Number(r.deletion.max_fraction));
  w.Line(2, "verify", ToString(r.verify));
  if (r.layout == Layout::kVelero) w.Line(2, "settle", FormatDuration(r.settle));
}

}  // namespace

std::string Redacted(const Config& c) {
  Writer w;
  w.Raw("# effective configuration (from " + Quote(c.source_name) + "; secrets shown as ***)\n");
  w.Line(0, "state_dir", Quote(c.state_dir));
  w.Line(0, "log");
  w.Line(1, "level", ToString(c.log.level));
  w.Line(1, "format", ToString(c.log.format));
  w.Line(0, "http");
  w.Line(1, "listen", Quote(c.http.listen));
  if (!c.http.webhook_token_file.empty()) {
    w.Line(1, "webhook_token_file", Quote(c.http.webhook_token_file));
  }
  w.Line(0, "control");
  w.Line(1, "socket", Quote(c.control.socket));
  w.Line(0, "reconcile_every", FormatDuration(c.reconcile_every));
  w.Line(0, "shard", Quote(std::to_string(c.shard.index) + "/" + std::to_string(c.shard.count)));
  w.Line(0, "endpoints");
  for (const Endpoint& ep : c.endpoints) WriteEndpoint(w, ep);
  w.Line(0, "routes");
  for (const Route& r : c.routes) WriteRoute(w, r);
  const TransferConfig& t = c.transfer;
  w.Line(0, "transfer");
  w.Line(1, "part_size", FormatSize(t.part_size));
  w.Line(1, "parts_in_flight", std::to_string(t.parts_in_flight));
  w.Line(1, "memory_limit", FormatSize(t.memory_limit));
  w.Line(1, "multipart_threshold", FormatSize(t.multipart_threshold));
  w.Line(1, "max_objects_in_flight", std::to_string(t.max_objects_in_flight));
  w.Line(1, "retry");
  w.Line(2, "max_attempts", std::to_string(t.retry.max_attempts));
  w.Line(2, "initial_backoff", FormatDuration(t.retry.initial_backoff));
  w.Line(2, "max_backoff", FormatDuration(t.retry.max_backoff));
  w.Line(1, "request_timeout", FormatDuration(t.request_timeout));
  w.Line(1, "progress_timeout", FormatDuration(t.progress_timeout));
  w.Line(1, "stall_after", FormatDuration(t.stall_after));
  return w.Take();
}

}  // namespace ferry::config
