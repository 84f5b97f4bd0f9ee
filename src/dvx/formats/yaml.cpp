#include "dvx/formats/yaml.h"

#include <algorithm>
#include <charconv>
#include <istream>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <regex>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "dvx/formats/limits.h"
#include "dvx/formats/py_float.h"
#include "dvx/formats/unicode.h"

namespace dvx::yaml {

using formats::utf8_append;
using formats::utf8_decode;

// ---------------------------------------------------------------------------------------------
// Node

Node Node::null() { return Node{}; }
Node Node::boolean(bool v) {
  Node n;
  n.kind = Kind::boolean;
  n.b = v;
  return n;
}
Node Node::integer(int64_t v) {
  Node n;
  n.kind = Kind::integer;
  n.i = v;
  return n;
}
Node Node::floating(double v) {
  Node n;
  n.kind = Kind::floating;
  n.f = v;
  return n;
}
Node Node::str(std::string v) {
  Node n;
  n.kind = Kind::string;
  n.s = std::move(v);
  return n;
}
Node Node::sequence() {
  Node n;
  n.kind = Kind::sequence;
  return n;
}
Node Node::mapping() {
  Node n;
  n.kind = Kind::mapping;
  return n;
}

Node* Node::find(std::string_view key) {
  if (kind != Kind::mapping) return nullptr;
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

const Node* Node::find(std::string_view key) const {
  if (kind != Kind::mapping) return nullptr;
  for (auto& [k, v] : map)
    if (k == key) return &v;
  return nullptr;
}

Node& Node::set(std::string_view key, Node value) {
  if (kind == Kind::null) kind = Kind::mapping;
  if (Node* n = find(key)) {
    *n = std::move(value);
    return *n;
  }
  map.emplace_back(std::string(key), std::move(value));
  return map.back().second;
}

bool Node::erase(std::string_view key) {
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (it->first == key) {
      map.erase(it);
      return true;
    }
  }
  return false;
}

Node& Node::push_back(Node value) {
  if (kind == Kind::null) kind = Kind::sequence;
  seq.push_back(std::move(value));
  return seq.back();
}

const char* Node::kind_name(Kind k) {
  switch (k) {
    case Kind::null: return "null";
    case Kind::boolean: return "a boolean";
    case Kind::integer: return "an integer";
    case Kind::floating: return "a float";
    case Kind::string: return "a string";
    case Kind::sequence: return "a list";
    case Kind::mapping: return "a mapping";
  }
  return "a value";
}

static bool is_number(const Node& n) {
  return n.kind == Node::Kind::boolean || n.kind == Node::Kind::integer ||
         n.kind == Node::Kind::floating;
}

static double as_double(const Node& n) {
  if (n.kind == Node::Kind::boolean) return n.b ? 1.0 : 0.0;
  if (n.kind == Node::Kind::integer) return static_cast<double>(n.i);
  return n.f;
}

bool equal(const Node& a, const Node& b) {
  using K = Node::Kind;
  if (is_number(a) && is_number(b)) {
    if (a.kind != K::floating && b.kind != K::floating) {
      int64_t x = a.kind == K::boolean ? a.b : a.i;
      int64_t y = b.kind == K::boolean ? b.b : b.i;
      return x == y;
    }
    return as_double(a) == as_double(b);
  }
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case K::null: return true;
    case K::string: return a.s == b.s;
    case K::sequence:
      if (a.seq.size() != b.seq.size()) return false;
      for (size_t k = 0; k < a.seq.size(); ++k)
        if (!equal(a.seq[k], b.seq[k])) return false;
      return true;
    case K::mapping:
      if (a.map.size() != b.map.size()) return false;
      for (auto& [k, v] : a.map) {
        const Node* o = b.find(k);
        if (!o || !equal(v, *o)) return false;
      }
      return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Implicit resolution of plain scalars (ruamel.yaml VersionedResolver, YAML 1.2)

namespace {

enum class Implicit { str, null, boolean, integer, floating, timestamp, other };

struct Regexes {
  std::regex integer{R"(^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$)"};
  std::regex floating{
      R"(^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$)"};
  std::regex timestamp{
      R"(^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$)"};
};

const Regexes& regexes() {
  static const Regexes r;
  return r;
}

Implicit resolve(std::string_view t) {
  if (t.empty() || t == "~" || t == "null" || t == "Null" || t == "NULL") return Implicit::null;
  if (t == "true" || t == "True" || t == "TRUE" || t == "false" || t == "False" || t == "FALSE")
    return Implicit::boolean;
  char c = t[0];
  if (c == '<' && t == "<<") return Implicit::other;
  if (c == '=' && t == "=") return Implicit::other;
  if ((c == '!' || c == '&' || c == '*') && t.size() == 1) return Implicit::other;
  bool numeric_start = (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
  if (!numeric_start) return Implicit::str;
  const auto& r = regexes();
  auto b = t.begin(), e = t.end();
  if (c != '.' && std::regex_match(b, e, r.integer)) return Implicit::integer;
  if (std::regex_match(b, e, r.floating)) return Implicit::floating;
  if (c >= '0' && c <= '9' && t.size() >= 10 && std::regex_match(b, e, r.timestamp))
    return Implicit::timestamp;
  return Implicit::str;
}

// Converts an integer text matched by the int regex; false when it has no digits or overflows.
bool parse_int(std::string_view t, int64_t& out) {
  std::string d;
  d.reserve(t.size());
  for (char ch : t)
    if (ch != '_') d.push_back(ch);
  bool neg = false;
  size_t p = 0;
  if (!d.empty() && (d[0] == '-' || d[0] == '+')) {
    neg = d[0] == '-';
    p = 1;
  }
  int base = 10;
  if (d.size() > p + 1 && d[p] == '0' && (d[p + 1] == 'x' || d[p + 1] == 'b' || d[p + 1] == 'o')) {
    base = d[p + 1] == 'x' ? 16 : d[p + 1] == 'b' ? 2 : 8;
    p += 2;
  }
  if (p >= d.size()) return false;
  uint64_t u = 0;
  auto res = std::from_chars(d.data() + p, d.data() + d.size(), u, base);
  if (res.ec != std::errc() || res.ptr != d.data() + d.size()) return false;
  if (neg) {
    if (u > static_cast<uint64_t>(INT64_MAX) + 1) return false;
    out = static_cast<int64_t>(0 - u);
  } else {
    if (u > static_cast<uint64_t>(INT64_MAX)) return false;
    out = static_cast<int64_t>(u);
  }
  return true;
}

double parse_float(std::string_view t) {
  std::string d;
  for (char ch : t)
    if (ch != '_') d.push_back(ch);
  std::string low;
  for (char ch : d) low.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  if (low == ".inf" || low == "+.inf") return HUGE_VAL;
  if (low == "-.inf") return -HUGE_VAL;
  if (low == ".nan") return std::nan("");
  return std::strtod(d.c_str(), nullptr);
}

}  // namespace

std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return formats::py_float_repr(v);
}

// ---------------------------------------------------------------------------------------------
// Parser

namespace {

std::string position_prefix(const std::string& filename, int line, int column) {
  return "'" + filename + "':" + std::to_string(line) + ":" + std::to_string(column) + ": ";
}

struct ParseError {
  int line, column;
  std::string message;
};

// Thrown out of the event handler to stop yaml-cpp as soon as a limit is passed.
struct LimitPassed {
  YAML::Mark mark;
};

// Nodes and content bytes of a subtree, as charged to the budget.
struct Cost {
  uint64_t nodes = 0, bytes = 0;
};

// The input handed to yaml-cpp in small chunks, without a copy. yaml-cpp's scanner keeps the
// tokens of a flow collection until it closes; reading more than `max_lookahead` bytes past the
// last event delivered stops the parse, so that buffer stays bounded.
class BoundedInput : public std::streambuf {
 public:
  BoundedInput(std::string_view text, uint64_t max_lookahead) : m_text(text), m_max(max_lookahead) {}
  size_t last_event = 0;  // offset of the last event seen (set by the handlers)
  bool passed = false;

 protected:
  int_type underflow() override {
    if (gptr() < egptr()) return traits_type::to_int_type(*gptr());
    if (m_next >= m_text.size()) return traits_type::eof();
    if (m_next > last_event && m_next - last_event > m_max) {
      passed = true;
      YAML::Mark mark;
      throw LimitPassed{mark};
    }
    size_t n = std::min<size_t>(4096, m_text.size() - m_next);
    char* p = const_cast<char*>(m_text.data()) + m_next;
    setg(p, p, p + n);
    m_next += n;
    return traits_type::to_int_type(*p);
  }

 private:
  std::string_view m_text;
  uint64_t m_max;
  size_t m_next = 0;
};

class Builder : public YAML::EventHandler {
 public:
  Builder(const formats::ParseLimits& limits, BoundedInput* input) : m_budget(limits), m_input(input) {}

  formats::ParseBudget m_budget;
  BoundedInput* m_input;
  Node root;
  bool have_root = false;
  std::optional<ParseError> error;

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Node n;
    place(n, mark);
    Cost c{1, 0};
    charge(c, mark);
    add(std::move(n), anchor, "", c);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = m_anchors.find(anchor);
    if (it == m_anchors.end()) {
      fail_at(mark, "unknown alias");
      return;
    }
    // The repeated subtree counts in full, before it is copied: nested aliases ("billion
    // laughs") stop here rather than in bad_alloc.
    const Cost c = it->second.cost;
    charge(c, mark);
    Node n = it->second.node;
    place(n, mark);
    std::string key_text = n.kind == Node::Kind::string ? n.s : "";
    add(std::move(n), 0, key_text, c);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    Node n;
    place(n, mark);
    static const std::string core = "tag:yaml.org,2002:";
    std::string key_text = value;
    if (tag == "?" || tag.empty()) {
      switch (resolve(value)) {
        case Implicit::null: break;
        case Implicit::boolean:
          n.kind = Node::Kind::boolean;
          n.b = value[0] == 't' || value[0] == 'T';
          break;
        case Implicit::integer:
          if (parse_int(value, n.i)) {
            n.kind = Node::Kind::integer;
            n.s = value;
          } else if (value.find_first_of("0123456789") != std::string::npos) {
            n.kind = Node::Kind::floating;  // beyond int64: keep the text, approximate the value
            n.f = parse_float(value);
            n.s = value;
          } else {
            n = Node::str(value);
          }
          break;
        case Implicit::floating:
          n.kind = Node::Kind::floating;
          n.f = parse_float(value);
          n.s = value;
          break;
        case Implicit::timestamp:
          n.kind = Node::Kind::string;
          n.s = value;
          n.timestamp = true;
          break;
        default: n.kind = Node::Kind::string; n.s = value;
      }
    } else if (tag == core + "null") {
    } else if (tag == core + "bool" && resolve(value) == Implicit::boolean) {
      n.kind = Node::Kind::boolean;
      n.b = value[0] == 't' || value[0] == 'T';
    } else if (tag == core + "int" && parse_int(value, n.i)) {
      n.kind = Node::Kind::integer;
      n.s = value;
    } else if (tag == core + "float" && !value.empty()) {
      n.kind = Node::Kind::floating;
      n.f = parse_float(value);
      n.s = resolve(value) == Implicit::floating ? value : "";
    } else {
      n.kind = Node::Kind::string;
      n.s = value;
    }
    place(n, mark);
    Cost c{1, value.size()};
    charge(c, mark);
    add(std::move(n), anchor, key_text, c);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value style) override {
    Frame f;
    f.node.kind = Node::Kind::sequence;
    f.node.flow = style == YAML::EmitterStyle::Flow;
    place(f.node, mark);
    f.anchor = anchor;
    open(std::move(f), mark);
  }

  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value style) override {
    Frame f;
    f.node.kind = Node::Kind::mapping;
    f.node.flow = style == YAML::EmitterStyle::Flow;
    place(f.node, mark);
    f.anchor = anchor;
    open(std::move(f), mark);
  }

  void OnMapEnd() override { close(); }

 private:
  struct Frame {
    Node node;
    YAML::anchor_t anchor = 0;
    bool have_key = false;
    std::string key;
    std::unordered_set<std::string> keys;
    Cost cost{1, 0};  // the collection and everything added to it so far
  };
  struct Anchored {
    Node node;
    Cost cost;
  };
  std::vector<Frame> m_stack;
  std::unordered_map<YAML::anchor_t, Anchored> m_anchors;

  void charge(const Cost& c, const YAML::Mark& mark) {
    if (!m_budget.charge(c.nodes, c.bytes)) throw LimitPassed{mark};
  }

  void open(Frame f, const YAML::Mark& mark) {
    if (!m_budget.enter(m_stack.size() + 1)) throw LimitPassed{mark};
    charge(f.cost, mark);
    m_stack.push_back(std::move(f));
  }

  void place(Node& n, const YAML::Mark& mark) {
    if (m_input && mark.pos > 0 && static_cast<size_t>(mark.pos) > m_input->last_event)
      m_input->last_event = static_cast<size_t>(mark.pos);
    if (!mark.is_null()) {
      n.line = mark.line + 1;
      n.column = mark.column + 1;
    }
  }

  void fail_at(const YAML::Mark& mark, std::string what) {
    if (error) return;
    error = ParseError{mark.is_null() ? 0 : mark.line + 1, mark.is_null() ? 0 : mark.column + 1,
                       std::move(what)};
  }

  void fail_node(const Node& n, std::string what) {
    if (error) return;
    error = ParseError{n.line, n.column, std::move(what)};
  }

  void close() {
    Frame f = std::move(m_stack.back());
    m_stack.pop_back();
    add(std::move(f.node), f.anchor, "", f.cost);
  }

  // key_text: the text used when this node is a mapping key; cost: what `n` was charged.
  void add(Node n, YAML::anchor_t anchor, const std::string& key_text, const Cost& cost) {
    if (anchor) {
      // The anchor keeps a copy: charged too, so nested anchors cannot multiply memory.
      YAML::Mark mark;
      mark.line = n.line - 1;
      mark.column = n.column - 1;
      charge(cost, mark);
      m_anchors[anchor] = Anchored{n, cost};
    }
    if (!m_stack.empty()) {
      m_stack.back().cost.nodes += cost.nodes;
      m_stack.back().cost.bytes += cost.bytes;
    }
    if (m_stack.empty()) {
      if (!have_root) {
        root = std::move(n);
        have_root = true;
      }
      return;
    }
    Frame& top = m_stack.back();
    if (top.node.kind == Node::Kind::sequence) {
      top.node.seq.push_back(std::move(n));
      return;
    }
    if (!top.have_key) {
      if (n.kind == Node::Kind::sequence || n.kind == Node::Kind::mapping) {
        fail_node(n, "a mapping key must be a scalar");
        top.key.clear();
      } else if (n.kind == Node::Kind::null) {
        top.key = key_text;
      } else if (n.kind == Node::Kind::boolean) {
        top.key = key_text.empty() ? (n.b ? "true" : "false") : key_text;
      } else {
        top.key = key_text;
      }
      if (!top.keys.insert(top.key).second)
        fail_node(n, "duplicate key '" + top.key + "'");
      top.have_key = true;
      return;
    }
    top.node.map.emplace_back(std::move(top.key), std::move(n));
    top.key.clear();
    top.have_key = false;
  }
};

// A node that marks the end of the document stream (used to detect a second document).
class Counter : public YAML::EventHandler {
 public:
  bool any = false;
  YAML::Mark mark;
  void OnDocumentStart(const YAML::Mark& m) override { mark = m; }
  void OnDocumentEnd() override {}
  // The first value is enough: stop there rather than read the rest.
  struct Found {};
  void OnNull(const YAML::Mark&, YAML::anchor_t) override { found(); }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override { found(); }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override { found(); }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override { found(); }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override { found(); }
  void found() {
    any = true;
    throw Found{};
  }
  void OnMapEnd() override {}
};

}  // namespace

