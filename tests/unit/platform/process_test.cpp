#include "dvx/platform/process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <string>
#include <thread>
#include <vector>

#include "test_temp_dir.h"

namespace dvx::platform {
namespace {

using dvx::testing::TempDir;
namespace tu = dvx::testing;
using namespace std::chrono_literals;

// Sets SHELL for one test and restores it.
class ShellEnv {
 public:
  explicit ShellEnv(const char* value) {
    if (const char* old = std::getenv("SHELL")) m_old = old, m_had = true;
    if (value) ::setenv("SHELL", value, 1);
    else ::unsetenv("SHELL");
  }
  ~ShellEnv() {
    if (m_had) ::setenv("SHELL", m_old.c_str(), 1);
    else ::unsetenv("SHELL");
  }

 private:
  std::string m_old;
  bool m_had = false;
};

// Runs with /bin/sh and the output captured in a file under `t`.
RunResult run_capture(const TempDir& t, const std::string& cmd, std::string* out,
                      RunOptions opts = {}) {
  std::string path = t / "out.txt";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  opts.stdout_fd = fd;
  auto r = run_shell(cmd, opts);
  ::close(fd);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  if (out) *out = tu::read_file(path);
  return r.value_or(RunResult{});
}

// Whether a process of group `pg` is alive (not a zombie).
bool group_alive(pid_t pg) {
  DIR* d = ::opendir("/proc");
  bool found = false;
  while (dirent* e = d ? ::readdir(d) : nullptr) {
    std::string stat = tu::read_file(std::string("/proc/") + e->d_name + "/stat");
    auto rp = stat.rfind(')');
    if (stat.empty() || rp == std::string::npos) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(stat.c_str() + rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pg && state != 'Z') found = true;
  }
  if (d) ::closedir(d);
  return found;
}

TEST(ShellArgv, FollowsShellVariable) {
  {
    ShellEnv e(nullptr);
    EXPECT_EQ(shell_argv("echo 1"), (std::vector<std::string>{"/bin/sh", "-c", "echo 1"}));
  }
  {
    ShellEnv e("");
    EXPECT_EQ(shell_argv("x"), (std::vector<std::string>{"/bin/sh", "-c", "x"}));
  }
  {
    ShellEnv e("/usr/bin/bash");
    EXPECT_EQ(shell_argv("x"),
              (std::vector<std::string>{"/usr/bin/bash", "--noprofile", "--norc", "-c", "x"}));
  }
  {
    ShellEnv e("/bin/ZSH");
    EXPECT_EQ(shell_argv("x"), (std::vector<std::string>{"/bin/ZSH", "--no-rcs", "-c", "x"}));
  }
  {
    ShellEnv e("/opt/fish");
    EXPECT_EQ(shell_argv("x"), (std::vector<std::string>{"/opt/fish", "--no-config", "-c", "x"}));
  }
  {
    ShellEnv e("/bin/dash");
    EXPECT_EQ(shell_argv("x"), (std::vector<std::string>{"/bin/dash", "-c", "x"}));
  }
}

TEST(RunShell, ExitCodes) {
  ShellEnv e("/bin/sh");
  auto ok = run_shell("true", {});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->exit_code, 0);
  EXPECT_EQ(ok->signal, 0);
  EXPECT_FALSE(ok->interrupted);
  auto three = run_shell("exit 3", {});
  ASSERT_TRUE(three);
  EXPECT_EQ(three->exit_code, 3);
  auto missing = run_shell("definitely-not-a-command-dvx 2>/dev/null", {});
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->exit_code, 127);
}

TEST(RunShell, KilledBySignal) {
  ShellEnv e("/bin/sh");
  auto r = run_shell("kill -KILL $$", {});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(r->exit_code, 128 + SIGKILL);
  EXPECT_FALSE(r->interrupted);
}

