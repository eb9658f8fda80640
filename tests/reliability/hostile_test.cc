// Hostile and edge input through the whole pipeline (s3sim -> ferry ->
// s3sim): odd keys, 0-byte objects, sizes on part boundaries, an object of
// 10,000 parts, and responses with malformed, huge or deeply nested XML.
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "storage/s3/s3_backend.h"
#include "tests/reliability/reliability.h"
#include "tests/support/run.h"

namespace ferry::reliability {
namespace {

using std::chrono::seconds;
using HostileInputTest = ReliabilityTest;

std::vector<std::string> HostileKeys() {
  std::vector<std::string> keys = {
      "plain/ascii.txt",
      "unicode/d\xc3\xa9j\xc3\xa0 vu/\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e/\xd0\xba\xd0\xbb\xd1\x8e\xd1\x87",
      "emoji/\xf0\x9f\x9a\xa2 ferry",
      "spaces/a b  c",
      "plus/a+b+c",
      "percent/a%2Fb%25c",
      "slashes//double//",
      "/leading/slash",
      "dots/../up",
      "dots/./here",
      "trailing/space ",
      "trailing/spaces   ",
      "chars/!'()*,;=&$@[]{}~^`|\"<>#",
      "query/?a=b&c=d",
  };
  std::string long_key = "long/";
  while (long_key.size() < 1024) long_key += "k";
  keys.push_back(long_key);  // exactly 1024 bytes, the S3 maximum
  return keys;
}

TEST_F(HostileInputTest, OddKeysZeroBytesAndPartBoundariesReplicate) {
  ASSERT_NO_FATAL_FAILURE(StartRegions());
  std::uint64_t seed = 500;
  for (const std::string& key : HostileKeys()) {
    ASSERT_LE(key.size(), 1024u);
    PutSource(key, integration::RandomBytes(100 + key.size(), ++seed));
  }
  PutSource("zero/empty", "");
  PutSource("zero/also empty ", "");
  // ferry's own multipart (single-part sources): part_size 5 MiB; the 1 MiB
  // threshold makes every object of 1 MiB or more go multipart.
  for (std::uint64_t size : {5 * kMiB - 1, 5 * kMiB, 5 * kMiB + 1, 10 * kMiB - 1, 10 * kMiB,
                             10 * kMiB + 1}) {
    PutSource("boundary/single-" + std::to_string(size), integration::RandomBytes(size, ++seed));
  }
  // Mirrored layouts (multipart sources, 1 MiB parts).
  for (std::uint64_t size : {kMiB + 1, 2 * kMiB - 1, 2 * kMiB, 2 * kMiB + 1, 3 * kMiB}) {
    PutSourceMultipart("boundary/multi-" + std::to_string(size),
                       integration::RandomBytes(size, ++seed), kMiB);
  }
  ConfigOptions o;
  o.layout = "plain";
  o.part_size = "5MiB";
  o.multipart_threshold = "1MiB";
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnceYaml(Yaml(o), &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, written_.size());
  EXPECT_EQ(ExpectReplicaIdentical(), written_.size());
  // A second pass finds nothing to do.
  ASSERT_EQ(RunOnceYaml(Yaml(o), &reports), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 0u);
  EXPECT_EQ(reports[0].in_sync, written_.size());
}

TEST_F(HostileInputTest, TenThousandPartsAreMirrored) {
  // 10,000 parts of 1 KiB: both simulators accept parts that small.
  constexpr std::uint64_t kPart = 1024;
  ASSERT_NO_FATAL_FAILURE(StartRegions({"--min-part-size", std::to_string(kPart)},
                                       {"--min-part-size", std::to_string(kPart)}));
  Written w = SyntheticSource("many/parts.bin", 10000 * kPart - 17, 77, kPart);
  ASSERT_TRUE(w.etag.ends_with("-10000")) << w.etag;
  ConfigOptions o;
  o.layout = "plain";
  o.parts_in_flight = 64;
  std::string yaml = Yaml(o);
  for (std::string::size_type at; (at = yaml.find("min_part_size: 1MiB")) != std::string::npos;) {
    yaml.replace(at, 19, "min_part_size: 1KiB");
  }
  std::vector<engine::PassReport> reports;
  ASSERT_EQ(RunOnceYaml(yaml, &reports, seconds(600)), engine::kExitMatched);
  EXPECT_EQ(reports[0].copied, 1u);
  EXPECT_EQ(dst_.Requests("UploadPart"), 10000u);
  storage::HeadOptions h;
  auto head = testing::RunTask(ioc_, dst_backend_->Head("many/parts.bin", h));
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, w.etag);
  EXPECT_EQ(head->size, w.size);
}

// A raw TCP server answering every request with `response` (status line,
// headers and body as given), for XML an S3 service would never send.
class CannedServer {
 public:
  explicit CannedServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~CannedServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::uint16_t port() const { return port_; }
  int requests() const { return requests_.load(); }