Result<Node> parse(std::string_view text, const std::string& filename) {
  return parse(text, filename, formats::k_parse_limits);
}

Result<Node> parse(std::string_view text, const std::string& filename, const formats::ParseLimits& limits) {
  BoundedInput buf(text, limits.max_lookahead);
  Builder builder(limits, &buf);
  if (!builder.m_budget.input(text.size()))
    return fail(ErrorCode::corruption, position_prefix(filename, 1, 1) + builder.m_budget.reason());
  std::istream in(&buf);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(builder);
    if (!builder.error) {
      Counter more;
      try {
        parser.HandleNextDocument(more);
      } catch (const Counter::Found&) {
      }
      if (more.any)
        return fail(ErrorCode::corruption,
                    position_prefix(filename, more.mark.line + 1, more.mark.column + 1) +
                        "expected a single document in the stream");
    }
  } catch (const LimitPassed& e) {
    if (buf.passed)
      return fail(ErrorCode::corruption,
                  formats::position_of(text, buf.last_event, filename) +
                      "document too complex: a flow collection or scalar longer than " +
                      std::to_string(limits.max_lookahead) + " bytes");
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    int col = e.mark.is_null() ? 0 : e.mark.column + 1;
    return fail(ErrorCode::corruption, position_prefix(filename, line, col) + builder.m_budget.reason());
  } catch (const YAML::Exception& e) {
    int line = e.mark.is_null() ? 0 : e.mark.line + 1;
    int col = e.mark.is_null() ? 0 : e.mark.column + 1;
    return fail(ErrorCode::corruption, position_prefix(filename, line, col) + e.msg);
  }
  if (builder.error)
    return fail(ErrorCode::corruption,
                position_prefix(filename, builder.error->line, builder.error->column) +
                    builder.error->message);
  if (!builder.have_root) return Node{};
  return std::move(builder.root);
}

