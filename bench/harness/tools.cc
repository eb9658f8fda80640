#include "bench/harness/tools.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ferry::bench {
namespace {

using EnvChanges = std::vector<std::pair<std::string, std::optional<std::string>>>;

std::string Join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a.find(' ') == std::string::npos ? a : "'" + a + "'";
  }
  return out;
}

// The peers must reach only the simulator: no CA bundle, proxy or profile
// from the caller's environment.
EnvChanges IsolatedEnv() {
  EnvChanges env;
  for (const char* name : {"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
                           "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                           "ALL_PROXY", "all_proxy"}) {
    env.emplace_back(name, std::nullopt);
  }
  env.emplace_back("NO_PROXY", "127.0.0.1,localhost");
  return env;
}

void Accumulate(ToolRun& run, const Usage& u) {
  run.usage.wall_seconds += u.wall_seconds;
  run.usage.user_seconds += u.user_seconds;
  run.usage.system_seconds += u.system_seconds;
  run.usage.peak_rss_bytes = std::max(run.usage.peak_rss_bytes, u.peak_rss_bytes);
  run.usage.exit_code = u.exit_code;
  run.usage.signal = u.signal;
  run.usage.timed_out = run.usage.timed_out || u.timed_out;
}

// Runs one step of a tool; false (with run.error set) when it failed.
bool Step(ToolRun& run, ChildOptions co, std::chrono::seconds timeout) {
  if (!run.command.empty()) run.command += " && ";
  run.command += Join(co.argv);
  co.log_path = run.log_path;
  auto child = Child::Spawn(co);
  if (!child.ok()) {
    run.error = child.status().ToString();
    return false;
  }
  Usage u = (*child)->Wait(timeout);
  Accumulate(run, u);
  if (u.timed_out) {
    run.error = "timed out after " + std::to_string(timeout.count()) + " s";
  } else if (u.exit_code != 0) {
    run.error = "exit " + std::to_string(u.exit_code) +
                (u.signal ? " (signal " + std::to_string(u.signal) + ")" : "") + ": " +
                Tail(run.log_path, 600);
  }
  return run.error.empty();
}

std::string SizeText(std::uint64_t bytes) {
  if (bytes % kMiB == 0) return std::to_string(bytes / kMiB) + "MiB";
  return std::to_string(bytes);
}

}  // namespace

std::string FerrySettings::Describe() const {
  std::ostringstream o;
  if (ferryd_defaults) {
    o << "ferryd's default transfer settings, payload_signing "
      << (payload_signing.empty() ? "auto (default)" : payload_signing);
  } else {
    o << "part_size " << SizeText(part_size) << ", parts_in_flight " << parts_in_flight
      << ", memory_limit " << SizeText(part_size * static_cast<std::uint64_t>(parts_in_flight))
      << ", max_connections " << max_connections << ", payload_signing " << payload_signing;
  }
  if (probe_capabilities) o << ", capabilities probed";
  return o.str();
}

Endpoint SimEndpoint(const SimRegion& r) {
  Endpoint e;
  e.url = r.url();
  e.tls = r.tls();
  return e;
}

