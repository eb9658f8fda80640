// Conformance: the start-up probe (storage/s3/s3_probe.h) finds what each
// server really does with HEAD ?partNumber=N, x-amz-checksum-crc32c, ETags
// and ListMultipartUploads' key encoding, as declared in its fixture's
// Deviations, and leaves nothing behind.
#include "tests/storage/conformance.h"

namespace ferry::conformance {
namespace {

std::string Notes(const storage::ProbeResult& r) {
  std::string out;
  for (const auto& n : r.notes) out += "\n  " + n;
  return out;
}

TEST_P(ConformanceTest, ProbeWithWritesFindsWhatTheServerDoes) {
  storage::ProbeOptions o;
  o.may_write = true;
  o.prefix = Key("probe/");
  storage::ProbeResult r = Run(backend().Probe(o));
  EXPECT_EQ(r.head_part_number, dev().probe_head_part_number) << Notes(r);
  EXPECT_EQ(r.checksum_crc32c, dev().probe_checksum_crc32c) << Notes(r);
  EXPECT_EQ(r.etag_is_md5, dev().probe_etag_is_md5) << Notes(r);
  EXPECT_EQ(r.uploads_encoded_undeclared, dev().probe_uploads_encoded_undeclared) << Notes(r);
  // The probe objects are deleted and no upload is left open.
  storage::ListOptions lo;
  lo.prefix = o.prefix;
  auto left = ListAll(lo);
  FERRY_ASSERT_OK(left);
  EXPECT_TRUE(left->objects.empty()) << left->objects.front().key;
  if (dev().list_uploads) {
    auto uploads = Run(backend().ListUploads(o.prefix));
    FERRY_ASSERT_OK(uploads);
    EXPECT_TRUE(uploads->empty());
  }
}

TEST_P(ConformanceTest, ReadOnlyProbeUsesAMultipartObjectOrSaysItCannot) {
  storage::ProbeOptions o;
  o.may_write = false;
  o.prefix = Key("read-probe/");
  // Nothing to read yet: undecided, never guessed.
  storage::ProbeResult none = Run(backend().Probe(o));
  EXPECT_FALSE(none.head_part_number.has_value()) << Notes(none);
  EXPECT_FALSE(none.checksum_crc32c.has_value()) << "a read-only probe cannot learn checksums";
  EXPECT_FALSE(none.etag_is_md5.has_value()) << Notes(none);
  EXPECT_FALSE(none.uploads_encoded_undeclared.has_value()) << "needs an upload of its own";

  const std::size_t part = fixture().fast_part_size();
  FERRY_ASSERT_OK(PutMultipart(o.prefix + "mp", TestData(2 * part + 7, 11), {part, part, 7}));
  storage::ProbeResult r = Run(backend().Probe(o));
  // A server whose multipart ETags carry no "-N" shows no object as multipart:
  // the read-only probe has nothing to ask with.
  const std::optional<bool> expected =
      dev().multipart_etag_is_whole_md5 ? std::nullopt : dev().probe_head_part_number;
  EXPECT_EQ(r.head_part_number, expected) << Notes(r);
  EXPECT_FALSE(r.checksum_crc32c.has_value());
  // A multipart object alone says nothing about ETags being MD5s; a small
  // single-part one, read whole, does (single-part ETags are MD5s on every
  // S3 server in the suite).
  EXPECT_FALSE(r.etag_is_md5.has_value()) << Notes(r);
  FERRY_ASSERT_OK(Put(o.prefix + "small", TestData(300, 12)));
  storage::ProbeResult small = Run(backend().Probe(o));
  const std::optional<bool> md5 =
      dev().probe_etag_is_md5.has_value() ? std::optional<bool>(true) : std::nullopt;
  EXPECT_EQ(small.etag_is_md5, md5) << Notes(small);
}

}  // namespace
}  // namespace ferry::conformance