// ---------------------------------------------------------------------------------------------
// Emitter (a port of the parts of ruamel.yaml's Emitter that DVC's documents use)

namespace {

constexpr int kBestWidth = 80;

bool is_break(char32_t c) { return c == U'\n' || c == 0x85 || c == 0x2028 || c == 0x2029; }
bool is_ws_or_break(char32_t c) {
  return c == 0 || c == U' ' || c == U'\t' || c == U'\r' || is_break(c);
}

struct Analysis {
  bool empty = false, multiline = false;
  bool allow_flow_plain = true, allow_block_plain = true, allow_single_quoted = true;
};

Analysis analyze(const std::u32string& s) {
  Analysis a;
  if (s.empty()) {
    a.empty = true;
    a.allow_flow_plain = false;
    return a;
  }
  bool block_ind = false, flow_ind = false, line_breaks = false, special = false;
  bool leading_space = false, leading_break = false, trailing_space = false,
       trailing_break = false, break_space = false, space_break = false;
  auto starts = [&](std::u32string_view p) { return s.compare(0, p.size(), p) == 0; };
  if (starts(U"---") || starts(U"...")) block_ind = flow_ind = true;
  bool preceded_ws = true;
  bool followed_ws = s.size() == 1 || is_ws_or_break(s[1]);
  bool prev_space = false, prev_break = false;
  const size_t n = s.size();
  for (size_t idx = 0; idx < n; ++idx) {
    char32_t ch = s[idx];
    if (idx == 0) {
      if (std::u32string_view(U"#,[]{}&*!|>'\"%@`").find(ch) != std::u32string_view::npos)
        flow_ind = block_ind = true;
      if (ch == U'?' || ch == U':') {
        if (n == 1) flow_ind = true;
        if (followed_ws) block_ind = true;
      }
      if (ch == U'-' && followed_ws) flow_ind = block_ind = true;
    } else {
      if (std::u32string_view(U",[]{}").find(ch) != std::u32string_view::npos) flow_ind = true;
      if (ch == U':' && followed_ws) flow_ind = block_ind = true;
      if (ch == U'#' && preceded_ws) flow_ind = block_ind = true;
    }
    if (is_break(ch)) line_breaks = true;
    if (!(ch == U'\n' || (ch >= 0x20 && ch <= 0x7E))) {
      bool printable = (ch == 0x85 || (ch >= 0xA0 && ch <= 0xD7FF) || (ch >= 0xE000 && ch <= 0xFFFD) ||
                        (ch >= 0x10000 && ch <= 0x10FFFF)) &&
                       ch != 0xFEFF;
      if (!printable) special = true;  // allow_unicode is on: printable non-ASCII stays literal
    }
    if (ch == U' ') {
      if (idx == 0) leading_space = true;
      if (idx == n - 1) trailing_space = true;
      if (prev_break) break_space = true;
      prev_space = true;
      prev_break = false;
    } else if (is_break(ch)) {
      if (idx == 0) leading_break = true;
      if (idx == n - 1) trailing_break = true;
      if (prev_space) space_break = true;
      prev_space = false;
      prev_break = true;
    } else {
      prev_space = prev_break = false;
    }
    preceded_ws = is_ws_or_break(ch);
    followed_ws = idx + 2 >= n || is_ws_or_break(s[idx + 2]);
  }
  a.multiline = line_breaks;
  if (leading_space || leading_break || trailing_space || trailing_break)
    a.allow_flow_plain = a.allow_block_plain = false;
  if (break_space) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (special || space_break) a.allow_flow_plain = a.allow_block_plain = a.allow_single_quoted = false;
  if (line_breaks) a.allow_flow_plain = a.allow_block_plain = false;
  if (flow_ind) a.allow_flow_plain = false;
  if (block_ind) a.allow_block_plain = false;
  return a;
}

enum class Style { plain, single, dbl };

Style choose_style(const std::string& utf8, const std::u32string& s, bool simple_key, bool flow,
                   bool timestamp) {
  Analysis a = analyze(s);
  Implicit imp = resolve(utf8);
  bool implicit_str = imp == Implicit::str || (timestamp && imp == Implicit::timestamp);
  if (implicit_str && !(simple_key && (a.empty || a.multiline)) &&
      (flow ? a.allow_flow_plain : a.allow_block_plain))
    return Style::plain;
  if (s.find(U'\'') != std::u32string::npos || s.find(U'\n') != std::u32string::npos)
    return Style::dbl;
  if (a.allow_single_quoted && !(simple_key && a.multiline)) return Style::single;
  return Style::dbl;
}

class Writer {
 public:
  std::string out;
  int column = 0;
  bool whitespace = true;

