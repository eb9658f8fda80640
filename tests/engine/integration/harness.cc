#include "tests/engine/integration/harness.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "engine/daemon/daemon.h"
#include "engine/daemon/wiring.h"
#include "protocols/base/digest.h"
#include "storage/s3/s3_backend.h"
#include "tests/support/run.h"

#include <sys/wait.h>

#include <thread>

#ifndef FERRY_FERRYD_PATH
#error "FERRY_FERRYD_PATH must be defined by the build"
#endif
#ifndef FERRY_S3SIM_PATH
#error "FERRY_S3SIM_PATH must be defined by the build"
#endif

namespace ferry::integration {
namespace {

using std::chrono::seconds;

class Md5Sink final : public io::BodySink {
 public:
  io::Task<Status> Write(std::span<const char> data) override {
    hasher_.Update(std::string_view(data.data(), data.size()));
    bytes_ += data.size();
    co_return Status::Ok();
  }
  std::string Hex() { return digest::ToHex(hasher_.Finish()); }
  std::uint64_t bytes() const { return bytes_; }

 private:
  digest::Hasher hasher_{digest::Hasher::Kind::kMd5};
  std::uint64_t bytes_ = 0;
};

}  // namespace

std::string RandomBytes(std::uint64_t size, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(size, '\0');
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (; i < size; ++i) s[i] = static_cast<char>(rng());
  return s;
}

std::unique_ptr<testing::Process> StartFerryd(const std::string& config) {
  testing::SpawnOptions so;
  so.argv = {FERRY_FERRYD_PATH, "--config", config, "--once"};
  auto p = testing::Process::Spawn(std::move(so));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return nullptr;
  (*p)->DrainStdout();
  return std::move(*p);
}

bool WaitExit(testing::Process& p, std::chrono::steady_clock::duration timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (p.Running()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

int IntegrationTest::RunFerrydOnce(const std::string& config, std::chrono::seconds timeout) {
  auto p = StartFerryd(config);
  if (!p) return -1;
  if (!WaitExit(*p, timeout)) {
    ADD_FAILURE() << "ferryd --once did not finish within " << timeout.count() << " s";
    return -1;
  }
  return WIFEXITED(p->wait_status()) ? WEXITSTATUS(p->wait_status()) : -1;
}

Status Region::Start(const std::string& dir, const std::string& name, const std::string& bucket,
                     const std::vector<std::string>& extra) {
  bucket_ = bucket;
  std::string port_file = dir + "/" + name + ".port";
  testing::SpawnOptions so;
  so.argv = {FERRY_S3SIM_PATH, "--listen",     "127.0.0.1:0", "--port-file",
             port_file,        "--access-key", kAccessKey,    "--secret-key",
             kSecretKey,       "--bucket",     bucket,        "--min-part-size",
             std::to_string(kMiB)};
  so.argv.insert(so.argv.end(), extra.begin(), extra.end());
  FERRY_ASSIGN_OR_RETURN(proc_, testing::Process::Spawn(std::move(so)));
  FERRY_ASSIGN_OR_RETURN(port_, proc_->WaitForPortFile(port_file, seconds(30)));
  {
    // The learned clock offset is shared per URL in this process (the
    // daemon's and the test's clients agree on it). A new server on a port
    // that an earlier case's skewed server used must not inherit its skew.
    auto skew = s3::ClockSkewFor(url());
    const auto now = std::chrono::system_clock::now();
    (void)skew->Learn(now, now, skew->offset());
  }
  admin_ = std::make_unique<sim::AdminClient>("127.0.0.1", port_);
  return Status::Ok();
}

std::shared_ptr<storage::Backend> Region::OpenBackend(boost::asio::io_context& ioc) const {
  storage::S3BackendOptions o;
  o.client.endpoint = http::Url::Parse(url()).value();
  o.client.bucket = bucket_;
  o.client.credentials = s3::StaticCredentials({kAccessKey, kSecretKey, ""});
  o.client.request_timeout = std::chrono::milliseconds(30'000);
  o.capabilities.min_part_size = kMiB;
  auto b = storage::OpenS3Backend(ioc.get_executor(), o);
  if (!b.ok()) ADD_FAILURE() << b.status().ToString();
  return b.ok() ? *b : nullptr;
}

Status Region::Healthy() {
  if (proc_ && proc_->Running()) return Status::Ok();
  return Status::Error(ErrorClass::kFatal, "s3sim for " + bucket_ + " is not running");
}

nlohmann::json Region::Stats() {
  auto s = admin_->Stats();
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nlohmann::json::object();
}

std::uint64_t Region::Requests(const std::string& op) {
  nlohmann::json s = Stats();
  if (!s.contains("requests") || !s["requests"].contains(op)) return 0;
  return s["requests"][op].get<std::uint64_t>();
}

void ExpectOneUploadAbortedThenCompleted(Region& dst) {
  EXPECT_EQ(dst.Requests("CreateMultipartUpload"), 2u);
  EXPECT_EQ(dst.Requests("AbortMultipartUpload"), 1u);
  EXPECT_EQ(dst.Requests("CompleteMultipartUpload"), 1u);
}

std::uint64_t Region::LastSeq() { return Stats().value("last_seq", std::uint64_t{0}); }

std::vector<nlohmann::json> Region::Log(std::uint64_t since) {
  std::vector<nlohmann::json> all;
  for (;;) {
    auto page = admin_->Log(since);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok() || page->empty()) break;
    since = page->back()["seq"].get<std::uint64_t>();
    for (auto& e : *page) all.push_back(std::move(e));
  }
  return all;
}

void IntegrationTest::SetUp() {
  spdlog::set_level(spdlog::level::warn);
  dir_ = std::make_unique<testing::TempDir>("ferry-integration");
}

void IntegrationTest::TearDown() {
  src_backend_.reset();
  dst_backend_.reset();
}

void IntegrationTest::StartRegions(const std::vector<std::string>& src_extra,
                                   const std::vector<std::string>& dst_extra) {
  Status s = src_.Start(dir_->path(), "src", kSrcBucket, src_extra);
  ASSERT_TRUE(s.ok()) << s.ToString();
  s = dst_.Start(dir_->path(), "dst", kDstBucket, dst_extra);
  ASSERT_TRUE(s.ok()) << s.ToString();
  // The AWS shared-credentials format, as Velero mounts it.
  std::ofstream(dir_->path() + "/credentials")
      << "[default]\naws_access_key_id = " << kAccessKey
      << "\naws_secret_access_key = " << kSecretKey << "\n";
  src_backend_ = src_.OpenBackend(ioc_);
  dst_backend_ = dst_.OpenBackend(ioc_);
  ASSERT_TRUE(src_backend_ && dst_backend_);
}

void IntegrationTest::UseExternalEndpoints(ExternalEndpoint src, ExternalEndpoint dst,
                                           const storage::Capabilities& caps) {
  std::ofstream(dir_->path() + "/credentials")
      << "[src]\naws_access_key_id = " << src.access_key
      << "\naws_secret_access_key = " << src.secret_key << "\n[dst]\naws_access_key_id = "
      << dst.access_key << "\naws_secret_access_key = " << dst.secret_key << "\n";
  auto open = [&](const ExternalEndpoint& e) -> std::shared_ptr<storage::Backend> {
    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse(e.url).value();
    o.client.region = e.region;
    o.client.bucket = e.bucket;
    o.client.credentials = s3::StaticCredentials({e.access_key, e.secret_key, ""});
    o.capabilities = caps;
    auto b = storage::OpenS3Backend(ioc_.get_executor(), std::move(o));
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : nullptr;
  };
  src_backend_ = open(src);
  dst_backend_ = open(dst);
  external_src_ = std::move(src);
  external_dst_ = std::move(dst);
}

std::string IntegrationTest::ConfigYaml(const ConfigOptions& o) const {
  std::ostringstream y;
  auto endpoint = [&](const char* name, const Region& r) {
    const std::optional<ExternalEndpoint>& ext =
        std::string_view(name) == "src" ? external_src_ : external_dst_;
    y << "  " << name << ":\n";
    if (ext) {
      y << "    url: " << ext->url << "\n"
        << "    region: " << ext->region << "\n"
        << "    credentials: {file: " << dir_->path() << "/credentials, profile: " << name
        << "}\n";
    } else {
      y << "    url: " << r.url() << "\n"
        << "    credentials: {file: " << dir_->path() << "/credentials}\n";
    }
    y
      << "    payload_signing: " << o.payload_signing << "\n"
      << "    max_connections: 32\n"
      << "    capabilities: {min_part_size: 1MiB" << o.capabilities_extra;
    if (!o.probe) {
      if (o.capabilities_extra.find("head_part_number") == std::string::npos) {
        y << ", head_part_number: true";
      }
      if (o.capabilities_extra.find("checksum_crc32c") == std::string::npos) {
        y << ", checksum_crc32c: false";
      }
      if (o.capabilities_extra.find("etag_is_md5") == std::string::npos) {
        y << ", etag_is_md5: true";
      }
      if (o.capabilities_extra.find("uploads_encoded_undeclared") == std::string::npos) {
        y << ", uploads_encoded_undeclared: false";
      }
    }
    y << "}\n";
  };
  y << "state_dir: " << dir_->path() << "/state\n"
    << "log: {level: " << o.log_level << "}\n"
    << "http: {listen: \"" << o.http_listen << "\""
    << (o.webhook_token_file.empty() ? "" : ", webhook_token_file: " + o.webhook_token_file)
    << "}\n"
    << "reconcile_every: " << o.reconcile_every << "\n"
    << "control: {socket: " << dir_->path() << "/ferry.sock}\n"
    << "endpoints:\n";
  endpoint("src", src_);
  endpoint("dst", dst_);
  y << "routes:\n"
    << "  - name: main\n"
    << "    source: {endpoint: src, bucket: "
    << (external_src_ ? external_src_->bucket : src_.bucket()) << "}\n"
    << "    destinations: [{endpoint: dst, bucket: "
    << (external_dst_ ? external_dst_->bucket : dst_.bucket()) << "}]\n"
    << "    layout: " << o.layout << "\n"
    << "    target_lag: " << o.target_lag << "\n"
    << "    verify: " << o.verify << "\n"
    << (o.layout == "velero" ? "    settle: " + o.settle + "\n" : std::string())
    << "    delete: {policy: " << o.delete_policy << ", grace: " << o.grace
    << ", max_fraction: " << o.max_fraction << "}\n"
    << "transfer:\n"
    << "  part_size: " << o.part_size << "\n"
    << "  multipart_threshold: " << o.multipart_threshold << "\n"
    << "  parts_in_flight: " << o.parts_in_flight << "\n"
    << "  max_objects_in_flight: " << o.max_objects_in_flight << "\n"
    << "  retry: {max_attempts: " << o.max_attempts << ", initial_backoff: " << o.initial_backoff
    << ", max_backoff: " << o.max_backoff << "}\n";
  if (!o.progress_timeout.empty()) y << "  progress_timeout: " << o.progress_timeout << "\n";
  return y.str();
}

std::string IntegrationTest::WriteConfig(const ConfigOptions& o, const std::string& name) {
  std::string path = dir_->path() + "/" + name;
  std::ofstream(path) << ConfigYaml(o);
  return path;
}

int IntegrationTest::RunOnce(const ConfigOptions& o, std::vector<engine::PassReport>* reports) {
  auto cfg = config::ParseConfig(ConfigYaml(o), "integration.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  if (!cfg.ok()) return -1;
  // Its own io_context, declared before the daemon so that the daemon (and
  // its connection pools) goes first and the context then drops whatever
  // handlers remain, as in ferryd.
  boost::asio::io_context ioc;
  engine::DaemonOptions options;
  options.clock = clock_;
  auto daemon = engine::Daemon::Create(std::move(*cfg), ioc, options);
  EXPECT_TRUE(daemon.ok()) << daemon.status().ToString();
  if (!daemon.ok()) return -1;
  int code = testing::RunTask(ioc, (*daemon)->RunOnce(), seconds(90));
  if (reports) *reports = (*daemon)->last_reports();
  for (const auto& r : (*daemon)->last_reports()) {
    std::cerr << "  pass: " << r.Summary() << "\n";
  }
  return code;
}

std::string IntegrationTest::VerifiedBy(const ConfigOptions& o, const std::string& key) {
  std::string v = "<none>";
  WithRouteState(o, [&](engine::RouteState& st) {
    auto s = st.Get(key);
    if (s.ok() && s->has_value()) v = (*s)->verified_by;
  });
  return v;
}

void IntegrationTest::WithRouteState(const ConfigOptions& o,
                                     const std::function<void(engine::RouteState&)>& fn) {
  auto cfg = config::ParseConfig(ConfigYaml(o), "integration.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  engine::Wiring wiring;
  Status s = wiring.Open(*cfg, ioc_.get_executor());
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::vector<config::Target> targets = config::Targets(*cfg);
  ASSERT_EQ(targets.size(), 1u);
  auto st = wiring.State(targets[0].route->name, targets[0].id, targets[0].destination->prefix);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  fn(**st);
}

Written IntegrationTest::PutSource(const std::string& key, const std::string& data,
                                   const storage::Metadata& meta) {
  io::MemorySource body(data);
  auto r = testing::RunTask(ioc_, src_backend_->Put(key, body, meta));
  EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
  Written w{digest::ToHex(digest::Md5(data)), data.size(), r.ok() ? r->etag : ""};
  written_[key] = w;
  return w;
}

Written IntegrationTest::PutSourceMultipart(const std::string& key, const std::string& data,
                                            std::uint64_t part_size) {
  storage::Metadata meta;
  auto id = testing::RunTask(ioc_, src_backend_->CreateMultipart(key, meta));
  EXPECT_TRUE(id.ok()) << id.status().ToString();
  if (!id.ok()) return {};
  std::vector<storage::CompletedPart> parts;
  int n = 0;
  for (std::uint64_t off = 0; off < data.size(); off += part_size) {
    ++n;
    io::MemorySource body(std::string_view(data).substr(off, part_size));
    auto p = testing::RunTask(ioc_, src_backend_->UploadPart(key, *id, n, body));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return {};
    storage::CompletedPart cp;
    cp.part_number = n;
    cp.etag = p->etag;
    parts.push_back(cp);
  }
  auto done = testing::RunTask(ioc_, src_backend_->CompleteMultipart(key, *id, parts));
  EXPECT_TRUE(done.ok()) << done.status().ToString();
  Written w{digest::ToHex(digest::Md5(data)), data.size(), done.ok() ? done->etag : ""};
  EXPECT_NE(w.etag.find('-'), std::string::npos) << w.etag;
  written_[key] = w;
  return w;
}

Written IntegrationTest::SyntheticSource(const std::string& key, std::uint64_t size,
                                         std::uint64_t seed, std::uint64_t part_size) {
  nlohmann::json spec = {
      {"bucket", src_.bucket()},
      {"objects", {{{"key", key}, {"size", size}, {"seed", seed}, {"part_size", part_size}}}}};
  auto r = src_.admin().CreateSynthetic(spec);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  Written w;
  w.size = size;
  if (r.ok()) w.etag = (*r)["objects"][0]["etag"].get<std::string>();
  return w;
}

Status IntegrationTest::DeleteSource(const std::string& key) {
  written_.erase(key);
  return testing::RunTask(ioc_, src_backend_->Delete(key));
}

std::map<std::string, storage::ObjectSummary> IntegrationTest::ListAll(storage::Backend& b) {
  std::map<std::string, storage::ObjectSummary> out;
  storage::ListOptions opts;
  for (;;) {
    auto page = testing::RunTask(ioc_, b.List(opts));
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) break;
    for (auto& o : page->contents) out[o.key] = o;
    if (!page->is_truncated) break;
    opts.continuation_token = page->next_continuation_token;
  }
  return out;
}

std::pair<std::string, std::uint64_t> IntegrationTest::Md5Of(storage::Backend& b,
                                                            const std::string& key) {
  Md5Sink sink;
  storage::GetOptions opts;
  auto r = testing::RunTask(ioc_, b.Get(key, opts, sink));
  EXPECT_TRUE(r.ok()) << key << ": " << r.status().ToString();
  return {sink.Hex(), sink.bytes()};
}

std::size_t IntegrationTest::ExpectReplicaIdentical(const std::set<std::string>& etag_exempt) {
  auto src = ListAll(*src_backend_);
  auto dst = ListAll(*dst_backend_);
  EXPECT_EQ(src.size(), dst.size());
  for (const auto& [key, s] : src) {
    auto it = dst.find(key);
    if (it == dst.end()) {
      ADD_FAILURE() << "missing at the destination: " << key;
      continue;
    }
    EXPECT_EQ(it->second.size, s.size) << key;
    if (s.etag.find('-') != std::string::npos && !etag_exempt.count(key)) {
      EXPECT_EQ(it->second.etag, s.etag) << "multipart ETag not mirrored: " << key;
    }
    auto sm = Md5Of(*src_backend_, key);
    auto dm = Md5Of(*dst_backend_, key);
    EXPECT_EQ(sm.second, s.size) << key;
    EXPECT_EQ(dm, sm) << "bytes differ: " << key;
    auto w = written_.find(key);
    if (w != written_.end()) {
      EXPECT_EQ(dm.first, w->second.md5_hex) << key;
    }
  }
  for (const auto& [key, d] : dst) {
    if (!src.count(key)) ADD_FAILURE() << "extra at the destination: " << key;
  }
  return src.size();
}

Status DaemonThread::Start(const std::string& config_path) {
  auto cfg = config::LoadConfig(config_path);
  if (!cfg.ok()) return cfg.status();
  engine::ConfigureLogging(cfg->log);
  auto d = engine::Daemon::Create(std::move(*cfg), ioc_);
  if (!d.ok()) return d.status();
  daemon_ = std::move(*d);
  boost::asio::co_spawn(
      ioc_,
      [this]() -> io::Task<void> {
        co_await daemon_->Serve();
        served_ = true;
      },
      boost::asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
  return Status::Ok();
}

void DaemonThread::Stop() {
  if (!daemon_) return;
  daemon_->Stop();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!served_.load() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served_.load()) << "the daemon did not stop within 30 s";
  // Detached helpers (marker reads for the RPO) may still hold work.
  ioc_.stop();
  thread_.join();
  daemon_.reset();
}

std::pair<int, std::string> HttpGet(std::uint16_t port, const std::string& target) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::beast::tcp_stream s(io);
  s.expires_after(std::chrono::seconds(5));
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return {-1, ec.message()};
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req, ec);
  if (ec) return {-1, ec.message()};
  boost::beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(s, b, res, ec);
  if (ec) return {-1, ec.message()};
  return {static_cast<int>(res.result_int()), res.body()};
}

std::optional<double> Metric(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

std::uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

}  // namespace ferry::integration
