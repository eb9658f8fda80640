// Credentials that stop working, and a destination bucket that does not
// exist: a clear error, a non-zero --once exit, bounded retries, nothing
// presented as done; and a rotated credentials file picked up without a
// restart.
#include <atomic>
#include <thread>

#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;
using CredentialsTest = ReliabilityTest;

constexpr char kNewAccess[] = "rotated-key";
constexpr char kNewSecret[] = "rotated-secret-value-0123456789";

Status Rotate(Region& r, const std::string& ak, const std::string& sk) {
  return r.admin().Post("/_sim/keys", {{"access_key", ak}, {"secret_key", sk}}).status();
}

std::uint64_t SuccessfulWrites(const std::vector<nlohmann::json>& log) {
  std::uint64_t n = 0;
  for (const auto& e : log) n += integration::IsWrite(e) && e.value("status", 0) / 100 == 2;
  return n;
}

TEST_F(CredentialsTest, ExpiredCredentialsFailClearlyThenARotatedFileIsPickedUp) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  PopulateVelero(1);
  // The keys in the credentials file are no longer accepted anywhere.
  ASSERT_TRUE(Rotate(src_, kNewAccess, kNewSecret).ok());
  ASSERT_TRUE(Rotate(dst_, kNewAccess, kNewSecret).ok());
  ConfigOptions o;
  const std::string config = WriteConfig(o);
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(60));
  EXPECT_NE(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_NE(run.exit_code, -1) << "ferryd crashed or hung:\n" << run.err;
  EXPECT_NE(run.err.find("InvalidAccessKeyId"), std::string::npos) << run.err;
  EXPECT_EQ(run.err.find(integration::kSecretKey), std::string::npos) << "secret in the log";
  // Bounded: an auth failure is retried at most twice per request.
  auto src_log = src_.Log();
  std::uint64_t denied = 0;
  for (const auto& e : src_log) denied += e.value("status", 0) == 403;
  EXPECT_GE(denied, 1u);
  EXPECT_LE(denied, 3u * 32u) << "auth failures retried without bound";
  EXPECT_EQ(SuccessfulWrites(dst_.Log()), 0u);

  // The operator rotates the file (as Kubernetes updates a mounted secret).
  WriteCredentials(kNewAccess, kNewSecret);
  run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(90));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  // The test's own backends still use the old pair: give them the new one.
  src_backend_.reset();
  dst_backend_.reset();
  ASSERT_TRUE(Rotate(src_, integration::kAccessKey, integration::kSecretKey).ok());
  ASSERT_TRUE(Rotate(dst_, integration::kAccessKey, integration::kSecretKey).ok());
  src_backend_ = src_.OpenBackend(ioc_);
  dst_backend_ = dst_.OpenBackend(ioc_);
  ExpectReplicaIdentical();
}

TEST_F(CredentialsTest, KeysRotatedMidRunAreReReadFromTheFile) {
  // 4 MiB/s per destination connection: the copy takes a few seconds.
  ASSERT_NO_FATAL_FAILURE(StartRegions({}, {"--bandwidth", std::to_string(4 * kMiB)}));
  PopulateVelero(2);
  ConfigOptions o;
  const std::string config = WriteConfig(o);

  std::atomic<bool> rotated{false};
  std::string helper_error;
  std::thread helper([&] {
    auto deadline = std::chrono::steady_clock::now() + seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = dst_.admin().Stats();
      if (s.ok() && (*s)["requests"].value("UploadPart", 0) >= 2) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    // Servers first, then the file: requests in between fail with 403 and
    // are retried (auth errors twice) after re-reading the file.
    Status s = Rotate(src_, kNewAccess, kNewSecret);
    if (s.ok()) s = Rotate(dst_, kNewAccess, kNewSecret);
    if (!s.ok()) helper_error = s.ToString();
    WriteCredentials(kNewAccess, kNewSecret);
    rotated = true;
  });
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(90));
  helper.join();
  ASSERT_EQ(helper_error, "");
  ASSERT_TRUE(rotated.load());
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  EXPECT_EQ(run.err.find(kNewSecret), std::string::npos) << "secret in the log";
  ASSERT_TRUE(Rotate(src_, integration::kAccessKey, integration::kSecretKey).ok());
  ASSERT_TRUE(Rotate(dst_, integration::kAccessKey, integration::kSecretKey).ok());
  ExpectReplicaIdentical();
}

TEST_F(CredentialsTest, MissingDestinationBucketIsAClearErrorAndNothingIsDone) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  PopulateVelero(1);
  ConfigOptions o;
  std::string yaml = Yaml(o);
  const std::string from = std::string("bucket: ") + integration::kDstBucket;
  auto at = yaml.find(from);
  ASSERT_NE(at, std::string::npos);
  yaml.replace(at, from.size(), "bucket: no-such-bucket");
  const std::string config = WriteYaml(yaml);
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(60));
  EXPECT_TRUE(run.exit_code == engine::kExitMismatch || run.exit_code == engine::kExitStartup)
      << run.exit_code << "\n" << run.err;
  EXPECT_NE(run.err.find("no-such-bucket"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("NoSuchBucket"), std::string::npos) << run.err;
  auto log = dst_.Log();
  EXPECT_EQ(SuccessfulWrites(log), 0u);
  // Bounded: a missing bucket is not retried like a transient error.
  EXPECT_LE(log.size(), 64u) << "requests against a missing bucket";
  EXPECT_TRUE(ListAll(*dst_backend_).empty());
  // A second run says the same: nothing was recorded as done.
  run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(60));
  EXPECT_NE(run.exit_code, engine::kExitMatched) << run.err;
}

}  // namespace
}  // namespace ferry::reliability