  void write(char32_t c) {
    utf8_append(out, c);
    ++column;
  }
  void write(std::u32string_view s) {
    for (char32_t c : s) utf8_append(out, c);
    column += static_cast<int>(s.size());
  }
  void write_ascii(std::string_view s) {
    out += s;
    column += static_cast<int>(s.size());
  }
  void write_utf8(std::string_view s, size_t npoints) {
    out += s;
    column += static_cast<int>(npoints);
  }
  void line_break(char32_t c = U'\n') {
    utf8_append(out, c);
    column = 0;
    whitespace = true;
  }
  void indent_to(int indent) {
    if (column >= indent) line_break();
    if (column < indent) {
      out.append(indent - column, ' ');
      column = indent;
    }
    whitespace = true;
  }
  void newline_indent(int indent) {
    out += '\n';
    out.append(indent, ' ');
    column = indent;
    whitespace = true;
  }
  // A scalar value after an indicator: a separating space unless at a whitespace position.
  void lead() {
    if (!whitespace) write(U' ');
    whitespace = false;
  }

  void write_plain(const std::u32string& text, bool split, int indent) {
    if (text.empty()) return;
    lead();
    bool spaces = false;
    size_t start = 0;
    const size_t n = text.size();
    for (size_t end = 0; end <= n; ++end) {
      char32_t ch = end < n ? text[end] : 0;
      bool none = end >= n;
      if (spaces) {
        if (none || ch != U' ') {
          if (start + 1 == end && column > kBestWidth && split) {
            indent_to(indent);
            whitespace = false;
          } else {
            write(std::u32string_view(text).substr(start, end - start));
          }
          start = end;
        }
      } else {
        if (none || ch == U' ' || is_break(ch)) {
          write(std::u32string_view(text).substr(start, end - start));
          start = end;
        }
      }
      if (!none) spaces = ch == U' ';
    }
  }

