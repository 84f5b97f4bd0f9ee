#include "dvx/experiments/set_params.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "dvx/base/strings.h"
#include "dvx/formats/params.h"
#include "dvx/formats/py_json.h"
#include "dvx/formats/yaml_edit.h"
#include "dvx/metrics/format.h"

namespace dvx::experiments {

using yaml::Node;
using Kind = yaml::Node::Kind;

namespace {

constexpr const char* k_grammar_link = "See https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details";

std::unexpected<Error> syntax_error(std::string_view near) {
  return fail(ErrorCode::invalid_argument,
              "no viable alternative at input '" + std::string(near) + "'\n" + k_grammar_link);
}

// Hydra's "Error parsing override" form of a parser message.
std::unexpected<Error> parsing_error(std::string_view input, const std::string& what) {
  return fail(ErrorCode::invalid_argument,
              "Error parsing override '" + std::string(input) + "'\n" + what + "\n" + k_grammar_link);
}

std::unexpected<Error> lexer_error(std::string_view input) {
  return fail(ErrorCode::invalid_argument,
              "LexerNoViableAltException: " + std::string(input) + "\n" + k_grammar_link);
}

std::unexpected<Error> set_param_error(const std::string& what) {
  return fail(ErrorCode::invalid_argument, "Invalid `--set-param` value: " + what);
}

bool is_space(char c) { return c == ' ' || c == '\t'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_id_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
bool is_id_char(char c) { return is_id_start(c) || is_digit(c) || c == '-'; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
}

// DIGIT ('_'? DIGIT)*
size_t int_part(std::string_view s, size_t i) {
  if (i >= s.size() || !is_digit(s[i])) return std::string_view::npos;
  ++i;
  while (i < s.size()) {
    if (is_digit(s[i])) ++i;
    else if (s[i] == '_' && i + 1 < s.size() && is_digit(s[i + 1])) i += 2;
    else break;
  }
  return i;
}

// Hydra's INT token: [+-]? ('0' | [1-9] ('_'? DIGIT)*).
bool is_int_token(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  if (i >= s.size()) return false;
  if (s[i] == '0') return i + 1 == s.size();
  return int_part(s, i) == s.size();
}

// Hydra's FLOAT token: [+-]? (POINT_FLOAT | EXPONENT_FLOAT | inf | nan).
bool is_float_token(std::string_view s) {
  size_t i = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
  std::string_view r = s.substr(i);
  if (iequals(r, "inf") || iequals(r, "nan")) return true;
  size_t j = i;
  bool digits = false, point = false;
  if (size_t e = int_part(s, j); e != std::string_view::npos) {
    j = e;
    digits = true;
  }
  if (j < s.size() && s[j] == '.') {
    point = true;
    ++j;
    if (size_t e = int_part(s, j); e != std::string_view::npos) {
      j = e;
      digits = true;
    } else if (!digits) {
      return false;
    }
  }
  if (!digits) return false;
  if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
    ++j;
    if (j < s.size() && (s[j] == '+' || s[j] == '-')) ++j;
    size_t k = j;
    while (k < s.size() && is_digit(s[k])) ++k;
    if (k == j) return false;
    return k == s.size();
  }
  return point && j == s.size();
}

std::string without_underscores(std::string_view s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += c;
  return out;
}

// The typed value of an unquoted primitive (whitespace trimmed), as Hydra's lexer types it.
Node primitive_value(std::string_view text) {
  if (is_int_token(text)) {
    std::string digits = without_underscores(text);
    errno = 0;
    long long v = std::strtoll(digits.c_str(), nullptr, 10);
    if (errno == 0) return Node::integer(v);
    return Node::floating(std::strtod(digits.c_str(), nullptr));
  }
  if (is_float_token(text)) return Node::floating(std::strtod(without_underscores(text).c_str(), nullptr));
  if (iequals(text, "true")) return Node::boolean(true);
  if (iequals(text, "false")) return Node::boolean(false);
  if (iequals(text, "null")) return Node::null();
  return Node::str(std::string(text));
}

// Hydra's _get_value_element_as_str: how BasicSweeper writes a value back into an override.
std::string hydra_str(const Node& v) {
  switch (v.kind) {
    case Kind::null: return "null";
    case Kind::string: {
      std::string out;
      for (char c : v.s) {
        if (std::string_view("\\()[]{}:=, \t").find(c) != std::string_view::npos) out += '\\';
        out += c;
      }
      return out;
    }
    case Kind::sequence: {
      std::vector<std::string> items;
      for (const auto& x : v.seq) items.push_back(hydra_str(x));
      return "[" + join(items, ",") + "]";
    }
    case Kind::mapping: {
      std::vector<std::string> items;
      for (const auto& [k, x] : v.map) items.push_back(hydra_str(Node::str(k)) + ":" + hydra_str(x));
      return "{" + join(items, ",") + "}";
    }
    default: return metrics::py_str(v);
  }
}

// One element of a value with its source text (for sweeps).
struct Element {
  Node value;
  std::string text;
  std::vector<Node> sweep;  // a choice()/range() call's values
  bool is_sweep = false;
};

// Recursive-descent reader of Hydra's value grammar (element, containers, function calls).
class ValueParser {
 public:
  ValueParser(std::string_view s, std::string_view input) : m_s(s), m_input(input) {}

