#include "tests/support/rgw.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http/verb.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>

#include "protocols/base/digest.h"
#include "protocols/http/url.h"
#include "protocols/s3/credentials.h"
#include "protocols/s3/request_builder.h"
#include "protocols/s3/sigv4.h"
#include "tests/support/rgw_conf.h"
#include "tests/support/run.h"

namespace ferry::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
using std::chrono::seconds;

// The OSD binds its messenger ports in this range (Ceph's default one). The
// monitor's and the S3 port are picked outside it, so an OSD can never take
// the S3 port before radosgw binds it. Clusters running at once share the
// range: an OSD skips ports already bound and takes the next free ones.
constexpr std::uint16_t kOsdPortMin = 6800;
constexpr std::uint16_t kOsdPortMax = 7300;

constexpr std::string_view kKmsKeyId = "ferry-test-key";
constexpr std::string_view kUserId = "ferry";

// Every program Start runs.
constexpr std::string_view kPrograms[] = {"ceph-mon",      "ceph-osd",   "radosgw",      "ceph",
                                          "ceph-authtool", "monmaptool", "radosgw-admin"};

std::string RandomBytes(std::size_t n) {
  std::random_device rd;  // the kernel's generator: keys must not repeat across runs
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rd() & 0xff);
  return out;
}

std::string RandomChars(std::size_t n, std::string_view alphabet) {
  std::string bytes = RandomBytes(n);
  std::string out;
  for (char b : bytes) out += alphabet[static_cast<unsigned char>(b) % alphabet.size()];
  return out;
}

std::string RandomUuid() {
  std::string b = RandomBytes(16);
  b[6] = static_cast<char>((b[6] & 0x0f) | 0x40);  // version 4
  b[8] = static_cast<char>((b[8] & 0x3f) | 0x80);  // RFC 4122 variant
  std::string hex = digest::ToHex(b);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

// The last `lines` lines of a log file, for error messages.
std::string Tail(const std::string& path, int lines = 20) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "(no " + path + ")";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = std::max<std::streamoff>(0, size - 16 * 1024);
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::size_t at = text.size();
  for (int i = 0; i <= lines && at != std::string::npos && at > 0; ++i) {
    at = text.rfind('\n', at - 1);
  }
  if (at != std::string::npos && at < text.size()) text = text.substr(at + 1);
  return text.empty() ? "(" + path + " is empty)" : text;
}

std::string HowEnded(int wait_status) {
  if (WIFSIGNALED(wait_status))
    return "was killed by signal " + std::to_string(WTERMSIG(wait_status));
  return "exited with status " + std::to_string(WEXITSTATUS(wait_status));
}

// A free port on 127.0.0.1 outside the OSD range and not in `taken`.
Result<std::uint16_t> PickPortOutsideOsdRange(const std::vector<std::uint16_t>& taken) {
  for (int attempt = 0; attempt < 50; ++attempt) {
    FERRY_ASSIGN_OR_RETURN(std::uint16_t port, PickFreePort());
    if (port >= kOsdPortMin && port <= kOsdPortMax) continue;
    if (std::find(taken.begin(), taken.end(), port) != taken.end()) continue;
    return port;
  }
  return Status::Error(ErrorClass::kFatal, "no free port outside the OSD range " +
                                               std::to_string(kOsdPortMin) + "-" +
                                               std::to_string(kOsdPortMax));
}

io::Task<Result<http::Response>> SignedRequestTask(std::shared_ptr<http::Client> http,
                                                   s3::RequestContext ctx, s3::Operation op,
                                                   s3::Credentials creds,
                                                   Clock::time_point deadline) {
  FERRY_CO_ASSIGN_OR_RETURN(http::Request req,
                            s3::BuildSignedRequest(ctx, op, creds, s3::kEmptyPayloadSha256,
                                                   std::chrono::system_clock::now()));
  req.deadline = deadline;
  co_return co_await http->Send(std::move(req), {});
}

}  // namespace

bool RgwAvailable() {
  return std::all_of(std::begin(kPrograms), std::end(kPrograms),
                     [](std::string_view p) { return !FindProgram(p).empty(); });
}