  void write_single_quoted(const std::u32string& text, bool split, int indent) {
    lead();
    write(U'\'');
    bool spaces = false, breaks = false;
    size_t start = 0;
    const size_t n = text.size();
    for (size_t end = 0; end <= n; ++end) {
      bool none = end >= n;
      char32_t ch = none ? 0 : text[end];
      if (spaces) {
        if (none || ch != U' ') {
          if (start + 1 == end && column > kBestWidth && split && start != 0 && end != n) {
            indent_to(indent);
          } else {
            write(std::u32string_view(text).substr(start, end - start));
          }
          start = end;
        }
      } else if (breaks) {
        if (none || !is_break(ch)) {
          if (text[start] == U'\n') line_break();
          for (size_t k = start; k < end; ++k) line_break(text[k]);
          indent_to(indent);
          start = end;
        }
      } else {
        if (none || ch == U' ' || is_break(ch) || ch == U'\'') {
          if (start < end) {
            write(std::u32string_view(text).substr(start, end - start));
            start = end;
          }
        }
      }
      if (ch == U'\'') {
        write(U"''");
        start = end + 1;
      }
      if (!none) {
        spaces = ch == U' ';
        breaks = is_break(ch);
      }
    }
    write(U'\'');
    whitespace = false;
  }

  static const char* escape_of(char32_t c) {
    switch (c) {
      case 0: return "0";
      case 0x07: return "a";
      case 0x08: return "b";
      case 0x09: return "t";
      case 0x0A: return "n";
      case 0x0B: return "v";
      case 0x0C: return "f";
      case 0x0D: return "r";
      case 0x1B: return "e";
      case U'"': return "\"";
      case U'\\': return "\\";
      case 0x85: return "N";
      case 0xA0: return "_";
      case 0x2028: return "L";
      case 0x2029: return "P";
      default: return nullptr;
    }
  }

