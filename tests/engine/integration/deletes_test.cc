// Delete policy end to end: grace period (and a wall clock that jumps),
// marker-first unit deletion (and a marker delete that fails), the source's
// 404 as the only licence to delete, failed listings, and the mass-delete
// guard with approvals bound to their batch.
#include "engine/sync/deletes.h"
#include "tests/engine/integration/harness.h"
#include "tests/engine/sync/fake_clock.h"

namespace ferry::integration {
namespace {

constexpr std::size_t kObjects = 3 * 7 + 6 + 2 + 3 + 3;  // PopulateVelero(3)

class DeletesTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartRegions());
    PopulateVelero(3);
    ASSERT_EQ(written_.size(), kObjects);
    ASSERT_EQ(RunOnce(ConfigOptions()), engine::kExitMatched);
  }
  bool AtDestination(const std::string& key) { return ListAll(*dst_backend_).count(key) > 0; }
  // Deletes `n` kopia pack blobs at the source (from the first not yet gone).
  std::vector<std::string> DeletePacks(std::size_t n, const std::set<std::string>& skip = {}) {
    std::vector<std::string> gone;
    for (const auto& [k, w] : written_) {
      if (k.starts_with("kopia/app/p") && !skip.count(k) && gone.size() < n) gone.push_back(k);
    }
    EXPECT_EQ(gone.size(), n);
    for (const auto& k : gone) EXPECT_TRUE(DeleteSource(k).ok()) << k;
    return gone;
  }
  engine::ApproveResult Approve(const ConfigOptions& o, std::int64_t now_ms) {
    engine::ApproveResult out;
    WithRouteState(o, [&](engine::RouteState& st) {
      auto r = engine::ApproveHeldDeletes(st, now_ms);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      out = *r;
    });
    return out;
  }
  std::vector<std::string> UnitKeys(const std::string& unit) {
    std::vector<std::string> keys;
    for (const auto& [k, w] : written_) {
      if (k.starts_with(unit)) keys.push_back(k);
    }
    return keys;
  }
  // The source answered HEAD 404 for `key` after `since`.
  bool SourceConfirmedGone(const std::string& key, std::uint64_t since) {
    for (const auto& e : Filter(src_.Log(since), "HeadObject", key)) {
      if (e["key"] == key && e["status"] == 404) return true;
    }
    return false;
  }
};

