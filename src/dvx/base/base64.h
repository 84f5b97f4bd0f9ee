// Base64 (RFC 4648): the standard alphabet with padding, and the URL-safe one without padding
// (JWT). Used by cloud remotes (Azure keys and signatures, Google service-account tokens).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace dvx {

// `url` selects the URL-safe alphabet (- and _) and drops the '=' padding.
std::string base64_encode(std::string_view data, bool url = false);
// Decodes either alphabet, padded or not; spaces and newlines are skipped. nullopt when the
// text is not base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace dvx
