// The file backend's object operations: put/get/head, atomicity, ranges,
// metadata, copy, delete and its directory cleanup, hostile keys.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "protocols/base/digest.h"
#include "storage/file/key_codec.h"
#include "test_util.h"

namespace ferry::storage::testing {
namespace {

namespace fs = std::filesystem;

std::string Md5Hex(const std::string& s) { return digest::ToHex(digest::Md5(s)); }

TEST_F(FileBackendTest, DescribesItself) {
  std::string canon = fs::canonical(root_).string();
  EXPECT_EQ(backend_->Describe(), "file://" + canon);
  EXPECT_EQ(backend_->endpoint_id(), "file:" + canon);
  EXPECT_EQ(backend_->bucket(), canon);
  const Capabilities& c = backend_->capabilities();
  EXPECT_TRUE(c.multipart && c.server_side_copy && c.head_part_number && c.etag_is_md5 &&
              c.list_common_prefixes && c.conditional_get);
  EXPECT_FALSE(c.cross_bucket_copy);
  EXPECT_EQ(c.min_part_size, 1024u);
}

TEST_F(FileBackendTest, OpenWithoutCreateFailsOnMissingRoot) {
  FileBackendOptions o;
  o.root = parent_ + "/missing";
  o.create_if_missing = false;
  auto b = OpenFileBackend(io_.get_executor(), o);
  ASSERT_FALSE(b.ok());
  EXPECT_TRUE(b.status().Is(ErrorClass::kNotFound)) << b.status().ToString();
}

TEST_F(FileBackendTest, PutGetRoundTripSizes) {
  for (std::size_t n : {0u, 1u, 4095u, 4096u, 4097u, 100003u}) {
    SCOPED_TRACE(n);
    std::string data = Pattern(n, static_cast<unsigned>(n));
    std::string key = "obj-" + std::to_string(n);
    auto put = Put(key, data);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_EQ(put->etag, Md5Hex(data));
    auto got = GetString(key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, data);
    auto head = Run(backend_->Head(key, {}));
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->size, n);
    EXPECT_EQ(head->etag, Md5Hex(data));
    EXPECT_FALSE(head->parts_count.has_value());
    auto age = std::chrono::system_clock::now() - head->last_modified;
    EXPECT_LT(std::chrono::abs(age), std::chrono::minutes(5));
  }
}

TEST_F(FileBackendTest, OverwriteReplacesAndLeavesOneSidecar) {
  ASSERT_TRUE(Put("k", "old").ok());
  ASSERT_TRUE(Put("k", "new!").ok());
  EXPECT_EQ(*GetString("k"), "new!");
  EXPECT_EQ(Run(backend_->Head("k", {}))->etag, Md5Hex("new!"));
  EXPECT_EQ(FilesUnder("meta"), 1u);
}

TEST_F(FileBackendTest, FailedPutLeavesNothingVisible) {
  ASSERT_TRUE(Put("obj", "old").ok());
  std::vector<std::string> before = VisibleTree();
  FailingSource body(50000, 20000);  // cut after several io_chunks
  auto r = Run(backend_->Put("obj", body, {}));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kRetryable)) << r.status().ToString();
  EXPECT_EQ(r.status().error().key, "obj");
  FailingSource body2(50000, 20000);
  ASSERT_FALSE(Run(backend_->Put("new/deep/obj", body2, {})).ok());
  // A source that ends early (short body) must not produce an object either.
  struct Short final : io::BodySource {
    std::uint64_t size() const override { return 10; }
    Task<Result<std::size_t>> Read(std::span<char> buf) override {
      if (done) co_return std::size_t{0};
      done = true;
      buf[0] = 'z';
      co_return std::size_t{1};
    }
    Status Rewind() override { return Status::Ok(); }
    bool done = false;
  } short_body;
  ASSERT_FALSE(Run(backend_->Put("short", short_body, {})).ok());

  EXPECT_EQ(*GetString("obj"), "old");
  EXPECT_EQ(VisibleTree(), before);
  EXPECT_EQ(FilesUnder("tmp"), 0u);
  EXPECT_EQ(FilesUnder("meta"), 1u);
  auto list = ListAll({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->contents.size(), 1u);
  EXPECT_EQ(list->contents[0].key, "obj");
}