  void write_double_quoted(const std::u32string& text, bool split, int indent) {
    lead();
    write(U'"');
    size_t start = 0;
    const size_t n = text.size();
    for (size_t end = 0; end <= n; ++end) {
      bool none = end >= n;
      char32_t ch = none ? 0 : text[end];
      bool needs_escape =
          !none && (ch == U'"' || ch == U'\\' || ch == 0x85 || ch == 0x2028 || ch == 0x2029 ||
                    ch == 0xFEFF ||
                    !((ch >= 0x20 && ch <= 0x7E) || (ch >= 0xA0 && ch <= 0xD7FF) ||
                      (ch >= 0xE000 && ch <= 0xFFFD)));
      if (none || needs_escape) {
        if (start < end) {
          write(std::u32string_view(text).substr(start, end - start));
          start = end;
        }
        if (!none) {
          std::string data;
          if (const char* e = escape_of(ch)) {
            data = std::string("\\") + e;
          } else {
            char buf[16];
            if (ch <= 0xFF) std::snprintf(buf, sizeof buf, "\\x%02X", static_cast<unsigned>(ch));
            else if (ch <= 0xFFFF) std::snprintf(buf, sizeof buf, "\\u%04X", static_cast<unsigned>(ch));
            else std::snprintf(buf, sizeof buf, "\\U%08X", static_cast<unsigned>(ch));
            data = buf;
          }
          write_ascii(data);
          start = end + 1;
        }
      }
      if (end > 0 && end + 1 < n && (ch == U' ' || start >= end) &&
          column + static_cast<int>(end - start) > kBestWidth && split) {
        if (start < end) {
          write(std::u32string_view(text).substr(start, end - start));
          start = end;
        }
        write(U'\\');
        indent_to(indent);
        whitespace = false;
        if (text[start] == U' ') write(U'\\');
      }
    }
    write(U'"');
    whitespace = false;
  }

