// UTF-8 <-> code point helpers shared by the YAML and JSON writers.
// Invalid bytes decode as Python's "surrogateescape" code points (U+DC80 + byte), so that
// non-UTF-8 file names serialise the way DVC (Python) serialises them.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace dvx::formats {

// Decodes UTF-8 into code points; each invalid byte b >= 0x80 becomes U+DC00 + b.
std::u32string utf8_decode(std::string_view s);

// Appends the UTF-8 form of one code point (surrogateescape code points become their raw byte).
void utf8_append(std::string& out, char32_t cp);

// Encodes code points as UTF-8 (inverse of utf8_decode).
std::string utf8_encode(std::u32string_view s);

// Python's strict UTF-8 decoding succeeds: no invalid bytes, overlong forms, surrogates or code
// points past U+10FFFF.
bool is_valid_utf8(std::string_view s);
// Terminal cells a text takes, as Python's rich/tabulate count them: East Asian Wide and
// Fullwidth characters 2, combining marks and zero-width characters 0, others 1.
size_t display_width(std::string_view s);

}  // namespace dvx::formats