TEST_F(FileBackendTest, HostileKeysRoundTripInsideRoot) {
  std::vector<std::string> keys = {"../x",
                                   "/leading",
                                   "a//b",
                                   "a/./b",
                                   "a/../b",
                                   "trailing ",
                                   "%2F",
                                   "a",
                                   "a/b",
                                   "a/",
                                   "..",
                                   ".",
                                   ".ferry",
                                   ".ferry/tmp/x",
                                   "a\\b",
                                   "caf\xc3\xa9",
                                   std::string(1024, 'k'),
                                   std::string(1024, '%'),
                                   std::string(1024, '/'),
                                   "seg/" + std::string(300, 's') + "/x",
                                   "seg/" + std::string(300, 's')};
  for (const std::string& k : keys) {
    auto put = Put(k, "v:" + k);
    ASSERT_TRUE(put.ok()) << k.substr(0, 40) << ": " << put.status().ToString();
  }
  for (const std::string& k : keys) {
    auto got = GetString(k);
    ASSERT_TRUE(got.ok()) << k.substr(0, 40) << ": " << got.status().ToString();
    EXPECT_EQ(*got, "v:" + k);
  }
  // Nothing escaped: the root's parent holds only the root.
  std::vector<std::string> siblings;
  for (auto& e : fs::directory_iterator(parent_)) siblings.push_back(e.path().filename());
  EXPECT_EQ(siblings, std::vector<std::string>{"root"});
  // The listing is exactly the keys, in byte order.
  auto list = ListAll({.max_keys = 7});
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  std::vector<std::string> want = keys;
  std::sort(want.begin(), want.end());
  std::vector<std::string> got;
  for (auto& o : list->contents) got.push_back(o.key);
  EXPECT_EQ(got, want);
  // Each deletes cleanly; afterwards the visible tree is empty.
  for (const std::string& k : keys) ASSERT_TRUE(Run(backend_->Delete(k)).ok());
  EXPECT_TRUE(VisibleTree().empty());
  EXPECT_EQ(FilesUnder("meta"), 0u);
}

TEST_F(FileBackendTest, KeyLimits) {
  auto r = Put(std::string(1025, 'k'), "x");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(Put("", "x").status().Is(ErrorClass::kInvalidArgument));
}

TEST_F(FileBackendTest, RangesPreconditionsAndMissingKeys) {
  std::string data = Pattern(10000);
  ASSERT_TRUE(Put("r", data).ok());
  EXPECT_EQ(*GetString("r", {.range = ByteRange{0, 1}}), data.substr(0, 1));
  EXPECT_EQ(*GetString("r", {.range = ByteRange{4095, 4098}}), data.substr(4095, 4098));
  EXPECT_EQ(*GetString("r", {.range = ByteRange{9990, 100}}), data.substr(9990));  // end clamped
  auto beyond = GetString("r", {.range = ByteRange{10000, 1}});
  EXPECT_TRUE(beyond.status().Is(ErrorClass::kInvalidArgument)) << beyond.status().ToString();
  EXPECT_TRUE(GetString("r", {.range = ByteRange{0, 0}}).status().Is(ErrorClass::kInvalidArgument));

  EXPECT_TRUE(GetString("r", {.if_match = Md5Hex(data)}).ok());
  EXPECT_TRUE(GetString("r", {.if_match = "\"" + Md5Hex(data) + "\""}).ok());
  auto stale = GetString("r", {.if_match = Md5Hex("other")});
  EXPECT_TRUE(stale.status().Is(ErrorClass::kPrecondition)) << stale.status().ToString();
  auto head_stale = Run(backend_->Head("r", {.if_match = Md5Hex("other")}));
  EXPECT_TRUE(head_stale.status().Is(ErrorClass::kPrecondition));

  for (std::string missing : {"nope", "r/under-an-object", "x/y/z"}) {
    auto g = GetString(missing);
    ASSERT_TRUE(g.status().Is(ErrorClass::kNotFound)) << g.status().ToString();
    EXPECT_EQ(g.status().error().key, missing);
    EXPECT_EQ(g.status().error().code, "NoSuchKey");
    EXPECT_TRUE(Run(backend_->Head(missing, {})).status().Is(ErrorClass::kNotFound));
  }
}

