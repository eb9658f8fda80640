// 512 MiB up and down through the client: every byte arrives (count and
// XXH3 hash), and the process's resident memory does not grow with the
// object (the in-process server streams too, so it is covered by the bound).
#include <gtest/gtest.h>

#include "protocols/http/client.h"
#include "tests/protocols/http/test_data.h"
#include "tests/protocols/http/test_server.h"
#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

using boost::beast::http::verb;

constexpr std::uint64_t kObjectSize = 512ull << 20;
constexpr std::uint64_t kRssBound = 64ull << 20;

Request BigRequest(verb method, std::string target, io::BodySource* body = nullptr) {
  Request req = MakeRequest(method, std::move(target), body);
  req.deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
  return req;
}

TEST(StreamingTest, UploadsAndDownloads512MiBInBoundedMemory) {
  TestServer server;
  ClientRig rig;
  auto client = rig.MakeClient(server.url());
  const std::uint64_t expected_hash = GeneratedHash(42, kObjectSize);
  const std::uint64_t baseline = ResidentBytes();

  RssWatch up_rss;
  GeneratedSource source(42, kObjectSize, &up_rss);
  auto up = rig.Run(client->Send(BigRequest(verb::put, "/upload", &source), {}),
                    std::chrono::seconds(240));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->status, 200);
  EXPECT_EQ(up->header("x-bytes"), std::to_string(kObjectSize));
  EXPECT_EQ(up->header("x-hash"), std::to_string(expected_hash));
  // Pulled in io_buffer_size chunks, never all at once.
  EXPECT_GE(source.reads(), kObjectSize / ClientOptions{}.io_buffer_size);
  EXPECT_LT(up_rss.peak() > baseline ? up_rss.peak() - baseline : 0, kRssBound);

  RssWatch down_rss;
  HashingSink sink(&down_rss);
  ResponseOptions options;
  options.sink = &sink;
  auto down = rig.Run(
      client->Send(
          BigRequest(verb::get, "/download?size=" + std::to_string(kObjectSize) + "&seed=42"),
          options),
      std::chrono::seconds(240));
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(down->status, 200);
  EXPECT_EQ(down->streamed_bytes, kObjectSize);
  EXPECT_TRUE(down->body.empty());
  EXPECT_EQ(sink.bytes(), kObjectSize);
  EXPECT_EQ(sink.hash(), expected_hash);
  EXPECT_LE(sink.largest_chunk(), ClientOptions{}.io_buffer_size);
  EXPECT_GT(down_rss.peak(), 0u);
  EXPECT_LT(down_rss.peak() > baseline ? down_rss.peak() - baseline : 0, kRssBound);

  // Both transfers used the same keep-alive connection.
  EXPECT_EQ(server.accepted(), 1);
}

}  // namespace
}  // namespace ferry::http::testing
