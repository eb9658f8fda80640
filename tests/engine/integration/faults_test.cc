// Transfers that meet trouble: a source object overwritten mid-copy, and
// resets, truncations, throttles and flipped bytes on both sides. The
// replica must end byte-identical, with retries bounded by the faults.
#include <atomic>
#include <thread>

#include "tests/engine/integration/harness.h"
#include "protocols/base/digest.h"
#include "tests/support/run.h"

namespace ferry::integration {
namespace {

using FaultsTest = IntegrationTest;

TEST_F(FaultsTest, SourceOverwrittenMidCopyRestartsWithTheNewContent) {
  // 2 MiB/s per destination connection: each 1 MiB part takes ~0.5 s.
  ASSERT_NO_FATAL_FAILURE(StartRegions({}, {"--bandwidth", std::to_string(2 * kMiB)}));
  const std::string key = "data/big.bin";
  Written old_w = PutSourceMultipart(key, RandomBytes(8 * kMiB, 1), kMiB);
  const std::string fresh = RandomBytes(6 * kMiB + 5, 2);
  const std::string fresh_md5 = digest::ToHex(digest::Md5(fresh));

  // While the copy runs: as soon as one part landed, overwrite the source
  // (through a backend on this thread's own io_context).
  std::atomic<bool> overwritten{false};
  std::string helper_error;
  std::thread helper([&] {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      auto s = dst_.admin().Stats();
      if (s.ok() && (*s)["requests"].value("UploadPart", 0) >= 1) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    boost::asio::io_context ioc;
    auto b = src_.OpenBackend(ioc);
    io::MemorySource body(fresh);
    storage::Metadata meta;
    auto r = testing::RunTask(ioc, b->Put(key, body, meta), std::chrono::seconds(30));
    if (!r.ok()) helper_error = r.status().ToString();
    overwritten = true;
  });
  ConfigOptions o;
  o.layout = "plain";
  o.parts_in_flight = 2;
  std::vector<engine::PassReport> reports;
  int code = RunOnce(o, &reports);
  helper.join();
  ASSERT_TRUE(overwritten.load());
  ASSERT_EQ(helper_error, "");
  EXPECT_EQ(code, engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);

  // The old version's ranged GETs were refused (If-Match) and the copy restarted.
  std::size_t refused = 0;
  for (const auto& e : Filter(src_.Log(), "GetObject", key)) refused += e["status"] == 412;
  EXPECT_GE(refused, 1u);
  EXPECT_EQ(dst_.Requests("CreateMultipartUpload"), 2u);
  EXPECT_EQ(dst_.Requests("AbortMultipartUpload"), 1u);
  auto dm = Md5Of(*dst_backend_, key);
  EXPECT_EQ(dm.first, fresh_md5);
  EXPECT_EQ(dm.second, fresh.size());
  EXPECT_NE(dm.first, old_w.md5_hex);
  written_[key] = {fresh_md5, fresh.size(), ""};
  ExpectReplicaIdentical();
}

// Faults by (op, kind) with "next" counts; returns how many each fired.
std::map<std::string, std::int64_t> Injected(Region& r) {
  std::map<std::string, std::int64_t> out;
  auto j = r.admin().Get("/_sim/faults");
  EXPECT_TRUE(j.ok());
  if (!j.ok()) return out;
  const nlohmann::json& rules = j->contains("faults") ? (*j)["faults"] : *j;
  for (const auto& f : rules) {
    out[f["op"].get<std::string>() + "/" + f["kind"].get<std::string>() + "/" +
        f["prefix"].get<std::string>()] += f["injected"].get<std::int64_t>();
  }
  return out;
}

TEST_F(FaultsTest, ResetsTruncationsThrottlesAndFlipsEndInAnIdenticalReplica) {
  // Single-part objects only get the flipped GETs (their plain-MD5 ETag is
  // what lets the copier see the corruption). A flipped PUT body fails its
  // Content-MD5 and is sent again; a flipped UploadPart body restarts the
  // whole object (see the next tests), so it has a test of its own.
  ASSERT_NO_FATAL_FAILURE(StartRegions(
      {"--fault", "op=get,kind=reset,next=2", "--fault", "op=get,kind=truncate,next=2",
       "--fault", "op=get,kind=slowdown503,next=2", "--fault",
       "op=get,kind=flip,next=2,prefix=backups/nightly-1/nightly-1-"},
      {"--fault", "op=upload_part,kind=reset,next=2", "--fault",
       "op=upload_part,kind=truncate,next=2", "--fault",
       "op=upload_part,kind=slowdown503,next=2", "--fault", "op=put,kind=reset,next=1",
       "--fault", "op=put,kind=flip,next=1"}));
  PopulateVelero(2);
  ConfigOptions o;
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, written_.size());

