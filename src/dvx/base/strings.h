// Small string helpers with no DVC knowledge. Thread-safe (pure functions).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace dvx {

std::vector<std::string> split(std::string_view s, char sep);
std::string_view trim(std::string_view s);
std::string join(const std::vector<std::string>& parts, std::string_view sep);
std::string to_lower(std::string_view s);
bool is_hex(std::string_view s);
// Lower-case hex of raw bytes.
std::string to_hex(const unsigned char* data, size_t n);
// Python-like repr of a string list: ['a', 'b'] (used in DVC messages).
std::string python_list_repr(const std::vector<std::string>& items);
// Quote for a POSIX shell only when needed (like Python's shlex.quote).
std::string shell_quote(std::string_view s);
// "1 file" / "2 files".
std::string plural(int64_t n, std::string_view singular, std::string_view plural_form);

}  // namespace dvx