  // value: element (',' element)* EOF. A comma list is a choice sweep.
  Result<std::vector<Element>> top() {
    std::vector<Element> out;
    if (trim(m_s).empty()) {
      out.push_back({Node::str(""), "", {}, false});
      return out;
    }
    while (true) {
      auto e = element(false);
      if (!e) return std::unexpected(e.error());
      out.push_back(std::move(*e));
      skip_ws();
      if (m_i >= m_s.size()) break;
      if (m_s[m_i] != ',')
        return parsing_error(m_input, "extraneous input '" + std::string(1, m_s[m_i]) + "' expecting <EOF>");
      ++m_i;
    }
    return out;
  }

 private:
  std::string_view m_s;
  std::string_view m_input;  // the whole override, for messages
  size_t m_i = 0;
  int m_depth = 0;
  int m_calls = 0;  // open function calls: ')' ends an argument

  void skip_ws() {
    while (m_i < m_s.size() && is_space(m_s[m_i])) ++m_i;
  }

  Result<Element> element(bool in_dict_key) {
    if (++m_depth > 64) return syntax_error(m_s.substr(m_i));
    skip_ws();
    size_t start = m_i;
    Result<Element> r = Element{};
    if (m_i < m_s.size() && m_s[m_i] == '[') r = list();
    else if (m_i < m_s.size() && m_s[m_i] == '{') r = dict();
    else if (m_i < m_s.size() && (m_s[m_i] == '\'' || m_s[m_i] == '"')) r = quoted();
    else r = primitive(in_dict_key);
    --m_depth;
    if (!r) return r;
    skip_ws();
    r->text = std::string(trim(m_s.substr(start, m_i - start)));
    return r;
  }

  Result<Element> quoted() {
    char q = m_s[m_i++];
    std::string out;
    while (m_i < m_s.size() && m_s[m_i] != q) {
      if (m_s[m_i] == '\\' && m_i + 1 < m_s.size() && (m_s[m_i + 1] == q || m_s[m_i + 1] == '\\')) ++m_i;
      out += m_s[m_i++];
    }
    if (m_i >= m_s.size()) return syntax_error(m_s.substr(m_i - out.size() - 1));
    ++m_i;
    return Element{Node::str(std::move(out)), {}, {}, false};
  }

  // The items of a bracketed sequence up to `close` (the opening bracket already read), each read
  // by `item`: `[a, b]`, `{k: v}`, `f(a, b)`.
  template <class Item>
  Status items(size_t start, char close, Item item) {
    skip_ws();
    if (m_i < m_s.size() && m_s[m_i] == close) {
      ++m_i;
      return {};
    }
    while (true) {
      if (auto st = item(); !st) return st;
      if (m_i < m_s.size() && m_s[m_i] == ',') {
        ++m_i;
        continue;
      }
      if (m_i < m_s.size() && m_s[m_i] == close) {
        ++m_i;
        return {};
      }
      return syntax_error(m_s.substr(start));
    }
  }

  // An element inside a container: a sweep is not allowed there.
  Result<Node> inner_value(size_t start) {
    auto x = element(false);
    if (!x) return std::unexpected(x.error());
    if (x->is_sweep) return syntax_error(m_s.substr(start, m_i - start));
    return std::move(x->value);
  }

