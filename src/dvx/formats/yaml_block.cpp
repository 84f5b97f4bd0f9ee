// A fast reader for the block-style YAML subset that DVC and dvx write (dvc.lock, .dvc files,
// dvc.yaml, params.yaml): block mappings and sequences, single-line plain and quoted scalars,
// comments, empty flow collections. It builds the same Nodes, with the same positions, as the
// yaml-cpp reader, and gives up (nullopt) on anything else — anchors, tags, flow collections,
// multi-line scalars, tabs, several documents, errors — which the yaml-cpp reader then reads and
// reports. tests/unit/formats/yaml_block_test.cpp compares the two readers on generated documents.
#include <string>
#include <unordered_set>
#include <vector>

#include "dvx/formats/unicode.h"
#include "dvx/formats/yaml.h"
#include "dvx/formats/yaml_resolve.h"

namespace dvx::yaml::detail {

namespace {

struct GiveUp {};

// Whether the text is valid UTF-8 without control characters other than "\n", byte-order marks or
// the Unicode line breaks YAML also honours (NEL, LS, PS).
bool plain_text(std::string_view t) {
  const auto* p = reinterpret_cast<const unsigned char*>(t.data());
  const auto* e = p + t.size();
  while (p < e) {
    unsigned char c = *p;
    if (c < 0x80) {
      if ((c < 0x20 && c != '\n') || c == 0x7f) return false;
      ++p;
      continue;
    }
    int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
    if (n < 0 || c > 0xf4 || e - p <= n) return false;
    char32_t cp = c & (0x3f >> n);
    for (int k = 1; k <= n; ++k) {
      if ((p[k] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp == 0x85 || cp == 0x2028 || cp == 0x2029 ||
        cp == 0xfeff || (cp >= 0x80 && cp < 0xa0))
      return false;
    p += n + 1;
  }
  return true;
}

class BlockReader {
 public:
  BlockReader(std::string_view text, const formats::ParseLimits& limits) : m_t(text), m_budget(limits) {
    size_t b = 0;
    while (b < m_t.size()) {
      size_t e = m_t.find('\n', b);
      if (e == std::string_view::npos) e = m_t.size();
      Line l{b, e, 0, true};
      size_t p = b;
      while (p < e && m_t[p] == ' ') ++p;
      l.indent = static_cast<int>(p - b);
      l.blank = p == e || m_t[p] == '#';
      // yaml-cpp refuses a scalar past its read-ahead bound: leave long lines to it
      if (e - b > limits.max_lookahead / 2) throw GiveUp{};
      m_lines.push_back(l);
      b = e + 1;
    }
    m_eof_line = 1;
    for (char c : m_t) m_eof_line += c == '\n';
  }

  Node read() {
    size_t j = next_sig(0);
    if (j == m_lines.size()) return Node{};
    Node root = node_at(j, m_lines[j].indent, 0, -1);
    if (root.kind != Node::Kind::mapping && root.kind != Node::Kind::sequence) throw GiveUp{};
    if (next_sig(m_line) != m_lines.size()) throw GiveUp{};
    return root;
  }

 private:
  struct Line {
    size_t begin, end;
    int indent;
    bool blank;  // empty, spaces only, or a comment
  };
  std::string_view m_t;
  formats::ParseBudget m_budget;
  std::vector<Line> m_lines;
  size_t m_line = 0;  // the line after the last value read
  size_t m_eof_line = 1;  // where yaml-cpp places the end of the text

  size_t next_sig(size_t from) const {
    while (from < m_lines.size() && m_lines[from].blank) ++from;
    return from;
  }
  std::string_view text(size_t line, int col) const {
    const Line& l = m_lines[line];
    return m_t.substr(l.begin + col, l.end - l.begin - col);
  }
  static void place(Node& n, size_t line, int col) {
    n.line = static_cast<int>(line) + 1;
    n.column = col + 1;
  }
  // Where yaml-cpp puts an empty value: at the next token, or past the end.
  void place_null(Node& n, size_t from) const {
    size_t j = next_sig(from);
    if (j == m_lines.size()) {
      // past the end: yaml-cpp's column there depends on how the last line ends; only the common
      // case (a final newline) is read here
      if (m_t.empty() || m_t.back() != '\n') throw GiveUp{};
      n.line = static_cast<int>(m_eof_line);
      n.column = 1;
    } else {
      place(n, j, m_lines[j].indent);
    }
  }
  void charge(uint64_t nodes, uint64_t bytes) {
    if (!m_budget.charge(nodes, bytes)) throw GiveUp{};
  }
  void enter(size_t depth) {
    if (!m_budget.enter(depth)) throw GiveUp{};
  }

  static bool is_dash(std::string_view s) { return !s.empty() && s[0] == '-' && (s.size() == 1 || s[1] == ' '); }
  static bool rest_is_empty(std::string_view s) {
    size_t p = s.find_first_not_of(' ');
    return p == std::string_view::npos || s[p] == '#';
  }
  // Whether a comment or the end of the line follows `s` (after spaces); a comment needs a space before it.
  static void expect_end(std::string_view s) {
    if (s.empty()) return;
    if (s[0] != ' ') throw GiveUp{};
    if (!rest_is_empty(s)) throw GiveUp{};
  }

  // Length of a quoted scalar starting at s[0] (the quote), closing quote included; 0 when it does
  // not close on this line.
  static size_t quoted_len(std::string_view s) {
    char q = s[0];
    for (size_t p = 1; p < s.size(); ++p) {
      if (q == '\'' && s[p] == '\'') {
        if (p + 1 < s.size() && s[p + 1] == '\'') {
          ++p;
          continue;
        }
        return p + 1;
      }
      if (q == '"') {
        if (s[p] == '\\') {
          ++p;
          continue;
        }
        if (s[p] == '"') return p + 1;
      }
    }
    return 0;
  }

  static unsigned hex(std::string_view s) {
    unsigned v = 0;
    for (char c : s) {
      v <<= 4;
      if (c >= '0' && c <= '9') v |= c - '0';
      else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
      else throw GiveUp{};
    }
    return v;
  }

  static std::string unquote(std::string_view s) {
    std::string out;
    std::string_view in = s.substr(1, s.size() - 2);
    out.reserve(in.size());
    if (s[0] == '\'') {
      for (size_t p = 0; p < in.size(); ++p) {
        out.push_back(in[p]);
        if (in[p] == '\'') ++p;
      }
      return out;
    }
    for (size_t p = 0; p < in.size(); ++p) {
      char c = in[p];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      char e = in[++p];
      size_t n = 0;
      switch (e) {
        case '\\': out.push_back('\\'); break;
        case '"': out.push_back('"'); break;
        case '/': out.push_back('/'); break;
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case '0': out.push_back('\0'); break;
        case 'a': out.push_back('\a'); break;
        case 'b': out.push_back('\b'); break;
        case 'e': out.push_back('\x1b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        case 'x': n = 2; break;
        case 'u': n = 4; break;
        case 'U': n = 8; break;
        default: throw GiveUp{};
      }
      if (n) {
        if (p + n >= in.size()) throw GiveUp{};
        unsigned cp = hex(in.substr(p + 1, n));
        if (cp == 0 || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) throw GiveUp{};
        formats::utf8_append(out, static_cast<char32_t>(cp));
        p += n;
      }
    }
    return out;
  }

  // Plain scalar text (comment and trailing spaces cut), or GiveUp when it is not a simple one.
  static std::string_view plain(std::string_view s) {
    if (s.empty()) throw GiveUp{};
    switch (s[0]) {
      case '[': case ']': case '{': case '}': case ',': case '#': case '&': case '*': case '!':
      case '|': case '>': case '\'': case '"': case '%': case '@': case '`': case '?': case ':':
      case ' ':
        throw GiveUp{};
      case '-':
        if (s.size() == 1 || s[1] == ' ') throw GiveUp{};
        break;
      default: break;
    }
    size_t end = s.size();
    for (size_t p = 1; p < s.size(); ++p) {
      if (s[p] == '#' && s[p - 1] == ' ') {
        end = p;
        break;
      }
      if (s[p] == ':' && (p + 1 == s.size() || s[p + 1] == ' ')) throw GiveUp{};
    }
    while (end > 0 && s[end - 1] == ' ') --end;
    if (s[end - 1] == ':') throw GiveUp{};
    s = s.substr(0, end);
    if (s == "---" || s == "...") throw GiveUp{};
    return s;
  }

  // Lines after `line` that continue a scalar of a block whose column is `parent_col` (indented
  // deeper, not comments): appends them folded ("a\n  b" -> "a b", an empty line -> "\n") and
  // returns the last line used. `plain_lines`: each must be a whole plain text.
  size_t fold_lines(size_t line, int parent_col, std::string& out, bool plain_lines) const {
    size_t last = line;
    size_t empties = 0;
    for (size_t j = line + 1; j < m_lines.size(); ++j) {
      const Line& l = m_lines[j];
      if (l.indent == static_cast<int>(l.end - l.begin)) {  // empty or spaces only
        ++empties;
        continue;
      }
      if (l.blank || l.indent <= parent_col) break;  // a comment, or the next entry
      if (l.end - m_lines[line].begin > m_budget.limits().max_lookahead / 2) throw GiveUp{};
      std::string_view t = text(j, l.indent);
      while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
      if (plain_lines && plain(t) != t) throw GiveUp{};
      if (empties)
        out.append(empties, '\n');
      else
        out.push_back(' ');
      out.append(t);
      empties = 0;
      last = j;
    }
    return last;
  }

  // A scalar (or a one-line flow sequence of scalars) starting at (line, col) inside a block whose
  // column is `parent_col`; sets m_line past it.
  Node inline_value(size_t line, int col, size_t depth, int parent_col) {
    std::string_view s = text(line, col);
    Node n;
    place(n, line, col);
    m_line = line + 1;
    if (s[0] == '[' || s[0] == '{') {
      enter(depth + 1);
      charge(1, 0);
      n.kind = s[0] == '[' ? Node::Kind::sequence : Node::Kind::mapping;
      n.flow = true;
      size_t p = s.find_first_not_of(' ', 1);
      char close = s[0] == '[' ? ']' : '}';
      if (p == std::string_view::npos) throw GiveUp{};
      if (s[p] != close) {
        if (s[0] != '[') throw GiveUp{};
        p = flow_items(n, line, col, p);
      }
      expect_end(s.substr(p + 1));
      return n;
    }
    if (s[0] == '\'' || s[0] == '"') {
      size_t len = quoted_len(s);
      if (!len) {
        // a quoted scalar over several lines: single quotes only, folded like plain text
        if (s[0] != '\'') throw GiveUp{};
        std::string_view first = s;
        while (!first.empty() && first.back() == ' ') first.remove_suffix(1);
        std::string joined(first);
        size_t last = fold_lines(line, parent_col, joined, false);
        if (last == line) throw GiveUp{};
        // the closing quote ends the last line (a comment may follow)
        std::string_view lt = text(last, m_lines[last].indent);
        size_t close = std::string_view::npos;
        for (size_t p = 0; p < lt.size(); ++p) {
          if (lt[p] != '\'') continue;
          if (p + 1 < lt.size() && lt[p + 1] == '\'') {
            ++p;
            continue;
          }
          close = p;
          break;
        }
        if (close == std::string_view::npos) throw GiveUp{};
        expect_end(lt.substr(close + 1));
        joined.resize(joined.size() - trailing_len(lt, close));
        if (quoted_len(joined) != joined.size()) throw GiveUp{};
        n.kind = Node::Kind::string;
        n.s = unquote(joined);
        charge(1, n.s.size());
        m_line = last + 1;
        return n;
      }
      expect_end(s.substr(len));
      n.kind = Node::Kind::string;
      n.s = unquote(s.substr(0, len));
      charge(1, n.s.size());
      return n;
    }
    std::string_view first = plain(s);
    std::string folded;
    size_t last = line;
    if (first.size() == s.size() || rest_is_empty(s.substr(first.size()))) {
      // no comment on the first line: the text may continue on deeper lines
      if (first.size() == s.size() || s.substr(first.size()).find('#') == std::string_view::npos) {
        folded.assign(first);
        last = fold_lines(line, parent_col, folded, true);
      }
    }
    std::string_view v = last == line ? first : std::string_view(folded);
    charge(1, v.size());
    detail::type_plain_scalar(n, v);
    m_line = last + 1;
    return n;
  }

  // Bytes after the closing quote at `close` in the (right-trimmed) last line of a folded scalar.
  static size_t trailing_len(std::string_view last_line, size_t close) {
    std::string_view t = last_line;
    while (!t.empty() && t.back() == ' ') t.remove_suffix(1);
    return t.size() - close - 1;
  }

  // The items of "[a, 'b', 3]" on one line from offset p (the first item); returns the offset of ']'.
  size_t flow_items(Node& n, size_t line, int col, size_t p) {
    std::string_view s = text(line, col);
    while (true) {
      size_t start = p;
      Node item;
      place(item, line, col + static_cast<int>(start));
      if (s[p] == '\'' || s[p] == '"') {
        size_t len = quoted_len(s.substr(p));
        if (!len) throw GiveUp{};
        item.kind = Node::Kind::string;
        item.s = unquote(s.substr(p, len));
        charge(1, item.s.size());
        p += len;
      } else {
        size_t e = p;
        while (e < s.size() && s[e] != ',' && s[e] != ']') {
          char c = s[e];
          if (c == '[' || c == '{' || c == '}' || c == '#' || c == ':' || c == '&' || c == '*' ||
              c == '!' || c == '|' || c == '>' || c == '\'' || c == '"' || c == '%' || c == '@' ||
              c == '`' || c == '?' || c == '-')
            if (e == p || c != '-') throw GiveUp{};
          ++e;
        }
        size_t ve = e;
        while (ve > p && s[ve - 1] == ' ') --ve;
        if (ve == p) throw GiveUp{};
        std::string_view v = s.substr(p, ve - p);
        charge(1, v.size());
        detail::type_plain_scalar(item, v);
        p = e;
      }
      n.seq.push_back(std::move(item));
      while (p < s.size() && s[p] == ' ') ++p;
      if (p >= s.size()) throw GiveUp{};
      if (s[p] == ']') return p;
      if (s[p] != ',') throw GiveUp{};
      ++p;
      while (p < s.size() && s[p] == ' ') ++p;
      if (p >= s.size() || s[p] == ']') throw GiveUp{};
    }
  }

  // Where a mapping key on this line ends: the offset of its ':' (from `col`), or npos.
  size_t key_colon(size_t line, int col) const {
    std::string_view s = text(line, col);
    size_t p = 0;
    if (!s.empty() && (s[0] == '\'' || s[0] == '"')) {
      p = quoted_len(s);
      if (!p) return std::string_view::npos;
      size_t q = s.find_first_not_of(' ', p);
      if (q == std::string_view::npos || s[q] != ':' || (q + 1 < s.size() && s[q + 1] != ' '))
        return std::string_view::npos;
      return q;
    }
    for (; p < s.size(); ++p) {
      if (s[p] == '#' && p > 0 && s[p - 1] == ' ') return std::string_view::npos;
      if (s[p] == ':' && (p + 1 == s.size() || s[p + 1] == ' ')) return p;
    }
    return std::string_view::npos;
  }

  // The node that starts at (line, col): a sequence, a mapping or a scalar.
  Node node_at(size_t line, int col, size_t depth, int parent_col) {
    std::string_view s = text(line, col);
    if (is_dash(s)) return sequence_at(line, col, depth + 1);
    if (key_colon(line, col) != std::string_view::npos) return mapping_at(line, col, depth + 1);
    return inline_value(line, col, depth, parent_col);
  }

  // The value after "key:" or "-" with nothing else on the line; `col` is the key's or dash's
  // column; a sequence may sit at the key's own column.
  Node value_below(size_t line, int col, bool seq_same_column, size_t depth) {
    size_t j = next_sig(line + 1);
    if (j < m_lines.size()) {
      int ind = m_lines[j].indent;
      if (ind > col || (seq_same_column && ind == col && is_dash(text(j, ind)))) {
        Node n = node_at(j, ind, depth, col);
        if (n.kind != Node::Kind::sequence && n.kind != Node::Kind::mapping) {
          // a scalar on its own line: no continuation line may follow
          size_t k = next_sig(m_line);
          if (k < m_lines.size() && m_lines[k].indent > col) throw GiveUp{};
        }
        return n;
      }
    }
    Node n;
    charge(1, 0);
    place_null(n, line + 1);
    m_line = line + 1;
    return n;
  }

  Node mapping_at(size_t line, int col, size_t depth) {
    enter(depth);
    charge(1, 0);
    Node m;
    m.kind = Node::Kind::mapping;
    place(m, line, col);
    // Duplicate keys: a scan of the keys so far while the mapping is small (most are), a hash
    // set once it grows (a dvc.lock's `stages:` has one key per stage).
    constexpr size_t k_scan_limit = 16;
    std::unordered_set<std::string> keys;
    auto duplicate = [&](const std::string& key) {
      if (m.map.size() < k_scan_limit) {
        for (auto& [k, _] : m.map)
          if (k == key) return true;
        return false;
      }
      if (keys.empty())
        for (auto& [k, _] : m.map) keys.insert(k);
      return !keys.insert(key).second;
    };
    while (true) {
      size_t colon = key_colon(line, col);
      if (colon == std::string_view::npos) throw GiveUp{};
      std::string_view s = text(line, col);
      std::string key;
      if (s[0] == '\'' || s[0] == '"') {
        key = unquote(s.substr(0, quoted_len(s)));
      } else {
        std::string_view k = s.substr(0, colon);
        while (!k.empty() && k.back() == ' ') k.remove_suffix(1);
        key = std::string(plain(k));
        if (resolve(key) == Implicit::null) throw GiveUp{};  // yaml-cpp reads "~:" as an empty key
      }
      charge(1, key.size());
      if (duplicate(key)) throw GiveUp{};
      std::string_view rest = s.substr(colon + 1);
      Node v;
      if (rest_is_empty(rest)) {
        v = value_below(line, col, true, depth);
      } else {
        int vcol = col + static_cast<int>(colon + 1 + rest.find_first_not_of(' '));
        if (is_dash(text(line, vcol))) throw GiveUp{};
        v = inline_value(line, vcol, depth, col);
      }
      m.map.emplace_back(std::move(key), std::move(v));
      size_t j = next_sig(m_line);
      if (j == m_lines.size() || m_lines[j].indent < col) break;
      if (m_lines[j].indent > col || is_dash(text(j, col))) throw GiveUp{};
      line = j;
    }
    return m;
  }

  Node sequence_at(size_t line, int col, size_t depth) {
    enter(depth);
    charge(1, 0);
    Node q;
    q.kind = Node::Kind::sequence;
    place(q, line, col);
    while (true) {
      std::string_view s = text(line, col);
      if (!is_dash(s)) throw GiveUp{};
      Node v;
      if (rest_is_empty(s.substr(1))) {
        v = value_below(line, col, false, depth);
      } else {
        int icol = col + 1 + static_cast<int>(s.substr(1).find_first_not_of(' '));
        std::string_view item = text(line, icol);
        if (is_dash(item)) throw GiveUp{};
        if (key_colon(line, icol) != std::string_view::npos) {
          v = mapping_at(line, icol, depth + 1);
        } else {
          v = inline_value(line, icol, depth, col);
        }
      }
      q.seq.push_back(std::move(v));
      size_t j = next_sig(m_line);
      if (j == m_lines.size() || m_lines[j].indent < col) break;
      if (m_lines[j].indent > col) throw GiveUp{};
      if (!is_dash(text(j, col))) break;  // a sequence under a key at the key's column ends here
      line = j;
    }
    return q;
  }
};

}  // namespace

std::optional<Node> read_block_subset(std::string_view text, const formats::ParseLimits& limits) {
  if (text.size() > limits.max_bytes || !plain_text(text)) return std::nullopt;
  try {
    BlockReader r(text, limits);  // may give up while splitting lines
    return r.read();
  } catch (const GiveUp&) {
    return std::nullopt;
  }
}

}  // namespace dvx::yaml::detail
