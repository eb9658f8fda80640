// DescribeMachine: what the report says about where it ran.
#include <sys/utsname.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "bench/harness/bench.h"

namespace ferry::bench {
namespace {

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

std::string ProcField(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) == 0) {
      auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string v = line.substr(colon + 1);
      v.erase(0, v.find_first_not_of(" \t"));
      return v;
    }
  }
  return "";
}

// First line a program prints for `arg` (its version), "" when it cannot run.
std::string VersionOf(const std::string& program, const std::string& arg,
                      const std::string& scratch) {
  if (scratch.empty() || FindProgram(program).empty()) return "";
  std::filesystem::create_directories(scratch);
  ChildOptions co;
  co.argv = {program, arg};
  co.log_path = scratch + "/version.txt";
  std::filesystem::remove(co.log_path);
  co.env = {{"AWS_CA_BUNDLE", std::nullopt}, {"RCLONE_CONFIG", "/dev/null"}};
  auto u = RunToEnd(std::move(co), std::chrono::seconds(30));
  std::string line = FirstLine(scratch + "/version.txt");
  std::filesystem::remove(scratch + "/version.txt");
  return u.ok() && u->ok() ? line : "";
}

}  // namespace

MachineInfo DescribeMachine(const Programs& p, const std::string& scratch) {
  MachineInfo m;
  m.cores = std::thread::hardware_concurrency();
  m.cpu_model = ProcField("/proc/cpuinfo", "model name");
  std::string mem = ProcField("/proc/meminfo", "MemTotal");  // "24683520 kB"
  try {
    m.ram_bytes = std::stoull(mem) * 1024;
  } catch (const std::exception&) {
    m.ram_bytes = 0;
  }
  utsname u{};
  if (::uname(&u) == 0) m.kernel = std::string(u.sysname) + " " + u.release;
  std::time_t now = std::time(nullptr);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  m.date_utc = buf;
  // "0.52 0.58 0.59 1/123 4567": the three load averages only.
  std::istringstream load(FirstLine("/proc/loadavg"));
  std::string one, five, fifteen;
  load >> one >> five >> fifteen;
  m.load_before = one + " " + five + " " + fifteen;
  m.rclone_version = VersionOf(p.rclone, "version", scratch);
  m.aws_version = VersionOf(p.aws, "--version", scratch);
  return m;
}

}  // namespace ferry::bench
