#include "tests/support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

extern char** environ;

namespace ferry::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string Errno(std::string_view what) { return std::string(what) + ": " + std::strerror(errno); }

// Milliseconds left until `deadline`, at least 0, at most `cap`.
int MsLeft(Clock::time_point deadline, milliseconds cap) {
  auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::clamp(left, milliseconds(0), cap).count());
}

std::optional<std::uint16_t> ParsePort(std::string_view s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) {
    s.remove_suffix(1);
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>(value);
}

// Waits up to `wait` for `pid` to exit, without busy sleeping when the
// kernel offers pidfds. Returns true when it has exited (and was reaped).
bool WaitExit(pid_t pid, milliseconds wait, int* status) {
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  Clock::time_point deadline = Clock::now() + wait;
  for (;;) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid || (r < 0 && errno == ECHILD)) {
      if (pidfd >= 0) close(pidfd);
      return true;
    }
    int left = MsLeft(deadline, milliseconds(wait));
    if (left == 0) break;
    if (pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      poll(&p, 1, left);
    } else {
      usleep(10'000);  // no pidfd: poll the exit status instead
    }
  }
  if (pidfd >= 0) close(pidfd);
  return false;
}

}  // namespace

Result<std::unique_ptr<Process>> Process::Spawn(SpawnOptions opts) {
  if (opts.argv.empty()) return Status::Error(ErrorClass::kInvalidArgument, "spawn: empty argv");
  const std::string& program = opts.argv[0];
  if (access(program.c_str(), X_OK) != 0) {
    return Status::Error(ErrorClass::kInvalidArgument, Errno("spawn: cannot execute " + program));
  }
  // Everything the child needs is built before fork: after fork only
  // async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (auto& a : opts.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    bool overridden = std::any_of(opts.env.begin(), opts.env.end(), [&](const auto& kv) {
      return entry.substr(0, entry.find('=')) == kv.first;
    });
    if (!overridden) env_storage.emplace_back(entry);
  }
  for (auto& [k, v] : opts.env) env_storage.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Status::Error(ErrorClass::kFatal, Errno("pipe2"));
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Status::Error(ErrorClass::kFatal, Errno("fork"));
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);  // the parent died before prctl
    dup2(fds[1], STDOUT_FILENO);          // dup2 clears O_CLOEXEC on the copy
    if (!opts.working_dir.empty() && chdir(opts.working_dir.c_str()) != 0) _exit(126);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  auto p = std::unique_ptr<Process>(new Process());
  p->pid_ = pid;
  p->stdout_fd_ = fds[0];
  p->echo_ = opts.echo_stdout;
  p->program_ = program;
  return p;
}

Process::~Process() {
  Stop();
  if (drain_.joinable()) drain_.join();
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool Process::Running() {
  if (exited_) return false;
  if (WaitExit(pid_, milliseconds(0), &wait_status_)) exited_ = true;
  return !exited_;
}

bool Process::ReadSome(milliseconds wait) {
  pollfd p{stdout_fd_, POLLIN, 0};
  int n = poll(&p, 1, static_cast<int>(wait.count()));
  if (n <= 0) return true;  // nothing yet (or EINTR): not EOF
  char buf[4096];
  ssize_t got = read(stdout_fd_, buf, sizeof buf);
  if (got > 0) {
    output_.append(buf, static_cast<std::size_t>(got));
    return true;
  }
  return got < 0 && (errno == EINTR || errno == EAGAIN);
}

Status Process::Exited(std::string_view waiting_for) {
  std::string msg = program_ + " exited";
  if (WIFEXITED(wait_status_)) msg += " with status " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) msg += " on signal " + std::to_string(WTERMSIG(wait_status_));
  msg += " while waiting for " + std::string(waiting_for) + "; stdout: " + output_;
  return Status::Error(ErrorClass::kFatal, msg);
}

Result<std::uint16_t> Process::WaitForListeningLine(std::string_view marker, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  std::string what = "'" + std::string(marker) + "' on stdout";
  bool exhausted = false;
  std::size_t last_size = output_.size();
  for (;;) {
    // Whole lines only, so a half-written port number is never parsed.
    std::size_t nl;
    while ((nl = output_.find('\n', scanned_)) != std::string::npos) {
      std::string_view line(output_.data() + scanned_, nl - scanned_);
      scanned_ = nl + 1;
      std::size_t at = line.find(marker);
      if (at == std::string_view::npos) continue;
      std::string_view rest = line.substr(at + marker.size());
      std::size_t colon = rest.rfind(':');
      auto port = ParsePort(colon == std::string_view::npos ? rest : rest.substr(colon + 1));
      if (port) {
        DrainStdout();
        return *port;
      }
    }
    if (!Running()) {
      // The child is gone but what it wrote may still sit in the pipe: read
      // it all (the write end is closed, so this ends) and look once more.
      if (!exhausted) {
        while (ReadSome(milliseconds(0)) && output_.size() != last_size) last_size = output_.size();
        exhausted = true;
        continue;
      }
      return Exited(what);
    }
    int left = MsLeft(deadline, milliseconds(100));
    if (left == 0) {
      return Status::Error(ErrorClass::kRetryable, "timed out after " +
                                                       std::to_string(timeout.count()) +
                                                       " ms waiting for " + what + " from " +
                                                       program_ + "; stdout: " + output_);
    }
    if (!ReadSome(milliseconds(left))) {
      // Stdout closed: the child is exiting; report how once it has.
      WaitExit(pid_, milliseconds(MsLeft(deadline, timeout)), &wait_status_);
      exited_ = true;
      return Exited(what);
    }
  }
}

