// Listing: UTF-8 byte order across directory boundaries ("a.b" < "a/" <
// "a0"), prefixes, delimiters, start_after and pagination, checked against a
// simple in-memory model of S3's ListObjectsV2.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <set>

#include "test_util.h"

namespace ferry::storage::testing {
namespace {

struct Expected {
  std::vector<std::string> keys;
  std::vector<std::string> prefixes;
  std::vector<std::string> order;  // keys and prefixes interleaved, as paged
};

Expected Model(const std::set<std::string>& keys, const ListOptions& o) {
  Expected e;
  for (const std::string& k : keys) {
    if (!k.starts_with(o.prefix) || k <= o.start_after) continue;
    std::size_t pos =
        o.delimiter.empty() ? std::string::npos : k.find(o.delimiter, o.prefix.size());
    if (pos != std::string::npos) {
      std::string cp = k.substr(0, pos + o.delimiter.size());
      if (!e.prefixes.empty() && e.prefixes.back() == cp) continue;
      e.prefixes.push_back(cp);
      e.order.push_back(cp);
    } else {
      e.keys.push_back(k);
      e.order.push_back(k);
    }
  }
  return e;
}

class FileListTest : public FileBackendTest {
 protected:
  void PutAll(const std::set<std::string>& keys) {
    for (const std::string& k : keys) ASSERT_TRUE(Put(k, k).ok()) << k;
  }
  void Check(const std::set<std::string>& keys, ListOptions o) {
    SCOPED_TRACE(::testing::Message()
                 << "prefix='" << o.prefix << "' delimiter='" << o.delimiter << "' start_after='"
                 << o.start_after << "' max_keys=" << o.max_keys);
    Expected want = Model(keys, o);
    int pages = 0;
    auto got = ListAll(o, &pages);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    std::vector<std::string> got_keys;
    for (auto& c : got->contents) {
      got_keys.push_back(c.key);
      EXPECT_EQ(c.size, c.key.size());  // each object holds its key
    }
    EXPECT_EQ(got_keys, want.keys);
    EXPECT_EQ(got->common_prefixes, want.prefixes);
    int items = static_cast<int>(want.order.size());
    EXPECT_EQ(pages, std::max(1, (items + o.max_keys - 1) / o.max_keys));
    if (o.max_keys == 1) {  // one item per page: the pages show the merged order
      std::vector<std::string> order;
      ListOptions p = o;
      for (;;) {
        auto page = Run(backend_->List(p));
        ASSERT_TRUE(page.ok());
        for (auto& c : page->contents) order.push_back(c.key);
        for (auto& c : page->common_prefixes) order.push_back(c);
        if (!page->is_truncated) break;
        p.continuation_token = page->next_continuation_token;
      }
      EXPECT_EQ(order, want.order);
    }
  }
};

TEST_F(FileListTest, OrderAroundSlash) {
  std::set<std::string> keys = {"a.b", "a/x", "a0", "a", "a/", "a//", "b", "a-", "a/x/y", "a!"};
  PutAll(keys);
  auto all = ListAll({});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> got;
  for (auto& c : all->contents) got.push_back(c.key);
  EXPECT_EQ(got, (std::vector<std::string>{"a", "a!", "a-", "a.b", "a/", "a//", "a/x", "a/x/y",
                                           "a0", "b"}));
  Check(keys, {.delimiter = "/", .max_keys = 1});
  Check(keys, {.prefix = "a/", .delimiter = "/", .max_keys = 1});
  Check(keys, {.prefix = "a", .delimiter = "/", .max_keys = 2});
  Check(keys, {.delimiter = "/", .start_after = "a.b", .max_keys = 1});
  Check(keys, {.delimiter = "/", .start_after = "a/x", .max_keys = 1});
  Check(keys, {.prefix = "a/x", .max_keys = 1000});
  Check(keys, {.prefix = "zzz", .delimiter = "/", .max_keys = 1000});
}

TEST_F(FileListTest, MatchesModelOnRandomTrees) {
  std::mt19937 rng(42);
  const std::vector<std::string> alphabet = {"a", "b", "/", "/", ".", "0", "\xc3\xa9", "%", " "};
  std::set<std::string> keys;
  while (keys.size() < 160) {
    std::string k;
    int len = 1 + static_cast<int>(rng() % 8);
    for (int i = 0; i < len; ++i) k += alphabet[rng() % alphabet.size()];
    keys.insert(k);
  }
  // Over-long segments that share prefixes (split into "%+" pieces on disk).
  const std::string q(260, 'q');
  for (std::string k : {q + "a", q + "/b", q, q + ".c", q.substr(0, 252) + "z", q + "a/" + q,
                        "a/" + q + "\xc3\xa9" + q}) {
    keys.insert(k);
  }
  PutAll(keys);
  std::vector<std::string> samples(keys.begin(), keys.end());
  const std::vector<std::string> prefixes = {"", "a", "a/", "a/b", "/", "\xc3\xa9", "qqq", ". "};
  const std::vector<std::string> delimiters = {"", "/", "a", "/b", "\xc3\xa9", "q/"};
  for (const std::string& prefix : prefixes) {
    for (const std::string& delimiter : delimiters) {
      for (std::string start_after :
           {std::string(), samples[rng() % samples.size()], std::string("a/")}) {
        for (int max_keys : {1000, 7}) {
          Check(keys, {.prefix = prefix,
                       .delimiter = delimiter,
                       .start_after = start_after,
                       .max_keys = max_keys});
        }
      }
    }
  }
  Check(keys, {.delimiter = "/", .max_keys = 1});
  Check(keys, {.max_keys = 1});
}

TEST_F(FileListTest, EmptyDirectoriesAreNotPrefixes) {
  ASSERT_TRUE(Put("d/x/y", "1").ok());
  ASSERT_TRUE(Put("e", "1").ok());
  // A crash between mkdir and rename can leave empty directories behind.
  std::filesystem::create_directories(root_ + "/stale%d/deeper%d");
  auto page = Run(backend_->List({.delimiter = "/"}));
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->common_prefixes, std::vector<std::string>{"d/"});
  ASSERT_EQ(page->contents.size(), 1u);
  EXPECT_EQ(page->contents[0].key, "e");
  EXPECT_FALSE(page->is_truncated);
}

TEST_F(FileListTest, BadTokenAndZeroMaxKeys) {
  ASSERT_TRUE(Put("k", "1").ok());
  auto bad = Run(backend_->List({.continuation_token = "garbage"}));
  EXPECT_TRUE(bad.status().Is(ErrorClass::kInvalidArgument));
  auto none = Run(backend_->List({.max_keys = 0}));
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->contents.empty());
}

}  // namespace
}  // namespace ferry::storage::testing
