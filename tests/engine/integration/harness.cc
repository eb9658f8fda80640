#include "tests/engine/integration/harness.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "engine/daemon/daemon.h"
#include "engine/daemon/wiring.h"
#include "protocols/base/digest.h"
#include "storage/s3/s3_backend.h"
#include "tests/support/run.h"

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
  src_backend_ = src_.OpenBackend(ioc_);
  dst_backend_ = dst_.OpenBackend(ioc_);
  ASSERT_TRUE(src_backend_ && dst_backend_);
}

std::string IntegrationTest::ConfigYaml(const ConfigOptions& o) const {
  std::ostringstream y;
  auto endpoint = [&](const char* name, const Region& r) {
    y << "  " << name << ":\n"
      << "    url: " << r.url() << "\n"
      << "    credentials: {access_key_id: " << kAccessKey << ", secret_access_key: "
      << kSecretKey << "}\n"
      << "    payload_signing: " << o.payload_signing << "\n"
      << "    max_connections: 32\n"
      << "    capabilities: {min_part_size: 1MiB}\n";
  };
  y << "state_dir: " << dir_->path() << "/state\n"
    << "log: {level: " << o.log_level << "}\n"
    << "http: {listen: \"\"}\n"
    << "control: {socket: " << dir_->path() << "/ferry.sock}\n"
    << "endpoints:\n";
  endpoint("src", src_);
  endpoint("dst", dst_);
  y << "routes:\n"
    << "  - name: main\n"
    << "    source: {endpoint: src, bucket: " << src_.bucket() << "}\n"
    << "    destinations: [{endpoint: dst, bucket: " << dst_.bucket() << "}]\n"
    << "    layout: " << o.layout << "\n"
    << "    delete: {policy: " << o.delete_policy << ", grace: " << o.grace
    << ", max_fraction: " << o.max_fraction << "}\n"
    << "transfer:\n"
    << "  part_size: " << o.part_size << "\n"
    << "  multipart_threshold: " << o.multipart_threshold << "\n"
    << "  parts_in_flight: " << o.parts_in_flight << "\n"
    << "  max_objects_in_flight: " << o.max_objects_in_flight << "\n"
    << "  retry: {max_attempts: " << o.max_attempts << ", initial_backoff: " << o.initial_backoff
    << ", max_backoff: " << o.max_backoff << "}\n";
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
  auto daemon = engine::Daemon::Create(std::move(*cfg), ioc);
  EXPECT_TRUE(daemon.ok()) << daemon.status().ToString();
  if (!daemon.ok()) return -1;
  int code = testing::RunTask(ioc, (*daemon)->RunOnce(), seconds(90));
  if (reports) *reports = (*daemon)->last_reports();
  for (const auto& r : (*daemon)->last_reports()) {
    std::cerr << "  pass: " << r.Summary() << "\n";
  }
  return code;
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

Written IntegrationTest::PutSource(const std::string& key, const std::string& data) {
  io::MemorySource body(data);
  storage::Metadata meta;
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
    if (w != written_.end()) EXPECT_EQ(dm.first, w->second.md5_hex) << key;
  }
  for (const auto& [key, d] : dst) {
    if (!src.count(key)) ADD_FAILURE() << "extra at the destination: " << key;
  }
  return src.size();
}

