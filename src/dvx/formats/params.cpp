#include "dvx/formats/params.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <algorithm>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "dvx/formats/py_float.h"
#include "dvx/formats/unicode.h"

namespace dvx::formats {

using yaml::Node;

namespace {

Error corrupted(const std::string& filename, const char* kind, const std::string& detail) {
  std::string m = "unable to read: '" + filename + "', " + kind + " file structure is corrupted";
  if (!detail.empty()) m += "\n" + detail;
  return Error{ErrorCode::corruption, m};
}

// Nesting of brackets outside strings, so that a 100k-deep `[[[[` is refused before any parser
// recurses into it.
bool nesting_within(std::string_view text, uint32_t max_depth, size_t& where) {
  uint32_t depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '"' || c == '\'') quote = c;
    else if (c == '[' || c == '{' || c == '(') {
      if (++depth > max_depth) {
        where = i;
        return false;
      }
    } else if ((c == ']' || c == '}' || c == ')') && depth) {
      --depth;
    }
  }
  return true;
}

// ---- JSON ------------------------------------------------------------------------------------

Node from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return Node::null();
    case nlohmann::json::value_t::boolean: return Node::boolean(j.get<bool>());
    case nlohmann::json::value_t::number_integer: return Node::integer(j.get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Node::floating(static_cast<double>(u));
      return Node::integer(static_cast<int64_t>(u));
    }
    case nlohmann::json::value_t::number_float: return Node::floating(j.get<double>());
    case nlohmann::json::value_t::string: return Node::str(j.get<std::string>());
    case nlohmann::json::value_t::array: {
      Node n = Node::sequence();
      for (auto& e : j) n.seq.push_back(from_json(e));
      return n;
    }
    case nlohmann::json::value_t::object: {
      Node n = Node::mapping();
      for (auto& [k, v] : j.items()) n.set(k, from_json(v));
      return n;
    }
    default: return Node::null();
  }
}

Result<Node> parse_json(std::string_view text, const std::string& filename) {
  size_t where = 0;
  if (!nesting_within(text, k_parse_limits.max_depth, where))
    return std::unexpected(corrupted(filename, "JSON",
                                     position_of(text, where, filename) + "nesting deeper than " +
                                         std::to_string(k_parse_limits.max_depth) + " levels"));
  try {
    auto j = nlohmann::ordered_json::parse(text.begin(), text.end());
    if (j.is_null()) return Node::mapping();
    return from_json(j);
  } catch (const nlohmann::json::parse_error& e) {
    return std::unexpected(corrupted(filename, "JSON", position_of(text, e.byte ? e.byte - 1 : 0, filename) + e.what()));
  } catch (const nlohmann::json::exception& e) {
    // e.g. a number too large for a double (out_of_range.406; found by the params fuzz target)
    return std::unexpected(corrupted(filename, "JSON", "'" + filename + "': " + e.what()));
  }
}

// ---- TOML ------------------------------------------------------------------------------------

Node from_toml(const toml::node& n) {
  if (auto* t = n.as_table()) {
    Node m = Node::mapping();
    for (auto& [k, v] : *t) m.set(std::string(k.str()), from_toml(v));
    return m;
  }
  if (auto* a = n.as_array()) {
    Node s = Node::sequence();
    for (auto& v : *a) s.seq.push_back(from_toml(v));
    return s;
  }
  if (auto v = n.value<bool>(); n.is_boolean()) return Node::boolean(*v);
  if (n.is_integer()) return Node::integer(*n.value<int64_t>());
  if (n.is_floating_point()) return Node::floating(*n.value<double>());
  if (n.is_string()) return Node::str(*n.value<std::string>());
  // Dates and times: their TOML text, as tomlkit's str() gives it.
  std::ostringstream os;
  if (auto* d = n.as_date()) os << *d;
  else if (auto* t = n.as_time()) os << *t;
  else if (auto* dt = n.as_date_time()) os << *dt;
  return Node::str(os.str());
}

// Whether a quote at `i` starts a string: it stands where a key or value starts (at the start of
// a line or after '=', '[', '{', ',', spaces and tabs between), or after a dotted key's '.' where
// a key is read (`key_context`). Anywhere else the quote is inside another token (1x"""...,
// 2."...") that toml++ reads to its end, whitespace test and all.
bool opens_token(std::string_view t, size_t i, bool key_context) {
  while (i > 0 && (t[i - 1] == ' ' || t[i - 1] == '\t')) --i;
  if (i == 0) return true;
  char p = t[i - 1];
  return p == '\n' || p == '\r' || p == '=' || p == '[' || p == '{' || p == ',' || (p == '.' && key_context);
}

