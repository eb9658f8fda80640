// Conformance: listings — delimiters, pagination across thousands of keys,
// start_after, prefixes, and batch deletion at that scale.
#include "tests/storage/conformance.h"

#include <algorithm>
#include <cstdio>

namespace ferry::conformance {
namespace {

std::vector<std::string> Keys(const std::vector<storage::ObjectSummary>& objects) {
  std::vector<std::string> out;
  for (const auto& o : objects) out.push_back(o.key);
  return out;
}

TEST_P(ConformanceTest, DelimiterListing) {
  const std::vector<std::string> names = {"a/1", "a/2", "b/1", "c", "d/e/f", "e"};
  for (const auto& n : names) FERRY_ASSERT_OK(Put(Key(n), n));

  storage::ListOptions lo;
  lo.prefix = prefix();
  lo.delimiter = "/";
  auto top = ListAll(lo);
  FERRY_ASSERT_OK(top);
  EXPECT_EQ(Keys(top->objects), (std::vector<std::string>{Key("c"), Key("e")}));
  if (!caps().list_common_prefixes) {
    EXPECT_TRUE(top->prefixes.empty());
  } else if (dev().common_prefixes_one_level_only) {
    // s3rver prunes directories below a common prefix before it has seen an
    // object in them: "d/" (which only holds "d/e/f") goes missing.
    EXPECT_EQ(top->prefixes, (std::vector<std::string>{Key("a/"), Key("b/")}));
  } else {
    EXPECT_EQ(top->prefixes, (std::vector<std::string>{Key("a/"), Key("b/"), Key("d/")}));
  }

  lo.prefix = Key("d/");
  auto nested = ListAll(lo);
  FERRY_ASSERT_OK(nested);
  EXPECT_TRUE(nested->objects.empty());
  if (caps().list_common_prefixes) {
    EXPECT_EQ(nested->prefixes, (std::vector<std::string>{Key("d/e/")}));
  }

  // Without a delimiter everything under the prefix, in key order.
  storage::ListOptions flat;
  flat.prefix = prefix();
  auto all = ListAll(flat);
  FERRY_ASSERT_OK(all);
  std::vector<std::string> want;
  for (const auto& n : names) want.push_back(Key(n));
  EXPECT_EQ(Keys(all->objects), want);
  EXPECT_TRUE(all->prefixes.empty());
  for (const auto& o : all->objects) {
    EXPECT_EQ(o.size, o.key.size() - prefix().size()) << o.key;
    if (caps().etag_is_md5) {
      EXPECT_EQ(o.etag, Md5Hex(o.key.substr(prefix().size()))) << o.key;
    }
  }
}

TEST_P(ConformanceTest, PaginationAcrossThousandsOfKeys) {
  constexpr std::size_t kCount = 2'600;
  auto name = [](std::size_t i) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "k/%05zu", i);
    return std::string(buf);
  };
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < kCount; ++i) keys.push_back(Key(name(i)));
  auto b = backend_ptr();
  // 32 writers at a time: enough to be quick, few enough for any server.
  FERRY_ASSERT_OK(Parallel(kCount, 32, [&keys, b](std::size_t i) {
    return PutObjectTask(b, keys[i], "v" + std::to_string(i));
  }));

  // One page by hand: truncated, with a token for the rest.
  storage::ListOptions lo;
  lo.prefix = Key("k/");
  lo.max_keys = 1000;
  auto first = Run(backend().List(lo));
  FERRY_ASSERT_OK(first);
  EXPECT_EQ(first->contents.size(), 1000u);
  EXPECT_TRUE(first->is_truncated);
  EXPECT_FALSE(first->next_continuation_token.empty());

  auto all = ListAll(lo);
  FERRY_ASSERT_OK(all);
  EXPECT_EQ(all->pages, 3);
  EXPECT_EQ(Keys(all->objects), keys) << "every key once, in order";

  // Small pages.
  storage::ListOptions small;
  small.prefix = Key("k/000");  // k/00000 .. k/00099
  small.max_keys = 7;
  auto paged = ListAll(small);
  FERRY_ASSERT_OK(paged);
  EXPECT_EQ(paged->pages, 15);
  EXPECT_EQ(Keys(paged->objects), std::vector<std::string>(keys.begin(), keys.begin() + 100));

  // start_after: strictly after, and combined with paging.
  storage::ListOptions after;
  after.prefix = Key("k/");
  after.start_after = Key(name(2'500));
  after.max_keys = 40;
  auto tail = ListAll(after);
  FERRY_ASSERT_OK(tail);
  EXPECT_EQ(tail->pages, 3);
  EXPECT_EQ(Keys(tail->objects), std::vector<std::string>(keys.begin() + 2'501, keys.end()));

  storage::ListOptions narrow;
  narrow.prefix = Key("k/0123");
  auto ten = ListAll(narrow);
  FERRY_ASSERT_OK(ten);
  EXPECT_EQ(Keys(ten->objects),
            std::vector<std::string>(keys.begin() + 1'230, keys.begin() + 1'240));

  // DeleteBatch takes up to 1000 keys per call (the Backend contract).
  for (std::size_t i = 0; i < keys.size(); i += 1000) {
    std::vector<std::string> chunk(keys.begin() + i,
                                   keys.begin() + std::min(keys.size(), i + 1000));
    auto errors = DeleteBatch(std::move(chunk));
    FERRY_ASSERT_OK(errors);
    EXPECT_TRUE(errors->empty());
  }
  auto gone = ListAll(lo);
  FERRY_ASSERT_OK(gone);
  EXPECT_TRUE(gone->objects.empty());
}

}  // namespace
}  // namespace ferry::conformance