  void write_string(const Node& n, bool simple_key, bool flow, int indent) {
    std::u32string text = utf8_decode(n.s);
    Style st = choose_style(n.s, text, simple_key, flow, n.timestamp);
    bool split = !simple_key;
    switch (st) {
      case Style::plain: write_plain(text, split, indent); break;
      case Style::single: write_single_quoted(text, split, indent); break;
      case Style::dbl: write_double_quoted(text, split, indent); break;
    }
  }

  static std::string int_text(const Node& n) {
    if (!n.s.empty()) {
      int64_t v;
      bool special = n.s.find('_') != std::string::npos ||
                     n.s.find_first_of("xob") != std::string::npos;
      if (special && parse_int(n.s, v) && v == n.i) return n.s;
    }
    return std::to_string(n.i);
  }

  static std::string float_node_text(const Node& n) {
    if (!n.s.empty() && resolve(n.s) == Implicit::floating) {
      double v = parse_float(n.s);
      if (v == n.f || (std::isnan(v) && std::isnan(n.f))) return n.s;
    }
    return float_text(n.f);
  }

  // A scalar (or null) in block context after "key:" or "-"; indent = continuation indent.
  void scalar(const Node& n, int indent, bool flow = false) {
    switch (n.kind) {
      case Node::Kind::null: break;
      case Node::Kind::boolean: lead(); write_ascii(n.b ? "true" : "false"); break;
      case Node::Kind::integer: lead(); write_ascii(int_text(n)); break;
      case Node::Kind::floating: lead(); write_ascii(float_node_text(n)); break;
      case Node::Kind::string: write_string(n, false, flow, indent); break;
      default: break;
    }
  }

  void key(const std::string& k) {
    Node n = Node::str(k);
    write_string(n, true, false, 0);
    write(U':');
    whitespace = false;
  }

