// SHA-256 of a byte string (run-cache keys), hex encoded.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace dvx::hash {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

}  // namespace dvx::hash