TEST_F(DeletesTest, MirrorWaitsForGraceThenDeletesAfterSource404) {
  const std::string key = "kopia/app/q00000000000000000000000000000002";
  ASSERT_TRUE(DeleteSource(key).ok());

  ConfigOptions o;  // mirror, 24h grace
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].extra, 1u);
  EXPECT_EQ(reports[0].deletes_waiting, 1u);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(AtDestination(key));
  WithRouteState(o, [&](engine::RouteState& st) {
    auto s = st.Get(key);
    ASSERT_TRUE(s.ok() && s->has_value());
    EXPECT_EQ((*s)->phase, engine::ObjectPhase::kDeletePending);
    EXPECT_GT((*s)->delete_seen_ms, 0);
  });

  o.grace = "0";
  const std::uint64_t sseq = src_.LastSeq();
  const std::uint64_t dseq = dst_.LastSeq();
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 1u);
  EXPECT_EQ(reports[0].deletes_waiting, 0u);
  EXPECT_FALSE(AtDestination(key));
  EXPECT_TRUE(SourceConfirmedGone(key, sseq));
  auto dels = Filter(dst_.Log(dseq), "DeleteObject");
  ASSERT_EQ(dels.size(), 1u);
  EXPECT_EQ(dels[0]["key"], key);
  WithRouteState(o, [&](engine::RouteState& st) {
    auto s = st.Get(key);
    ASSERT_TRUE(s.ok());
    EXPECT_FALSE(s->has_value());
  });
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, VeleroUnitIsDeletedMarkerFirst) {
  const std::string unit = "backups/nightly-2/";
  std::vector<std::string> keys;
  for (const auto& [k, w] : written_) {
    if (k.starts_with(unit)) keys.push_back(k);
  }
  ASSERT_EQ(keys.size(), 7u);
  for (const auto& k : keys) ASSERT_TRUE(DeleteSource(k).ok());

  ConfigOptions o;
  o.delete_policy = "mirror-now";
  o.max_fraction = 0.5;
  const std::uint64_t dseq = dst_.LastSeq();
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 7u);
  auto dels = Filter(dst_.Log(dseq), "DeleteObject", unit);
  ASSERT_EQ(dels.size(), 7u);
  std::uint64_t marker_seq = 0, first_other = UINT64_MAX;
  for (const auto& e : dels) {
    if (e["key"] == unit + "velero-backup.json") {
      marker_seq = e["seq"].get<std::uint64_t>();
    } else {
      first_other = std::min(first_other, e["seq"].get<std::uint64_t>());
    }
  }
  EXPECT_GT(marker_seq, 0u);
  EXPECT_LT(marker_seq, first_other) << "a backup file was deleted before its marker";
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, FailedSourceListingOrHeadNeverDeletes) {
  // (Not a file of a backup whose marker stays: that one waits for its
  // marker, see BackupFilesWaitWhileTheMarkerStaysAtTheReplica.)
  std::string a;
  for (const auto& [k, w] : written_) {
    if (k.starts_with("kopia/app/p")) {
      a = k;
      break;
    }
  }
  ASSERT_FALSE(a.empty());
  const std::string b = "kopia/app/xn0_00000000000000000000000000000003";
  ASSERT_TRUE(DeleteSource(a).ok());
  ASSERT_TRUE(DeleteSource(b).ok());
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  o.max_fraction = 1.0;
  o.max_attempts = 3;

  // The source listing fails on every attempt: no delete, pass reported.
  ASSERT_TRUE(src_.admin().AddFault("op=list,kind=error500,next=100000").ok());
  std::uint64_t dseq = dst_.LastSeq();
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_FALSE(reports[0].source_listing_complete);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(Filter(dst_.Log(dseq), "DeleteObject").empty());
  EXPECT_TRUE(Filter(dst_.Log(dseq), "DeleteObjects").empty());

  // The listing works but the source does not answer HEAD with 404.
  ASSERT_TRUE(src_.admin().ClearFaults().ok());
  ASSERT_TRUE(src_.admin().AddFault("op=head,kind=error500,next=100000").ok());
  dseq = dst_.LastSeq();
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].source_listing_complete);
  EXPECT_EQ(reports[0].extra, 2u);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(Filter(dst_.Log(dseq), "DeleteObject").empty());
  EXPECT_TRUE(AtDestination(a));
  EXPECT_TRUE(AtDestination(b));

  // With the source healthy, both go, each after its 404.
  ASSERT_TRUE(src_.admin().ClearFaults().ok());
  const std::uint64_t sseq = src_.LastSeq();
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 2u);
  EXPECT_TRUE(SourceConfirmedGone(a, sseq));
  EXPECT_TRUE(SourceConfirmedGone(b, sseq));
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, MassDeleteGuardPausesUntilApproved) {
  // 5 of 35 replica objects (14% > 10%).
  std::vector<std::string> gone;
  for (const auto& [k, w] : written_) {
    if (k.starts_with("kopia/app/p") && gone.size() < 5) gone.push_back(k);
  }
  ASSERT_EQ(gone.size(), 5u);
  for (const auto& k : gone) ASSERT_TRUE(DeleteSource(k).ok());
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  std::vector<engine::PassReport> reports;
  const std::uint64_t dseq = dst_.LastSeq();
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].deletes_paused);
  EXPECT_EQ(reports[0].extra, 5u);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(Filter(dst_.Log(dseq), "DeleteObject").empty());
  for (const auto& k : gone) EXPECT_TRUE(AtDestination(k)) << k;

  // Still paused on the next pass; then an operator approves once.
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].deletes_paused);
  WithRouteState(o, [&](engine::RouteState& st) {
    EXPECT_EQ(st.GetMeta("deletes_paused").value_or(""), "5");
  });
  EXPECT_TRUE(Approve(o, engine::NowMs()).armed);
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_FALSE(reports[0].deletes_paused);
  EXPECT_EQ(reports[0].deleted, 5u);
  for (const auto& k : gone) EXPECT_FALSE(AtDestination(k)) << k;
  WithRouteState(o, [&](engine::RouteState& st) {
    EXPECT_EQ(st.GetMeta("approve_deletes").value_or(""), "");  // consumed
    EXPECT_EQ(st.GetMeta("deletes_paused").value_or(""), "");
  });
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, ApprovingWhenNothingIsHeldArmsNothing) {
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  // Nothing held yet: an approval now must not license a later mass delete.
  EXPECT_FALSE(Approve(o, engine::NowMs()).armed);
  std::vector<std::string> gone = DeletePacks(5);  // 5 of 35 > 10%
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].deletes_paused);
  EXPECT_EQ(reports[0].deleted, 0u);
  for (const auto& k : gone) EXPECT_TRUE(AtDestination(k)) << k;
}

