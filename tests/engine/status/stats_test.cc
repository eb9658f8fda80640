#include "engine/status/stats.h"

#include <gtest/gtest.h>

#include <thread>

#include "engine/daemon/manifest_state.h"
#include "engine/status/registry.h"
#include "storage/manifest/manifest.h"
#include "tests/support/process.h"

namespace ferry::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

class StatsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    state_.reset();
    manifest_.reset();
    auto m = OpenManifest(dir_.path());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manifest_ = std::move(*m);
    state_ = MakeManifestState(*manifest_, {"r", "r/d"}, "");
  }
  testing::TempDir dir_{"stats-test"};
  std::unique_ptr<manifest::Manifest> manifest_;
  std::unique_ptr<RouteState> state_;
};

ObjectState Replicated(std::int64_t since, std::int64_t at, std::uint64_t size) {
  ObjectState s;
  s.phase = ObjectPhase::kReplicated;
  s.first_seen_ms = since;
  s.source_mtime_ms = since;
  s.replicated_at_ms = at;
  s.size = size;
  return s;
}

TEST_F(StatsTest, OldestPendingIsTheEarliestSourceTimeAndLeavesWithTheObject) {
  DestinationStats s("r", "r/d", state_.get(), minutes(15));
  s.Pending("a", 10'000, 5);
  s.Pending("b", 4'000, 7);
  s.Pending("c", 8'000, 11);
  DestinationFigures f = s.Figures(20'000);
  EXPECT_EQ(f.pending_objects, 3u);
  EXPECT_EQ(f.pending_bytes, 23u);
  EXPECT_EQ(f.OldestPendingAgeMs(20'000), 16'000);
  s.Replicated("b", Replicated(4'000, 19'000, 7), true, 19'000);
  f = s.Figures(20'000);
  EXPECT_EQ(f.pending_objects, 2u);
  EXPECT_EQ(f.pending_bytes, 16u);
  EXPECT_EQ(f.OldestPendingAgeMs(20'000), 12'000) << "now c (8 s) is the oldest";
  // Seen again with a later time: the earlier sighting stays.
  s.Pending("c", 15'000, 11);
  EXPECT_EQ(s.Figures(20'000).OldestPendingAgeMs(20'000), 12'000);
  s.InSync("a");
  s.Dropped("c");
  f = s.Figures(20'000);
  EXPECT_EQ(f.pending_objects, 0u);
  EXPECT_EQ(f.pending_bytes, 0u);
  EXPECT_EQ(f.OldestPendingAgeMs(20'000), 0);
}

TEST_F(StatsTest, LatencyHistogramAndMissedTarget) {
  DestinationStats s("r", "r/d", state_.get(), minutes(15));
  s.Replicated("fast", Replicated(1'000, 1'500, 1), true, 1'500);        // 0.5 s
  s.Replicated("mid", Replicated(1'000, 61'000, 1), true, 61'000);       // 60 s
  s.Replicated("late", Replicated(1'000, 1'000'000, 1), false, 1'000'000);  // 999 s > 900
  DestinationFigures f = s.Figures(2'000'000);
  EXPECT_EQ(f.latency_count, 3u);
  EXPECT_EQ(f.latency_buckets[0], 1u);  // le 1
  EXPECT_EQ(f.latency_buckets[4], 1u);  // le 60
  EXPECT_EQ(f.latency_buckets[9], 1u);  // le 1200
  EXPECT_EQ(f.missed_target, 1u);
  EXPECT_EQ(f.transferred_objects, 3u);
  EXPECT_EQ(f.transferred_bytes, 2u) << "the third moved no bytes (skipped)";
  EXPECT_NEAR(f.latency_sum_s, 0.5 + 60 + 999, 1e-9);
  EXPECT_EQ(f.LatencyQuantile(0.5), 60);
}

TEST_F(StatsTest, FiguresAndPendingSurviveAReopen) {
  {
    DestinationStats s("r", "r/d", state_.get(), minutes(15));
    s.Replicated("x", Replicated(1'000, 3'000, 9), true, 3'000);
    s.Failed("y", "throttled", "503 SlowDown", 4'000);
    s.Rpo(123'000, "b1");
    PassReport full;
    full.source_listing_complete = full.destination_listing_complete = true;
    s.FullPassStarted();
    s.FullPassEnded(full, 5'000);
    ASSERT_TRUE(s.Save().ok());
    ObjectState pending;
    pending.phase = ObjectPhase::kPending;
    pending.first_seen_ms = 2'000;
    pending.size = 42;
    ASSERT_TRUE(state_->Put("waiting", pending).ok());
  }
  Open();
  DestinationStats s("r", "r/d", state_.get(), minutes(15));
  ASSERT_TRUE(s.Load().ok());
  DestinationFigures f = s.Figures(10'000);
  EXPECT_EQ(f.latency_count, 1u);
  EXPECT_EQ(f.transferred_bytes, 9u);
  EXPECT_EQ(f.failed["throttled"], 1u);
  EXPECT_EQ(f.rpo_completion_ms, 123'000);
  EXPECT_EQ(f.rpo_backup, "b1");
  EXPECT_EQ(f.last_reconcile_ms, 5'000);
  EXPECT_EQ(f.passes_ok, 1u);
  EXPECT_EQ(f.pending_objects, 1u) << "pending rebuilt from the manifest";
  EXPECT_EQ(f.pending_bytes, 42u);
  EXPECT_EQ(f.OldestPendingAgeMs(10'000), 8'000) << "first-seen is durable";
}

TEST_F(StatsTest, CompleteFullPassForgetsPendingItDidNotSeeAgain) {
  DestinationStats s("r", "r/d", state_.get(), minutes(15));
  s.Pending("gone", 1'000, 1);
  s.FullPassStarted();
  s.Pending("still", 2'000, 1);
  PassReport incomplete;
  s.FullPassEnded(incomplete, 3'000);
  EXPECT_EQ(s.Figures(3'000).pending_objects, 2u) << "an incomplete listing proves nothing";
  s.FullPassStarted();
  s.Pending("still", 2'000, 1);
  PassReport full;
  full.source_listing_complete = full.destination_listing_complete = true;
  s.FullPassEnded(full, 4'000);
  EXPECT_EQ(s.Figures(4'000).pending_objects, 1u);
  EXPECT_TRUE(s.reconciled());
}

TEST_F(StatsTest, StalledWhileCopiesAreInFlightAndNoByteMoves) {
  DestinationStats s("r", "r/d", state_.get(), minutes(15));
  Pacer src("src"), dst("dr");
  s.SetEndpoints(&src, &dst, milliseconds(150));
  const std::int64_t t0 = NowMs();
  // Nothing in flight: never stalled, however quiet.
  dst.activity()->Began();
  std::this_thread::sleep_for(milliseconds(200));
  DestinationFigures f = s.Figures(NowMs());
  EXPECT_FALSE(f.stalled);
  EXPECT_EQ(f.no_progress_ms, 0);
  // A copy starts; the destination's request gets no answer.
  s.CopyStarted(t0);
  f = s.Figures(NowMs());
  EXPECT_TRUE(f.stalled);
  EXPECT_EQ(f.copies_in_flight, 1u);
  EXPECT_GE(f.no_progress_ms, 150);
  EXPECT_NE(f.stall_reason.find("waiting for endpoint dr (destination): 1 request(s) in flight"),
            std::string::npos)
      << f.stall_reason;
  EXPECT_DOUBLE_EQ(f.rate_bps, 0.0);
  // A retried timeout reaches LAST ERROR and the reason at once.
  dst.NoteRetriedError(Status::Error(ErrorClass::kRetryable, "dr: no progress for 150 ms"));
  f = s.Figures(NowMs());
  EXPECT_EQ(f.last_error, "retried: retryable: dr: no progress for 150 ms") << f.last_error;
  EXPECT_NE(f.stall_reason.find("last retried error: retryable: dr: no progress"),
            std::string::npos)
      << f.stall_reason;
  EXPECT_EQ(dst.retried_errors().by_reason.at("retryable"), 1u);
  // Bytes move again: no longer stalled.
  dst.activity()->Moved(65536, true);
  f = s.Figures(NowMs());
  EXPECT_FALSE(f.stalled);
  EXPECT_LT(f.no_progress_ms, 150);
  // The source side waits: it is the one named.
  dst.activity()->Ended();
  src.activity()->Began();
  std::this_thread::sleep_for(milliseconds(200));
  f = s.Figures(NowMs());
  EXPECT_TRUE(f.stalled);
  EXPECT_NE(f.stall_reason.find("waiting for endpoint src (source)"), std::string::npos)
      << f.stall_reason;
  // The copy ends: nothing in flight, nothing stalled.
  s.CopyEnded();
  EXPECT_FALSE(s.Figures(NowMs()).stalled);
}

TEST(LagStateTest, ThresholdsAroundTheTarget) {
  EXPECT_EQ(LagState(0, 900'000), "ok");
  EXPECT_EQ(LagState(600'000, 900'000), "ok");
  EXPECT_EQ(LagState(600'001, 900'000), "warning");
  EXPECT_EQ(LagState(900'001, 900'000), "breach");
}

TEST_F(StatsTest, RegistryRendersEveryFamilyOnce) {
  auto s = std::make_shared<DestinationStats>("r", "r/d", state_.get(), minutes(15));
  s->Pending("k", 1'000, 3);
  s->Failed("k", "auth", "403", 2'000);
  Registry reg("test");
  Registry::RouteInfo ri;
  ri.name = "r";
  ri.destinations = {s};
  reg.SetRoutes({ri});
  std::string text = reg.RenderMetrics(5'000);
  EXPECT_NE(text.find("ferry_pending_objects{route=\"r\",destination=\"r/d\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_oldest_pending_age_seconds{route=\"r\",destination=\"r/d\"} 4\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_failed_operations_total{route=\"r\",destination=\"r/d\",reason=\"auth\"} 1"),
            std::string::npos);
  EXPECT_EQ(text.find("# TYPE ferry_pending_objects"), text.rfind("# TYPE ferry_pending_objects"));
  nlohmann::json lag = reg.LagJson(5'000);
  EXPECT_EQ(lag["max_oldest_pending_age_s"], 4.0);
  EXPECT_EQ(lag["all_reconciled"], false);
}

}  // namespace
}  // namespace ferry::engine
