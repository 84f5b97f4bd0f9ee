// An exception as DVC's encode_exception() reports it in --json outputs (metrics, params and
// plots alike): {"type": "<ExceptionClass>", "msg": "<text>"}.
// Thread-safety: a value type.
#pragma once

#include <string>

namespace dvx::metrics {

struct ErrorEntry {
  std::string type;  // Python class name: "FileNotFoundError", "JSONFileCorruptedError", ...
  std::string msg;   // str(exception)
  bool operator==(const ErrorEntry&) const = default;
};

// A missing file as Python reports it: "[Errno 2] No such file or directory: '<path>'".
inline ErrorEntry file_not_found(const std::string& path) {
  return {"FileNotFoundError", "[Errno 2] No such file or directory: '" + path + "'"};
}

}  // namespace dvx::metrics
