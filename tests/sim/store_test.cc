// Store: buckets, listing with delimiters and pagination, multipart rules.
#include "sim/store.h"

#include <gtest/gtest.h>

#include "protocols/base/digest.h"
#include "sim/synthetic.h"

namespace ferry::sim {
namespace {

ObjectRecord Obj(const std::string& key, const std::string& body) {
  ObjectRecord r;
  r.key = key;
  r.size = body.size();
  r.etag = digest::ToHex(digest::Md5(body));
  r.body = MakeMemoryBlob(body);
  return r;
}

std::string ReadAll(const Blob& b) {
  std::string s(b.size(), '\0');
  EXPECT_TRUE(b.ReadAt(0, std::span<char>(s.data(), s.size())).ok());
  return s;
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(store_.CreateBucket("bkt").ok()); }
  Store store_{BlobFactory::Memory()};
};

TEST_F(StoreTest, BucketErrors) {
  Status st = store_.CreateBucket("bkt");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, "BucketAlreadyOwnedByYou");
  EXPECT_EQ(st.error().http_status, 409);
  EXPECT_EQ(store_.CreateBucket("A_B").error().code, "InvalidBucketName");
  EXPECT_EQ(store_.GetObject("nope", "k").status().error().code, "NoSuchBucket");
  EXPECT_EQ(store_.GetObject("bkt", "k").status().error().code, "NoSuchKey");
  ASSERT_TRUE(store_.PutObject("bkt", Obj("k", "x")).ok());
  EXPECT_EQ(store_.DeleteBucket("bkt").error().code, "BucketNotEmpty");
}

TEST_F(StoreTest, ListWithDelimiterPaginatesWithoutRepeats) {
  for (const char* k : {"a/1", "a/2", "b", "c/x/1", "c/y", "d", " lead", "z z"}) {
    ASSERT_TRUE(store_.PutObject("bkt", Obj(k, k)).ok());
  }
  std::vector<std::string> seen;
  ListQuery q;
  q.delimiter = "/";
  q.max_keys = 2;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = store_.List("bkt", q);
    ASSERT_TRUE(page.ok());
    for (auto& o : page->contents) seen.push_back(o.key);
    for (auto& p : page->common_prefixes) seen.push_back(p);
    if (!page->truncated) break;
    q.after = page->last;
  }
  std::vector<std::string> want = {" lead", "a/", "b", "c/", "d", "z z"};
  EXPECT_EQ(seen, want);
}

TEST_F(StoreTest, ListPrefixAndAfter) {
  for (const char* k : {"p/1", "p/2", "p/3", "q"}) ASSERT_TRUE(store_.PutObject("bkt", Obj(k, k)).ok());
  ListQuery q;
  q.prefix = "p/";
  q.after = "p/1";
  auto page = store_.List("bkt", q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->contents.size(), 2u);
  EXPECT_EQ(page->contents[0].key, "p/2");
  EXPECT_FALSE(page->truncated);
}

TEST_F(StoreTest, MultipartCompleteValidatesAndConcatenates) {
  auto id = store_.CreateUpload("bkt", "big", {{"content-type", "text/plain"}});
  ASSERT_TRUE(id.ok());
  std::vector<std::string> bodies = {std::string(10, 'a'), std::string(10, 'b'), "tail"};
  for (int i = 0; i < 3; ++i) {
    PartRecord p;
    p.number = i + 1;
    p.size = bodies[i].size();
    p.etag = digest::ToHex(digest::Md5(bodies[i]));
    p.body = MakeMemoryBlob(bodies[i]);
    ASSERT_TRUE(store_.PutPart("bkt", "big", *id, p).ok());
  }
  auto etag = [&](int i) { return "\"" + digest::ToHex(digest::Md5(bodies[i])) + "\""; };
  auto bad_order = store_.CompleteUpload("bkt", "big", *id, {{2, etag(1)}, {1, etag(0)}}, 5);
  EXPECT_EQ(bad_order.status().error().code, "InvalidPartOrder");
  auto bad_etag = store_.CompleteUpload("bkt", "big", *id, {{1, etag(1)}}, 5);
  EXPECT_EQ(bad_etag.status().error().code, "InvalidPart");
  auto small = store_.CompleteUpload("bkt", "big", *id, {{1, etag(0)}, {2, etag(1)}}, 11);
  EXPECT_EQ(small.status().error().code, "EntityTooSmall");
  EXPECT_EQ(small.status().error().http_status, 400);

  auto done = store_.CompleteUpload("bkt", "big", *id, {{1, etag(0)}, {2, etag(1)}, {3, etag(2)}}, 10);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  std::vector<std::string> md5s;
  for (auto& b : bodies) md5s.push_back(digest::Md5(b));
  EXPECT_EQ(done->etag, MultipartEtag(md5s));
  EXPECT_TRUE(done->etag.ends_with("-3"));
  auto obj = store_.GetObject("bkt", "big");
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ(ReadAll(*obj->body), bodies[0] + bodies[1] + bodies[2]);
  EXPECT_EQ(obj->part_sizes, (std::vector<std::uint64_t>{10, 10, 4}));
  // A read spanning parts.
  std::string mid(6, '\0');
  ASSERT_TRUE(obj->body->ReadAt(8, std::span<char>(mid.data(), mid.size())).ok());
  EXPECT_EQ(mid, "aabbbb");
  EXPECT_EQ(store_.GetUpload("bkt", "big", *id).status().error().code, "NoSuchUpload");
}

TEST(BlobTest, DirectoryFactoryRoundTripsAndCleansUp) {
  std::string dir = ::testing::TempDir() + "/simblobs";
  std::string sub;
  {
    auto f = BlobFactory::Directory(dir);
    ASSERT_TRUE(f.ok());
    auto w = (*f)->NewWriter(std::nullopt);
    ASSERT_NE(w, nullptr);
    ASSERT_TRUE(w->Append("hello ").ok());
    ASSERT_TRUE(w->Append("world").ok());
    auto blob = w->Finish();
    ASSERT_TRUE(blob.ok());
    EXPECT_EQ(ReadAll(**blob), "hello world");
    EXPECT_EQ(*Md5HexOfBlob(**blob, 0, 11), digest::ToHex(digest::Md5("hello world")));
  }
}

}  // namespace
}  // namespace ferry::sim
