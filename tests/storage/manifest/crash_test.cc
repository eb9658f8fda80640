// Durability across kill -9 and the lock across processes, with a real
// child process (crash_writer.cc) that is killed without closing anything.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "storage/manifest/manifest.h"
#include "tests/storage/manifest/test_util.h"

namespace ferry::manifest {
namespace {

// A child running manifest_crash_writer with pipes to its stdin and stdout.
class Child {
 public:
  explicit Child(std::vector<std::string> args) {
    int out[2], in[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(in, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe failed";
      return;
    }
    args.insert(args.begin(), FERRY_MANIFEST_CRASH_WRITER);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ == 0) {
      // Only async-signal-safe calls between fork and exec.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(120);
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(in[0], STDIN_FILENO);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(in[0]);
    stdout_fd_ = out[0];
    stdin_fd_ = in[1];
  }
  ~Child() {
    CloseStdin();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  pid_t pid() const { return pid_; }

  // The next line of the child's stdout, or nullopt at EOF.
  std::optional<std::string> ReadLine() {
    for (;;) {
      auto nl = buffer_.find('\n');
      if (nl != std::string::npos) {
        std::string line = buffer_.substr(0, nl);
        buffer_.erase(0, nl + 1);
        return line;
      }
      char chunk[4096];
      ssize_t n = ::read(stdout_fd_, chunk, sizeof(chunk));
      if (n <= 0) return std::nullopt;
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }
  void CloseStdin() {
    if (stdin_fd_ >= 0) ::close(stdin_fd_);
    stdin_fd_ = -1;
  }
  // waitpid status.
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stdin_fd_ = -1;
  bool reaped_ = false;
  std::string buffer_;
};

const Scope kScope{"crash-route", "crash-dest"};

// Every record the child acknowledged as synced must be in the manifest
// after it was killed; returns how many objects were found.
int ExpectAcknowledgedRecords(const std::string& path, int acked) {
  auto m = Manifest::Open(path);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  if (!m.ok()) return 0;
  auto count = (*m)->CountObjects(kScope);
  EXPECT_TRUE(count.ok());
  if (!count.ok()) return 0;
  EXPECT_GE(static_cast<int>(*count), acked);
  for (int i = 0; i < acked; ++i) {
    auto rec = (*m)->GetObject(kScope, "obj/" + std::to_string(i));
    EXPECT_TRUE(rec.ok() && rec->has_value()) << "acknowledged obj/" << i << " lost";
    if (!rec.ok() || !rec->has_value()) continue;
    EXPECT_EQ((*rec)->size, static_cast<std::uint64_t>(i));
    EXPECT_EQ((*rec)->state, ObjectState::kReplicated);
  }
  auto upload = (*m)->GetUpload(kScope, "big/object");
  EXPECT_TRUE(upload.ok() && upload->has_value());
  if (upload.ok() && upload->has_value()) {
    EXPECT_EQ((*upload)->upload_id, "crash-upload");
    // Object i and part i+1 were one batch: both or neither survive.
    EXPECT_EQ((*upload)->parts.size(), *count);
    std::uint32_t expect = 1;
    for (const auto& [number, part] : (*upload)->parts) {
      EXPECT_EQ(number, expect++);
      EXPECT_EQ(part.etag, "\"part-" + std::to_string(number - 1) + "\"");
    }
  }
  return static_cast<int>(*count);
}

TEST(ManifestCrash, SyncedWritesSurviveSelfKill) {
  testutil::TempDir dir;
  std::string path = dir.Sub("manifest");
  Child child({"write", path, "25"});
  int acked = 0;
  while (auto line = child.ReadLine()) {
    ASSERT_EQ(*line, "synced " + std::to_string(acked));
    ++acked;
  }
  int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  EXPECT_EQ(acked, 25);
  EXPECT_EQ(ExpectAcknowledgedRecords(path, acked), 25);
}

TEST(ManifestCrash, SyncedWritesSurviveKillMidStream) {
  testutil::TempDir dir;
  std::string path = dir.Sub("manifest");
  Child child({"write", path, "10000"});
  int acked = 0;
  while (acked < 40) {
    auto line = child.ReadLine();
    ASSERT_TRUE(line.has_value()) << "child ended early";
    ++acked;
  }
  ::kill(child.pid(), SIGKILL);  // while it is writing the next records
  int status = child.Wait();
  ASSERT_TRUE(WIFSIGNALED(status));
  // Lines it printed before dying count as acknowledged too.
  while (child.ReadLine()) ++acked;
  int found = ExpectAcknowledgedRecords(path, acked);
  EXPECT_LT(found, 10000) << "child was not killed mid-stream";
}

TEST(ManifestCrash, LockHeldByAnotherProcess) {
  testutil::TempDir dir;
  std::string path = dir.Sub("manifest");
  Child holder({"hold", path});
  auto line = holder.ReadLine();
  ASSERT_TRUE(line.has_value());
  ASSERT_EQ(*line, "locked " + std::to_string(holder.pid()));
  Status s = Manifest::Open(path).status();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("locked by pid " + std::to_string(holder.pid()) +
                              ": another ferryd is using STATE_DIR?"),
            std::string::npos)
      << s.ToString();
  holder.CloseStdin();
  int status = holder.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  EXPECT_TRUE(Manifest::Open(path).ok());
}

}  // namespace
}  // namespace ferry::manifest
