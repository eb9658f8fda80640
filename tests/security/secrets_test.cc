// Secrets never leave ferryd: with KNOWN credentials (access key, secret key,
// session token) and a known webhook token, ferryd runs between s3sim
// regions in daemon mode and with --once, credentials given through a
// shared-credentials file, the environment and inline in the config, with
// faults that make errors happen (403 SignatureDoesNotMatch from a region
// that expects another secret, 500s, a missing bucket), text and JSON logs at
// debug/trace level. Everything an operator can see is collected (ferryd's
// stdout/stderr, --check-config output, every ferryctl command's output in
// text and JSON, /metrics, /healthz, /readyz, the webhook's error answers)
// and scanned for the secret key, the session token, the webhook token, any
// SigV4 signature (every signature the simulators received, as they log them,
// plus the derived signing keys) and any Authorization header value.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "protocols/base/body.h"
#include "protocols/base/digest.h"
#include "protocols/s3/sigv4.h"
#include "sim/admin_client.h"
#include "storage/s3/s3_backend.h"
#include "tests/security/secret_scan.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::security {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Clock = std::chrono::steady_clock;

// The credentials under test: shaped like AWS ones, with '/' and '+' so that
// percent-encoded spellings are scanned too.
constexpr char kAccessKey[] = "AKIAFERRYSCANTEST001";
constexpr char kSecretKey[] = "fErRy/ScAnSeCrEt+Key0123456789abcdefWXYZ";
constexpr char kSessionToken[] =
    "IQoJb3JpZ2luX2VjEFERRY/SESSION+TOKEN0123456789abcdefghijklmnopqrstuvwxyzXYZ==";
constexpr char kWrongSecret[] = "SiMuLaToR/ExPeCtS+AnOtHeRsEcReT0123456789";  // the "bad" region's
constexpr char kWebhookToken[] = "webhook-token-FERRY-scan-0123456789";

std::uint16_t FreePort() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out.push_back(c);
  }
  return out + "'";
}

struct CmdResult {
  int rc = -1;
  std::string out;
};

// Runs argv through /bin/sh (arguments quoted), stdout+stderr captured.
CmdResult RunCmd(const std::vector<std::string>& argv, const std::string& env_prefix = "") {
  std::string cmd = env_prefix;
  for (const auto& a : argv) cmd += Quote(a) + " ";
  cmd += "2>&1";
  CmdResult r;
  FILE* f = popen(cmd.c_str(), "r");
  if (!f) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) r.out.append(buf, n);
  int st = pclose(f);
  r.rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// One HTTP exchange with ferryd; the whole answer (status line, headers, body).
std::string Http(std::uint16_t port, boost::beast::http::verb verb, const std::string& target,
                 const std::map<std::string, std::string>& headers, const std::string& body) {
  namespace http = boost::beast::http;
  boost::asio::io_context io;
  boost::beast::tcp_stream s(io);
  s.expires_after(seconds(5));
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "connect: " + ec.message();
  http::request<http::string_body> req(verb, target, 11);
  req.set(http::field::host, "127.0.0.1");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(s, req, ec);
  if (ec) return "write: " + ec.message();
  boost::beast::flat_buffer b;
  http::response<http::string_body> res;
  http::read(s, b, res, ec);
  if (ec) return "read: " + ec.message();
  std::ostringstream out;
  out << res;
  return out.str();
}

enum class CredKind { kFile, kEnv, kInline };

class SecretsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::make_unique<testing::TempDir>("ferry-secrets");
    http_port_ = FreePort();
    // src: the right secret, posts events to ferryd, a few 500s on GET.
    StartRegion("src", "src-bucket", kSecretKey,
                {"--event-webhook", "http://127.0.0.1:" + std::to_string(http_port_) + "/events",
                 "--event-token", kWebhookToken, "--fault", "op=get,kind=error500,p=0.2"});
    // dst: the right secret, 500s on writes and HEADs.
    StartRegion("dst", "dst-bucket", kSecretKey,
                {"--fault", "op=put,kind=error500,p=0.3", "--fault", "op=head,kind=error500,p=0.1",
                 "--fault", "op=upload_part,kind=error500,p=0.3"});
    // bad: expects another secret: every request ends in SignatureDoesNotMatch.
    StartRegion("bad", "bad-bucket", kWrongSecret, {});
    std::ofstream(dir_->path() + "/token") << kWebhookToken << "\n";
    std::ofstream(dir_->path() + "/credentials")
        << "[default]\naws_access_key_id = " << kAccessKey
        << "\naws_secret_access_key = " << kSecretKey << "\naws_session_token = " << kSessionToken
        << "\n";

    storage::S3BackendOptions o;
    o.client.endpoint = http::Url::Parse(Url("src")).value();
    o.client.bucket = "src-bucket";
    o.client.credentials = s3::StaticCredentials({kAccessKey, kSecretKey, kSessionToken});
    o.client.request_timeout = milliseconds(30'000);
    o.capabilities.min_part_size = 1 << 20;
    auto b = storage::OpenS3Backend(ioc_.get_executor(), o);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    src_ = *b;

    scanner_.AddSecret("secret access key", kSecretKey);
    scanner_.AddSecret("session token", kSessionToken);
    scanner_.AddSecret("webhook token", kWebhookToken);
    scanner_.AddSecret("the bad region's secret", kWrongSecret);
  }

  void StartRegion(const std::string& name, const std::string& bucket, const std::string& secret,
                   const std::vector<std::string>& extra) {
    std::string port_file = dir_->path() + "/" + name + ".port";
    testing::SpawnOptions so;
    so.argv = {FERRY_S3SIM_PATH, "--listen", "127.0.0.1:0", "--port-file", port_file,
               "--access-key", kAccessKey, "--secret-key", secret, "--bucket", bucket,
               "--min-part-size", std::to_string(1 << 20), "--fault-seed", "7"};
    so.argv.insert(so.argv.end(), extra.begin(), extra.end());
    auto p = testing::Process::Spawn(std::move(so));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    auto port = (*p)->WaitForPortFile(port_file, seconds(30));
    ASSERT_TRUE(port.ok()) << port.status().ToString();
    ports_[name] = *port;
    sims_[name] = std::move(*p);
  }
  std::string Url(const std::string& region) {
    return "http://127.0.0.1:" + std::to_string(ports_[region]);
  }

  void PutSource(const std::string& key, std::size_t size) {
    std::string data(size, '\0');
    for (std::size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 131 + key.size()) & 0xff);
    io::MemorySource body(data);
    storage::Metadata meta;
    // GETs fail at times (the fault rule), writes do not: one try suffices.
    auto r = testing::RunTask(ioc_, src_->Put(key, body, meta));
    ASSERT_TRUE(r.ok()) << key << ": " << r.status().ToString();
  }

  std::string Config(CredKind kind, const std::string& level, const std::string& format) {
    std::string creds;
    switch (kind) {
      case CredKind::kFile:
        creds = "{file: " + dir_->path() + "/credentials}";
        break;
      case CredKind::kEnv:
        creds = "{env: true}";
        break;
      case CredKind::kInline:
        creds = std::string("{access_key_id: ") + kAccessKey + ", secret_access_key: \"" +
                kSecretKey + "\", session_token: \"" + kSessionToken + "\"}";
        break;
    }
    std::ostringstream y;
    y << "state_dir: " << dir_->path() << "/state\n"
      << "log: {level: " << level << ", format: " << format << "}\n"
      << "http: {listen: \"127.0.0.1:" << http_port_ << "\", webhook_token_file: " << dir_->path()
      << "/token}\n"
      << "control: {socket: " << dir_->path() << "/ferry.sock}\n"
      << "reconcile_every: 1h\n"
      << "endpoints:\n";
    for (const char* r : {"src", "dst", "bad"}) {
      y << "  " << r << ":\n"
        << "    url: " << Url(r) << "\n"
        << "    credentials: " << creds << "\n"
        << "    payload_signing: signed\n"
        << "    capabilities: {min_part_size: 1MiB}\n";
    }
    y << "routes:\n"
      << "  - name: main\n"
      << "    source: {endpoint: src, bucket: src-bucket}\n"
      << "    destinations: [{endpoint: dst, bucket: dst-bucket}, {endpoint: bad, bucket: bad-bucket}]\n"
      << "    layout: velero\n"
      << "  - name: gone\n"
      << "    source: {endpoint: src, bucket: src-bucket}\n"
      << "    destinations: [{endpoint: dst, bucket: missing-bucket}]\n"
      << "transfer:\n"
      << "  part_size: 5MiB\n"
      << "  multipart_threshold: 5MiB\n"
      << "  request_timeout: 5s\n"
      << "  retry: {max_attempts: 4, initial_backoff: 10ms, max_backoff: 50ms}\n";
    std::string path = dir_->path() + "/ferry-" + std::to_string(configs_++) + ".yaml";
    std::ofstream(path) << y.str();
    return path;
  }

  std::string EnvPrefix(CredKind kind) {
    if (kind != CredKind::kEnv) return "";
    return std::string("AWS_ACCESS_KEY_ID=") + Quote(kAccessKey) +
           " AWS_SECRET_ACCESS_KEY=" + Quote(kSecretKey) + " AWS_SESSION_TOKEN=" +
           Quote(kSessionToken) + " ";
  }

  void Collect(const std::string& name, const std::string& text) {
    collected_.emplace_back(name, text);
  }

  CmdResult Ctl(const std::string& label, std::vector<std::string> args) {
    std::vector<std::string> argv = {FERRY_FERRYCTL_PATH, "--socket", dir_->path() + "/ferry.sock"};
    argv.insert(argv.end(), args.begin(), args.end());
    CmdResult r = RunCmd(argv);
    std::string what = "ferryctl";
    for (const auto& a : args) what += " " + a;
    Collect(label + ": " + what + " (rc " + std::to_string(r.rc) + ")", r.out);
    return r;
  }

  // ferryd --check-config on `config`.
  void CheckConfig(const std::string& label, const std::string& config, CredKind kind) {
    CmdResult r = RunCmd({FERRY_FERRYD_PATH, "--config", config, "--check-config"}, EnvPrefix(kind));
    Collect(label + ": ferryd --check-config", r.out);
    EXPECT_EQ(r.rc, 0) << r.out;
  }

  // ferryd --once; its stdout and stderr collected.
  void RunOnce(const std::string& label, CredKind kind, const std::string& level,
               const std::string& format) {
    std::string config = Config(kind, level, format);
    CheckConfig(label, config, kind);
    // Something new to copy, so that this run meets the faults too.
    PutSource("backups/o" + std::to_string(configs_) + "/o.tar.gz", (5 << 20) + 77);
    PutSource("plain/o" + std::to_string(configs_), 3000);
    std::string out = dir_->path() + "/once.out", err = dir_->path() + "/once.err";
    std::string cmd = EnvPrefix(kind) + "timeout 120 " + Quote(FERRY_FERRYD_PATH) + " --config " +
                      Quote(config) + " --once >" + Quote(out) + " 2>" + Quote(err);
    int st = std::system(cmd.c_str());
    int rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    // The bad region and the missing bucket cannot be replicated: exit 1.
    EXPECT_EQ(rc, 1) << Slurp(err);
    Collect(label + ": ferryd --once stdout", Slurp(out));
    Collect(label + ": ferryd --once stderr", Slurp(err));
  }

  void RunDaemon(const std::string& label, CredKind kind, const std::string& level,
                 const std::string& format) {
    std::string config = Config(kind, level, format);
    CheckConfig(label, config, kind);
    std::string out = dir_->path() + "/daemon.out", err = dir_->path() + "/daemon.err";
    testing::SpawnOptions so;
    so.argv = {"/bin/sh", "-c",
               "exec " + Quote(FERRY_FERRYD_PATH) + " --config " + Quote(config) +
                   " --threads 2 >" + Quote(out) + " 2>" + Quote(err)};
    if (kind == CredKind::kEnv) {
      so.env = {{"AWS_ACCESS_KEY_ID", kAccessKey},
                {"AWS_SECRET_ACCESS_KEY", kSecretKey},
                {"AWS_SESSION_TOKEN", kSessionToken}};
    }
    auto p = testing::Process::Spawn(std::move(so));
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    std::unique_ptr<testing::Process> ferryd = std::move(*p);
    ferryd->DrainStdout();
    // Up once the control socket answers and the good destination reconciled.
    auto deadline = Clock::now() + seconds(60);
    for (;;) {
      CmdResult r = RunCmd({FERRY_FERRYCTL_PATH, "--socket", dir_->path() + "/ferry.sock",
                            "status", "--json"});
      nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
      if (r.rc == 0 && j.is_object() && j["routes"][0]["destinations"][0].value("reconciled", false)) {
        break;
      }
      ASSERT_TRUE(ferryd->Running()) << Slurp(err);
      ASSERT_LT(Clock::now(), deadline) << "ferryd never reconciled: " << r.out << Slurp(err);
      std::this_thread::sleep_for(milliseconds(100));
    }
    // New objects: events from src, transfers through the faults.
    PutSource("backups/d1/d1.tar.gz", 6 << 20);
    PutSource("backups/d1/velero-backup.json", 100);
    std::this_thread::sleep_for(seconds(2));

    // The webhook's refusals: no token, a wrong token, a Bearer that is not
    // the token, a good token with garbage, a body too big.
    using boost::beast::http::verb;
    const std::string ev = R"({"Records":[]})";
    Collect(label + ": POST /events without token", Http(http_port_, verb::post, "/events", {}, ev));
    Collect(label + ": POST /events wrong token",
            Http(http_port_, verb::post, "/events", {{"X-Ferry-Token", "wrong-token-0123456789"}}, ev));
    Collect(label + ": POST /events wrong bearer",
            Http(http_port_, verb::post, "/events",
                 {{"Authorization", "Bearer wrong-token-0123456789"}}, ev));
    Collect(label + ": POST /events garbage",
            Http(http_port_, verb::post, "/events", {{"X-Ferry-Token", kWebhookToken}}, "{not json"));
    Collect(label + ": POST /events too big",
            Http(http_port_, verb::post, "/events", {{"X-Ferry-Token", kWebhookToken}},
                 std::string(8 << 20, 'x')));
    Collect(label + ": GET /events", Http(http_port_, verb::get, "/events", {}, ""));
    Collect(label + ": GET /metrics", Http(http_port_, verb::get, "/metrics", {}, ""));
    Collect(label + ": GET /healthz", Http(http_port_, verb::get, "/healthz", {}, ""));
    Collect(label + ": GET /readyz", Http(http_port_, verb::get, "/readyz", {}, ""));
    Collect(label + ": GET /nope", Http(http_port_, verb::get, "/nope", {}, ""));

    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"status"},
                                               {"status", "--json"},
                                               {"lag"},
                                               {"lag", "--json"},
                                               {"verify", "main"},
                                               {"--json", "verify", "main"},
                                               {"verify", "gone"},
                                               {"--json", "verify", "gone"},
                                               {"verify", "nope"},
                                               {"pause", "main"},
                                               {"resync", "main"},
                                               {"resume", "main"},
                                               {"resync", "gone"},
                                               {"approve-deletes", "main"},
                                               {"wait", "--lag-below", "1s", "--timeout", "2s"},
                                               {"--json", "wait", "--lag-below", "1s", "--timeout", "1s"}}) {
      Ctl(label, args);
    }
    std::this_thread::sleep_for(seconds(2));  // let the resyncs hit the faults
    Ctl(label, {"status"});
    Ctl(label, {"status", "--json"});
    Collect(label + ": GET /metrics (end)", Http(http_port_, verb::get, "/metrics", {}, ""));

    ferryd->Stop(seconds(20));
    ferryd.reset();
    Collect(label + ": ferryd stdout", Slurp(out));
    Collect(label + ": ferryd stderr", Slurp(err));
  }

  // Every signature the three simulators received, and the signing keys.
  void AddSignatures() {
    for (const auto& [name, port] : ports_) {
      sim::AdminClient admin("127.0.0.1", port);
      std::uint64_t since = 0;
      for (;;) {
        auto page = admin.Log(since);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        if (page->empty()) break;
        since = (*page).back()["seq"].get<std::uint64_t>();
        for (const auto& e : *page) {
          std::string sig = e.value("signature", std::string());
          if (sig.size() == 64) scanner_.AddSignature(sig);
        }
      }
    }
    std::time_t now = std::time(nullptr);
    for (int d = -1; d <= 1; ++d) {
      std::time_t t = now + d * 86400;
      std::tm tm{};
      gmtime_r(&t, &tm);
      char date[16];
      std::strftime(date, sizeof date, "%Y%m%d", &tm);
      for (const char* secret : {kSecretKey, kWrongSecret}) {
        scanner_.AddSignature(digest::ToHex(s3::DeriveSigningKey({secret, date, "us-east-1", "s3"})));
      }
    }
  }

  boost::asio::io_context ioc_;
  std::unique_ptr<testing::TempDir> dir_;
  std::map<std::string, std::unique_ptr<testing::Process>> sims_;
  std::map<std::string, std::uint16_t> ports_;
  std::uint16_t http_port_ = 0;
  std::shared_ptr<storage::Backend> src_;
  SecretScanner scanner_;
  std::vector<std::pair<std::string, std::string>> collected_;
  int configs_ = 0;
};

