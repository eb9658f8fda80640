// Record and key encodings: exact round trips, compactness, and garbage in
// -> error out (never a crash).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "storage/manifest/encoding.h"
#include "storage/manifest/keys.h"
#include "storage/manifest/records.h"
#include "tests/storage/manifest/test_util.h"

namespace ferry::manifest {
namespace {

using encoding::FieldReader;
using encoding::FieldWriter;

TEST(Varint, RoundTripsBoundaries) {
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{127},
                          std::uint64_t{128}, std::uint64_t{16383}, std::uint64_t{16384},
                          std::uint64_t{1} << 35, UINT64_MAX - 1, UINT64_MAX}) {
    std::string buf;
    encoding::PutVarint64(&buf, v);
    std::string_view in = buf;
    std::uint64_t out = 0;
    ASSERT_TRUE(encoding::GetVarint64(&in, &out)) << v;
    EXPECT_EQ(out, v);
    EXPECT_TRUE(in.empty());
  }
}

TEST(Varint, RejectsTruncatedAndOverlong) {
  std::string buf;
  encoding::PutVarint64(&buf, UINT64_MAX);
  std::uint64_t v = 0;
  std::string_view truncated(buf.data(), buf.size() - 1);
  EXPECT_FALSE(encoding::GetVarint64(&truncated, &v));
  std::string overlong(11, '\x80');
  std::string_view in = overlong;
  EXPECT_FALSE(encoding::GetVarint64(&in, &v));
  std::string too_big = std::string(9, '\xff') + '\x02';  // 65th bit set
  in = too_big;
  EXPECT_FALSE(encoding::GetVarint64(&in, &v));
}

TEST(ZigZag, RoundTripsSignedValues) {
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{-1}, std::int64_t{1}, INT64_MIN, INT64_MAX,
                         std::int64_t{-1700000000000}}) {
    EXPECT_EQ(encoding::UnZigZag(encoding::ZigZag(v)), v);
  }
}

TEST(PrefixSuccessor, BoundsAPrefix) {
  EXPECT_EQ(encoding::PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(encoding::PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(encoding::PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

TEST(Fields, StringsKeepTheirExactBytes) {
  // Hex-looking values are packed; everything must still come back as given.
  const std::string values[] = {"",
                                "d41d8cd98f00b204e9800998ecf8427e",
                                "\"d41d8cd98f00b204e9800998ecf8427e\"",
                                "\"d41d8cd98f00b204e9800998ecf8427e-12\"",
                                "D41D8CD98F00B204E9800998ECF8427E",
                                "abc",
                                "\"\"",
                                "\"ab\"",
                                std::string("\0\xff\"x", 4)};
  for (const std::string& v : values) {
    std::string buf;
    FieldWriter(&buf).String(7, v);
    FieldReader r(buf);
    ASSERT_TRUE(r.Next()) << v;
    EXPECT_EQ(r.field(), 7u);
    EXPECT_FALSE(r.is_varint());
    EXPECT_EQ(r.string(), v);
    EXPECT_FALSE(r.Next());
    EXPECT_TRUE(r.ok());
  }
  std::string packed;
  FieldWriter(&packed).String(1, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(packed.size(), 2u + 16u);  // tag + length + 16 raw bytes
}

TEST(ObjectRecordCodec, RoundTripsEveryField) {
  ObjectRecord r = testutil::FullObjectRecord(42);
  Result<ObjectRecord> back = DecodeObjectRecord(EncodeObjectRecord(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);

  ObjectRecord empty;
  std::string enc = EncodeObjectRecord(empty);
  EXPECT_EQ(enc.size(), 1u);  // defaults are omitted
  back = DecodeObjectRecord(enc);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, empty);
}

TEST(ObjectRecordCodec, RoundTripsEveryEnumValueAndExtremes) {
  for (std::uint8_t s = 0; s <= kMaxObjectState; ++s) {
    for (std::uint8_t v = 0; v <= kMaxVerifiedBy; ++v) {
      ObjectRecord r;
      r.state = static_cast<ObjectState>(s);
      r.verified_by = static_cast<VerifiedBy>(v);
      r.seen_by = static_cast<SeenBy>(s % 2);
      r.size = UINT64_MAX;
      r.lag_ms = -5000;
      r.source_mtime_ms = INT64_MIN;
      r.attempts = UINT32_MAX;
      Result<ObjectRecord> back = DecodeObjectRecord(EncodeObjectRecord(r));
      ASSERT_TRUE(back.ok());
      EXPECT_EQ(*back, r);
    }
  }
  EXPECT_EQ(ObjectStateName(ObjectState::kDeletePending), "delete_pending");
  EXPECT_EQ(VerifiedByName(VerifiedBy::kEtagMirror), "etag_mirror");
  EXPECT_EQ(SeenByName(SeenBy::kEvent), "event");
}

TEST(ObjectRecordCodec, TruncatesLongErrorsAtACharacterBoundary) {
  ObjectRecord r;
  r.last_error = std::string(kMaxLastErrorBytes - 1, 'x') + "\xc3\xa9" + "tail";  // é straddles
  Result<ObjectRecord> back = DecodeObjectRecord(EncodeObjectRecord(r));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->last_error, std::string(kMaxLastErrorBytes - 1, 'x'));
}

TEST(ObjectRecordCodec, SkipsFieldsFromANewerWriter) {
  ObjectRecord r = testutil::FullObjectRecord(7);
  std::string enc = EncodeObjectRecord(r);
  FieldWriter w(&enc);
  w.Varint(99, 12345);
  w.String(100, "a field this build does not know");
  Result<ObjectRecord> back = DecodeObjectRecord(enc);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);
}

TEST(ObjectRecordCodec, GarbageIsAnErrorNotACrash) {
  EXPECT_FALSE(DecodeObjectRecord("").ok());
  EXPECT_FALSE(DecodeObjectRecord(std::string(1, '\x02')).ok());  // unknown format
  std::string bad_state(1, '\x01');
  FieldWriter(&bad_state).Varint(6, 200);
  Result<ObjectRecord> r = DecodeObjectRecord(bad_state);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("corrupt object record"), std::string::npos);
  std::string wrong_type(1, '\x01');
  FieldWriter(&wrong_type).Varint(1, 5);  // source_etag must be a string
  EXPECT_FALSE(DecodeObjectRecord(wrong_type).ok());

  std::string good = EncodeObjectRecord(testutil::FullObjectRecord(3));
  for (std::size_t n = 1; n < good.size(); ++n) {
    // Every strict prefix ends mid-field or is a valid shorter record; never UB.
    (void)DecodeObjectRecord(std::string_view(good).substr(0, n));
  }
  std::mt19937_64 rng(20240611);
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string junk(1 + rng() % 64, '\0');
    for (char& c : junk) c = static_cast<char>(rng());
    if (i % 2 == 0) junk[0] = '\x01';  // get past the format byte half the time
    if (!DecodeObjectRecord(junk).ok()) ++rejected;
    (void)DecodeUploadHeader(junk);
    std::string id;
    PartRecord p;
    (void)DecodePartRecord(junk, &id, &p);
  }
  EXPECT_GT(rejected, 10000);
}

TEST(UploadCodec, RoundTripsHeaderAndParts) {
  UploadRecord u;
  u.upload_id = "2~abcDEF/+=_long-upload-id-" + std::string(100, 'z');
  u.source_etag = "\"0123456789abcdef0123456789abcdef-3\"";
  u.size = 3ull << 33;
  u.part_size = 64 << 20;
  u.started_ms = 1700000000123;
  Result<UploadRecord> back = DecodeUploadHeader(EncodeUploadHeader(u));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, u);

  PartRecord p{"\"9a0364b9e99bb480dd25e1f0284c8555\"", 64 << 20,
               "00112233445566778899aabbccddeeff"};
  std::string id;
  PartRecord q;
  ASSERT_TRUE(DecodePartRecord(EncodePartRecord(u.upload_id, p), &id, &q).ok());
  EXPECT_EQ(id, u.upload_id);
  EXPECT_EQ(q, p);
  EXPECT_FALSE(DecodeUploadHeader(std::string(1, '\x01')).ok());  // no upload id
}

