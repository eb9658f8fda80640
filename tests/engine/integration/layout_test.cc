// Part layouts when the source ignores HEAD ?partNumber (Ceph RGW 16 and
// s3rver do; here `head_part_number: false` in the config): the layout is
// inferred from the source ETag's part count and the object's size, the
// destination's part ETags must combine into the source's ETag before
// Complete, and a wrong guess is sent again in ferry's own parts.
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

using LayoutTest = IntegrationTest;

TEST_F(LayoutTest, InferredLayoutIsMirroredAndAWrongGuessIsSentAgain) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  // The AWS CLI's 8 MiB parts: 3 parts of 20 MiB + 3 bytes, a guess that
  // holds. Parts of 6.5 MiB: 14 MiB in 3 parts, guessed as 5 MiB, wrong.
  PutSourceMultipart("data/cli-8mib", RandomBytes(20 * kMiB + 3, 1), 8 * kMiB);
  PutSourceMultipart("data/odd-6.5mib", RandomBytes(14 * kMiB, 2), 6 * kMiB + 512 * kKiB);
  ConfigOptions o;
  o.layout = "plain";
  o.capabilities_extra = ", head_part_number: false";
  const std::uint64_t sseq = src_.LastSeq();
  const std::uint64_t dseq = dst_.LastSeq();
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].copied, 2u);
  EXPECT_EQ(reports[0].failed, 0u);

  // The guessed layout's replica has the source's ETag; the other has its
  // own parts, and the same bytes.
  ExpectReplicaIdentical({"data/odd-6.5mib"});
  auto dst = ListAll(*dst_backend_);
  EXPECT_EQ(dst["data/cli-8mib"].etag, written_["data/cli-8mib"].etag);
  EXPECT_NE(dst["data/odd-6.5mib"].etag, written_["data/odd-6.5mib"].etag);
  EXPECT_EQ(VerifiedBy(o, "data/cli-8mib"), "etag");
  EXPECT_EQ(VerifiedBy(o, "data/odd-6.5mib"), "content-hash");

  // Nothing asked the source for a part; the wrong guess was one upload
  // aborted before Complete and a second one completed.
  for (const auto& e : src_.Log(sseq)) {
    EXPECT_TRUE(e.value("part", std::string()).empty()) << e.dump();
  }
  auto log = dst_.Log(dseq);
  EXPECT_EQ(Filter(log, "CreateMultipartUpload", "data/odd").size(), 2u);
  EXPECT_EQ(Filter(log, "AbortMultipartUpload", "data/odd").size(), 1u);
  EXPECT_EQ(Filter(log, "CompleteMultipartUpload", "data/odd").size(), 1u);
  EXPECT_EQ(Filter(log, "CreateMultipartUpload", "data/cli").size(), 1u);
  EXPECT_EQ(Filter(log, "UploadPart", "data/cli").size(), 3u);
}

}  // namespace
}  // namespace ferry::integration
