// The YAML writer: DVC's ruamel.yaml dumper, byte for byte.
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

#include "dvx/formats/py_float.h"
#include "dvx/formats/unicode.h"
#include "dvx/formats/yaml_resolve.h"

namespace dvx::yaml {

using detail::Implicit;
using detail::parse_float;
using detail::parse_int;
using detail::resolve;
using formats::utf8_append;
using formats::utf8_decode;

std::string float_text(double v) {
  if (std::isnan(v)) return ".nan";
  if (std::isinf(v)) return v > 0 ? ".inf" : "-.inf";
  return formats::py_float_repr(v);
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
        Node kn = Node::str(n.map[k].first);  // its writer puts the one space after ','
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


}  // namespace dvx::yaml
