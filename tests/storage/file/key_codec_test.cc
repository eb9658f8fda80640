// The key -> path mapping: reversible, inside the root, collision-free, and
// within NAME_MAX for every component.
#include "storage/file/key_codec.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace ferry::storage::filekeys {
namespace {

std::vector<std::string> Components(const std::string& rel) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t slash = rel.find('/', start);
    out.push_back(rel.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

std::vector<std::string> HostileKeys() {
  std::vector<std::string> keys = {"a",
                                   "a/b",
                                   "a/",
                                   "a//b",
                                   "/leading",
                                   "//",
                                   "/",
                                   "../x",
                                   "..",
                                   ".",
                                   "a/./b",
                                   "a/../b",
                                   "x/..",
                                   "trailing ",
                                   "trailing.",
                                   " ",
                                   "%2F",
                                   "%",
                                   "%_",
                                   "%d",
                                   "a%d",
                                   "a%+",
                                   "%25",
                                   "a\\b",
                                   "\\",
                                   ".ferry",
                                   ".ferry/tmp/x",
                                   "ferry",
                                   "tab\there",
                                   "nl\nx",
                                   std::string("nul\0x", 5),
                                   "\x7f",
                                   "caf\xc3\xa9",
                                   "\xe2\x82\xac/\xf0\x9f\x98\x80",
                                   "\xff\xfe",
                                   "?#~+ =&",
                                   "a.b",
                                   "a0",
                                   "dir%d/x",
                                   "a%2Fb",
                                   "A",
                                   "%41"};
  keys.push_back(std::string(1024, 'k'));
  keys.push_back(std::string(1024, '%'));
  keys.push_back(std::string(1024, '/'));
  keys.push_back("seg/" + std::string(300, 's') + "/end");
  keys.push_back("seg/" + std::string(300, 's'));
  keys.push_back("seg/" + std::string(253, 's'));
  keys.push_back("seg/" + std::string(254, 's'));
  keys.push_back("seg/" + std::string(255, 's'));
  keys.push_back(std::string(100, '.') + "/" + std::string(200, '.'));
  std::string euros;
  for (int i = 0; i < 300; ++i) euros += "\xe2\x82\xac";  // 900 bytes, 3 per char
  keys.push_back(euros);
  return keys;
}

TEST(KeyCodecTest, HostileKeysRoundTripAndStayInside) {
  std::set<std::string> paths;
  for (const std::string& key : HostileKeys()) {
    SCOPED_TRACE(testing::Message() << "key of " << key.size() << " bytes: " << key.substr(0, 40));
    std::string rel = KeyToRelPath(key);
    ASSERT_FALSE(rel.empty());
    EXPECT_NE(rel.front(), '/');
    std::optional<std::string> back = RelPathToKey(rel);
    ASSERT_TRUE(back.has_value()) << rel;
    EXPECT_EQ(*back, key);
    for (const std::string& c : Components(rel)) {
      EXPECT_FALSE(c.empty()) << rel;
      EXPECT_LE(c.size(), kNameMax) << rel;
      EXPECT_NE(c.front(), '.') << rel;  // never ".", "..", ".ferry" or hidden
      EXPECT_EQ(c.find('\\'), std::string::npos);
      for (char ch : c) EXPECT_GE(static_cast<unsigned char>(ch), 0x20) << rel;
    }
    EXPECT_TRUE(paths.insert(rel).second) << "two keys map to " << rel;
  }
  // "a" and "a/b" both storable: no object path is a directory of another.
  for (const std::string& p : paths) {
    auto it = paths.lower_bound(p + "/");
    EXPECT_TRUE(it == paths.end() || !it->starts_with(p + "/")) << p << " vs " << *it;
  }
}

TEST(KeyCodecTest, ReadableExamples) {
  EXPECT_EQ(KeyToRelPath("backups/b1/velero-backup.json"), "backups%d/b1%d/velero-backup.json");
  EXPECT_EQ(KeyToRelPath("/x/../y"), "%d/x%d/%2E.%d/y");
  EXPECT_EQ(KeyToRelPath("a/"), "a%d/%_");
  EXPECT_EQ(KeyToRelPath("a//b"), "a%d/%d/b");
  EXPECT_EQ(KeyToRelPath("%2F"), "%252F");
  EXPECT_EQ(KeyToRelPath("trailing "), "trailing ");
  EXPECT_EQ(KeyToRelPath("caf\xc3\xa9 x+y"), "caf\xc3\xa9 x+y");
  EXPECT_EQ(DirPrefixToRelPath("a/b/"), "a%d/b%d");
  EXPECT_EQ(DirPrefixToRelPath(""), "");
}

TEST(KeyCodecTest, LongSegmentsSplitAtCharacterBoundaries) {
  std::string seg;
  for (int i = 0; i < 200; ++i) seg += "\xc3\xa9";  // 400 bytes of 'é'
  std::vector<std::string> pieces = EncodeSegment(seg, Kind::kObject);
  ASSERT_GE(pieces.size(), 2u);
  std::string joined;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    std::optional<DecodedName> d = DecodeComponent(pieces[i]);
    ASSERT_TRUE(d.has_value()) << pieces[i];
    EXPECT_EQ(d->kind, i + 1 < pieces.size() ? Kind::kChunk : Kind::kObject);
    EXPECT_EQ(d->raw.size() % 2, 0u) << "piece splits a character";
    joined += d->raw;
  }
  EXPECT_EQ(joined, seg);
  EXPECT_EQ(EncodeSegment(std::string(300, 's'), Kind::kDir).size(), 2u);
  EXPECT_EQ(EncodeSegment(std::string(253, 's'), Kind::kObject).size(), 1u);
  EXPECT_EQ(EncodeSegment(std::string(254, 's'), Kind::kObject).size(), 2u);
}

TEST(KeyCodecTest, NonCanonicalNamesAreRejected) {
  for (std::string_view bad : {"%2e", "%2Ex%", "a%2", "%4", ".hidden", ".", "..", "%41", "%_%+",
                               "%_%d", "%+", "a%zz", "a\\b", ""}) {
    EXPECT_FALSE(DecodeComponent(bad).has_value()) << bad;
  }
  EXPECT_TRUE(DecodeComponent("%2Ehidden").has_value());
  EXPECT_TRUE(DecodeComponent("%_").has_value());
  EXPECT_EQ(DecodeComponent("%d")->kind, Kind::kDir);  // the empty directory segment
  EXPECT_EQ(DecodeComponent("%d")->raw, "");
  EXPECT_EQ(DecodeComponent("x%d")->kind, Kind::kDir);
  EXPECT_EQ(DecodeComponent("x%+")->kind, Kind::kChunk);
  // Paths the encoder never produces do not decode to keys.
  EXPECT_FALSE(RelPathToKey("a%d").has_value());     // a directory as last component
  EXPECT_FALSE(RelPathToKey("a/b").has_value());     // an object as a directory
  EXPECT_FALSE(RelPathToKey("ab%+/c").has_value());  // a short segment split in two
  EXPECT_FALSE(RelPathToKey("../x").has_value());
  EXPECT_FALSE(RelPathToKey(".ferry/tmp/x").has_value());
  EXPECT_EQ(RelPathToKey("a%d/%_"), std::optional<std::string>("a/"));
}

}  // namespace
}  // namespace ferry::storage::filekeys
