// Server-side copy above the 5 GiB single-copy limit: between two buckets of
// one s3sim (one endpoint, cross_bucket_copy), a synthetic source of more
// than 5 GiB must be copied by CreateMultipartUpload + UploadPartCopy in the
// source's part layout (equal ETags), with no byte of it read by ferry; and
// a copy killed half-way resumes the same upload, copying only what was not
// finished. (s3sim keeps a copied part as a reference to the source range
// and a completed object as references to its parts: nothing of the 5 GiB
// is held in memory.)
#include <signal.h>

#include <sstream>
#include <thread>

#include "engine/transfer/object_copier.h"
#include "storage/s3/s3_backend.h"
#include "tests/reliability/reliability.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;

constexpr std::uint64_t kGiB = 1ull << 30;
constexpr std::uint64_t kBigSize = 5 * kGiB + 7 * kMiB;  // over the 5 GiB limit
constexpr std::uint64_t kSourcePart = kGiB;              // 6 parts
constexpr int kParts = 6;
constexpr char kBigKey[] = "kopia/p-big-pack";

class PartCopyTest : public ReliabilityTest {
 protected:
  // One s3sim holding both buckets; src_ is that region.
  void StartOneRegion(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--bucket", integration::kDstBucket};
    args.insert(args.end(), extra.begin(), extra.end());
    Status s = src_.Start(dir_->path(), "one", integration::kSrcBucket, args);
    ASSERT_TRUE(s.ok()) << s.ToString();
    WriteCredentials(integration::kAccessKey, integration::kSecretKey);
    src_backend_ = src_.OpenBackend(ioc_);
    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse(src_.url()).value();
    o.client.bucket = integration::kDstBucket;
    o.client.credentials =
        s3::StaticCredentials({integration::kAccessKey, integration::kSecretKey, ""});
    o.capabilities.min_part_size = kMiB;
    auto b = storage::OpenS3Backend(ioc_.get_executor(), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    dst_backend_ = *b;
  }

  // A synthetic source object; its ETag. (s3sim hashes all of it to make the
  // ETag: a longer admin deadline than the default.)
  std::string Synthetic(std::uint64_t seed) {
    sim::AdminClient admin("127.0.0.1", src_.port(), std::chrono::seconds(240));
    nlohmann::json spec = {
        {"bucket", integration::kSrcBucket},
        {"objects",
         {{{"key", kBigKey}, {"size", kBigSize}, {"seed", seed}, {"part_size", kSourcePart}}}}};
    auto r = admin.CreateSynthetic(spec);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? (*r)["objects"][0]["etag"].get<std::string>() : std::string();
  }

  std::string OneEndpointYaml(int parts_in_flight) const {
    std::ostringstream y;
    y << "state_dir: " << dir_->path() << "/state\n"
      << "log: {level: warn}\n"
      << "http: {listen: \"\"}\n"
      << "control: {socket: " << dir_->path() << "/ferry.sock}\n"
      << "endpoints:\n"
      << "  one:\n"
      << "    url: " << src_.url() << "\n"
      << "    credentials: {file: " << dir_->path() << "/credentials}\n"
      << "    capabilities: {min_part_size: 1MiB, cross_bucket_copy: true}\n"
      << "routes:\n"
      << "  - name: main\n"
      << "    source: {endpoint: one, bucket: " << integration::kSrcBucket << "}\n"
      << "    destinations: [{endpoint: one, bucket: " << integration::kDstBucket << "}]\n"
      << "    layout: plain\n"
      << "transfer:\n"
      << "  part_size: 64MiB\n"
      << "  parts_in_flight: " << parts_in_flight << "\n"
      << "  retry: {max_attempts: 5, initial_backoff: 10ms, max_backoff: 200ms}\n";
    return y.str();
  }

  std::size_t Ok(const std::vector<nlohmann::json>& log, const std::string& op,
                 const std::string& key) {
    std::size_t n = 0;
    for (const auto& e : log) {
      n += e["op"] == op && e["key"] == key && e.value("status", 0) / 100 == 2;
    }
    return n;
  }

  void ExpectBigCopied(const std::string& source_etag) {
    auto head = testing::RunTask(ioc_, dst_backend_->Head(kBigKey, storage::HeadOptions()));
    ASSERT_TRUE(head.ok()) << head.status().ToString();
    EXPECT_EQ(head->size, kBigSize);
    EXPECT_EQ(head->etag, source_etag) << "the source's part layout was not mirrored";
    // No byte went through ferry: nothing of the big object was read.
    auto log = src_.Log();
    EXPECT_EQ(Ok(log, "GetObject", kBigKey), 0u);
    for (const auto& e : log) {
      if (e["key"] == kBigKey) {
        EXPECT_NE(e["op"], "UploadPart") << e.dump();
      }
    }
  }
};

TEST_F(PartCopyTest, ObjectAboveFiveGiBIsCopiedByUploadPartCopy) {
  ASSERT_NO_FATAL_FAILURE(StartOneRegion());
  const std::string big_etag = Synthetic(42);
  ASSERT_EQ(s3::EtagPartCount(big_etag), kParts) << big_etag;
  const Written small = PutSource("small.bin", integration::RandomBytes(3 * kMiB, 7));

  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnceYaml(OneEndpointYaml(4), &reports, seconds(300)), engine::kExitMatched);
  ExpectBigCopied(big_etag);
  auto small_head = testing::RunTask(ioc_, dst_backend_->Head("small.bin", storage::HeadOptions()));
  ASSERT_TRUE(small_head.ok()) << small_head.status().ToString();
  EXPECT_EQ(small_head->etag, small.etag);
  auto log = src_.Log();
  EXPECT_EQ(Ok(log, "CreateMultipartUpload", kBigKey), 1u);
  EXPECT_EQ(Ok(log, "UploadPartCopy", kBigKey), static_cast<std::size_t>(kParts));
  EXPECT_EQ(Ok(log, "CompleteMultipartUpload", kBigKey), 1u);
  EXPECT_EQ(Ok(log, "CopyObject", kBigKey), 0u);
  // Below the limit a server-side copy stays one CopyObject.
  EXPECT_EQ(Ok(log, "CopyObject", "small.bin"), 1u);
  EXPECT_EQ(Ok(log, "GetObject", "small.bin"), 0u);
}