  Result<Element> list() {
    size_t start = m_i++;
    Element e{Node::sequence(), {}, {}, false};
    auto st = items(start, ']', [&]() -> Status {
      auto v = inner_value(start);
      if (!v) return std::unexpected(v.error());
      e.value.push_back(std::move(*v));
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return e;
  }

  Result<Element> dict() {
    size_t start = m_i++;
    Element e{Node::mapping(), {}, {}, false};
    auto st = items(start, '}', [&]() -> Status {
      skip_ws();
      size_t k = m_i;
      while (m_i < m_s.size() && std::string_view(":,{}[]").find(m_s[m_i]) == std::string_view::npos) ++m_i;
      std::string_view key = trim(m_s.substr(k, m_i - k));
      if (key.empty() || m_i >= m_s.size() || m_s[m_i] != ':') return syntax_error(m_s.substr(start));
      ++m_i;
      auto v = inner_value(start);
      if (!v) return std::unexpected(v.error());
      e.value.set(key, std::move(*v));
      return {};
    });
    if (!st) return std::unexpected(st.error());
    return e;
  }

  static bool primitive_char(char c) {
    if (is_id_char(c) || is_space(c)) return true;
    return std::string_view("/\\+.$%*@?|:").find(c) != std::string_view::npos;
  }

  Result<Element> primitive(bool in_dict_key) {
    size_t start = m_i;
    std::string text;
    bool escaped = false;
    while (m_i < m_s.size()) {
      char c = m_s[m_i];
      if (c == '\\' && m_i + 1 < m_s.size() &&
          std::string_view("\\()[]{}:=, \t").find(m_s[m_i + 1]) != std::string_view::npos) {
        text += m_s[m_i + 1];
        m_i += 2;
        escaped = true;
        continue;
      }
      if (c == '$' && m_i + 1 < m_s.size() && m_s[m_i + 1] == '{') {  // an interpolation, kept as text
        size_t end = m_s.find('}', m_i);
        if (end == std::string_view::npos) return syntax_error(m_s.substr(m_i));
        text += m_s.substr(m_i, end + 1 - m_i);
        m_i = end + 1;
        escaped = true;
        continue;
      }
      if (c == '(' && !in_dict_key) return call(start, text);
      if (!primitive_char(c) && std::string_view(",[]{}()='\"").find(c) == std::string_view::npos)
        return lexer_error(m_input);
      if (!primitive_char(c) || (in_dict_key && c == ':')) break;
      text += c;
      ++m_i;
    }
    std::string_view t = trim(text);
    if (t.empty()) {
      // Hydra names the last token read: the bracket left open, or the unexpected character.
      if (m_i < m_s.size()) return syntax_error(m_s.substr(m_i, 1));
      std::string_view before = trim(m_s.substr(0, start));
      return syntax_error(before.empty() ? m_s.substr(start) : before.substr(before.size() - 1));
    }
    std::string_view ends = m_calls > 0 ? ",]})" : ",]}";
    if (m_i < m_s.size() && ends.find(m_s[m_i]) == std::string_view::npos)
      return parsing_error(m_input, m_depth == 1 ? "extraneous input '" + std::string(1, m_s[m_i]) + "' expecting <EOF>"
                                                 : "mismatched input '" + std::string(1, m_s[m_i]) + "'");
    return Element{escaped ? Node::str(std::string(t)) : primitive_value(t), {}, {}, false};
  }

  // name(args): the sweeps choice() and range(), and the casts int/float/str/bool.
  Result<Element> call(size_t start, const std::string& name_text) {
    std::string name(trim(name_text));
    ++m_i;  // '('
    ++m_calls;
    struct CallDepth {
      int& n;
      ~CallDepth() { --n; }
    } depth{m_calls};
    std::vector<Element> args;
    auto st = items(start, ')', [&]() -> Status {
      auto x = element(false);
      if (!x) return std::unexpected(x.error());
      args.push_back(std::move(*x));
      return {};
    });
    if (!st) return std::unexpected(st.error());
    Element e;
    if (name == "choice") {
      e.is_sweep = true;
      for (auto& a : args) e.sweep.push_back(std::move(a.value));
      return e;
    }
    if (name == "range") {
      if (args.empty() || args.size() > 3) return syntax_error(m_s.substr(start, m_i - start));
      std::vector<double> n;
      bool all_int = true;
      for (auto& a : args) {
        if (a.value.kind == Kind::integer) n.push_back(static_cast<double>(a.value.i));
        else if (a.value.kind == Kind::floating) {
          n.push_back(a.value.f);
          all_int = false;
        } else {
          return syntax_error(m_s.substr(start, m_i - start));
        }
      }
      double from = n.size() == 1 ? 0 : n[0], to = n.size() == 1 ? n[0] : n[1], step = n.size() == 3 ? n[2] : 1;
      if (step == 0) return syntax_error(m_s.substr(start, m_i - start));
      e.is_sweep = true;
      for (double v = from; (step > 0 ? v < to : v > to) && e.sweep.size() < 100000; v += step)
        e.sweep.push_back(all_int ? Node::integer(static_cast<int64_t>(v)) : Node::floating(v));
      return e;
    }
    if (args.size() == 1 && (name == "int" || name == "float" || name == "str" || name == "bool")) {
      const Node& a = args[0].value;
      if (name == "str") e.value = Node::str(a.kind == Kind::string ? a.s : metrics::py_str(a));
      else if (name == "int" && (a.kind == Kind::integer || a.kind == Kind::floating || a.kind == Kind::boolean))
        e.value = Node::integer(a.kind == Kind::integer ? a.i : a.kind == Kind::boolean ? a.b : static_cast<int64_t>(a.f));
      else if (name == "float" && (a.kind == Kind::integer || a.kind == Kind::floating))
        e.value = Node::floating(a.kind == Kind::integer ? static_cast<double>(a.i) : a.f);
      else if (name == "bool" && a.kind != Kind::string) e.value = Node::boolean(yaml::truthy(a));
      else return syntax_error(m_s.substr(start, m_i - start));
      return e;
    }
    return syntax_error(m_s.substr(start, m_i - start));
  }
};

std::vector<std::string> split_key(std::string_view key) { return split(key, '.'); }

bool valid_key(std::string_view key) {
  if (key.empty()) return true;  // Hydra's grammar allows it; it then names no existing key
  for (const auto& p : split_key(key)) {
    if (p.empty()) return false;
    bool digits = std::all_of(p.begin(), p.end(), is_digit);
    if (!digits && (!is_id_start(p[0]) || !std::all_of(p.begin(), p.end(), is_id_char))) return false;
  }
  return true;
}

std::optional<size_t> list_index(const Node& seq, const std::string& seg) {
  if (seg.empty() || !std::all_of(seg.begin(), seg.end(), is_digit) || seg.size() > 9) return std::nullopt;
  size_t i = std::stoul(seg);
  if (i >= seq.seq.size()) return std::nullopt;
  return i;
}

// OmegaConf.select: the node at `parts`, nullptr when a step is missing (or not a container).
const Node* select(const Node& doc, const std::vector<std::string>& parts) {
  const Node* n = &doc;
  for (const auto& p : parts) {
    if (n->is_mapping()) n = n->find(p);
    else if (n->is_sequence()) {
      auto i = list_index(*n, p);
      n = i ? &n->seq[*i] : nullptr;
    } else {
      n = nullptr;
    }
    if (!n) return nullptr;
  }
  return n;
}

std::string not_in_struct(const std::string& key, const std::string& full_key) {
  return "Key '" + key + "' is not in struct\n    full_key: " + full_key + "\n    object_type=dict";
}

// OmegaConf.merge of a container value onto an existing one: mappings key by key, lists replaced.
void merge_value(Node& target, const Node& value) {
  if (target.is_mapping() && value.is_mapping()) {
    for (const auto& [k, v] : value.map) {
      if (Node* t = target.find(k)) merge_value(*t, v);
      else target.set(k, v);
    }
    return;
  }
  target = value;
}

// OmegaConf.update(cfg, key, value, merge=True[, force_add]); returns the not-in-struct message.
std::optional<std::string> update(Node& doc, const std::vector<std::string>& parts, const Node& value, bool force_add) {
  Node* n = &doc;
  std::string full;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    full += (full.empty() ? "" : ".") + p;
    bool last = i + 1 == parts.size();
    if (n->is_sequence()) {
      auto idx = list_index(*n, p);
      if (!idx) return std::string("list index out of range");
      n = &n->seq[*idx];
    } else {
      if (!n->is_mapping()) *n = Node::mapping();
      Node* child = n->find(p);
      if (!child) {
        if (!force_add) return not_in_struct(p, full);
        child = &n->set(p, last ? value : Node::mapping());
        if (last) return std::nullopt;
      }
      n = child;
    }
    if (last) {
      if ((value.is_mapping() || value.is_sequence())) merge_value(*n, value);
      else *n = value;
    } else if (!n->is_mapping() && !n->is_sequence()) {
      *n = Node::mapping();
    }
  }
  return std::nullopt;
}

Node fresh(const Node& v) {
  Node out = v;
  out.line = out.column = 0;
  out.flow = false;
  if (out.kind == Kind::integer || out.kind == Kind::floating) out.s.clear();
  for (auto& x : out.seq) x = fresh(x);
  for (auto& [k, x] : out.map) x = fresh(x);
  return out;
}

// ---- TOML: a round trip of the lines, as tomlkit rewrites a document ----

std::string toml_key(const std::string& k) {
  bool bare = !k.empty() && std::all_of(k.begin(), k.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
  if (bare) return k;
  std::string out;
  formats::py_json_append_string(out, k);
  return out;
}

Result<std::string> toml_value(const Node& v) {
  switch (v.kind) {
    case Kind::null: return fail(ErrorCode::invalid_argument, "Unable to convert None to a TOML value");
    case Kind::boolean: return std::string(v.b ? "true" : "false");
    case Kind::integer: return std::to_string(v.i);
    case Kind::floating: return metrics::py_str(v);
    case Kind::string: {
      std::string out;
      formats::py_json_append_string(out, v.s);
      return out;
    }
    case Kind::sequence: {
      std::string out = "[";
      for (size_t i = 0; i < v.seq.size(); ++i) {
        auto x = toml_value(v.seq[i]);
        if (!x) return x;
        out += (i ? ", " : "") + *x;
      }
      return out + "]";
    }
    case Kind::mapping: {
      std::string out = "{";
      for (size_t i = 0; i < v.map.size(); ++i) {
        auto x = toml_value(v.map[i].second);
        if (!x) return x;
        out += (i ? ", " : "") + toml_key(v.map[i].first) + " = " + *x;
      }
      return out + "}";
    }
  }
  return std::string();
}

// One `key = value` line (or several, for a multi-line value) of a TOML document.
struct TomlEntry {
  std::vector<std::string> path;  // table path + dotted key
  size_t first = 0, last = 0;     // line range
  size_t value_begin = 0;         // byte offset of the value in the first line
  size_t value_end = 0;           // byte offset after the value in the last line
};

struct TomlTable {
  std::vector<std::string> path;
  size_t header = 0;  // line of `[path]` (SIZE_MAX for the root table)
  std::vector<TomlEntry> entries;
  size_t end = 0;  // line after its last entry (or header)
};

// The parts of a (dotted, possibly quoted) TOML key.
std::vector<std::string> toml_key_parts(std::string_view k) {
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 0; i < k.size(); ++i) {
    char c = k[i];
    if (c == '"' || c == '\'') {
      size_t e = k.find(c, i + 1);
      if (e == std::string_view::npos) e = k.size();
      cur += k.substr(i + 1, e - i - 1);
      i = e;
    } else if (c == '.') {
      parts.push_back(std::string(trim(cur)));
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(std::string(trim(cur)));
  return parts;
}

// Where a value starting at (line, col) ends: brackets, strings and comments followed across lines.
std::pair<size_t, size_t> toml_value_end(const std::vector<std::string>& lines, size_t line, size_t col) {
  int depth = 0;
  size_t end_line = line, end_col = col;
  for (size_t l = line; l < lines.size(); ++l) {
    const std::string& s = lines[l];
    for (size_t i = (l == line ? col : 0); i < s.size(); ++i) {
      char c = s[i];
      if (c == '"' || c == '\'') {
        bool triple = s.compare(i, 3, std::string(3, c)) == 0;
        std::string q = triple ? std::string(3, c) : std::string(1, c);
        size_t j = i + q.size();
        size_t ll = l;
        while (true) {
          size_t e = lines[ll].find(q, j);
          while (e != std::string::npos && c == '"' && e > 0 && lines[ll][e - 1] == '\\') e = lines[ll].find(q, e + 1);
          if (e != std::string::npos) {
            l = ll;
            i = e + q.size() - 1;
            break;
          }
          if (!triple || ll + 1 >= lines.size()) return {ll, lines[ll].size()};
          ++ll;
          j = 0;
        }
        end_line = l;
        end_col = i + 1;
        if (l != ll) break;
        continue;
      }
      if (c == '#') break;
      if (c == '[' || c == '{') ++depth;
      else if (c == ']' || c == '}') --depth;
      if (!is_space(c) && c != '\n' && c != '\r') {
        end_line = l;
        end_col = i + 1;
      }
    }
    if (depth <= 0) return {end_line, end_col};
  }
  return {end_line, end_col};
}

std::vector<TomlTable> toml_layout(const std::vector<std::string>& lines) {
  std::vector<TomlTable> tables(1);
  tables[0].header = SIZE_MAX;
  for (size_t l = 0; l < lines.size(); ++l) {
    std::string_view s = trim(lines[l]);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
    if (s.empty() || s[0] == '#') continue;
    if (s[0] == '[') {
      bool array = s.size() > 1 && s[1] == '[';
      size_t close = s.find(']');
      TomlTable t;
      t.path = toml_key_parts(s.substr(array ? 2 : 1, close == std::string_view::npos ? 0 : close - (array ? 2 : 1)));
      t.header = l;
      t.end = l + 1;
      if (array) t.path.insert(t.path.begin(), "\x01");  // entries of arrays of tables are not edited
      tables.push_back(std::move(t));
      continue;
    }
    const std::string& line = lines[l];
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    TomlEntry e;
    e.path = tables.back().path;
    for (auto& p : toml_key_parts(std::string_view(line).substr(0, eq))) e.path.push_back(p);
    e.first = l;
    e.value_begin = eq + 1;
    while (e.value_begin < line.size() && is_space(line[e.value_begin])) ++e.value_begin;
    auto [el, ec] = toml_value_end(lines, l, e.value_begin);
    e.last = el;
    e.value_end = ec;
    tables.back().entries.push_back(e);
    tables.back().end = el + 1;
    l = el;
  }
  return tables;
}

class TomlEditor {
 public:
  explicit TomlEditor(std::string_view text) : m_lines(split(text, '\n')) {}

  Status apply(const Node& original, const Node& merged) {
    std::vector<std::string> path;
    return walk(original, merged, path);
  }

  std::string text() const { return join(m_lines, "\n"); }

 private:
  std::vector<std::string> m_lines;

  static bool same(const std::vector<std::string>& a, const std::vector<std::string>& b) { return a == b; }

  const TomlEntry* entry(const std::vector<std::string>& path, std::vector<TomlTable>& tables) {
    for (auto& t : tables)
      for (auto& e : t.entries)
        if (same(e.path, path)) return &e;
    return nullptr;
  }

  Status walk(const Node& orig, const Node& upd, std::vector<std::string>& path) {
    for (const auto& [k, v] : upd.map) {
      path.push_back(k);
      const Node* o = orig.find(k);
      auto tables = toml_layout(m_lines);
      const TomlEntry* e = entry(path, tables);
      Status st;
      if (o && o->is_mapping() && v.is_mapping() && !e) st = walk(*o, v, path);
      else if (o && e) st = replace(*e, v, o);
      else if (!o) st = insert(tables, path, v);
      if (!st) return st;
      path.pop_back();
    }
    for (const auto& [k, v] : orig.map) {
      if (upd.find(k)) continue;
      path.push_back(k);
      remove(path);
      path.pop_back();
    }
    return {};
  }

  Status replace(const TomlEntry& e, const Node& v, const Node* orig) {
    auto text = inline_table_grown(v, orig);
    if (!text) text = toml_value(v);
    if (!text) return std::unexpected(text.error());
    std::string head = m_lines[e.first].substr(0, e.value_begin);
    std::string tail = m_lines[e.last].substr(std::min(e.value_end, m_lines[e.last].size()));
    m_lines.erase(m_lines.begin() + static_cast<long>(e.first) + 1, m_lines.begin() + static_cast<long>(e.last) + 1);
    m_lines[e.first] = head + *text + tail;
    return {};
  }

  // tomlkit appends keys to an existing inline table after a bare ",": `{x = 1, y = 2,z = 3}`.
  // The text when `v` is `orig` (a non-empty mapping) with keys added at the end; an error otherwise.
  static Result<std::string> inline_table_grown(const Node& v, const Node* orig) {
    if (!orig || !orig->is_mapping() || !v.is_mapping() || orig->map.empty() || v.map.size() <= orig->map.size())
      return fail(ErrorCode::invalid_argument, "not a grown inline table");
    std::string out = "{";
    for (size_t i = 0; i < v.map.size(); ++i) {
      if (i < orig->map.size() && v.map[i].first != orig->map[i].first)
        return fail(ErrorCode::invalid_argument, "not a grown inline table");
      auto x = toml_value(v.map[i].second);
      if (!x) return x;
      out += (i == 0 ? "" : i < orig->map.size() ? ", " : ",") + toml_key(v.map[i].first) + " = " + *x;
    }
    return out + "}";
  }

  Status insert(std::vector<TomlTable>& tables, const std::vector<std::string>& path, const Node& v) {
    std::vector<std::string> parent(path.begin(), path.end() - 1);
    auto t = std::find_if(tables.begin(), tables.end(), [&](const TomlTable& x) { return x.path == parent; });
    if (v.is_mapping()) {
      if (t != tables.end() && !v.map.empty()) {
        // A new table `[path]` after a blank line: at the end of the document, or of its parent table.
        std::vector<std::string> block{"", "["};
        for (size_t i = 0; i < path.size(); ++i) block[1] += (i ? "." : "") + toml_key(path[i]);
        block[1] += "]";
        for (const auto& [k, x] : v.map) {
          auto text = toml_value(x);
          if (!text) return std::unexpected(text.error());
          block.push_back(toml_key(k) + " = " + *text);
        }
        // Before the empty last "line" of a text that ends with a newline.
        auto at = t->header == SIZE_MAX ? m_lines.end() - (!m_lines.empty() && m_lines.back().empty() ? 1 : 0)
                                        : m_lines.begin() + static_cast<long>(t->end);
        m_lines.insert(at, block.begin(), block.end());
        return {};
      }
    }
    auto text = toml_value(v);
    if (!text) return std::unexpected(text.error());
    std::string line = toml_key(path.back()) + " = " + *text;
    if (t == tables.end()) {
      // The parent is a table written with dotted keys or inline: rewrite the whole parent.
      return fail(ErrorCode::invalid_argument, "cannot add '" + path.back() + "' to this TOML layout");
    }
    // After the table's last line that is not blank (comments included), as tomlkit appends.
    size_t begin = t->header == SIZE_MAX ? 0 : t->header + 1;
    size_t at = t + 1 != tables.end() ? (t + 1)->header : m_lines.size();
    while (at > begin && trim(m_lines[at - 1]).empty()) --at;
    m_lines.insert(m_lines.begin() + static_cast<long>(at), line);
    return {};
  }

  void remove(const std::vector<std::string>& path) {
    auto tables = toml_layout(m_lines);
    if (const TomlEntry* e = entry(path, tables)) {
      m_lines.erase(m_lines.begin() + static_cast<long>(e->first), m_lines.begin() + static_cast<long>(e->last) + 1);
      return;
    }
    for (auto& t : tables)
      if (t.header != SIZE_MAX && t.path == path) {
        m_lines.erase(m_lines.begin() + static_cast<long>(t.header), m_lines.begin() + static_cast<long>(t.end));
        return;
      }
  }
};

// ---- Python: DVC's _update_lines ----

Result<std::string> rewrite_python(std::string_view text, const Node& original, const Node& merged) {
  auto lines = split(text, '\n');
  auto walk = [&](auto&& self, const Node& old_d, const Node& new_d) -> Status {
    for (const auto& [k, v] : new_d.map) {
      const Node* o = old_d.find(k);
      if (!o) return fail(ErrorCode::invalid_argument, "'" + k + "'");  // DVC's KeyError: a new key
      if (v.is_mapping()) {
        if (auto st = self(self, *o, v); !st) return st;
      } else if (!yaml::equal(v, *o) && o->line > 0 && static_cast<size_t>(o->line) <= lines.size()) {
        std::string from = " = " + metrics::py_str(*o), to = " = " + metrics::py_str(v);
        std::string& line = lines[static_cast<size_t>(o->line) - 1];
        for (size_t p = line.find(from); p != std::string::npos; p = line.find(from, p + to.size())) line.replace(p, from.size(), to);
      }
    }
    return {};
  };
  if (auto st = walk(walk, original, merged); !st) return std::unexpected(st.error());
  return join(lines, "\n");
}

}  // namespace

Result<Override> parse_override(std::string_view text) {
  Override o;
  o.input = std::string(text);
  std::string_view s = text;
  size_t eq = s.find('=');
  std::string_view key = s.substr(0, eq);
  if (key.starts_with("~")) {
    o.op = OverrideOp::remove;
    key.remove_prefix(1);
  } else if (key.starts_with("++")) {
    o.op = OverrideOp::force_add;
    key.remove_prefix(2);
  } else if (key.starts_with("+")) {
    o.op = OverrideOp::add;
    key.remove_prefix(1);
  }
  std::string_view key_t = trim(key);
  if (!valid_key(key_t)) return syntax_error(eq == std::string_view::npos ? s : s.substr(0, eq + 1));
  o.key = std::string(key_t);
  o.key_element = std::string(trim(s.substr(0, eq)));
  if (eq == std::string_view::npos) {
    if (o.op != OverrideOp::remove) return parsing_error(text, "missing EQUAL at '<EOF>'");
    return o;
  }
  std::string_view vtext = s.substr(eq + 1);
  o.value_text = std::string(trim(vtext));
  ValueParser p(vtext, text);
  auto elems = p.top();
  if (!elems) return std::unexpected(elems.error());
  if (elems->size() > 1) {
    for (auto& e : *elems) {
      if (e.is_sweep) return syntax_error(vtext);
      o.sweep.push_back(hydra_str(e.value));
    }
  } else if ((*elems)[0].is_sweep) {
    for (auto& v : (*elems)[0].sweep) o.sweep.push_back(hydra_str(v));
  } else {
    o.value = std::move((*elems)[0].value);
    // A quoted string keeps its quotes (QuotedString.with_quotes()).
    bool quoted = !o.value_text.empty() && (o.value_text[0] == '\'' || o.value_text[0] == '"');
    o.value_string = quoted ? o.value_text : hydra_str(*o.value);
  }
  if (!o.sweep.empty() && o.op == OverrideOp::remove) return syntax_error(vtext);
  return o;
}

std::vector<std::pair<std::string, std::vector<std::string>>> group_by_file(const std::vector<std::string>& args) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& a : args) {
    std::string_view head = std::string_view(a).substr(0, a.find('='));
    std::string file = "params.yaml", ov = a;
    if (size_t c = head.find(':'); c != std::string_view::npos) {
      file = a.substr(0, c);
      ov = a.substr(c + 1);
    }
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == file; });
    if (it == out.end()) it = out.insert(out.end(), {file, {}});
    it->second.push_back(std::move(ov));
  }
  return out;
}