// The offset of the first byte >= 0x80 that is not inside a TOML string ("...", '...', """...""",
// '''...''') or comment; npos when there is none. Characters of a string left open are
// counted as outside (toml++ may read them as part of a bad token).
size_t non_ascii_outside_strings(std::string_view t) {
  size_t i = 0, n = t.size();
  auto starts = [&](size_t at, std::string_view what) { return t.compare(at, what.size(), what) == 0; };
  // Where keys are read: from a line's start (outside arrays) or '{' or an inline table's ','
  // up to '='; table headers ('h').
  std::vector<char> open;  // '[' array, '{' inline table, 'h' table header
  bool key_context = true;
  while (i < n) {
    char c = t[i];
    if (static_cast<unsigned char>(c) >= 0x80) return i;
    if (c == '#') {
      while (i < n && t[i] != '\n') ++i;
    } else if ((c == '"' || c == '\'') && opens_token(t, i, key_context)) {
      bool basic = c == '"';
      std::string_view triple = basic ? "\"\"\"" : "\'\'\'";
      bool multi = starts(i, triple);
      i += multi ? 3 : 1;
      size_t first_non_ascii = std::string_view::npos;
      bool closed = false;
      for (; i < n; ++i) {
        if (static_cast<unsigned char>(t[i]) >= 0x80 && first_non_ascii == std::string_view::npos) first_non_ascii = i;
        if (basic && t[i] == '\\') {
          // toml++ tests the character after a backslash, and after a line-ending backslash the
          // first one that is not whitespace, for whitespace too
          size_t j = i + 1;
          if (j < n && static_cast<unsigned char>(t[j]) >= 0x80) return j;
          if (multi && j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r')) {
            while (j < n && (t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r')) ++j;
            if (j < n && static_cast<unsigned char>(t[j]) >= 0x80) return j;
            i = j - 1;
            continue;
          }
          ++i;  // the escaped character is part of the string
          continue;
        }
        if (!multi && t[i] == '\n') break;  // an unterminated string: toml++ reports it
        if (multi ? starts(i, triple) : t[i] == c) {
          i += multi ? 3 : 1;
          // up to two more quotes may close a multi-line string ("""a"""")
          for (int extra = 0; multi && extra < 2 && i < n && t[i] == c; ++extra) ++i;
          closed = true;
          break;
        }
      }
      if (!closed && first_non_ascii != std::string_view::npos) return first_non_ascii;
      continue;
    } else {
      switch (c) {
        case '\n':
          if (open.empty()) key_context = true;
          break;
        case '=':
          key_context = false;
          break;
        case '{':
          open.push_back('{');
          key_context = true;
          break;
        case '[':
          if (key_context && (open.empty() || open.back() == 'h')) {
            open.push_back('h');
          } else {
            open.push_back('[');
            key_context = false;
          }
          break;
        case ']':
        case '}':
          if (!open.empty()) open.pop_back();
          key_context = !open.empty() && open.back() == 'h';
          break;
        case ',':
          key_context = !open.empty() && open.back() == '{';
          break;
        default:
          break;
      }
      ++i;
    }
  }
  return std::string_view::npos;
}

Result<Node> parse_toml(std::string_view text, const std::string& filename) {
  size_t where = 0;
  if (!nesting_within(text, k_parse_limits.max_depth, where))
    return std::unexpected(corrupted(filename, "TOML",
                                     position_of(text, where, filename) + "nesting deeper than " +
                                         std::to_string(k_parse_limits.max_depth) + " levels"));
  // TOML allows no control character but tab (and newlines) anywhere, and only UTF-8: refused
  // here, before toml++, whose Unicode tables reach an unreachable point on some such input
  // (found by the params fuzz target).
  for (size_t k = 0; k < text.size(); ++k) {
    unsigned char c = static_cast<unsigned char>(text[k]);
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
      return std::unexpected(corrupted(filename, "TOML",
                                       position_of(text, k, filename) + "control characters are not allowed"));
  }
  if (!is_valid_utf8(text))
    return std::unexpected(corrupted(filename, "TOML", "'" + filename + "': the file is not valid UTF-8"));
  // toml++ 3.3's whitespace test reaches an unreachable point (undefined behaviour) for many
  // non-ASCII characters (U+00A1..U+0499, ...) where it looks for whitespace: between tokens.
  // TOML allows non-ASCII only inside strings and comments, so any other is refused here first.
  if (size_t at = non_ascii_outside_strings(text); at != std::string_view::npos)
    return std::unexpected(corrupted(filename, "TOML",
                                     position_of(text, at, filename) +
                                         "non-ASCII characters are only allowed in strings and comments"));
  try {
    toml::table t = toml::parse(text, filename);
    return from_toml(t);
  } catch (const toml::parse_error& e) {
    auto& src = e.source();
    return std::unexpected(corrupted(filename, "TOML",
                                     "'" + filename + "':" + std::to_string(src.begin.line) + ":" +
                                         std::to_string(src.begin.column) + ": " + std::string(e.description())));
  }
}

// ---- Python ----------------------------------------------------------------------------------
// A literal-only reader of a module: top-level `NAME = literal` / `NAME: type = literal`, class
// bodies (and `self.x = literal` in their methods) as nested maps; everything else skipped.

class PyReader {
 public:
  PyReader(std::string_view text, const std::string& filename) : m_t(text), m_file(filename) {}

  Result<Node> module() {
    Node root = Node::mapping();
    std::vector<std::pair<size_t, Node*>> classes;  // indent of the class body, its map
    while (m_i < m_t.size()) {
      size_t line_start = m_i;
      size_t indent = 0;
      while (m_i < m_t.size() && (m_t[m_i] == ' ' || m_t[m_i] == '\t')) {
        ++indent;
        ++m_i;
      }
      if (m_i >= m_t.size()) break;
      char c = m_t[m_i];
      if (c == '\n' || c == '\r' || c == '#') {
        skip_line();
        continue;
      }
      while (!classes.empty() && indent < classes.back().first) classes.pop_back();
      Node* scope = classes.empty() ? &root : classes.back().second;
      std::string word = ident();
      if (word == "class" && (classes.empty() || indent >= classes.back().first)) {
        skip_spaces();
        std::string name = ident();
        if (name.empty()) return error("invalid class statement");
        skip_line();
        // The body's indent: the next non-blank line's.
        size_t body_indent = next_indent();
        if (body_indent <= indent) continue;
        Node* m = &scope->set(name, Node::mapping());
        classes.emplace_back(body_indent, m);
        continue;
      }
      if (word == "self" && peek() == '.') {
        ++m_i;
        std::string attr = ident();
        Node* cls = nullptr;
        // `self.x = ...` inside a method of the innermost class.
        for (auto it = classes.rbegin(); it != classes.rend(); ++it)
          if (indent > it->first) {
            cls = it->second;
            break;
          }
        if (cls && !attr.empty() && assignment_follows()) {
          auto v = value_or_skip();
          if (!v) return std::unexpected(v.error());
          if (*v) cls->set(attr, std::move(**v));
          continue;
        }
        m_i = line_start;
        skip_statement();
        continue;
      }
      if (!word.empty() && (classes.empty() || indent == classes.back().first)) {
        skip_spaces();
        if (peek() == ':' && !(m_i + 1 < m_t.size() && m_t[m_i + 1] == '=')) {
          // NAME: type = value
          ++m_i;
          while (m_i < m_t.size() && m_t[m_i] != '=' && m_t[m_i] != '\n') ++m_i;
        }
        if (assignment_follows()) {
          auto v = value_or_skip();
          if (!v) return std::unexpected(v.error());
          if (*v) {
            // The assignment's line: DVC's rewrite of changed values (exp run -S) edits that line.
            (*v)->line = 1 + static_cast<int>(std::count(m_t.begin(), m_t.begin() + line_start, '\n'));
            scope->set(word, std::move(**v));
          }
          continue;
        }
      }
      m_i = line_start;
      skip_statement();
    }
    return root;
  }

 private:
  std::string_view m_t;
  const std::string& m_file;
  size_t m_i = 0;
  uint32_t m_depth = 0;
  uint64_t m_nodes = 0;

  std::unexpected<Error> error(const std::string& what) {
    return std::unexpected(corrupted(m_file, "Python", position_of(m_t, std::min(m_i, m_t.size()), m_file) + what));
  }
  char peek() const { return m_i < m_t.size() ? m_t[m_i] : '\0'; }
  void skip_spaces() {
    while (m_i < m_t.size() && (m_t[m_i] == ' ' || m_t[m_i] == '\t')) ++m_i;
  }
  // Spaces, newlines inside brackets, comments.
  void skip_ws() {
    while (m_i < m_t.size()) {
      char c = m_t[m_i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') ++m_i;
      else if (c == '\\' && m_i + 1 < m_t.size() && m_t[m_i + 1] == '\n') m_i += 2;
      else if (c == '#') {
        while (m_i < m_t.size() && m_t[m_i] != '\n') ++m_i;
      } else break;
    }
  }
  void skip_line() {
    while (m_i < m_t.size() && m_t[m_i] != '\n') ++m_i;
    if (m_i < m_t.size()) ++m_i;
  }
  size_t next_indent() const {
    size_t i = m_i;
    while (i < m_t.size()) {
      size_t ind = 0, j = i;
      while (j < m_t.size() && (m_t[j] == ' ' || m_t[j] == '\t')) {
        ++ind;
        ++j;
      }
      if (j < m_t.size() && m_t[j] != '\n' && m_t[j] != '\r' && m_t[j] != '#') return ind;
      while (j < m_t.size() && m_t[j] != '\n') ++j;
      i = j + 1;
    }
    return 0;
  }
  // A statement we do not read: to the end of its logical line (brackets and strings spanning
  // lines included).
  void skip_statement() {
    int depth = 0;
    while (m_i < m_t.size()) {
      char c = m_t[m_i];
      if (c == '"' || c == '\'') {
        skip_string();
        continue;
      }
      if (c == '#') {
        while (m_i < m_t.size() && m_t[m_i] != '\n') ++m_i;
        continue;
      }
      if (c == '(' || c == '[' || c == '{') ++depth;
      else if ((c == ')' || c == ']' || c == '}') && depth) --depth;
      else if (c == '\\' && m_i + 1 < m_t.size() && m_t[m_i + 1] == '\n') {
        m_i += 2;
        continue;
      } else if (c == '\n' && depth == 0) {
        ++m_i;
        return;
      }
      ++m_i;
    }
  }
  void skip_string() {
    char q = m_t[m_i];
    bool triple = m_i + 2 < m_t.size() && m_t[m_i + 1] == q && m_t[m_i + 2] == q;
    m_i += triple ? 3 : 1;
    while (m_i < m_t.size()) {
      if (m_t[m_i] == '\\') {
        m_i += 2;
        continue;
      }
      if (m_t[m_i] == q) {
        if (!triple) {
          ++m_i;
          return;
        }
        if (m_i + 2 < m_t.size() && m_t[m_i + 1] == q && m_t[m_i + 2] == q) {
          m_i += 3;
          return;
        }
      }
      if (!triple && m_t[m_i] == '\n') return;
      ++m_i;
    }
  }
  std::string ident() {
    size_t s = m_i;
    while (m_i < m_t.size() && (std::isalnum(static_cast<unsigned char>(m_t[m_i])) || m_t[m_i] == '_' ||
                                static_cast<unsigned char>(m_t[m_i]) >= 0x80))
      ++m_i;
    if (s < m_i && std::isdigit(static_cast<unsigned char>(m_t[s]))) {
      m_i = s;
      return {};
    }
    return std::string(m_t.substr(s, m_i - s));
  }
  // `=` (not `==`) follows; consumes it.
  bool assignment_follows() {
    skip_spaces();
    if (peek() == '=' && !(m_i + 1 < m_t.size() && m_t[m_i + 1] == '=')) {
      ++m_i;
      return true;
    }
    return false;
  }
  // The literal assigned, or nullopt (and the statement skipped) when it is not a literal.
  Result<std::optional<Node>> value_or_skip() {
    size_t start = m_i;
    auto v = literal();
    if (v) {
      skip_spaces();
      if (peek() == '#' || peek() == '\n' || peek() == '\r' || peek() == '\0' || peek() == ';') {
        skip_line();
        return std::optional<Node>(std::move(*v));
      }
    } else if (v.error().code == ErrorCode::invalid_argument) {
      return std::unexpected(v.error());  // limits
    }
    m_i = start;
    skip_statement();
    return std::optional<Node>();
  }

  Result<Node> literal() {
    skip_ws();
    if (++m_nodes > k_parse_limits.max_nodes) return fail(ErrorCode::invalid_argument, error("too many values").error().message);
    char c = peek();
    if (c == '[' || c == '(' || c == '{') {
      if (++m_depth > k_parse_limits.max_depth)
        return fail(ErrorCode::invalid_argument, error("nesting deeper than " + std::to_string(k_parse_limits.max_depth) + " levels").error().message);
      char close = c == '[' ? ']' : c == '(' ? ')' : '}';
      ++m_i;
      Node out = Node::sequence();
      bool is_map = false, decided = c != '{';
      for (;;) {
        skip_ws();
        if (peek() == close) {
          ++m_i;
          break;
        }
        auto k = literal();
        if (!k) return k;
        skip_ws();
        if (!decided) {
          is_map = peek() == ':';
          decided = true;
          if (is_map) out = Node::mapping();
        }
        if (is_map) {
          if (peek() != ':') return fail(ErrorCode::corruption, "expected ':'");
          ++m_i;
          auto v = literal();
          if (!v) return v;
          std::string key = k->kind == Node::Kind::string ? k->s : k->s.empty() ? scalar_text(*k) : k->s;
          out.set(key, std::move(*v));
        } else {
          out.seq.push_back(std::move(*k));
        }
        skip_ws();
        if (peek() == ',') {
          ++m_i;
          continue;
        }
        if (peek() == close) {
          ++m_i;
          break;
        }
        return fail(ErrorCode::corruption, "expected ',' or a closing bracket");
      }
      --m_depth;
      if (c == '{' && !is_map && out.seq.empty()) return Node::mapping();
      return out;
    }
    if (c == '"' || c == '\'' || ((c == 'r' || c == 'R' || c == 'b' || c == 'u' || c == 'f') && m_i + 1 < m_t.size() &&
                                  (m_t[m_i + 1] == '"' || m_t[m_i + 1] == '\''))) {
      std::string s;
      // Adjacent literals concatenate.
      while (true) {
        bool raw = false;
        if (peek() == 'r' || peek() == 'R') {
          raw = true;
          ++m_i;
        } else if (peek() == 'u' || peek() == 'b') {
          ++m_i;
        } else if (peek() == 'f') {
          return fail(ErrorCode::corruption, "f-string");
        }
        auto part = string_literal(raw);
        if (!part) return std::unexpected(part.error());
        s += *part;
        size_t save = m_i;
        skip_spaces();
        if (peek() == '"' || peek() == '\'') continue;
        m_i = save;
        break;
      }
      return Node::str(s);
    }
    // Numbers, True/False/None, with an optional sign.
    size_t s = m_i;
    if (c == '-' || c == '+') ++m_i;
    while (m_i < m_t.size() && (std::isalnum(static_cast<unsigned char>(m_t[m_i])) || m_t[m_i] == '.' || m_t[m_i] == '_' ||
                                ((m_t[m_i] == '+' || m_t[m_i] == '-') && (m_t[m_i - 1] == 'e' || m_t[m_i - 1] == 'E'))))
      ++m_i;
    std::string tok(m_t.substr(s, m_i - s));
    if (tok == "True") return Node::boolean(true);
    if (tok == "False") return Node::boolean(false);
    if (tok == "None") return Node::null();
    std::string digits;
    for (char ch : tok)
      if (ch != '_') digits += ch;
    if (digits.empty()) return fail(ErrorCode::corruption, "not a literal");
    char* end = nullptr;
    bool is_float = digits.find_first_of(".eE") != std::string::npos && digits.find("0x") == std::string::npos &&
                    digits.find("0X") == std::string::npos;
    if (!is_float) {
      errno = 0;
      long long v = std::strtoll(digits.c_str(), &end, 0);
      bool octal_py = digits.size() > 2 && (digits[digits[0] == '-' || digits[0] == '+'] == '0') &&
                      (digits.find("0o") != std::string::npos || digits.find("0O") != std::string::npos);
      if (octal_py) {
        std::string d = digits;
        auto p = d.find_first_of("oO");
        d.erase(p, 1);
        char* oend = nullptr;
        errno = 0;
        v = std::strtoll(d.c_str(), &oend, 8);
        // `oend` points into `d`: decided here, before `d` goes (found by the params fuzz target)
        if (*oend == '\0' && errno == 0) return Node::integer(v);
        return fail(ErrorCode::corruption, "not a literal");
      }
      if (end && *end == '\0' && errno == 0) return Node::integer(v);
      return fail(ErrorCode::corruption, "not a literal");
    }
    double d = std::strtod(digits.c_str(), &end);
    if (end && *end == '\0') return Node::floating(d);
    return fail(ErrorCode::corruption, "not a literal");
  }

  static std::string scalar_text(const Node& n) {
    switch (n.kind) {
      case Node::Kind::integer: return std::to_string(n.i);
      case Node::Kind::floating: return py_float_repr(n.f);
      case Node::Kind::boolean: return n.b ? "True" : "False";
      default: return "None";
    }
  }

  Result<std::string> string_literal(bool raw) {
    char q = peek();
    bool triple = m_i + 2 < m_t.size() && m_t[m_i + 1] == q && m_t[m_i + 2] == q;
    m_i += triple ? 3 : 1;
    std::string out;
    while (m_i < m_t.size()) {
      char c = m_t[m_i];
      if (c == q && (!triple || (m_i + 2 < m_t.size() && m_t[m_i + 1] == q && m_t[m_i + 2] == q))) {
        m_i += triple ? 3 : 1;
        return out;
      }
      if (c == '\n' && !triple) break;
      if (c == '\\' && m_i + 1 < m_t.size()) {
        char e = m_t[m_i + 1];
        if (raw) {
          out += c;
          out += e;
          m_i += 2;
          continue;
        }
        m_i += 2;
        switch (e) {
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          case 'r': out += '\r'; break;
          case '0': out += '\0'; break;
          case '\\': out += '\\'; break;
          case '\'': out += '\''; break;
          case '"': out += '"'; break;
          case '\n': break;
          case 'x':
          case 'u':
          case 'U': {
            size_t len = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            if (m_i + len > m_t.size()) return fail(ErrorCode::corruption, "bad escape");
            uint32_t cp = static_cast<uint32_t>(std::strtoul(std::string(m_t.substr(m_i, len)).c_str(), nullptr, 16));
            m_i += len;
            utf8_append(out, static_cast<char32_t>(cp));
            break;
          }
          default:
            out += '\\';
            out += e;
        }
        continue;
      }
      out += c;
      ++m_i;
    }
    return fail(ErrorCode::corruption, "unterminated string");
  }

};


}  // namespace

ParamsFormat params_format(std::string_view path) {
  std::string lower;
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos) return ParamsFormat::yaml;
  for (char c : base.substr(dot)) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == ".json") return ParamsFormat::json;
  if (lower == ".toml") return ParamsFormat::toml;
  if (lower == ".py") return ParamsFormat::python;
  return ParamsFormat::yaml;
}

