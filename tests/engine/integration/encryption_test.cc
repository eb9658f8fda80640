// Replication from and to buckets with default KMS encryption (s3sim
// --bucket-encryption): objects whose ETags are not MD5s. Small and
// multipart objects and Velero markers arrive byte-exact, are recorded as
// verified (verified_by sse-content-md5, or checksum where the source has a
// CRC32C), a second pass copies nothing, and bytes damaged in transit are
// caught (Content-MD5, or the opaque part answer that restarts an upload
// sent without it, at a KMS destination; the source's CRC32C for a read from
// a KMS source).
#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

std::vector<std::string> Kms(const char* bucket) {
  return {"--bucket-encryption", std::string(bucket) + "=aws:kms"};
}

class EncryptionTest : public IntegrationTest {
 protected:
  static ConfigOptions Options() {
    ConfigOptions o;  // layout velero: markers after their units
    o.multipart_threshold = "2MiB";
    return o;
  }
  // key -> verified_by for every record.
  std::map<std::string, std::string> VerifiedBy(const ConfigOptions& o) {
    std::map<std::string, std::string> out;
    WithRouteState(o, [&](engine::RouteState& st) {
      Status s = st.Scan([&](const std::string& key, const engine::ObjectState& v) {
        out[key] = v.verified_by;
        return true;
      });
      EXPECT_TRUE(s.ok()) << s.ToString();
    });
    return out;
  }
  // Every source object is at the destination with the same bytes (ETags
  // cannot be compared: one side's are opaque).
  void ExpectSameBytes() {
    auto src = ListAll(*src_backend_);
    auto dst = ListAll(*dst_backend_);
    EXPECT_EQ(src.size(), dst.size());
    for (const auto& [key, s] : src) {
      ASSERT_TRUE(dst.count(key)) << "missing at the destination: " << key;
      auto sm = Md5Of(*src_backend_, key);
      auto dm = Md5Of(*dst_backend_, key);
      EXPECT_EQ(dm, sm) << "bytes differ: " << key;
      auto w = written_.find(key);
      if (w != written_.end()) {
        EXPECT_EQ(dm.first, w->second.md5_hex) << key;
      }
    }
  }
  // Replicates a Velero data set; checks bytes, verification and that a
  // second pass copies nothing. `src_kms`/`dst_kms`: which side encrypts.
  void ReplicateAndCheck(bool src_kms, bool dst_kms) {
    ASSERT_NO_FATAL_FAILURE(StartRegions(src_kms ? Kms(kSrcBucket) : std::vector<std::string>{},
                                         dst_kms ? Kms(kDstBucket) : std::vector<std::string>{}));
    PopulateVelero(2);
    if (src_kms) {
      // The source really holds opaque ETags, multipart ones included.
      const std::string tar = "backups/nightly-1/nightly-1.tar.gz";
      auto h = testing::RunTask(ioc_, src_backend_->Head(tar, storage::HeadOptions()));
      ASSERT_TRUE(h.ok());
      EXPECT_EQ(h->encryption(), s3::Encryption::kSseKms);
      EXPECT_NE(h->etag.find("-"), std::string::npos);
    }
    ConfigOptions o = Options();
    std::vector<engine::PassReport> reports;
    ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
    EXPECT_EQ(reports[0].failed, 0u);
    ExpectSameBytes();
    auto marker = testing::RunTask(
        ioc_, dst_backend_->Head("backups/nightly-2/velero-backup.json", storage::HeadOptions()));
    ASSERT_TRUE(marker.ok());
    EXPECT_EQ(marker->encryption(), dst_kms ? s3::Encryption::kSseKms : s3::Encryption::kNone);
    const auto verified = VerifiedBy(o);
    EXPECT_EQ(verified.size(), ListAll(*src_backend_).size());
    for (const auto& [key, v] : verified) {
      EXPECT_EQ(v, "sse-content-md5") << key;
    }
    const std::uint64_t writes = dst_.Requests("PutObject") + dst_.Requests("UploadPart");
    ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
    EXPECT_EQ(reports[0].copied, 0u);
    EXPECT_EQ(dst_.Requests("PutObject") + dst_.Requests("UploadPart"), writes);
  }
};

TEST_F(EncryptionTest, KmsSourceToPlainDestination) { ReplicateAndCheck(true, false); }

TEST_F(EncryptionTest, PlainSourceToKmsDestination) { ReplicateAndCheck(false, true); }

TEST_F(EncryptionTest, KmsSourceToKmsDestination) { ReplicateAndCheck(true, true); }

