// The backend conformance suite: every storage::Backend runs the same cases
// (TEST_P(ConformanceTest, ...) in conformance_*_test.cc), one instantiation
// per fixture in fixtures.h.
//
// Each case works under its own prefix, RunPrefix()/<fixture>/<case>/, and
// TearDown deletes whatever is left there, so the suite is safe to point at a
// real bucket. Helpers here are synchronous wrappers that run one backend
// coroutine on the shared io_context with a deadline.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "protocols/base/body.h"
#include "protocols/base/status.h"
#include "storage/backend.h"
#include "tests/storage/fixtures.h"
#include "tests/support/run.h"

namespace ferry::conformance {

inline std::string StatusText(const Status& s) { return s.ToString(); }
template <typename T>
std::string StatusText(const Result<T>& r) {
  return r.status().ToString();
}

#define FERRY_ASSERT_OK(expr)                                                                  \
  do {                                                                                         \
    const auto& ferry_v_ = (expr);                                                             \
    ASSERT_TRUE(ferry_v_.ok()) << #expr << ": " << ::ferry::conformance::StatusText(ferry_v_); \
  } while (0)
#define FERRY_EXPECT_OK(expr)                                                                  \
  do {                                                                                         \
    const auto& ferry_v_ = (expr);                                                             \
    EXPECT_TRUE(ferry_v_.ok()) << #expr << ": " << ::ferry::conformance::StatusText(ferry_v_); \
  } while (0)

// Expects `r` to have failed with class `c`; prints the whole error otherwise.
template <typename R>
::testing::AssertionResult FailedWith(const R& r, ErrorClass c) {
  Status s;
  if constexpr (std::is_same_v<R, Status>) {
    s = r;
  } else {
    s = r.status();
  }
  if (s.ok()) return ::testing::AssertionFailure() << "succeeded; expected " << ErrorClassName(c);
  if (s.error_class() != c) {
    return ::testing::AssertionFailure()
           << "expected " << ErrorClassName(c) << ", got " << s.ToString();
  }
  return ::testing::AssertionSuccess();
}

// Deterministic pseudo-random bytes: the same (size, seed) gives the same data.
std::string TestData(std::size_t size, std::uint64_t seed);
std::string Md5Hex(std::string_view data);
// "<hex md5 of the concatenated binary part MD5s>-<parts>", computed here from
// the data, independently of any server.
std::string MultipartEtag(std::string_view data, const std::vector<std::size_t>& part_sizes);

struct GotObject {
  storage::ObjectInfo info;
  std::string data;
};

struct Listing {
  std::vector<storage::ObjectSummary> objects;
  std::vector<std::string> prefixes;
  int pages = 0;
};

class ConformanceTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  storage::Backend& backend() { return *backend_; }
  std::shared_ptr<storage::Backend> backend_ptr() { return backend_; }
  const storage::Capabilities& caps() const { return backend_->capabilities(); }
  const Deviations& dev() const { return fixture_->deviations(); }
  BackendFixture& fixture() { return *fixture_; }
  // This case's prefix, ending in '/'.
  const std::string& prefix() const { return prefix_; }
  std::string Key(std::string_view name) const { return prefix_ + std::string(name); }

  template <typename T>
  T Run(io::Task<T> task, std::chrono::seconds timeout = std::chrono::seconds(120)) {
    return testing::RunTask(SharedIoContext(), std::move(task), timeout);
  }
  Status Parallel(std::size_t count, std::size_t width,
                  std::function<io::Task<Status>(std::size_t)> make) {
    return testing::RunParallel(SharedIoContext(), count, width, std::move(make),
                                std::chrono::seconds(600));
  }

  Result<storage::PutResult> Put(const std::string& key, std::string_view data,
                                 const storage::Metadata& meta = {});
  Result<GotObject> Get(const std::string& key, storage::GetOptions opts = {});
  Result<storage::ObjectInfo> Head(const std::string& key, storage::HeadOptions opts = {});
  // Follows continuation tokens to the end (at most `max_pages`).
  Result<Listing> ListAll(storage::ListOptions opts, int max_pages = 1000);
  // DeleteBatch; where the fixture's server may race (s3rver) a retryable
  // failure is retried once, as the engine would, and must then pass.
  Result<std::vector<storage::DeleteError>> DeleteBatch(std::vector<std::string> keys);
  // Uploads `data` as a multipart object cut into `part_sizes`.
  Result<storage::PutResult> PutMultipart(const std::string& key, std::string_view data,
                                          const std::vector<std::size_t>& part_sizes,
                                          const storage::Metadata& meta = {});

 private:
  BackendFixture* fixture_ = nullptr;
  std::shared_ptr<storage::Backend> backend_;
  std::string prefix_;
};

// Coroutines over a shared backend that own their arguments (safe to hand to
// RunParallel).
io::Task<Status> PutObjectTask(std::shared_ptr<storage::Backend> b, std::string key,
                               std::string data);

}  // namespace ferry::conformance
