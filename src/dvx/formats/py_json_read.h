// Reading back JSON string literals as py_json writes them (py_json.h), for readers that take
// JSON text apart by hand (.dir manifests, plot rows kept as JSON text).
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dvx::formats {

// Reads the JSON string literal that starts at `pos` (its opening quote) into `out` and moves
// `pos` past it: the inverse of py_json_append_string (a lone \udc80..\udcff is the byte it
// escaped, surrogateescape). False on a malformed literal (`pos` then somewhere inside it).
bool py_json_read_string(std::string_view text, size_t& pos, std::string& out);

}  // namespace dvx::formats
