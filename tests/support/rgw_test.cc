// The throwaway Ceph RGW fixture (rgw.h): two clusters at once, each its own
// region, each serving S3; stopping one leaves the other (and every process
// the fixture did not start) alone, and stopping both leaves no Ceph process.
#include "tests/support/rgw.h"

#include <gtest/gtest.h>

#include <signal.h>

#include <boost/asio/io_context.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "protocols/s3/client.h"
#include "protocols/s3/credentials.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// PIDs of running processes whose command line mentions `text` (a cluster's
// directory is in every command line of its daemons: -c DIR/ceph.conf).
std::vector<pid_t> ProcessesMentioning(const std::string& text) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "cmdline", std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (ss.str().find(text) != std::string::npos) out.push_back(std::stoi(name));
  }
  return out;
}

bool Alive(pid_t pid) { return pid > 0 && (kill(pid, 0) == 0 || errno != ESRCH); }

s3::ClientOptions ClientFor(const RgwCluster& c, const std::string& bucket) {
  s3::ClientOptions o;
  o.endpoint = http::Url::Parse(c.endpoint()).value();
  o.region = c.region();
  o.bucket = bucket;
  o.credentials = s3::StaticCredentials({c.access_key(), c.secret_key(), ""});
  o.request_timeout = milliseconds(30'000);
  return o;
}

io::Task<Result<std::string>> PutGet(std::shared_ptr<s3::Client> client, std::string key,
                                     std::string body) {
  FERRY_CO_RETURN_IF_ERROR(co_await client->CreateBucket());
  io::MemorySource src(body);
  const s3::ObjectMetadata meta;  // named: GCC 12 and temporaries across co_await
  FERRY_CO_RETURN_IF_ERROR((co_await client->PutObject(key, meta, src)).status());
  io::StringSink sink(1 << 20);
  s3::GetObjectRequest req;
  req.key = key;
  FERRY_CO_RETURN_IF_ERROR((co_await client->GetObject(req, sink)).status());
  co_return sink.Take();
}

// PUT with SSE-KMS under the cluster's testing key, then HEAD.
io::Task<Result<s3::ObjectInfo>> PutKmsHead(std::shared_ptr<s3::Client> client, std::string key,
                                            std::string key_id) {
  io::MemorySource src("encrypted at rest");
  s3::ObjectMetadata meta;
  meta.sse = "aws:kms";
  meta.sse_kms_key_id = key_id;
  FERRY_CO_RETURN_IF_ERROR((co_await client->PutObject(key, meta, src)).status());
  s3::HeadObjectRequest req;
  req.key = key;
  co_return co_await client->HeadObject(req);
}

// What one cluster must do: a bucket created with its region as
// LocationConstraint, an object written and read back (also with SSE-KMS),
// GetBucketLocation answering the region.
void ExpectServesS3(RgwCluster& c, boost::asio::io_context& ioc) {
  SCOPED_TRACE(c.Describe());
  const std::string bucket = "ferry-" + c.region();
  auto client = s3::Client::Create(ioc.get_executor(), ClientFor(c, bucket));
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const std::string body = "hello from " + c.region();
  auto got = RunTask(ioc, PutGet(*client, "dir/object one", body), seconds(60));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, body);

  auto kms = RunTask(ioc, PutKmsHead(*client, "kms object", c.kms_key_id()), seconds(60));
  ASSERT_TRUE(kms.ok()) << kms.status().ToString();
  EXPECT_EQ(kms->metadata.sse, "aws:kms");
  EXPECT_EQ(kms->metadata.sse_kms_key_id, c.kms_key_id());

  auto loc = c.SignedRequest("GET", bucket, {{"location", ""}}, milliseconds(10'000));
  ASSERT_TRUE(loc.ok()) << loc.status().ToString();
  EXPECT_EQ(loc->status, 200) << loc->body;
  EXPECT_NE(loc->body.find(">" + c.region() + "</LocationConstraint>"), std::string::npos)
      << loc->body;

  auto list = c.SignedRequest("GET", "", {}, milliseconds(10'000));
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->status, 200);
  EXPECT_NE(list->body.find("<Name>" + bucket + "</Name>"), std::string::npos) << list->body;

  // A LocationConstraint naming another region is refused.
  s3::ClientOptions wrong = ClientFor(c, bucket + "-wrong");
  wrong.region = c.region() == "eu-west-1" ? "eu-central-1" : "eu-west-1";
  auto wrong_client = s3::Client::Create(ioc.get_executor(), wrong);
  ASSERT_TRUE(wrong_client.ok());
  Status refused = RunTask(ioc, (*wrong_client)->CreateBucket(), seconds(30));
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.ok() ? 0 : refused.error().http_status, 400) << refused.ToString();
}

TEST(RgwClusterTest, TwoRegionsAtOnceAndNothingLeftBehind) {
  ASSERT_TRUE(RgwAvailable()) << "Ceph (ceph-mon, ceph-osd, radosgw, ceph-common) is required: "
                                 "run scripts/bootstrap";
  // A process named like a Ceph daemon that the fixture did not start: it
  // must survive every cluster's shutdown.
  TempDir decoy_dir("ferry-rgw-decoy");
  const std::string decoy_path = decoy_dir.path() + "/ceph-osd";
  std::filesystem::create_symlink(FindProgram("sleep"), decoy_path);
  SpawnOptions decoy_opts;
  decoy_opts.argv = {decoy_path, "600"};
  auto decoy = Process::Spawn(decoy_opts);
  ASSERT_TRUE(decoy.ok()) << decoy.status().ToString();

  auto t0 = Clock::now();
  auto west = RgwCluster::Start({.api_name = "eu-west-1"});
  ASSERT_TRUE(west.ok()) << west.status().ToString();
  const double west_s = SecondsSince(t0);
  t0 = Clock::now();
  auto central = RgwCluster::Start({.api_name = "eu-central-1"});
  ASSERT_TRUE(central.ok()) << central.status().ToString();
  const double central_s = SecondsSince(t0);
  std::cerr << "RGW start: eu-west-1 " << west_s << " s, eu-central-1 " << central_s
            << " s (the first alone, the second beside it)\n"
            << (*west)->Describe() << "\n  " << (*west)->startup_profile() << "\n"
            << (*central)->Describe() << "\n  " << (*central)->startup_profile() << "\n";

  EXPECT_NE((*west)->port(), (*central)->port());
  EXPECT_NE((*west)->access_key(), (*central)->access_key());
  EXPECT_EQ((*west)->kms_key_id(), "ferry-test-key");
  EXPECT_TRUE((*west)->Healthy().ok()) << (*west)->Healthy().ToString();
  EXPECT_TRUE((*central)->Healthy().ok()) << (*central)->Healthy().ToString();

  boost::asio::io_context ioc;
  ExpectServesS3(**west, ioc);
  ExpectServesS3(**central, ioc);

  // Each cluster knows only its own user.
  s3::ClientOptions foreign = ClientFor(**central, "ferry-eu-central-1");
  foreign.credentials = s3::StaticCredentials({(*west)->access_key(), (*west)->secret_key(), ""});
  auto foreign_client = s3::Client::Create(ioc.get_executor(), foreign);
  ASSERT_TRUE(foreign_client.ok());
  Status denied = RunTask(ioc, (*foreign_client)->HeadBucket(), seconds(30));
  EXPECT_TRUE(denied.Is(ErrorClass::kAuth)) << denied.ToString();

  // Stopping one cluster stops exactly its daemons.
  const std::string west_dir = (*west)->dir();
  const std::vector<pid_t> west_pids = {(*west)->monitor_pid(), (*west)->osd_pid(),
                                        (*west)->radosgw_pid()};
  EXPECT_EQ(ProcessesMentioning(west_dir).size(), 3u);
  t0 = Clock::now();
  west->reset();
  std::cerr << "RGW stop: " << SecondsSince(t0) << " s\n";
  for (pid_t pid : west_pids) EXPECT_FALSE(Alive(pid)) << "pid " << pid << " still running";
  EXPECT_TRUE(ProcessesMentioning(west_dir).empty());
  EXPECT_FALSE(std::filesystem::exists(west_dir));
  EXPECT_TRUE((*central)->Healthy().ok()) << (*central)->Healthy().ToString();
  auto still = (*central)->SignedRequest("GET", "", {}, milliseconds(10'000));
  ASSERT_TRUE(still.ok()) << still.status().ToString();
  EXPECT_EQ(still->status, 200);

  // A daemon that dies is named by Healthy().
  ASSERT_EQ(kill((*central)->radosgw_pid(), SIGKILL), 0);
  Status health;
  for (auto until = Clock::now() + seconds(10); Clock::now() < until;) {
    health = (*central)->Healthy();
    if (!health.ok()) break;
    usleep(20'000);
  }
  ASSERT_FALSE(health.ok());
  EXPECT_NE(health.ToString().find("radosgw"), std::string::npos) << health.ToString();
  EXPECT_NE(health.ToString().find("signal 9"), std::string::npos) << health.ToString();

  const std::string central_dir = (*central)->dir();
  central->reset();
  EXPECT_TRUE(ProcessesMentioning(central_dir).empty());
  EXPECT_FALSE(std::filesystem::exists(central_dir));

  EXPECT_TRUE((*decoy)->Running()) << "a process the fixture did not start was stopped";
}

// A step that fails is named, with its output; whatever had started stops.
TEST(RgwClusterTest, AFailingStepIsNamedWithItsOutput) {
  ASSERT_TRUE(RgwAvailable()) << "run scripts/bootstrap";
  // A radosgw-admin that fails, found first on PATH.
  TempDir bin("ferry-rgw-fake-bin");
  const std::string fake = bin.path() + "/radosgw-admin";
  {
    std::ofstream out(fake);
    out << "#!/bin/sh\necho 'simulated failure' >&2\nexit 3\n";
  }
  std::filesystem::permissions(fake, std::filesystem::perms::owner_all);
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  setenv("PATH", (bin.path() + ":" + old_path).c_str(), 1);
  auto c = RgwCluster::Start({});
  setenv("PATH", old_path.c_str(), 1);
  ASSERT_FALSE(c.ok());
  const std::string msg = c.status().ToString();
  EXPECT_NE(msg.find("step 'radosgw-admin user create'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("exited with status 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("simulated failure"), std::string::npos) << msg;
  // "starting Ceph RGW in DIR, step ...": that cluster's daemons are gone.
  const std::size_t at = msg.find("starting Ceph RGW in ");
  ASSERT_NE(at, std::string::npos) << msg;
  const std::size_t from = at + std::strlen("starting Ceph RGW in ");
  const std::string dir = msg.substr(from, msg.find(',', from) - from);
  EXPECT_TRUE(ProcessesMentioning(dir).empty()) << dir;
  EXPECT_FALSE(std::filesystem::exists(dir)) << dir;
}

}  // namespace
}  // namespace ferry::testing
