// Capabilities probed at start-up (storage/s3/s3_probe.h, Wiring::
// ProbeNewBackends) through the daemon: what the probe sends to each side,
// that it leaves nothing at the replica, that the manifest remembers it, and
// that a capability set in the config is not probed.
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

bool IsProbeKey(const nlohmann::json& e) {
  return e.value("key", std::string()).find(".ferry-probe-") != std::string::npos;
}

std::vector<nlohmann::json> ProbeRequests(const std::vector<nlohmann::json>& log) {
  std::vector<nlohmann::json> out;
  for (const auto& e : log) {
    if (IsProbeKey(e)) out.push_back(e);
  }
  return out;
}

std::multiset<std::string> OpsWithStatus(const std::vector<nlohmann::json>& log) {
  std::multiset<std::string> out;
  for (const auto& e : log) {
    out.insert(e["op"].get<std::string>() + " " + std::to_string(e["status"].get<int>()));
  }
  return out;
}

class ProbeTest : public IntegrationTest {
 protected:
  void SetUp() override {
    IntegrationTest::SetUp();
    ASSERT_NO_FATAL_FAILURE(StartRegions());
    PopulateVelero(2);  // tarballs are multipart: the source can be read-probed
  }
};

TEST_F(ProbeTest, DestinationIsProbedOnceAndTheAnswerRemembered) {
  ConfigOptions o;
  o.probe = true;
  o.log_level = "info";  // the probe's findings in the test output
  const std::uint64_t dseq = dst_.LastSeq();
  const std::uint64_t sseq = src_.LastSeq();
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);

  // s3sim checks CRC32C (the wrong one is refused, the right one returned),
  // gives MD5 ETags (a small PUT, then the two-part upload's HEAD), lists the
  // open upload as declared, and answers HEAD ?partNumber=1 for part 1.
  auto dst_log = dst_.Log(dseq);
  auto dst_probe = ProbeRequests(dst_log);
  std::multiset<std::string> expected = {"PutObject 400",
                                         "PutObject 200",
                                         "HeadObject 200",
                                         "DeleteObject 204",
                                         "PutObject 200",
                                         "DeleteObject 204",
                                         "CreateMultipartUpload 200",
                                         "UploadPart 200",
                                         "UploadPart 200",
                                         "CompleteMultipartUpload 200",
                                         "HeadObject 206",
                                         "HeadObject 200",
                                         "DeleteObject 204"};
  EXPECT_EQ(OpsWithStatus(dst_probe), expected);
  // ListMultipartUploads names no key in the log: one, while the upload is open.
  EXPECT_EQ(Filter(dst_log, "ListMultipartUploads").size(), 1u);
  bool part_one_asked = false;
  for (const auto& e : dst_probe) {
    part_one_asked |= e["op"] == "HeadObject" && e.value("part", std::string()) == "1";
  }
  EXPECT_TRUE(part_one_asked);
  // The source is only read: a listing, HEAD ?partNumber=1 of a tarball and
  // a small object's GET (its ETag against its MD5).
  for (const auto& e : src_.Log(sseq)) {
    EXPECT_TRUE(e["method"] == "GET" || e["method"] == "HEAD") << e.dump();
  }
  for (const auto& [key, summary] : ListAll(*dst_backend_)) {
    EXPECT_EQ(key.find(".ferry-probe-"), std::string::npos) << "probe object left: " << key;
  }
  ExpectReplicaIdentical();

  // A restart within the day asks nothing again.
  const std::uint64_t dseq2 = dst_.LastSeq();
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  EXPECT_TRUE(ProbeRequests(dst_.Log(dseq2)).empty());
}

TEST_F(ProbeTest, CapabilitiesSetInTheConfigAreNotProbed) {
  ConfigOptions o;  // probe = false: head_part_number and checksum_crc32c set
  const std::uint64_t dseq = dst_.LastSeq();
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  EXPECT_TRUE(ProbeRequests(dst_.Log(dseq)).empty());
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::integration
