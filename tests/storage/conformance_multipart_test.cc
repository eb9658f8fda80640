// Conformance: multipart uploads — ETags, part layout, UploadPartCopy,
// listing and aborting uploads, unknown uploads.
#include "tests/storage/conformance.h"

#include "protocols/s3/types.h"

#include <algorithm>

namespace ferry::conformance {
namespace {

using storage::ByteRange;
using storage::CopySourceRef;
using storage::HeadOptions;

constexpr std::size_t kRealPart = 5u << 20;  // S3's minimum part size

// Checks the ETag form of a completed multipart object.
void ExpectMultipartObject(const Deviations& dev, const storage::Capabilities& caps,
                           const std::string& etag, const std::string& data,
                           const std::vector<std::size_t>& parts) {
  if (caps.etag_is_md5) {
    if (dev.multipart_etag_is_whole_md5) {
      // s3rver: MD5 of the whole object, no "-N" suffix.
      EXPECT_EQ(etag, Md5Hex(data));
    } else {
      EXPECT_EQ(etag, MultipartEtag(data, parts));
    }
  }
}

TEST_P(ConformanceTest, MultipartEtagAndLayout) {
  const std::size_t part = fixture().fast_part_size();
  // Two exact parts plus an odd last part.
  const std::vector<std::size_t> parts = {part, part, 12'345};
  const std::string data = TestData(2 * part + 12'345, 11);
  std::string key = Key("multipart");
  auto put = PutMultipart(key, data, parts);
  FERRY_ASSERT_OK(put);
  ExpectMultipartObject(dev(), caps(), put->etag, data, parts);

  auto head = Head(key);
  FERRY_ASSERT_OK(head);
  EXPECT_EQ(head->size, data.size());
  EXPECT_EQ(head->etag, put->etag);
  auto got = Get(key);
  FERRY_ASSERT_OK(got);
  EXPECT_TRUE(got->data == data) << "content differs";

  HeadOptions p1;
  p1.part_number = 1;
  auto part1 = Head(key, p1);
  HeadOptions p3;
  p3.part_number = 3;
  auto part3 = Head(key, p3);
  if (!caps().head_part_number && s3::EtagPartCount(put->etag) >= 2) {
    // Ceph RGW ignores partNumber: the backend sees a "-N" ETag answered
    // without a parts count and refuses to take it for part N.
    EXPECT_TRUE(FailedWith(part1, ErrorClass::kFatal));
    EXPECT_TRUE(FailedWith(part3, ErrorClass::kFatal));
    return;
  }
  FERRY_ASSERT_OK(part1);
  FERRY_ASSERT_OK(part3);
  if (caps().head_part_number) {
    EXPECT_EQ(part1->size, part);
    EXPECT_EQ(part3->size, 12'345u);
    ASSERT_TRUE(part1->parts_count.has_value());
    EXPECT_EQ(*part1->parts_count, 3);
    if (dev().head_part_etag_is_part_md5) {
      // moto: part 1's own MD5.
      EXPECT_EQ(part1->etag, Md5Hex(std::string_view(data).substr(0, part)));
    } else {
      EXPECT_EQ(part1->etag, put->etag) << "HEAD ?partNumber gives the object's ETag";
    }
  } else {
    // s3rver ignores partNumber: the whole object, no parts count (its
    // multipart ETags carry no "-N", so the backend cannot tell).
    EXPECT_EQ(part1->size, data.size());
    EXPECT_FALSE(part1->parts_count.has_value());
  }
}

TEST_P(ConformanceTest, MultipartExactMultipleOfPartSize) {
  const std::size_t part = fixture().fast_part_size();
  const std::vector<std::size_t> parts = {part, part};
  const std::string data = TestData(2 * part, 12);
  std::string key = Key("multipart-exact");
  auto put = PutMultipart(key, data, parts);
  FERRY_ASSERT_OK(put);
  ExpectMultipartObject(dev(), caps(), put->etag, data, parts);
  auto got = Get(key);
  FERRY_ASSERT_OK(got);
  EXPECT_TRUE(got->data == data);
}

// At least one case with real 5 MiB parts on every fixture, whatever minimum
// the fixture runs with.
TEST_P(ConformanceTest, MultipartRealFiveMiBParts) {
  const std::vector<std::size_t> parts = {kRealPart, 1};
  const std::string data = TestData(kRealPart + 1, 13);
  std::string key = Key("multipart-5mib");
  auto put = PutMultipart(key, data, parts);
  FERRY_ASSERT_OK(put);
  ExpectMultipartObject(dev(), caps(), put->etag, data, parts);
  storage::GetOptions tail;
  tail.range = ByteRange{kRealPart - 10, 11};  // across the part boundary
  auto got = Get(key, tail);
  FERRY_ASSERT_OK(got);
  EXPECT_TRUE(got->data == data.substr(kRealPart - 10, 11));
}

TEST_P(ConformanceTest, UploadPartCopy) {
  const std::size_t part = fixture().fast_part_size();
  const std::string data = TestData(part + 54'321, 14);
  std::string src = Key("upc-src");
  auto src_put = Put(src, data);
  FERRY_ASSERT_OK(src_put);
  std::string dst = Key("upc-dst");
  auto upload = Run(backend().CreateMultipart(dst, {}));
  FERRY_ASSERT_OK(upload);
  CopySourceRef first{"", src, src_put->etag, ByteRange{0, part}};
  auto r1 = Run(backend().UploadPartCopy(dst, *upload, 1, first));
  if (!dev().upload_part_copy) {
    // s3rver: 501 NotImplemented. Nothing to retry: fatal.
    EXPECT_TRUE(FailedWith(r1, ErrorClass::kFatal));
    return;
  }
  FERRY_ASSERT_OK(r1);
  CopySourceRef second{"", src, "", ByteRange{part, data.size() - part}};
  auto r2 = Run(backend().UploadPartCopy(dst, *upload, 2, second));
  FERRY_ASSERT_OK(r2);
  auto done = Run(backend().CompleteMultipart(dst, *upload, {{1, r1->etag}, {2, r2->etag}}));
  FERRY_ASSERT_OK(done);
  ExpectMultipartObject(dev(), caps(), done->etag, data, {part, data.size() - part});
  if (caps().etag_is_md5) {
    EXPECT_EQ(r1->etag, Md5Hex(data.substr(0, part)));
  }
  auto got = Get(dst);
  FERRY_ASSERT_OK(got);
  EXPECT_TRUE(got->data == data);
}

TEST_P(ConformanceTest, ListPartsListUploadsAndAbort) {
  const std::size_t part = fixture().fast_part_size();
  std::string key = Key("open upload");
  auto upload = Run(backend().CreateMultipart(key, {}));
  FERRY_ASSERT_OK(upload);
  const std::string p1 = TestData(part, 21);
  const std::string p2 = TestData(1000, 22);
  io::MemorySource s1(p1);
  io::MemorySource s2(p2);
  auto e1 = Run(backend().UploadPart(key, *upload, 1, s1));
  FERRY_ASSERT_OK(e1);
  auto e2 = Run(backend().UploadPart(key, *upload, 2, s2));
  FERRY_ASSERT_OK(e2);

  auto parts = Run(backend().ListParts(key, *upload));
  if (dev().list_parts) {
    FERRY_ASSERT_OK(parts);
    ASSERT_EQ(parts->size(), 2u);
    EXPECT_EQ((*parts)[0].part_number, 1);
    EXPECT_EQ((*parts)[0].size, part);
    EXPECT_EQ((*parts)[0].etag, e1->etag);
    EXPECT_EQ((*parts)[1].part_number, 2);
    EXPECT_EQ((*parts)[1].size, 1000u);
  } else {
    EXPECT_TRUE(FailedWith(parts, ErrorClass::kFatal));  // s3rver: 405 MethodNotAllowed
  }

  auto uploads = Run(backend().ListUploads(prefix()));
  auto is_ours = [&](const storage::UploadInfo& u) {
    return u.key == key && u.upload_id == *upload;
  };
  if (dev().list_uploads) {
    FERRY_ASSERT_OK(uploads);
    EXPECT_EQ(std::count_if(uploads->begin(), uploads->end(), is_ours), 1);
  } else {
    EXPECT_TRUE(FailedWith(uploads, ErrorClass::kFatal));  // s3rver: 501 NotImplemented
  }

  Status aborted = Run(backend().AbortMultipart(key, *upload));
  if (!dev().abort_upload) {
    EXPECT_TRUE(FailedWith(aborted, ErrorClass::kFatal));  // s3rver: 405 MethodNotAllowed
    return;
  }
  FERRY_ASSERT_OK(aborted);
  if (dev().list_uploads) {
    auto after = Run(backend().ListUploads(prefix()));
    FERRY_ASSERT_OK(after);
    EXPECT_EQ(std::count_if(after->begin(), after->end(), is_ours), 0);
  }
  // The aborted upload is gone for good.
  EXPECT_TRUE(FailedWith(Run(backend().ListParts(key, *upload)), ErrorClass::kNotFound));
  EXPECT_TRUE(FailedWith(Head(key), ErrorClass::kNotFound));
}

TEST_P(ConformanceTest, UnknownUploadIsNotFound) {
  std::string key = Key("no-upload");
  const std::string bogus = "ferry-unknown-upload-id";
  auto parts = Run(backend().ListParts(key, bogus));
  if (dev().list_parts) {
    ASSERT_TRUE(FailedWith(parts, ErrorClass::kNotFound));
    EXPECT_EQ(parts.status().error().key, key);
  } else {
    EXPECT_TRUE(FailedWith(parts, ErrorClass::kFatal));
  }
  Status aborted = Run(backend().AbortMultipart(key, bogus));
  EXPECT_TRUE(FailedWith(aborted, dev().abort_upload ? ErrorClass::kNotFound : ErrorClass::kFatal));
  if (dev().abort_upload) {
    EXPECT_EQ(aborted.error().key, key);
  }

  io::MemorySource body("part");
  auto part = Run(backend().UploadPart(key, bogus, 1, body));
  if (!dev().checks_upload_id) {
    FERRY_EXPECT_OK(part);  // s3rver stores parts for any upload id
  } else if (dev().unknown_upload_part_is_500) {
    // moto: 500 InternalError (an HTML page), which the engine retries
    // before it gives up.
    EXPECT_TRUE(FailedWith(part, ErrorClass::kRetryable));
  } else {
    EXPECT_TRUE(FailedWith(part, ErrorClass::kNotFound));
  }
}

}  // namespace
}  // namespace ferry::conformance