std::string FerryConfigYaml(const RegionPair& pair, const FerrySettings& s, const std::string& dir,
                            const std::string& layout) {
  std::ostringstream y;
  auto endpoint = [&](const char* name, const Endpoint& e) {
    y << "  " << name << ":\n"
      << "    url: " << e.url << "\n"
      << "    region: " << e.region << "\n"
      << "    credentials: {file: " << dir << "/credentials-" << name << "}\n";
    if (!s.ferryd_defaults || !s.payload_signing.empty()) {
      y << "    payload_signing: " << s.payload_signing << "\n";
    }
    if (!s.ferryd_defaults) y << "    max_connections: " << s.max_connections << "\n";
    if (!s.probe_capabilities) {
      // Set, not probed: s3sim's answers are known, and a start-up probe's
      // writes would count in the destination's totals and the timings.
      y << "    capabilities: {head_part_number: true, checksum_crc32c: false, etag_is_md5: true,"
           " uploads_encoded_undeclared: false}\n";
    }
    if (e.tls) y << "    tls: {ca_file: " << pair.ca_file << "}\n";
  };
  y << "# written by ferry-bench\n"
    << "state_dir: " << dir << "/state\n"
    << "log: {level: " << s.log_level << "}\n"
    << "http: {listen: \"\"}\n"
    << "control: {socket: " << dir << "/ferry.sock}\n"
    << "endpoints:\n";
  endpoint("src", pair.Source());
  endpoint("dst", pair.Destination());
  y << "routes:\n"
    << "  - name: bench\n"
    << "    source: {endpoint: src, bucket: " << pair.src_bucket << "}\n"
    << "    destinations: [{endpoint: dst, bucket: " << pair.dst_bucket << "}]\n"
    << "    layout: " << layout << "\n"
    // The bench's source is written before the run and never changes: no
    // backup needs to settle (and --once would wait for it).
    << (layout == "velero" ? "    settle: 0s\n" : "")
    << "    delete: {policy: keep}\n";
  if (!s.ferryd_defaults) {
    y << "transfer:\n"
      << "  part_size: " << SizeText(s.part_size) << "\n"
      << "  parts_in_flight: " << s.parts_in_flight << "\n"
      // Every part of the sweep in flight at once (above ferryd's default
      // cap, sized for a sidecar): the simulated link needs that much in flight.
      << "  memory_limit: " << SizeText(s.part_size * static_cast<std::uint64_t>(s.parts_in_flight))
      << "\n"
      << "  max_objects_in_flight: " << s.max_objects_in_flight << "\n";
  }
  return y.str();
}

ToolRun RunFerry(const Programs& p, const RegionPair& pair, const Workload& w,
                 const FerrySettings& s, const std::string& dir, std::chrono::seconds timeout) {
  ToolRun run;
  run.tool = "ferry";
  std::filesystem::create_directories(dir);
  std::filesystem::remove_all(dir + "/state");
  run.log_path = dir + "/ferryd.log";
  std::filesystem::remove(run.log_path);
  // The AWS shared-credentials format, as Velero mounts it; one file per
  // endpoint (the RGW clusters have keys of their own).
  auto credentials = [&](const std::string& name, const Endpoint& e) {
    std::ofstream(dir + "/credentials-" + name)
        << "[default]\naws_access_key_id = " << e.access_key
        << "\naws_secret_access_key = " << e.secret_key << "\n";
  };
  credentials("src", pair.Source());
  credentials("dst", pair.Destination());
  std::string config = dir + "/ferry.yaml";
  std::ofstream(config) << FerryConfigYaml(pair, s, dir, s.layout.empty() ? w.layout : s.layout);
  ChildOptions co;
  co.argv = {p.ferryd, "--config", config, "--once"};
  if (s.threads > 0) co.argv.insert(co.argv.end(), {"--threads", std::to_string(s.threads)});
  co.env = IsolatedEnv();
  run.started = std::chrono::system_clock::now();
  Step(run, std::move(co), timeout);
  return run;
}

std::string RcloneFlags(const RcloneSettings& s) {
  std::string f = "--checksum";
  if (s.tuned) {
    if (s.transfers > 0) f += " --transfers " + std::to_string(s.transfers);
    if (s.checkers > 0) f += " --checkers " + std::to_string(s.checkers);
    if (s.upload_concurrency > 0) {
      f += " --s3-upload-concurrency " + std::to_string(s.upload_concurrency);
    }
    if (s.chunk_size > 0) f += " --s3-chunk-size " + std::to_string(s.chunk_size / kMiB) + "M";
    f += " --fast-list";
  }
  return f;
}