  void flow_node(const Node& n, int indent) {
    if (n.kind == Node::Kind::sequence) {
      lead();
      write(U'[');
      whitespace = true;
      for (size_t k = 0; k < n.seq.size(); ++k) {
        if (k) {
          write(U',');
          whitespace = false;
        }
        flow_node(n.seq[k], indent);
      }
      write(U']');
      whitespace = false;
    } else if (n.kind == Node::Kind::mapping) {
      lead();
      write(U'{');
      whitespace = true;
      for (size_t k = 0; k < n.map.size(); ++k) {
        if (k) {
          write(U',');
          whitespace = false;
        }
        if (!whitespace) write(U' ');
        Node kn = Node::str(n.map[k].first);
        write_string(kn, true, true, indent);
        write(U':');
        whitespace = false;
        flow_node(n.map[k].second, indent);
      }
      write(U'}');
      whitespace = false;
    } else if (n.kind == Node::Kind::string) {
      write_string(n, false, true, indent);
    } else {
      scalar(n, indent, true);
    }
  }

  enum class Ctx { root, map_value, seq_item };

  // Emits a value; `indent` is the owning key's column (map_value) or the dash column (seq_item).
  void value(const Node& n, int indent, Ctx ctx) {
    bool collection = n.kind == Node::Kind::sequence || n.kind == Node::Kind::mapping;
    bool empty = (n.kind == Node::Kind::sequence && n.seq.empty()) ||
                 (n.kind == Node::Kind::mapping && n.map.empty());
    if (!collection) {
      if (ctx == Ctx::root && n.kind == Node::Kind::null) {
        write_ascii("null");
        return;
      }
      scalar(n, ctx == Ctx::root ? 2 : indent + 2);
      return;
    }
    if (empty || n.flow) {
      flow_node(n, ctx == Ctx::root ? 2 : indent + 2);
      return;
    }
    if (n.kind == Node::Kind::mapping) {
      int child = ctx == Ctx::root ? 0 : indent + 2;
      for (size_t k = 0; k < n.map.size(); ++k) {
        if (k == 0 && ctx == Ctx::root) {
        } else if (k == 0 && ctx == Ctx::seq_item) {
          write(U' ');
          whitespace = true;
        } else {
          newline_indent(child);
        }
        key(n.map[k].first);
        value(n.map[k].second, child, Ctx::map_value);
      }
    } else {
      int dash = ctx == Ctx::root ? 0 : ctx == Ctx::map_value ? indent : indent + 2;
      for (size_t k = 0; k < n.seq.size(); ++k) {
        if (k == 0 && ctx == Ctx::root) {
        } else if (k == 0 && ctx == Ctx::seq_item) {
          write(U' ');
        } else {
          newline_indent(dash);
        }
        write(U'-');
        whitespace = false;
        value(n.seq[k], dash, Ctx::seq_item);
      }
    }
  }
};

}  // namespace

std::string emit(const Node& doc) {
  Writer w;
  w.value(doc, 0, Writer::Ctx::root);
  w.out += '\n';
  return std::move(w.out);
}

std::string quote_scalar(std::string_view s) {
  Writer w;
  Node n = Node::str(std::string(s));
  w.write_string(n, false, false, 2);
  w.whitespace = true;
  return std::move(w.out);
}

// ---------------------------------------------------------------------------------------------
// apply_diff

static bool is_container(const Node& n) {
  return n.kind == Node::Kind::mapping || n.kind == Node::Kind::sequence;
}

void apply_diff(const Node& src, Node& dest) {
  if (src.kind == Node::Kind::mapping && dest.kind == Node::Kind::mapping) {
    for (auto& [k, v] : src.map) {
      Node* d = dest.find(k);
      if (d && is_container(v) && d->kind == v.kind) {
        apply_diff(v, *d);
      } else if (!d || !equal(v, *d)) {
        dest.set(k, v);
      }
    }
    std::erase_if(dest.map, [&](const auto& kv) { return src.find(kv.first) == nullptr; });
  } else if (src.kind == Node::Kind::sequence && dest.kind == Node::Kind::sequence) {
    if (src.seq.size() != dest.seq.size()) {
      dest.seq = src.seq;
      dest.flow = src.flow;
      return;
    }
    for (size_t k = 0; k < src.seq.size(); ++k) {
      const Node& v = src.seq[k];
      if (is_container(v) && dest.seq[k].kind == v.kind) apply_diff(v, dest.seq[k]);
      else if (!equal(v, dest.seq[k])) dest.seq[k] = v;
    }
  } else {
    dest = src;
  }
}

}  // namespace dvx::yaml
