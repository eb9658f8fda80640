// Dedup that cannot copy the wrong bytes: a content entry names the ETag its
// destination object was written with, the dedup copy is conditional on it,
// and the entry goes when ferry overwrites (or deletes) that object.
//
// Both sequences below end with another object's bytes at B on a copier
// that trusts the entry's key alone (the overwritten replica has the same
// size, so a size check does not see it).
#include "protocols/base/digest.h"
#include "tests/engine/integration/harness.h"

namespace ferry::integration {
namespace {

constexpr std::uint64_t kSize = 4 * kMiB + 4321;  // 5 parts of 1 MiB

class DedupTest : public IntegrationTest {
 protected:
  static ConfigOptions Options() {
    ConfigOptions o;
    o.layout = "plain";
    o.multipart_threshold = "2MiB";
    return o;
  }
  std::string DstMd5(const std::string& key) { return Md5Of(*dst_backend_, key).first; }
};

TEST_F(DedupTest, OverwriteThenReuseEndsWithTheRightBytesAtEveryKey) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  ConfigOptions o = Options();
  const std::string x = RandomBytes(kSize, 71);
  const std::string y = RandomBytes(kSize, 72);  // same size, same part count
  const Written wx = PutSourceMultipart("data/a.bin", x, kMiB);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  ASSERT_EQ(DstMd5("data/a.bin"), wx.md5_hex);

  // A is overwritten at the source with other bytes of the same size and
  // layout, and copied again.
  const Written wy = PutSourceMultipart("data/a.bin", y, kMiB);
  ASSERT_NE(wy.etag, wx.etag);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  ASSERT_EQ(DstMd5("data/a.bin"), wy.md5_hex);

  // B appears with A's old content: same source ETag and size as X had.
  const Written wb = PutSourceMultipart("data/b.bin", x, kMiB);
  ASSERT_EQ(wb.etag, wx.etag);
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(DstMd5("data/b.bin"), wx.md5_hex) << "B holds A's new bytes";
  EXPECT_EQ(DstMd5("data/a.bin"), wy.md5_hex);
  ExpectReplicaIdentical();
  // A second pass copies nothing.
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 0u);
}

TEST_F(DedupTest, AnEntryWhoseObjectChangedBehindFerrysBackIsNotCopied) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  ConfigOptions o = Options();
  o.delete_policy = "keep";  // A stays at the replica after it leaves the source
  const std::string x = RandomBytes(kSize, 81);
  const Written wx = PutSourceMultipart("data/a.bin", x, kMiB);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  ASSERT_TRUE(DeleteSource("data/a.bin").ok());

  // Someone else writes other bytes of the same size at the replica's A.
  const std::string z = RandomBytes(kSize, 82);
  io::MemorySource body(z);
  auto put = testing::RunTask(ioc_, dst_backend_->Put("data/a.bin", body, storage::Metadata()));
  ASSERT_TRUE(put.ok()) << put.status().ToString();

  // B arrives with X's content: ferry's entry names A, whose ETag changed.
  PutSourceMultipart("data/b.bin", x, kMiB);
  const std::uint64_t copies_before = dst_.Requests("CopyObject");
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(DstMd5("data/b.bin"), wx.md5_hex) << "B holds the bytes someone wrote at A";
  EXPECT_EQ(DstMd5("data/a.bin"), digest::ToHex(digest::Md5(z)));  // left alone (keep)
  EXPECT_EQ(dst_.Requests("CopyObject"), copies_before);  // the If-Match HEAD stopped it
}

TEST_F(DedupTest, IdenticalContentIsStillCopiedServerSideAndVerified) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  ConfigOptions o = Options();
  const std::string x = RandomBytes(kSize, 91);
  PutSourceMultipart("data/a.bin", x, kMiB);
  ASSERT_EQ(RunOnce(o), engine::kExitMatched);
  PutSourceMultipart("data/b.bin", x, kMiB);
  const std::uint64_t parts_before = dst_.Requests("UploadPart");
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].server_copies, 1u);
  EXPECT_EQ(dst_.Requests("UploadPart"), parts_before);  // no byte crossed regions
  ExpectReplicaIdentical({"data/b.bin"});  // a CopyObject gives a single-part ETag
}

}  // namespace
}  // namespace ferry::integration
