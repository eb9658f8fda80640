// CRC32C verification end to end against two s3sim processes: a single-part
// source that carries x-amz-checksum-crc32c copied as multipart is verified
// by combining the part CRCs; a byte flipped on the way is caught before the
// upload completes and the object is copied again; without the capability
// the copier falls back to the content hash; verify: checksum refuses an
// endpoint that lacks it.
#include "protocols/base/crc32c.h"
#include "protocols/base/digest.h"
#include "storage/s3/s3_backend.h"
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

constexpr char kWithCrc[] = ", checksum_crc32c: true";
constexpr std::uint64_t kPart = 5 * kMiB;  // the configuration's part_size

class ChecksumTest : public IntegrationTest {
 protected:
  // A backend on `r` that reads checksums (HEAD with x-amz-checksum-mode).
  std::shared_ptr<storage::Backend> CrcBackend(const Region& r) {
    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse(r.url()).value();
    o.client.bucket = r.bucket();
    o.client.credentials = s3::StaticCredentials({kAccessKey, kSecretKey, ""});
    o.capabilities.min_part_size = kMiB;
    o.capabilities.checksum_crc32c = true;
    auto b = storage::OpenS3Backend(ioc_.get_executor(), o);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return b.ok() ? *b : nullptr;
  }
  // A single-part source object uploaded with its CRC32C.
  std::string PutWithCrc(const std::string& key, const std::string& data) {
    io::MemorySource body(data);
    body.SendCrc32c();
    storage::Metadata meta;
    auto r = testing::RunTask(ioc_, src_backend_->Put(key, body, meta));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    written_[key] = {digest::ToHex(digest::Md5(data)), data.size(), r.ok() ? r->etag : ""};
    return crc32c::ToBase64(crc32c::Crc32c(data));
  }
  static ConfigOptions Options(bool crc) {
    ConfigOptions o;
    o.layout = "plain";
    o.multipart_threshold = "2MiB";
    if (crc) o.capabilities_extra = kWithCrc;
    return o;
  }
};

TEST_F(ChecksumTest, SinglePartSourceCopiedAsMultipartIsVerifiedByItsCrc32c) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  const std::string key = "data/one.bin";
  const std::string data = RandomBytes(11 * kMiB + 3, 21);  // 5 + 5 + 1 MiB parts
  const std::string src_crc = PutWithCrc(key, data);
  auto src = CrcBackend(src_);
  auto head = testing::RunTask(ioc_, src->Head(key, storage::HeadOptions()));
  ASSERT_TRUE(head.ok());
  ASSERT_EQ(head->crc32c(), src_crc);  // the source really has it

  ConfigOptions o = Options(true);
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);
  EXPECT_EQ(dst_.Requests("UploadPart"), 3u);
  EXPECT_EQ(VerifiedBy(o, key), "checksum");
  ExpectReplicaIdentical();

  // The replica carries the part checksums: a COMPOSITE over 3 parts, and
  // part 2's own CRC.
  auto dst = CrcBackend(dst_);
  auto dh = testing::RunTask(ioc_, dst->Head(key, storage::HeadOptions()));
  ASSERT_TRUE(dh.ok());
  std::string raw;
  for (std::uint64_t off = 0; off < data.size(); off += kPart) {
    raw += crc32c::ToRaw(crc32c::Crc32c(std::string_view(data).substr(off, kPart)));
  }
  EXPECT_EQ(dh->crc32c(), crc32c::CompositeBase64(raw, 3));
  EXPECT_EQ(dh->checksum_type, "COMPOSITE");
  storage::HeadOptions part2;
  part2.part_number = 2;
  auto p2 = testing::RunTask(ioc_, dst->Head(key, part2));
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->crc32c(),
            crc32c::ToBase64(crc32c::Crc32c(std::string_view(data).substr(kPart, kPart))));
}

