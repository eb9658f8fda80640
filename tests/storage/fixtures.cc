#include "tests/storage/fixtures.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>

#include "protocols/s3/client.h"
#include "protocols/s3/credentials.h"
#include "storage/file/file_backend.h"
#include "storage/s3/s3_backend.h"
#include "tests/support/process.h"
#include "tests/support/rgw.h"
#include "tests/support/run.h"

#ifndef FERRY_S3SIM_PATH
#error "FERRY_S3SIM_PATH (path of the s3sim binary) must be defined by the build"
#endif
#ifndef FERRY_SOURCE_DIR
#error "FERRY_SOURCE_DIR must be defined by the build"
#endif

namespace ferry::conformance {
namespace {

using std::chrono::seconds;
using testing::Process;
using testing::TempDir;

constexpr std::uint64_t kMiB = 1ull << 20;
constexpr auto kStartTimeout = std::chrono::seconds(60);

// FERRY_TEST_SERVER_LOGS=1 copies the servers' own logs to stderr.
bool ServerLogsWanted() {
  const char* v = std::getenv("FERRY_TEST_SERVER_LOGS");
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

Status ProcessHealth(Process* proc) {
  if (proc == nullptr || proc->Running()) return Status::Ok();
  int ws = proc->wait_status();
  std::string how = WIFSIGNALED(ws) ? "was killed by signal " + std::to_string(WTERMSIG(ws))
                                    : "exited with status " + std::to_string(WEXITSTATUS(ws));
  return Status::Error(ErrorClass::kFatal, proc->program() + " " + how);
}

s3::ClientOptions LocalClientOptions(std::uint16_t port, std::string bucket, std::string key,
                                     std::string secret) {
  s3::ClientOptions o;
  o.endpoint = http::Url::Parse("http://127.0.0.1:" + std::to_string(port)).value();
  o.bucket = std::move(bucket);
  o.credentials = s3::StaticCredentials({std::move(key), std::move(secret), ""});
  o.request_timeout = std::chrono::milliseconds(30'000);
  return o;
}

// The project's simulator: strict SigV4, the behaviour the engine expects
// from S3. Runs with 1 MiB minimum parts so multipart cases are quick.
class S3SimFixture final : public BackendFixture {
 public:
  std::string name() const override { return "s3sim"; }

  Status Start(boost::asio::io_context& ioc) override {
    std::string port_file = dir_.path() + "/port";
    testing::SpawnOptions so;
    so.argv = {FERRY_S3SIM_PATH,    "--listen",        "127.0.0.1:0",
               "--port-file",       port_file,         "--access-key",
               "conformance",       "--secret-key",    "conformance-secret",
               "--bucket",          "conformance",     "--bucket",
               "conformance-other", "--min-part-size", std::to_string(kMiB)};
    so.echo_stdout = ServerLogsWanted();
    FERRY_ASSIGN_OR_RETURN(proc_, Process::Spawn(std::move(so)));
    FERRY_ASSIGN_OR_RETURN(port_, proc_->WaitForPortFile(port_file, kStartTimeout));
    FERRY_ASSIGN_OR_RETURN(
        auto client, s3::Client::Create(ioc.get_executor(),
                                        LocalClientOptions(port_, "conformance", "conformance",
                                                           "conformance-secret")));
    storage::Capabilities caps = storage::AwsS3Capabilities();
    caps.min_part_size = kMiB;
    backend_ = storage::MakeS3Backend(client, caps);
    // The second bucket shares the first one's connections.
    storage::S3BackendOptions other;
    other.client =
        LocalClientOptions(port_, "conformance-other", "conformance", "conformance-secret");
    other.capabilities = caps;
    FERRY_ASSIGN_OR_RETURN(other_, storage::OpenS3Backend(client->http_client(), other));
    return Status::Ok();
  }

  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::shared_ptr<storage::Backend> other_bucket() const override { return other_; }
  Status Healthy() override { return ProcessHealth(proc_.get()); }
  std::uint64_t fast_part_size() const override { return kMiB; }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override {
    return "s3sim pid " + std::to_string(proc_ ? proc_->pid() : 0) +
           " on 127.0.0.1:" + std::to_string(port_);
  }

 private:
  TempDir dir_{"ferry-s3sim"};
  std::unique_ptr<Process> proc_;
  std::uint16_t port_ = 0;
  std::shared_ptr<storage::Backend> backend_;
  std::shared_ptr<storage::Backend> other_;
  Deviations dev_;
};

class FileFixture final : public BackendFixture {
 public:
  FileFixture() {
    dev_.probe_head_part_number = std::nullopt;  // it knows its own capabilities
    dev_.probe_checksum_crc32c = std::nullopt;
    dev_.probe_etag_is_md5 = std::nullopt;
    dev_.probe_uploads_encoded_undeclared = std::nullopt;
  }
  std::string name() const override { return "file"; }
  Status Start(boost::asio::io_context& ioc) override {
    storage::FileBackendOptions o;
    o.root = dir_.path();
    o.min_part_size = kMiB;  // like s3sim: keeps multipart cases quick
    FERRY_ASSIGN_OR_RETURN(backend_, storage::OpenFileBackend(ioc.get_executor(), o));
    return Status::Ok();
  }
  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::uint64_t fast_part_size() const override {
    return std::max<std::uint64_t>(kMiB, backend_->capabilities().min_part_size);
  }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override { return "file backend in " + dir_.path(); }

 private:
  TempDir dir_{"ferry-file-backend"};
  std::shared_ptr<storage::Backend> backend_;
  Deviations dev_;
};

// s3rver 3.7 (node, from tools/npm). Its deviations from S3, found by this
// suite and by reading its source (lib/routes.js, controllers, stores):
// no V4 signature check (any well-formed signature with access key S3RVER
// passes); If-Match ignored on GET/HEAD; HEAD ?partNumber ignored; multipart
// ETag = MD5 of the whole object; ListParts, ListMultipartUploads,
// AbortMultipartUpload and UploadPartCopy not implemented; upload ids never
// checked; copy source decoded with decodeURI; "bytes=0-0" serves the whole
// object; DeleteObjects races on emptied folders (500); keys stored as normalised
// file paths (one path component per key segment, 255-byte name limit);
// delimiter listings skip prefixes more than one level down.
class S3rverFixture final : public BackendFixture {
 public:
  S3rverFixture() {
    dev_.multipart_etag_is_whole_md5 = true;
    dev_.common_prefixes_one_level_only = true;
    dev_.list_parts = false;
    dev_.list_uploads = false;
    dev_.abort_upload = false;
    dev_.checks_upload_id = false;
    dev_.upload_part_copy = false;
    dev_.copy_source_decode_uri = true;
    dev_.keys_are_normalised_paths = true;
    dev_.max_key_component = 255 - 20;  // the store appends "._S3rver_object"
    dev_.delete_batch_may_race = true;
    dev_.rejects_empty_key_segments = true;
    dev_.ignores_range_ending_at_zero = true;
    // HEAD ?partNumber=1 answers with the whole object; x-amz-checksum-crc32c
    // is neither checked nor stored.
    dev_.probe_head_part_number = false;
    dev_.probe_checksum_crc32c = false;
    // A multipart ETag is the whole object's MD5, not md5(part MD5s)-N.
    dev_.probe_etag_is_md5 = false;
    // ListMultipartUploads is not implemented: nothing to decide with.
    dev_.probe_uploads_encoded_undeclared = std::nullopt;
  }
  std::string name() const override { return "s3rver"; }

  Status Start(boost::asio::io_context& ioc) override {
    std::string s3rver = std::string(FERRY_SOURCE_DIR) + "/tools/npm/node_modules/.bin/s3rver";
    testing::SpawnOptions so;
    // The script starts with "#!/usr/bin/env node": node must be on PATH
    // (scripts/bootstrap installs it).
    so.argv = {s3rver, "-d", dir_.path(), "-a", "127.0.0.1", "-p", "0"};
    // s3rver 3.7 encrypts continuation tokens with single DES, which Node 17+
    // (OpenSSL 3) only offers from the legacy provider: without it every
    // truncated listing page is a 500.
    so.env = {{"NODE_OPTIONS", "--openssl-legacy-provider"}};
    if (ServerLogsWanted()) {
      so.echo_stdout = true;
    } else {
      so.argv.push_back("--silent");
    }
    auto proc = Process::Spawn(std::move(so));
    if (!proc.ok()) {
      return proc.status().Annotate(
          "s3rver is required for the conformance suite (run scripts/bootstrap)");
    }
    proc_ = std::move(proc).value();
    // --silent hides request logs but not the banner with the bound port.
    FERRY_ASSIGN_OR_RETURN(port_,
                           proc_->WaitForListeningLine("S3rver listening on", kStartTimeout));
    // The fixed S3RVER/S3RVER pair is the only account s3rver knows.
    auto client = s3::Client::Create(ioc.get_executor(),
                                     LocalClientOptions(port_, "conformance", "S3RVER", "S3RVER"));
    FERRY_RETURN_IF_ERROR(client.status());
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, (*client)->CreateBucket(), seconds(30)));
    storage::Capabilities caps = storage::AwsS3Capabilities();
    caps.head_part_number = false;
    caps.conditional_get = false;
    caps.cross_bucket_copy = true;
    backend_ = storage::MakeS3Backend(*client, caps);
    auto other =
        s3::Client::Create((*client)->http_client(),
                           LocalClientOptions(port_, "conformance-other", "S3RVER", "S3RVER"));
    FERRY_RETURN_IF_ERROR(other.status());
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, (*other)->CreateBucket(), seconds(30)));
    other_ = storage::MakeS3Backend(*other, caps);
    return Status::Ok();
  }

  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::shared_ptr<storage::Backend> other_bucket() const override { return other_; }
  Status Healthy() override { return ProcessHealth(proc_.get()); }
  std::uint64_t fast_part_size() const override { return 5 * kMiB; }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override {
    return "s3rver pid " + std::to_string(proc_ ? proc_->pid() : 0) +
           " on 127.0.0.1:" + std::to_string(port_);
  }

