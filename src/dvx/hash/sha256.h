// SHA-256 of a byte string (run-cache keys, S3 request signing), hex encoded; HMAC-SHA256.
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

namespace dvx::hash {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key` (AWS SigV4).
std::string hmac_sha256(std::string_view key, std::string_view data);

}  // namespace dvx::hash
