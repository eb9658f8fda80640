#include "sim/synthetic.h"

#include <gtest/gtest.h>

#include "protocols/base/digest.h"

namespace ferry::sim {
namespace {

TEST(SyntheticTest, RangedReadsMatchFullRead) {
  BlobPtr b = MakeSyntheticBlob(42, 1000);
  std::string all(1000, '\0');
  ASSERT_TRUE(b->ReadAt(0, std::span<char>(all.data(), all.size())).ok());
  for (std::uint64_t off : {0u, 1u, 7u, 8u, 13u, 999u}) {
    std::string part(std::min<std::uint64_t>(37, 1000 - off), '\0');
    ASSERT_TRUE(b->ReadAt(off, std::span<char>(part.data(), part.size())).ok());
    EXPECT_EQ(part, all.substr(off, part.size())) << off;
  }
  std::string other(1000, '\0');
  ASSERT_TRUE(MakeSyntheticBlob(43, 1000)->ReadAt(0, std::span<char>(other.data(), 1000)).ok());
  EXPECT_NE(all, other);
}

TEST(SyntheticTest, EtagsMatchWhatUploadsWouldGive) {
  BlobPtr b = MakeSyntheticBlob(7, 25);
  std::string all(25, '\0');
  ASSERT_TRUE(b->ReadAt(0, std::span<char>(all.data(), 25)).ok());
  auto single = ComputeEtag(*b, 0);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->etag, digest::ToHex(digest::Md5(all)));
  auto multi = ComputeEtag(*b, 10);
  ASSERT_TRUE(multi.ok());
  EXPECT_EQ(multi->part_sizes, (std::vector<std::uint64_t>{10, 10, 5}));
  std::string cat = digest::Md5(all.substr(0, 10)) + digest::Md5(all.substr(10, 10)) +
                    digest::Md5(all.substr(20));
  EXPECT_EQ(multi->etag, digest::ToHex(digest::Md5(cat)) + "-3");
}

}  // namespace
}  // namespace ferry::sim
