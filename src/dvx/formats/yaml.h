// Ordered YAML document model, a YAML 1.2 reader and a byte-exact writer in the style of
// ruamel.yaml as DVC configures it (formats.md §1).
// Thread-safety: Node is a plain value; parse() and emit() are reentrant pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/limits.h"

namespace dvx::yaml {

// One YAML value: null, bool, int, float, string, sequence or mapping (keys in document order).
struct Node {
  enum class Kind { null, boolean, integer, floating, string, sequence, mapping };

  Kind kind = Kind::null;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  // The string value; for an integer or float read from a file, its source text (re-emitted as is
  // when it is not the canonical form, like ruamel's round trip does).
  std::string s;
  std::vector<Node> seq;
  std::vector<std::pair<std::string, Node>> map;
  // Collection written in flow style ("[1, 2]") in the source; emit() keeps that style.
  bool flow = false;
  // A plain scalar that YAML resolves to a timestamp (2001-01-01): kept as a string, written plain.
  bool timestamp = false;
  int line = 0, column = 0;  // 1-based position in the source, 0 when built in code

  // Declared here and defaulted below the class, where Node is complete: clang instantiates the
  // (constexpr) members of std::vector<std::pair<std::string, Node>> eagerly otherwise, and
  // rejects the incomplete element type (libstdc++ 12, C++23).
  Node() = default;
  Node(const Node&);
  Node(Node&&) noexcept;
  Node& operator=(const Node&);
  Node& operator=(Node&&) noexcept;
  ~Node();

  // A null value.
  static Node null();
  // A boolean value.
  static Node boolean(bool v);
  // An integer value.
  static Node integer(int64_t v);
  // A float value (written in Python repr form).
  static Node floating(double v);
  // A string value.
  static Node str(std::string v);
  // An empty sequence.
  static Node sequence();
  // An empty mapping.
  static Node mapping();

  bool is_null() const { return kind == Kind::null; }
  bool is_string() const { return kind == Kind::string; }
  bool is_mapping() const { return kind == Kind::mapping; }
  bool is_sequence() const { return kind == Kind::sequence; }

  // The value of a mapping key, nullptr when absent or when this is not a mapping.
  Node* find(std::string_view key);
  // The value of a mapping key, nullptr when absent or when this is not a mapping.
  const Node* find(std::string_view key) const;
  // Replaces the value of a key in place, or appends the key at the end; makes a null node a mapping.
  Node& set(std::string_view key, Node value);
  // Removes a key; returns whether it was present.
  bool erase(std::string_view key);
  // Appends an element; makes a null node a sequence.
  Node& push_back(Node value);

  // Name of the kind for messages ("a mapping", "a string", ...).
  static const char* kind_name(Kind k);
};

inline Node::Node(const Node&) = default;
inline Node::Node(Node&&) noexcept = default;
inline Node& Node::operator=(const Node&) = default;
inline Node& Node::operator=(Node&&) noexcept = default;
inline Node::~Node() = default;

// Python truthiness: false for null, false, 0, 0.0, "" and empty collections.
bool truthy(const Node& n);

// Python-style equality of values (1 == 1.0 == true, mapping key order ignored, positions ignored).
bool equal(const Node& a, const Node& b);

// Parses one YAML document with YAML 1.2 core-schema semantics as DVC's ruamel loader
// (formats.md §8): yes/no/on/off are strings, quoted scalars are strings, an empty document is
// null. Errors (syntax, duplicate keys, several documents) read "'<file>':<line>:<col>: <what>".
// Work is bounded by formats::k_parse_limits (aliases expanded; formats/limits.h): a document
// past a limit fails at the position where it was passed, before the memory is spent.
Result<Node> parse(std::string_view text, const std::string& filename);
// The same with other limits (tests).
Result<Node> parse(std::string_view text, const std::string& filename, const formats::ParseLimits& limits);

// Writes a document byte for byte as DVC's ruamel.yaml dumper would (block style, 80-column
// folding, ruamel quoting rules); the text ends with one "\n".
std::string emit(const Node& doc);

// How emit() writes one string scalar as a block value (plain, 'single' or "double"), without folding.
std::string quote_scalar(std::string_view s);

// The YAML text of a float: Python repr, with .inf, -.inf and .nan for non-finite values.
std::string float_text(double v);

// Applies `updated` onto `target` the way DVC's apply_diff() does: equal values keep their
// original representation and position, changed ones are replaced in place, new keys are
// appended, missing keys removed, a sequence whose length changed is replaced wholesale.
void apply_diff(const Node& updated, Node& target);

}  // namespace dvx::yaml