TEST(RunShell, CancelStopsTheWholeGroupWithoutRecordingAnInterrupt) {
  ShellEnv e("/bin/sh");
  std::atomic<bool> cancel{false};
  RunOptions o;
  o.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    cancel = true;
  });
  auto t0 = std::chrono::steady_clock::now();
  // a child of the shell that ignores nothing: it must go with the group
  auto r = run_shell("sleep 30 & sleep 30; wait", o);
  t.join();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->cancelled);
  EXPECT_FALSE(r->interrupted);
  EXPECT_EQ(r->signal, SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(interrupt_signal(), 0);
  // with the flag clear again, a command runs normally
  cancel = false;
  auto fine = run_shell("true", o);
  ASSERT_TRUE(fine);
  EXPECT_FALSE(fine->cancelled);
}

TEST(RunShell, CwdEnvAndRedirection) {
  ShellEnv e("/bin/sh");
  TempDir t;
  ::mkdir((t / "sub").c_str(), 0755);
  ::setenv("DVX_PROC_TEST_KEEP", "kept", 1);
  ::setenv("DVX_PROC_TEST_REPL", "old", 1);
  RunOptions o;
  o.cwd = t / "sub";
  o.env = {{"DVX_PROC_TEST_REPL", "new"}, {"DVX_PROC_TEST_ADD", "a b"}};
  std::string out;
  auto r = run_capture(t, "pwd; echo $DVX_PROC_TEST_KEEP $DVX_PROC_TEST_REPL \"$DVX_PROC_TEST_ADD\"; "
                          "env | grep -c '^DVX_PROC_TEST_REPL='",
                       &out, o);
  EXPECT_EQ(r.exit_code, 0);
  char real[4096];
  ASSERT_TRUE(::realpath((t / "sub").c_str(), real));
  EXPECT_EQ(out, std::string(real) + "\nkept new a b\n1\n");
  ::unsetenv("DVX_PROC_TEST_KEEP");
  ::unsetenv("DVX_PROC_TEST_REPL");
}