Result<std::vector<std::vector<std::pair<std::string, std::vector<std::string>>>>> expand_sweeps(
    const std::vector<std::string>& args) {
  using Set = std::vector<std::pair<std::string, std::vector<std::string>>>;
  std::vector<Set> sets(1);
  for (const auto& [file, overrides] : group_by_file(args)) {
    // BasicSweeper.split_arguments: one list of choices per key element, in first-seen order.
    std::vector<std::pair<std::string, std::vector<std::string>>> keys;
    for (const auto& text : overrides) {
      auto o = parse_override(text);
      if (!o) return std::unexpected(o.error());
      std::vector<std::string> choices;
      if (o->sweep.empty()) choices.push_back(o->value ? o->key_element + "=" + o->value_string : o->key_element);
      else
        for (auto& v : o->sweep) choices.push_back(o->key_element + "=" + v);
      auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& k) { return k.first == o->key_element; });
      if (it == keys.end()) keys.emplace_back(o->key_element, std::move(choices));
      else it->second = std::move(choices);
    }
    // itertools.product over the keys, then dict_product over the files.
    std::vector<std::vector<std::string>> combos(1);
    for (const auto& [k, choices] : keys) {
      std::vector<std::vector<std::string>> next;
      for (const auto& c : combos)
        for (const auto& ch : choices) {
          next.push_back(c);
          next.back().push_back(ch);
        }
      combos = std::move(next);
    }
    std::vector<Set> next;
    for (const auto& s : sets)
      for (const auto& c : combos) {
        next.push_back(s);
        next.back().emplace_back(file, c);
      }
    sets = std::move(next);
  }
  return sets;
}

