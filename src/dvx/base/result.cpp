#include "dvx/base/result.h"

#include <cerrno>
#include <cstring>

namespace dvx {

const char* error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::corruption: return "corruption";
    case ErrorCode::io: return "io";
    case ErrorCode::invalid_argument: return "invalid_argument";
    case ErrorCode::permission: return "permission";
    case ErrorCode::timeout: return "timeout";
    case ErrorCode::auth: return "auth";
    case ErrorCode::network: return "network";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::cancelled: return "cancelled";
  }
  return "unknown";
}

Error errno_error(const std::string& what, int err) {
  ErrorCode code = ErrorCode::io;
  if (err == ENOENT || err == ENOTDIR) code = ErrorCode::not_found;
  else if (err == EACCES || err == EPERM || err == EROFS) code = ErrorCode::permission;
  else if (err == EEXIST) code = ErrorCode::conflict;
  else if (err == EINVAL) code = ErrorCode::invalid_argument;
  else if (err == ETIMEDOUT) code = ErrorCode::timeout;
  return Error{code, what + ": " + std::strerror(err)};
}

}  // namespace dvx
