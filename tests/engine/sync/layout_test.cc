#include "engine/sync/layout.h"

#include <gtest/gtest.h>

namespace ferry::engine {
namespace {

Placement P(LayoutKind k, const char* key) { return Classify(k, key); }

TEST(LayoutTest, VeleroMarkerIsLastPhaseOfItsBackup) {
  auto marker = P(LayoutKind::kVelero, "backups/nightly-1/velero-backup.json");
  auto tarball = P(LayoutKind::kVelero, "backups/nightly-1/nightly-1.tar.gz");
  EXPECT_EQ(marker.unit, "backups/nightly-1/");
  EXPECT_EQ(tarball.unit, "backups/nightly-1/");
  EXPECT_EQ(marker.phase, 1);
  EXPECT_EQ(tarball.phase, 0);
  EXPECT_TRUE(IsVeleroMarker("backups/nightly-1/velero-backup.json"));
  EXPECT_FALSE(IsVeleroMarker("backups/nightly-1/x/velero-backup.json"));
  EXPECT_FALSE(IsVeleroMarker("restores/r/velero-backup.json"));
  EXPECT_EQ(P(LayoutKind::kVelero, "restores/r1/restore-r1-logs.gz").unit, "restores/r1/");
  // A marker nested deeper is not the unit's marker.
  EXPECT_EQ(P(LayoutKind::kVelero, "backups/b/sub/velero-backup.json").phase, 0);
  // Outside units: no ordering.
  EXPECT_EQ(P(LayoutKind::kVelero, "backups").unit, "");
  EXPECT_EQ(P(LayoutKind::kVelero, "backups//x").unit, "");
  EXPECT_EQ(P(LayoutKind::kVelero, "other/thing").unit, "");
}

TEST(LayoutTest, KopiaPacksThenIndexesThenFormat) {
  for (LayoutKind k : {LayoutKind::kKopia}) {
    EXPECT_EQ(P(k, "p0123abcd").phase, 0);
    EXPECT_EQ(P(k, "q0123abcd").phase, 0);
    EXPECT_EQ(P(k, "_log_20240101").phase, 0);
    EXPECT_EQ(P(k, "xn0_abcdef").phase, 1);
    EXPECT_EQ(P(k, "kopia.repository").phase, 2);
    EXPECT_EQ(P(k, "kopia.blobcfg").phase, 2);
    EXPECT_EQ(P(k, "kopia.maintenance").phase, 2);
    EXPECT_FALSE(P(k, "p1").unit.empty());
  }
  // Inside a Velero location, each kopia/<ns>/ is its own repository.
  auto idx = P(LayoutKind::kVelero, "kopia/app-ns/xn0_1");
  EXPECT_EQ(idx.unit, "kopia/app-ns/");
  EXPECT_EQ(idx.phase, 1);
  EXPECT_EQ(P(LayoutKind::kVelero, "kopia/app-ns/kopia.repository").phase, 2);
  EXPECT_EQ(P(LayoutKind::kVelero, "restic/ns/index/abc").phase, 1);
  EXPECT_EQ(P(LayoutKind::kVelero, "restic/ns/snapshots/abc").phase, 2);
  EXPECT_EQ(P(LayoutKind::kVelero, "restic/ns/data/ab/abc").phase, 0);
}

TEST(LayoutTest, PlainHasNoOrderAndNamesParse) {
  EXPECT_EQ(P(LayoutKind::kPlain, "backups/b/velero-backup.json").unit, "");
  EXPECT_EQ(*ParseLayout("velero"), LayoutKind::kVelero);
  EXPECT_FALSE(ParseLayout("Velero").ok());
}

}  // namespace
}  // namespace ferry::engine
