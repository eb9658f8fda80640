// ferryd's configuration: one YAML file parsed and validated into plain
// structs. The reference for every key is docs/config.md.
//
// ParseConfig/LoadConfig never throw. On failure the Status (class
// kInvalidArgument, kNotFound for a missing file) holds one line per problem,
// each "<file>:<line>:<column>: <key path>: <what is wrong>", e.g.
//   /etc/ferry/ferry.yaml:12:5: routes[0].destinations[1].endpoint: unknown
//   endpoint "dr2" (known: primary, dr)
// Secrets (inline credentials) never appear in an error, in Redacted() or in
// a warning.
//
// A returned Config is complete: every default is filled in and every
// cross-reference (route → endpoint) is known to resolve. It holds no
// storage/http objects; the daemon builds those from it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"

namespace ferry::config {

using Duration = std::chrono::milliseconds;

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };
enum class LogFormat { kText, kJson };
enum class Addressing { kPath, kVirtual };
enum class PayloadSigning { kAuto, kSigned, kUnsigned };
enum class Layout { kPlain, kVelero, kKopia };
enum class DeletePolicy { kMirror, kKeep, kMirrorNow };
enum class VerifyMode { kAuto, kEtag, kChecksum, kReadBack };

// The spelling used in the file ("info", "mirror-now", "read-back", ...).
std::string_view ToString(LogLevel v);
std::string_view ToString(LogFormat v);
std::string_view ToString(Addressing v);
std::string_view ToString(PayloadSigning v);
std::string_view ToString(Layout v);
std::string_view ToString(DeletePolicy v);
std::string_view ToString(VerifyMode v);

struct LogConfig {
  LogLevel level = LogLevel::kInfo;
  LogFormat format = LogFormat::kText;
};

struct HttpConfig {
  std::string listen = "127.0.0.1:9464";  // "" disables the HTTP server
  std::string listen_host = "127.0.0.1";  // parsed from listen (IPv6 without brackets)
  std::uint16_t listen_port = 9464;       // 0: pick a free port
  std::string webhook_token_file;         // "" = webhook accepts no token (optional)
  bool enabled() const { return !listen.empty(); }
};

struct ControlConfig {
  std::string socket = "/run/ferry/ferry.sock";
};

// This instance owns the backup units whose consistent hash maps to `index`.
struct Shard {
  std::uint32_t index = 0;
  std::uint32_t count = 1;
};

struct CredentialsConfig {
  enum class Kind { kFile, kEnv, kInline };
  Kind kind = Kind::kEnv;
  // kFile: an AWS shared-credentials file (the format Velero mounts).
  std::string file;
  std::string profile = "default";
  // kInline only. SECRETS: never log, never put in a message.
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};
std::string_view ToString(CredentialsConfig::Kind v);  // "file", "env", "inline"

struct TlsConfig {
  std::string ca_file;  // "" = system trust store
  bool insecure_skip_verify = false;
};

// Overrides of what the backend would otherwise assume or probe; unset fields
// keep the backend's own value (storage::Capabilities).
struct CapabilityOverrides {
  std::optional<bool> list_common_prefixes;
  std::optional<bool> head_part_number;
  std::optional<bool> cross_bucket_copy;
  std::optional<bool> etag_is_md5;
  std::optional<bool> checksum_crc32c;
  std::optional<bool> uploads_encoded_undeclared;
  std::optional<std::uint64_t> min_part_size;
  std::optional<int> max_parts;
  bool empty() const;
};

struct EndpointUrl {
  std::string text;  // as written, e.g. "https://s3.eu-west-1.amazonaws.com"
  bool https = false;
  std::string host;        // lower-case; IPv6 literal without brackets
  std::uint16_t port = 0;  // defaulted from the scheme when absent
  std::string base_path;   // "" or "/prefix" (no trailing slash)
};

struct Endpoint {
  std::string name;  // the key under `endpoints`
  EndpointUrl url;
  std::string region = "us-east-1";
  Addressing addressing = Addressing::kPath;
  CredentialsConfig credentials;
  TlsConfig tls;
  int max_connections = 64;
  PayloadSigning payload_signing = PayloadSigning::kAuto;
  CapabilityOverrides capabilities;
};

// A place in a bucket: everything under `prefix` (a raw key prefix; "" = the
// whole bucket).
struct Location {
  std::string endpoint;  // name of an Endpoint
  std::string bucket;
  std::string prefix;
  bool operator==(const Location&) const = default;
};

struct DeleteConfig {
  DeletePolicy policy = DeletePolicy::kMirror;
  Duration grace = std::chrono::hours(24);
  double max_fraction = 0.10;  // mass-delete guard, fraction of the replica
};

