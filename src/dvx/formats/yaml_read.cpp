// The YAML reader: yaml-cpp's event parser building Nodes (marks, duplicate keys, limits).
#include "dvx/formats/yaml.h"

#include <algorithm>
#include <charconv>
#include <istream>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "dvx/formats/limits.h"
#include "dvx/formats/yaml_resolve.h"

namespace dvx::yaml {

using detail::Implicit;
using detail::parse_float;
using detail::parse_int;
using detail::resolve;

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
      detail::type_plain_scalar(n, value);
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
  if (auto n = detail::read_block_subset(text, limits)) return std::move(*n);
  return detail::parse_full(text, filename, limits);
}

Result<Node> detail::parse_full(std::string_view text, const std::string& filename,
                                const formats::ParseLimits& limits) {
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

}  // namespace dvx::yaml
