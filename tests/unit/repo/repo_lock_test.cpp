#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>

#include "../platform/test_temp_dir.h"
#include "dvx/repo/repo.h"

namespace dvx::repo {
namespace {

using dvx::testing::TempDir;
namespace tu = dvx::testing;

// A child process holding flock on `path` until killed (or for `hold_ms`, then it exits).
class LockHolder {
 public:
  LockHolder(const std::string& path, int hold_ms = 60'000) {
    int ready[2];
    if (::pipe(ready) != 0) return;
    m_pid = ::fork();
    if (m_pid == 0) {
      ::close(ready[0]);
      int fd = ::open(path.c_str(), O_RDWR | O_CREAT, 0644);
      if (fd < 0 || ::flock(fd, LOCK_EX) != 0) ::_exit(2);
      char c = 'x';
      (void)::write(ready[1], &c, 1);
      ::usleep(useconds_t(hold_ms) * 1000);
      ::_exit(0);
    }
    ::close(ready[1]);
    char c = 0;
    m_ready = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~LockHolder() { stop(); }
  bool ready() const { return m_ready; }
  void stop() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, nullptr, 0);
      m_pid = -1;
    }
  }

 private:
  pid_t m_pid = -1;
  bool m_ready = false;
};

std::unique_ptr<Repo> make_repo(const TempDir& t) {
  tu::write_file(t / ".dvc/config", "[core]\n    no_scm = true\n");
  return Repo::open(t.path());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(RepoLock, HeldByAnotherProcessFailsAfterRetrying) {
  TempDir t{"dvx-repo-test"};
  auto repo = make_repo(t);
  ASSERT_TRUE(platform::make_dirs(repo->tmp_dir()));
  LockHolder holder(repo->tmp_dir() + "/lock");
  ASSERT_TRUE(holder.ready());
  auto start = std::chrono::steady_clock::now();
  try {
    repo->lock(LockWait::retry, ExitCode::failure);
    FAIL() << "lock() succeeded while another process holds the lock";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(), kLockErrorMessage);
    EXPECT_EQ(e.code(), ExitCode::failure);
  }
  double waited = seconds_since(start);
  EXPECT_GE(waited, 2.5);  // DVC retries for ~3 s
  EXPECT_LT(waited, 6.0);
  EXPECT_EQ(std::string(kLockErrorMessage),
            "Unable to acquire lock. Most likely another DVC process is running or was terminated abruptly. "
            "Check the page <https://dvc.org/doc/user-guide/troubleshooting#lock-issue> for other possible "
            "reasons and to learn how to resolve this.");
  // Once the other process is gone the lock is ours, and the file names our pid.
  holder.stop();
  ASSERT_NO_THROW(repo->lock(LockWait::retry, ExitCode::failure));
  EXPECT_EQ(tu::read_file(repo->tmp_dir() + "/lock"), " " + std::to_string(::getpid()) + "\n");
  // Taking it again in the same Repo is a no-op.
  ASSERT_NO_THROW(repo->lock(LockWait::retry, ExitCode::failure));
}

TEST(RepoLock, AcquiredLockWritesPidAndExcludesOthers) {
  TempDir t{"dvx-repo-test"};
  auto repo = make_repo(t);
  // A stale, longer lock file from a killed process is truncated.
  tu::write_file(t / ".dvc/tmp/lock", " 99999999999\n");
  ASSERT_NO_THROW(repo->lock(LockWait::retry, ExitCode::error));
  EXPECT_EQ(tu::read_file(t / ".dvc/tmp/lock"), " " + std::to_string(::getpid()) + "\n");
  // Another process cannot take it (0 = acquired, 1 = conflict).
  pid_t pid = ::fork();
  if (pid == 0) {
    auto l = platform::FileLock::try_acquire((t / ".dvc/tmp/lock"));
    ::_exit(l ? 0 : (l.error().code == ErrorCode::conflict ? 1 : 2));
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST(RepoLock, CreatesTmpDir) {
  TempDir t{"dvx-repo-test"};
  auto repo = make_repo(t);
  EXPECT_FALSE(tu::exists(t / ".dvc/tmp"));
  ASSERT_NO_THROW(repo->lock(LockWait::retry, ExitCode::error));
  EXPECT_TRUE(tu::exists(t / ".dvc/tmp/lock"));
}

TEST(RepoLock, WaitForeverGetsTheLockWhenReleased) {
  TempDir t{"dvx-repo-test"};
  auto repo = make_repo(t);
  ASSERT_TRUE(platform::make_dirs(repo->tmp_dir()));
  LockHolder holder(repo->tmp_dir() + "/lock", 4'500);  // longer than the retry window
  ASSERT_TRUE(holder.ready());
  auto start = std::chrono::steady_clock::now();
  ASSERT_NO_THROW(repo->lock(LockWait::forever, ExitCode::failure));
  EXPECT_GE(seconds_since(start), 3.5);
  EXPECT_EQ(tu::read_file(repo->tmp_dir() + "/lock"), " " + std::to_string(::getpid()) + "\n");
}

}  // namespace
}  // namespace dvx::repo