Status apply_overrides(Node& doc, const std::vector<Override>& overrides) {
  if (doc.is_null()) doc = Node::mapping();
  for (const auto& o : overrides) {
    if (!o.sweep.empty()) return fail(ErrorCode::invalid_argument, "Sweep overrides can't be used without `--queue`");
    auto parts = split_key(o.key);
    const Node* current = select(doc, parts);
    switch (o.op) {
      case OverrideOp::remove: {
        if (!current || current->is_null())
          return set_param_error("Could not delete from config. '" + o.key + "' does not exist.");
        if (o.value && !yaml::equal(*current, *o.value))
          return set_param_error("Could not delete from config. The value of '" + o.key + "' is " +
                                 metrics::py_str(*current) + " and not " + metrics::py_str(*o.value) + ".");
        std::vector<std::string> parent(parts.begin(), parts.end() - 1);
        Node* p = const_cast<Node*>(select(doc, parent));
        if (p->is_mapping()) p->erase(parts.back());
        else if (auto i = list_index(*p, parts.back())) p->seq.erase(p->seq.begin() + static_cast<long>(*i));
        break;
      }
      case OverrideOp::add:
        if (current && !current->is_null() && !o.value->is_mapping() && !o.value->is_sequence())
          return set_param_error("Could not append to config. An item is already at '" + o.key +
                                 "'.\nEither remove + prefix: '" + o.input.substr(1) +
                                 "'\nOr add a second + to add or override '" + o.key + "': '+" + o.input + "'");
        [[fallthrough]];
      case OverrideOp::force_add:
        [[fallthrough]];
      case OverrideOp::set:
        if (auto err = update(doc, parts, *o.value, o.op != OverrideOp::set)) {
          if (*err == "list index out of range")
            return set_param_error("Error merging override " + o.input + ": " + *err);
          return set_param_error("Could not override '" + o.key + "'.\nTo append to your config use +" + o.input + ": " + *err);
        }
        break;
    }
  }
  return {};
}

