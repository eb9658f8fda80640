// Manifest behaviour through its public API: objects, ordered iteration per
// scope, uploads and parts, content, meta, batches, persistence on reopen.
#include "storage/manifest/manifest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "tests/storage/manifest/test_util.h"

namespace ferry::manifest {
namespace {

using testutil::AwkwardKey;
using testutil::FullObjectRecord;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }
  void Reopen() {
    m_.reset();
    auto r = Manifest::Open(dir_.Sub("manifest"));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    m_ = std::move(r).value();
  }

  testutil::TempDir dir_;
  std::unique_ptr<Manifest> m_;
  const Scope a_{"route-a", "dst-1"};
  const Scope b_{"route-a", "dst-2"};
  const Scope c_{"route-b", "dst-1"};
};

TEST_F(ManifestTest, ObjectRoundTripWithLongBinaryKeys) {
  std::map<std::string, ObjectRecord> want;
  for (int i = 0; i < 20; ++i) {
    std::string key = AwkwardKey(i % 2 ? 1024 : 1 + i * 37, i);
    want[key] = FullObjectRecord(i);
    ASSERT_TRUE(m_->PutObject(a_, key, want[key]).ok());
  }
  for (const auto& [key, rec] : want) {
    auto got = m_->GetObject(a_, key);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, rec);
    // Same key under another scope is a different object.
    auto other = m_->GetObject(b_, key);
    ASSERT_TRUE(other.ok());
    EXPECT_FALSE(other->has_value());
  }
  std::string first = want.begin()->first;
  ASSERT_TRUE(m_->DeleteObject(a_, first).ok());
  EXPECT_FALSE(m_->GetObject(a_, first)->has_value());
}