TEST(RunShell, StderrRedirectedSeparately) {
  ShellEnv e("/bin/sh");
  TempDir t;
  int out = ::open((t / "o").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  int err = ::open((t / "e").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  RunOptions o;
  o.stdout_fd = out;
  o.stderr_fd = err;
  auto r = run_shell("echo to-out; echo to-err >&2", o);
  ::close(out);
  ::close(err);
  ASSERT_TRUE(r);
  EXPECT_EQ(tu::read_file(t / "o"), "to-out\n");
  EXPECT_EQ(tu::read_file(t / "e"), "to-err\n");
}

TEST(RunShell, OtherDescriptorsClosedInChild) {
  ShellEnv e("/bin/sh");
  TempDir t;
  int leaked = ::open((t / "x").c_str(), O_WRONLY | O_CREAT, 0644);  // no O_CLOEXEC
  std::string out;
  std::string fd = std::to_string(leaked);
  run_capture(t, "if [ -e /proc/self/fd/" + fd + " ]; then echo open; else echo closed; fi", &out);
  ::close(leaked);
  EXPECT_EQ(out, "closed\n");
}

TEST(RunShell, MissingCwdIsAnError) {
  ShellEnv e("/bin/sh");
  TempDir t;
  RunOptions o;
  o.cwd = t / "nope";
  auto r = run_shell("true", o);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST(RunShell, MissingShellIsAnError) {
  ShellEnv e("/nonexistent/dvx-shell");
  auto r = run_shell("true", {});
  EXPECT_FALSE(r);
}

TEST(RunShell, ConcurrentFromThreads) {
  ShellEnv e("/bin/sh");
  TempDir t;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 5; ++k) {
        RunOptions o;
        o.env = {{"N", std::to_string(i)}};
        auto r = run_shell("sleep 0.05; echo $N > " + t.path() + "/f" + std::to_string(i) + "; exit $N", o);
        if (r && r->exit_code == i && !r->interrupted) ++good;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 40);
  for (int i = 0; i < 8; ++i)
    EXPECT_EQ(tu::read_file(t / ("f" + std::to_string(i))), std::to_string(i) + "\n");
}

// Waits until `path` is non-empty (the command started), up to 5 s.
std::string wait_for_file(const std::string& path) {
  for (int i = 0; i < 500; ++i) {
    std::string s = tu::read_file(path);
    if (!s.empty() && s.back() == '\n') return s;
    std::this_thread::sleep_for(10ms);
  }
  return "";
}

TEST(RunShell, InterruptForwardedToWholeGroup) {
  ShellEnv e("/bin/sh");
  TempDir t;
  install_interrupt_handlers();
  clear_interrupt();
  std::string pidfile = t / "pid";
  // The background sleep ignores SIGINT (non-interactive shells do that for `&` jobs): it is
  // stopped by the SIGTERM escalation.
  RunOptions o;
  o.term_after = 300ms;
  o.kill_after = 1000ms;
  std::thread killer([&] {
    if (wait_for_file(pidfile).empty()) return;
    ::kill(::getpid(), SIGINT);
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run_shell("sleep 30 & echo $$ > " + pidfile + "; sleep 30; wait", o);
  auto took = std::chrono::steady_clock::now() - start;
  killer.join();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->interrupted);
  EXPECT_NE(r->exit_code, 0);
  EXPECT_EQ(interrupt_signal(), SIGINT);
  EXPECT_LT(took, 3s);
  pid_t pg = std::atoi(tu::read_file(pidfile).c_str());
  ASSERT_GT(pg, 0);
  EXPECT_FALSE(group_alive(pg));

  // A recorded interrupt stops further commands from starting.
  auto again = run_shell("true", {});
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::cancelled);
  clear_interrupt();
  EXPECT_EQ(interrupt_signal(), 0);
}

TEST(RunShell, StubbornGroupIsKilled) {
  ShellEnv e("/bin/sh");
  TempDir t;
  install_interrupt_handlers();
  clear_interrupt();
  std::string pidfile = t / "pid";
  RunOptions o;
  o.term_after = 200ms;
  o.kill_after = 400ms;
  std::thread killer([&] {
    if (wait_for_file(pidfile).empty()) return;
    ::kill(::getpid(), SIGTERM);
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run_shell("trap '' INT TERM; echo $$ > " + pidfile + "; while :; do sleep 0.05; done", o);
  auto took = std::chrono::steady_clock::now() - start;
  killer.join();
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->interrupted);
  EXPECT_EQ(r->signal, SIGKILL);
  EXPECT_EQ(interrupt_signal(), SIGTERM);
  EXPECT_LT(took, 3s);
  pid_t pg = std::atoi(tu::read_file(pidfile).c_str());
  EXPECT_FALSE(group_alive(pg));
  clear_interrupt();
}

TEST(RunShell, InterruptReachesEveryConcurrentCommand) {
  ShellEnv e("/bin/sh");
  TempDir t;
  install_interrupt_handlers();
  clear_interrupt();
  std::vector<std::thread> threads;
  std::atomic<int> interrupted{0};
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      // `exec`: no moment where the shell has forked `sleep` but the signal reached only the
      // shell (then `sleep` outlives it until the SIGTERM escalation, 3 s later).
      auto r = run_shell("echo > " + t.path() + "/s" + std::to_string(i) + "; exec sleep 30", {});
      if (r && r->interrupted && r->signal == SIGINT) ++interrupted;
    });
  }
  for (int i = 0; i < 4; ++i) ASSERT_FALSE(wait_for_file(t / ("s" + std::to_string(i))).empty());
  auto start = std::chrono::steady_clock::now();
  ::kill(::getpid(), SIGINT);
  for (auto& th : threads) th.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(interrupted.load(), 4);
  clear_interrupt();
}

}  // namespace
}  // namespace dvx::platform
