// Crash and resume: ferryd (the binary) is killed with SIGKILL halfway
// through a 1 GiB multipart copy; a second ferryd --once finishes it by
// resending only what was not journaled as finished.
#include <signal.h>
#include <sys/wait.h>

#include <thread>

#include "tests/engine/integration/harness.h"


namespace ferry::integration {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ResumeTest = IntegrationTest;

constexpr std::uint64_t kSize = 1ull << 30;
constexpr std::uint64_t kPart = 16 * kMiB;
constexpr std::uint64_t kParts = kSize / kPart;  // 64
constexpr int kInFlight = 4;

std::uint64_t SuccessfulParts(Region& r) {
  std::uint64_t n = 0;
  for (const auto& e : Filter(r.Log(), "UploadPart")) n += e["status"] == 200;
  return n;
}

TEST_F(ResumeTest, KilledMidUploadResumesAndResendsOnlyTheRemainder) {
  // 48 MiB/s per destination connection: 64 parts over 4 connections take
  // about 5 s, a wide enough window to kill in.
  ASSERT_NO_FATAL_FAILURE(StartRegions({}, {"--bandwidth", std::to_string(48 * kMiB)}));
  Written src = SyntheticSource("big/volume.img", kSize, 42, kPart);
  ASSERT_EQ(src.etag.substr(src.etag.size() - 3), "-64");

  ConfigOptions o;
  o.layout = "plain";
  o.part_size = "16MiB";
  o.multipart_threshold = "16MiB";
  o.parts_in_flight = kInFlight;
  o.payload_signing = "unsigned";
  o.log_level = "info";
  const std::string config = WriteConfig(o);

  auto first = StartFerryd(config);
  ASSERT_TRUE(first);
  // Kill when about half the parts are at the destination.
  auto deadline = std::chrono::steady_clock::now() + seconds(40);
  while (dst_.Requests("UploadPart") < kParts / 2) {
    ASSERT_TRUE(first->Running()) << "ferryd exited before the kill";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "upload too slow to reach half";
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(::kill(first->pid(), SIGKILL), 0);
  ASSERT_TRUE(WaitExit(*first, seconds(10)));
  EXPECT_TRUE(WIFSIGNALED(first->wait_status()));
  // Parts the destination stored before the crash (requests cut by the kill
  // end as errors in its log).
  auto log_settled = std::chrono::steady_clock::now() + seconds(5);
  while (dst_.Stats().value("open_connections", 0) > 0 &&
         std::chrono::steady_clock::now() < log_settled) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  const std::uint64_t stored_before = SuccessfulParts(dst_);
  const std::uint64_t seq = dst_.LastSeq();
  std::cerr << "killed with " << stored_before << " of " << kParts << " parts stored\n";
  ASSERT_GE(stored_before, kParts / 2 - kInFlight);
  ASSERT_LT(stored_before, kParts);
  ASSERT_TRUE(ListAll(*dst_backend_).empty());  // not completed

  auto second = StartFerryd(config);
  ASSERT_TRUE(second);
  ASSERT_TRUE(WaitExit(*second, seconds(50))) << "second ferryd did not finish";
  ASSERT_TRUE(WIFEXITED(second->wait_status()));
  EXPECT_EQ(WEXITSTATUS(second->wait_status()), 0);

  auto after = dst_.Log(seq);
  EXPECT_FALSE(Filter(after, "ListParts").empty()) << "resume not confirmed with ListParts";
  EXPECT_TRUE(Filter(after, "CreateMultipartUpload").empty()) << "upload started over";
  std::uint64_t resent = Filter(after, "UploadPart").size();
  std::cerr << "after restart: " << resent << " parts sent\n";
  EXPECT_GE(resent, kParts - stored_before);
  EXPECT_LE(resent, kParts - stored_before + kInFlight);

  storage::HeadOptions h;
  auto head = testing::RunTask(ioc_, dst_backend_->Head("big/volume.img", h));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, kSize);
  EXPECT_EQ(head->etag, src.etag);  // same 64 part MD5s: byte-identical
}

TEST_F(ResumeTest, AnUploadThatWillNeverResumeIsAborted) {
  // Killed mid-upload, then the object disappears from the source: the next
  // pass must not leave the orphaned upload's parts at the destination.
  ASSERT_NO_FATAL_FAILURE(StartRegions({}, {"--bandwidth", std::to_string(48 * kMiB)}));
  Written src = SyntheticSource("big/gone.img", kSize / 4, 7, kPart);
  ConfigOptions o;
  o.layout = "plain";
  o.part_size = "16MiB";
  o.multipart_threshold = "16MiB";
  o.parts_in_flight = kInFlight;
  o.payload_signing = "unsigned";
  const std::string config = WriteConfig(o);

  auto first = StartFerryd(config);
  ASSERT_TRUE(first);
  auto deadline = std::chrono::steady_clock::now() + seconds(40);
  while (dst_.Requests("UploadPart") < 2) {
    ASSERT_TRUE(first->Running()) << "ferryd exited before the kill";
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "no part reached the destination";
    std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_EQ(::kill(first->pid(), SIGKILL), 0);
  ASSERT_TRUE(WaitExit(*first, seconds(10)));
  auto settled = std::chrono::steady_clock::now() + seconds(5);
  while (dst_.Stats().value("open_connections", 0) > 0 &&
         std::chrono::steady_clock::now() < settled) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  auto open = testing::RunTask(ioc_, dst_backend_->ListUploads(""));
  ASSERT_TRUE(open.ok()) << open.status().ToString();
  ASSERT_EQ(open->size(), 1u) << "the killed copy should have left one open upload";

  ASSERT_TRUE(testing::RunTask(ioc_, src_backend_->Delete("big/gone.img")).ok());
  storage::HeadOptions h;
  ASSERT_TRUE(testing::RunTask(ioc_, src_backend_->Head("big/gone.img", h))
                  .status()
                  .Is(ErrorClass::kNotFound))
      << "the source still has the object";
  const std::uint64_t seq = dst_.LastSeq();
  auto second = StartFerryd(config);
  ASSERT_TRUE(second);
  ASSERT_TRUE(WaitExit(*second, seconds(30)));
  ASSERT_TRUE(WIFEXITED(second->wait_status()));
  EXPECT_EQ(WEXITSTATUS(second->wait_status()), 0);

  auto after = dst_.Log(seq);
  EXPECT_EQ(Filter(after, "AbortMultipartUpload").size(), 1u);
  EXPECT_TRUE(Filter(after, "UploadPart").empty());
  open = testing::RunTask(ioc_, dst_backend_->ListUploads(""));
  ASSERT_TRUE(open.ok());
  EXPECT_TRUE(open->empty()) << "orphaned upload still open";
  EXPECT_TRUE(ListAll(*dst_backend_).empty());
  (void)src;
}

}  // namespace
}  // namespace ferry::integration