 private:
  TempDir dir_{"ferry-s3rver"};
  std::unique_ptr<Process> proc_;
  std::uint16_t port_ = 0;
  std::shared_ptr<storage::Backend> backend_;
  std::shared_ptr<storage::Backend> other_;
  Deviations dev_;
};

// Ceph RGW 16.2 (Pacific), a throwaway cluster (tests/support/rgw.h) shared
// by the whole binary, in region "eu-west-1" (the buckets are created with
// that LocationConstraint) and with 1 MiB minimum parts like s3sim. Required:
// scripts/bootstrap installs Ceph. Its deviations from S3, found by this
// suite: HEAD ?partNumber is ignored (the whole object, no parts count);
// x-amz-checksum-* headers are ignored, neither checked nor stored.
// Known and left to the S3 backend to handle (cases fail until it does):
// CompleteMultipartUpload answers <ETag></ETag>; ListMultipartUploads with
// encoding-type=url encodes <Key> but leaves out <EncodingType>.
// Error bodies mostly carry an empty <Message> (no case depends on it).
class RgwFixture final : public BackendFixture {
 public:
  RgwFixture() {
    dev_.probe_head_part_number = false;
    dev_.probe_checksum_crc32c = false;
    dev_.probe_uploads_encoded_undeclared = true;
  }
  std::string name() const override { return "rgw"; }