TEST(CarryFirstSeen, KeepsFirstSeenForTheSameVersionOnly) {
  ObjectRecord old_rec;
  old_rec.source_etag = "e1";
  old_rec.size = 10;
  old_rec.first_seen_ms = 1000;
  ObjectRecord update = old_rec;
  update.first_seen_ms = 5000;
  update.state = ObjectState::kReplicated;
  CarryFirstSeen(old_rec, &update);
  EXPECT_EQ(update.first_seen_ms, 1000);
  ObjectRecord changed = update;
  changed.source_etag = "e2";
  changed.first_seen_ms = 6000;
  CarryFirstSeen(old_rec, &changed);
  EXPECT_EQ(changed.first_seen_ms, 6000);
}

TEST(Keys, ScopesArePrefixFreeAndKeysSortByBytes) {
  // ("a", "bc") must not be a prefix of ("ab", "c") or vice versa.
  std::string k1 = keys::ObjectKey("a", "bc", "x");
  std::string p2 = keys::ScopePrefix("ab", "c");
  EXPECT_NE(k1.compare(0, p2.size(), p2), 0);
  EXPECT_LT(keys::ObjectKey("r", "d", "a"), keys::ObjectKey("r", "d", "a\x01"));
  EXPECT_LT(keys::ObjectKey("r", "d", "a\x7f"), keys::ObjectKey("r", "d", "a\x80"));
  EXPECT_LT(keys::ObjectKey("r", "d", "z"), keys::ObjectKey("r", "d", "\xc3\xa9"));
  std::string_view route, dest, key;
  ASSERT_TRUE(keys::ParseObjectKey(k1, &route, &dest, &key));
  EXPECT_EQ(route, "a");
  EXPECT_EQ(dest, "bc");
  EXPECT_EQ(key, "x");
  std::uint32_t part = 0;
  ASSERT_TRUE(
      keys::ParseUploadKey(keys::UploadPartKey("r", "d", "k", 77), &route, &dest, &key, &part));
  EXPECT_EQ(part, 77u);
  ASSERT_TRUE(
      keys::ParseUploadKey(keys::UploadHeaderKey("r", "d", "k"), &route, &dest, &key, &part));
  EXPECT_EQ(part, 0u);
  EXPECT_FALSE(keys::ParseUploadKey("\x05x", &route, &dest, &key, &part));
}

}  // namespace
}  // namespace ferry::manifest
