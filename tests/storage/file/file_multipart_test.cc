// Emulated multipart uploads: ETag form, part layout through HEAD, the
// validations of Complete, ListParts/ListUploads, Abort, UploadPartCopy.
#include <gtest/gtest.h>

#include "protocols/base/digest.h"
#include "test_util.h"

namespace ferry::storage::testing {
namespace {

class FileMultipartTest : public FileBackendTest {
 protected:
  Result<PutResult> Part(const std::string& key, const std::string& id, int n,
                         const std::string& data) {
    io::MemorySource src(data);
    return Run(backend_->UploadPart(key, id, n, src));
  }
  std::string Create(const std::string& key, const Metadata& meta = {}) {
    auto id = Run(backend_->CreateMultipart(key, meta));
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }
};

TEST_F(FileMultipartTest, CompleteGivesS3EtagAndPartLayout) {
  Metadata meta;
  meta.content_type = "application/octet-stream";
  meta.user["k"] = "v";
  std::string id = Create("mp/obj", meta);
  std::string p1 = Pattern(5000, 1), p2 = Pattern(1024, 2), p3 = Pattern(10, 3);
  std::vector<CompletedPart> done;
  std::string md5s;
  int n = 0;
  for (const std::string* p : {&p1, &p2, &p3}) {
    auto r = Part("mp/obj", id, ++n, *p);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->etag, digest::ToHex(digest::Md5(*p)));
    done.push_back({n, "\"" + r->etag + "\""});  // quoted, as S3 clients pass them
    md5s += digest::Md5(*p);
  }
  auto parts = Run(backend_->ListParts("mp/obj", id));
  ASSERT_TRUE(parts.ok());
  ASSERT_EQ(parts->size(), 3u);
  EXPECT_EQ((*parts)[1].part_number, 2);
  EXPECT_EQ((*parts)[1].size, 1024u);
  // Nothing visible before Complete.
  EXPECT_TRUE(VisibleTree().empty());

  auto c = Run(backend_->CompleteMultipart("mp/obj", id, done));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string want_etag = digest::ToHex(digest::Md5(md5s)) + "-3";
  EXPECT_EQ(c->etag, want_etag);
  EXPECT_EQ(*GetString("mp/obj"), p1 + p2 + p3);

  auto h = Run(backend_->Head("mp/obj", {}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->size, 6034u);
  EXPECT_EQ(h->etag, want_etag);
  EXPECT_EQ(h->parts_count, 3);
  EXPECT_EQ(h->metadata.user, meta.user);
  EXPECT_EQ(h->metadata.content_type, meta.content_type);
  auto h2 = Run(backend_->Head("mp/obj", {.part_number = 2}));
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(h2->size, 1024u);
  EXPECT_EQ(h2->parts_count, 3);
  EXPECT_EQ(h2->etag, want_etag);
  EXPECT_EQ(Run(backend_->Head("mp/obj", {.part_number = 3}))->size, 10u);
  EXPECT_TRUE(
      Run(backend_->Head("mp/obj", {.part_number = 4})).status().Is(ErrorClass::kInvalidArgument));
  // A single-PUT object has one part: itself.
  ASSERT_TRUE(Put("single", "abc").ok());
  auto hs = Run(backend_->Head("single", {.part_number = 1}));
  ASSERT_TRUE(hs.ok());
  EXPECT_EQ(hs->size, 3u);
  EXPECT_TRUE(
      Run(backend_->Head("single", {.part_number = 2})).status().Is(ErrorClass::kInvalidArgument));

  // The upload is gone; its staging area is empty.
  EXPECT_TRUE(Run(backend_->ListParts("mp/obj", id)).status().Is(ErrorClass::kNotFound));
  EXPECT_TRUE(Run(backend_->ListUploads(""))->empty());
  EXPECT_EQ(FilesUnder("uploads"), 0u);
  EXPECT_EQ(FilesUnder("tmp"), 0u);
}

TEST_F(FileMultipartTest, CompleteValidates) {
  std::string id = Create("v");
  std::string big = Pattern(2000), small = Pattern(100);
  auto e1 = Part("v", id, 1, small);
  auto e2 = Part("v", id, 2, big);
  auto e3 = Part("v", id, 3, big);
  ASSERT_TRUE(e1.ok() && e2.ok() && e3.ok());
  auto expect_fail = [&](std::vector<CompletedPart> parts, const char* code) {
    auto r = Run(backend_->CompleteMultipart("v", id, parts));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument)) << r.status().ToString();
    EXPECT_EQ(r.status().error().code, code) << r.status().ToString();
  };
  expect_fail({{1, e1->etag}, {2, e2->etag}}, "EntityTooSmall");  // 100 < 1024, not last
  expect_fail({{3, e3->etag}, {2, e2->etag}}, "InvalidPartOrder");
  expect_fail({{2, e2->etag}, {2, e2->etag}}, "InvalidPartOrder");
  expect_fail({{2, e2->etag}, {4, e2->etag}}, "InvalidPart");  // never uploaded
  expect_fail({{2, e1->etag}}, "InvalidPart");                 // wrong ETag
  expect_fail({}, "MalformedXML");
  // Still open after the failures; a subset of the parts completes.
  auto ok = Run(backend_->CompleteMultipart("v", id, {{2, e2->etag}, {3, e3->etag}}));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*GetString("v"), big + big);
  // Unknown, malformed or mismatched upload ids are NoSuchUpload.
  for (std::string bad : {id, std::string("../../../etc"), std::string(32, 'f')}) {
    auto r = Part("v", bad, 1, "x");
    EXPECT_TRUE(r.status().Is(ErrorClass::kNotFound)) << r.status().ToString();
  }
  std::string id2 = Create("w");
  EXPECT_TRUE(Part("other-key", id2, 1, "x").status().Is(ErrorClass::kNotFound));
  EXPECT_TRUE(Part("w", id2, 0, "x").status().Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(Part("w", id2, 10001, "x").status().Is(ErrorClass::kInvalidArgument));
}

