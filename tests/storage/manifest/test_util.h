// Helpers for the manifest tests: sample records, awkward keys, a temporary
// directory, and raw access to the RocksDB files behind a manifest (to plant
// corruption and foreign schema versions the public API cannot write).
#pragma once

#include <rocksdb/db.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "protocols/base/status.h"
#include "storage/manifest/records.h"

namespace ferry::manifest::testutil {

// Every field set to something distinctive derived from `seed`.
ObjectRecord FullObjectRecord(int seed);

// A key of exactly `size` bytes mixing UTF-8, spaces, '%', '+', '/', control
// bytes and 0xff, different for each seed.
std::string AwkwardKey(std::size_t size, int seed);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// Files of `dir` whose names end with `suffix`.
std::vector<std::filesystem::path> FilesWithSuffix(const std::string& dir, std::string_view suffix);
std::string ReadFile(const std::filesystem::path& p);
void WriteFile(const std::filesystem::path& p, std::string_view data);

// Opens the database under a (closed) manifest with plain RocksDB, every
// column family included, to write or delete raw rows.
class RawDb {
 public:
  explicit RawDb(const std::string& path);
  ~RawDb();
  bool ok() const { return db_ != nullptr; }
  const std::string& error() const { return error_; }
  void Put(std::string_view family, std::string_view key, std::string_view value);
  void Delete(std::string_view family, std::string_view key);
  void CreateFamily(std::string_view family);

 private:
  rocksdb::ColumnFamilyHandle* Family(std::string_view name);
  rocksdb::DB* db_ = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::string error_;
};

}  // namespace ferry::manifest::testutil
