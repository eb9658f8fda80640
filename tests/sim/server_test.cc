// The in-process server over real HTTP: round trips, ranges, auth failures,
// faults, the request log, synthetic objects, aws-chunked uploads, events.
#include "sim/server.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <future>
#include <thread>

#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/admin_client.h"
#include "sim/chunked.h"
#include "sim/synthetic.h"
#include "tests/sim/test_client.h"

namespace ferry::sim {
std::string EncodeChunked(ChunkSigner s, const std::vector<std::string>& chunks);

namespace {

using testing::RawResponse;
using testing::RequestSpec;
using testing::TestClient;

SimConfig BaseConfig() {
  SimConfig c;
  c.access_key = "AKID";
  c.secret_key = "SECRET";
  c.buckets = {"bkt", "dst"};
  c.synthetic_buckets = {"synth"};
  c.min_part_size = 10;
  return c;
}

class ServerTest : public ::testing::Test {
 protected:
  void Start(SimConfig c = BaseConfig()) {
    server_ = std::make_unique<Server>(c);
    Status st = server_->Start();
    ASSERT_TRUE(st.ok()) << st.ToString();
    client_ = std::make_unique<TestClient>(server_->port(), "AKID", "SECRET");
    admin_ = std::make_unique<AdminClient>("127.0.0.1", server_->port());
  }
  void SetUp() override { Start(); }
  static std::string KeyPath(const std::string& bucket, const std::string& key) {
    return "/" + bucket + "/" + s3::UriEncode(key, false);
  }
  std::unique_ptr<Server> server_;
  std::unique_ptr<TestClient> client_;
  std::unique_ptr<AdminClient> admin_;
};

TEST_F(ServerTest, RoundTripsAwkwardKeysWithMetadata) {
  const std::string key = "dir//a b+c%?#~../ü trailing ";
  RequestSpec put;
  put.method = "PUT";
  put.path = KeyPath("bkt", key);
  put.body = "payload bytes";
  put.headers = {{"content-type", "text/plain"}, {"x-amz-meta-origin", "test"}};
  RawResponse p = client_->Send(put);
  ASSERT_EQ(p.status, 200) << p.body << p.error;
  std::string etag = "\"" + digest::ToHex(digest::Md5("payload bytes")) + "\"";
  EXPECT_EQ(p.Header("etag"), etag);
  EXPECT_FALSE(p.Header("x-amz-request-id").empty());

  RawResponse g = client_->Get(KeyPath("bkt", key));
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.body, "payload bytes");
  EXPECT_EQ(g.Header("content-type"), "text/plain");
  EXPECT_EQ(g.Header("x-amz-meta-origin"), "test");
  EXPECT_EQ(g.Header("etag"), etag);

  RequestSpec list;
  list.path = "/bkt";
  list.query = {{"list-type", "2"}, {"encoding-type", "url"}};
  RawResponse l = client_->Send(list);
  ASSERT_EQ(l.status, 200);
  EXPECT_NE(l.body.find("<Key>" + s3::UriEncode(key, false) + "</Key>"), std::string::npos)
      << l.body;