Result<std::uint16_t> Process::WaitForPortFile(const std::string& path, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    std::ifstream in(path);
    if (in) {
      std::stringstream ss;
      ss << in.rdbuf();
      std::string text = ss.str();
      // The newline marks a complete write; servers that write without one
      // are accepted once the number parses.
      if (auto port = ParsePort(text)) {
        DrainStdout();
        return *port;
      }
    }
    if (!Running()) return Exited("port file " + path);
    int left = MsLeft(deadline, milliseconds(20));
    if (left == 0) {
      return Status::Error(ErrorClass::kRetryable,
                           "timed out after " + std::to_string(timeout.count()) +
                               " ms waiting for port file " + path + " from " + program_);
    }
    // Reading stdout doubles as the pause between looks at the file.
    if (!ReadSome(milliseconds(left))) usleep(static_cast<useconds_t>(left) * 1000);
  }
}

Result<int> Process::WaitForExit(milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  if (!drain_.joinable()) {
    // Stdout first: a child blocked on a full pipe never exits. EOF means
    // the child (and whatever inherited its stdout) closed it.
    while (ReadSome(milliseconds(MsLeft(deadline, milliseconds(100))))) {
      if (MsLeft(deadline, timeout) == 0) break;
    }
  }
  if (!exited_ && WaitExit(pid_, milliseconds(MsLeft(deadline, timeout)), &wait_status_)) {
    exited_ = true;
  }
  if (!exited_) {
    return Status::Error(ErrorClass::kRetryable, program_ + " still running after " +
                                                     std::to_string(timeout.count()) + " ms");
  }
  return wait_status_;
}

void Process::DrainStdout() {
  if (drain_.joinable() || stdout_fd_ < 0) return;
  if (echo_ && !output_.empty()) std::fwrite(output_.data(), 1, output_.size(), stderr);
  int fd = stdout_fd_;
  bool echo = echo_;
  drain_ = std::thread([fd, echo] {
    char buf[4096];
    for (;;) {
      ssize_t got = read(fd, buf, sizeof buf);
      if (got > 0) {
        if (echo) std::fwrite(buf, 1, static_cast<std::size_t>(got), stderr);
        continue;
      }
      if (got < 0 && errno == EINTR) continue;
      return;  // EOF: the child (and anything it forked) closed stdout
    }
  });
}

void Process::Stop(milliseconds grace) {
  if (pid_ <= 0 || exited_) return;
  kill(pid_, SIGTERM);
  if (!WaitExit(pid_, grace, &wait_status_)) {
    kill(pid_, SIGKILL);
    WaitExit(pid_, std::chrono::seconds(30), &wait_status_);
  }
  exited_ = true;
}

std::string FindProgram(std::string_view name) {
  if (name.empty()) return "";
  if (name.find('/') != std::string_view::npos) {
    std::string path(name);
    return access(path.c_str(), X_OK) == 0 ? path : "";
  }
  const char* env = std::getenv("PATH");
  std::string_view dirs = env != nullptr ? env : "/usr/local/bin:/usr/bin:/bin";
  while (!dirs.empty()) {
    std::size_t colon = dirs.find(':');
    std::string_view dir = dirs.substr(0, colon);
    dirs = colon == std::string_view::npos ? std::string_view() : dirs.substr(colon + 1);
    std::string path = std::string(dir.empty() ? "." : dir) + "/" + std::string(name);
    struct stat st {};
    if (stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(path.c_str(), X_OK) == 0) {
      return path;
    }
  }
  return "";
}

Result<std::uint16_t> PickFreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::Error(ErrorClass::kFatal, Errno("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    Status s = Status::Error(ErrorClass::kFatal, Errno("bind 127.0.0.1:0"));
    close(fd);
    return s;
  }
  close(fd);
  return ntohs(addr.sin_port);
}

Status WaitForTcpPort(std::uint16_t port, milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Status::Error(ErrorClass::kFatal, Errno("socket"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    int r = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    close(fd);
    if (r == 0) return Status::Ok();
    int left = MsLeft(deadline, milliseconds(20));
    if (left == 0) {
      return Status::Error(ErrorClass::kRetryable,
                           "nothing accepted connections on 127.0.0.1:" + std::to_string(port) +
                               " within " + std::to_string(timeout.count()) + " ms");
    }
    usleep(static_cast<useconds_t>(left) * 1000);  // connect has no readiness to wait on
  }
}

TempDir::TempDir(std::string_view name_hint) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl =
      std::string(base && *base ? base : "/tmp") + "/" + std::string(name_hint) + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) {
    std::fprintf(stderr, "mkdtemp %s: %s\n", tmpl.c_str(), std::strerror(errno));
    std::abort();  // tests cannot run without scratch space
  }
  path_ = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string RandomHex(std::size_t chars) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(chars, '0');
  for (char& c : out) c = kHex[rng() & 15];
  return out;
}

}  // namespace ferry::testing
