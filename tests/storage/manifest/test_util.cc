#include "tests/storage/manifest/test_util.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>
#include <sstream>

namespace ferry::manifest::testutil {

ObjectRecord FullObjectRecord(int seed) {
  ObjectRecord r;
  r.source_etag = "\"" + std::string(31, 'a') + std::to_string(seed % 10) + "\"";
  r.size = 1000003ull * static_cast<std::uint64_t>(seed + 1);
  r.source_mtime_ms = 1700000000000 + seed;
  r.content_hash = "0123456789abcdef0123456789abcde" + std::to_string(seed % 10);
  r.dest_etag = "\"d41d8cd98f00b204e9800998ecf8427e-" + std::to_string(seed % 7 + 2) + "\"";
  r.state = static_cast<ObjectState>(seed % (kMaxObjectState + 1));
  r.first_seen_ms = 1700000001000 + seed;
  r.seen_by = seed % 2 ? SeenBy::kEvent : SeenBy::kListing;
  r.verified_by = static_cast<VerifiedBy>(seed % (kMaxVerifiedBy + 1));
  r.replicated_at_ms = 1700000002000 + seed;
  r.attempts = static_cast<std::uint32_t>(seed % 5);
  r.last_error = seed % 3 ? "" : "SlowDown (HTTP 503) on part " + std::to_string(seed);
  r.lag_ms = 2000 - seed;
  r.delete_seen_ms = seed % 4 ? 0 : 1700000003000 + seed;
  return r;
}

std::string AwkwardKey(std::size_t size, int seed) {
  static const std::string_view kPieces[] = {"backups/", "é",
                                             " ",        "%2F",
                                             "+",        "//",
                                             "..",       "\xe2\x82\xac",
                                             "#?~",      std::string_view("\0", 1),
                                             "\x7f",     "\xff"};
  std::string k = "k" + std::to_string(seed) + "/";
  std::size_t i = static_cast<std::size_t>(seed);
  while (k.size() < size) {
    k.append(kPieces[i++ % std::size(kPieces)]);
  }
  k.resize(size);
  return k;
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ferry-manifest-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed for " << tmpl;
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::vector<std::filesystem::path> FilesWithSuffix(const std::string& dir,
                                                   std::string_view suffix) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().filename().string().ends_with(suffix)) out.push_back(e.path());
  }
  return out;
}

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::filesystem::path& p, std::string_view data) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
}

RawDb::RawDb(const std::string& path) {
  rocksdb::DBOptions options;
  std::vector<std::string> names;
  rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, path, &names);
  if (!s.ok()) {
    error_ = s.ToString();
    return;
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  rocksdb::ColumnFamilyOptions cf;
  cf.compression = rocksdb::kZSTD;
  for (const auto& n : names) descriptors.emplace_back(n, cf);
  s = rocksdb::DB::Open(options, path, descriptors, &handles_, &db_);
  if (!s.ok()) {
    error_ = s.ToString();
    db_ = nullptr;
  }
}

RawDb::~RawDb() {
  if (db_ == nullptr) return;
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->Close().PermitUncheckedError();
  delete db_;
}

rocksdb::ColumnFamilyHandle* RawDb::Family(std::string_view name) {
  for (auto* h : handles_) {
    if (h->GetName() == name) return h;
  }
  ADD_FAILURE() << "no column family " << name;
  return nullptr;
}

void RawDb::Put(std::string_view family, std::string_view key, std::string_view value) {
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->Put(w, Family(family), rocksdb::Slice(key.data(), key.size()),
                               rocksdb::Slice(value.data(), value.size()));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

void RawDb::Delete(std::string_view family, std::string_view key) {
  rocksdb::WriteOptions w;
  w.sync = true;
  rocksdb::Status s = db_->Delete(w, Family(family), rocksdb::Slice(key.data(), key.size()));
  EXPECT_TRUE(s.ok()) << s.ToString();
}

void RawDb::CreateFamily(std::string_view family) {
  rocksdb::ColumnFamilyHandle* h = nullptr;
  rocksdb::Status s =
      db_->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), std::string(family), &h);
  ASSERT_TRUE(s.ok()) << s.ToString();
  handles_.push_back(h);
}

}  // namespace ferry::manifest::testutil
