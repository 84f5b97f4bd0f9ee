// Implicit resolution of plain YAML scalars (ruamel.yaml's VersionedResolver, YAML 1.2), shared by
// the reader and the emitter (which quotes a string that would read back as another type).
// Internal to formats/. Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string_view>

namespace dvx::yaml::detail {

enum class Implicit { str, null, boolean, integer, floating, timestamp, other };

// What a plain scalar's text resolves to.
Implicit resolve(std::string_view t);
// Converts an integer text matched by resolve() as integer; false when it has no digits or overflows.
bool parse_int(std::string_view t, int64_t& out);
// The value of a text resolve() matched as floating (underscores allowed, .inf/.nan).
double parse_float(std::string_view t);

}  // namespace dvx::yaml::detail

#include <optional>

#include "dvx/formats/limits.h"
#include "dvx/formats/yaml.h"

namespace dvx::yaml::detail {

// Makes `n` the value of an untagged plain scalar: null, bool, int (a float past int64, keeping
// the text), float, timestamp (kept as text) or string.
void type_plain_scalar(Node& n, std::string_view v);
// Reads a document written in the simple block style (yaml_block.cpp); nullopt when the text
// uses anything else, or is invalid, or passes a limit: then the full reader must read it.
std::optional<Node> read_block_subset(std::string_view text, const formats::ParseLimits& limits);
// The full reader (yaml-cpp), without the block fast path (tests compare the two).
Result<Node> parse_full(std::string_view text, const std::string& filename, const formats::ParseLimits& limits);

}  // namespace dvx::yaml::detail
