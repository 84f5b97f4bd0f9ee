// SHA-256 of a byte string (run-cache keys, S3 request signing), hex encoded; HMAC-SHA256;
// RSASSA-PKCS1-v1_5 with SHA-256 (RS256: Google service-account tokens).
// Thread-safety: pure function.
#pragma once

#include <string>
#include <string_view>

#include "dvx/base/result.h"

namespace dvx::hash {

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);
// Raw 32-byte HMAC-SHA256 of `data` under `key` (AWS SigV4).
std::string hmac_sha256(std::string_view key, std::string_view data);
// Raw RS256 signature of `data` with a PEM private key (PKCS#8 or PKCS#1). The error never
// quotes the key.
Result<std::string> rsa_sha256_sign(std::string_view pem_private_key, std::string_view data);

}  // namespace dvx::hash
