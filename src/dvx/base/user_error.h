// Exceptions for user-facing failures, thrown by upper layers (repo and above) and caught once,
// in main. Low layers return Result<T> instead.
#pragma once

#include <stdexcept>
#include <string>

namespace dvx {

// Exit codes of DVC 3 (cli.md §3).
enum class ExitCode : int {
  ok = 0,
  failure = 1,
  config = 251,
  interrupted = 252,
  not_a_repo = 253,
  bad_arguments = 254,
  error = 255,
};

// A failure reported to the user as "ERROR: <message>" with the given exit code.
class UserError : public std::runtime_error {
 public:
  explicit UserError(std::string message, ExitCode code = ExitCode::error)
      : std::runtime_error(std::move(message)), m_code(code) {}
  ExitCode code() const { return m_code; }

 private:
  ExitCode m_code;
};

}  // namespace dvx
