// TLS: chain and hostname verification against certificates made for this
// run (a CA, a "localhost"/127.0.0.1 server certificate, one for another
// name, and an unrelated CA), with the openssl command-line tool.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "protocols/http/client.h"
#include "tests/protocols/http/test_data.h"
#include "tests/protocols/http/test_server.h"
#include "tests/protocols/http/test_util.h"

namespace ferry::http::testing {
namespace {

namespace fs = std::filesystem;
using boost::beast::http::verb;
using ::testing::HasSubstr;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/ferry-http-tls-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    MakeCa("ca");
    MakeCa("other-ca");
    MakeLeaf("localhost", "ca", "DNS:localhost,IP:127.0.0.1");
    MakeLeaf("other", "ca", "DNS:other.example");
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  static std::string Path(const std::string& name) { return (fs::path(dir_) / name).string(); }

  static void Run(const std::string& command) {
    std::string full = "cd '" + dir_ + "' && " + command + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(full.c_str()), 0) << command;
  }
  static void MakeCa(const std::string& name) {
    Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " +
        name + ".key -out " + name + ".pem -days 2 -subj /CN=" + name +
        " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign");
  }
  static void MakeLeaf(const std::string& name, const std::string& ca, const std::string& san) {
    Run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + name +
        ".key -out " + name + ".csr -subj /CN=" + name);
    std::ofstream(Path(name + ".ext")) << "subjectAltName=" << san << "\n";
    Run("openssl x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
        ".key -CAcreateserial -days 2 -out " + name + ".pem -extfile " + name + ".ext");
  }

  static ServerTls Leaf(const std::string& name) {
    return ServerTls{Path(name + ".pem"), Path(name + ".key")};
  }
  static ClientOptions WithCa(const std::string& ca) {
    ClientOptions options;
    options.tls.ca_file = Path(ca + ".pem");
    return options;
  }

  Result<Response> Get(const std::string& url, ClientOptions options) {
    auto client = rig_.MakeClient(url, std::move(options));
    if (!client) return Status::Error(ErrorClass::kFatal, "no client");
    return rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
  }

  static inline std::string dir_;
  ClientRig rig_;
};

TEST_F(TlsTest, TrustedCaAndMatchingNameWork) {
  TestServer server(Leaf("localhost"));
  for (const char* host : {"localhost", "127.0.0.1"}) {
    SCOPED_TRACE(host);
    auto client = rig_.MakeClient(server.url(host), WithCa("ca"));
    for (int i = 0; i < 3; ++i) {
      auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/echo"), {}));
      ASSERT_TRUE(res.ok()) << res.status().ToString();
      EXPECT_EQ(res->status, 200);
    }
    EXPECT_EQ(client->stats().connections_opened, 1u);  // TLS keep-alive works
  }
}

TEST_F(TlsTest, TlsBodiesStream) {
  TestServer server(Leaf("localhost"));
  auto client = rig_.MakeClient(server.url("localhost"), WithCa("ca"));
  GeneratedSource source(3, 5'000'000);
  auto up = rig_.Run(client->Send(MakeRequest(verb::put, "/upload", &source), {}));
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->header("x-hash"), std::to_string(GeneratedHash(3, 5'000'000)));
  HashingSink sink;
  ResponseOptions options;
  options.sink = &sink;
  auto down =
      rig_.Run(client->Send(MakeRequest(verb::get, "/download?size=5000000&seed=3"), options));
  ASSERT_TRUE(down.ok()) << down.status().ToString();
  EXPECT_EQ(sink.hash(), GeneratedHash(3, 5'000'000));
}

TEST_F(TlsTest, UntrustedCaIsFatalWithReason) {
  TestServer server(Leaf("localhost"));
  auto res = Get(server.url("localhost"), WithCa("other-ca"));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kFatal);
  EXPECT_THAT(res.status().error().message, HasSubstr("TLS certificate verification failed"));
  EXPECT_THAT(res.status().error().message, HasSubstr("unable to get local issuer certificate"));
  EXPECT_THAT(res.status().error().message, HasSubstr(server.url("localhost")));
}

TEST_F(TlsTest, HostnameMismatchIsFatal) {
  TestServer server(Leaf("other"));  // certificate for other.example
  auto by_name = Get(server.url("localhost"), WithCa("ca"));
  ASSERT_FALSE(by_name.ok());
  EXPECT_EQ(by_name.status().error_class(), ErrorClass::kFatal);
  EXPECT_THAT(by_name.status().error().message, HasSubstr("hostname mismatch"));

  auto by_ip = Get(server.url("127.0.0.1"), WithCa("ca"));
  ASSERT_FALSE(by_ip.ok());
  EXPECT_EQ(by_ip.status().error_class(), ErrorClass::kFatal);
  EXPECT_THAT(by_ip.status().error().message, HasSubstr("IP address mismatch"));
}

TEST_F(TlsTest, InsecureSkipVerifyAcceptsAnything) {
  TestServer server(Leaf("other"));
  ClientOptions options = WithCa("other-ca");
  options.tls.insecure_skip_verify = true;
  auto res = Get(server.url("localhost"), options);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->status, 200);
}

TEST_F(TlsTest, UnreadableCaFileFailsCreate) {
  auto url = Url::Parse("https://localhost:1");
  ASSERT_TRUE(url.ok());
  ClientOptions missing;
  missing.tls.ca_file = Path("does-not-exist.pem");
  auto a = Client::Create(rig_.executor(), *url, missing);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().error_class(), ErrorClass::kInvalidArgument);
  EXPECT_THAT(a.status().error().message, HasSubstr("does-not-exist.pem"));

  std::ofstream(Path("garbage.pem")) << "not a certificate\n";
  ClientOptions garbage;
  garbage.tls.ca_file = Path("garbage.pem");
  auto b = Client::Create(rig_.executor(), *url, garbage);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().error_class(), ErrorClass::kInvalidArgument);
}

TEST_F(TlsTest, TruncatedTlsBodyIsRetryable) {
  TestServer server(Leaf("localhost"));
  auto client = rig_.MakeClient(server.url("localhost"), WithCa("ca"));
  auto res = rig_.Run(client->Send(MakeRequest(verb::get, "/truncate?size=100000&send=2000"), {}));
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().error_class(), ErrorClass::kRetryable);
  EXPECT_THAT(res.status().error().message, HasSubstr("connection closed after 2000 of 100000"));
}

TEST_F(TlsTest, TlsToPlainServerFailsCleanly) {
  TestServer plain;
  auto url = "https://127.0.0.1:" + std::to_string(plain.port());
  Request req = MakeRequest(verb::get, "/echo");
  req.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  auto client = rig_.MakeClient(url, WithCa("ca"));
  auto res = rig_.Run(client->Send(req, {}));
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().error().message, HasSubstr("TLS handshake"));
}

}  // namespace
}  // namespace ferry::http::testing
