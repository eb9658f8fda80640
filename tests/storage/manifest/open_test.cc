// Manifest::Open refusals: a damaged database, a foreign or newer schema, a
// directory held by someone else. Each must be a clear error that leaves
// the files alone; never a silent reset.
#include <gtest/gtest.h>

#include <filesystem>

#include "storage/manifest/manifest.h"
#include "tests/storage/manifest/test_util.h"

namespace ferry::manifest {
namespace {

namespace fs = std::filesystem;
using testutil::FilesWithSuffix;
using testutil::ReadFile;
using testutil::WriteFile;

bool Contains(const Status& s, std::string_view text) {
  return !s.ok() && s.ToString().find(text) != std::string::npos;
}

class OpenTest : public ::testing::Test {
 protected:
  // A manifest with one object record, flushed to SST files, then closed.
  void MakeManifest(bool flush = true) {
    auto m = Manifest::Open(path_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    ASSERT_TRUE((*m)->PutObject(scope_, "backups/b1/velero-backup.json", record_, kSync).ok());
    if (flush) {
      ASSERT_TRUE((*m)->Flush().ok());
    }
  }
  void ExpectRecordIntact() {
    auto m = Manifest::Open(path_);
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    auto got = (*m)->GetObject(scope_, "backups/b1/velero-backup.json");
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    ASSERT_TRUE(got->has_value());
    EXPECT_EQ(**got, record_);
  }
  Status OpenStatus() { return Manifest::Open(path_).status(); }

  testutil::TempDir dir_;
  std::string path_ = dir_.Sub("state/manifest");
  Scope scope_{"velero", "dr-site"};
  ObjectRecord record_ = testutil::FullObjectRecord(11);
};

TEST_F(OpenTest, CreatesNestedDirectoryWithZstdAndReopens) {
  MakeManifest();
  ExpectRecordIntact();
  auto options_files = FilesWithSuffix(path_, "");
  bool zstd = false;
  for (const auto& f : options_files) {
    if (f.filename().string().starts_with("OPTIONS-") &&
        ReadFile(f).find("compression=kZSTD") != std::string::npos) {
      zstd = true;
    }
  }
  EXPECT_TRUE(zstd) << "no OPTIONS file says compression=kZSTD";
}

TEST_F(OpenTest, MissingWithoutCreateIsNotFound) {
  Options o;
  o.create_if_missing = false;
  EXPECT_TRUE(Manifest::Open(path_, o).status().Is(ErrorClass::kNotFound));
  EXPECT_FALSE(fs::exists(path_));
}

TEST_F(OpenTest, SecondOpenInThisProcessIsRefused) {
  auto first = Manifest::Open(path_);
  ASSERT_TRUE(first.ok());
  Status s = OpenStatus();
  EXPECT_TRUE(Contains(s, "another ferryd is using STATE_DIR?")) << s.ToString();
  EXPECT_TRUE(Contains(s, path_)) << s.ToString();
  EXPECT_TRUE(Contains(s, "pid " + std::to_string(::getpid()))) << s.ToString();
  first->reset();
  EXPECT_TRUE(OpenStatus().ok());  // released on close
}

TEST_F(OpenTest, NewerSchemaIsRefusedNamingBothVersions) {
  MakeManifest();
  {
    testutil::RawDb raw(path_);
    ASSERT_TRUE(raw.ok()) << raw.error();
    raw.CreateFamily("added_by_v2");  // a newer ferry may add families too
    raw.Put("meta", "!schema_version", "2");
  }
  Status s = OpenStatus();
  EXPECT_TRUE(Contains(s, "schema version 2 is newer than this ferry understands (1)"))
      << s.ToString();
  EXPECT_TRUE(Contains(s, path_));
  {
    testutil::RawDb raw(path_);
    raw.Put("meta", "!schema_version", "1");
  }
  ExpectRecordIntact();
}

TEST_F(OpenTest, GarbledOrMissingSchemaVersionIsRefused) {
  MakeManifest();
  for (std::string bad : std::vector<std::string>{"1x", "", "0", "-1", "99999999999999999999",
                                                  std::string("\xff\x00", 2)}) {
    {
      testutil::RawDb raw(path_);
      ASSERT_TRUE(raw.ok()) << raw.error();
      raw.Put("meta", "!schema_version", bad);
    }
    Status s = OpenStatus();
    EXPECT_TRUE(Contains(s, "unreadable schema version")) << bad << ": " << s.ToString();
  }
  {
    testutil::RawDb raw(path_);
    raw.Delete("meta", "!schema_version");
  }
  Status s = OpenStatus();
  EXPECT_TRUE(Contains(s, "has data but no schema version")) << s.ToString();
  {
    testutil::RawDb raw(path_);
    raw.Put("meta", "!schema_version", "1");
  }
  ExpectRecordIntact();
}

TEST_F(OpenTest, ForeignDatabaseWithoutOurFamiliesIsRefused) {
  fs::create_directories(path_);
  {
    rocksdb::Options o;
    o.create_if_missing = true;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(o, path_, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "someone", "else's").ok());
    delete db;
  }
  Status s = OpenStatus();
  EXPECT_TRUE(Contains(s, "column family \"objects\" is missing")) << s.ToString();
}

TEST_F(OpenTest, TruncatedOrGarbageCurrentIsAnErrorNotAReset) {
  MakeManifest();
  fs::path current = fs::path(path_) / "CURRENT";
  std::string saved = ReadFile(current);
  for (std::string bad : {std::string(), std::string("MANIFEST-999999\n"),
                          std::string("\x13\x37garbage-without-newline")}) {
    WriteFile(current, bad);
    Status s = OpenStatus();
    EXPECT_FALSE(s.ok()) << "CURRENT = \"" << bad << "\" opened";
    EXPECT_TRUE(Contains(s, path_)) << s.ToString();
    EXPECT_EQ(ReadFile(current), bad) << "Open rewrote CURRENT";
  }
  WriteFile(current, saved);
  ExpectRecordIntact();
}

TEST_F(OpenTest, DeletedCurrentWithDataIsAnErrorNotAReset) {
  MakeManifest();
  fs::path current = fs::path(path_) / "CURRENT";
  std::string saved = ReadFile(current);
  fs::remove(current);
  Status s = OpenStatus();
  EXPECT_TRUE(Contains(s, "but no CURRENT file")) << s.ToString();
  EXPECT_FALSE(fs::exists(current)) << "Open created a fresh database";
  WriteFile(current, saved);
  ExpectRecordIntact();
}

TEST_F(OpenTest, GarbageOrTruncatedSstIsAnError) {
  MakeManifest();
  auto ssts = FilesWithSuffix(path_, ".sst");
  ASSERT_FALSE(ssts.empty());
  std::vector<std::string> saved;
  for (const auto& f : ssts) saved.push_back(ReadFile(f));

  for (const auto& f : ssts) {
    std::string junk(fs::file_size(f), '\0');
    for (std::size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<char>(i * 7 + 3);
    WriteFile(f, junk);
  }
  Status s = OpenStatus();
  EXPECT_FALSE(s.ok()) << "opened a manifest whose SST files are garbage";
  EXPECT_TRUE(Contains(s, path_)) << s.ToString();

  for (std::size_t i = 0; i < ssts.size(); ++i) {
    WriteFile(ssts[i], std::string_view(saved[i]).substr(0, saved[i].size() / 2));
  }
  s = OpenStatus();
  EXPECT_FALSE(s.ok()) << "opened a manifest whose SST files are truncated";

  for (std::size_t i = 0; i < ssts.size(); ++i) WriteFile(ssts[i], saved[i]);
  ExpectRecordIntact();
}

TEST_F(OpenTest, DamagedDataBlockFailsReadsAndChecksumVerification) {
  MakeManifest();
  // Flip bytes near the start of the objects SST: inside its first data
  // block, away from the footer that a plain open checks. (The meta SST,
  // which holds the schema version, stays intact so that open succeeds.)
  int damaged = 0;
  for (const auto& f : FilesWithSuffix(path_, ".sst")) {
    std::string data = ReadFile(f);
    if (data.find("schema_version") != std::string::npos) continue;
    ++damaged;
    ASSERT_GT(data.size(), 64u);
    for (std::size_t i = 8; i < 40; ++i) data[i] = static_cast<char>(~data[i]);
    WriteFile(f, data);
  }
  ASSERT_EQ(damaged, 1);
  Options verify;
  verify.verify_checksums_on_open = true;
  Status s = Manifest::Open(path_, verify).status();
  EXPECT_TRUE(Contains(s, "corrupt")) << s.ToString();

  // A plain open only checks footers; the damage is found when the block is read.
  auto m = Manifest::Open(path_);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  auto got = (*m)->GetObject(scope_, "backups/b1/velero-backup.json");
  EXPECT_FALSE(got.ok()) << "read a damaged block without an error";
  EXPECT_TRUE(Contains(got.status(), "Corruption")) << got.status().ToString();
}

TEST_F(OpenTest, CorruptRecordIsAnErrorNamingTheKey) {
  MakeManifest();
  {
    auto m = Manifest::Open(path_);
    ASSERT_TRUE(m.ok());
    ASSERT_TRUE((*m)->PutObject(scope_, "backups/b1/b1.tar.gz", record_).ok());
    ASSERT_TRUE((*m)->PutObject(scope_, "backups/b2/b2.tar.gz", record_).ok());
  }
  {
    testutil::RawDb raw(path_);
    ASSERT_TRUE(raw.ok()) << raw.error();
    // objects key: lp(route) lp(dest) key
    std::string k = std::string(1, '\x06') + "velero" + '\x07' + "dr-site" + "backups/b1/b1.tar.gz";
    raw.Put("objects", k, "\x01\xff\xff\xff");
  }
  auto m = Manifest::Open(path_);
  ASSERT_TRUE(m.ok());
  auto got = (*m)->GetObject(scope_, "backups/b1/b1.tar.gz");
  EXPECT_TRUE(Contains(got.status(), "corrupt object record")) << got.status().ToString();
  EXPECT_TRUE(Contains(got.status(), "key=backups/b1/b1.tar.gz"));
  auto cursor = (*m)->NewObjectCursor(scope_);
  int valid = 0;
  for (; cursor->Valid(); cursor->Next()) ++valid;
  EXPECT_EQ(valid, 0);  // "backups/b1/b1.tar.gz" sorts first and stops the cursor
  EXPECT_TRUE(Contains(cursor->status(), "key=backups/b1/b1.tar.gz"));
}

}  // namespace
}  // namespace ferry::manifest
