#include "tests/storage/conformance.h"

#include <algorithm>

#include "protocols/base/digest.h"

namespace ferry::conformance {
namespace {

io::Task<Result<storage::PutResult>> PutTask(std::shared_ptr<storage::Backend> b, std::string key,
                                             std::string data, storage::Metadata meta) {
  io::MemorySource src(data);
  co_return co_await b->Put(std::move(key), src, meta);
}

io::Task<Result<GotObject>> GetTask(std::shared_ptr<storage::Backend> b, std::string key,
                                    storage::GetOptions opts) {
  // Large enough for every object the suite writes.
  io::StringSink sink(64u << 20);
  auto r = co_await b->Get(std::move(key), std::move(opts), sink);
  if (!r.ok()) co_return r.status();
  co_return GotObject{std::move(r).value(), sink.Take()};
}

io::Task<Result<storage::PutResult>> MultipartTask(std::shared_ptr<storage::Backend> b,
                                                   std::string key, std::string data,
                                                   std::vector<std::size_t> part_sizes,
                                                   storage::Metadata meta) {
  FERRY_CO_ASSIGN_OR_RETURN(std::string upload_id, co_await b->CreateMultipart(key, meta));
  std::vector<storage::CompletedPart> parts;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < part_sizes.size(); ++i) {
    io::MemorySource src(std::string_view(data).substr(offset, part_sizes[i]));
    offset += part_sizes[i];
    int number = static_cast<int>(i) + 1;
    auto r = co_await b->UploadPart(key, upload_id, number, src);
    if (!r.ok()) {
      (void)co_await b->AbortMultipart(key, upload_id);
      co_return r.status();
    }
    parts.push_back({number, r->etag});
  }
  co_return co_await b->CompleteMultipart(key, upload_id, std::move(parts));
}

io::Task<Result<Listing>> ListAllTask(std::shared_ptr<storage::Backend> b,
                                      storage::ListOptions opts, int max_pages) {
  Listing out;
  for (;;) {
    if (out.pages >= max_pages) {
      co_return Status::Error(ErrorClass::kFatal,
                              "listing did not end within " + std::to_string(max_pages) + " pages");
    }
    FERRY_CO_ASSIGN_OR_RETURN(storage::ListPage page, co_await b->List(opts));
    ++out.pages;
    for (auto& o : page.contents) out.objects.push_back(std::move(o));
    for (auto& p : page.common_prefixes) out.prefixes.push_back(std::move(p));
    if (!page.is_truncated) break;
    opts.continuation_token = page.next_continuation_token;
  }
  co_return out;
}

// Removes what a case left behind. Best effort across the whole prefix, and
// loud about failures (a real bucket would keep the garbage).
io::Task<Status> CleanupTask(std::shared_ptr<storage::Backend> b, std::string prefix,
                             Deviations dev) {
  storage::ListOptions lo;
  lo.prefix = prefix;
  FERRY_CO_ASSIGN_OR_RETURN(Listing all, co_await ListAllTask(b, lo, 100));
  // At most 1000 keys per DeleteBatch (the Backend contract).
  for (std::size_t i = 0; i < all.objects.size(); i += 1000) {
    std::vector<std::string> keys;
    for (std::size_t j = i; j < std::min(all.objects.size(), i + 1000); ++j) {
      keys.push_back(all.objects[j].key);
    }
    auto first = co_await b->DeleteBatch(keys);
    if (!first.ok() && dev.delete_batch_may_race && first.status().Is(ErrorClass::kRetryable)) {
      first = co_await b->DeleteBatch(keys);
    }
    FERRY_CO_ASSIGN_OR_RETURN(auto errors, std::move(first));
    if (!errors.empty()) {
      co_return Status::Error(ErrorClass::kFatal, "cleanup could not delete " + errors.front().key +
                                                      ": " + errors.front().code + " " +
                                                      errors.front().message);
    }
  }
  if (dev.list_uploads && dev.abort_upload && b->capabilities().multipart) {
    FERRY_CO_ASSIGN_OR_RETURN(auto uploads, co_await b->ListUploads(prefix));
    for (auto& u : uploads) {
      FERRY_CO_RETURN_IF_ERROR(co_await b->AbortMultipart(u.key, u.upload_id));
    }
  }
  co_return Status::Ok();
}

}  // namespace