ToolRun RunRclone(const Programs& p, const RegionPair& pair, const RcloneSettings& s,
                  const std::string& dir, std::chrono::seconds timeout) {
  ToolRun run;
  run.tool = s.tuned ? "rclone-tuned" : "rclone-default";
  std::filesystem::create_directories(dir);
  run.log_path = dir + "/" + run.tool + ".log";
  std::filesystem::remove(run.log_path);
  std::string conf = dir + "/rclone.conf";
  std::ofstream(conf).flush();  // empty: remotes come from the environment
  ChildOptions co;
  co.env = IsolatedEnv();
  co.env.emplace_back("RCLONE_CONFIG", conf);
  auto remote = [&](const std::string& name, const Endpoint& e) {
    const std::string v = "RCLONE_CONFIG_" + name + "_";
    co.env.emplace_back(v + "TYPE", "s3");
    co.env.emplace_back(v + "PROVIDER", e.rclone_provider);
    co.env.emplace_back(v + "ENDPOINT", e.url);
    co.env.emplace_back(v + "ACCESS_KEY_ID", e.access_key);
    co.env.emplace_back(v + "SECRET_ACCESS_KEY", e.secret_key);
    co.env.emplace_back(v + "FORCE_PATH_STYLE", "true");
    co.env.emplace_back(v + "REGION", e.region);
  };
  remote("SRC", pair.Source());
  remote("DST", pair.Destination());
  co.argv = {p.rclone, "copy", "src:" + pair.src_bucket, "dst:" + pair.dst_bucket};
  std::istringstream flags(RcloneFlags(s));
  for (std::string f; flags >> f;) co.argv.push_back(f);
  run.started = std::chrono::system_clock::now();
  Step(run, std::move(co), timeout);
  return run;
}

ToolRun RunAwscli(const Programs& p, const RegionPair& pair, const std::string& dir,
                  std::chrono::seconds timeout) {
  ToolRun run;
  run.tool = "awscli";
  std::filesystem::create_directories(dir);
  run.log_path = dir + "/awscli.log";
  std::filesystem::remove(run.log_path);
  const std::string local = dir + "/aws-local";
  std::filesystem::remove_all(local);
  std::filesystem::create_directories(local);
  const Endpoint src = pair.Source(), dst = pair.Destination();
  std::ofstream(dir + "/aws-config") << "[default]\nregion = " << src.region
                                     << "\ns3 =\n  addressing_style = path\n";
  std::ofstream(dir + "/aws-credentials").flush();
  // Each step with its own store's keys and region.
  auto env = [&](const Endpoint& e) {
    EnvChanges env = IsolatedEnv();
    env.emplace_back("AWS_ACCESS_KEY_ID", e.access_key);
    env.emplace_back("AWS_SECRET_ACCESS_KEY", e.secret_key);
    env.emplace_back("AWS_DEFAULT_REGION", e.region);
    env.emplace_back("AWS_CONFIG_FILE", dir + "/aws-config");
    env.emplace_back("AWS_SHARED_CREDENTIALS_FILE", dir + "/aws-credentials");
    env.emplace_back("AWS_EC2_METADATA_DISABLED", "true");
    env.emplace_back("AWS_PAGER", "");
    return env;
  };
  run.started = std::chrono::system_clock::now();
  ChildOptions down;
  down.env = env(src);
  down.argv = {p.aws, "--endpoint-url", src.url, "s3", "sync",
               "s3://" + pair.src_bucket, local, "--only-show-errors"};
  if (Step(run, std::move(down), timeout)) {
    ChildOptions up;
    up.env = env(dst);
    up.argv = {p.aws, "--endpoint-url", dst.url, "s3", "sync", local,
               "s3://" + pair.dst_bucket, "--only-show-errors"};
    Step(run, std::move(up), timeout);
  }
  std::error_code ec;
  std::filesystem::remove_all(local, ec);
  return run;
}

}  // namespace ferry::bench