  Status Start(boost::asio::io_context& ioc) override {
    if (!testing::RgwAvailable()) {
      return Status::Error(ErrorClass::kFatal,
                           "Ceph RGW (ceph-mon, ceph-osd, radosgw, ceph-common) is required for "
                           "the conformance suite: run scripts/bootstrap");
    }
    testing::RgwOptions o;
    o.api_name = "eu-west-1";
    o.min_part_size = kMiB;
    o.echo_rgw_log = ServerLogsWanted();
    FERRY_ASSIGN_OR_RETURN(cluster_, testing::RgwCluster::Start(o));
    auto options = [&](std::string bucket) {
      s3::ClientOptions c = LocalClientOptions(cluster_->port(), std::move(bucket),
                                               cluster_->access_key(), cluster_->secret_key());
      c.region = cluster_->region();
      return c;
    };
    FERRY_ASSIGN_OR_RETURN(auto client,
                           s3::Client::Create(ioc.get_executor(), options("conformance")));
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, client->CreateBucket(), seconds(30)));
    FERRY_ASSIGN_OR_RETURN(auto other,
                           s3::Client::Create(client->http_client(), options("conformance-other")));
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, other->CreateBucket(), seconds(30)));
    storage::Capabilities caps = storage::AwsS3Capabilities();
    caps.head_part_number = false;
    caps.uploads_encoded_undeclared = true;
    caps.min_part_size = kMiB;  // rgw_multipart_min_part_size
    backend_ = storage::MakeS3Backend(client, caps);
    other_ = storage::MakeS3Backend(other, caps);
    return Status::Ok();
  }

  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::shared_ptr<storage::Backend> other_bucket() const override { return other_; }
  Status Healthy() override { return cluster_ ? cluster_->Healthy() : Status::Ok(); }
  std::uint64_t fast_part_size() const override { return kMiB; }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override {
    return cluster_ ? cluster_->Describe() : std::string("Ceph RGW (not started)");
  }

 private:
  std::unique_ptr<testing::RgwCluster> cluster_;
  std::shared_ptr<storage::Backend> backend_;
  std::shared_ptr<storage::Backend> other_;
  Deviations dev_;
};

std::string MotoServerPath() {
  static const std::string path = testing::FindProgram("moto_server");
  return path;
}

