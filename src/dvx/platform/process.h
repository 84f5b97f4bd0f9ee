// Running stage commands: `$SHELL -c <line>` in its own process group, with the caller's
// environment plus extra variables, output passed through or redirected to a file descriptor,
// and SIGINT/SIGTERM forwarded to the whole group (Ctrl-C stops the command and its children).
// Exception: when stdin is a terminal and dvx is its foreground job, the command stays in dvx's
// group, so that it can read the terminal and gets Ctrl-C from it directly (a group of its own
// would be stopped by SIGTTIN when reading); SIGTERM to dvx then reaches the shell only.
// Thread-safety: run_shell() may be called from several threads at once (parallel stages);
// the interrupt flag is process-wide.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::platform {

struct RunOptions {
  std::string cwd;                                         // working directory ("" = current)
  std::vector<std::pair<std::string, std::string>> env;    // added to / replacing the environment
  int stdout_fd = -1, stderr_fd = -1;                      // -1: inherit
  // After an interrupt (which is forwarded to the group at once): SIGTERM to the group this long
  // after it, SIGKILL this long after it, while anything of the group is still alive.
  std::chrono::milliseconds term_after{3000};
  std::chrono::milliseconds kill_after{6000};
  // When this becomes true while the command runs (checked every 200 ms): SIGTERM to its group,
  // SIGKILL kill_after later if anything of it is still alive. Not an interrupt: nothing is
  // recorded process-wide (parallel repro stops the other stages when one fails).
  const std::atomic<bool>* cancel = nullptr;
};

struct RunResult {
  int exit_code = 0;    // exit status, or 128+signal when killed by a signal
  int signal = 0;       // the signal that killed it, 0 when it exited
  bool interrupted = false;  // an interrupt (SIGINT/SIGTERM to dvx) arrived while it ran
  bool cancelled = false;    // RunOptions::cancel was set while it ran (and it was stopped)
};

// argv for running one command line through the user's shell as DVC does: $SHELL -c (bash
// gets --noprofile --norc, zsh --no-rcs, fish --no-config; the shell's base name compared
// case-insensitively), /bin/sh when SHELL is unset or empty.
std::vector<std::string> shell_argv(const std::string& command_line);

// Runs one command line; returns when it (its direct child) finished. After an interrupt it
// returns once the whole group is gone (or SIGKILL was sent and a short grace passed).
// Errors only when it could not be started: cwd missing (not_found), spawn failure (io), or an
// interrupt already recorded before the start (cancelled; nothing is run).
// stdin is inherited; other descriptors than 0-2 are closed in the child (DVC's close_fds).
Result<RunResult> run_shell(const std::string& command_line, const RunOptions& opts);

// A process started to run on its own (queue workers, queued experiment runs), not a stage
// command: no shell, no interrupt forwarding. Descriptors 0-2 as given (-1: /dev/null), the
// descriptors in `keep_fds` inherited (e.g. a lock that must outlive the parent), every other one
// closed on exec. With `new_session` it is detached from the terminal (setsid); otherwise it leads
// a process group of its own, so that signalling the group reaches everything it started.
struct SpawnOptions {
  std::string cwd;  // "" = current
  int stdout_fd = -1, stderr_fd = -1;
  std::vector<int> keep_fds;
  bool new_session = false;
};
// Starts argv[0] (a path) with argv; returns its pid (also its process group id).
Result<int64_t> spawn_process(const std::vector<std::string>& argv, const SpawnOptions& opts);
// Waits for a child; its exit status, or 128+signal when a signal killed it.
Result<int> wait_process(int64_t pid);
// The running executable's absolute path (/proc/self/exe).
std::string self_exe();
// Sends `sig` to a process group; false when no such group exists.
bool signal_group(int64_t pgid, int sig);

// Installs the SIGINT/SIGTERM handlers that forward to running command groups and record the
// interrupt; idempotent. Until a command runs, an interrupt only sets the flag. Without them an
// interrupt kills dvx by default and leaves the command's group running.
void install_interrupt_handlers();

// Keeps large blocks that the process frees in its heap for reuse, instead of handing them back
// to the kernel (which maps and zeroes fresh pages on the next large allocation): for commands
// that build and drop many large buffers (plots over big data files). Process-wide, glibc only
// (a no-op elsewhere).
void retain_freed_memory();
// Grows the heap in large steps (16 MiB of address space; pages are still only mapped when
// touched) and keeps that much at its top when memory is freed: a short command that builds a
// few MiB of small objects (a pipeline's index) takes one brk and no trim/re-fault cycles
// instead of dozens. Process-wide, for the CLI's main; glibc only (a no-op elsewhere).
void grow_heap_in_large_steps();
// Whether an interrupt arrived since install_interrupt_handlers(); the signal number or 0.
int interrupt_signal();
// Forgets a recorded interrupt (tests; a caller that has fully handled it).
void clear_interrupt();

}  // namespace dvx::platform
