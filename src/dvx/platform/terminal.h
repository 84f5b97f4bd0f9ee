// Asking the user on the controlling terminal: a secret (password, passphrase) typed with echo
// off, as getpass(3) does, never from stdin (which may be data or a pipe in CI).
// Thread-safety: one prompt at a time per process (the caller serializes).
#pragma once

#include <string>

#include "dvx/base/result.h"

namespace dvx::platform {

// Writes `prompt` to /dev/tty, reads one line with echo off (restored afterwards, then a newline
// is written), and returns it without its line end. Errors: no controlling terminal
// (ErrorCode::auth), or the terminal was closed before a line ended.
Result<std::string> ask_secret(const std::string& prompt);

}  // namespace dvx::platform
