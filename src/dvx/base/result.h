// Result<T>: the error-carrying return type of every low layer.
// A small closed set of error codes; "absent" is std::optional, never an error.
// Thread-safety: plain values, no shared state.
#pragma once

#include <expected>
#include <string>
#include <utility>

namespace dvx {

enum class ErrorCode {
  not_found,
  corruption,
  io,
  invalid_argument,
  permission,
  timeout,
  auth,
  network,
  conflict,
  cancelled,
};

// Name of the code, for logs ("not_found", ...).
const char* error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::io;
  std::string message;  // git style: lowercase, no trailing full stop, says what failed first

  // True when repeating the operation could succeed (timeouts and network failures).
  bool retryable() const { return code == ErrorCode::timeout || code == ErrorCode::network; }
};

template <class T>
using Result = std::expected<T, Error>;

using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

// Error from errno (or an explicit errno value) with a message prefix: "<what>: <strerror>".
Error errno_error(const std::string& what, int err);
inline std::unexpected<Error> fail_errno(const std::string& what, int err) {
  return std::unexpected<Error>(errno_error(what, err));
}

}  // namespace dvx