struct Route {
  std::string name;  // unique, [a-z0-9-_]
  Location source;
  std::vector<Location> destinations;  // at least one
  Layout layout = Layout::kPlain;
  Duration target_lag = std::chrono::minutes(15);
  DeleteConfig deletion;  // `delete:` in the file
  VerifyMode verify = VerifyMode::kAuto;
  // layout velero only: a unit's marker goes once no file of the unit is new
  // or changed for this long (docs/layouts.md).
  Duration settle = std::chrono::seconds(60);
};

struct RetryConfig {
  int max_attempts = 10;
  Duration initial_backoff = Duration(200);
  Duration max_backoff = std::chrono::seconds(30);
};

struct TransferConfig {
  std::uint64_t part_size = 16ull << 20;
  int parts_in_flight = 32;
  std::uint64_t memory_limit = 0;         // effective value after parsing (never 0)
  std::uint64_t multipart_threshold = 0;  // effective value after parsing (never 0)
  int max_objects_in_flight = 256;
  RetryConfig retry;
  Duration request_timeout = std::chrono::seconds(60);
  Duration progress_timeout = std::chrono::seconds(30);
  // A destination with copies in flight and no byte moved for this long is
  // reported stalled (status, metrics, /readyz). Default: progress_timeout.
  Duration stall_after = std::chrono::seconds(30);
};

struct Config {
  std::string source_name;  // the file it came from, for messages
  std::string state_dir = "/var/lib/ferry";
  LogConfig log;
  HttpConfig http;
  ControlConfig control;
  Duration reconcile_every = std::chrono::minutes(5);
  Shard shard;
  std::vector<Endpoint> endpoints;  // in file order
  std::vector<Route> routes;        // in file order
  TransferConfig transfer;
  // Things that parse but that an operator must hear about (e.g. TLS
  // verification off, inline secrets), "<file>:<line>:<col>: <path>: <why>".
  // The daemon logs each at warn level at startup.
  std::vector<std::string> warnings;

  const Endpoint* FindEndpoint(std::string_view name) const;  // nullptr if absent
  const Route* FindRoute(std::string_view name) const;        // nullptr if absent
};

// One problem found while parsing, for callers that want more than the Status.
struct Diagnostic {
  std::string source;
  int line = 0;      // 1-based
  int column = 0;    // 1-based
  std::string path;  // "routes[0].destinations[1].endpoint"; "" for the document
  std::string message;
  std::string ToString() const;  // "<source>:<line>:<column>: <path>: <message>"
};

// Parses `text`; `source_name` names it in messages (normally the file path).
// `diagnostics`, when given, receives every error (the Status holds them too).
Result<Config> ParseConfig(std::string_view text, std::string_view source_name,
                           std::vector<Diagnostic>* diagnostics = nullptr);
// Reads and parses the file at `path` (at most 4 MiB).
Result<Config> LoadConfig(const std::string& path, std::vector<Diagnostic>* diagnostics = nullptr);

// The effective configuration as YAML, defaults included, with every secret
// replaced by "***". It parses back to an equivalent Config.
std::string Redacted(const Config& config);

// What one destination of one route needs: the resolved endpoints and
// locations. Pointers point into the Config it was built from; they are valid
// while that Config lives and is not modified.
struct Target {
  const Route* route = nullptr;
  int destination_index = 0;
  const Endpoint* source_endpoint = nullptr;
  const Location* source = nullptr;
  const Endpoint* destination_endpoint = nullptr;
  const Location* destination = nullptr;
  // Stable name for manifest keys and metrics labels:
  // "<route>/<endpoint>/<bucket>/<prefix>".
  std::string id;
};

// Every (route, destination) pair of a validated Config, in file order.
std::vector<Target> Targets(const Config& config);
// The destination key for a source key.
// REQUIRES: source_key starts with target.source->prefix.
std::string DestinationKey(const Target& target, std::string_view source_key);

// Size and duration spellings shared with flags and ferryctl.
// Durations: "250ms", "90s", "15m", "24h", "1h30m", "0".
std::optional<Duration> ParseDuration(std::string_view text);
std::string FormatDuration(Duration d);  // "1h30m", "250ms", "0s"
// Sizes: plain bytes, "512KiB", "16MiB", "1GiB", "1TiB", "5MB" (decimal), "10B".
std::optional<std::uint64_t> ParseSize(std::string_view text);
std::string FormatSize(std::uint64_t bytes);  // "16MiB" when exact, else bytes

}  // namespace ferry::config
