// Running stage commands: `$SHELL -c <line>` in its own process group, with the caller's
// environment plus extra variables, output passed through or redirected to a file descriptor,
// and SIGINT/SIGTERM forwarded to the whole group (Ctrl-C stops the command and its children).
// Thread-safety: run_shell() may be called from several threads at once (parallel stages);
// the interrupt flag is process-wide.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::platform {

struct RunOptions {
  std::string cwd;                                         // working directory ("" = current)
  std::vector<std::pair<std::string, std::string>> env;    // added to / replacing the environment
  int stdout_fd = -1, stderr_fd = -1;                      // -1: inherit
};

struct RunResult {
  int exit_code = 0;    // exit status, or 128+signal when killed by a signal
  int signal = 0;       // the signal that killed it, 0 when it exited
  bool interrupted = false;  // an interrupt (SIGINT/SIGTERM to dvx) arrived while it ran
};

// argv for running one command line through the user's shell as DVC does: $SHELL -c (bash
// gets --noprofile --norc, zsh --no-rcs, fish --no-config), /bin/sh when SHELL is unset.
std::vector<std::string> shell_argv(const std::string& command_line);

// Runs one command line; returns when it (its direct child) finished. Errors only when it
// could not be started.
Result<RunResult> run_shell(const std::string& command_line, const RunOptions& opts);

// Installs the SIGINT/SIGTERM handlers that forward to running command groups and record the
// interrupt; idempotent. Until a command runs, an interrupt only sets the flag.
void install_interrupt_handlers();
// Whether an interrupt arrived since install_interrupt_handlers(); the signal number or 0.
int interrupt_signal();

}  // namespace dvx::platform