 private:
  void Serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      // Read the request head (these requests have no body).
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
      }
      ++requests_;
      std::size_t off = 0;
      while (off < response_.size()) {
        ssize_t n = ::send(c, response_.data() + off, response_.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }
  std::string response_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

std::string Http200Xml(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nConnection: close\r\n"
         "Content-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(HostileXmlTest, MalformedHugeAndDeeplyNestedListingsAreClassifiedErrors) {
  std::string deep = "<?xml version=\"1.0\"?><ListBucketResult>";
  for (int i = 0; i < 200000; ++i) deep += "<a>";
  std::string huge_key = "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name><Contents><Key>" +
                         std::string(64 << 20, 'k') + "</Key><Size>1</Size></Contents></ListBucketResult>";
  std::string many = "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name>";
  while (many.size() < (48u << 20)) many += "<Contents><Key>k</Key><Size>1</Size></Contents>";
  many += "</ListBucketResult>";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"garbage", "\x01\x02not xml at all<<<>>>&&&"},
      {"unclosed", "<?xml version=\"1.0\"?><ListBucketResult><Contents><Key>a"},
      {"bad_entity", "<ListBucketResult><Contents><Key>&bogus;&#xffffffff;</Key></Contents></ListBucketResult>"},
      {"entity_bomb",
       "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
       "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\"><!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">]>"
       "<ListBucketResult><Contents><Key>&d;&d;&d;&d;</Key></Contents></ListBucketResult>"},
      {"bad_numbers", "<ListBucketResult><Contents><Key>a</Key><Size>-99999999999999999999999</Size></Contents>"
                      "<IsTruncated>maybe</IsTruncated></ListBucketResult>"},
      {"deeply_nested", deep},
      {"huge_key", huge_key},
      {"many_entries", many},
  };
  for (const auto& [name, body] : cases) {
    SCOPED_TRACE(name);
    CannedServer server(Http200Xml(body));
    boost::asio::io_context ioc;
    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse("http://127.0.0.1:" + std::to_string(server.port())).value();
    o.client.bucket = "b";
    o.client.credentials = s3::StaticCredentials({"k", "s", ""});
    o.client.request_timeout = std::chrono::milliseconds(20'000);
    auto b = storage::OpenS3Backend(ioc.get_executor(), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    storage::ListOptions lo;
    auto page = testing::RunTask(ioc, (*b)->List(lo), seconds(60));
    // Either a classified error, or (for well-formed but absurd pages) a
    // bounded result: never a crash, never an unbounded page.
    if (page.ok()) {
      EXPECT_LE(page->contents.size(), 1000u) << "a listing page beyond S3's 1000 keys";
      for (const auto& c : page->contents) EXPECT_LE(c.key.size(), 1024u);
    } else {
      // Classified (a corrupted answer may be transient, so kRetryable is
      // fine: the engine's retries are bounded) and saying what was wrong.
      // (A body past the client's buffer limit is refused before parsing.)
      const std::string text = page.status().ToString();
      EXPECT_TRUE(text.find("ListObjectsV2") != std::string::npos ||
                  text.find("buffer limit") != std::string::npos)
          << text;
    }
    EXPECT_EQ(server.requests(), 1) << "a hostile answer must not be retried by the backend";
  }
}

}  // namespace
}  // namespace ferry::reliability