TEST_F(SecretsTest, NothingAnOperatorSeesHoldsASecret) {
  PutSource("backups/b1/b1.tar.gz", (6 << 20) + 123);
  PutSource("backups/b1/b1-logs.gz", 20000);
  PutSource("backups/b1/velero-backup.json", 100);
  PutSource("plain/o1", 1000);

  RunDaemon("daemon, credentials file, text trace", CredKind::kFile, "trace", "text");
  RunOnce("--once, environment, json debug", CredKind::kEnv, "debug", "json");
  RunOnce("--once, inline, json trace", CredKind::kInline, "trace", "json");
  RunDaemon("daemon, inline, json trace", CredKind::kInline, "trace", "json");
  // A broken config holding inline secrets: the error must not repeat them.
  {
    std::string path = dir_->path() + "/broken.yaml";
    std::ofstream(path) << "endpoints:\n  a:\n    url: http://127.0.0.1:1\n"
                        << "    credentials: {access_key_id: " << kAccessKey
                        << ", secret_acess_key: \"" << kSecretKey << "\", session_token: \""
                        << kSessionToken << "\"}\nroutes: []\n";
    CmdResult r = RunCmd({FERRY_FERRYD_PATH, "--config", path, "--check-config"});
    EXPECT_EQ(r.rc, 2) << r.out;
    Collect("broken config: ferryd --check-config", r.out);
    r = RunCmd({FERRY_FERRYD_PATH, "--config", path, "--once"});
    EXPECT_EQ(r.rc, 2) << r.out;
    Collect("broken config: ferryd --once", r.out);
  }

  AddSignatures();
  // The simulators saw signed requests (they log every signature): without
  // them the signature check below would be empty.
  ASSERT_GT(scanner_.signatures(), 100u);

  // The runs did meet the faults this test is about.
  std::string all;
  for (const auto& [name, text] : collected_) all += text + "\n";
  EXPECT_NE(all.find("SignatureDoesNotMatch"), std::string::npos) << "no 403 from the bad region seen";
  EXPECT_NE(all.find("NoSuchBucket"), std::string::npos) << "the missing bucket never reported";
  EXPECT_NE(all.find("ferry_"), std::string::npos) << "no /metrics collected";
  for (const char* region : {"src", "dst"}) {
    sim::AdminClient admin("127.0.0.1", ports_[region]);
    auto st = admin.Stats();
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::uint64_t fired = 0;
    for (const auto& [kind, n] : (*st)["faults"].items()) fired += n.get<std::uint64_t>();
    EXPECT_GT(fired, 0u) << region << ": no 500 was injected";
  }

  // FERRY_SECRETS_DUMP=DIR keeps what was scanned, one file per text.
  if (const char* dump = std::getenv("FERRY_SECRETS_DUMP")) {
    int i = 0;
    for (const auto& [name, text] : collected_) {
      std::ofstream(std::string(dump) + "/" + std::to_string(i++) + ".txt") << "== " << name << "\n"
                                                                         << text;
    }
  }
  std::vector<Leak> leaks;
  std::size_t bytes = 0;
  for (const auto& [name, text] : collected_) {
    bytes += text.size();
    auto l = scanner_.Scan(name, text);
    leaks.insert(leaks.end(), l.begin(), l.end());
  }
  std::cerr << "  scanned " << collected_.size() << " texts, " << bytes << " bytes, against "
            << scanner_.signatures() << " signatures/signing keys\n";
  EXPECT_TRUE(leaks.empty()) << leaks.size() << " leak(s):\n" << Describe(leaks);

  // The scan can fail: each secret planted in a real collected text is found.
  const std::string& sample = collected_.back().second;
  std::string some_signature;
  {
    sim::AdminClient admin("127.0.0.1", ports_["bad"]);
    auto page = admin.Log(0);
    ASSERT_TRUE(page.ok() && !page->empty());
    some_signature = (*page)[0].value("signature", std::string());
  }
  ASSERT_EQ(some_signature.size(), 64u);
  for (const std::string& plant :
       {std::string(kSecretKey), std::string("token%3D") + Spellings(kSessionToken)[0],
        std::string(kWebhookToken), "error: " + some_signature + " bad",
        "Authorization: AWS4-HMAC-SHA256 Credential=" + std::string(kAccessKey) + "/x",
        "&X-Amz-Signature=" + std::string(64, 'a')}) {
    std::string planted = sample.substr(0, sample.size() / 2) + plant + sample.substr(sample.size() / 2);
    EXPECT_FALSE(scanner_.Scan("planted", planted).empty()) << "scanner missed: " << plant;
  }
}

}  // namespace
}  // namespace ferry::security