Result<Node> parse_params(std::string_view text, const std::string& filename, ParamsFormat format) {
  if (text.size() > k_parse_limits.max_bytes)
    return fail(ErrorCode::invalid_argument, "unable to read: '" + filename + "', file is larger than " +
                                                 std::to_string(k_parse_limits.max_bytes >> 20) + " MiB");
  if (!is_valid_utf8(text)) return fail(ErrorCode::corruption, "unable to read: '" + filename + "', is not valid utf-8");
  switch (format) {
    case ParamsFormat::json: return parse_json(text, filename);
    case ParamsFormat::toml: return parse_toml(text, filename);
    case ParamsFormat::python: {
      PyReader r(text, filename);
      return r.module();
    }
    case ParamsFormat::yaml: break;
  }
  auto doc = yaml::parse(text, filename);
  if (!doc) return std::unexpected(corrupted(filename, "YAML", doc.error().message));
  if (doc->is_null()) return Node::mapping();
  return std::move(*doc);
}

const Node* find_dotted(const Node& doc, std::string_view key) {
  // A key with dots may also exist whole ("a.b": 1); DVC looks the full path up segment by
  // segment, so does this.
  const Node* cur = &doc;
  size_t pos = 0;
  while (cur) {
    size_t dot = key.find('.', pos);
    std::string_view seg = key.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    if (cur->is_mapping()) {
      cur = cur->find(seg);
    } else if (cur->is_sequence()) {
      if (seg.empty() || seg.size() > 9 || !std::all_of(seg.begin(), seg.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return nullptr;
      size_t idx = std::stoul(std::string(seg));
      cur = idx < cur->seq.size() ? &cur->seq[idx] : nullptr;
    } else {
      return nullptr;
    }
    if (dot == std::string_view::npos) return cur;
    pos = dot + 1;
  }
  return nullptr;
}

}  // namespace dvx::formats
