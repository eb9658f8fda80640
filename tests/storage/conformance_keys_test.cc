// Conformance: keys that break naive encoders — every one must survive put,
// head, get, list, copy and delete byte for byte.
#include "tests/storage/conformance.h"

#include <algorithm>
#include <set>

namespace ferry::conformance {
namespace {

// What a store that keeps keys as normalised POSIX paths (s3rver) turns a key
// into: no empty or "." segments, ".." removes the segment before it, no
// leading slash. A trailing slash stays.
std::string NormalisedPath(std::string_view key) {
  std::vector<std::string> segs;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = key.find('/', start);
    std::string seg(key.substr(start, slash == std::string_view::npos ? slash : slash - start));
    if (seg == "..") {
      if (!segs.empty()) segs.pop_back();
    } else if (!seg.empty() && seg != ".") {
      segs.push_back(seg);
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  std::string out;
  for (const auto& s : segs) out += (out.empty() ? "" : "/") + s;
  if (!key.empty() && key.back() == '/') out += '/';
  return out;
}

// decodeURI leaves these escaped, so a copy source naming them is not found.
bool HasDecodeUriReserved(std::string_view key) {
  return key.find_first_of(";?:@&=+$,#") != std::string_view::npos;
}

std::size_t LongestComponent(std::string_view key) {
  std::size_t longest = 0, start = 0;
  for (;;) {
    std::size_t slash = key.find('/', start);
    std::size_t end = slash == std::string_view::npos ? key.size() : slash;
    longest = std::max(longest, end - start);
    if (slash == std::string_view::npos) return longest;
    start = slash + 1;
  }
}

// Pads `base` with multi-byte UTF-8 up to exactly `total` bytes, with a '/'
// every `segment` bytes or so (0: none), never splitting a character.
std::string PadKey(std::string base, std::size_t total, std::size_t segment) {
  static const std::string kPieces[] = {"ü", "日", "🦀", "a", "é"};  // 2, 3, 4, 1, 2 bytes
  std::size_t since_slash = 0;
  for (std::size_t i = 0; base.size() < total; ++i) {
    if (segment != 0 && since_slash >= segment && base.size() + 1 < total) {
      base += '/';
      since_slash = 0;
      continue;
    }
    const std::string& p = kPieces[i % 5];
    std::string piece = base.size() + p.size() <= total ? p : "a";
    base += piece;
    since_slash += piece.size();
  }
  return base;
}

bool HasEmptySegment(std::string_view key) {
  return key.starts_with('/') || key.find("//") != std::string_view::npos;
}

TEST_P(ConformanceTest, OddKeysRoundTrip) {
  std::vector<std::string> keys = {
      Key("with space"),
      Key("plus+sign"),
      Key("percent%25literal%"),
      Key("encoded%2Fslash"),
      Key("question?mark"),
      Key("hash#tag"),
      Key("tilde~"),
      Key("double//slash"),
      Key("dots/../dots"),
      Key("trailing space "),
      Key("non-ascii-ÄÖÜ-日本語"),
      Key("emoji-🦀🚀"),
      Key("reserved;:@&=$,!'()*[]"),
      // The runner's random prefix keeps even this key inside what the run owns.
      "/" + prefix() + "leading-slash",
      // 1024 bytes: the S3 maximum, in path segments of at most 200 bytes.
      PadKey(Key("long/"), 1024, 200),
  };
  // One 300-byte path component (filesystems allow 255 per name).
  keys.push_back(PadKey(Key("long-name-"), prefix().size() + 300, 0));
  ASSERT_EQ(keys[keys.size() - 2].size(), 1024u);

  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string& key = keys[i];
    SCOPED_TRACE("key #" + std::to_string(i) + " '" + key + "'");
    const std::string body = "body of key " + std::to_string(i);
    if (dev().max_key_component != 0 && LongestComponent(key) > dev().max_key_component) {
      // s3rver stores each key segment as a file name; a longer one makes
      // its write stream fail unhandled and the whole server exits, so this
      // key is not sent there (see Deviations::max_key_component).
      continue;
    }
    auto put = Put(key, body);
    if (dev().rejects_empty_key_segments && HasEmptySegment(key)) {
      // s3rver's router matches no route for an empty segment: 404, text body.
      EXPECT_TRUE(FailedWith(put, ErrorClass::kNotFound));
      continue;
    }
    FERRY_ASSERT_OK(put);
    auto head = Head(key);
    FERRY_ASSERT_OK(head);
    EXPECT_EQ(head->size, body.size());
    auto got = Get(key);
    FERRY_ASSERT_OK(got);
    EXPECT_EQ(got->data, body);

    // Listed under its own name (or what s3rver's path store makes of it).
    const std::string listed = dev().keys_are_normalised_paths ? NormalisedPath(key) : key;
    storage::ListOptions lo;
    lo.prefix = listed;
    auto list = ListAll(lo);
    FERRY_ASSERT_OK(list);
    ASSERT_FALSE(list->objects.empty()) << "not listed as '" << listed << "'";
    EXPECT_EQ(list->objects.front().key, listed);
    EXPECT_EQ(list->objects.front().size, body.size());

    std::string copy = Key("copy-" + std::to_string(i));
    auto copied =
        Run(backend().Copy(storage::CopySourceRef{"", key, "", std::nullopt}, copy, std::nullopt));
    if (dev().copy_source_decode_uri && HasDecodeUriReserved(key)) {
      EXPECT_TRUE(FailedWith(copied, ErrorClass::kNotFound));
    } else {
      FERRY_ASSERT_OK(copied);
      auto copy_got = Get(copy);
      FERRY_ASSERT_OK(copy_got);
      EXPECT_EQ(copy_got->data, body);
    }
  }

  // The whole set listed at once, before anything is deleted.
  storage::ListOptions lo;
  lo.prefix = prefix();
  auto all = ListAll(lo);
  FERRY_ASSERT_OK(all);
  std::set<std::string> listed;
  for (const auto& o : all->objects) listed.insert(o.key);
  for (const auto& key : keys) {
    if (key.front() == '/') continue;  // outside prefix()
    if (dev().rejects_empty_key_segments && HasEmptySegment(key)) continue;
    if (dev().max_key_component != 0 && LongestComponent(key) > dev().max_key_component) continue;
    std::string want = dev().keys_are_normalised_paths ? NormalisedPath(key) : key;
    EXPECT_EQ(listed.count(want), 1u) << "missing from the listing: '" << want << "'";
  }
  EXPECT_TRUE(std::is_sorted(all->objects.begin(), all->objects.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }))
      << "listing not in UTF-8 byte order";

  for (const auto& key : keys) {
    SCOPED_TRACE("delete '" + key + "'");
    if (dev().rejects_empty_key_segments && HasEmptySegment(key)) continue;
    if (dev().max_key_component != 0 && LongestComponent(key) > dev().max_key_component) continue;
    FERRY_EXPECT_OK(Run(backend().Delete(key)));
    EXPECT_TRUE(FailedWith(Head(key), ErrorClass::kNotFound));
  }
}

}  // namespace
}  // namespace ferry::conformance
