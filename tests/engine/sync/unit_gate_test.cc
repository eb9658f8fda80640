// The Velero marker gate's pure decisions (engine/sync/unit_gate.h).
#include "engine/sync/unit_gate.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace ferry::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

std::string Marker(const std::string& phase) {
  return R"({"kind":"Backup","apiVersion":"velero.io/v1","metadata":{"name":"b1"},)"
         R"("status":{"phase":")" +
         phase + R"(","completionTimestamp":"2026-01-02T03:04:05Z"}})";
}

TEST(UnitGateTest, TerminalPhasesAreTheFourFinalOnes) {
  for (const char* p : {"Completed", "PartiallyFailed", "Failed", "FailedValidation"}) {
    MarkerInfo m = ParseVeleroMarker(Marker(p));
    EXPECT_TRUE(m.parsed) << p;
    EXPECT_TRUE(m.terminal) << p;
    EXPECT_EQ(m.phase, p);
  }
  EXPECT_TRUE(ParseVeleroMarker(Marker("Completed")).needs_tarball);
  EXPECT_TRUE(ParseVeleroMarker(Marker("PartiallyFailed")).needs_tarball);
  EXPECT_FALSE(ParseVeleroMarker(Marker("Failed")).needs_tarball);
  EXPECT_FALSE(ParseVeleroMarker(Marker("FailedValidation")).needs_tarball);
  for (const char* p : {"New", "InProgress", "WaitingForPluginOperations",
                        "WaitingForPluginOperationsPartiallyFailed", "Finalizing",
                        "FinalizingPartiallyFailed", "Deleting", "completed", ""}) {
    MarkerInfo m = ParseVeleroMarker(Marker(p));
    EXPECT_TRUE(m.parsed) << p;
    EXPECT_FALSE(m.terminal) << p;
    EXPECT_FALSE(m.needs_tarball) << p;
  }
}

TEST(UnitGateTest, MalformedMarkersAreNotTerminalAndSayWhy) {
  struct Case {
    std::string text;
    std::string error;
  };
  const Case cases[] = {
      {"", "not valid JSON"},
      {R"({"status":{"phase":"Completed")", "not valid JSON"},  // cut short mid-upload
      {"\xff\xfe{}", "not valid JSON"},
      {R"(["Completed"])", "not a JSON object"},
      {R"("Completed")", "not a JSON object"},
      {R"({"kind":"Backup"})", "no status object"},
      {R"({"status":"Completed"})", "no status object"},
      {R"({"status":{}})", "no status.phase string"},
      {R"({"status":{"phase":3}})", "no status.phase string"},
      {R"({"status":{"phase":null}})", "no status.phase string"},
      {std::string(100000, '{'), "not valid JSON"},  // deep nesting: no crash
  };
  for (const Case& c : cases) {
    MarkerInfo m = ParseVeleroMarker(c.text);
    EXPECT_FALSE(m.parsed) << c.text.substr(0, 40);
    EXPECT_FALSE(m.terminal) << c.text.substr(0, 40);
    EXPECT_EQ(m.error, c.error) << c.text.substr(0, 40);
  }
}

TEST(UnitGateTest, UnitsMarkersAndTarballs) {
  EXPECT_EQ(TarballKey("backups/nightly-1/"), "backups/nightly-1/nightly-1.tar.gz");
  EXPECT_EQ(TarballKey("restores/r-7/"), "restores/r-7/r-7.tar.gz");
  EXPECT_TRUE(IsGatedUnit("backups/b/"));
  EXPECT_TRUE(IsGatedUnit("restores/r/"));
  EXPECT_FALSE(IsGatedUnit("kopia/ns/"));
  EXPECT_FALSE(IsGatedUnit(""));
  EXPECT_TRUE(IsVeleroUnitMarker("backups/b/", "backups/b/velero-backup.json"));
  EXPECT_FALSE(IsVeleroUnitMarker("backups/b/", "backups/b/x/velero-backup.json"));
  EXPECT_FALSE(IsVeleroUnitMarker("backups/b/", "backups/b/b.tar.gz"));
  EXPECT_FALSE(IsVeleroUnitMarker("kopia/ns/", "kopia/ns/velero-backup.json"));
}

TEST(UnitGateTest, ChangeTimeIsTheLaterOfFirstSightingAndAnUncappedPastMtime) {
  EXPECT_EQ(ChangeMs(5000, 3000, 10000), 5000);  // seen late: our sighting counts
  EXPECT_EQ(ChangeMs(5000, 7000, 10000), 7000);  // same bytes rewritten: mtime counts
  EXPECT_EQ(ChangeMs(5000, 90000, 10000), 10000);  // source clock ahead: capped at now
}

