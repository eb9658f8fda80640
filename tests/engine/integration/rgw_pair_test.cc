// The engine end to end between two Ceph RGW 16.2 "regions"
// (testing::RgwCluster), a real S3 that others wrote, with nothing set in
// the config that ferryd can probe: the Velero-like set and its ordering, a
// second pass that copies nothing, a resume after kill -9, and mirror
// deletes. RGW ignores HEAD ?partNumber (the source layouts are inferred
// from the ETags), completes uploads with an empty ETag, and lists upload
// keys URL-encoded without saying so: each is met here as it is in use.
//
// RGW keeps no request log: ordering is read from the replica's
// LastModified times, and what a pass did from its report.
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "protocols/s3/client.h"
#include "storage/s3/s3_backend.h"
#include "tests/engine/integration/harness.h"
#include "tests/support/rgw.h"

namespace ferry::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// Both clusters for the whole suite (about 3 s each to start); each case
// works in buckets of its own.
struct Pair {
  std::unique_ptr<testing::RgwCluster> src, dst;
  Status started;
};

Pair& Clusters() {
  static Pair pair = [] {
    Pair p;
    testing::RgwOptions o;
    o.min_part_size = kMiB;  // PopulateVelero's 1 MiB parts
    o.api_name = "eu-west-1";
    auto src = testing::RgwCluster::Start(o);
    o.api_name = "eu-central-1";
    auto dst = testing::RgwCluster::Start(o);
    if (!src.ok()) {
      p.started = src.status();
    } else if (!dst.ok()) {
      p.started = dst.status();
    } else {
      p.src = std::move(*src);
      p.dst = std::move(*dst);
    }
    return p;
  }();
  return pair;
}

class RgwPairTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    ASSERT_TRUE(testing::RgwAvailable()) << "Ceph RGW is required: run scripts/bootstrap";
    Pair& p = Clusters();
    ASSERT_TRUE(p.started.ok()) << p.started.ToString();
    const std::string suffix = testing::RandomHex(8);
    auto external = [&](const testing::RgwCluster& c, const std::string& bucket) {
      ExternalEndpoint e{c.endpoint(), c.region(), bucket, c.access_key(), c.secret_key()};
      s3::ClientOptions co;
      co.endpoint = http::Url::Parse(e.url).value();
      co.region = e.region;
      co.bucket = bucket;
      co.credentials = s3::StaticCredentials({e.access_key, e.secret_key, ""});
      auto client = s3::Client::Create(ioc_.get_executor(), co);
      EXPECT_TRUE(client.ok()) << client.status().ToString();
      if (client.ok()) {
        Status made = testing::RunTask(ioc_, (*client)->CreateBucket(), seconds(30));
        EXPECT_TRUE(made.ok()) << made.ToString();
      }
      return e;
    };
    // What the suite knows of RGW, for its own reads and writes; ferryd
    // gets none of it and probes.
    storage::Capabilities caps = storage::AwsS3Capabilities();
    caps.head_part_number = false;
    caps.uploads_encoded_undeclared = true;
    caps.min_part_size = kMiB;
    UseExternalEndpoints(external(*p.src, "src-" + suffix), external(*p.dst, "dst-" + suffix),
                         caps);
    ASSERT_TRUE(src_backend_ && dst_backend_);
  }

  static ConfigOptions Options() {
    ConfigOptions o;
    o.probe = true;  // nothing set that ferryd can learn itself
    o.payload_signing = "auto";
    return o;
  }

  // Upload ids open at the destination under `prefix`.
  std::vector<storage::UploadInfo> OpenUploads(const std::string& prefix) {
    auto u = testing::RunTask(ioc_, dst_backend_->ListUploads(prefix));
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    return u.ok() ? *u : std::vector<storage::UploadInfo>{};
  }
};

