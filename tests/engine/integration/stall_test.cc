// A destination that stops answering, as an operator sees it: ferryd in
// daemon mode copies from an s3sim source to a real Ceph RGW, whose radosgw
// process is frozen (SIGSTOP) mid-copy and later resumed (SIGCONT). Within a
// few seconds of transfer.stall_after the stall shows in the status (STATE,
// what it waits for, RATE falling to zero, LAST ERROR), in /metrics, in
// /readyz and in the systemd status line, and it clears once bytes move
// again; the replica ends complete and verified.
#include <signal.h>

#include <sstream>
#include <thread>

#include "engine/ctl/ferryctl.h"
#include "protocols/s3/client.h"
#include "storage/s3/s3_backend.h"
#include "tests/engine/integration/harness.h"
#include "tests/support/rgw.h"

namespace ferry::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

constexpr int kStallAfterS = 3;  // progress_timeout, and so stall_after
constexpr int kObjects = 24;
constexpr std::uint64_t kObjectSize = 16 * kMiB;

// Keeps a process stopped for as long as it lives; resumes it on any exit.
class Frozen {
 public:
  explicit Frozen(pid_t pid) : pid_(pid) { ok_ = kill(pid_, SIGSTOP) == 0; }
  ~Frozen() { Thaw(); }
  bool ok() const { return ok_; }
  void Thaw() {
    if (ok_) kill(pid_, SIGCONT);
    ok_ = false;
  }

 private:
  pid_t pid_;
  bool ok_ = false;
};

class StallTest : public IntegrationTest {
 protected:
  void TearDown() override {
    daemon_.Stop();
    IntegrationTest::TearDown();
  }
  engine::Registry& registry() { return daemon_.daemon().registry(); }
  nlohmann::json Destination() {
    return registry().StatusJson(engine::NowMs())["routes"][0]["destinations"][0];
  }
  // Polls `pred` every 50 ms until it holds or `limit` passes; how long it took.
  template <typename Pred>
  std::optional<milliseconds> Within(milliseconds limit, Pred pred) {
    const auto start = Clock::now();
    while (Clock::now() - start < limit) {
      if (pred()) return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
      std::this_thread::sleep_for(milliseconds(50));
    }
    return std::nullopt;
  }
  std::string MetricSeries(const std::string& name) {
    return name + "{route=\"main\",destination=\"" + Destination()["destination"].get<std::string>() +
           "\"}";
  }

  DaemonThread daemon_;
};