TEST_F(ChecksumTest, SmallObjectPutIsVerifiedAndCarriesItsChecksum) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  // A multipart source copied by PUT: no mirrored ETag, the CRC decides.
  const std::string data = RandomBytes(kMiB + 100, 22);
  PutSourceMultipart("data/small.bin", data, kMiB);
  // (PutSourceMultipart sends no checksums: this object has none.)
  const std::string key = "data/crc.bin";
  const std::string src_crc = PutWithCrc(key, RandomBytes(300 * kKiB, 23));
  ConfigOptions o = Options(true);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  auto dh = testing::RunTask(ioc_, CrcBackend(dst_)->Head(key, storage::HeadOptions()));
  ASSERT_TRUE(dh.ok());
  EXPECT_EQ(dh->crc32c(), src_crc);
  EXPECT_EQ(dh->checksum_type, "FULL_OBJECT");
  // Its plain MD5 ETag is the stronger check and stays first.
  EXPECT_EQ(VerifiedBy(o, key), "etag");
  EXPECT_EQ(VerifiedBy(o, "data/small.bin"), "content-hash");
  ExpectReplicaIdentical({"data/small.bin"});  // copied by PUT: a single-part ETag
}

TEST_F(ChecksumTest, FlippedByteInARangedReadIsCaughtAndTheObjectCopiedAgain) {
  // The source ETag is a plain MD5 and the copy is multipart: no ETag can
  // reveal a corrupted part read, only the CRC32C.
  ASSERT_NO_FATAL_FAILURE(StartRegions({"--fault", "op=get,kind=flip,next=1,prefix=data/"}, {}));
  const std::string key = "data/flip.bin";
  PutWithCrc(key, RandomBytes(kPart + kMiB + 1, 24));  // two parts
  ConfigOptions o = Options(true);
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);
  EXPECT_EQ(src_.Stats()["faults"].value("flip", 0), 1);
  // The corrupted upload never completed: aborted, started over.
  ExpectOneUploadAbortedThenCompleted(dst_);
  EXPECT_EQ(VerifiedBy(o, key), "checksum");
  ExpectReplicaIdentical();
}

TEST_F(ChecksumTest, WithoutTheCapabilityTheContentHashVerifiesAsBefore) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  const std::string key = "data/plain.bin";
  PutWithCrc(key, RandomBytes(3 * kMiB + 7, 25));
  ConfigOptions o = Options(false);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  EXPECT_EQ(VerifiedBy(o, key), "content-hash");
  // No checksum was sent: the replica has none.
  auto dh = testing::RunTask(ioc_, CrcBackend(dst_)->Head(key, storage::HeadOptions()));
  ASSERT_TRUE(dh.ok());
  EXPECT_EQ(dh->crc32c(), "");
  ExpectReplicaIdentical();
}

TEST_F(ChecksumTest, VerifyChecksumNeedsTheCapabilityOnBothEndpoints) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  ConfigOptions o = Options(false);
  o.verify = "checksum";
  auto cfg = config::ParseConfig(ConfigYaml(o), "integration.yaml");
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  boost::asio::io_context ioc;
  auto daemon = engine::Daemon::Create(std::move(*cfg), ioc);
  ASSERT_FALSE(daemon.ok());
  EXPECT_NE(daemon.status().ToString().find("checksum_crc32c"), std::string::npos)
      << daemon.status().ToString();

  // With it, an object the source has no CRC32C for (and whose ETag cannot
  // be mirrored) is not accepted; one with a CRC32C is.
  o.capabilities_extra = kWithCrc;
  PutSource("data/nocrc.bin", RandomBytes(3 * kMiB, 26));
  PutWithCrc("data/crc.bin", RandomBytes(3 * kMiB, 27));
  ASSERT_EQ(RunOnce(o), engine::kExitMismatch);
  EXPECT_EQ(VerifiedBy(o, "data/crc.bin"), "checksum");
  EXPECT_NE(VerifiedBy(o, "data/nocrc.bin"), "checksum");
}

}  // namespace
}  // namespace ferry::integration