TEST_F(PartCopyTest, KilledPartCopyResumesTheSameUpload) {
  // Every UploadPartCopy answer comes 1.5 s late: ferryd is killed with some
  // parts finished and journaled and others not. With two parts in flight a
  // worker takes its next part only after journaling the last one, so once
  // `copied` parts have finished at s3sim at least `copied - 2` of them are
  // journaled, whatever the machine's load (no sleep to guess it).
  constexpr int kInFlight = 2;
  ASSERT_NO_FATAL_FAILURE(StartOneRegion({"--fault", "op=UploadPartCopy,kind=latency,ms=1500"}));
  const std::string big_etag = Synthetic(43);
  const std::string config = WriteYaml(OneEndpointYaml(kInFlight));

  auto ferryd = integration::StartFerryd(config);
  ASSERT_TRUE(ferryd);
  const auto deadline = std::chrono::steady_clock::now() + seconds(120);
  std::size_t copied = 0;
  while (std::chrono::steady_clock::now() < deadline && ferryd->Running()) {
    copied = Ok(src_.Log(), "UploadPartCopy", kBigKey);
    if (copied >= 2 * kInFlight) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_GE(copied, static_cast<std::size_t>(2 * kInFlight)) << "the copy did not get going";
  ASSERT_LT(copied, static_cast<std::size_t>(kParts)) << "too late to interrupt";
  ASSERT_EQ(kill(ferryd->pid(), SIGKILL), 0);
  integration::WaitExit(*ferryd, seconds(10));
  // Parts in flight at the kill finish at s3sim (late): let them land in
  // the log (quiet for longer than the injected latency) before the second
  // run's requests are counted.
  const auto settled = std::chrono::steady_clock::now() + seconds(30);
  std::uint64_t seen = src_.LastSeq();
  auto quiet_since = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - quiet_since < std::chrono::milliseconds(2000) &&
         std::chrono::steady_clock::now() < settled) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (std::uint64_t now = src_.LastSeq(); now != seen) {
      seen = now;
      quiet_since = std::chrono::steady_clock::now();
    }
  }
  const std::uint64_t since = src_.LastSeq();

  ASSERT_TRUE(src_.admin().ClearFaults().ok());
  FerrydRun run = RunFerryd({"--config", config, "--once"}, dir_->path(), seconds(300));
  EXPECT_EQ(run.exit_code, engine::kExitMatched) << run.err;
  auto after = src_.Log(since);
  EXPECT_EQ(Ok(after, "CreateMultipartUpload", kBigKey), 0u) << "the upload was not resumed";
  // Journaled parts are not copied again.
  EXPECT_LE(Ok(after, "UploadPartCopy", kBigKey),
            static_cast<std::size_t>(kParts) - copied + kInFlight)
      << "finished parts were copied again (" << copied << " finished before the kill)";
  EXPECT_EQ(Ok(after, "CompleteMultipartUpload", kBigKey), 1u);
  ExpectBigCopied(big_etag);
}

}  // namespace
}  // namespace ferry::reliability