// moto_server (moto 5.2, Python), optional: its cases run only when
// moto_server is on PATH. Any credentials pass; region us-east-1. Its
// deviations from S3, found by this suite and checked with boto3: HEAD
// ?partNumber=N gives part N's MD5 as ETag; UploadPart with an unknown upload
// id is a 500 (KeyError inside moto); x-amz-checksum-crc32c is neither checked
// nor stored (a wrong one is accepted). CompleteMultipartUpload and ListParts
// answer with root elements <CompleteMultipartUploadResponse> and
// <ListPartsResponse> where S3 has <...Result>: the S3 client reads those
// as the same documents (protocols/s3/xml.cc). Also seen, harmless here:
// ListMultipartUploads ignores encoding-type=url (raw keys, no
// <EncodingType>), and every upload's <Initiated> is 2010-11-10T20:48:33.000Z.
class MotoFixture final : public BackendFixture {
 public:
  MotoFixture() {
    dev_.head_part_etag_is_part_md5 = true;
    dev_.unknown_upload_part_is_500 = true;
    dev_.probe_checksum_crc32c = false;
  }
  std::string name() const override { return "moto"; }

  Status Start(boost::asio::io_context& ioc) override {
    if (MotoServerPath().empty()) {
      return Status::Error(ErrorClass::kFatal, "moto_server not on PATH");
    }
    FERRY_ASSIGN_OR_RETURN(port_, testing::PickFreePort());
    testing::SpawnOptions so;
    // werkzeug logs every request on stderr: into the drained stdout pipe,
    // shown only with FERRY_TEST_SERVER_LOGS.
    so.argv = {"/bin/sh",   "-c", "exec \"$0\" \"$@\" 2>&1", MotoServerPath(), "-H",
               "127.0.0.1", "-p", std::to_string(port_)};
    so.echo_stdout = ServerLogsWanted();
    so.working_dir = dir_.path();
    FERRY_ASSIGN_OR_RETURN(proc_, Process::Spawn(std::move(so)));
    const auto until = std::chrono::steady_clock::now() + kStartTimeout;
    while (!testing::WaitForTcpPort(port_, std::chrono::milliseconds(200)).ok()) {
      if (!proc_->Running() || std::chrono::steady_clock::now() >= until) {
        (void)proc_->WaitForExit(std::chrono::milliseconds(500));
        Status health = ProcessHealth(proc_.get());
        return Status::Error(ErrorClass::kFatal,
                             "moto_server did not listen on 127.0.0.1:" + std::to_string(port_) +
                                 (health.ok() ? "" : " (" + health.ToString() + ")") +
                                 "; output: " + proc_->output());
      }
    }
    proc_->DrainStdout();
    FERRY_ASSIGN_OR_RETURN(
        auto client,
        s3::Client::Create(ioc.get_executor(),
                           LocalClientOptions(port_, "conformance", "moto", "moto-secret")));
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, client->CreateBucket(), seconds(30)));
    FERRY_ASSIGN_OR_RETURN(
        auto other,
        s3::Client::Create(client->http_client(),
                           LocalClientOptions(port_, "conformance-other", "moto", "moto-secret")));
    FERRY_RETURN_IF_ERROR(testing::RunTask(ioc, other->CreateBucket(), seconds(30)));
    storage::Capabilities caps = storage::AwsS3Capabilities();
    backend_ = storage::MakeS3Backend(client, caps);
    other_ = storage::MakeS3Backend(other, caps);
    return Status::Ok();
  }

  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::shared_ptr<storage::Backend> other_bucket() const override { return other_; }
  Status Healthy() override { return ProcessHealth(proc_.get()); }
  std::uint64_t fast_part_size() const override { return 5 * kMiB; }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override {
    return "moto_server pid " + std::to_string(proc_ ? proc_->pid() : 0) +
           " on 127.0.0.1:" + std::to_string(port_);
  }

 private:
  TempDir dir_{"ferry-moto"};
  std::unique_ptr<Process> proc_;
  std::uint16_t port_ = 0;
  std::shared_ptr<storage::Backend> backend_;
  std::shared_ptr<storage::Backend> other_;
  Deviations dev_;
};

std::optional<std::string> Env(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  return std::string(v);
}

bool ExternalConfigured() {
  for (const char* n : {"FERRY_S3_ENDPOINT", "FERRY_S3_REGION", "FERRY_S3_ACCESS_KEY",
                        "FERRY_S3_SECRET_KEY", "FERRY_S3_BUCKET"}) {
    if (!Env(n)) return false;
  }
  return true;
}