TEST_F(FileMultipartTest, ReuploadedPartReplacesTheOld) {
  std::string id = Create("re");
  ASSERT_TRUE(Part("re", id, 1, "first").ok());
  auto second = Part("re", id, 1, "second");
  ASSERT_TRUE(second.ok());
  auto parts = Run(backend_->ListParts("re", id));
  ASSERT_EQ(parts->size(), 1u);
  EXPECT_EQ((*parts)[0].etag, second->etag);
  EXPECT_EQ((*parts)[0].size, 6u);
  ASSERT_TRUE(Run(backend_->CompleteMultipart("re", id, {{1, second->etag}})).ok());
  EXPECT_EQ(*GetString("re"), "second");
}

TEST_F(FileMultipartTest, ListUploadsAndAbort) {
  std::string a = Create("up/a");
  std::string b1 = Create("up/b");
  std::string b2 = Create("up/b");
  std::string c = Create("other");
  ASSERT_TRUE(Part("up/a", a, 1, "data").ok());
  auto ups = Run(backend_->ListUploads("up/"));
  ASSERT_TRUE(ups.ok());
  ASSERT_EQ(ups->size(), 3u);
  EXPECT_EQ((*ups)[0].key, "up/a");
  EXPECT_EQ((*ups)[0].upload_id, a);
  EXPECT_EQ((*ups)[1].key, "up/b");
  EXPECT_EQ((*ups)[2].key, "up/b");
  EXPECT_EQ(Run(backend_->ListUploads(""))->size(), 4u);

  ASSERT_TRUE(Run(backend_->AbortMultipart("up/a", a)).ok());
  EXPECT_TRUE(Run(backend_->AbortMultipart("up/a", a)).Is(ErrorClass::kNotFound));
  EXPECT_TRUE(Part("up/a", a, 2, "late").status().Is(ErrorClass::kNotFound));
  EXPECT_EQ(Run(backend_->ListUploads("up/"))->size(), 2u);
  for (auto& [k, id] : {std::pair{"up/b", b1}, {"up/b", b2}, {"other", c}}) {
    ASSERT_TRUE(Run(backend_->AbortMultipart(k, id)).ok());
  }
  EXPECT_TRUE(Run(backend_->ListUploads(""))->empty());
  EXPECT_EQ(FilesUnder("uploads"), 0u);
  EXPECT_EQ(FilesUnder("tmp"), 0u);
  EXPECT_TRUE(VisibleTree().empty());
}

TEST_F(FileMultipartTest, UploadPartCopyTakesRanges) {
  std::string src = Pattern(5000, 9);
  ASSERT_TRUE(Put("src", src).ok());
  std::string id = Create("dst");
  auto p1 =
      Run(backend_->UploadPartCopy("dst", id, 1, {.key = "src", .range = ByteRange{0, 2048}}));
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->etag, digest::ToHex(digest::Md5(src.substr(0, 2048))));
  auto p2 = Run(backend_->UploadPartCopy("dst", id, 2, {.key = "src"}));
  ASSERT_TRUE(p2.ok());
  auto bad =
      Run(backend_->UploadPartCopy("dst", id, 3, {.key = "src", .range = ByteRange{4000, 2000}}));
  EXPECT_TRUE(bad.status().Is(ErrorClass::kInvalidArgument));
  auto stale = Run(backend_->UploadPartCopy("dst", id, 3, {.key = "src", .if_match = "0123"}));
  EXPECT_TRUE(stale.status().Is(ErrorClass::kPrecondition));
  ASSERT_TRUE(Run(backend_->CompleteMultipart("dst", id, {{1, p1->etag}, {2, p2->etag}})).ok());
  EXPECT_EQ(*GetString("dst"), src.substr(0, 2048) + src);
}

TEST_F(FileMultipartTest, LargeUploadStreamsInChunks) {
  // Parts far larger than io_chunk (4 KiB): exercises the chunked copy.
  std::string p1 = Pattern(300000, 4), p2 = Pattern(123457, 5);
  std::string id = Create("big");
  auto e1 = Part("big", id, 1, p1);
  auto e2 = Part("big", id, 2, p2);
  ASSERT_TRUE(e1.ok() && e2.ok());
  ASSERT_TRUE(Run(backend_->CompleteMultipart("big", id, {{1, e1->etag}, {2, e2->etag}})).ok());
  auto got = GetString("big", {.range = ByteRange{299990, 20}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (p1 + p2).substr(299990, 20));
  EXPECT_EQ(*GetString("big"), p1 + p2);
}

}  // namespace
}  // namespace ferry::storage::testing