void IntegrationTest::PopulateVelero(int backups) {
  std::uint64_t seed = 1000;
  for (int b = 1; b <= backups; ++b) {
    std::string name = "nightly-" + std::to_string(b);
    std::string unit = "backups/" + name + "/";
    // Tarball: multipart with 1 MiB parts ("-4" ETag), not a multiple of the part size.
    PutSourceMultipart(unit + name + ".tar.gz", RandomBytes(3 * kMiB + 12345 * b, ++seed), kMiB);
    for (const char* f : {"-logs.gz", "-podvolumebackups.json.gz", "-resource-list.json.gz",
                          "-results.gz", "-volumesnapshots.json.gz"}) {
      PutSource(unit + name + f, RandomBytes(1000 + 4096 * b, ++seed));
    }
    PutSource(unit + "velero-backup.json",
              R"({"kind":"Backup","metadata":{"name":")" + name +
                  R"("},"status":{"phase":"Completed"}})");
  }
  const std::string repo = "kopia/app/";
  for (int i = 0; i < 6; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "p%032x", i + 1);
    if (i < 2) {
      PutSourceMultipart(repo + name, RandomBytes(2 * kMiB + 777 * (i + 1), ++seed), kMiB);
    } else {
      PutSource(repo + name, RandomBytes(200 * kKiB + 999 * i, ++seed));
    }
  }
  for (int i = 0; i < 2; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "q%032x", i + 1);
    PutSource(repo + name, RandomBytes(150 * kKiB + i, ++seed));
  }
  for (int i = 0; i < 3; ++i) {
    char name[40];
    std::snprintf(name, sizeof name, "xn0_%032x", i + 1);
    PutSource(repo + name, RandomBytes(20000 + i, ++seed));
  }
  for (const char* f : {"kopia.repository", "kopia.blobcfg", "kopia.maintenance"}) {
    PutSource(repo + f, std::string(R"({"format":")") + f + "\"}");
  }
}

bool IsWrite(const nlohmann::json& e) {
  static const std::set<std::string> kWrites = {
      "PutObject",  "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload",
      "CopyObject", "UploadPartCopy"};
  return kWrites.count(e.value("op", std::string()));
}

std::vector<nlohmann::json> Filter(const std::vector<nlohmann::json>& log, const std::string& op,
                                   const std::string& key_prefix) {
  std::vector<nlohmann::json> out;
  for (const auto& e : log) {
    if ((op.empty() || e.value("op", std::string()) == op) &&
        e.value("key", std::string()).starts_with(key_prefix)) {
      out.push_back(e);
    }
  }
  return out;
}

void ExpectVeleroOrder(const std::vector<nlohmann::json>& log,
                       const std::vector<std::string>& units) {
  for (const std::string& unit : units) {
    const std::string marker = unit + "velero-backup.json";
    std::uint64_t last_other = 0, first_marker = UINT64_MAX;
    std::size_t others = 0, markers = 0;
    for (const auto& e : log) {
      if (!IsWrite(e)) continue;
      const std::string key = e.value("key", std::string());
      if (!key.starts_with(unit)) continue;
      const std::uint64_t seq = e["seq"].get<std::uint64_t>();
      if (key == marker) {
        first_marker = std::min(first_marker, seq);
        ++markers;
      } else {
        last_other = std::max(last_other, seq);
        ++others;
      }
    }
    EXPECT_GE(markers, 1u) << "no marker write for " << unit;
    EXPECT_GE(others, 1u) << "no other write for " << unit;
    EXPECT_GT(first_marker, last_other)
        << unit << ": marker written (seq " << first_marker << ") before the unit's last write (seq "
        << last_other << ")";
  }
}

void ExpectKopiaOrder(const std::vector<nlohmann::json>& log, const std::string& repo) {
  // Phase of a key: p/q packs 0, x indexes 1, kopia.* format blobs 2.
  auto phase = [&](const std::string& rel) {
    if (rel.starts_with("kopia.")) return 2;
    if (rel.starts_with("x")) return 1;
    return 0;
  };
  std::uint64_t last[3] = {0, 0, 0}, first[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
  std::size_t count[3] = {0, 0, 0};
  for (const auto& e : log) {
    if (!IsWrite(e)) continue;
    const std::string key = e.value("key", std::string());
    if (!key.starts_with(repo)) continue;
    int ph = phase(key.substr(repo.size()));
    const std::uint64_t seq = e["seq"].get<std::uint64_t>();
    last[ph] = std::max(last[ph], seq);
    first[ph] = std::min(first[ph], seq);
    ++count[ph];
  }
  for (int ph = 0; ph < 3; ++ph) EXPECT_GE(count[ph], 1u) << repo << " phase " << ph;
  EXPECT_GT(first[1], last[0]) << repo << ": an index written before the last pack";
  EXPECT_GT(first[2], last[1]) << repo << ": a format blob written before the last index";
}

}  // namespace ferry::integration