// A real endpoint (AWS or otherwise), assumed to behave like AWS S3. The
// suite writes only under RunPrefix() and deletes what it wrote.
class ExternalFixture final : public BackendFixture {
 public:
  std::string name() const override { return "external"; }
  Status Start(boost::asio::io_context& ioc) override {
    storage::S3BackendOptions o;
    FERRY_ASSIGN_OR_RETURN(o.client.endpoint, http::Url::Parse(*Env("FERRY_S3_ENDPOINT")));
    o.client.region = *Env("FERRY_S3_REGION");
    o.client.bucket = *Env("FERRY_S3_BUCKET");
    o.client.credentials =
        s3::StaticCredentials({*Env("FERRY_S3_ACCESS_KEY"), *Env("FERRY_S3_SECRET_KEY"), ""});
    describe_ = o.client.endpoint.ToString() + "/" + o.client.bucket;
    FERRY_ASSIGN_OR_RETURN(backend_, storage::OpenS3Backend(ioc.get_executor(), std::move(o)));
    return Status::Ok();
  }
  std::shared_ptr<storage::Backend> backend() const override { return backend_; }
  std::uint64_t fast_part_size() const override { return 5 * kMiB; }
  const Deviations& deviations() const override { return dev_; }
  std::string Describe() const override { return "external " + describe_; }

 private:
  std::string describe_;
  std::shared_ptr<storage::Backend> backend_;
  Deviations dev_;
};

struct Registry {
  std::map<std::string, std::unique_ptr<BackendFixture>, std::less<>> started;
  std::map<std::string, Status, std::less<>> failed;
};

Registry& GetRegistry() {
  static Registry r;
  return r;
}

// The number of TEST_P cases: every fixture runs each once.
int CaseCount() {
  std::set<std::string> cases;
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  for (int i = 0; i < unit.total_test_suite_count(); ++i) {
    const ::testing::TestSuite& suite = *unit.GetTestSuite(i);
    if (std::string_view(suite.name()).find("ConformanceTest") == std::string_view::npos) continue;
    for (int j = 0; j < suite.total_test_count(); ++j) {
      std::string_view test = suite.GetTestInfo(j)->name();
      cases.emplace(test.substr(0, test.rfind('/')));
    }
  }
  return static_cast<int>(cases.size());
}

// Says once which optional fixtures are missing; stops every server when
// the test binary is done.
class FixtureEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    if (MotoServerPath().empty()) {
      std::fprintf(stderr,
                   "moto_server not on PATH: %d conformance cases for moto did not run "
                   "(scripts/bootstrap installs it where pip can)\n",
                   CaseCount());
    }
  }
  void TearDown() override {
    GetRegistry().started.clear();
    GetRegistry().failed.clear();
  }
};

[[maybe_unused]] const auto* const kEnvironment =
    ::testing::AddGlobalTestEnvironment(new FixtureEnvironment);

std::unique_ptr<BackendFixture> MakeFixture(std::string_view name) {
  if (name == "s3sim") return std::make_unique<S3SimFixture>();
  if (name == "file") return std::make_unique<FileFixture>();
  if (name == "s3rver") return std::make_unique<S3rverFixture>();
  if (name == "rgw") return std::make_unique<RgwFixture>();
  if (name == "moto") return std::make_unique<MotoFixture>();
  if (name == "external") return std::make_unique<ExternalFixture>();
  return nullptr;
}

}  // namespace

std::vector<std::string> FixtureNames() {
  std::vector<std::string> names = {"s3sim", "file", "s3rver", "rgw"};
  if (!MotoServerPath().empty()) names.push_back("moto");
  if (ExternalConfigured()) names.push_back("external");
  return names;
}

boost::asio::io_context& SharedIoContext() {
  static boost::asio::io_context ioc;
  return ioc;
}

Result<BackendFixture*> GetFixture(std::string_view name) {
  Registry& r = GetRegistry();
  if (auto it = r.started.find(name); it != r.started.end()) return it->second.get();
  if (auto it = r.failed.find(name); it != r.failed.end()) return it->second;
  auto fixture = MakeFixture(name);
  if (!fixture) {
    return Status::Error(ErrorClass::kInvalidArgument, "no fixture " + std::string(name));
  }
  Status s = fixture->Start(SharedIoContext());
  if (!s.ok()) {
    s = s.Annotate("starting fixture " + std::string(name));
    r.failed.emplace(std::string(name), s);
    return s;
  }
  BackendFixture* raw = fixture.get();
  r.started.emplace(std::string(name), std::move(fixture));
  return raw;
}

const std::string& RunPrefix() {
  static const std::string prefix = "ferry-conformance-" + testing::RandomHex(12) + "/";
  return prefix;
}

}  // namespace ferry::conformance