// Runs the start-up steps in order, each with its deadline, and says which
// one failed.
class RgwCluster::Starter {
 public:
  explicit Starter(RgwCluster& c)
      : c_(c), dir_(c.dir_.path()), deadline_(begin_ + c.options_.start_timeout) {}

  Status Run() {
    std::string missing;
    for (std::string_view p : kPrograms) {
      std::string path = FindProgram(p);
      if (path.empty()) missing += (missing.empty() ? "" : ", ") + std::string(p);
      programs_.emplace_back(std::move(path));
    }
    if (!missing.empty()) {
      return Status::Error(ErrorClass::kFatal,
                           "Ceph RGW needs " + missing + " on PATH: run scripts/bootstrap");
    }
    std::error_code ec;
    for (const char* sub : {"run", "log", "crash", "rgw", "mon/ceph-a", "osd/ceph-0"}) {
      std::filesystem::create_directories(dir_ + "/" + sub, ec);
      if (ec) {
        return Status::Error(ErrorClass::kFatal, "mkdir " + dir_ + "/" + sub + ": " + ec.message());
      }
    }
    FERRY_ASSIGN_OR_RETURN(c_.mon_port_, PickPortOutsideOsdRange({}));
    FERRY_ASSIGN_OR_RETURN(c_.s3_port_, PickPortOutsideOsdRange({c_.mon_port_}));
    c_.access_key_ = RandomChars(20, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
    c_.secret_key_ =
        RandomChars(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789");
    fsid_ = RandomUuid();
    osd_uuid_ = RandomUuid();
    FERRY_RETURN_IF_ERROR(WriteConfig());

    // 1. The OSD's store needs no monitor (--no-mon-config) and takes the
    // longest: it is made meanwhile. Keys and the monitor map, then the
    // monitor's store.
    FERRY_ASSIGN_OR_RETURN(auto osd_mkfs,
                           Launch({Prog("ceph-osd"), "-c", Conf(), "-i", "0", "--mkfs",
                                   "--no-mon-config", "--osd-uuid", osd_uuid_}));
    const std::string keyring = dir_ + "/keyring";
    FERRY_RETURN_IF_ERROR(
        RunStep("keyring mon.", {Prog("ceph-authtool"), "--create-keyring", keyring, "--gen-key",
                                 "-n", "mon.", "--cap", "mon", "allow *"}));
    FERRY_RETURN_IF_ERROR(
        RunStep("keyring client.admin",
                {Prog("ceph-authtool"), keyring, "--gen-key", "-n", "client.admin", "--cap", "mon",
                 "allow *", "--cap", "osd", "allow *", "--cap", "mgr", "allow *"}));
    FERRY_RETURN_IF_ERROR(RunStep(
        "keyring osd.0",
        {Prog("ceph-authtool"), keyring, "--gen-key", "-n", "osd.0", "--cap", "mon",
         "allow profile osd", "--cap", "osd", "allow *", "--cap", "mgr", "allow profile osd"}));
    FERRY_RETURN_IF_ERROR(RunStep("keyring client.rgw",
                                  {Prog("ceph-authtool"), keyring, "--gen-key", "-n", "client.rgw",
                                   "--cap", "mon", "allow rw", "--cap", "osd", "allow rwx"}));
    const std::string monmap = dir_ + "/monmap";
    FERRY_RETURN_IF_ERROR(RunStep("monmaptool", {Prog("monmaptool"), "--create", "--fsid", fsid_,
                                                 "--addv", "a", MonAddr(), monmap}));
    FERRY_RETURN_IF_ERROR(RunStep("ceph-mon --mkfs",
                                  {Prog("ceph-mon"), "-c", Conf(), "--mkfs", "-i", "a", "--monmap",
                                   monmap, "--keyring", keyring},
                                  seconds(30), "ceph-mon.a.log"));
    FERRY_ASSIGN_OR_RETURN(c_.mon_, Daemon({Prog("ceph-mon"), "-c", Conf(), "-f", "-i", "a"}));
    Mark("ceph-mon spawned");
    FERRY_RETURN_IF_ERROR(Finish(*osd_mkfs, "ceph-osd --mkfs", seconds(60), "ceph-osd.0.log"));

    // 2. The OSD joins (ceph osd new also waits for the monitor to be up).
    FERRY_RETURN_IF_ERROR(RunStep(
        "ceph osd new",
        {Prog("ceph"), "-c", Conf(), "--connect-timeout", "60", "osd", "new", osd_uuid_, "0"},
        seconds(60), "ceph-mon.a.log"));
    FERRY_ASSIGN_OR_RETURN(c_.osd_, Daemon({Prog("ceph-osd"), "-c", Conf(), "-f", "-i", "0"}));
    Mark("ceph-osd spawned");

    // 3. The S3 user; this first RGW call also creates RGW's pools, so it
    // waits for the OSD to be up and its placement groups active.
    FERRY_RETURN_IF_ERROR(
        RunStep("radosgw-admin user create",
                {Prog("radosgw-admin"), "-c", Conf(), "--objecter_tick_interval", "0.1", "user",
                 "create", "--uid", std::string(kUserId), "--display-name", "ferry tests",
                 "--access-key", c_.access_key_, "--secret-key", c_.secret_key_},
                seconds(90), "ceph-osd.0.log"));
    // 4. The region: read by radosgw when it starts.
    if (c_.options_.api_name != "default") {
      FERRY_RETURN_IF_ERROR(
          RunStep("radosgw-admin zonegroup modify --api-name",
                  {Prog("radosgw-admin"), "-c", Conf(), "zonegroup", "modify", "--rgw-zonegroup",
                   "default", "--api-name", c_.options_.api_name},
                  seconds(30), "ceph-client.admin.log"));
    }
    // 5. radosgw, ready when a signed ListBuckets answers 200.
    FERRY_ASSIGN_OR_RETURN(c_.rgw_,
                           Daemon({Prog("radosgw"), "-c", Conf(), "-f", "-n", "client.rgw"},
                                  c_.options_.echo_rgw_log));
    Mark("radosgw spawned");
    Status ready = WaitReady();
    Mark("radosgw ready");
    if (!ready.ok()) {
      return Failed("radosgw ready (signed ListBuckets)", ready, "ceph-client.rgw.log");
    }
    return Status::Ok();
  }

 private:
  std::string Conf() const { return dir_ + "/ceph.conf"; }
  std::string MonAddr() const { return MonitorAddress(c_.mon_port_); }
  const std::string& Prog(std::string_view name) const {
    for (std::size_t i = 0; i < std::size(kPrograms); ++i) {
      if (kPrograms[i] == name) return programs_[i];
    }
    std::abort();  // a name missing from kPrograms is a bug here
  }

  Status WriteConfig() {
    CephConfParams p;
    p.dir = dir_;
    p.fsid = fsid_;
    p.mon_port = c_.mon_port_;
    p.s3_port = c_.s3_port_;
    p.osd_port_min = kOsdPortMin;
    p.osd_port_max = kOsdPortMax;
    p.min_part_size = c_.options_.min_part_size;
    p.echo_rgw_log = c_.options_.echo_rgw_log;
    if (c_.options_.kms_testing_key) {
      p.kms_key_id = std::string(kKmsKeyId);
      p.kms_key_base64 = digest::Base64Encode(RandomBytes(32));
    }
    std::ofstream out(Conf());
    out << CephConf(p);
    out.close();
    if (!out) return Status::Error(ErrorClass::kFatal, "cannot write " + Conf());
    return Status::Ok();
  }

  // A one-shot command with its stderr merged into stdout (kept for the
  // error message).
  Result<std::unique_ptr<Process>> Launch(std::vector<std::string> argv) {
    SpawnOptions so;
    so.argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"};
    for (auto& a : argv) so.argv.push_back(std::move(a));
    so.working_dir = dir_;
    return Process::Spawn(std::move(so));
  }

  // Waits for a one-shot command to succeed, at most `cap` (and never past
  // the start-up deadline). A daemon that dies meanwhile ends the wait: the
  // command would only hang on it.
  Status Finish(Process& p, std::string_view step, milliseconds cap, std::string_view log) {
    const Clock::time_point until = std::min(deadline_, Clock::now() + cap);
    Result<int> ws = 0;
    for (;;) {
      auto slice = std::chrono::duration_cast<milliseconds>(until - Clock::now());
      ws = p.WaitForExit(std::clamp(slice, milliseconds(0), milliseconds(200)));
      if (ws.ok()) break;
      if (!c_.Healthy().ok() || Clock::now() >= until) {
        p.Stop(milliseconds(500));
        Mark(step);
        return Failed(step,
                      Status::Error(ErrorClass::kRetryable, Clock::now() >= until
                                                                ? "did not finish in time"
                                                                : "a daemon ended while it ran"),
                      log, p.output());
      }
    }
    Mark(step);
    if (!WIFEXITED(*ws) || WEXITSTATUS(*ws) != 0) {
      return Failed(step, Status::Error(ErrorClass::kFatal, HowEnded(*ws)), log, p.output());
    }
    return Status::Ok();
  }

  Status RunStep(std::string_view step, std::vector<std::string> argv,
                 milliseconds cap = seconds(20), std::string_view log = "") {
    FERRY_ASSIGN_OR_RETURN(auto p, Launch(std::move(argv)));
    return Finish(*p, step, cap, log);
  }

  Result<std::unique_ptr<Process>> Daemon(std::vector<std::string> argv, bool echo = false) {
    SpawnOptions so;
    so.argv = std::move(argv);
    so.working_dir = dir_;
    so.echo_stdout = echo;
    FERRY_ASSIGN_OR_RETURN(auto p, Process::Spawn(std::move(so)));
    p->DrainStdout();  // daemons log to files; stdout only needs emptying
    return p;
  }

  // Polls a signed ListBuckets until it answers 200 (radosgw up, the user
  // known), watching that the daemons stay up.
  Status WaitReady() {
    const Clock::time_point until = std::min(deadline_, Clock::now() + seconds(60));
    std::string last = "no answer yet";
    for (;;) {
      auto r = c_.SignedRequest("GET", "", {}, milliseconds(5'000));
      if (r.ok() && r->status == 200) return Status::Ok();
      last = r.ok() ? "HTTP " + std::to_string(r->status) + ": " + r->body : r.status().ToString();
      if (!c_.Healthy().ok() || Clock::now() + milliseconds(50) >= until) {
        return Status::Error(ErrorClass::kRetryable,
                             "ListBuckets did not answer 200; last: " + last);
      }
      usleep(50'000);
    }
  }

  // `step` failed with `why`: says so with what else is known (the
  // command's output, a daemon that died, the tail of the relevant log).
  Status Failed(std::string_view step, const Status& why, std::string_view log,
                std::string_view output = "") {
    std::string msg = "starting Ceph RGW in " + dir_ + ", step '" + std::string(step) +
                      "': " + (why.ok() ? std::string("failed") : why.error().message);
    if (!output.empty()) msg += "\noutput:\n" + std::string(output);
    Status health = c_.Healthy();
    if (!health.ok()) msg += "\n" + health.ToString();
    if (!log.empty()) {
      msg += "\ntail of " + std::string(log) + ":\n" + Tail(dir_ + "/log/" + std::string(log));
    }
    return Status::Error(why.ok() ? ErrorClass::kFatal : why.error_class(), msg);
  }

  // Adds "<step> <seconds since start>" to the cluster's start-up profile.
  void Mark(std::string_view step) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " %.2fs",
                  std::chrono::duration<double>(Clock::now() - begin_).count());
    if (!c_.startup_profile_.empty()) c_.startup_profile_ += ", ";
    c_.startup_profile_ += std::string(step) + buf;
  }

  RgwCluster& c_;
  const std::string& dir_;
  const Clock::time_point begin_ = Clock::now();
  const Clock::time_point deadline_;
  std::vector<std::string> programs_;  // paths, in kPrograms order
  std::string fsid_;
  std::string osd_uuid_;
};

Result<std::unique_ptr<RgwCluster>> RgwCluster::Start(RgwOptions options) {
  std::unique_ptr<RgwCluster> c(new RgwCluster(std::move(options)));
  Starter starter(*c);
  Status s = starter.Run();
  if (!s.ok()) return s;  // ~RgwCluster stops whatever did start
  return c;
}

RgwCluster::~RgwCluster() {
  // radosgw first, while the cluster it unregisters from is still there
  // (with the OSD gone its shutdown waits on RADOS until KILL); then the OSD
  // and the monitor together. Only our own children, TERM then KILL.
  if (rgw_) rgw_->Stop(seconds(5));
  for (Process* p : {osd_.get(), mon_.get()}) {
    if (p != nullptr && p->Running()) kill(p->pid(), SIGTERM);
  }
  for (Process* p : {osd_.get(), mon_.get()}) {
    if (p != nullptr) p->Stop(seconds(5));
  }
  rgw_.reset();
  osd_.reset();
  mon_.reset();
}

std::string RgwCluster::endpoint() const { return "http://127.0.0.1:" + std::to_string(s3_port_); }

std::string RgwCluster::kms_key_id() const {
  return options_.kms_testing_key ? std::string(kKmsKeyId) : std::string();
}

pid_t RgwCluster::radosgw_pid() const { return rgw_ ? rgw_->pid() : -1; }
pid_t RgwCluster::osd_pid() const { return osd_ ? osd_->pid() : -1; }
pid_t RgwCluster::monitor_pid() const { return mon_ ? mon_->pid() : -1; }

Status RgwCluster::Healthy() {
  struct Daemon {
    Process* proc;
    const char* name;
    const char* log;
  };
  for (const Daemon& d : {Daemon{mon_.get(), "ceph-mon", "ceph-mon.a.log"},
                          Daemon{osd_.get(), "ceph-osd", "ceph-osd.0.log"},
                          Daemon{rgw_.get(), "radosgw", "ceph-client.rgw.log"}}) {
    if (d.proc == nullptr || d.proc->Running()) continue;
    return Status::Error(ErrorClass::kFatal,
                         std::string(d.name) + " (pid " + std::to_string(d.proc->pid()) + ") " +
                             HowEnded(d.proc->wait_status()) + "; tail of its log:\n" +
                             Tail(dir_.path() + "/log/" + d.log));
  }
  return Status::Ok();
}

std::string RgwCluster::Describe() const {
  return "Ceph RGW " + options_.api_name + " at " + endpoint() + " (mon pid " +
         std::to_string(monitor_pid()) + " on 127.0.0.1:" + std::to_string(mon_port_) +
         ", osd pid " + std::to_string(osd_pid()) + ", radosgw pid " +
         std::to_string(radosgw_pid()) + ", in " + dir_.path() + ")";
}

Result<http::Response> RgwCluster::SignedRequest(
    std::string_view method, std::string_view bucket,
    std::vector<std::pair<std::string, std::string>> query, milliseconds timeout) const {
  boost::asio::io_context ioc;
  FERRY_ASSIGN_OR_RETURN(http::Url url, http::Url::Parse(endpoint()));
  FERRY_ASSIGN_OR_RETURN(auto http, http::Client::Create(ioc.get_executor(), url, {}));
  s3::RequestContext ctx;
  ctx.host_header = url.HostHeader();
  ctx.region = options_.api_name;
  ctx.bucket = std::string(bucket);
  s3::Operation op;
  op.method = boost::beast::http::string_to_verb(method);
  op.bucket_level = true;
  op.query = std::move(query);
  s3::Credentials creds{access_key_, secret_key_, ""};
  try {
    return RunTask(ioc, SignedRequestTask(http, ctx, op, creds, Clock::now() + timeout),
                   timeout + seconds(1));
  } catch (const TaskTimeout& e) {
    return Status::Error(ErrorClass::kRetryable, e.what());
  }
}

}  // namespace ferry::testing
