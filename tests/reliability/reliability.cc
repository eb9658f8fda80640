#include "tests/reliability/reliability.h"

#include <sys/wait.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "engine/daemon/daemon.h"
#include "tests/support/process.h"
#include "tests/support/run.h"

namespace ferry::reliability {

FerrydRun RunFerryd(const std::vector<std::string>& ferryd_args, const std::string& dir,
                    std::chrono::seconds timeout) {
  FerrydRun out;
  const std::string err_path = dir + "/ferryd-" + testing::RandomHex(8) + ".stderr";
  testing::SpawnOptions so;
  // sh only redirects stderr, then becomes ferryd.
  so.argv = {"/bin/sh", "-c", "f=$1; e=$2; shift 2; exec \"$f\" \"$@\" 2>\"$e\"", "sh",
             FERRY_FERRYD_PATH, err_path};
  so.argv.insert(so.argv.end(), ferryd_args.begin(), ferryd_args.end());
  auto p = testing::Process::Spawn(std::move(so));
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return out;
  (*p)->DrainStdout();
  if (!integration::WaitExit(**p, timeout)) {
    ADD_FAILURE() << "ferryd did not finish within " << timeout.count() << " s";
    (*p)->Stop(std::chrono::seconds(1));
  } else if (WIFEXITED((*p)->wait_status())) {
    out.exit_code = WEXITSTATUS((*p)->wait_status());
  }
  std::ifstream in(err_path);
  std::ostringstream text;
  text << in.rdbuf();
  out.err = text.str();
  return out;
}

std::uint64_t InjectedFaults(Region& r) {
  auto j = r.admin().Get("/_sim/faults");
  EXPECT_TRUE(j.ok()) << j.status().ToString();
  if (!j.ok()) return 0;
  const nlohmann::json& rules = j->contains("faults") ? (*j)["faults"] : *j;
  std::uint64_t n = 0;
  for (const auto& f : rules) n += f.value("injected", std::uint64_t{0});
  return n;
}

std::uint64_t FaultedEntries(const std::vector<nlohmann::json>& log) {
  std::uint64_t n = 0;
  for (const auto& e : log) n += !e.value("fault", std::string()).empty();
  return n;
}

std::string ReliabilityTest::WriteYaml(const std::string& yaml, const std::string& name) {
  std::string path = dir_->path() + "/" + name;
  std::ofstream(path) << yaml;
  return path;
}

int ReliabilityTest::RunOnceYaml(const std::string& yaml,
                                 std::vector<engine::PassReport>* reports,
                                 std::chrono::seconds timeout) {
  auto cfg = config::ParseConfig(yaml, "reliability.yaml");
  EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
  if (!cfg.ok()) return -1;
  boost::asio::io_context ioc;  // before the daemon: see IntegrationTest::RunOnce
  auto daemon = engine::Daemon::Create(std::move(*cfg), ioc);
  EXPECT_TRUE(daemon.ok()) << daemon.status().ToString();
  if (!daemon.ok()) return -1;
  int code = testing::RunTask(ioc, (*daemon)->RunOnce(), timeout);
  if (reports) *reports = (*daemon)->last_reports();
  for (const auto& r : (*daemon)->last_reports()) std::cerr << "  pass: " << r.Summary() << "\n";
  return code;
}

void ReliabilityTest::WriteCredentials(const std::string& access_key,
                                       const std::string& secret_key) {
  // Written aside and renamed: the reader sees the old or the new file whole.
  const std::string path = dir_->path() + "/credentials";
  {
    std::ofstream out(path + ".tmp");
    out << "[default]\naws_access_key_id = " << access_key
        << "\naws_secret_access_key = " << secret_key << "\n";
  }
  ASSERT_EQ(std::rename((path + ".tmp").c_str(), path.c_str()), 0);
}

}  // namespace ferry::reliability