Node merge_into(const Node& original, const Node& updated) {
  if (!original.is_mapping() || !updated.is_mapping()) return fresh(updated);
  Node out = original;
  for (const auto& [k, v] : updated.map) {
    Node* o = out.find(k);
    if (o && o->is_mapping() && v.is_mapping()) *o = merge_into(*o, v);
    else out.set(k, fresh(v));
  }
  std::erase_if(out.map, [&](const auto& kv) { return updated.find(kv.first) == nullptr; });
  return out;
}

Result<std::string> rewrite_params(std::string_view text, const std::string& filename,
                                   const std::vector<std::string>& overrides) {
  auto format = formats::params_format(filename);
  std::vector<Override> parsed;
  for (const auto& t : overrides) {
    auto o = parse_override(t);
    if (!o) return std::unexpected(o.error());
    parsed.push_back(std::move(*o));
  }
  auto original = formats::parse_params(text, filename, format);
  if (!original) return std::unexpected(original.error());
  if (original->is_null()) *original = Node::mapping();
  Node updated = *original;
  if (auto st = apply_overrides(updated, parsed); !st) return std::unexpected(st.error());
  Node merged = merge_into(*original, updated);
  switch (format) {
    case formats::ParamsFormat::yaml: return formats::render_round_trip(text, *original, merged);
    case formats::ParamsFormat::json: return formats::py_json_dumps(metrics::to_json(merged));
    case formats::ParamsFormat::toml: {
      TomlEditor ed(text);
      if (auto st = ed.apply(*original, merged); !st) return std::unexpected(st.error());
      return ed.text();
    }
    case formats::ParamsFormat::python: return rewrite_python(text, *original, merged);
  }
  return std::string(text);
}

}  // namespace dvx::experiments