TEST_F(FileBackendTest, MetadataRoundTripAndCopy) {
  Metadata m;
  m.content_type = "application/json";
  m.content_encoding = "gzip";
  m.cache_control = "no-cache";
  m.content_disposition = "attachment; filename=\"x.json\"";
  m.content_language = "en";
  m.expires = "Thu, 01 Dec 2094 16:00:00 GMT";
  m.user = {{"velero-backup", "b1"}, {"unicode", "caf\xc3\xa9"}};
  m.storage_class = "STANDARD_IA";
  ASSERT_TRUE(Put("meta/obj", "{}", m).ok());
  auto h = Run(backend_->Head("meta/obj", {}));
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->metadata.content_type, m.content_type);
  EXPECT_EQ(h->metadata.content_encoding, m.content_encoding);
  EXPECT_EQ(h->metadata.cache_control, m.cache_control);
  EXPECT_EQ(h->metadata.content_disposition, m.content_disposition);
  EXPECT_EQ(h->metadata.content_language, m.content_language);
  EXPECT_EQ(h->metadata.expires, m.expires);
  EXPECT_EQ(h->metadata.user, m.user);
  EXPECT_EQ(h->metadata.storage_class, "STANDARD_IA");
  auto list = ListAll({.prefix = "meta/"});
  ASSERT_EQ(list->contents.size(), 1u);
  EXPECT_EQ(list->contents[0].storage_class, "STANDARD_IA");
  EXPECT_EQ(list->contents[0].etag, Md5Hex("{}"));
  EXPECT_EQ(list->contents[0].size, 2u);

  // Copy keeps metadata; Copy with replacement metadata replaces it.
  auto c1 = Run(backend_->Copy({.key = "meta/obj"}, "meta/copy", std::nullopt));
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  EXPECT_EQ(c1->etag, Md5Hex("{}"));
  EXPECT_EQ(Run(backend_->Head("meta/copy", {}))->metadata.user, m.user);
  Metadata other;
  other.content_type = "text/plain";
  ASSERT_TRUE(Run(backend_->Copy({.key = "meta/obj"}, "meta/obj", other)).ok());
  auto h2 = Run(backend_->Head("meta/obj", {}));
  EXPECT_EQ(h2->metadata.content_type, "text/plain");
  EXPECT_TRUE(h2->metadata.user.empty());
  EXPECT_EQ(*GetString("meta/obj"), "{}");

  auto bad = Run(backend_->Copy({.key = "meta/obj", .if_match = Md5Hex("x")}, "z", std::nullopt));
  EXPECT_TRUE(bad.status().Is(ErrorClass::kPrecondition));
  auto cross = Run(backend_->Copy({.bucket = "/elsewhere", .key = "meta/obj"}, "z", std::nullopt));
  EXPECT_TRUE(cross.status().Is(ErrorClass::kInvalidArgument));
  auto missing = Run(backend_->Copy({.key = "nope"}, "z", std::nullopt));
  EXPECT_TRUE(missing.status().Is(ErrorClass::kNotFound));
}

