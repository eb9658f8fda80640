#include "sim/faults.h"

#include <gtest/gtest.h>

namespace ferry::sim {
namespace {

TEST(FaultsTest, ParsesSpecs) {
  auto r = ParseFaultSpec("op=upload_part,kind=reset,next=2,prefix=a/,ms=5,p=0.5,bucket=b");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->op, "upload_part");
  EXPECT_EQ(r->kind, FaultKind::kReset);
  EXPECT_EQ(r->remaining, 2);
  EXPECT_EQ(r->key_prefix, "a/");
  EXPECT_EQ(r->bucket, "b");
  EXPECT_DOUBLE_EQ(r->probability, 0.5);
  EXPECT_FALSE(ParseFaultSpec("op=get").ok());
  EXPECT_FALSE(ParseFaultSpec("op=get,kind=explode").ok());
  EXPECT_FALSE(ParseFaultSpec("op=bogus,kind=flip").ok());
  EXPECT_FALSE(ParseFaultSpec("kind=flip,p=2").ok());
  auto j = FaultRuleFromJson(r->ToJson());
  ASSERT_TRUE(j.ok());
  EXPECT_EQ(j->kind, FaultKind::kReset);
}

TEST(FaultsTest, NextNFiresExactlyNTimesForMatchingRequests) {
  FaultInjector f;
  f.Add(*ParseFaultSpec("op=get,kind=error500,next=2,prefix=x/"));
  EXPECT_FALSE(f.Decide("GetObject", "b", "y/1").kind);
  EXPECT_FALSE(f.Decide("PutObject", "b", "x/1").kind);
  EXPECT_EQ(f.Decide("GetObject", "b", "x/1").kind, FaultKind::kError500);
  EXPECT_EQ(f.Decide("GetObject", "b", "x/2").kind, FaultKind::kError500);
  EXPECT_FALSE(f.Decide("GetObject", "b", "x/3").kind);
  EXPECT_EQ(f.Rules()[0].injected, 2u);
}

TEST(FaultsTest, ProbabilityIsDeterministicForASeed) {
  auto run = [](std::uint64_t seed) {
    FaultInjector f(seed);
    f.Add(*ParseFaultSpec("op=any,kind=slowdown503,p=0.3"));
    std::string s;
    for (int i = 0; i < 200; ++i) s += f.Decide("HeadObject", "b", "k").kind ? '1' : '0';
    return s;
  };
  std::string a = run(9);
  EXPECT_EQ(a, run(9));
  EXPECT_NE(a, run(10));
  auto ones = std::count(a.begin(), a.end(), '1');
  EXPECT_GT(ones, 30);
  EXPECT_LT(ones, 90);
}

TEST(FaultsTest, LatencyAddsUpAndOtherKindsStillApply) {
  FaultInjector f;
  f.Add(*ParseFaultSpec("kind=latency,ms=10"));
  f.Add(*ParseFaultSpec("op=copy,kind=flip,next=1"));
  f.Add(*ParseFaultSpec("kind=latency,ms=5"));
  FaultDecision d = f.Decide("UploadPartCopy", "b", "k");
  EXPECT_EQ(d.extra_latency_ms, 15u);
  EXPECT_EQ(d.kind, FaultKind::kFlip);
  EXPECT_EQ(d.fired.size(), 3u);
}

}  // namespace
}  // namespace ferry::sim
