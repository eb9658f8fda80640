#include "bench/harness/child.h"

#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

extern char** environ;

namespace ferry::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// The environment the child gets: ours with `changes` applied. Built before
// fork, so the child only calls async-signal-safe functions.
std::vector<std::string> BuildEnv(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& changes) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    env[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [name, value] : changes) {
    if (value) {
      env[name] = *value;
    } else {
      env.erase(name);
    }
  }
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

}  // namespace

std::string FindProgram(const std::string& name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string::npos) return ::access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

Result<std::unique_ptr<Child>> Child::Spawn(ChildOptions opts) {
  if (opts.argv.empty()) return Status::Error(ErrorClass::kInvalidArgument, "empty command");
  std::string program = FindProgram(opts.argv[0]);
  if (program.empty()) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "cannot execute " + opts.argv[0] + ": not found or not executable");
  }
  std::vector<std::string> env = BuildEnv(opts.env);
  std::vector<char*> argv_ptrs;
  for (auto& a : opts.argv) argv_ptrs.push_back(a.data());
  argv_ptrs.push_back(nullptr);
  std::vector<char*> env_ptrs;
  for (auto& e : env) env_ptrs.push_back(e.data());
  env_ptrs.push_back(nullptr);

  // Give freed heap back first: a forked child shares (and is charged for)
  // the parent's resident pages until it execs.
  ::malloc_trim(0);
  int log_fd = ::open(opts.log_path.empty() ? "/dev/null" : opts.log_path.c_str(),
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    return Status::Error(ErrorClass::kInvalidArgument,
                         "cannot open log " + opts.log_path + ": " + std::strerror(errno));
  }
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();
  auto started = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) {
    int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return Status::Error(ErrorClass::kFatal, std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    if (!opts.working_dir.empty() && ::chdir(opts.working_dir.c_str()) != 0) ::_exit(126);
    ::execve(program.c_str(), argv_ptrs.data(), env_ptrs.data());
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  auto child = std::unique_ptr<Child>(new Child());
  child->pid_ = pid;
  child->program_ = program;
  child->log_path_ = opts.log_path;
  child->started_ = started;
  std::error_code ec;
  child->self_exe_ = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  return child;
}

Child::~Child() { Stop(std::chrono::seconds(5)); }

bool Child::Reap(bool block) {
  if (exited_) return true;
  int status = 0;
  rusage ru{};
  pid_t r;
  do {
    r = ::wait4(pid_, &status, block ? 0 : WNOHANG, &ru);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return false;
  exited_ = true;
  usage_.wall_seconds = std::chrono::duration<double>(Clock::now() - started_).count();
  if (r < 0) return true;  // not our child any more: nothing to account
  if (WIFEXITED(status)) usage_.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) usage_.signal = WTERMSIG(status);
  usage_.user_seconds = Seconds(ru.ru_utime);
  usage_.system_seconds = Seconds(ru.ru_stime);
  // ru_maxrss (KiB) includes the pre-exec copy of our pages: only a fallback
  // for a child too short-lived to be sampled.
  usage_.peak_rss_bytes =
      hwm_bytes_ > 0 ? hwm_bytes_ : static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
  return true;
}

void Child::SampleHwm() {
  const std::string proc = "/proc/" + std::to_string(pid_);
  std::error_code ec;
  auto exe = std::filesystem::read_symlink(proc + "/exe", ec);
  if (ec || exe.string() == self_exe_) return;  // exited, or not yet exec'd
  std::ifstream in(proc + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) {
      std::uint64_t kib = std::strtoull(line.c_str() + 6, nullptr, 10);
      hwm_bytes_ = std::max(hwm_bytes_, kib * 1024);
      return;
    }
  }
}

bool Child::Running() { return pid_ > 0 && !Reap(false); }

Usage Child::Wait(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return usage_;
  auto deadline = Clock::now() + timeout;
  auto pause = std::chrono::milliseconds(1);
  for (;;) {
    SampleHwm();
    if (Reap(false)) break;
    if (Clock::now() >= deadline) {
      Stop(std::chrono::seconds(5));
      usage_.timed_out = true;
      return usage_;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(20));
  }
  return usage_;
}

Usage Child::Stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0 || exited_) return usage_;
  if (Reap(false)) return usage_;
  ::kill(pid_, SIGTERM);
  auto deadline = Clock::now() + grace;
  while (!Reap(false)) {
    if (Clock::now() >= deadline) {
      ::kill(pid_, SIGKILL);
      Reap(true);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return usage_;
}

Result<Usage> RunToEnd(ChildOptions opts, std::chrono::milliseconds timeout) {
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<Child> c, Child::Spawn(std::move(opts)));
  return c->Wait(timeout);
}

std::string Tail(const std::string& path, std::size_t max_bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  auto size = static_cast<std::size_t>(in.tellg());
  std::size_t from = size > max_bytes ? size - max_bytes : 0;
  in.seekg(static_cast<std::streamoff>(from));
  std::string out(size - from, '\0');
  in.read(out.data(), static_cast<std::streamsize>(out.size()));
  return out;
}

double ProcessCpuSeconds(pid_t pid) {
  if (pid <= 0) return 0;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');  // the command may hold spaces and parentheses
  if (close == std::string::npos || close + 2 > stat.size()) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  double ticks = 0;
  // Fields after the command: state is field 3; utime 14, stime 15.
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14 || i == 15) ticks += std::strtod(f.c_str(), nullptr);
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace ferry::bench
