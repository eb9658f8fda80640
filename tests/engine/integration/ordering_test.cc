// Layout ordering as the destination sees it (its request log), under
// parallel transfers and injected faults, and a unit that cannot complete.
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

using OrderingTest = IntegrationTest;

std::vector<std::string> Units(int n) {
  std::vector<std::string> u;
  for (int b = 1; b <= n; ++b) u.push_back("backups/nightly-" + std::to_string(b) + "/");
  return u;
}

TEST_F(OrderingTest, MarkersAndKopiaPhasesStayOrderedUnderFaults) {
  // 20% of UploadParts fail with 500 and 20% of PutObjects are throttled.
  ASSERT_NO_FATAL_FAILURE(StartRegions(
      {}, {"--fault", "op=upload_part,kind=error500,p=0.2", "--fault",
           "op=put,kind=slowdown503,p=0.2", "--fault-seed", "7"}));
  PopulateVelero(4);
  ConfigOptions o;
  o.parts_in_flight = 8;
  o.max_objects_in_flight = 32;
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, written_.size());
  EXPECT_EQ(reports[0].failed, 0u);

  nlohmann::json stats = dst_.Stats();
  EXPECT_GT(stats["faults"].value("error500", 0), 0) << stats.dump();
  EXPECT_GT(stats["faults"].value("slowdown503", 0), 0) << stats.dump();
  // Every injected fault cost one attempt, nothing more: requests = one per
  // object or part + one per fault.
  std::uint64_t parts = 0, puts = 0;
  for (const auto& [k, w] : written_) {
    if (w.size > 2 * kMiB) {
      parts += (w.size + kMiB - 1) / kMiB;  // mirrored 1 MiB layout
    } else {
      ++puts;
    }
  }
  EXPECT_EQ(dst_.Requests("UploadPart"), parts + stats["faults"].value("error500", 0));
  EXPECT_EQ(dst_.Requests("PutObject"), puts + stats["faults"].value("slowdown503", 0));

  ExpectReplicaIdentical();
  auto log = dst_.Log();
  ExpectVeleroOrder(log, Units(4));
  ExpectKopiaOrder(log, "kopia/app/");
}

TEST_F(OrderingTest, UnitWithPermanentlyFailingTarballNeverGetsItsMarker) {
  ASSERT_NO_FATAL_FAILURE(StartRegions(
      {}, {"--fault", "op=upload_part,kind=error500,prefix=backups/nightly-2/,next=100000"}));
  PopulateVelero(3);
  ConfigOptions o;
  o.max_attempts = 4;
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_EQ(reports[0].failed, 1u);      // the tarball
  EXPECT_EQ(reports[0].held_back, 1u);   // its marker
  EXPECT_EQ(reports[0].copied, written_.size() - 2);

  auto log = dst_.Log();
  EXPECT_TRUE(Filter(log, "", "backups/nightly-2/velero-backup.json").empty());
  EXPECT_TRUE(Filter(log, "CompleteMultipartUpload", "backups/nightly-2/").empty());
  // Every UploadPart of that unit failed, each part tried max_attempts times at most.
  auto parts = Filter(log, "UploadPart", "backups/nightly-2/");
  EXPECT_FALSE(parts.empty());
  EXPECT_LE(parts.size(), 4u * 4u);  // 4 parts x 4 attempts
  for (const auto& e : parts) EXPECT_EQ(e["status"], 500) << e.dump();
  // The other units are complete, markers last.
  ExpectVeleroOrder(log, {"backups/nightly-1/", "backups/nightly-3/"});
  auto dst = ListAll(*dst_backend_);
  EXPECT_FALSE(dst.count("backups/nightly-2/velero-backup.json"));
  EXPECT_FALSE(dst.count("backups/nightly-2/nightly-2.tar.gz"));
  EXPECT_TRUE(dst.count("backups/nightly-2/nightly-2-logs.gz"));

  // The ferryd binary says the same with its exit status.
  EXPECT_EQ(RunFerrydOnce(WriteConfig(o), std::chrono::seconds(50)), engine::kExitMismatch);
  EXPECT_TRUE(Filter(dst_.Log(), "", "backups/nightly-2/velero-backup.json").empty());

  // Once the fault is gone, a second pass completes the unit, marker last.
  ASSERT_TRUE(dst_.admin().ClearFaults().ok());
  const std::uint64_t seq = dst_.LastSeq();
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 2u);
  ExpectVeleroOrder(dst_.Log(seq), {"backups/nightly-2/"});
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::integration