  // Every rule fired all it had.
  auto src_inj = Injected(src_);
  auto dst_inj = Injected(dst_);
  std::int64_t src_total = 0, parts_total = 0, puts_total = 0;
  for (const auto& [rule, n] : src_inj) {
    EXPECT_EQ(n, 2) << rule;
    src_total += n;
  }
  for (const auto& [rule, n] : dst_inj) {
    EXPECT_EQ(n, rule.starts_with("upload_part/") ? 2 : 1) << rule;
    (rule.starts_with("upload_part/") ? parts_total : puts_total) += n;
  }
  // Bounded retries: one extra request per fault, no more.
  std::uint64_t gets = 0, parts = 0, puts = 0;
  for (const auto& [k, w] : written_) {
    if (w.size > 2 * kMiB) {
      std::uint64_t n = (w.size + kMiB - 1) / kMiB;
      gets += n;
      parts += n;
    } else {
      ++gets;
      ++puts;
    }
    // The marker gate reads each Velero marker once before it is copied.
    if (k.starts_with("backups/") && k.ends_with("/velero-backup.json")) ++gets;
  }
  EXPECT_EQ(src_.Requests("GetObject"), gets + src_total);
  EXPECT_EQ(dst_.Requests("UploadPart"), parts + parts_total);
  EXPECT_EQ(dst_.Requests("PutObject"), puts + puts_total);
  ExpectReplicaIdentical();  // (its GETs come after the counts above)
}

}  // namespace
}  // namespace ferry::integration

namespace ferry::integration {
namespace {

// A byte flipped in one ranged GET of a multipart object: the destination
// stores what it was sent, so only the mirrored ETag (the part ETags combined
// must give the source's ETag) can reveal it. It is compared before
// Complete: the corrupted upload is aborted, never completed, and the object
// starts over.
TEST_F(FaultsTest, FlippedByteInAMultipartReadIsCaughtByTheMirroredEtag) {
  ASSERT_NO_FATAL_FAILURE(
      StartRegions({"--fault", "op=get,kind=flip,next=1,prefix=data/"}, {}));
  Written w = PutSourceMultipart("data/big.bin", RandomBytes(4 * kMiB + 1, 9), kMiB);
  ConfigOptions o;
  o.layout = "plain";
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);
  EXPECT_EQ(src_.Stats()["faults"].value("flip", 0), 1);
  ExpectOneUploadAbortedThenCompleted(dst_);
  EXPECT_EQ(dst_.Requests("UploadPart"), 10u);              // 5 parts, twice
  ExpectReplicaIdentical();
}

// A byte flipped in an UploadPart body on its way to the destination. With
// the source's layout mirrored ferry sends no Content-MD5 of its own (the
// mirrored ETag covers every part), so the destination stores the damaged
// part; its ETag then breaks the combination, the upload is aborted before
// Complete and the object is copied again, once.
TEST_F(FaultsTest, FlippedByteInAnUploadPartIsCaughtBeforeComplete) {
  ASSERT_NO_FATAL_FAILURE(
      StartRegions({}, {"--fault", "op=upload_part,kind=flip,next=1,prefix=data/"}));
  Written w = PutSourceMultipart("data/big.bin", RandomBytes(4 * kMiB + 1, 11), kMiB);
  ConfigOptions o;
  o.layout = "plain";
  std::vector<engine::PassReport> reports;
  EXPECT_EQ(RunOnce(o, &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);
  EXPECT_EQ(dst_.Stats()["faults"].value("flip", 0), 1);
  ExpectOneUploadAbortedThenCompleted(dst_);
  EXPECT_EQ(dst_.Requests("UploadPart"), 10u);
  EXPECT_EQ(src_.Requests("GetObject"), 10u);
  ExpectReplicaIdentical();
}

}  // namespace
}  // namespace ferry::integration
