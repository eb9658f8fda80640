#include "test_util.h"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>

namespace ferry::storage::testing {

namespace fs = std::filesystem;

Task<Result<std::size_t>> FailingSource::Read(std::span<char> buf) {
  if (pos_ >= good_) {
    co_return Status::Error(ErrorClass::kRetryable, "connection reset by test");
  }
  std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), good_ - pos_));
  std::fill_n(buf.data(), n, 'x');
  pos_ += n;
  co_return n;
}

std::string Pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 1;
  for (char& c : s) {
    x = x * 1664525u + 1013904223u;
    c = static_cast<char>(x >> 24);
  }
  return s;
}

void FileBackendTest::SetUp() {
  std::string tmpl = (fs::temp_directory_path() / "ferry-file-test-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  parent_ = tmpl;
  root_ = parent_ + "/root";
  options_.root = root_;
  options_.io_chunk = 4096;  // small, so every test crosses chunk boundaries
  options_.min_part_size = 1024;
  Reopen();
}

void FileBackendTest::Reopen() {
  auto b = OpenFileBackend(io_.get_executor(), options_);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  backend_ = *b;
}

void FileBackendTest::TearDown() {
  backend_.reset();
  std::error_code ec;
  fs::remove_all(parent_, ec);
}

Result<PutResult> FileBackendTest::Put(const std::string& key, const std::string& data,
                                       const Metadata& meta) {
  io::MemorySource src(data);
  return Run(backend_->Put(key, src, meta));
}

Result<std::string> FileBackendTest::GetString(const std::string& key, GetOptions opts) {
  io::StringSink sink;
  Result<ObjectInfo> info = Run(backend_->Get(key, opts, sink));
  if (!info.ok()) return info.status();
  return sink.Take();
}

Result<ListPage> FileBackendTest::ListAll(ListOptions opts, int* pages) {
  ListPage all;
  int n = 0;
  for (;;) {
    Result<ListPage> page = Run(backend_->List(opts));
    if (!page.ok()) return page.status();
    ++n;
    EXPECT_LE(page->key_count, opts.max_keys);
    EXPECT_EQ(page->key_count,
              static_cast<int>(page->contents.size() + page->common_prefixes.size()));
    for (auto& c : page->contents) all.contents.push_back(std::move(c));
    for (auto& p : page->common_prefixes) all.common_prefixes.push_back(std::move(p));
    if (!page->is_truncated) break;
    EXPECT_FALSE(page->next_continuation_token.empty());
    opts.continuation_token = page->next_continuation_token;
    if (n > 10000) return Status::Error(ErrorClass::kFatal, "listing does not end");
  }
  if (pages != nullptr) *pages = n;
  all.key_count = static_cast<int>(all.contents.size() + all.common_prefixes.size());
  return all;
}

std::vector<std::string> FileBackendTest::VisibleTree() const {
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(root_); it != fs::recursive_directory_iterator();
       ++it) {
    std::string rel = fs::relative(it->path(), root_).string();
    if (rel == ".ferry") {
      it.disable_recursion_pending();
      continue;
    }
    out.push_back(it->is_directory() ? rel + "/" : rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::size_t FileBackendTest::FilesUnder(const std::string& sub) const {
  std::size_t n = 0;
  fs::path dir = fs::path(root_) / ".ferry" / sub;
  if (!fs::exists(dir)) return 0;
  for (auto& e : fs::recursive_directory_iterator(dir)) n += e.is_regular_file() ? 1 : 0;
  return n;
}

}  // namespace ferry::storage::testing
