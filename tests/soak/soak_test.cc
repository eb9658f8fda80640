// The bounded soak: ferryd (the binary, daemon mode, events) replicates while
// a writer keeps adding Velero-like backups at ~70% of a simulated
// cross-region link, for FERRY_SOAK_MINUTES (ctest: 3; tests/soak/run
// --minutes N). Every few seconds it samples `ferryctl lag --json`
// (max_oldest_pending_age_s), ferryd's VmRSS and its open fds.
//
// The link: the destination s3sim delays every response by kLatencyMs and
// shapes each connection to kBandwidth bytes/s each way; ferryd may hold
// kConnections connections to it (max_connections, a hard cap of its pool).
// Its raw capacity is C = kConnections × kBandwidth. Each request also holds
// a connection for the latency, so for a backup of S bytes needing r requests
// at the destination the effective capacity is
//   C_eff = kConnections × S / (r × latency + S / kBandwidth);
// the writer paces itself to 0.70 × C (bytes written / elapsed), and the
// summary reports r (measured from the destination's request count) and the
// resulting share of C_eff. The source region is local (no shaping).
//
// Pass: max observed lag < target_lag (15m); RSS and fd count flat: the mean
// of the samples in the last third of the run is within ±10% of the mean of
// the samples in the second third (the first third is warm-up); then
// `ferryctl wait --lag-below 60s` exits 0, nothing is pending, and
// `ferryctl verify main` exits 0.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "protocols/base/body.h"
#include "sim/admin_client.h"
#include "storage/s3/s3_backend.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::soak {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kAccessKey[] = "soak-access-key";
constexpr char kSecretKey[] = "soak-secret-key-0123456789";
constexpr char kToken[] = "soak-webhook-token-0123456789";
constexpr std::uint64_t kMiB = 1 << 20;
constexpr int kLatencyMs = 20;
constexpr std::uint64_t kBandwidth = 512 * 1024;  // bytes/s per connection, each direction
constexpr int kConnections = 4;                   // ferryd's max_connections to the destination
constexpr double kLoad = 0.70;
constexpr std::uint64_t kPartSize = 5 * kMiB;
constexpr seconds kSampleEvery{5};

struct Sample {
  double t = 0;  // seconds since the writer started
  double lag_s = 0;
  std::uint64_t pending = 0;
  double rss_kib = 0;
  double fds = 0;
};

std::uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

struct CmdResult {
  int rc = -1;
  std::string out;
};

CmdResult RunCmd(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) cmd += "'" + a + "' ";
  cmd += "2>&1";
  CmdResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

double VmRssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6));
  }
  return -1;
}

double OpenFds(pid_t pid) {
  std::error_code ec;
  double n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    ++n;
  }
  return ec ? -1 : n;
}

std::string RandomBytes(std::uint64_t size, std::mt19937_64& rng) {
  std::string s(size, '\0');
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t v = rng();
    std::memcpy(s.data() + i, &v, 8);
  }
  for (; i < size; ++i) s[i] = static_cast<char>(rng());
  return s;
}

double Mean(const std::vector<Sample>& s, double from, double to, double Sample::*field) {
  double sum = 0;
  int n = 0;
  for (const Sample& x : s) {
    if (x.t >= from && x.t < to) {
      sum += x.*field;
      ++n;
    }
  }
  return n ? sum / n : -1;
}

class SoakTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = std::make_unique<testing::TempDir>("ferry-soak"); }

  std::uint16_t StartRegion(const std::string& name, const std::string& bucket,
                            std::vector<std::string> extra) {
    std::string port_file = dir_->path() + "/" + name + ".port";
    std::filesystem::create_directories(dir_->path() + "/" + name + "-data");
    testing::SpawnOptions so;
    so.argv = {FERRY_S3SIM_PATH, "--listen", "127.0.0.1:0", "--port-file", port_file,
               "--access-key", kAccessKey, "--secret-key", kSecretKey, "--bucket", bucket,
               "--data-dir", dir_->path() + "/" + name + "-data"};
    so.argv.insert(so.argv.end(), extra.begin(), extra.end());
    auto p = testing::Process::Spawn(std::move(so));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    if (!p.ok()) return 0;
    auto port = (*p)->WaitForPortFile(port_file, seconds(30));
    EXPECT_TRUE(port.ok()) << port.status().ToString();
    sims_.push_back(std::move(*p));
    return port.ok() ? *port : 0;
  }

  CmdResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {FERRY_FERRYCTL_PATH, "--socket", dir_->path() + "/ferry.sock"});
    return RunCmd(args);
  }

  // One Velero-like backup: a multipart tarball, five small gz/json files,
  // velero-backup.json last. Returns its bytes.
  std::uint64_t WriteBackup(storage::Backend& src, int n, std::mt19937_64& rng) {
    const std::string name = "soak-" + std::to_string(n);
    const std::string unit = "backups/" + name + "/";
    std::uint64_t bytes = 0;
    // Tarball: 6..14 MiB in 5 MiB parts.
    const std::uint64_t tar_size = 6 * kMiB + rng() % (8 * kMiB);
    const std::string tar_key = unit + name + ".tar.gz";
    storage::Metadata meta;
    auto id = testing::RunTask(ioc_, src.CreateMultipart(tar_key, meta));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    if (!id.ok()) return 0;
    std::vector<storage::CompletedPart> parts;
    int pn = 0;
    for (std::uint64_t off = 0; off < tar_size; off += kPartSize) {
      std::string data = RandomBytes(std::min(kPartSize, tar_size - off), rng);
      io::MemorySource body(data);
      auto p = testing::RunTask(ioc_, src.UploadPart(tar_key, *id, ++pn, body));
      EXPECT_TRUE(p.ok()) << p.status().ToString();
      if (!p.ok()) return bytes;
      storage::CompletedPart cp;
      cp.part_number = pn;
      cp.etag = p->etag;
      parts.push_back(cp);
    }
    auto done = testing::RunTask(ioc_, src.CompleteMultipart(tar_key, *id, parts));
    EXPECT_TRUE(done.ok()) << done.status().ToString();
    bytes += tar_size;
    for (const char* f : {"-logs.gz", "-podvolumebackups.json.gz", "-resource-list.json.gz",
                          "-results.gz", "-volumesnapshots.json.gz"}) {
      std::string data = RandomBytes(2000 + rng() % (60 * 1024), rng);
      io::MemorySource body(data);
      auto r = testing::RunTask(ioc_, src.Put(unit + name + f, body, meta));
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      bytes += data.size();
    }
    std::string marker = R"({"kind":"Backup","metadata":{"name":")" + name +
                         R"("},"status":{"phase":"Completed"}})";
    io::MemorySource body(marker);
    auto r = testing::RunTask(ioc_, src.Put(unit + "velero-backup.json", body, meta));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return bytes + marker.size();
  }

  boost::asio::io_context ioc_;
  std::unique_ptr<testing::TempDir> dir_;
  std::vector<std::unique_ptr<testing::Process>> sims_;
};

