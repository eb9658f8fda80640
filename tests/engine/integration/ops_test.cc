// The operations surface end to end: the ferryd binary in daemon mode between
// two s3sim regions, with s3sim's event notifications posting to ferryd's
// webhook; ferryctl (the binary) over the real control socket; /metrics over
// HTTP checked with promtool; sd_notify over a real datagram socket; restart
// continuity of the lag figures.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr char kToken[] = "ops-test-token-0123456789";


struct CmdResult {
  int rc = -1;
  std::string out;
};

// Runs argv (no shell metacharacters in our paths), capturing stdout+stderr.
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

// Sends raw bytes on the control socket; returns the first answer line.
std::string RawLine(const std::string& path, const std::string& bytes) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "socket failed";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size())) {
    char buf[4096];
    while (out.find('\n') == std::string::npos) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return out;
}

class OpsTest : public IntegrationTest {
 protected:
  void Start() {
    port_ = FreePort();
    StartRegions({"--event-webhook", "http://127.0.0.1:" + std::to_string(port_) + "/events",
                  "--event-token", kToken},
                 {});
    std::ofstream(dir_->path() + "/token") << kToken << "\n";
    opts_.layout = "velero";
    opts_.http_listen = "127.0.0.1:" + std::to_string(port_);
    opts_.webhook_token_file = dir_->path() + "/token";
    opts_.reconcile_every = "1h";  // only events, resync and restarts move data
    opts_.log_level = "info";
    opts_.delete_policy = "mirror-now";
    config_ = WriteConfig(opts_);
    socket_ = dir_->path() + "/ferry.sock";
    notify_path_ = dir_->path() + "/notify.sock";
    notify_fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ASSERT_GE(notify_fd_, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", notify_path_.c_str());
    ASSERT_EQ(bind(notify_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    // Read notifications as systemd would: a full socket would block ferryd.
    notify_reader_ = std::thread([this] {
      char buf[4096];
      while (!notify_stop_.load()) {
        ssize_t n = recv(notify_fd_, buf, sizeof buf, 0);
        if (n > 0) {
          std::lock_guard lock(notify_mu_);
          notes_.emplace_back(buf, static_cast<std::size_t>(n));
        } else {
          std::this_thread::sleep_for(milliseconds(10));
        }
      }
    });
  }
  void TearDown() override {
    ferryd_.reset();
    notify_stop_ = true;
    if (notify_reader_.joinable()) notify_reader_.join();
    if (notify_fd_ >= 0) close(notify_fd_);
    IntegrationTest::TearDown();
  }

  // Starts ferryd and returns once its control socket answers.
  void SpawnDaemon() {
    testing::SpawnOptions so;
    so.argv = {FERRY_FERRYD_PATH, "--config", config_, "--threads", "2"};
    so.env = {{"NOTIFY_SOCKET", notify_path_}, {"WATCHDOG_USEC", "400000"}};
    auto p = testing::Process::Spawn(std::move(so));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    ferryd_ = std::move(*p);
    ferryd_->DrainStdout();
    auto deadline = Clock::now() + seconds(30);
    while (Ctl({"status", "--json"}).rc != 0) {
      ASSERT_LT(Clock::now(), deadline) << "ferryd's control socket never answered";
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  bool Notified(const std::string& what) {
    for (const auto& n : Notifications()) {
      if (n.find(what) != std::string::npos) return true;
    }
    return false;
  }

  void StartDaemon() {
    ASSERT_NO_FATAL_FAILURE(SpawnDaemon());
    // Ready once both listings answered (or the route is paused) and, when
    // not paused, a first full pass ran.
    auto deadline = Clock::now() + seconds(30);
    for (;;) {
      CmdResult r = Ctl({"status", "--json"});
      nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
      if (r.rc == 0 && j.value("ready", false) &&
          (j["routes"][0]["paused"].get<bool>() ||
           j["routes"][0]["destinations"][0]["reconciled"].get<bool>())) {
        break;
      }
      ASSERT_LT(Clock::now(), deadline) << "ferryd never became reconciled: " << r.out;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }

  void StopDaemon() {
    ASSERT_TRUE(ferryd_);
    auto t0 = Clock::now();
    ferryd_->Stop(seconds(20));
    EXPECT_TRUE(WIFEXITED(ferryd_->wait_status()) && WEXITSTATUS(ferryd_->wait_status()) == 0)
        << "ferryd did not drain and exit 0 on SIGTERM";
    EXPECT_LT(Clock::now() - t0, seconds(15));
    ferryd_.reset();
  }

  CmdResult Ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {FERRY_FERRYCTL_PATH, "--socket", socket_});
    return RunCmd(args);
  }

  nlohmann::json Status() {
    CmdResult r = Ctl({"status", "--json"});
    EXPECT_EQ(r.rc, 0) << r.out;
    return nlohmann::json::parse(r.out, nullptr, false);
  }
  nlohmann::json Dest() { return Status()["routes"][0]["destinations"][0]; }

  std::string Metrics() {
    auto [code, body] = HttpGet(port_, "/metrics");
    EXPECT_EQ(code, 200) << body;
    return body;
  }
  std::string Series(const std::string& name) {
    return name + "{route=\"main\",destination=\"" + Dest()["destination"].get<std::string>() +
           "\"}";
  }

  // Waits until the destination has `key` with the source's size; returns
  // how long that took from `since`.
  std::optional<milliseconds> WaitReplicated(const std::string& key, std::uint64_t size,
                                             Clock::time_point since, milliseconds limit) {
    while (Clock::now() - since < limit) {
      auto h = testing::RunTask(ioc_, dst_backend_->Head(key, storage::HeadOptions()), seconds(5));
      if (h.ok() && h->size == size) {
        return std::chrono::duration_cast<milliseconds>(Clock::now() - since);
      }
      std::this_thread::sleep_for(milliseconds(10));
    }
    return std::nullopt;
  }

  std::vector<std::string> Notifications() {
    std::lock_guard lock(notify_mu_);
    return notes_;
  }

  ConfigOptions opts_;
  std::string config_, socket_, notify_path_;
  int notify_fd_ = -1;
  std::thread notify_reader_;
  std::atomic<bool> notify_stop_{false};
  std::mutex notify_mu_;
  std::vector<std::string> notes_;
  std::uint16_t port_ = 0;
  std::unique_ptr<testing::Process> ferryd_;
};

TEST_F(OpsTest, EventsLagControlMetricsAndRestart) {
  Start();
  PutSource("backups/b0/b0.tar.gz", RandomBytes(300 * kKiB, 1));
  StartDaemon();

  // sd_notify: READY and a STATUS line with the lag; the watchdog pings.
  // (Polled: READY comes once every route was listed, WATCHDOG=1 every 200 ms.)
  std::string notes;
  for (auto until = Clock::now() + seconds(10); Clock::now() < until;) {
    notes.clear();
    for (const auto& n : Notifications()) notes += n + "\n";
    if (notes.find("READY=1") != std::string::npos &&
        notes.find("lag ok") != std::string::npos &&
        notes.find("WATCHDOG=1") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_NE(notes.find("READY=1"), std::string::npos) << notes;
  EXPECT_NE(notes.find("STATUS="), std::string::npos) << notes;
  EXPECT_NE(notes.find("lag ok"), std::string::npos) << notes;
  EXPECT_NE(notes.find("WATCHDOG=1"), std::string::npos) << notes;

  // Every endpoint's capabilities and where each came from: the harness sets
  // the probed ones in the config; list_common_prefixes etc. are not shown.
  nlohmann::json endpoints = Status()["endpoints"];
  ASSERT_EQ(endpoints.size(), 2u) << endpoints.dump();
  for (const auto& e : endpoints) {
    EXPECT_EQ(e["capabilities"]["head_part_number"]["source"], "config") << e.dump();
    EXPECT_EQ(e["capabilities"]["head_part_number"]["value"], true) << e.dump();
    EXPECT_EQ(e["capabilities"]["etag_is_md5"]["source"], "config") << e.dump();
    EXPECT_EQ(e["capabilities"]["checksum_crc32c"]["value"], false) << e.dump();
    EXPECT_EQ(e["capabilities"]["uploads_encoded_undeclared"]["value"], false) << e.dump();
  }
  CmdResult table = Ctl({"status"});
  EXPECT_NE(table.out.find("CAPABILITIES"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("head_part_number=true (config)"), std::string::npos) << table.out;

  // Events: each new object is replicated within a second of its PUT.
  const std::string marker =
      R"({"kind":"Backup","status":{"phase":"Completed","completionTimestamp":"2026-01-02T03:04:05Z"}})";
  std::vector<std::pair<std::string, std::string>> objects = {
      {"backups/b1/b1.tar.gz", RandomBytes(3 * kMiB + 5, 2)},
      {"backups/b1/b1-logs.gz", RandomBytes(10 * kKiB, 3)},
      {"backups/b1/velero-backup.json", marker},
  };
  for (const auto& [key, data] : objects) {
    auto t0 = Clock::now();
    PutSource(key, data);
    auto took = WaitReplicated(key, data.size(), t0, seconds(5));
    ASSERT_TRUE(took) << key << " not replicated within 5 s of its event";
    EXPECT_LT(took->count(), 1000) << key << " took " << took->count() << " ms";
    std::cerr << "  event → replicated " << key << " in " << took->count() << " ms\n";
  }
  // Figures match what happened: 3 objects through events, nothing pending.
  nlohmann::json d = Dest();
  EXPECT_EQ(d["pending_objects"], 0);
  EXPECT_EQ(d["transferred_objects"], 4);  // b0 with the first pass, 3 through events
  EXPECT_EQ(d["lag_state"], "ok");
  ASSERT_TRUE(d["replica_rpo_s"].is_number()) << d.dump();
  // completionTimestamp 2026-01-02T03:04:05Z → RPO is now minus that.
  const double expect_rpo = static_cast<double>(
      std::chrono::duration_cast<seconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() -
      1767323045);
  EXPECT_NEAR(d["replica_rpo_s"].get<double>(), expect_rpo, 30);
  EXPECT_EQ(d["rpo_backup"], "b1");

  // Pause: a new object stays pending with a growing age, in ferryctl and
  // in /metrics; verify names it; resume copies it; wait succeeds.
  ASSERT_EQ(Ctl({"pause", "main"}).rc, 0);
  const std::string held = "backups/b2/b2.tar.gz";
  const std::string held_data = RandomBytes(700 * kKiB, 4);
  PutSource(held, held_data);
  for (auto until = Clock::now() + seconds(10); Clock::now() < until;) {
    d = Dest();
    if (d["pending_objects"] == 1 && d["oldest_pending_age_s"].is_number() &&
        d["oldest_pending_age_s"].get<double>() >= 1.2) {
      break;
    }
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(d["pending_objects"], 1) << d.dump();
  EXPECT_EQ(d["pending_bytes"], held_data.size());
  EXPECT_GE(d["oldest_pending_age_s"].get<double>(), 1.2);
  EXPECT_EQ(Status()["routes"][0]["paused"], true);
  std::string m = Metrics();
  EXPECT_EQ(Metric(m, Series("ferry_pending_objects")), 1.0) << m;
  EXPECT_EQ(Metric(m, Series("ferry_pending_bytes")), static_cast<double>(held_data.size()));
  EXPECT_GE(Metric(m, Series("ferry_oldest_pending_age_seconds")).value_or(0), 1.2);
  EXPECT_EQ(Metric(m, "ferry_route_paused{route=\"main\"}"), 1.0);
  EXPECT_EQ(Metric(m, Series("ferry_transferred_objects_total")), 4.0);
  EXPECT_EQ(Metric(m, Series("ferry_replication_latency_seconds_count")), 4.0);
  // b0's event may arrive late (s3sim retries while ferryd starts).
  EXPECT_GE(Metric(m, "ferry_events_received_total{result=\"accepted\"}").value_or(0), 4.0);
  {
    std::string path = dir_->path() + "/metrics.txt";
    std::ofstream(path) << m;
    CmdResult pt = RunCmd({"/bin/sh", "-c", "promtool check metrics < " + path});
    EXPECT_EQ(pt.rc, 0) << pt.out;
  }
  CmdResult v = Ctl({"verify", "main"});
  EXPECT_EQ(v.rc, 1) << v.out;
  EXPECT_NE(v.out.find("missing\t" + held), std::string::npos) << v.out;
  CmdResult w = Ctl({"wait", "--lag-below", "1s", "--timeout", "1s"});
  EXPECT_EQ(w.rc, 1) << "wait must time out while the route is paused: " << w.out;

  // Restart while paused: the pending object keeps its age (durable first
  // sighting), the counters and the histogram continue.
  StopDaemon();
  StartDaemon();
  d = Dest();
  EXPECT_EQ(Status()["routes"][0]["paused"], true) << "pause must survive a restart";
  EXPECT_EQ(d["pending_objects"], 1) << d.dump();
  EXPECT_GE(d["oldest_pending_age_s"].get<double>(), 1.4) << "lag clock reset by the restart";
  EXPECT_EQ(d["transferred_objects"], 4);
  EXPECT_EQ(d["rpo_backup"], "b1");
  m = Metrics();
  EXPECT_EQ(Metric(m, Series("ferry_replication_latency_seconds_count")), 4.0) << m;

  auto t0 = Clock::now();
  ASSERT_EQ(Ctl({"resume", "main"}).rc, 0);
  ASSERT_TRUE(WaitReplicated(held, held_data.size(), t0, seconds(10)));
  w = Ctl({"wait", "--lag-below", "5s", "--timeout", "20s"});
  EXPECT_EQ(w.rc, 0) << w.out;
  v = Ctl({"verify", "main"});
  EXPECT_EQ(v.rc, 0) << v.out;
  EXPECT_NE(v.out.find("MATCHES"), std::string::npos) << v.out;
  d = Dest();
  EXPECT_EQ(d["transferred_objects"], 5);
  EXPECT_EQ(d["pending_objects"], 0);

  // Resync: an object lost at the replica comes back only through a full
  // pass (reconcile_every is 1h), which ferryctl resync starts now.
  ASSERT_TRUE(
      testing::RunTask(ioc_, dst_backend_->Delete("backups/b1/b1-logs.gz"), seconds(5)).ok());
  EXPECT_EQ(Ctl({"verify", "main"}).rc, 1);
  t0 = Clock::now();
  ASSERT_EQ(Ctl({"resync", "main"}).rc, 0);
  EXPECT_TRUE(WaitReplicated("backups/b1/b1-logs.gz", 10 * kKiB, t0, seconds(10)));

  // Control socket hygiene: garbage gets an error; the daemon carries on.
  std::string bad = RawLine(socket_, "not json\n");
  EXPECT_NE(bad.find("\"ok\":false"), std::string::npos) << bad;
  bad = RawLine(socket_, "{\"v\":99,\"cmd\":\"status\"}\n");
  EXPECT_NE(bad.find("version"), std::string::npos) << bad;
  EXPECT_EQ(Ctl({"verify", "nope"}).rc, 1);
  EXPECT_EQ(Ctl({"status"}).rc, 0);
  EXPECT_EQ(RunCmd({FERRY_FERRYCTL_PATH, "--socket", dir_->path() + "/absent.sock", "status"}).rc,
            3);
  EXPECT_EQ(Ctl({"wait", "--lag-below", "soon"}).rc, 2);

  // Probes.
  EXPECT_EQ(HttpGet(port_, "/healthz").first, 200);
  EXPECT_EQ(HttpGet(port_, "/readyz").first, 200);
  StopDaemon();
}

TEST_F(OpsTest, ReadyIsSentOnlyOnceEveryRouteHasBeenListed) {
  Start();
  PutSource("backups/b0/b0.tar.gz", RandomBytes(100 * kKiB, 1));
  // The source cannot be listed: ferryd serves, but is not ready.
  ASSERT_TRUE(src_.admin().AddFault("op=list,kind=error500,next=1000000").ok());
  ASSERT_NO_FATAL_FAILURE(SpawnDaemon());
  auto until = Clock::now() + seconds(2);
  while (Clock::now() < until) {
    ASSERT_FALSE(Notified("READY=1")) << "READY=1 before any listing";
    ASSERT_NE(HttpGet(port_, "/readyz").first, 200);
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_TRUE(Notified("WATCHDOG=1")) << "the watchdog is fed while starting";

  // The source lists again: READY=1 comes with /readyz turning 200.
  ASSERT_TRUE(src_.admin().ClearFaults().ok());
  ASSERT_EQ(Ctl({"resync", "main"}).rc, 0);
  auto deadline = Clock::now() + seconds(20);
  while (!Notified("READY=1")) {
    ASSERT_LT(Clock::now(), deadline) << "READY=1 never came after the listing worked";
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(HttpGet(port_, "/readyz").first, 200);
  StopDaemon();
}

TEST_F(OpsTest, MassDeleteGuardApprovedThroughTheSocket) {
  Start();
  for (int i = 0; i < 10; ++i) {
    PutSource("plain/o" + std::to_string(i),
              RandomBytes(1000 + static_cast<std::uint64_t>(i), 10 + i));
  }
  StartDaemon();
  ASSERT_EQ(Ctl({"verify", "main"}).rc, 0);
  // Nothing held: the approval says so, exits 1 and arms nothing.
  CmdResult early = Ctl({"approve-deletes", "main"});
  EXPECT_EQ(early.rc, 1);
  EXPECT_NE(early.out.find("holds nothing"), std::string::npos) << early.out;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(DeleteSource("plain/o" + std::to_string(i)).ok());
  ASSERT_EQ(Ctl({"resync", "main"}).rc, 0);
  auto deadline = Clock::now() + seconds(10);
  while (!Dest()["deletes_paused"].get<bool>()) {
    ASSERT_LT(Clock::now(), deadline) << "the guard never held the deletes";
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(Metric(Metrics(), Series("ferry_deletes_paused")), 1.0);
  EXPECT_EQ(ListAll(*dst_backend_).size(), 10u) << "nothing may be deleted before approval";
  CmdResult v = Ctl({"verify", "main"});
  EXPECT_EQ(v.rc, 1) << "mirror-now: extra objects are a difference";
  CmdResult approved = Ctl({"approve-deletes", "main"});
  ASSERT_EQ(approved.rc, 0) << approved.out;
  EXPECT_NE(approved.out.find("batch of 5 deletes is approved"), std::string::npos) << approved.out;
  deadline = Clock::now() + seconds(10);
  while (ListAll(*dst_backend_).size() != 5u) {
    ASSERT_LT(Clock::now(), deadline) << "approved deletes did not happen";
    std::this_thread::sleep_for(milliseconds(50));
  }
  EXPECT_EQ(Ctl({"verify", "main"}).rc, 0);
  EXPECT_EQ(Dest()["deleted_objects"], 5);
  StopDaemon();
}

TEST_F(OpsTest, ReloadKeepsRunningOnABadConfigAndAppliesAGoodOne) {
  Start();
  StartDaemon();
  // A broken file: rejected, the daemon keeps serving the old routes.
  std::ofstream(config_) << "routes: [\n";
  kill(ferryd_->pid(), SIGHUP);
  std::this_thread::sleep_for(milliseconds(300));
  EXPECT_TRUE(ferryd_->Running());
  EXPECT_EQ(Ctl({"status"}).rc, 0);
  // A good file with a new target lag: applied.
  opts_.target_lag = "7m";
  WriteConfig(opts_);
  kill(ferryd_->pid(), SIGHUP);
  auto deadline = Clock::now() + seconds(10);
  while (Status()["routes"][0]["target_lag_s"] != 420.0) {
    ASSERT_LT(Clock::now(), deadline) << Status().dump();
    std::this_thread::sleep_for(milliseconds(50));
  }
  // A failed backup has no tarball; its marker is whole by itself.
  const std::string failed = R"({"kind":"Backup","status":{"phase":"Failed"}})";
  PutSource("backups/b9/velero-backup.json", failed);
  EXPECT_TRUE(
      WaitReplicated("backups/b9/velero-backup.json", failed.size(), Clock::now(), seconds(5)))
      << "events must keep working after a reload";
  StopDaemon();
}

}  // namespace
}  // namespace ferry::integration