TEST_F(DeletesTest, ApprovalCoversOnlyTheBatchItWasGivenFor) {
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  std::vector<std::string> gone = DeletePacks(5);
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  ASSERT_TRUE(reports[0].deletes_paused);
  engine::ApproveResult a = Approve(o, engine::NowMs());
  EXPECT_TRUE(a.armed);
  EXPECT_EQ(a.held, 5u);

  // One more object disappears before the pass: the batch is no longer the
  // one approved, so it is held again and the approval is spent.
  std::vector<std::string> more = DeletePacks(1, {gone.begin(), gone.end()});
  const std::uint64_t dseq = dst_.LastSeq();
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].deletes_paused);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(Filter(dst_.Log(dseq), "DeleteObject").empty());
  WithRouteState(o, [&](engine::RouteState& st) {
    EXPECT_EQ(st.GetMeta(engine::kMetaApproval).value_or(""), "");
    EXPECT_EQ(st.GetMeta(engine::kMetaDeletesPaused).value_or(""), "6");
  });

  // Approving the batch now held lets exactly it through.
  EXPECT_EQ(Approve(o, engine::NowMs()).held, 6u);
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 6u);
  for (const auto& k : gone) EXPECT_FALSE(AtDestination(k)) << k;
  EXPECT_FALSE(AtDestination(more[0]));
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, ExpiredApprovalLicensesNothing) {
  engine::testing::FakeClock clock(engine::NowMs(), 1000);
  clock_ = &clock;
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  std::vector<std::string> gone = DeletePacks(5);
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  ASSERT_TRUE(reports[0].deletes_paused);
  ASSERT_TRUE(Approve(o, clock.WallMs()).armed);
  clock.Advance(2 * 3600 * 1000);  // the operator's approval sat for 2 h
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_TRUE(reports[0].deletes_paused);
  EXPECT_EQ(reports[0].deleted, 0u);
  for (const auto& k : gone) EXPECT_TRUE(AtDestination(k)) << k;
  ASSERT_FALSE(reports[0].errors.empty());
  EXPECT_NE(reports[0].errors.back().find("expired"), std::string::npos)
      << reports[0].errors.back();
}

TEST_F(DeletesTest, FailedMarkerDeleteHoldsTheRestOfItsBackup) {
  const std::string unit = "backups/nightly-2/";
  std::vector<std::string> keys = UnitKeys(unit);
  ASSERT_EQ(keys.size(), 7u);
  for (const auto& k : keys) ASSERT_TRUE(DeleteSource(k).ok());
  ASSERT_TRUE(dst_.admin()
                  .AddFault("op=delete,kind=error500,next=100000,prefix=" + unit +
                            "velero-backup.json")
                  .ok());
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  o.max_fraction = 0.5;
  o.max_attempts = 2;
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_EQ(reports[0].deletes_blocked, 6u);
  for (const auto& k : keys) EXPECT_TRUE(AtDestination(k)) << k << " deleted while its marker stayed";

  ASSERT_TRUE(dst_.admin().ClearFaults().ok());
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 7u);
  EXPECT_EQ(reports[0].deletes_blocked, 0u);
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, BackupFilesWaitWhileTheMarkerStaysAtTheReplica) {
  // Velero deletes a backup's files in listing order, the marker last: a
  // pass in between sees the tarball gone and the marker still there.
  const std::string tarball = "backups/nightly-1/nightly-1.tar.gz";
  ASSERT_TRUE(written_.count(tarball));
  ASSERT_TRUE(DeleteSource(tarball).ok());
  ConfigOptions o;
  o.delete_policy = "mirror-now";
  o.max_fraction = 0.5;
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_EQ(reports[0].deletes_blocked, 1u);
  EXPECT_TRUE(AtDestination(tarball));

  // Now the marker goes too: marker first, then the tarball.
  ASSERT_TRUE(DeleteSource("backups/nightly-1/velero-backup.json").ok());
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 2u);
  EXPECT_FALSE(AtDestination(tarball));
  ExpectReplicaIdentical();
}

TEST_F(DeletesTest, GraceDoesNotShrinkWhenTheWallClockJumpsForward) {
  engine::testing::FakeClock clock(engine::NowMs(), 1000);
  clock_ = &clock;
  const std::string key = "kopia/app/q00000000000000000000000000000002";
  ASSERT_TRUE(DeleteSource(key).ok());
  ConfigOptions o;  // mirror, 24h grace
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deletes_waiting, 1u);

  clock.JumpWall(48LL * 3600 * 1000);  // the wall clock steps two days ahead
  clock.Advance(60 * 1000);            // one real minute passes
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deletes_waiting, 1u);
  EXPECT_EQ(reports[0].deleted, 0u);
  EXPECT_TRUE(AtDestination(key));

  clock.Advance(24LL * 3600 * 1000);  // a real day: the grace is over
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 1u);
  EXPECT_FALSE(AtDestination(key));
}

}  // namespace
}  // namespace ferry::integration