  EXPECT_EQ(client_->Get(KeyPath("bkt", "missing")).Code(), "NoSuchKey");
  EXPECT_EQ(client_->Get(KeyPath("nobucket", "k")).Code(), "NoSuchBucket");
}

TEST_F(ServerTest, RangesAndConditionals) {
  ASSERT_EQ(client_->Put("/bkt/r", "0123456789").status, 200);
  RawResponse a = client_->Get("/bkt/r", {{"range", "bytes=2-4"}});
  EXPECT_EQ(a.status, 206);
  EXPECT_EQ(a.body, "234");
  EXPECT_EQ(a.Header("content-range"), "bytes 2-4/10");
  EXPECT_EQ(client_->Get("/bkt/r", {{"range", "bytes=-3"}}).body, "789");
  EXPECT_EQ(client_->Get("/bkt/r", {{"range", "bytes=7-"}}).body, "789");
  RawResponse bad = client_->Get("/bkt/r", {{"range", "bytes=10-"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.Code(), "InvalidRange");
  EXPECT_EQ(client_->Get("/bkt/r", {{"if-match", "\"nope\""}}).status, 412);
  std::string etag = client_->Get("/bkt/r").Header("etag");
  EXPECT_EQ(client_->Get("/bkt/r", {{"if-none-match", etag}}).status, 304);
}

TEST_F(ServerTest, AuthFailuresOverHttp) {
  TestClient wrong(server_->port(), "AKID", "WRONG");
  RawResponse w = wrong.Put("/bkt/x", "data");
  EXPECT_EQ(w.status, 403);
  EXPECT_EQ(w.Code(), "SignatureDoesNotMatch");
  TestClient unknown(server_->port(), "NOBODY", "SECRET");
  EXPECT_EQ(unknown.Get("/bkt/x").Code(), "InvalidAccessKeyId");
  RequestSpec anon;
  anon.path = "/bkt/x";
  anon.sign = false;
  RawResponse a = client_->Send(anon);
  EXPECT_EQ(a.status, 403);
  EXPECT_EQ(a.Code(), "AccessDenied");

  RequestSpec lie;
  lie.method = "PUT";
  lie.path = "/bkt/x";
  lie.body = "actual";
  lie.payload_hash = digest::Sha256Hex("claimed");
  RawResponse l = client_->Send(lie);
  EXPECT_EQ(l.status, 400);
  EXPECT_EQ(l.Code(), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(client_->Get("/bkt/x").Code(), "NoSuchKey");

  RequestSpec md5;
  md5.method = "PUT";
  md5.path = "/bkt/x";
  md5.body = "abc";
  md5.headers = {{"content-md5", digest::Base64Encode(digest::Md5("abd"))}};
  EXPECT_EQ(client_->Send(md5).Code(), "BadDigest");
}

TEST_F(ServerTest, SignedAwsChunkedUpload) {
  auto when = std::chrono::system_clock::now();
  std::vector<std::string> chunks = {std::string(65536, 'q'), "end"};
  std::string decoded = chunks[0] + chunks[1];
  RequestSpec s;
  s.method = "PUT";
  s.path = "/bkt/chunked";
  s.when = when;
  s.payload_hash = std::string(s3::kStreamingPayload);
  s.headers = {{"content-encoding", "aws-chunked"},
               {"x-amz-decoded-content-length", std::to_string(decoded.size())}};
  // The seed signature is the request's own: sign the same input here.
  s3::CanonicalInput in;
  in.method = "PUT";
  in.path = s.path;
  in.headers = {{"host", "127.0.0.1:" + std::to_string(server_->port())}};
  for (auto& h : s.headers) in.headers.push_back(h);
  in.payload_hash = s.payload_hash;
  auto sh = s3::Sign(in, "AKID", "SECRET", "", when, s3::SigningOptions{});
  std::string auth;
  for (auto& [n, v] : sh.add) {
    if (n == "Authorization" || n == "authorization") auth = v;
  }
  std::string seed = auth.substr(auth.find("Signature=") + 10);
  std::string date = s3::DateStamp(when);
  ChunkSigner signer{s3::DeriveSigningKey({"SECRET", date, "us-east-1", "s3"}), s3::AmzDate(when),
                     s3::CredentialScope(date, "us-east-1", "s3"), seed};
  s.body = EncodeChunked(signer, chunks);
  RawResponse r = client_->Send(s);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(client_->Get("/bkt/chunked").body, decoded);

  s.body[s.body.find("end")] = 'E';
  EXPECT_EQ(client_->Send(s).Code(), "SignatureDoesNotMatch");
}

TEST_F(ServerTest, FaultsAreInjectedAndCounted) {
  ASSERT_EQ(client_->Put("/bkt/f", std::string(1000, 'z')).status, 200);
  ASSERT_TRUE(admin_->AddFault("op=get,kind=error500,next=1").ok());
  EXPECT_EQ(client_->Get("/bkt/f").Code(), "InternalError");
  EXPECT_EQ(client_->Get("/bkt/f").status, 200);

  ASSERT_TRUE(admin_->AddFault("op=get,kind=slowdown503,next=1").ok());
  EXPECT_EQ(client_->Get("/bkt/f").Code(), "SlowDown");

  ASSERT_TRUE(admin_->AddFault("op=get,kind=truncate,next=1").ok());
  RawResponse t = client_->Get("/bkt/f");
  EXPECT_FALSE(t.error.empty());
  EXPECT_LT(t.body.size(), 1000u);

  ASSERT_TRUE(admin_->AddFault("op=get,kind=flip,next=1").ok());
  RawResponse fl = client_->Get("/bkt/f");
  ASSERT_EQ(fl.body.size(), 1000u);
  EXPECT_EQ(std::count(fl.body.begin(), fl.body.end(), 'z'), 999);

  ASSERT_TRUE(admin_->AddFault("op=put,kind=reset,next=1,prefix=r").ok());
  RawResponse rs = client_->Put("/bkt/reset-me", std::string(100000, 'r'));
  EXPECT_FALSE(rs.error.empty());
  EXPECT_EQ(client_->Get("/bkt/reset-me").Code(), "NoSuchKey");

  ASSERT_TRUE(admin_->AddFault("op=head,kind=skew,next=1").ok());
  RequestSpec head;
  head.method = "HEAD";
  head.path = "/bkt/f";
  EXPECT_EQ(client_->Send(head).status, 403);

  auto stats = admin_->Stats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ((*stats)["faults_total"], 6);
  EXPECT_EQ((*stats)["faults"]["reset"], 1);
}

TEST_F(ServerTest, RequestLogRecordsOrder) {
  auto before = admin_->Get("/_sim/stats");
  ASSERT_TRUE(before.ok());
  std::uint64_t since = (*before)["last_seq"];
  ASSERT_EQ(client_->Put("/dst/first", "1").status, 200);
  ASSERT_EQ(client_->Put("/dst/second", "22").status, 200);
  auto log = admin_->Log(since);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 2u);
  EXPECT_EQ((*log)[0]["key"], "first");
  EXPECT_EQ((*log)[1]["key"], "second");
  EXPECT_EQ((*log)[1]["op"], "PutObject");
  EXPECT_EQ((*log)[1]["bytes_in"], 2);
  EXPECT_EQ((*log)[1]["status"], 200);
  EXPECT_EQ((*log)[1]["part"], "");

  // A request for one part names it (tests count attempts per part).
  RequestSpec part;
  part.method = "GET";
  part.path = "/dst/second";
  part.query = {{"partNumber", "1"}};
  EXPECT_EQ(client_->Send(part).status, 200);  // one part: the whole object
  log = admin_->Log(since);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), 3u);
  EXPECT_EQ((*log)[2]["op"], "GetObject");
  EXPECT_EQ((*log)[2]["part"], "1");
}

TEST_F(ServerTest, SyntheticObjectsServeRangesAndPartLayout) {
  auto made = admin_->CreateSynthetic(
      {{"bucket", "synth"},
       {"objects", {{{"key", "big"}, {"size", 25}, {"seed", 5}, {"part_size", 10}}}}});
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  std::string etag = (*made)["objects"][0]["etag"];
  EXPECT_TRUE(etag.ends_with("-3"));
  std::string want(25, '\0');
  FillSynthetic(5, 0, std::span<char>(want.data(), want.size()));
  RawResponse g = client_->Get("/synth/big");
  EXPECT_EQ(g.body, want);
  EXPECT_EQ(g.Header("etag"), "\"" + etag + "\"");
  EXPECT_EQ(client_->Get("/synth/big", {{"range", "bytes=12-20"}}).body, want.substr(12, 9));
  RequestSpec head;
  head.method = "HEAD";
  head.path = "/synth/big";
  head.query = {{"partNumber", "3"}};
  RawResponse h = client_->Send(head);
  EXPECT_EQ(h.Header("content-length"), "5");
  EXPECT_EQ(h.Header("x-amz-mp-parts-count"), "3");

  auto gen = admin_->CreateSynthetic(
      {{"bucket", "synth"}, {"prefix", "gen/"}, {"count", 3}, {"size", 100}, {"seed", 1}});
  ASSERT_TRUE(gen.ok());
  RequestSpec list;
  list.path = "/synth";
  list.query = {{"list-type", "2"}, {"prefix", "gen/"}, {"max-keys", "2"}};
  RawResponse l = client_->Send(list);
  EXPECT_NE(l.body.find("<IsTruncated>true</IsTruncated>"), std::string::npos) << l.body;
  EXPECT_NE(l.body.find("gen/00000001"), std::string::npos);
}

TEST_F(ServerTest, MultipartAndCopyOverHttp) {
  RequestSpec create;
  create.method = "POST";
  create.path = "/bkt/mp";
  create.query = {{"uploads", ""}};
  RawResponse c = client_->Send(create);
  ASSERT_EQ(c.status, 200);
  auto a = c.body.find("<UploadId>"), b = c.body.find("</UploadId>");
  std::string id = c.body.substr(a + 10, b - a - 10);
  std::string xml = "<CompleteMultipartUpload>";
  std::vector<std::string> parts = {std::string(10, 'a'), "bb"};
  for (int i = 0; i < 2; ++i) {
    RequestSpec up;
    up.method = "PUT";
    up.path = "/bkt/mp";
    up.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", id}};
    up.body = parts[i];
    RawResponse u = client_->Send(up);
    ASSERT_EQ(u.status, 200) << u.body;
    xml += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + u.Header("etag") +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  RequestSpec done;
  done.method = "POST";
  done.path = "/bkt/mp";
  done.query = {{"uploadId", id}};
  done.body = xml;
  RawResponse d = client_->Send(done);
  ASSERT_EQ(d.status, 200) << d.body;
  std::string etag = MultipartEtag({digest::Md5(parts[0]), digest::Md5(parts[1])});
  EXPECT_NE(d.body.find(etag), std::string::npos);

  RequestSpec copy;
  copy.method = "PUT";
  copy.path = "/dst/copied";
  copy.headers = {{"x-amz-copy-source", "/bkt/mp"},
                  {"x-amz-copy-source-if-match", "\"" + etag + "\""}};
  RawResponse cp = client_->Send(copy);
  ASSERT_EQ(cp.status, 200) << cp.body;
  EXPECT_EQ(client_->Get("/dst/copied").body, parts[0] + parts[1]);
  copy.headers[1].second = "\"other\"";
  EXPECT_EQ(client_->Send(copy).status, 412);
}

// --keep-bodies-up-to: a larger body is still checked (a wrong Content-MD5
// is refused) and answers HEAD with its size and ETag, but a GET of it (or of
// a whole-object copy, which shares the record) says clearly that the bytes
// were not kept; smaller bodies are kept.
TEST_F(ServerTest, BodiesAboveTheKeepLimitAreCheckedThenDropped) {
  SimConfig c = BaseConfig();
  c.keep_bodies_up_to = 16;
  Start(c);
  const std::string big(100, 'x'), small = "tiny";
  ASSERT_EQ(client_->Put("/bkt/big", big).status, 200);
  ASSERT_EQ(client_->Put("/bkt/small", small).status, 200);

  RequestSpec head;
  head.method = "HEAD";
  head.path = "/bkt/big";
  RawResponse h = client_->Send(head);
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.Header("content-length"), "100");
  EXPECT_EQ(h.Header("etag"), "\"" + digest::ToHex(digest::Md5(big)) + "\"");

  RawResponse g = client_->Get("/bkt/big");
  EXPECT_EQ(g.status, 501);
  EXPECT_NE(g.body.find("NotImplemented"), std::string::npos) << g.body;
  EXPECT_NE(g.body.find("--keep-bodies-up-to"), std::string::npos) << g.body;
  EXPECT_EQ(client_->Get("/bkt/small").body, small);

  RequestSpec copy;
  copy.method = "PUT";
  copy.path = "/dst/copy-of-big";
  copy.headers = {{"x-amz-copy-source", "/bkt/big"}};
  RawResponse cp = client_->Send(copy);  // a single-part copy shares the record: allowed
  EXPECT_EQ(cp.status, 200) << cp.body;
  EXPECT_EQ(client_->Get("/dst/copy-of-big").status, 501);

  RequestSpec bad;
  bad.method = "PUT";
  bad.path = "/bkt/big2";
  bad.body = big;
  bad.headers = {{"content-md5", digest::Base64Encode(digest::Md5("other"))}};
  RawResponse b = client_->Send(bad);
  EXPECT_EQ(b.status, 400);
  EXPECT_NE(b.body.find("BadDigest"), std::string::npos) << b.body;
}

// A one-shot HTTP receiver for the event webhook.
TEST(ServerEventsTest, PostsS3EventsWithToken) {
  namespace beast = boost::beast;
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acc(ioc, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::uint16_t port = acc.local_endpoint().port();
  std::promise<std::pair<std::string, std::string>> got;
  std::thread receiver([&] {
    boost::asio::ip::tcp::socket sock(ioc);
    acc.accept(sock);
    beast::flat_buffer buf;
    beast::http::request<beast::http::string_body> req;
    beast::http::read(sock, buf, req);
    beast::http::response<beast::http::empty_body> res{beast::http::status::ok, 11};
    beast::http::write(sock, res);
    got.set_value({std::string(req["X-Ferry-Token"]), req.body()});
  });
  SimConfig c = BaseConfig();
  c.event_webhook = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  c.event_token = "tok";
  Server server(c);
  ASSERT_TRUE(server.Start().ok());
  TestClient client(server.port(), "AKID", "SECRET");
  ASSERT_EQ(client.Put("/bkt/a%20b", "x").status, 200);
  auto fut = got.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  receiver.join();
  auto [token, body] = fut.get();
  EXPECT_EQ(token, "tok");
  auto j = nlohmann::json::parse(body);
  auto& rec = j["Records"][0];
  EXPECT_EQ(rec["eventName"], "ObjectCreated:Put");
  EXPECT_EQ(rec["s3"]["bucket"]["name"], "bkt");
  EXPECT_EQ(rec["s3"]["object"]["key"], "a+b");
  EXPECT_EQ(rec["s3"]["object"]["size"], 1);
}

}  // namespace
}  // namespace ferry::sim
