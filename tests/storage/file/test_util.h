// Helpers for the file backend tests: a backend on a fresh temporary
// directory, a way to run its coroutines to completion, and small body
// sources/sinks.
#pragma once

#include <gtest/gtest.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <memory>
#include <string>
#include <vector>

#include "protocols/base/body.h"
#include "storage/backend.h"
#include "storage/file/file_backend.h"

namespace ferry::storage::testing {

// A source that declares `size` bytes, yields `good` bytes of 'x' and then
// fails, like a network stream cut mid-body.
class FailingSource final : public io::BodySource {
 public:
  FailingSource(std::uint64_t size, std::uint64_t good) : size_(size), good_(good) {}
  std::uint64_t size() const override { return size_; }
  Task<Result<std::size_t>> Read(std::span<char> buf) override;
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }

 private:
  std::uint64_t size_;
  std::uint64_t good_;
  std::uint64_t pos_ = 0;
};

// Deterministic bytes of a given length.
std::string Pattern(std::size_t n, unsigned seed = 1);

class FileBackendTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;
  // Options used by SetUp; tests may change them and call Reopen().
  FileBackendOptions options_;
  void Reopen();

  template <typename T>
  T Run(Task<T> task) {
    io_.restart();
    auto fut = boost::asio::co_spawn(io_, std::move(task), boost::asio::use_future);
    io_.run();
    return fut.get();
  }

  Result<PutResult> Put(const std::string& key, const std::string& data, const Metadata& meta = {});
  // Whole object (or range) as a string.
  Result<std::string> GetString(const std::string& key, GetOptions opts = {});
  // Every page of a listing, concatenated; also counts the pages.
  Result<ListPage> ListAll(ListOptions opts, int* pages = nullptr);
  // Relative paths of every file and directory under the root, outside
  // .ferry/ (sorted); directories end in '/'.
  std::vector<std::string> VisibleTree() const;
  // Number of regular files under root/.ferry/<sub>.
  std::size_t FilesUnder(const std::string& sub) const;

  std::string parent_;  // temp dir holding root_ (to check nothing escapes)
  std::string root_;
  boost::asio::io_context io_;
  std::shared_ptr<Backend> backend_;
};

}  // namespace ferry::storage::testing
