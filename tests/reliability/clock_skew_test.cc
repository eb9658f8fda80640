// A persistent clock skew between ferry and its endpoints (each s3sim's clock
// set hours off the host's through /_sim/clock): ferryd learns each
// endpoint's offset from the first RequestTimeTooSkewed, warns once per
// endpoint, signs every later request with it and replicates everything;
// a skew beyond the ±24 h it corrects fails clearly instead.
#include <algorithm>
#include <string>
#include <vector>

#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;
using ClockSkewTest = ReliabilityTest;

constexpr std::int64_t kHourMs = 3600 * 1000;

std::size_t Count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// The skews (seconds) named by the warnings "server clock is +N s off".
std::vector<long> WarnedSkews(const std::string& text) {
  const std::string marker = "server clock is ";
  std::vector<long> out;
  for (auto at = text.find(marker); at != std::string::npos; at = text.find(marker, at + 1)) {
    out.push_back(std::stol(text.substr(at + marker.size(), 12)));
  }
  return out;
}

std::uint64_t Skewed(const std::vector<nlohmann::json>& log) {
  return static_cast<std::uint64_t>(std::count_if(log.begin(), log.end(), [](const auto& e) {
    return e.value("status", 0) == 403;
  }));
}

TEST_F(ClockSkewTest, PersistentSkewIsLearnedPerEndpointAndReplicationCompletes) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  PopulateVelero(1);
  // The source runs two hours ahead, the destination 90 minutes behind:
  // both beyond the 15 minutes S3 (and s3sim) accept.
  ASSERT_TRUE(src_.admin().SetClockOffset(2 * kHourMs).ok());
  ASSERT_TRUE(dst_.admin().SetClockOffset(-kHourMs * 3 / 2).ok());
  const std::uint64_t src_since = src_.LastSeq();

  ConfigOptions o;
  const std::string config = WriteConfig(o);
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(90));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  // One warning per endpoint, naming the measured skew.
  EXPECT_EQ(Count(run.err, "(RequestTimeTooSkewed); signing"), 2u) << run.err;
  std::vector<long> skews = WarnedSkews(run.err);
  std::sort(skews.begin(), skews.end());
  ASSERT_EQ(skews.size(), 2u) << run.err;
  // (HTTP dates have whole seconds.)
  EXPECT_NEAR(skews[0], -5400, 2) << run.err;
  EXPECT_NEAR(skews[1], 7200, 2) << run.err;
  // The skew was real: requests were refused until the offset was learned,
  // and only a handful (the first ones in flight), not one per request.
  const std::uint64_t src_skewed = Skewed(src_.Log(src_since));
  const std::uint64_t dst_skewed = Skewed(dst_.Log());
  EXPECT_GE(src_skewed, 1u);
  EXPECT_GE(dst_skewed, 1u);
  EXPECT_LE(src_skewed + dst_skewed, 2u * 32u);

  // A second run in a fresh process learns it again and matches at once.
  run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(60));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;

  // The test's own clients have not learned anything: put the clocks back.
  ASSERT_TRUE(src_.admin().SetClockOffset(0).ok());
  ASSERT_TRUE(dst_.admin().SetClockOffset(0).ok());
  ExpectReplicaIdentical();
}

TEST_F(ClockSkewTest, SkewBeyondTheBoundFailsClearly) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  PopulateVelero(1);
  ASSERT_TRUE(src_.admin().SetClockOffset(30 * kHourMs).ok());
  ConfigOptions o;
  o.max_attempts = 3;
  const std::string config = WriteConfig(o);
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(60));
  EXPECT_EQ(run.exit_code, engine::kExitMismatch) << run.err;
  EXPECT_NE(run.err.find("RequestTimeTooSkewed"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("more than the 24 h"), std::string::npos) << run.err;
  EXPECT_GE(Skewed(src_.Log()), 1u);
  const auto dst_log = dst_.Log();
  EXPECT_EQ(std::count_if(dst_log.begin(), dst_log.end(), integration::IsWrite), 0)
      << "nothing may be written when the source cannot be listed";
}

}  // namespace
}  // namespace ferry::reliability