TEST_F(RgwPairTest, VeleroSetInOrderThenASecondPassCopiesNothing) {
  constexpr int kBackups = 2;
  PopulateVelero(kBackups);
  const ConfigOptions o = Options();
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].copied, written_.size());
  EXPECT_EQ(reports[0].failed, 0u);
  // Byte-identical, and the multipart ETags mirrored although RGW never
  // showed a part layout: each was inferred and confirmed before Complete.
  EXPECT_EQ(ExpectReplicaIdentical(), written_.size());

  // Velero's order at the replica: a backup's velero-backup.json is written
  // after every other file of it (LastModified, RGW's millisecond clock).
  auto dst = ListAll(*dst_backend_);
  for (int b = 1; b <= kBackups; ++b) {
    const std::string unit = "backups/nightly-" + std::to_string(b) + "/";
    auto marker = dst.find(unit + "velero-backup.json");
    ASSERT_NE(marker, dst.end()) << unit;
    int others = 0;
    for (auto it = dst.lower_bound(unit); it != dst.end() && it->first.starts_with(unit); ++it) {
      if (it == marker) continue;
      ++others;
      EXPECT_LE(it->second.last_modified, marker->second.last_modified)
          << it->first << " written after its backup's marker";
    }
    EXPECT_EQ(others, 6) << unit;
  }
  // kopia: packs (p, q), then indexes (x), then the format blobs (kopia.*).
  auto phase = [](const std::string& rel) {
    return rel.starts_with("kopia.") ? 2 : rel.starts_with("x") ? 1 : 0;
  };
  std::vector<storage::ObjectSummary> by_phase[3];
  for (auto it = dst.lower_bound("kopia/app/");
       it != dst.end() && it->first.starts_with("kopia/app/"); ++it) {
    by_phase[phase(it->first.substr(10))].push_back(it->second);
  }
  for (int ph = 1; ph < 3; ++ph) {
    ASSERT_FALSE(by_phase[ph - 1].empty() || by_phase[ph].empty()) << "kopia phase " << ph;
    for (const auto& later : by_phase[ph]) {
      for (const auto& earlier : by_phase[ph - 1]) {
        EXPECT_LE(earlier.last_modified, later.last_modified)
            << earlier.key << " written after " << later.key;
      }
    }
  }

  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 0u);
  EXPECT_EQ(reports[0].skipped, 0u);
  EXPECT_EQ(reports[0].in_sync, written_.size());
  EXPECT_EQ(reports[0].deleted, 0u);
}

TEST_F(RgwPairTest, KilledMidUploadResumesItsParts) {
  // 96 MiB written in the AWS CLI's 8 MiB parts; ferry mirrors them (12
  // parts), two at a time, signed payloads: slow enough to kill halfway.
  constexpr std::uint64_t kSize = 96 * kMiB;
  PutSourceMultipart("big/volume.img", RandomBytes(kSize, 42), 8 * kMiB);
  ConfigOptions o = Options();
  o.layout = "plain";
  o.part_size = "8MiB";
  o.multipart_threshold = "8MiB";
  o.parts_in_flight = 2;
  o.log_level = "info";
  const std::string config = WriteConfig(o);

  auto first = StartFerryd(config);
  ASSERT_TRUE(first);
  // Kill once the destination holds at least 3 parts of the upload.
  std::size_t stored = 0;
  std::string upload_id;
  for (auto deadline = std::chrono::steady_clock::now() + seconds(60); stored < 3;) {
    ASSERT_TRUE(first->Running()) << "ferryd exited before the kill";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no parts at the destination";
    for (const auto& u : OpenUploads("big/")) {
      auto parts = testing::RunTask(ioc_, dst_backend_->ListParts(u.key, u.upload_id));
      if (parts.ok()) {
        stored = parts->size();
        upload_id = u.upload_id;
      }
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_EQ(::kill(first->pid(), SIGKILL), 0);
  ASSERT_TRUE(WaitExit(*first, seconds(10)));
  ASSERT_TRUE(ListAll(*dst_backend_).empty()) << "completed before the kill";
  // What the destination kept (parts in flight at the kill may add some).
  auto kept = testing::RunTask(ioc_, dst_backend_->ListParts("big/volume.img", upload_id));
  ASSERT_TRUE(kept.ok()) << kept.status().ToString();
  std::cerr << "killed with " << kept->size() << " of 12 parts at the destination\n";
  ASSERT_LT(kept->size(), 12u);

  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].copied, 1u);
  // Every part journaled as finished was kept (the last few before the kill
  // may have reached RGW without reaching the journal).
  EXPECT_GE(reports[0].parts_resumed + 2, kept->size()) << reports[0].Summary();
  EXPECT_GE(reports[0].parts_resumed, 1u) << reports[0].Summary();
  EXPECT_TRUE(OpenUploads("big/").empty()) << "an upload was left open";
  ExpectReplicaIdentical();
}

TEST_F(RgwPairTest, MirrorDeletesAfterTheGracePeriod) {
  PutSource("plain/keep", RandomBytes(100 * kKiB, 1));
  PutSource("plain/drop me+1", RandomBytes(100 * kKiB, 2));
  PutSourceMultipart("plain/drop-big", RandomBytes(3 * kMiB, 3), kMiB);
  ConfigOptions o = Options();
  o.layout = "plain";
  o.grace = "0s";
  o.max_fraction = 1.0;
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  ExpectReplicaIdentical();

  for (const char* key : {"plain/drop me+1", "plain/drop-big"}) {
    Status gone = testing::RunTask(ioc_, src_backend_->Delete(key));
    ASSERT_TRUE(gone.ok()) << gone.ToString();
    written_.erase(key);
  }
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].deleted, 2u) << reports[0].Summary();
  auto dst = ListAll(*dst_backend_);
  EXPECT_EQ(dst.size(), 1u);
  EXPECT_TRUE(dst.count("plain/keep"));
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::integration