std::string TestData(std::size_t size, std::uint64_t seed) {
  std::string out(size, '\0');
  std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
  for (std::size_t i = 0; i < size; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    std::size_t n = std::min<std::size_t>(8, size - i);
    for (std::size_t j = 0; j < n; ++j) out[i + j] = static_cast<char>(x >> (8 * j));
  }
  return out;
}

std::string Md5Hex(std::string_view data) { return digest::ToHex(digest::Md5(data)); }

std::string MultipartEtag(std::string_view data, const std::vector<std::size_t>& part_sizes) {
  std::string md5s;
  std::size_t offset = 0;
  for (std::size_t n : part_sizes) {
    md5s += digest::Md5(data.substr(offset, n));
    offset += n;
  }
  return Md5Hex(md5s) + "-" + std::to_string(part_sizes.size());
}

void ConformanceTest::SetUp() {
  auto f = GetFixture(GetParam());
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  fixture_ = *f;
  Status health = fixture_->Healthy();
  ASSERT_TRUE(health.ok()) << fixture_->Describe() << ": " << health.ToString();
  backend_ = fixture_->backend();
  std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::replace(name.begin(), name.end(), '/', '.');
  prefix_ = RunPrefix() + GetParam() + "/" + name + "/";
}

void ConformanceTest::TearDown() {
  if (!backend_) return;
  Status health = fixture_->Healthy();
  if (!health.ok()) {
    ADD_FAILURE() << fixture_->Describe() << " died during this case: " << health.ToString();
    return;
  }
  Status s = Run(CleanupTask(backend_, prefix_, dev()), std::chrono::seconds(300));
  EXPECT_TRUE(s.ok()) << "cleanup of " << prefix_ << " on " << fixture_->Describe() << ": "
                      << s.ToString();
}

Result<storage::PutResult> ConformanceTest::Put(const std::string& key, std::string_view data,
                                                const storage::Metadata& meta) {
  return Run(PutTask(backend_, key, std::string(data), meta));
}

Result<GotObject> ConformanceTest::Get(const std::string& key, storage::GetOptions opts) {
  return Run(GetTask(backend_, key, std::move(opts)));
}

Result<storage::ObjectInfo> ConformanceTest::Head(const std::string& key,
                                                  storage::HeadOptions opts) {
  return Run(backend_->Head(key, std::move(opts)));
}

Result<Listing> ConformanceTest::ListAll(storage::ListOptions opts, int max_pages) {
  return Run(ListAllTask(backend_, std::move(opts), max_pages));
}

Result<std::vector<storage::DeleteError>> ConformanceTest::DeleteBatch(
    std::vector<std::string> keys) {
  auto first = Run(backend_->DeleteBatch(keys), std::chrono::seconds(300));
  if (first.ok() || !dev().delete_batch_may_race) return first;
  EXPECT_TRUE(first.status().Is(ErrorClass::kRetryable)) << first.status().ToString();
  return Run(backend_->DeleteBatch(std::move(keys)), std::chrono::seconds(300));
}

Result<storage::PutResult> ConformanceTest::PutMultipart(const std::string& key,
                                                         std::string_view data,
                                                         const std::vector<std::size_t>& part_sizes,
                                                         const storage::Metadata& meta) {
  return Run(MultipartTask(backend_, key, std::string(data), part_sizes, meta),
             std::chrono::seconds(300));
}

io::Task<Status> PutObjectTask(std::shared_ptr<storage::Backend> b, std::string key,
                               std::string data) {
  io::MemorySource src(data);
  // A named value: GCC 12 mishandles temporaries bound to references across
  // co_await (double free).
  const storage::Metadata meta;
  auto r = co_await b->Put(key, src, meta);
  co_return r.status().WithContext("", "", key);
}

INSTANTIATE_TEST_SUITE_P(Backends, ConformanceTest, ::testing::ValuesIn(FixtureNames()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

}  // namespace ferry::conformance
