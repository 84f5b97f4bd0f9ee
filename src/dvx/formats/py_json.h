// JSON text exactly as Python's json.dumps() writes it (DVC's --json outputs, .dir manifests and
// stage checksums depend on these bytes).
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace dvx::formats {

// json.dumps(v[, sort_keys=True]): separators ", " and ": ", ensure_ascii escapes, floats in
// Python repr (NaN, Infinity), keys in the object's order (or by code point with sort_keys).
std::string py_json_dumps(const nlohmann::ordered_json& v, bool sort_keys = false);

// json.dumps(v, indent=indent): one element per line, separators "," and ": ", empty
// containers as [] and {}.
std::string py_json_dumps_indent(const nlohmann::ordered_json& v, int indent = 2);

// Appends a JSON string literal with ensure_ascii escaping (\uXXXX lower-case, surrogate pairs).
void py_json_append_string(std::string& out, std::string_view utf8);

// The text of a float as json.dumps writes it (Python repr; NaN, Infinity, -Infinity).
std::string py_json_float(double v);

// Appends json.dumps(v) (compact form) to `out`.
void py_json_append(std::string& out, const nlohmann::ordered_json& v);

// A value holding JSON text made elsewhere, in json.dumps's compact form (separators ", " and
// ": "): py_json_dumps writes the text as it is, py_json_dumps_indent lays it out like the value
// it stands for (no sort_keys inside it). Lets a large part of a document (plot rows) be written
// once, without a tree of values. Other JSON writers see a binary value.
nlohmann::ordered_json py_json_raw(std::string_view compact_text);

}  // namespace dvx::formats
