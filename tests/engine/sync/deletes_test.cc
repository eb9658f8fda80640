// The pure parts of the deletion step: the grace clock, approvals of a held
// batch, and batch fingerprints (end to end: integration/deletes_test.cc).
#include "engine/sync/deletes.h"

#include <gtest/gtest.h>

#include "engine/daemon/manifest_state.h"
#include "engine/sync/grace_clock.h"
#include "storage/manifest/manifest.h"
#include "tests/engine/sync/fake_clock.h"
#include "tests/support/process.h"

namespace ferry::engine {
namespace {

constexpr std::int64_t kHour = 3600 * 1000;
constexpr std::int64_t kStartWall = 1'800'000'000'000;  // 2027

class DeletesStateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto m = OpenManifest(dir_.path());
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    manifest_ = std::move(*m);
    state_ = MakeManifestState(*manifest_, {"r", "r/d"}, "");
  }
  std::int64_t GraceNow() {
    auto r = GraceNowMs(*state_, clock_);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : -1;
  }
  ::ferry::testing::TempDir dir_{"deletes-test"};
  std::unique_ptr<manifest::Manifest> manifest_;
  std::unique_ptr<RouteState> state_;
  testing::FakeClock clock_{kStartWall, 5000};
};

TEST_F(DeletesStateTest, GraceClockStartsAtWallAndFollowsRealTime) {
  EXPECT_EQ(GraceNow(), kStartWall);
  clock_.Advance(10 * kHour);
  EXPECT_EQ(GraceNow(), kStartWall + 10 * kHour);
}

TEST_F(DeletesStateTest, GraceClockIgnoresAForwardWallJumpInTheSameBoot) {
  const std::int64_t t0 = GraceNow();
  clock_.JumpWall(48 * kHour);  // NTP step two days ahead
  clock_.Advance(60 * 1000);    // one real minute
  EXPECT_EQ(GraceNow(), t0 + 60 * 1000);
  // And it keeps the offset: later real time counts normally.
  clock_.Advance(kHour);
  EXPECT_EQ(GraceNow(), t0 + 60 * 1000 + kHour);
}

TEST_F(DeletesStateTest, GraceClockNeverGoesBackWhenTheWallClockDoes) {
  const std::int64_t t0 = GraceNow();
  clock_.JumpWall(-5 * kHour);
  clock_.Advance(1000);
  EXPECT_EQ(GraceNow(), t0);  // the wall went back 5 h: nothing counted
  clock_.Advance(2000);
  EXPECT_EQ(GraceNow(), t0 + 2000);
}

TEST_F(DeletesStateTest, GraceClockAcrossARebootUsesTheWallClockOnly) {
  const std::int64_t t0 = GraceNow();
  clock_.JumpWall(3 * kHour);  // three hours down
  clock_.Reboot("boot-2", 100);
  EXPECT_EQ(GraceNow(), t0 + 3 * kHour);
  // Same boot again: monotonic capping is back.
  clock_.JumpWall(24 * kHour);
  EXPECT_EQ(GraceNow(), t0 + 3 * kHour);
}

TEST_F(DeletesStateTest, GraceClockSurvivesReopeningTheManifest) {
  clock_.Advance(kHour);
  const std::int64_t t0 = GraceNow();
  state_.reset();
  manifest_.reset();
  SetUp();
  clock_.JumpWall(10 * kHour);
  EXPECT_EQ(GraceNow(), t0);
}

TEST_F(DeletesStateTest, ApprovingWhenNothingIsHeldArmsNothing) {
  auto r = ApproveHeldDeletes(*state_, kStartWall);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->armed);
  EXPECT_EQ(r->held, 0u);
  EXPECT_EQ(state_->GetMeta(kMetaApproval).value_or(""), "");
}

TEST_F(DeletesStateTest, ApprovalNamesTheHeldBatchAndExpires) {
  const std::string batch = BatchFingerprint({"a", "b", "c"});
  ASSERT_TRUE(state_->PutMeta(kMetaDeletesPaused, "3").ok());
  ASSERT_TRUE(state_->PutMeta(kMetaDeletesBatch, batch).ok());
  auto r = ApproveHeldDeletes(*state_, kStartWall);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->armed);
  EXPECT_EQ(r->held, 3u);
  EXPECT_EQ(r->expires_ms, kStartWall + kHour);
  auto a = DecodeApproval(state_->GetMeta(kMetaApproval).value_or(""));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->count, 3u);
  EXPECT_EQ(a->batch, batch);
  EXPECT_EQ(a->approved_ms, kStartWall);
  EXPECT_EQ(a->expires_ms, kStartWall + kHour);
}

TEST(DeleteApprovalTest, EncodingRoundTripsAndRejectsJunk) {
  DeleteApproval a{7, BatchFingerprint({"k"}), 123, 456};
  auto back = DecodeApproval(EncodeApproval(a));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->count, 7u);
  EXPECT_EQ(back->batch, a.batch);
  EXPECT_EQ(back->approved_ms, 123);
  EXPECT_EQ(back->expires_ms, 456);
  // The format before batches were named ("1") and damaged values arm nothing.
  for (const char* junk :
       {"", "1",
        "0 "
        "0123456789abcdef0123456789abcdef 1 2",
        "x y z w", "5 short 1 2", "5 0123456789abcdef0123456789abcdef 1",
        "5 0123456789abcdef0123456789abcdef 1 2 3", "-5 0123456789abcdef0123456789abcdef 1 2"}) {
    EXPECT_FALSE(DecodeApproval(junk).has_value()) << junk;
  }
}

TEST(BatchFingerprintTest, NamesTheKeysNotJustTheirCount) {
  EXPECT_EQ(BatchFingerprint({"a", "b"}), BatchFingerprint({"a", "b"}));
  EXPECT_NE(BatchFingerprint({"a", "b"}), BatchFingerprint({"a", "c"}));
  EXPECT_NE(BatchFingerprint({"a", "b"}), BatchFingerprint({"b", "a"}));
  // Keys may hold any byte: joining them must not be ambiguous.
  EXPECT_NE(BatchFingerprint({"a\nb", "c"}), BatchFingerprint({"a", "b\nc"}));
  EXPECT_NE(BatchFingerprint({"ab", ""}), BatchFingerprint({"a", "b"}));
  EXPECT_EQ(BatchFingerprint({"x"}).size(), 32u);
}

}  // namespace
}  // namespace ferry::engine
