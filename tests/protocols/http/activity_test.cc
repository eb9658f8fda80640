// Activity: what a client's exchanges are doing, as the daemon's stall
// detection and rates read it. Against the loopback test server: a request
// the server never answers is in flight with no progress until its progress
// timeout ends it; bytes of real exchanges are counted on both sides.
#include "protocols/http/activity.h"

#include <gtest/gtest.h>

#include <thread>

#include "protocols/http/client.h"
#include "tests/protocols/http/test_server.h"
#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

using boost::beast::http::verb;
using Ms = std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

TEST(ActivityTest, CountsBytesAndRatesOverTheLastFullSeconds) {
  Activity a;
  const auto t0 = Clock::time_point(std::chrono::seconds(1000));
  a.Began(t0);
  a.Moved(4000, true, true, t0);
  a.Moved(1000, false, true, t0 + Ms(500));
  a.Moved(6000, true, true, t0 + Ms(1200));
  a.Ended();
  Activity::Snapshot s = a.Read(t0 + Ms(1400));
  EXPECT_EQ(s.in_flight, 0);
  EXPECT_EQ(s.bytes_sent, 10000u);
  EXPECT_EQ(s.bytes_received, 1000u);
  EXPECT_EQ(s.since_progress, Ms(200));  // the last byte, not the end
  // Full seconds only: second 1000 is complete at 1001.4 s, 1001 is not.
  EXPECT_DOUBLE_EQ(s.sent_bps, 4000.0 / Activity::kWindowSeconds);
  EXPECT_DOUBLE_EQ(a.Read(t0 + Ms(2100)).sent_bps, 10000.0 / Activity::kWindowSeconds);
  // Past the window nothing is left: the rate falls to zero.
  EXPECT_DOUBLE_EQ(a.Read(t0 + std::chrono::seconds(12)).sent_bps, 0.0);
  EXPECT_DOUBLE_EQ(a.Read(t0 + std::chrono::seconds(12)).received_bps, 0.0);
}

TEST(ActivityTest, SentBytesShowProgressOnlyWhereTheServerAnsweredBefore) {
  Activity a;
  const auto t0 = Clock::time_point(std::chrono::seconds(50));
  EXPECT_FALSE(a.Read(t0).used);
  EXPECT_EQ(a.Read(t0).since_progress, Ms(0));
  a.Began(t0);  // the clock starts with the first exchange
  EXPECT_TRUE(a.Read(t0).used);
  EXPECT_EQ(a.Read(t0 + Ms(700)).since_progress, Ms(700));
  // A new connection to a frozen server: its kernel takes the bytes.
  a.Moved(1 << 20, true, /*progress=*/false, t0 + Ms(800));
  EXPECT_EQ(a.Read(t0 + Ms(900)).since_progress, Ms(900));
  EXPECT_EQ(a.Read(t0 + Ms(900)).bytes_sent, 1u << 20);  // in the totals
  EXPECT_DOUBLE_EQ(a.Read(t0 + Ms(2500)).sent_bps, 0.0);  // not in the rate until answered
  // Ending (a timeout) is no progress either; an answer is.
  a.Ended();
  a.Began(t0 + Ms(1000));  // a retry does not restart the clock
  EXPECT_EQ(a.Read(t0 + Ms(1500)).since_progress, Ms(1500));
  a.Moved(300, false, true, t0 + Ms(1600));
  EXPECT_EQ(a.Read(t0 + Ms(1700)).since_progress, Ms(100));
  // An answer credits what the exchange sent before it.
  a.Credit(1 << 20, t0 + Ms(1600));
  EXPECT_DOUBLE_EQ(a.Read(t0 + Ms(2500)).sent_bps,
                   static_cast<double>(1 << 20) / Activity::kWindowSeconds);
}

TEST(ActivityTest, UnansweredRequestIsInFlightWithoutProgressUntilItsTimeout) {
  TestServer server;
  ClientRig rig;
  auto client = rig.MakeClient(server.url());
  Activity activity;
  Request req = MakeRequest(verb::get, "/stall");
  req.progress_timeout = Ms(1500);
  req.activity = std::shared_ptr<Activity>(&activity, [](Activity*) {});
  std::atomic<bool> done{false};
  Result<Response> res = Status::Ok();
  std::thread t([&] {
    res = rig.Run(client->Send(req, {}));
    done = true;
  });
  // The request went out (bytes sent), then nothing: in flight, waiting.
  const auto until = Clock::now() + std::chrono::seconds(5);
  while (activity.Read().since_progress < Ms(800) && !done.load() && Clock::now() < until) {
    std::this_thread::sleep_for(Ms(20));
  }
  Activity::Snapshot waiting = activity.Read();
  EXPECT_EQ(waiting.in_flight, 1);
  EXPECT_GT(waiting.bytes_sent, 0u);
  EXPECT_EQ(waiting.bytes_received, 0u);
  EXPECT_GE(waiting.since_progress, Ms(800));
  t.join();
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_NE(res.status().ToString().find("no progress for 1500 ms"), std::string::npos)
      << res.status().ToString();
  EXPECT_EQ(activity.Read().in_flight, 0);
}

TEST(ActivityTest, BodiesAreCountedBothWays) {
  TestServer server;
  ClientRig rig;
  auto client = rig.MakeClient(server.url());
  Activity activity;
  const std::string payload(300000, 'x');
  io::MemorySource body(payload);
  Request put = MakeRequest(verb::put, "/echo", &body);
  put.activity = std::shared_ptr<Activity>(&activity, [](Activity*) {});
  auto res = rig.Run(client->Send(put, {}));
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  Activity::Snapshot s = activity.Read();
  EXPECT_GE(s.bytes_sent, payload.size());
  EXPECT_LT(s.bytes_sent, payload.size() + 4096);  // plus the header
  EXPECT_GE(s.bytes_received, payload.size());
  EXPECT_EQ(s.in_flight, 0);
}

}  // namespace
}  // namespace ferry::http::testing