TEST_F(SoakTest, LagRssAndFdsStayFlatUnderSteadyLoad) {
  const char* env = std::getenv("FERRY_SOAK_MINUTES");
  const double minutes = env ? std::atof(env) : 3.0;
  ASSERT_GT(minutes, 0.2) << "FERRY_SOAK_MINUTES must be a number of minutes (at least 0.2)";
  const auto run_for = milliseconds(static_cast<std::int64_t>(minutes * 60'000));
  const auto t_setup = Clock::now();

  const std::uint16_t http_port = FreePort();
  const std::uint16_t src_port =
      StartRegion("src", "src-bucket",
                  {"--event-webhook", "http://127.0.0.1:" + std::to_string(http_port) + "/events",
                   "--event-token", kToken});
  const std::uint16_t dst_port =
      StartRegion("dst", "dst-bucket",
                  {"--latency-ms", std::to_string(kLatencyMs), "--bandwidth", std::to_string(kBandwidth)});
  ASSERT_TRUE(src_port && dst_port);
  std::ofstream(dir_->path() + "/token") << kToken << "\n";
  std::ofstream(dir_->path() + "/credentials")
      << "[default]\naws_access_key_id = " << kAccessKey << "\naws_secret_access_key = " << kSecretKey
      << "\n";
  const std::string config = dir_->path() + "/ferry.yaml";
  {
    std::ofstream y(config);
    y << "state_dir: " << dir_->path() << "/state\n"
      << "log: {level: warn}\n"
      << "http: {listen: \"127.0.0.1:" << http_port << "\", webhook_token_file: " << dir_->path()
      << "/token}\n"
      << "control: {socket: " << dir_->path() << "/ferry.sock}\n"
      << "reconcile_every: 1m\n"
      << "endpoints:\n"
      << "  src: {url: \"http://127.0.0.1:" << src_port << "\", credentials: {file: " << dir_->path()
      << "/credentials}, max_connections: 8}\n"
      << "  dst: {url: \"http://127.0.0.1:" << dst_port << "\", credentials: {file: " << dir_->path()
      << "/credentials}, max_connections: " << kConnections << "}\n"
      << "routes:\n"
      << "  - name: main\n"
      << "    source: {endpoint: src, bucket: src-bucket}\n"
      << "    destinations: [{endpoint: dst, bucket: dst-bucket}]\n"
      << "    layout: velero\n"
      << "    settle: 2s\n"
      << "    target_lag: 15m\n"
      << "transfer:\n"
      << "  part_size: 5MiB\n"
      << "  parts_in_flight: " << kConnections << "\n"
      << "  max_objects_in_flight: 16\n";
  }
  const double target_lag_s = 15 * 60;

  storage::S3BackendOptions o;
  o.client.endpoint = http::Url::Parse("http://127.0.0.1:" + std::to_string(src_port)).value();
  o.client.bucket = "src-bucket";
  o.client.credentials = s3::StaticCredentials({kAccessKey, kSecretKey, ""});
  o.client.request_timeout = milliseconds(30'000);
  auto src = storage::OpenS3Backend(ioc_.get_executor(), o);
  ASSERT_TRUE(src.ok()) << src.status().ToString();

  const std::string err_path = dir_->path() + "/ferryd.err";
  testing::SpawnOptions so;
  so.argv = {"/bin/sh", "-c",
             std::string("exec '") + FERRY_FERRYD_PATH + "' --config '" + config +
                 "' --threads 2 2>'" + err_path + "'"};
  auto proc = testing::Process::Spawn(std::move(so));
  ASSERT_TRUE(proc.ok()) << proc.status().ToString();
  std::unique_ptr<testing::Process> ferryd = std::move(*proc);
  ferryd->DrainStdout();
  auto ferryd_log = [&] {
    std::ifstream in(err_path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  };
  for (auto deadline = Clock::now() + seconds(30);;) {
    CmdResult r = Ctl({"status", "--json"});
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    if (r.rc == 0 && j.value("ready", false)) break;
    ASSERT_TRUE(ferryd->Running()) << ferryd_log();
    ASSERT_LT(Clock::now(), deadline) << "ferryd not ready: " << r.out;
    std::this_thread::sleep_for(milliseconds(100));
  }
  const pid_t pid = ferryd->pid();

  // Writer (this thread) and sampler (its own thread, ferryctl is a child).
  const double capacity = static_cast<double>(kConnections) * static_cast<double>(kBandwidth);
  const double rate = kLoad * capacity;
  std::vector<Sample> samples;
  std::mutex mu;
  std::atomic<bool> stop{false};
  std::atomic<int> lag_errors{0};
  const auto t0 = Clock::now();
  std::thread sampler([&] {
    auto next = Clock::now();
    while (!stop.load()) {
      Sample s;
      s.t = std::chrono::duration<double>(Clock::now() - t0).count();
      CmdResult r = Ctl({"lag", "--json"});
      nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
      if (r.rc == 0 && j.is_object()) {
        s.lag_s = j.value("max_oldest_pending_age_s", 0.0);
        for (const auto& d : j.value("routes", nlohmann::json::array())) {
          s.pending += d.value("pending_objects", std::uint64_t{0});
        }
      } else {
        ++lag_errors;
      }
      s.rss_kib = VmRssKiB(pid);
      s.fds = OpenFds(pid);
      {
        std::lock_guard lock(mu);
        samples.push_back(s);
      }
      std::fprintf(stderr, "  soak t=%.0fs lag=%.1fs pending=%llu rss=%.1fMiB fds=%.0f\n", s.t,
                   s.lag_s, static_cast<unsigned long long>(s.pending), s.rss_kib / 1024, s.fds);
      next += kSampleEvery;
      while (!stop.load() && Clock::now() < next) std::this_thread::sleep_for(milliseconds(100));
    }
  });

  std::mt19937_64 rng(20261123);
  std::uint64_t written = 0;
  int backups = 0;
  while (Clock::now() - t0 < run_for) {
    written += WriteBackup(**src, ++backups, rng);
    // Pace: sleep until written / elapsed is back at the target rate.
    const auto due = t0 + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(static_cast<double>(written) / rate));
    // (the last pause too: the rate is the writer's bytes over its time)
    while (Clock::now() < due) {
      std::this_thread::sleep_for(milliseconds(50));
    }
    if (!ferryd->Running()) break;
  }
  const double write_s = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  sampler.join();
  ASSERT_TRUE(ferryd->Running()) << "ferryd died during the soak: " << ferryd_log();

  // Drain and check.
  const auto t_drain = Clock::now();
  CmdResult w = Ctl({"wait", "--lag-below", "60s", "--timeout", "120s"});
  EXPECT_EQ(w.rc, 0) << w.out;
  std::uint64_t pending = 1;
  for (auto deadline = Clock::now() + seconds(90); Clock::now() < deadline;) {
    nlohmann::json j = nlohmann::json::parse(Ctl({"lag", "--json"}).out, nullptr, false);
    pending = 0;
    for (const auto& d : j.value("routes", nlohmann::json::array())) {
      pending += d.value("pending_objects", std::uint64_t{0});
    }
    if (pending == 0) break;
    std::this_thread::sleep_for(milliseconds(250));
  }
  EXPECT_EQ(pending, 0u) << "objects still pending after the writer stopped";
  const double drain_s = std::chrono::duration<double>(Clock::now() - t_drain).count();
  const auto t_verify = Clock::now();
  CmdResult v = Ctl({"verify", "main"});
  const double verify_s = std::chrono::duration<double>(Clock::now() - t_verify).count();
  EXPECT_EQ(v.rc, 0) << v.out;
  EXPECT_NE(v.out.find("MATCHES"), std::string::npos) << v.out;

  // Requests the destination served, for the effective capacity.
  double dst_requests = 0;
  {
    sim::AdminClient admin("127.0.0.1", dst_port);
    auto st = admin.Stats();
    if (st.ok() && (*st).contains("requests")) {
      for (const auto& [op, n] : (*st)["requests"].items()) {
        if (op != "ListObjectsV2") dst_requests += n.get<double>();
      }
    }
  }
  ferryd->Stop(seconds(20));
  EXPECT_TRUE(WIFEXITED(ferryd->wait_status()) && WEXITSTATUS(ferryd->wait_status()) == 0)
      << "ferryd did not exit 0 on SIGTERM: " << ferryd_log();

  // Figures.
  ASSERT_GE(samples.size(), 6u) << "too few samples to judge";
  const double third = write_s / 3;
  double max_lag = 0;
  for (const Sample& s : samples) max_lag = std::max(max_lag, s.lag_s);
  const double rss2 = Mean(samples, third, 2 * third, &Sample::rss_kib);
  const double rss3 = Mean(samples, 2 * third, write_s + 1, &Sample::rss_kib);
  const double fd2 = Mean(samples, third, 2 * third, &Sample::fds);
  const double fd3 = Mean(samples, 2 * third, write_s + 1, &Sample::fds);
  const double avg_backup = backups ? static_cast<double>(written) / backups : 0;
  const double req_per_backup = backups ? dst_requests / backups : 0;
  const double eff_capacity =
      avg_backup > 0 ? kConnections * avg_backup /
                           (req_per_backup * kLatencyMs / 1000.0 + avg_backup / kBandwidth)
                     : 0;

  std::ostringstream t;
  t << std::fixed << std::setprecision(1);
  t << "\nsoak samples (every " << kSampleEvery.count() << " s)\n"
    << "    t_s   lag_s  pending   rss_MiB   fds\n";
  for (const Sample& s : samples) {
    t << std::setw(7) << s.t << std::setw(8) << s.lag_s << std::setw(9) << s.pending
      << std::setw(10) << s.rss_kib / 1024 << std::setw(6) << s.fds << "\n";
  }
  auto pct = [](double a, double b) { return b > 0 ? 100.0 * (a - b) / b : 0.0; };
  t << "\nsoak summary\n"
    << "| figure | value |\n|---|---|\n"
    << "| writer duration | " << write_s << " s (" << minutes << " min asked) |\n"
    << "| link | dst s3sim " << kLatencyMs << " ms/response, " << kBandwidth / 1024
    << " KiB/s per connection, ferryd max_connections " << kConnections << " |\n"
    << "| link capacity C = conns x bandwidth | " << capacity / kMiB << " MiB/s |\n"
    << "| dst requests per backup (measured) | " << req_per_backup << " |\n"
    << "| effective capacity C_eff | " << eff_capacity / kMiB << " MiB/s |\n"
    << "| backups written | " << backups << " (" << static_cast<double>(written) / kMiB
    << " MiB, " << backups * 7 << " objects) |\n"
    << "| write rate | " << static_cast<double>(written) / write_s / kMiB << " MiB/s = "
    << 100.0 * static_cast<double>(written) / write_s / capacity << "% of C, "
    << (eff_capacity > 0 ? 100.0 * static_cast<double>(written) / write_s / eff_capacity : 0)
    << "% of C_eff |\n"
    << "| max observed lag (max_oldest_pending_age_s) | " << max_lag << " s (target "
    << target_lag_s << " s) |\n"
    << "| RSS mean, 2nd third -> last third | " << rss2 / 1024 << " -> " << rss3 / 1024
    << " MiB (" << pct(rss3, rss2) << "%) |\n"
    << "| open fds mean, 2nd third -> last third | " << fd2 << " -> " << fd3 << " ("
    << pct(fd3, fd2) << "%) |\n"
    << "| samples / lag errors | " << samples.size() << " / " << lag_errors.load() << " |\n"
    << "| drain (wait --lag-below 60s, then nothing pending) | " << drain_s << " s, rc "
    << w.rc << " |\n"
    << "| verify | " << verify_s << " s, rc " << v.rc << " |\n"
    << "| whole test | " << std::chrono::duration<double>(Clock::now() - t_setup).count()
    << " s |\n";
  // ferryd's own account (log level warn): warnings, e.g. held-back targeted passes.
  {
    std::istringstream log(ferryd_log());
    std::vector<std::string> lines;
    for (std::string line; std::getline(log, line);) lines.push_back(line);
    t << "| ferryd log lines (warn and above) | " << lines.size() << " |\n";
    if (!lines.empty()) t << "last ferryd log lines:\n";
    for (std::size_t i = lines.size() > 15 ? lines.size() - 15 : 0; i < lines.size(); ++i) {
      t << "  " << lines[i].substr(0, 300) << "\n";
    }
  }
  std::cout << t.str() << std::flush;

  EXPECT_EQ(lag_errors.load(), 0) << "ferryctl lag failed during the soak";
  EXPECT_LT(max_lag, target_lag_s);
  EXPECT_GT(rss2, 0);
  EXPECT_GT(fd2, 0);
  EXPECT_LE(std::abs(pct(rss3, rss2)), 10.0) << "RSS not flat";
  EXPECT_LE(std::abs(pct(fd3, fd2)), 10.0) << "open fds not flat";
  EXPECT_GT(backups, 3);
}

}  // namespace
}  // namespace ferry::soak