TEST_F(FileBackendTest, DeleteRemovesEmptyParentsOnly) {
  ASSERT_TRUE(Put("x/y/z", "1").ok());
  ASSERT_TRUE(Put("x/w", "2").ok());
  ASSERT_TRUE(Run(backend_->Delete("x/y/z")).ok());
  EXPECT_EQ(VisibleTree(), (std::vector<std::string>{"x%d/", "x%d/w"}));
  ASSERT_TRUE(Run(backend_->Delete("x/w")).ok());
  EXPECT_TRUE(VisibleTree().empty());
  EXPECT_TRUE(Run(backend_->Delete("x/w")).ok());  // missing is fine
  EXPECT_TRUE(Run(backend_->Delete("never/was")).ok());
  EXPECT_EQ(FilesUnder("meta"), 0u);
  EXPECT_TRUE(fs::is_directory(root_));  // the root itself stays

  ASSERT_TRUE(Put("b/1", "1").ok());
  ASSERT_TRUE(Put("b/2", "2").ok());
  auto errs = Run(backend_->DeleteBatch({"b/1", "b/2", "b/missing"}));
  ASSERT_TRUE(errs.ok());
  EXPECT_TRUE(errs->empty());
  EXPECT_TRUE(VisibleTree().empty());
  std::vector<std::string> many;
  for (int i = 0; i < 1200; ++i) many.push_back("m/" + std::to_string(i));
  for (int i = 0; i < 1200; i += 100) ASSERT_TRUE(Put(many[i], "x").ok());
  auto all = Run(backend_->DeleteBatch(many));  // no 1000-key limit here
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(VisibleTree().empty());
}

TEST_F(FileBackendTest, ForeignFilesAreListedOrIgnoredSafely) {
  // A file someone copied into the tree is an object; its ETag is computed.
  { std::ofstream(root_ + "/plain.txt") << "hello"; }
  { std::ofstream(root_ + "/.hidden") << "x"; }   // not a canonical name
  fs::create_directories(root_ + "/lost+found");  // a directory without "%d"
  { std::ofstream(root_ + "/bad%zz") << "x"; }    // not a canonical name
  auto list = ListAll({});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->contents.size(), 1u);
  EXPECT_EQ(list->contents[0].key, "plain.txt");
  EXPECT_EQ(list->contents[0].etag, Md5Hex("hello"));
  EXPECT_EQ(*GetString("plain.txt"), "hello");
}

TEST_F(FileBackendTest, ReadersSeeOldOrNewNeverAMix) {
  const std::string a(100000, 'a'), b(100000, 'b');
  const Metadata meta;
  ASSERT_TRUE(Put("k", a).ok());
  for (int round = 0; round < 4; ++round) {
    io::MemorySource src(round % 2 == 0 ? b : a);
    std::vector<std::unique_ptr<io::StringSink>> sinks;
    std::vector<std::future<Result<ObjectInfo>>> gets;
    io_.restart();
    // Readers start before, during and after the writer (4 KiB chunks
    // interleave them on the one thread).
    auto put = boost::asio::co_spawn(io_, backend_->Put("k", src, meta), boost::asio::use_future);
    for (int i = 0; i < 4; ++i) {
      sinks.push_back(std::make_unique<io::StringSink>());
      gets.push_back(boost::asio::co_spawn(io_, backend_->Get("k", {}, *sinks.back()),
                                           boost::asio::use_future));
    }
    io_.run();
    ASSERT_TRUE(put.get().ok());
    for (std::size_t i = 0; i < gets.size(); ++i) {
      Result<ObjectInfo> info = gets[i].get();
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      const std::string& got = sinks[i]->data();
      EXPECT_TRUE(got == a || got == b) << "reader " << i << " saw a mix";
      EXPECT_EQ(info->etag, Md5Hex(got));
    }
  }
}

TEST_F(FileBackendTest, OpenSweepsAbandonedTempFiles) {
  const std::string tmp = root_ + "/.ferry/tmp/";
  { std::ofstream(tmp + "o-old") << "abandoned"; }
  { std::ofstream(tmp + "o-fresh") << "in use"; }
  fs::last_write_time(tmp + "o-old", fs::file_time_type::clock::now() - std::chrono::hours(48));
  Reopen();
  EXPECT_FALSE(fs::exists(tmp + "o-old"));
  EXPECT_TRUE(fs::exists(tmp + "o-fresh"));
}

}  // namespace
}  // namespace ferry::storage::testing
