// ParseConfig / LoadConfig: the top level of the schema, the `transfer:`
// section, and the file handling. No exception leaves this file: yaml-cpp's
// are converted in ParseDocument, and anything else is caught here.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "engine/config/checks.h"
#include "engine/config/parse_internal.h"

namespace ferry::config {
namespace internal {
namespace {

constexpr EnumName<LogLevel> kLogLevels[] = {{"trace", LogLevel::kTrace},
                                             {"debug", LogLevel::kDebug},
                                             {"info", LogLevel::kInfo},
                                             {"warn", LogLevel::kWarn},
                                             {"error", LogLevel::kError}};
constexpr EnumName<LogFormat> kLogFormats[] = {{"text", LogFormat::kText},
                                               {"json", LogFormat::kJson}};

constexpr std::uint64_t kMinPartSize = 5ull << 20;
// transfer.memory_limit's default ceiling: with ferryd's own ~70 MiB it keeps
// a sidecar under a 256 MiB memory limit. Against Ceph RGW on a 2-core
// machine more parts in flight bought no throughput (bench/RESULTS.md).
constexpr std::uint64_t kDefaultMemoryCap = 160ull << 20;
constexpr std::uint64_t kMaxPartSize = 5ull << 30;
constexpr size_t kMaxConfigBytes = 4u << 20;

void ParseShard(const Field& f, Shard* shard) {
  auto text = ReadNonEmptyString(f);
  if (!text) return;
  const size_t slash = text->find('/');
  unsigned long index = 0;
  unsigned long count = 0;
  bool ok = slash != std::string::npos && slash > 0 && slash + 1 < text->size() &&
            text->find_first_not_of("0123456789/") == std::string::npos &&
            text->find('/', slash + 1) == std::string::npos && slash <= 6 &&
            text->size() - slash - 1 <= 6;
  if (ok) {
    index = std::stoul(text->substr(0, slash));
    count = std::stoul(text->substr(slash + 1));
  }
  if (!ok || count < 1 || count > 65536 || index >= count) {
    f.Error("bad shard " + Quote(*text, 40) +
            ": expected \"i/N\" with 0 <= i < N <= 65536, e.g. \"0/3\"");
    return;
  }
  if (count > 1) {
    // Documented settings must work: until instances really split the units,
    // N of them would each copy (and delete) everything.
    f.Error("shard " + Quote(*text, 40) +
            " is not supported yet: every instance would copy every unit; run one ferryd "
            "(\"0/1\")");
    return;
  }
  shard->index = static_cast<std::uint32_t>(index);
  shard->count = static_cast<std::uint32_t>(count);
}

void ParseHttp(const Field& field, HttpConfig* http) {
  MapReader m(field, {"listen", "webhook_token_file"});
  if (auto f = m.Get("listen")) {
    if (auto listen = ReadString(*f)) {
      http->listen = *listen;
      http->listen_host.clear();
      http->listen_port = 0;
      std::string why;
      if (!listen->empty() && !ParseListen(*listen, &http->listen_host, &http->listen_port, &why)) {
        f->Error("bad listen address " + Quote(*listen, 80) + ": " + why);
      }
    }
  }
  ReadOptional(m, "webhook_token_file", &http->webhook_token_file, ReadNonEmptyString);
}

}  // namespace

void ParseTransfer(const Field& field, TransferConfig* t) {
  MapReader m(field, {"part_size", "parts_in_flight", "memory_limit", "multipart_threshold",
                      "max_objects_in_flight", "retry", "request_timeout", "progress_timeout",
                      "stall_after"});
  ReadOptional(m, "part_size", &t->part_size,
               [](const Field& f) { return ReadSize(f, kMinPartSize, kMaxPartSize); });
  ReadOptional(m, "parts_in_flight", &t->parts_in_flight,
               [](const Field& f) { return ReadInt(f, 1, 4096); });
  // Default: every part of one object in flight, but no more than a sidecar
  // can hold (kDefaultMemoryCap), and never less than one part.
  t->memory_limit = std::max(
      t->part_size,
      std::min(t->part_size * static_cast<std::uint64_t>(t->parts_in_flight), kDefaultMemoryCap));
  if (auto f = m.Get("memory_limit")) {
    if (auto v = ReadSize(*f, 1, 1ull << 50)) {
      if (*v < t->part_size) {
        f->Error("must be at least part_size (" + FormatSize(t->part_size) + ")");
      } else {
        t->memory_limit = *v;
      }
    }
  }
  t->multipart_threshold = t->part_size;
  ReadOptional(m, "multipart_threshold", &t->multipart_threshold,
               [](const Field& f) { return ReadSize(f, 1, kMaxPartSize); });
  ReadOptional(m, "max_objects_in_flight", &t->max_objects_in_flight,
               [](const Field& f) { return ReadInt(f, 1, 100000); });
  if (auto f = m.Get("retry")) {
    MapReader r(*f, {"max_attempts", "initial_backoff", "max_backoff"});
    ReadOptional(r, "max_attempts", &t->retry.max_attempts,
                 [](const Field& f) { return ReadInt(f, 1, 1000); });
    ReadOptional(r, "initial_backoff", &t->retry.initial_backoff,
                 [](const Field& f) { return ReadDuration(f, Duration(1)); });
    ReadOptional(r, "max_backoff", &t->retry.max_backoff,
                 [](const Field& f) { return ReadDuration(f, Duration(1)); });
    if (t->retry.max_backoff < t->retry.initial_backoff) {
      const Field& at = r.Get("max_backoff") ? *r.Get("max_backoff") : *f;
      at.Error("max_backoff (" + FormatDuration(t->retry.max_backoff) +
               ") is shorter than initial_backoff (" + FormatDuration(t->retry.initial_backoff) +
               ")");
    }
  }
  ReadOptional(m, "request_timeout", &t->request_timeout,
               [](const Field& f) { return ReadDuration(f, Duration(1)); });
  ReadOptional(m, "progress_timeout", &t->progress_timeout,
               [](const Field& f) { return ReadDuration(f, Duration(1)); });
  t->stall_after = t->progress_timeout;
  ReadOptional(m, "stall_after", &t->stall_after,
               [](const Field& f) { return ReadDuration(f, std::chrono::seconds(1)); });
}

// The whole document. REQUIRES: `root` is the parsed document.
void ParseRoot(const Field& root, Config* config) {
  if (root.node.IsNull()) {
    root.Error("the configuration is empty; it needs at least `endpoints` and `routes`");
    return;
  }
  MapReader m(root, {"state_dir", "log", "http", "control", "reconcile_every", "shard", "endpoints",
                     "routes", "transfer"});
  if (!m.ok()) return;
  ReadOptional(m, "state_dir", &config->state_dir, ReadNonEmptyString);
  if (auto f = m.Get("log")) {
    MapReader log(*f, {"level", "format"});
    ReadOptional(log, "level", &config->log.level,
                 [](const Field& f) { return ReadEnum(f, kLogLevels); });
    ReadOptional(log, "format", &config->log.format,
                 [](const Field& f) { return ReadEnum(f, kLogFormats); });
  }
  if (auto f = m.Get("http")) ParseHttp(*f, &config->http);
  if (auto f = m.Get("control")) {
    MapReader control(*f, {"socket"});
    ReadOptional(control, "socket", &config->control.socket, ReadNonEmptyString);
  }
  ReadOptional(m, "reconcile_every", &config->reconcile_every,
               [](const Field& f) { return ReadDuration(f, std::chrono::seconds(1)); });
  if (auto f = m.Get("shard")) ParseShard(*f, &config->shard);
  if (auto f = m.Require("endpoints")) ParseEndpoints(*f, config);
  if (auto f = m.Get("transfer")) {
    ParseTransfer(*f, &config->transfer);
  } else {
    ParseTransfer(Field{YAML::Node(), "transfer", root.pos, root.diag}, &config->transfer);
  }
  // Routes last: they refer to endpoints.
  if (auto f = m.Require("routes")) ParseRoutes(*f, config);
}

}  // namespace internal

Result<Config> ParseConfig(std::string_view text, std::string_view source_name,
                           std::vector<Diagnostic>* diagnostics) {
  internal::Diagnostics diag{std::string(source_name)};
  Config config;
  config.source_name = std::string(source_name);
  try {
    if (text.size() > internal::kMaxConfigBytes) {
      diag.Error(internal::Pos{}, "", "the configuration is larger than 4 MiB");
    } else if (auto doc = internal::ParseDocument(text, &diag)) {
      internal::Field root{*doc, "", internal::Pos{}, &diag};
      internal::ParseRoot(root, &config);
    }
  } catch (const std::exception& e) {
    // yaml-cpp node accessors can throw on malformed trees; keep the promise
    // that nothing escapes.
    diag.Error(internal::Pos{}, "", std::string("internal error while reading: ") + e.what());
  }
  if (diagnostics != nullptr) *diagnostics = diag.errors();
  if (diag.has_errors()) return Status::Error(ErrorClass::kInvalidArgument, diag.Summary());
  config.warnings = diag.warnings();
  return config;
}

Result<Config> LoadConfig(const std::string& path, std::vector<Diagnostic>* diagnostics) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int err = errno;
    return Status::Error(err == ENOENT ? ErrorClass::kNotFound : ErrorClass::kInvalidArgument,
                         path + ": cannot open: " + std::strerror(err));
  }
  std::string text;
  char buf[64 * 1024];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > internal::kMaxConfigBytes) {
      return Status::Error(ErrorClass::kInvalidArgument,
                           path + ": the configuration is larger than 4 MiB");
    }
  }
  if (in.bad()) {
    return Status::Error(ErrorClass::kInvalidArgument, path + ": cannot read");
  }
  return ParseConfig(text, path, diagnostics);
}

}  // namespace ferry::config