TEST_F(StallTest, FrozenRgwDestinationIsReportedStalledAndRecovers) {
  ASSERT_TRUE(testing::RgwAvailable()) << "Ceph RGW is required: run scripts/bootstrap";
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  testing::RgwOptions ro;
  ro.api_name = "eu-central-1";
  auto rgw = testing::RgwCluster::Start(ro);
  ASSERT_TRUE(rgw.ok()) << rgw.status().ToString();
  const testing::RgwCluster& dst = **rgw;
  {
    s3::ClientOptions co;
    co.endpoint = http::Url::Parse(dst.endpoint()).value();
    co.region = dst.region();
    co.bucket = "stall-dst";
    co.credentials = s3::StaticCredentials({dst.access_key(), dst.secret_key(), ""});
    auto client = s3::Client::Create(ioc_.get_executor(), co);
    ASSERT_TRUE(client.ok()) << client.status().ToString();
    Status made = testing::RunTask(ioc_, (*client)->CreateBucket(), seconds(30));
    ASSERT_TRUE(made.ok()) << made.ToString();
  }
  storage::Capabilities caps = storage::AwsS3Capabilities();
  caps.head_part_number = false;
  caps.min_part_size = kMiB;
  UseExternalEndpoints({src_.url(), "us-east-1", src_.bucket(), kAccessKey, kSecretKey},
                       {dst.endpoint(), dst.region(), "stall-dst", dst.access_key(),
                        dst.secret_key()},
                       caps);
  for (int i = 0; i < kObjects; ++i) {
    SyntheticSource("data/obj-" + std::to_string(i), kObjectSize, 100 + i, 8 * kMiB);
  }

  const std::uint16_t port = FreePort();
  ConfigOptions o;
  o.probe = true;
  o.layout = "plain";
  o.reconcile_every = "1h";
  o.http_listen = "127.0.0.1:" + std::to_string(port);
  o.progress_timeout = std::to_string(kStallAfterS) + "s";
  o.part_size = "8MiB";
  o.multipart_threshold = "8MiB";
  o.parts_in_flight = 4;
  o.max_objects_in_flight = 2;
  o.max_attempts = 50;  // the freeze outlasts several timeouts
  o.log_level = "info";
  Status started = daemon_.Start(WriteConfig(o));
  ASSERT_TRUE(started.ok()) << started.ToString();

  // Mid-copy: some objects at the replica, others on their way.
  auto mid = Within(seconds(60), [&] {
    nlohmann::json d = Destination();
    return d["transferred_objects"].get<std::uint64_t>() >= 2 &&
           d["copies_in_flight"].get<std::uint64_t>() > 0;
  });
  ASSERT_TRUE(mid) << "the copy never got under way: " << Destination().dump();
  ASSERT_LT(Destination()["transferred_objects"].get<std::uint64_t>(),
            static_cast<std::uint64_t>(kObjects))
      << "the copy finished before the freeze";
  EXPECT_EQ(HttpGet(port, "/readyz").first, 200);
  EXPECT_FALSE(Destination()["stalled"].get<bool>());

  Frozen frozen(dst.radosgw_pid());
  ASSERT_TRUE(frozen.ok()) << "cannot SIGSTOP radosgw";
  const auto froze = Clock::now();

  // Stalled within a few seconds of stall_after, in the status JSON that
  // `ferryctl status` prints.
  auto stalled = Within(seconds(kStallAfterS + 5), [&] { return Destination()["stalled"] == true; });
  ASSERT_TRUE(stalled) << Destination().dump(2);
  EXPECT_GE(*stalled, milliseconds(kStallAfterS * 1000 - 500)) << "stalled before stall_after";
  nlohmann::json d = Destination();
  EXPECT_NE(d["stall_reason"].get<std::string>().find("waiting for endpoint dst (destination)"),
            std::string::npos)
      << d["stall_reason"];
  EXPECT_GT(d["copies_in_flight"].get<std::uint64_t>(), 0u);
  // ferryctl status over the control socket: the table and its STALLED line.
  ctl::Options ctl;
  ctl.socket = dir_->path() + "/ferry.sock";
  ctl.command = "status";
  std::ostringstream table, ctl_err;
  EXPECT_EQ(ctl::Run(ctl, table, ctl_err), ctl::kExitOk) << ctl_err.str();
  EXPECT_NE(table.str().find(",STALLED"), std::string::npos) << table.str();
  EXPECT_NE(table.str().find("STALLED main -> "), std::string::npos) << table.str();
  // /metrics, /readyz, the systemd status line.
  std::string metrics = HttpGet(port, "/metrics").second;
  EXPECT_EQ(Metric(metrics, MetricSeries("ferry_destination_stalled")), 1.0) << metrics;
  EXPECT_GE(Metric(metrics, MetricSeries("ferry_destination_no_progress_seconds")).value_or(0),
            kStallAfterS - 0.5);
  EXPECT_EQ(Metric(metrics, "ferry_ready"), 0.0);
  auto [code, why] = HttpGet(port, "/readyz");
  EXPECT_EQ(code, 503);
  EXPECT_NE(why.find("stalled"), std::string::npos) << why;
  EXPECT_NE(registry().StatusLine(engine::NowMs()).find("1 STALLED"), std::string::npos)
      << registry().StatusLine(engine::NowMs());

  // A request waiting for an answer that never comes ends after
  // progress_timeout, is retried, and reaches LAST ERROR and the counters.
  auto last_error = Within(seconds(kStallAfterS + 5), [&] {
    return Destination()["last_error"].get<std::string>().find("no progress for") !=
           std::string::npos;
  });
  EXPECT_TRUE(last_error) << Destination()["last_error"];
  EXPECT_EQ(Destination()["last_error"].get<std::string>().rfind("retried: ", 0), 0u)
      << Destination()["last_error"];
  metrics = HttpGet(port, "/metrics").second;
  EXPECT_GE(Metric(metrics, "ferry_retried_errors_total{endpoint=\"dst\",reason=\"retryable\"}")
                .value_or(0),
            1.0)
      << metrics;

  // RATE is the last 10 s on the wire: zero once the freeze is older.
  std::this_thread::sleep_until(froze + seconds(12));
  d = Destination();
  EXPECT_EQ(d["rate_bps"].get<double>(), 0.0) << d.dump(2);
  EXPECT_TRUE(d["stalled"].get<bool>());

  // Thawed: the stall clears once bytes move, readiness returns, and the
  // replica completes.
  frozen.Thaw();
  auto cleared = Within(seconds(kStallAfterS + 10), [&] { return Destination()["stalled"] == false; });
  EXPECT_TRUE(cleared) << Destination().dump(2);
  auto ready = Within(seconds(10), [&] { return HttpGet(port, "/readyz").first == 200; });
  EXPECT_TRUE(ready) << HttpGet(port, "/readyz").second;
  auto done = Within(seconds(120), [&] {
    nlohmann::json now = Destination();
    return now["transferred_objects"].get<std::uint64_t>() >= static_cast<std::uint64_t>(kObjects) &&
           now["pending_objects"].get<std::uint64_t>() == 0;
  });
  ASSERT_TRUE(done) << Destination().dump(2);
  EXPECT_GT(Destination()["rate_bps"].get<double>(), 0.0) << "bytes moved in the last 10 s";
  daemon_.Stop();
  EXPECT_EQ(ExpectReplicaIdentical(), static_cast<std::size_t>(kObjects));
  std::cerr << "  stalled " << stalled->count() << " ms after the freeze (stall_after "
            << kStallAfterS << " s), cleared " << (cleared ? cleared->count() : -1)
            << " ms after the thaw\n";
}

}  // namespace
}  // namespace ferry::integration