TEST_F(ManifestTest, RejectsBadArguments) {
  EXPECT_TRUE(m_->PutObject(a_, "", {}).Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(m_->PutObject(Scope{"", "d"}, "k", {}).Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(
      m_->PutObject(a_, std::string(kMaxKeyBytes + 1, 'k'), {}).Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(m_->GetObject(Scope{"r", ""}, "k").status().Is(ErrorClass::kInvalidArgument));
  auto c = m_->NewObjectCursor(Scope{"", ""});
  EXPECT_FALSE(c->Valid());
  EXPECT_TRUE(c->status().Is(ErrorClass::kInvalidArgument));
}

TEST_F(ManifestTest, IteratesOneScopeInByteOrderWithoutBleeding) {
  // Interleave writes to neighbouring scopes, including ids that are
  // prefixes of each other.
  const Scope tricky1{"route", "a"};
  const Scope tricky2{"route-", "a"};
  const Scope tricky3{"rout", "ea"};
  std::vector<std::string> keys_a;
  for (int i = 0; i < 300; ++i) {
    std::string key = AwkwardKey(1 + (i * 131) % 1024, i);
    keys_a.push_back(key);
    for (const Scope* s : {&a_, &b_, &c_, &tricky1, &tricky2, &tricky3}) {
      ObjectRecord r = FullObjectRecord(i);
      r.dest_etag = s->route + "|" + s->dest;
      ASSERT_TRUE(m_->PutObject(*s, key, r).ok());
    }
  }
  ASSERT_TRUE(m_->PutObject(b_, "only-in-b", {}).ok());
  std::sort(keys_a.begin(), keys_a.end());  // std::string compares bytes as unsigned char
  keys_a.erase(std::unique(keys_a.begin(), keys_a.end()), keys_a.end());

  std::vector<std::string> seen;
  auto cursor = m_->NewObjectCursor(a_);
  for (; cursor->Valid(); cursor->Next()) {
    seen.emplace_back(cursor->key());
    EXPECT_EQ(cursor->record().dest_etag, "route-a|dst-1");
  }
  ASSERT_TRUE(cursor->status().ok()) << cursor->status().ToString();
  EXPECT_EQ(seen, keys_a);
  cursor.reset();

  // Start from the middle: first key >= start.
  const std::string& mid = keys_a[keys_a.size() / 2];
  cursor = m_->NewObjectCursor(a_, mid);
  ASSERT_TRUE(cursor->Valid());
  EXPECT_EQ(cursor->key(), mid);
  cursor->Seek(mid + '\x00');
  ASSERT_TRUE(cursor->Valid());
  EXPECT_EQ(cursor->key(), keys_a[keys_a.size() / 2 + 1]);
  cursor.reset();

  for (const Scope* s : {&tricky1, &tricky2, &tricky3, &c_}) {
    auto n = m_->CountObjects(*s);
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(*n, keys_a.size()) << s->route << "/" << s->dest;
  }
  EXPECT_EQ(*m_->CountObjects(b_), keys_a.size() + 1);
  EXPECT_EQ(*m_->CountObjects(Scope{"route-a", "dst-3"}), 0u);

  // Paging with ScanObjects visits the same keys.
  std::vector<std::string> paged;
  std::string after;
  for (;;) {
    auto page = m_->ScanObjects(a_, after, 7);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    for (auto& e : *page) paged.push_back(e.key);
    after = page->back().key;
  }
  EXPECT_EQ(paged, keys_a);

  auto scopes = m_->ListScopes();
  ASSERT_TRUE(scopes.ok());
  EXPECT_EQ(scopes->size(), 6u);
  for (const Scope* s : {&a_, &b_, &c_, &tricky1, &tricky2, &tricky3}) {
    EXPECT_NE(std::find(scopes->begin(), scopes->end(), *s), scopes->end()) << s->route;
  }
}

TEST_F(ManifestTest, ForEachObjectStopsWhenAsked) {
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(m_->PutObject(a_, "k" + std::to_string(i), {}).ok());
  int visited = 0;
  ASSERT_TRUE(m_->ForEachObject(a_, [&](std::string_view, const ObjectRecord&) {
                  return ++visited < 3;
                }).ok());
  EXPECT_EQ(visited, 3);
}

TEST_F(ManifestTest, CursorSeesASnapshot) {
  ASSERT_TRUE(m_->PutObject(a_, "a", {}).ok());
  auto cursor = m_->NewObjectCursor(a_);
  ASSERT_TRUE(m_->PutObject(a_, "b", {}).ok());
  int n = 0;
  for (; cursor->Valid(); cursor->Next()) ++n;
  EXPECT_EQ(n, 1);
}

TEST_F(ManifestTest, UpdateObjectKeepsFirstSeenAndWritesAtomically) {
  ObjectRecord r = FullObjectRecord(1);
  r.first_seen_ms = 1000;
  ASSERT_TRUE(m_->PutObject(a_, "obj", r).ok());
  Status s = m_->UpdateObject(a_, "obj", [](std::optional<ObjectRecord>* rec, Batch* batch) {
    EXPECT_TRUE(rec->has_value());
    (*rec)->state = ObjectState::kReplicated;
    (*rec)->first_seen_ms = 99999;  // an update must not move first-seen
    batch->AddContent((*rec)->content_hash, "dst-1", "obj");
    return Status::Ok();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  auto got = m_->GetObject(a_, "obj");
  EXPECT_EQ((*got)->state, ObjectState::kReplicated);
  EXPECT_EQ((*got)->first_seen_ms, 1000);
  EXPECT_EQ(m_->FindContent(r.content_hash, "dst-1")->size(), 1u);

  // A new source version resets it.
  ASSERT_TRUE(m_->UpdateObject(a_, "obj", [](std::optional<ObjectRecord>* rec, Batch*) {
                  (*rec)->source_etag = "\"new\"";
                  (*rec)->first_seen_ms = 5000;
                  return Status::Ok();
                }).ok());
  EXPECT_EQ((*m_->GetObject(a_, "obj"))->first_seen_ms, 5000);

  // An error from the mutator writes nothing.
  s = m_->UpdateObject(a_, "obj", [](std::optional<ObjectRecord>* rec, Batch* batch) {
    rec->reset();
    batch->PutMeta("x", "y");
    return Status::Error(ErrorClass::kFatal, "no");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE((*m_->GetObject(a_, "obj")).has_value());
  EXPECT_FALSE((*m_->GetMeta("x")).has_value());

  // Resetting the optional deletes.
  ASSERT_TRUE(m_->UpdateObject(a_, "obj", [](std::optional<ObjectRecord>* rec, Batch*) {
                  rec->reset();
                  return Status::Ok();
                }).ok());
  EXPECT_FALSE((*m_->GetObject(a_, "obj")).has_value());
}

TEST_F(ManifestTest, ConcurrentUpdatesDoNotLoseIncrements) {
  ASSERT_TRUE(m_->PutObject(a_, "counter", {}).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) {
        Status s = m_->UpdateObject(a_, "counter", [](std::optional<ObjectRecord>* rec, Batch*) {
          (*rec)->attempts++;
          return Status::Ok();
        });
        EXPECT_TRUE(s.ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ((*m_->GetObject(a_, "counter"))->attempts, 400u);
}

TEST_F(ManifestTest, BatchIsAtomicAndRejectsBadArguments) {
  Batch b;
  b.PutObject(a_, "x", FullObjectRecord(2));
  b.AddContent("hash1", "dst-1", "x");
  b.PutMeta("route-a/dst-1/watermark", "x");
  EXPECT_EQ(b.size(), 3u);
  b.PutObject(a_, "", {});  // invalid: the whole batch is refused
  EXPECT_FALSE(b.status().ok());
  EXPECT_TRUE(m_->Write(b, kSync).Is(ErrorClass::kInvalidArgument));
  EXPECT_FALSE((*m_->GetObject(a_, "x")).has_value());
  EXPECT_TRUE(m_->FindContent("hash1", "dst-1")->empty());

  b.Clear();
  b.PutObject(a_, "x", FullObjectRecord(2));
  b.AddContent("hash1", "dst-1", "x");
  b.DeleteObject(a_, "x");  // later operations win
  b.PutObject(a_, "x", FullObjectRecord(3));
  ASSERT_TRUE(m_->Write(b, kSync).ok());
  EXPECT_EQ(**m_->GetObject(a_, "x"), FullObjectRecord(3));
  EXPECT_EQ(*m_->FindContent("hash1", "dst-1"), std::vector<std::string>{"x"});
}

TEST_F(ManifestTest, UploadsKeepPartsAndReplaceCleanly) {
  const std::string key = AwkwardKey(1024, 5);
  UploadRecord u{"upload-1", "\"etag-src\"", 300 << 20, 100 << 20, 1700000000000, {}};
  EXPECT_TRUE(m_->AddPart(a_, key, "upload-1", 1, {}).Is(ErrorClass::kNotFound));
  ASSERT_TRUE(m_->PutUpload(a_, key, u, kSync).ok());
  for (std::uint32_t p : {3u, 1u, 2u}) {
    PartRecord part{"\"p" + std::to_string(p) + "\"", 100 << 20,
                    "00112233445566778899aabbccddeef" + std::to_string(p)};
    ASSERT_TRUE(m_->AddPart(a_, key, "upload-1", p, part, kSync).ok());
    u.parts[p] = part;
  }
  EXPECT_TRUE(m_->AddPart(a_, key, "other-upload", 4, {}).Is(ErrorClass::kPrecondition));
  EXPECT_TRUE(m_->AddPart(a_, key, "upload-1", 0, {}).Is(ErrorClass::kInvalidArgument));
  EXPECT_TRUE(m_->AddPart(a_, key, "upload-1", 10001, {}).Is(ErrorClass::kInvalidArgument));
  auto got = m_->GetUpload(a_, key);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ(**got, u);
  EXPECT_FALSE((*m_->GetUpload(b_, key)).has_value());

  // A neighbouring key's upload stays separate.
  UploadRecord other{"upload-2", "e", 1, 1, 1, {{1, PartRecord{"x", 1, ""}}}};
  ASSERT_TRUE(m_->PutUpload(a_, key + "x", other).ok());
  EXPECT_EQ(**m_->GetUpload(a_, key + "x"), other);
  EXPECT_EQ((*m_->GetUpload(a_, key))->parts.size(), 3u);

  // Replacing the upload drops the old parts.
  UploadRecord fresh{"upload-3", "\"etag-src2\"", 10, 5, 2, {}};
  ASSERT_TRUE(m_->PutUpload(a_, key, fresh).ok());
  EXPECT_EQ(**m_->GetUpload(a_, key), fresh);

  std::vector<std::string> listed;
  ASSERT_TRUE(m_->ForEachUpload([&](const Scope& s, std::string_view k, const UploadRecord& r) {
                  EXPECT_EQ(s, a_);
                  listed.push_back(r.upload_id);
                  if (k == key) {
                    EXPECT_EQ(r, fresh);
                  } else {
                    EXPECT_EQ(k, key + "x");
                    EXPECT_EQ(r, other);
                  }
                  return true;
                }).ok());
  EXPECT_EQ(listed.size(), 2u);

  ASSERT_TRUE(m_->RemoveUpload(a_, key, kSync).ok());
  EXPECT_FALSE((*m_->GetUpload(a_, key)).has_value());
  EXPECT_TRUE((*m_->GetUpload(a_, key + "x")).has_value());
  EXPECT_TRUE(m_->RemoveUpload(a_, "never-started").ok());
}

TEST_F(ManifestTest, PartsAndEverythingElsePersistAcrossReopen) {
  const std::string key = AwkwardKey(1024, 9);
  UploadRecord u{"up", "\"s\"", 1 << 30, 8 << 20, 17, {}};
  ASSERT_TRUE(m_->PutUpload(c_, key, u, kSync).ok());
  for (std::uint32_t p = 1; p <= 50; ++p) {
    PartRecord part{"\"e" + std::to_string(p) + "\"", 8 << 20, ""};
    ASSERT_TRUE(m_->AddPart(c_, key, "up", p, part, kSync).ok());
    u.parts[p] = part;
  }
  ASSERT_TRUE(m_->PutObject(c_, key, FullObjectRecord(4), kSync).ok());
  ASSERT_TRUE(m_->PutMeta("route-b/dst-1/last_reconcile_ms", "1700000000000", kSync).ok());
  ASSERT_TRUE(m_->AddContent(std::string(32, 'f'), "dst-1", key, kSync).ok());
  Reopen();
  EXPECT_EQ(m_->schema_version(), kSchemaVersion);
  EXPECT_EQ(**m_->GetUpload(c_, key), u);
  EXPECT_EQ(**m_->GetObject(c_, key), FullObjectRecord(4));
  EXPECT_EQ(**m_->GetMeta("route-b/dst-1/last_reconcile_ms"), "1700000000000");
  EXPECT_EQ(*m_->FindContent(std::string(32, 'f'), "dst-1"), std::vector<std::string>{key});
  // And after the memtables became SST files.
  ASSERT_TRUE(m_->Flush().ok());
  Reopen();
  EXPECT_EQ(**m_->GetUpload(c_, key), u);
  EXPECT_EQ(**m_->GetObject(c_, key), FullObjectRecord(4));
}

TEST_F(ManifestTest, ContentIndexPerDestination) {
  const std::string h = "00112233445566778899aabbccddeeff";
  ASSERT_TRUE(m_->AddContent(h, "dst-1", "b/key").ok());
  ASSERT_TRUE(m_->AddContent(h, "dst-1", "a/key").ok());
  ASSERT_TRUE(m_->AddContent(h, "dst-1", "a/key").ok());  // a set: no duplicate
  ASSERT_TRUE(m_->AddContent(h, "dst-2", "c/key").ok());
  ASSERT_TRUE(m_->AddContent(h + "0", "dst-1", "d/key").ok());
  EXPECT_EQ(*m_->FindContent(h, "dst-1"), (std::vector<std::string>{"a/key", "b/key"}));
  EXPECT_EQ(*m_->FindContent(h, "dst-1", 1), std::vector<std::string>{"a/key"});
  EXPECT_EQ(*m_->FindContent(h, "dst-2"), std::vector<std::string>{"c/key"});
  ASSERT_TRUE(m_->RemoveContent(h, "dst-1", "a/key").ok());
  EXPECT_EQ(*m_->FindContent(h, "dst-1"), std::vector<std::string>{"b/key"});
  EXPECT_TRUE(m_->FindContent("ffff", "dst-1")->empty());
}

TEST_F(ManifestTest, MetaEntries) {
  EXPECT_FALSE((*m_->GetMeta("r/d/watermark")).has_value());
  ASSERT_TRUE(m_->PutMeta("r/d/watermark", "backups/b1/").ok());
  ASSERT_TRUE(m_->PutMeta("r/d/approval", std::string("bin\0ary", 7)).ok());
  ASSERT_TRUE(m_->PutMeta("r/e/watermark", "z").ok());
  EXPECT_EQ(**m_->GetMeta("r/d/approval"), std::string("bin\0ary", 7));
  auto listed = m_->ListMeta("r/d/");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].first, "r/d/approval");
  EXPECT_EQ((*listed)[1].first, "r/d/watermark");
  EXPECT_EQ((*listed)[1].second, "backups/b1/");
  EXPECT_EQ(m_->ListMeta("")->size(), 3u);  // the schema version is not a meta entry
  ASSERT_TRUE(m_->DeleteMeta("r/d/approval").ok());
  EXPECT_FALSE((*m_->GetMeta("r/d/approval")).has_value());
}

TEST_F(ManifestTest, StatsAndSync) {
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(m_->PutObject(a_, "k" + std::to_string(i), {}).ok());
  ASSERT_TRUE(m_->SyncWal().ok());
  Stats st = m_->GetStats();
  EXPECT_GT(st.memtable_bytes, 0u);
  EXPECT_GE(st.estimated_object_records, 50u);
  ASSERT_TRUE(m_->Flush().ok());
  EXPECT_GT(m_->GetStats().live_sst_bytes, 0u);
}

}  // namespace
}  // namespace ferry::manifest