TEST(UnitGateTest, FactsGatheredFromTheUnitsFiles) {
  UnitFacts f;
  NoteUnitFile("backups/b1/", "backups/b1/b1-logs.gz", "\"e\"", 1000, 900, 50000, &f);
  NoteUnitFile("backups/b1/", "backups/b1/b1.tar.gz", "\"e\"", 4000, 3900, 50000, &f);
  NoteUnitFile("backups/b1/", "backups/b1/velero-backup.json", "\"e\"", 2000, 1900, 50000, &f);
  EXPECT_EQ(f.files, 3);
  EXPECT_TRUE(f.has_tarball);
  EXPECT_EQ(f.last_change_ms, 4000);
  EXPECT_EQ(f.marker_mtime_ms, 1900);
  UnitFacts g;
  NoteUnitFile("backups/b1/", "backups/b1/b1-logs.gz", "\"e\"", 1000, 900, 50000, &g);
  NoteUnitFile("backups/b1/", "backups/b1/b2.tar.gz", "\"e\"", 1000, 900, 50000, &g);
  EXPECT_FALSE(g.has_tarball);
}

TEST(UnitGateTest, ListingFingerprintSeesEveryChangeOfKeyOrEtag) {
  auto fp = [](std::vector<std::pair<std::string, std::string>> files) {
    std::uint64_t h = 0;
    for (const auto& [k, e] : files) h = FoldUnitListing(h, k, e);
    return h;
  };
  const std::uint64_t base = fp({{"b/a", "\"1\""}, {"b/t.tar.gz", "\"2\""}});
  EXPECT_EQ(base, fp({{"b/a", "\"1\""}, {"b/t.tar.gz", "\"2\""}}));
  EXPECT_NE(base, fp({{"b/a", "\"1\""}, {"b/t.tar.gz", "\"3\""}}));  // tarball rewritten
  EXPECT_NE(base, fp({{"b/a", "\"1\""}}));                              // a file gone
  EXPECT_NE(base, fp({{"b/a", "\"1\""}, {"b/t.tar.gz", "\"2\""}, {"b/u", "\"4\""}}));
  // Length-prefixed: moving a byte from the key into the ETag is a change.
  EXPECT_NE(fp({{"b/ab", "c"}}), fp({{"b/a", "bc"}}));
  UnitFacts f;
  NoteUnitFile("backups/b1/", "b/a", "\"1\"", 1000, 900, 50000, &f);
  NoteUnitFile("backups/b1/", "b/t.tar.gz", "\"2\"", 1000, 900, 50000, &f);
  EXPECT_EQ(f.listing, base);
}

UnitFacts Whole(std::int64_t last_change_ms) {
  UnitFacts f;
  f.complete = true;
  f.has_tarball = true;
  f.last_change_ms = last_change_ms;
  f.files = 3;
  return f;
}

TEST(UnitGateTest, SettleHoldsUntilTheUnitIsQuietAndSaysWhenToLookAgain) {
  const auto settle = seconds(60);
  GateDecision d = DecideSettled(Whole(100'000), settle, 130'000);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.recheck_at_ms, 160'000);
  EXPECT_EQ(d.reason, "unit changed 30s ago; settling for 60s");
  EXPECT_FALSE(DecideSettled(Whole(100'000), settle, 159'999).release);
  EXPECT_TRUE(DecideSettled(Whole(100'000), settle, 160'000).release);
  // Zero settle: quiet at once.
  EXPECT_TRUE(DecideSettled(Whole(100'000), milliseconds(0), 100'000).release);
  // A unit the listing did not finish is never quiet.
  UnitFacts cut = Whole(0);
  cut.complete = false;
  d = DecideSettled(cut, settle, 1'000'000);
  EXPECT_FALSE(d.release);
  EXPECT_GT(d.recheck_at_ms, 1'000'000);
}

TEST(UnitGateTest, MarkerGoesOnlyForAWholeQuietUnit) {
  const auto settle = seconds(2);
  const std::int64_t now = 100'000;
  const MarkerInfo done = ParseVeleroMarker(Marker("Completed"));
  EXPECT_TRUE(DecideMarker(Whole(now - 5000), done, 0, settle, now).release);

  GateDecision d = DecideMarker(Whole(now - 1000), done, 0, settle, now);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.recheck_at_ms, now + 1000);

  UnitFacts no_tar = Whole(now - 5000);
  no_tar.has_tarball = false;
  d = DecideMarker(no_tar, done, 0, settle, now);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, "phase Completed but no tarball at the source yet");
  EXPECT_GT(d.recheck_at_ms, now);
  // Failed backups have no tarball to wait for.
  EXPECT_TRUE(DecideMarker(no_tar, ParseVeleroMarker(Marker("Failed")), 0, settle, now).release);
  EXPECT_TRUE(
      DecideMarker(no_tar, ParseVeleroMarker(Marker("FailedValidation")), 0, settle, now).release);
  EXPECT_FALSE(
      DecideMarker(no_tar, ParseVeleroMarker(Marker("PartiallyFailed")), 0, settle, now).release);

  d = DecideMarker(Whole(now - 5000), ParseVeleroMarker(Marker("WaitingForPluginOperations")), 0,
                   settle, now);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, "backup phase WaitingForPluginOperations is not final");

  d = DecideMarker(Whole(now - 5000), ParseVeleroMarker("{not json"), 0, settle, now);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, "marker unreadable (not valid JSON)");

  // The final tarball still uploading (multipart open under the unit).
  d = DecideMarker(Whole(now - 5000), done, 1, settle, now);
  EXPECT_FALSE(d.release);
  EXPECT_EQ(d.reason, "1 upload(s) still open under the unit");
}

}  // namespace
}  // namespace ferry::engine
