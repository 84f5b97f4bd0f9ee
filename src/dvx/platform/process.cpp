#include "dvx/platform/process.h"

#include <dirent.h>
#include <malloc.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

extern char** environ;

namespace dvx::platform {

namespace {

// Process groups of the commands running now; the signal handler walks this table with kill(2)
// only. A slot is 0 when free. More than kSlots concurrent commands still run: the waiting
// thread forwards the interrupt itself when it notices it.
constexpr int kSlots = 256;
std::atomic<pid_t> g_groups[kSlots];
std::atomic<int> g_interrupt{0};
std::atomic<bool> g_installed{false};

extern "C" void on_interrupt(int sig) {
  int saved = errno;
  g_interrupt.store(sig, std::memory_order_relaxed);
  for (int i = 0; i < kSlots; ++i) {
    pid_t pg = g_groups[i].load(std::memory_order_relaxed);
    if (pg > 0) ::kill(-pg, sig);      // a command in its own group: the whole group
    else if (pg < 0) ::kill(-pg, sig);  // a command in dvx's foreground group: the shell itself
  }
  errno = saved;
}

int register_group(pid_t pg) {
  for (int i = 0; i < kSlots; ++i) {
    pid_t expected = 0;
    if (g_groups[i].compare_exchange_strong(expected, pg)) return i;
  }
  return -1;
}

void unregister_group(int slot) {
  if (slot >= 0) g_groups[slot].store(0);
}

// Whether any process of group `pg` other than `except` is alive (not a zombie), from /proc.
bool group_has_live_members(pid_t pg, pid_t except) {
  DIR* d = ::opendir("/proc");
  if (!d) return ::kill(-pg, 0) == 0;  // no /proc: the best available answer
  bool found = false;
  while (dirent* e = ::readdir(d)) {
    if (!std::isdigit(static_cast<unsigned char>(e->d_name[0]))) continue;
    pid_t pid = static_cast<pid_t>(std::atol(e->d_name));
    if (pid == except) continue;
    std::string path = std::string("/proc/") + e->d_name + "/stat";
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[512];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) continue;
    buf[n] = '\0';
    // "pid (comm) state ppid pgrp ..." — comm may hold spaces and parentheses: use the last ')'.
    char* rp = std::strrchr(buf, ')');
    if (!rp) continue;
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (std::sscanf(rp + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pg && state != 'Z' && state != 'X') {
      found = true;
      break;
    }
  }
  ::closedir(d);
  return found;
}

int pidfd_open_compat(pid_t pid) {
#ifdef SYS_pidfd_open
  long fd = ::syscall(SYS_pidfd_open, pid, 0);
  return fd < 0 ? -1 : static_cast<int>(fd);
#else
  (void)pid;
  return -1;
#endif
}

// Waits up to `ms` for the child to exit without reaping it; true when it has exited.
bool wait_exit(int pidfd, pid_t pid, int ms) {
  if (pidfd >= 0) {
    pollfd p{pidfd, POLLIN, 0};
    int r = ::poll(&p, 1, ms);
    return r > 0;
  }
  // No pidfd: poll with waitid(WNOWAIT), which leaves the child a zombie for the final reap.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  int step = 1;
  for (;;) {
    siginfo_t info{};
    int r = ::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && info.si_pid == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // gone (ECHILD): let the reap report it
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(step));
    step = std::min(step * 2, 50);
  }
}

std::vector<std::string> build_env(const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> out;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string_view key = kv.substr(0, kv.find('='));
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](auto& p) { return p.first == key; });
    if (!replaced) out.emplace_back(kv);
  }
  for (auto& [k, v] : extra) {
    // A later duplicate key wins, as with a dict update.
    auto it = std::find_if(out.begin(), out.end(), [&](const std::string& s) {
      return s.size() > k.size() && s.compare(0, k.size(), k) == 0 && s[k.size()] == '=';
    });
    if (it != out.end()) *it = k + "=" + v;
    else out.push_back(k + "=" + v);
  }
  return out;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  out.reserve(v.size() + 1);
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct SpawnAttrs {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnAttrs() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  ~SpawnAttrs() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnAttrs(const SpawnAttrs&) = delete;
  SpawnAttrs& operator=(const SpawnAttrs&) = delete;
};

}  // namespace