TEST_F(EncryptionTest, BytesDamagedOnTheWayToAKmsDestinationAreCaughtByContentMd5) {
  // Unsigned payloads: no SHA-256 of the body, only Content-MD5 stands
  // between a flipped byte and the replica (whose ETag cannot show it).
  ASSERT_NO_FATAL_FAILURE(
      StartRegions({}, {"--bucket-encryption", std::string(kDstBucket) + "=aws:kms", "--fault",
                        "op=put,kind=flip,next=1", "--fault", "op=upload_part,kind=flip,next=1"}));
  PopulateVelero(1);
  ConfigOptions o = Options();
  o.payload_signing = "unsigned";
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  EXPECT_EQ(dst_.Stats()["faults"].value("flip", 0), 2);
  // The damaged PUT is refused (400 BadDigest). The damaged part went out in
  // the first wave, before the destination had shown its opaque ETags: that
  // answer restarts the upload, which then sends Content-MD5 with every part.
  EXPECT_GE(dst_.Stats()["statuses"].value("400", 0), 1) << dst_.Stats().dump();
  ExpectSameBytes();
}

TEST_F(EncryptionTest, BytesDamagedOnTheWayFromAKmsSourceAreCaughtByItsCrc32c) {
  ASSERT_NO_FATAL_FAILURE(StartRegions(
      {"--bucket-encryption", std::string(kSrcBucket) + "=aws:kms", "--fault",
       "op=get,kind=flip,next=2,prefix=data/"},
      {}));
  // Objects written with their CRC32C (as current AWS SDKs do).
  for (auto [key, size] : {std::pair<std::string, std::uint64_t>{"data/small.bin", 300 * kKiB},
                           {"data/large.bin", 6 * kMiB + 17}}) {
    const std::string data = RandomBytes(size, size);
    io::MemorySource body(data);
    body.SendCrc32c();
    auto r = testing::RunTask(ioc_, src_backend_->Put(key, body, storage::Metadata()));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    written_[key] = {digest::ToHex(digest::Md5(data)), data.size(), r->etag};
  }
  ConfigOptions o = Options();
  o.layout = "plain";
  o.capabilities_extra = ", checksum_crc32c: true";
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  EXPECT_EQ(src_.Stats()["faults"].value("flip", 0), 2);
  ExpectSameBytes();
  for (const auto& [key, v] : VerifiedBy(o)) EXPECT_EQ(v, "checksum") << key;
}

TEST_F(EncryptionTest, VerifyEtagRefusesEncryptedObjectsAndUnfitEndpoints) {
  ASSERT_NO_FATAL_FAILURE(StartRegions(Kms(kSrcBucket), {}));
  PutSource("data/a.bin", RandomBytes(100 * kKiB, 5));
  ConfigOptions o = Options();
  o.layout = "plain";
  o.verify = "etag";
  // An encrypted source's ETag can never be shown equal: not replicated.
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMismatch);
  EXPECT_EQ(reports[0].failed, 1u);
  ASSERT_FALSE(reports[0].errors.empty());
  EXPECT_NE(reports[0].errors[0].find("verify: etag"), std::string::npos) << reports[0].errors[0];

  // An endpoint whose ETags are no MD5s: refused at start.
  o.capabilities_extra = ", etag_is_md5: false";
  auto cfg = config::ParseConfig(ConfigYaml(o), "integration.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  boost::asio::io_context ioc;
  auto daemon = engine::Daemon::Create(std::move(*cfg), ioc);
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.status().ToString().find("verify: etag needs capabilities.etag_is_md5"),
            std::string::npos)
      << daemon.status().ToString();
}

TEST_F(EncryptionTest, VerifyEtagMirrorsEveryObjectsEtag) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  PopulateVelero(1);
  // A single-part source above the multipart threshold: sent by one PUT so
  // that its ETag (its MD5) is kept.
  PutSource("data/single.bin", RandomBytes(3 * kMiB + 5, 6));
  ConfigOptions o = Options();
  o.layout = "plain";
  o.verify = "etag";
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  auto src = ListAll(*src_backend_);
  auto dst = ListAll(*dst_backend_);
  for (const auto& [key, s] : src) {
    ASSERT_TRUE(dst.count(key)) << key;
    EXPECT_EQ(dst[key].etag, s.etag) << key;
  }
  for (const auto& [key, v] : VerifiedBy(o)) EXPECT_EQ(v, "etag") << key;
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::integration
