// Params data files (formats.md §8): YAML, JSON, TOML and Python (parsed, never executed),
// read into the same ordered yaml::Node model, and dotted-key lookup into them.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

enum class ParamsFormat { yaml, json, toml, python };

// Loader chosen by the lower-cased extension of `path`: .json, .toml, .py, anything else YAML.
ParamsFormat params_format(std::string_view path);

// Parses a params file's text. An empty YAML/JSON document is an empty mapping. Errors read
// "unable to read: '<filename>', YAML file structure is corrupted" (JSON/TOML/Python), followed
// by the parser's "file:line:col: what"; invalid UTF-8: "unable to read: '<filename>', is not
// valid utf-8". A Python module-level or class-level assignment's value carries the line of the
// assignment in Node::line. Work is bounded by formats::k_parse_limits like every reader.
Result<yaml::Node> parse_params(std::string_view text, const std::string& filename, ParamsFormat format);

// The value at a dotted key ("train.epochs", "layers.0" indexes a sequence); nullptr when absent.
const yaml::Node* find_dotted(const yaml::Node& doc, std::string_view dotted_key);

}  // namespace dvx::formats