std::vector<std::string> shell_argv(const std::string& command_line) {
  const char* env_shell = std::getenv("SHELL");
  std::string shell = env_shell && *env_shell ? env_shell : "/bin/sh";
  std::string name = shell.substr(shell.rfind('/') == std::string::npos ? 0 : shell.rfind('/') + 1);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::vector<std::string> argv{shell};
  if (name == "bash") {
    argv.push_back("--noprofile");
    argv.push_back("--norc");
  } else if (name == "zsh") {
    argv.push_back("--no-rcs");
  } else if (name == "fish") {
    argv.push_back("--no-config");
  }
  argv.push_back("-c");
  argv.push_back(command_line);
  return argv;
}

Result<RunResult> run_shell(const std::string& command_line, const RunOptions& opts) {
  if (int sig = interrupt_signal(); sig != 0)
    return fail(ErrorCode::cancelled, "interrupted before running '" + command_line + "'");
  if (!opts.cwd.empty()) {
    struct stat st;
    if (::stat(opts.cwd.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return fail(ErrorCode::not_found, "working directory '" + opts.cwd + "' does not exist");
  }

  std::vector<std::string> argv = shell_argv(command_line);
  std::vector<std::string> envv = build_env(opts.env);
  std::vector<char*> c_argv = c_strings(argv), c_env = c_strings(envv);

  SpawnAttrs sa;
  sigset_t defaults, empty;
  sigemptyset(&empty);
  sigemptyset(&defaults);
  for (int s : {SIGINT, SIGTERM, SIGPIPE, SIGXFSZ}) sigaddset(&defaults, s);
  posix_spawnattr_setsigdefault(&sa.attr, &defaults);
  posix_spawnattr_setsigmask(&sa.attr, &empty);
  // On a terminal where dvx is the foreground job, the command stays in dvx's group so that it
  // can read the terminal (in a group of its own it would be stopped by SIGTTIN) and Ctrl-C
  // reaches it directly, as with DVC. Elsewhere (CI, scripts, tests) it gets its own group, to
  // which SIGINT/SIGTERM sent to dvx are forwarded.
  bool foreground = ::isatty(STDIN_FILENO) && ::tcgetpgrp(STDIN_FILENO) == ::getpgrp();
  short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
  if (!foreground) {
    posix_spawnattr_setpgroup(&sa.attr, 0);
    flags |= POSIX_SPAWN_SETPGROUP;
  }
  posix_spawnattr_setflags(&sa.attr, flags);
  if (!opts.cwd.empty()) posix_spawn_file_actions_addchdir_np(&sa.actions, opts.cwd.c_str());
  if (opts.stdout_fd >= 0) posix_spawn_file_actions_adddup2(&sa.actions, opts.stdout_fd, 1);
  if (opts.stderr_fd >= 0) posix_spawn_file_actions_adddup2(&sa.actions, opts.stderr_fd, 2);
  posix_spawn_file_actions_addclosefrom_np(&sa.actions, 3);

  pid_t pid = 0;
  // posix_spawnp resolves the shell on the caller's PATH, as Popen does.
  int err = ::posix_spawnp(&pid, c_argv[0], &sa.actions, &sa.attr, c_argv.data(), c_env.data());
  if (err != 0) return fail_errno("failed to run '" + argv[0] + "'", err);

  // glibc's posix_spawn returns after the child's exec (or failure), so the group exists now.
  int slot = register_group(foreground ? -pid : pid);
  // Signals go to the group, or to the shell alone when it shares dvx's group.
  auto signal_command = [&](int sig) { ::kill(foreground ? pid : -pid, sig); };
  int pidfd = pidfd_open_compat(pid);
  RunResult res;

  using clock = std::chrono::steady_clock;
  bool exited = false;
  clock::time_point interrupted_at;
  bool term_sent = false, kill_sent = false;
  clock::time_point kill_sent_at;
  for (;;) {
    int sig = g_interrupt.load();
    if (sig != 0 && !res.interrupted && !res.cancelled) {
      res.interrupted = true;
      interrupted_at = clock::now();
      // The handler may have run before this group was registered (or the table was full).
      signal_command(sig);
    }
    if (opts.cancel && !res.interrupted && !res.cancelled && opts.cancel->load() && !exited) {
      res.cancelled = true;
      interrupted_at = clock::now();
      signal_command(SIGTERM);
      term_sent = true;
    }
    bool stopping = res.interrupted || res.cancelled;
    if (!exited) exited = wait_exit(pidfd, pid, stopping ? 50 : 200);
    if (!stopping) {
      if (exited) break;
      continue;
    }
    // Interrupted or cancelled: wait for the whole group, escalating.
    if (exited && (foreground || !group_has_live_members(pid, pid))) break;
    auto elapsed = clock::now() - interrupted_at;
    if (!term_sent && elapsed >= opts.term_after) {
      signal_command(SIGTERM);
      term_sent = true;
    }
    if (!kill_sent && elapsed >= opts.kill_after) {
      signal_command(SIGKILL);
      kill_sent = true;
      kill_sent_at = clock::now();
    }
    if (kill_sent && exited && clock::now() - kill_sent_at >= std::chrono::seconds(1)) break;
    if (exited) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  // Unregister before reaping: once reaped, the group id may be reused by an unrelated process.
  unregister_group(slot);
  if (pidfd >= 0) ::close(pidfd);

  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r < 0) return fail_errno("failed to wait for '" + argv[0] + "'", errno);
  if (WIFEXITED(status)) {
    res.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    res.signal = WTERMSIG(status);
    res.exit_code = 128 + res.signal;
  }
  if (g_interrupt.load() != 0) {
    res.interrupted = true;
    res.cancelled = false;
  }
  return res;
}

void install_interrupt_handlers() {
  bool expected = false;
  if (!g_installed.compare_exchange_strong(expected, true)) return;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = 0;  // no SA_RESTART: a blocking wait in the receiving thread sees EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

int interrupt_signal() { return g_interrupt.load(); }

void clear_interrupt() { g_interrupt.store(0); }

void grow_heap_in_large_steps() {
#if defined(__GLIBC__)
  mallopt(M_TOP_PAD, 16 << 20);
#endif
}

void retain_freed_memory() {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 256 << 20);  // blocks up to 256 MiB come from (and go back to) the heap
  mallopt(M_TRIM_THRESHOLD, 512 << 20);  // and the heap's top is not trimmed below that
#endif
}

Result<int64_t> spawn_process(const std::vector<std::string>& argv_in, const SpawnOptions& opts) {
  if (argv_in.empty()) return fail(ErrorCode::invalid_argument, "nothing to run");
  std::vector<std::string> argv = argv_in;
  std::vector<char*> c_argv = c_strings(argv);
  int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (devnull < 0) return fail_errno("failed to open /dev/null", errno);
  int out = opts.stdout_fd >= 0 ? opts.stdout_fd : devnull;
  int err = opts.stderr_fd >= 0 ? opts.stderr_fd : devnull;
  const char* cwd = opts.cwd.empty() ? nullptr : opts.cwd.c_str();
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    ::close(devnull);
    return fail_errno("failed to start '" + argv[0] + "'", e);
  }
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    if (opts.new_session) ::setsid();
    else ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGPIPE, SIG_DFL);
    if (::dup2(devnull, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(err, 2) < 0) ::_exit(127);
    for (int fd : opts.keep_fds) {
      int flags = ::fcntl(fd, F_GETFD);
      if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
    if (cwd && ::chdir(cwd) != 0) ::_exit(127);
    ::execv(c_argv[0], c_argv.data());
    ::_exit(127);
  }
  ::close(devnull);
  ::setpgid(pid, pid);  // also from the parent: no window where signalling the group misses it
  return static_cast<int64_t>(pid);
}

Result<int> wait_process(int64_t pid) {
  int status = 0;
  for (;;) {
    pid_t r = ::waitpid(static_cast<pid_t>(pid), &status, 0);
    if (r >= 0) break;
    if (errno != EINTR) return fail_errno("failed to wait for process " + std::to_string(pid), errno);
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return 255;
}

std::string self_exe() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  return std::string(buf, static_cast<size_t>(n));
}

bool signal_group(int64_t pgid, int sig) {
  if (pgid <= 1) return false;
  return ::kill(-static_cast<pid_t>(pgid), sig) == 0;
}

}  // namespace dvx::platform
