#include "dvx/formats/dvc_yaml.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>
#include <unordered_map>

#include "dvx/base/strings.h"
#include "dvx/formats/unicode.h"

namespace dvx::formats {

using yaml::Node;
using Kind = yaml::Node::Kind;

namespace {

// ---------------------------------------------------------------------------------------------
// Pretty error texts (DVC's rich output: code snippets with line numbers and indent guides)

constexpr int k_console_width = 80;

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(start, nl - start));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = nl + 1;
  }
  return out;
}

// rich's Text.with_indent_guides(4): leading spaces become "│   " per full indent; blank lines take the
// guides of the next non-blank line.
std::vector<std::string> with_indent_guides(const std::vector<std::string>& lines) {
  std::vector<std::string> out;
  size_t blanks = 0;
  for (const auto& line : lines) {
    size_t n = 0;
    while (n < line.size() && line[n] == ' ') ++n;
    if (n == line.size()) {
      ++blanks;
      continue;
    }
    std::string guide;
    for (size_t i = 0; i < n / 4; ++i) guide += "\u2502   ";
    guide.append(n % 4, ' ');
    for (; blanks > 0; --blanks) out.push_back(guide);
    out.push_back(guide + line.substr(n));
  }
  for (; blanks > 0; --blanks) out.emplace_back();
  return out;
}

size_t display_width(std::string_view s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;
  return w;
}

// rich's divide_line(): greedy word wrap of `line` at `width` cells (a word is `\s*\S+\s*`; its
// trailing blanks may overflow; words longer than the width are folded), then each part's trailing
// blanks past the width dropped.
std::vector<std::string> wrap_words(const std::string& line, size_t width) {
  std::u32string u = utf8_decode(line);
  auto blank = [](char32_t c) { return c == U' ' || c == U'\t'; };
  std::vector<size_t> breaks;
  size_t offset = 0, i = 0;
  while (i < u.size()) {
    size_t start = i;
    while (i < u.size() && blank(u[i])) ++i;
    while (i < u.size() && !blank(u[i])) ++i;
    size_t stripped_end = i;
    while (i < u.size() && blank(u[i])) ++i;
    size_t word_len = stripped_end - start, full_len = i - start;
    if (width >= offset + word_len) {
      offset += full_len;
    } else if (word_len > width) {
      for (size_t pos = start; pos < i; pos += width) {
        if (pos) breaks.push_back(pos);
        offset = std::min(width, i - pos);
      }
    } else {
      breaks.push_back(start);
      offset = full_len;
    }
  }
  std::vector<std::string> parts;
  size_t from = 0;
  breaks.push_back(u.size());
  for (size_t br : breaks) {
    if (br < from || (br == from && !parts.empty())) continue;
    std::u32string part = u.substr(from, br - from);
    while (part.size() > width && !part.empty() && blank(part.back())) part.pop_back();
    if (part.size() > width) part.resize(width);
    parts.push_back(utf8_encode(part));
    from = br;
  }
  if (parts.empty()) parts.emplace_back();
  return parts;
}

// rich Syntax(line_numbers=True, word_wrap=True, indent_guides=True) of `lines` (already sliced),
// the first numbered `first_no`; `last_no` sizes the number column as rich does.
std::string code_snippet(const std::vector<std::string>& lines, int first_no, int last_no) {
  size_t num_width = std::to_string(last_no).size() + 2;
  size_t code_width = k_console_width - num_width - 1;
  std::string out;
  int no = first_no;
  for (const auto& line : lines) {
    std::string num = std::to_string(no++);
    std::string prefix =
        "  " + std::string(num_width - 2 > num.size() ? num_width - 2 - num.size() : 0, ' ') + num + " ";
    std::vector<std::string> parts = wrap_words(line, code_width);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (!out.empty()) out += "\n";
      out += i == 0 ? prefix : std::string(num_width + 1, ' ');
      out += parts[i];
      size_t pw = display_width(parts[i]);
      if (pw < code_width) out.append(code_width - pw, ' ');
    }
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out = to_lower(s);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z') out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out;
}

// ruamel's wording for the problems yaml-cpp reports under other names.
std::string ruamel_problem(const std::string& what) {
  static const std::map<std::string, std::string> names = {
      {"illegal map value", "mapping values are not allowed in this context"},
      {"end of sequence flow not found", "expected ',' or ']', but got '<stream end>'"},
      {"end of map flow not found", "expected ',' or '}', but got '<stream end>'"},
      {"the referenced anchor is not defined", "found undefined alias"},
  };
  auto it = names.find(what);
  return it == names.end() ? what : it->second;
}

// Python's str() of a scalar as ruamel constructed it; nullopt for collections.
std::optional<std::string> py_scalar_str(const Node& n) {
  switch (n.kind) {
    case Kind::null:
      return "None";
    case Kind::boolean:
      return n.b ? "True" : "False";
    case Kind::integer:
      return std::to_string(n.i);
    case Kind::floating:
      return yaml::float_text(n.f);
    case Kind::string:
      return n.s;
    default:
      return std::nullopt;
  }
}

struct Duplicate {
  int map_line = 0, map_column = 0;
  std::string value, original;
};

const Node* find_mapping_with(const Node& n, const std::string& key) {
  if (n.kind == Kind::mapping && n.find(key)) return &n;
  for (const auto& v : n.seq)
    if (const Node* m = find_mapping_with(v, key)) return m;
  for (const auto& [k, v] : n.map)
    if (const Node* m = find_mapping_with(v, key)) return m;
  return nullptr;
}

// ruamel names the mapping and both values of a duplicate key: the document is read again with
// the second (plain) key renamed, to find them.
std::optional<Duplicate> describe_duplicate(std::string_view text, const std::string& key, int line,
                                            int col) {
  size_t off = 0;
  for (int l = 1; l < line && off != std::string_view::npos; ++l) {
    off = text.find('\n', off);
    if (off != std::string_view::npos) ++off;
  }
  if (off == std::string_view::npos) return std::nullopt;
  off += static_cast<size_t>(col - 1);
  if (off >= text.size() || text.compare(off, key.size(), key) != 0) return std::nullopt;
  const std::string marker = "\x01dvx-duplicate\x01";
  std::string renamed(text.substr(0, off));
  renamed += marker + key;
  renamed += text.substr(off + key.size());
  auto doc = yaml::parse(renamed, "dvc.yaml");
  if (!doc) return std::nullopt;
  const Node* m = find_mapping_with(*doc, marker + key);
  if (!m || !m->find(key)) return std::nullopt;
  auto value = py_scalar_str(*m->find(marker + key));
  auto original = py_scalar_str(*m->find(key));
  if (!value || !original) return std::nullopt;
  return Duplicate{m->line, m->column, *value, *original};
}

}  // namespace

Error yaml_syntax_error(const Error& parse_error, std::string_view text, const std::string& filename);

namespace {

Error syntax_error(const Error& parse_error, std::string_view text, const std::string& filename) {
  return yaml_syntax_error(parse_error, text, filename);
}

}  // namespace

// "'<file>' is invalid.\n\n<Problem>, in line L, column C\n<snippet>" from yaml::parse's
// "'<file>':L:C: what".
Error yaml_syntax_error(const Error& parse_error, std::string_view text, const std::string& filename) {
  std::string msg = parse_error.message;
  std::string prefix = "'" + filename + "':";
  int line = 0, col = 0;
  std::string what = msg;
  if (msg.starts_with(prefix)) {
    std::string rest = msg.substr(prefix.size());
    size_t c1 = rest.find(':');
    size_t c2 = c1 == std::string::npos ? std::string::npos : rest.find(':', c1 + 1);
    if (c2 != std::string::npos) {
      try {
        line = std::stoi(rest.substr(0, c1));
        col = std::stoi(rest.substr(c1 + 1, c2 - c1 - 1));
        what = rest.substr(c2 + 1);
        if (what.starts_with(" ")) what.erase(0, 1);
      } catch (...) {
        line = col = 0;
      }
    }
  }
  std::string out = "'" + filename + "' is invalid.";
  auto lines = split_lines(text);
  auto code_at = [&](int ln) {
    std::string code = ln < 1 || ln > static_cast<int>(lines.size()) ? "" : lines[ln - 1];
    return code_snippet(with_indent_guides({code}), ln, ln);
  };
  if (what.starts_with("duplicate key '") && line > 0) {
    std::string key = what.substr(15, what.size() - 16);
    if (auto dup = describe_duplicate(text, key, line, col)) {
      out += "\n\n" + capitalize("while constructing a mapping") + ", in line " +
             std::to_string(dup->map_line) + ", column " + std::to_string(dup->map_column) + "\n" +
             code_at(dup->map_line) + "\n\n";
      out += capitalize("found duplicate key \"" + key + "\" with value \"" + dup->value +
                        "\" (original value: \"" + dup->original + "\")") +
             ", in line " + std::to_string(line) + ", column " + std::to_string(col) + "\n" + code_at(line);
      return Error{ErrorCode::corruption, std::move(out)};
    }
  }
  if (line > 0) {
    out += "\n\n" + capitalize(ruamel_problem(what)) + ", in line " + std::to_string(line) + ", column " +
           std::to_string(col) + "\n" + code_at(line);
  } else {
    out += "\n\n" + capitalize(ruamel_problem(what));
  }
  return Error{ErrorCode::corruption, std::move(out)};
}

namespace {

// ---------------------------------------------------------------------------------------------
// Schema validation (DVC's voluptuous MULTI_STAGE_SCHEMA)

struct Seg {
  std::string key;
  bool index = false;
};
using Path = std::vector<Seg>;

struct SchemaError {
  Path path;
  std::string what;
  const Node* at = nullptr;      // the value at `path` (the mapping holding it when it is missing)
  const Node* parent = nullptr;  // the collection holding `at`, null at the top
};
using Errors = std::vector<SchemaError>;

Path sub(const Path& p, std::string key, bool index = false) {
  Path out = p;
  out.push_back(Seg{std::move(key), index});
  return out;
}

void add_error(Errors& e, const Path& p, std::string what, const Node& at, const Node* parent) {
  e.push_back(SchemaError{p, std::move(what), &at, parent});
}

// Position of `key` in the mapping `m`, found in the source (nodes keep no key positions).
std::pair<int, int> key_position(const Node& m, const std::string& key,
                                 const std::vector<std::string>& lines) {
  auto matches_at = [&](const std::string& line, size_t col) {
    for (const std::string& form : {key, "'" + key + "'", "\"" + key + "\""}) {
      if (line.compare(col, form.size(), form) != 0) continue;
      size_t j = col + form.size();
      while (j < line.size() && line[j] == ' ') ++j;
      if (j < line.size() && line[j] == ':') return true;
    }
    return false;
  };
  if (m.line <= 0 || m.column <= 0) return {0, 0};
  for (size_t ln = static_cast<size_t>(m.line); ln <= lines.size(); ++ln) {
    const std::string& line = lines[ln - 1];
    if (m.flow) {
      size_t from = ln == static_cast<size_t>(m.line) ? static_cast<size_t>(m.column - 1) : 0;
      for (size_t c = from; c < line.size(); ++c) {
        bool boundary = c == 0 || line[c - 1] == '{' || line[c - 1] == ',' || line[c - 1] == ' ';
        if (boundary && matches_at(line, c)) return {static_cast<int>(ln), static_cast<int>(c + 1)};
      }
      continue;
    }
    size_t col = static_cast<size_t>(m.column - 1);
    if (line.size() <= col) continue;
    bool indent_ok = std::all_of(line.begin(), line.begin() + static_cast<long>(col),
                                 [](char c) { return c == ' ' || c == '-'; });
    if (!indent_ok) {
      if (ln > static_cast<size_t>(m.line) && line.find_first_not_of(' ') < col) break;  // left the mapping
      continue;
    }
    if (matches_at(line, col)) return {static_cast<int>(ln), static_cast<int>(col + 1)};
  }
  return {0, 0};
}

// Where DVC points for an error (determine_linecol): a collection's own position, else the key or
// the item that holds the value.
std::pair<int, int> error_position(const SchemaError& e, const std::vector<std::string>& lines) {
  const Node& at = *e.at;
  bool collection = at.kind == Kind::mapping || at.kind == Kind::sequence;
  if (!collection && e.parent && e.parent->kind == Kind::mapping && !e.path.empty()) {
    auto pos = key_position(*e.parent, e.path.back().key, lines);
    if (pos.first) return pos;
    return {at.line ? at.line : e.parent->line, e.parent->column};
  }
  if (at.line) return {at.line, at.column};
  if (e.parent) return {e.parent->line, e.parent->column};
  return {1, 1};
}

using Check = std::function<void(const Node&, const Path&, const Node* parent, Errors&)>;

// voluptuous Any(): the first alternative that validates; else the errors of the first one with the
// deepest path.
void any_of(const Node& n, const Path& p, const Node* parent, Errors& e, std::initializer_list<Check> alts) {
  Errors best;
  bool have = false;
  for (const auto& alt : alts) {
    Errors t;
    alt(n, p, parent, t);
    if (t.empty()) return;
    if (!have || t.front().path.size() > best.front().path.size()) {
      best = std::move(t);
      have = true;
    }
  }
  e.insert(e.end(), best.begin(), best.end());
}

Check type_check(Kind k, const char* what) {
  return [k, what](const Node& n, const Path& p, const Node* parent, Errors& e) {
    if (n.kind != k) add_error(e, p, what, n, parent);
  };
}
const Check k_str = type_check(Kind::string, "expected str");
const Check k_bool = type_check(Kind::boolean, "expected bool");
const Check k_list_type = type_check(Kind::sequence, "expected list");
const Check k_dict_type = type_check(Kind::mapping, "expected dict");
const Check k_any = [](const Node&, const Path&, const Node*, Errors&) {};

// A literal list schema [alts...]: every item must match one alternative.
Check list_of(std::vector<Check> alts) {
  return [alts](const Node& n, const Path& p, const Node* parent, Errors& e) {
    if (n.kind != Kind::sequence) return add_error(e, p, "expected a list", n, parent);
    for (size_t i = 0; i < n.seq.size(); ++i) {
      Path ip = sub(p, std::to_string(i), true);
      Errors invalid;
      bool ok = false;
      for (const auto& alt : alts) {
        Errors t;
        alt(n.seq[i], ip, &n, t);
        if (t.empty()) {
          ok = true;
          break;
        }
        if (t.front().path.size() > ip.size()) {  // a deeper error is raised at once
          e.insert(e.end(), t.begin(), t.end());
          return;
        }
        invalid = std::move(t);
      }
      if (!ok) e.insert(e.end(), invalid.begin(), invalid.end());
    }
  };
}

struct KeyRule {
  std::string_view key;
  Check check;
  bool required = false;
};

// A literal dict schema with fixed keys (extra keys refused).
Check dict_of(std::vector<KeyRule> rules) {
  return [rules](const Node& n, const Path& p, const Node* parent, Errors& e) {
    if (n.kind != Kind::mapping) return add_error(e, p, "expected a dictionary", n, parent);
    for (const auto& [k, v] : n.map) {
      auto it = std::find_if(rules.begin(), rules.end(), [&](const KeyRule& r) { return r.key == k; });
      if (it == rules.end())
        add_error(e, sub(p, k), "extra keys not allowed", v, &n);
      else
        it->check(v, sub(p, k), &n, e);
    }
    for (const auto& r : rules)
      if (r.required && !n.find(r.key))
        add_error(e, sub(p, std::string(r.key)), "required key not provided", n, parent);
  };
}

// A literal dict schema {str: value}.
Check dict_each(Check value) {
  return [value](const Node& n, const Path& p, const Node* parent, Errors& e) {
    if (n.kind != Kind::mapping) return add_error(e, p, "expected a dictionary", n, parent);
    for (const auto& [k, v] : n.map) value(v, sub(p, k), &n, e);
  };
}

std::vector<KeyRule> out_option_rules(bool plot) {
  std::vector<KeyRule> r = {
      {"desc", k_str},        {"type", k_str},   {"labels", list_of({k_str})},
      {"meta", k_any},        {"cache", k_bool}, {"persist", k_bool},
      {"checkpoint", k_bool}, {"remote", k_str}, {"push", k_bool},
  };
  if (plot) {
    for (std::string_view k : {"template", "x", "y", "x_label", "y_label", "title"}) r.push_back({k, k_str});
    r.push_back({"header", k_bool});
  }
  return r;
}

const Check& stage_definition() {
  static const Check out_entry = [](const Node& n, const Path& p, const Node* parent, Errors& e) {
    static const Check detailed = dict_each(dict_of(out_option_rules(false)));
    any_of(n, p, parent, e, {k_str, detailed});
  };
  static const Check plot_entry = [](const Node& n, const Path& p, const Node* parent, Errors& e) {
    static const Check props = dict_of(out_option_rules(true));
    static const Check props_list = list_of({props});
    static const Check detailed =
        dict_each([](const Node& v, const Path& vp, const Node* vparent, Errors& ve) {
          any_of(v, vp, vparent, ve, {props, props_list});
        });
    any_of(n, p, parent, e, {k_str, detailed});
  };
  static const Check cmd = [](const Node& n, const Path& p, const Node* parent, Errors& e) {
    any_of(n, p, parent, e, {k_str, k_list_type});
  };
  static const Check params_item = [](const Node& n, const Path& p, const Node* parent, Errors& e) {
    any_of(n, p, parent, e, {k_str, k_dict_type});
  };
  static const Check matrix = dict_each([](const Node& n, const Path& p, const Node* parent, Errors& e) {
    any_of(n, p, parent, e, {k_str, k_list_type});
  });
  static const Check def = dict_of({
      {"matrix", matrix},
      {"cmd", cmd, true},
      {"wdir", k_str},
      {"deps", list_of({k_str})},
      {"params", list_of({params_item})},
      {"vars", list_of({k_str, k_dict_type})},
      {"frozen", k_bool},
      {"meta", k_any},
      {"desc", k_str},
      {"always_changed", k_bool},
      {"outs", list_of({out_entry})},
      {"metrics", list_of({out_entry})},
      {"plots", list_of({plot_entry})},
  });
  return def;
}

void validate_stage(const Node& n, const Path& p, const Node* parent, Errors& e) {
  static const Check foreach_in = dict_of({
      {"foreach",
       [](const Node& v, const Path& vp, const Node* vparent, Errors& ve) {
         any_of(v, vp, vparent, ve, {k_dict_type, k_list_type, k_str});
       },
       true},
      {"do", stage_definition(), true},
  });
  if (n.kind == Kind::mapping && (n.find("foreach") || n.find("do")))
    foreach_in(n, p, parent, e);
  else
    stage_definition()(n, p, parent, e);
}

void validate_document(const Node& doc, Errors& e) {
  static const Check plot_definition = dict_of({
      {"x",
       [](const Node& n, const Path& p, const Node* parent, Errors& e2) {
         any_of(n, p, parent, e2, {k_str, dict_each(k_str)});
       }},
      {"y",
       [](const Node& n, const Path& p, const Node* parent, Errors& e2) {
         static const Check str_or_list = [](const Node& v, const Path& vp, const Node* vparent, Errors& ve) {
           any_of(v, vp, vparent, ve, {k_str, list_of({k_str})});
         };
         any_of(n, p, parent, e2, {k_str, list_of({k_str}), dict_each(str_or_list)});
       }},
      {"x_label", k_str},
      {"y_label", k_str},
      {"title", k_str},
      {"template", k_str},
  });
  static const Check single_plot = [](const Node& n, const Path& p, const Node* parent, Errors& e2) {
    if (n.kind != Kind::mapping) return add_error(e2, p, "expected a dictionary", n, parent);
    if (n.map.empty())
      return add_error(e2, sub(p, "<class 'str'>", true), "required key not provided", n, parent);
    for (const auto& [k, v] : n.map) {
      if (v.is_null()) continue;
      plot_definition(v, sub(p, k), &n, e2);
    }
  };
  static const Check top = dict_of({
      {"datasets", k_any},
      {"plots", list_of({k_str, single_plot})},
      {"stages", dict_each(validate_stage)},
      {"vars", list_of({k_str, k_dict_type})},
      {"params", list_of({k_str})},
      {"metrics", list_of({k_str})},
      {"artifacts", dict_each(dict_of({{"path", k_str, true},
                                       {"desc", k_str},
                                       {"type", k_str},
                                       {"labels", list_of({k_str})},
                                       {"meta", k_any}}))},
  });
  top(doc, {}, nullptr, e);
}

std::string voluptuous_path(const Path& p) {
  std::string out = "data";
  for (const auto& s : p) out += s.index ? "[" + s.key + "]" : "['" + s.key + "']";
  return out;
}

Error validation_error(const Errors& errors, std::string_view text, const std::string& filename,
                       bool doc_is_mapping) {
  std::string out = "'" + filename + "' validation failed";
  if (errors.size() > 1) out += ": " + std::to_string(errors.size()) + " errors";
  // DVC cannot point at a key that is missing: its pretty printer fails and the plain log line is
  // printed instead ("ERROR: " + the exception and its cause).
  bool missing = std::any_of(errors.begin(), errors.end(),
                             [](const SchemaError& e) { return e.what == "required key not provided"; });
  if (missing) {
    const SchemaError& first = errors.front();
    return Error{ErrorCode::corruption, out + ": " + first.what + " @ " + voluptuous_path(first.path)};
  }
  if (!doc_is_mapping) return Error{ErrorCode::corruption, out + ": " + errors.front().what + "."};
  out += ".\n";
  // rich splits the code keeping the blank line after a final newline.
  auto lines = split_lines(text);
  if (text.ends_with("\n")) lines.emplace_back();
  int last_no = 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
  for (const auto& err : errors) {
    out += "\n" + err.what;
    if (!err.path.empty()) {
      std::vector<std::string> parts;
      for (const auto& s : err.path) parts.push_back(s.key);
      out += ", in " + join(parts, " -> ");
    }
    auto [line, column] = error_position(err, lines);
    if (line) out += ", line " + std::to_string(line);
    if (column) out += ", column " + std::to_string(column);
    int first = std::max(1, line - 1);
    int last = std::min(static_cast<int>(lines.size()), line + 1);
    std::vector<std::string> slice;
    for (int i = first; i <= last; ++i) slice.push_back(lines[i - 1]);
    if (!slice.empty()) out += "\n" + code_snippet(with_indent_guides(slice), first, last_no);
    out += "\n";
  }
  out.pop_back();
  return Error{ErrorCode::corruption, std::move(out)};
}

// ---------------------------------------------------------------------------------------------
// Interpolation and generators

// Python str() of a value as DVC's to_str() does for generated names.
std::string to_str(const Node& n) {
  switch (n.kind) {
    case Kind::null:
      return "None";
    case Kind::boolean:
      return n.b ? "true" : "false";
    case Kind::integer:
      return std::to_string(n.i);
    case Kind::floating: {
      std::string t = yaml::float_text(n.f);
      if (t == ".inf") return "inf";
      if (t == "-.inf") return "-inf";
      if (t == ".nan") return "nan";
      return t;
    }
    case Kind::string:
      return n.s;
    default:
      return "";
  }
}

const char* py_type(const Node& n) { return python_type_name(n); }

bool is_map_or_seq(const Node& n) {
  return n.kind == Kind::mapping || n.kind == Kind::sequence;
}

bool any_interpolation(const Node& n) {
  if (n.kind == Kind::string) return has_interpolation(n.s);
  for (const auto& v : n.seq)
    if (any_interpolation(v)) return true;
  for (const auto& [k, v] : n.map)
    if (has_interpolation(k) || any_interpolation(v)) return true;
  return false;
}

// os.path.normpath() of a relative path ("a/./b/../c" -> "a/c", "" -> ".").
std::string normalize_rel(const std::string& p) {
  std::vector<std::string> parts;
  for (auto& part : split(p, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..")
      parts.pop_back();
    else
      parts.push_back(part);
  }
  std::string out = join(parts, "/");
  if (p.starts_with("/")) out = "/" + out;
  return out.empty() ? "." : out;
}

// Stages one generator may produce: a bound on the work (each copies the variable context), far
// above any real pipeline.
constexpr size_t k_max_generated = 100'000;

struct Resolver {
  std::string relpath;  // the file as DVC names it in resolve errors ("dvc.yaml")
  const VarsLoader& load;
  const FlagStyle& flags;
  std::vector<std::string>& warnings;

  static std::string preamble(const std::string& what, const std::string& file, const std::string& msg) {
    bool multi = msg.find('\n') != std::string::npos || msg.starts_with("cannot redefine") ||
                 msg.starts_with("cannot load") || msg.starts_with("cannot partially");
    return "failed to parse " + what + " in '" + file + "':" + (multi ? "\n" : " ") + msg;
  }

  std::unexpected<Error> fail_at(const std::string& what, const Error& e) const {
    return std::unexpected(Error{e.code == ErrorCode::not_found ? ErrorCode::invalid_argument : e.code,
                                 preamble(what, relpath, e.message)});
  }

  // Loads `vars` items into `ctx`; `imports` tracks the files loaded (nullopt: whole file).
  Status load_vars(Context& ctx, const Node& vars, const std::string& wdir, const std::string& stage_name,
                   std::map<std::string, std::optional<std::vector<std::string>>>& imports) const {
    for (size_t i = 0; i < vars.seq.size(); ++i) {
      const Node& item = vars.seq[i];
      if (item.kind == Kind::mapping) {
        std::string src = (stage_name.empty() ? "" : stage_name + ".") + "vars[" + std::to_string(i) + "]";
        if (auto st = ctx.merge(item, src); !st) return st;
        continue;
      }
      if (item.kind != Kind::string) continue;
      std::string path = item.s, keys_str;
      if (size_t colon = path.find(':'); colon != std::string::npos) {
        keys_str = path.substr(colon + 1);
        path.resize(colon);
      }
      std::vector<std::string> keys;
      for (auto& k : split(keys_str, ','))
        if (!k.empty()) keys.push_back(k);
      std::string full = normalize_rel(wdir.empty() || wdir == "." ? path : wdir + "/" + path);
      if (auto it = imports.find(full); it != imports.end()) {
        if (keys.empty() && !it->second) continue;
        bool disjoint = true;
        if (it->second)
          for (const auto& k : keys)
            if (std::find(it->second->begin(), it->second->end(), k) != it->second->end()) disjoint = false;
        if (keys.empty() || !disjoint)
          return fail(ErrorCode::invalid_argument,
                      "cannot load '" + item.s + "' as it's partially loaded already");
        if (!it->second)
          return fail(ErrorCode::invalid_argument,
                      "cannot partially load '" + item.s + "' as it's already loaded.");
      }
      std::string spec = full + (keys_str.empty() ? "" : ":" + keys_str);
      if (auto st = ctx.load_vars_item(Node::str(spec), load); !st) return st;
      if (keys.empty())
        imports[full] = std::nullopt;
      else
        imports[full] = keys;
    }
    return {};
  }

  using Imports = std::map<std::string, std::optional<std::vector<std::string>>>;

  // One stage (plain or generated) from its definition `def` (without generator keys).
  Result<StageDef> resolve_stage(const Context& base, const Imports& base_imports, const std::string& name,
                                 const Node& def) const {
    std::string where = "'stages." + name + ".";
    Context ctx = base;
    std::string wdir = ".";
    if (const Node* w = def.find("wdir")) {
      auto r = resolve(*w, ctx, false, flags);
      if (!r) return fail_at(where + "wdir'", r.error());
      wdir = to_str(*r);
    }
    if (const Node* vars = def.find("vars")) {
      if (any_interpolation(*vars))
        return fail(ErrorCode::invalid_argument,
                    "failed to parse " + where + "vars' in '" + relpath + "': interpolating is not allowed");
      Imports imports = base_imports;
      if (auto st = load_vars(ctx, *vars, wdir, name, imports); !st) {
        const std::string& m = st.error().message;
        if (m.starts_with("cannot load") || m.starts_with("cannot partially"))
          return fail_at(where + "vars'", st.error());
        return fail_at("stage '" + name + "'", st.error());
      }
    }
    Node resolved = Node::mapping();
    for (const auto& [k, v] : def.map) {
      if (k == "vars") continue;
      auto r = resolve(v, ctx, k == "cmd", flags);
      if (!r) return fail_at(where + k + "'", r.error());
      resolved.map.emplace_back(k, std::move(*r));
    }
    return to_stage(name, resolved);
  }

  Result<StageDef> to_stage(const std::string& name, const Node& d) const {
    StageDef s;
    s.name = name;
    for (const auto& [k, v] : d.map) {
      if (k == "cmd") {
        s.cmd = v;
      } else if (k == "wdir") {
        s.wdir = to_str(v);
      } else if (k == "deps") {
        for (const auto& x : v.seq) s.deps.push_back(to_str(x));
      } else if (k == "params") {
        auto st = merge_params(v, s.params);
        if (!st) return std::unexpected(st.error());
      } else if (k == "frozen") {
        s.frozen = v.kind == Kind::boolean && v.b;
      } else if (k == "always_changed") {
        s.always_changed = v.kind == Kind::boolean && v.b;
      } else if (k == "desc") {
        if (v.kind == Kind::string) s.desc = v.s;
      }
    }
    for (auto [key, kind] :
         {std::pair{"outs", StageOut::Kind::out}, std::pair{"metrics", StageOut::Kind::metric},
          std::pair{"plots", StageOut::Kind::plot}}) {
      const Node* list = d.find(key);
      if (!list) continue;
      auto st = merge_outs(*list, kind, s.outs);
      if (!st) return std::unexpected(st.error());
    }
    return s;
  }

  // dependency._merge_params(): grouped by file in first-appearance order.
  static Status merge_params(const Node& list, std::vector<StageParams>& out) {
    std::set<std::string> whole;
    for (const auto& item : list.seq)
      if (item.kind == Kind::mapping)
        for (const auto& [f, keys] : item.map)
          if (keys.is_null() || (keys.kind == Kind::sequence && keys.seq.empty()) ||
              (keys.kind == Kind::string && keys.s.empty()) ||
              (keys.kind == Kind::mapping && keys.map.empty()))
            whole.insert(f);
    auto entry = [&](const std::string& file) -> StageParams& {
      for (auto& p : out)
        if (p.file == file) return p;
      out.push_back(StageParams{file, {}, whole.contains(file)});
      return out.back();
    };
    for (const auto& item : list.seq) {
      if (item.kind != Kind::mapping) {
        if (!whole.contains("params.yaml")) entry("params.yaml").keys.push_back(to_str(item));
        continue;
      }
      for (const auto& [f, keys] : item.map) {
        StageParams& p = entry(f);
        if (p.whole_file) continue;
        if (keys.kind != Kind::sequence)
          return fail(ErrorCode::invalid_argument, "Expected list of params for custom params file '" + f +
                                                       "', got '" + py_type(keys) + "'.");
        for (const auto& k : keys.seq) p.keys.push_back(to_str(k));
      }
    }
    return {};
  }

  // output._merge_data(): entries of one kind merged by path in first-appearance order.
  static Status merge_outs(const Node& list, StageOut::Kind kind, std::vector<StageOut>& outs) {
    size_t first = outs.size();
    auto entry = [&](const std::string& path) -> StageOut& {
      for (size_t i = first; i < outs.size(); ++i)
        if (outs[i].path == path) return outs[i];
      StageOut o;
      o.kind = kind;
      o.path = path;
      outs.push_back(std::move(o));
      return outs.back();
    };
    for (const auto& item : list.seq) {
      if (item.kind != Kind::mapping) {
        entry(to_str(item));
        continue;
      }
      for (const auto& [path, opts] : item.map) {
        if (opts.kind != Kind::mapping)
          return fail(ErrorCode::invalid_argument,
                      "Expected dict for '" + path + "', got: '" + py_type(opts) + "'");
        StageOut& o = entry(path);
        if (o.options.is_null()) o.options = Node::mapping();
        for (const auto& [k, v] : opts.map) {
          o.options.set(k, v);
          if (k == "cache" && v.kind == Kind::boolean)
            o.cache = v.b;
          else if (k == "persist" && v.kind == Kind::boolean)
            o.persist = v.b;
          else if (k == "push" && v.kind == Kind::boolean)
            o.push = v.b;
          else if (k == "remote" && v.kind == Kind::string)
            o.remote = v.s;
          else if (k == "desc" && v.kind == Kind::string)
            o.desc = v.s;
        }
      }
    }
    return {};
  }

  void warn_overwrite(const Context& ctx, const std::vector<std::string>& keys,
                      const std::string& name) const {
    std::vector<std::string> present;
    for (const auto& k : keys)
      if (ctx.data().find(k)) present.push_back(k);
    if (present.empty()) return;
    warnings.push_back(join(present, " and ") + (present.size() == 1 ? " is" : " are") +
                       " already specified, will be overwritten for stages generated from '" + name + "'");
  }

  Status foreach_stages(const Context& ctx, const Imports& imports, const std::string& name, const Node& def,
                        int line, std::vector<StageDef>& out) const {
    auto iterable = resolve(*def.find("foreach"), ctx, false, flags);
    if (!iterable) return fail_at("'stages." + name + ".foreach'", iterable.error());
    if (!is_map_or_seq(*iterable))
      return fail(ErrorCode::invalid_argument, "failed to resolve 'stages." + name + ".foreach' in '" +
                                                   relpath + "': expected list/dictionary, got " +
                                                   py_type(*iterable));
    bool is_map = iterable->kind == Kind::mapping;
    warn_overwrite(ctx, is_map ? std::vector<std::string>{"item", "key"} : std::vector<std::string>{"item"},
                   name);
    std::vector<std::pair<std::string, Node>> items;
    std::unordered_map<std::string, size_t> item_pos;  // a later equal key replaces the value in place
    auto put = [&](std::string key, const Node& value) {
      auto [it, fresh] = item_pos.emplace(key, items.size());
      if (!fresh) {
        items[it->second].second = value;
        return;
      }
      items.emplace_back(std::move(key), value);
    };
    if (is_map) {
      for (const auto& [k, v] : iterable->map) put(k, v);
    } else {
      bool composite = std::any_of(iterable->seq.begin(), iterable->seq.end(), is_map_or_seq);
      for (size_t i = 0; i < iterable->seq.size(); ++i)
        put(composite ? std::to_string(i) : to_str(iterable->seq[i]), iterable->seq[i]);
    }
    if (items.size() > k_max_generated)
      return fail(ErrorCode::invalid_argument,
                  "failed to parse 'stages." + name + ".foreach' in '" + relpath + "': more than " +
                      std::to_string(k_max_generated) + " stages would be generated");
    const Node& tmpl = *def.find("do");
    for (const auto& [key, value] : items) {
      Context c = ctx;
      c.set("item", value);
      if (is_map) c.set("key", Node::str(key));
      auto st = resolve_stage(c, imports, name + "@" + key, tmpl);
      if (!st) return std::unexpected(st.error());
      st->group = name;
      st->line = line;
      out.push_back(std::move(*st));
    }
    return {};
  }

  Status matrix_stages(const Context& ctx, const Imports& imports, const std::string& name, const Node& def,
                       int line, std::vector<StageDef>& out) const {
    auto matrix = resolve(*def.find("matrix"), ctx, false, flags);
    if (!matrix) return fail_at("'stages." + name + ".matrix'", matrix.error());
    warn_overwrite(ctx, {"key", "item"}, name);
    // Each dimension as its values (a string iterates over its characters, as Python's enumerate).
    std::vector<std::pair<std::string, std::vector<Node>>> dims;
    for (const auto& [k, v] : matrix->map) {
      std::vector<Node> values;
      if (v.kind == Kind::sequence)
        values = v.seq;
      else if (v.kind == Kind::mapping)
        for (const auto& [mk, mv] : v.map) values.push_back(Node::str(mk));
      else if (v.kind == Kind::string)
        for (char ch : v.s) values.push_back(Node::str(std::string(1, ch)));
      else
        return fail(ErrorCode::invalid_argument, "failed to parse 'stages." + name + ".matrix' in '" +
                                                     relpath + "': '" + py_type(v) +
                                                     "' object is not iterable");
      dims.emplace_back(k, std::move(values));
    }
    size_t total = 1;
    for (const auto& d : dims) {
      if (!d.second.empty() && total > k_max_generated / d.second.size())
        return fail(ErrorCode::invalid_argument,
                    "failed to parse 'stages." + name + ".matrix' in '" + relpath + "': more than " +
                        std::to_string(k_max_generated) + " stages would be generated");
      total *= d.second.size();
    }
    Node tmpl = Node::mapping();
    for (const auto& [k, v] : def.map)
      if (k != "matrix") tmpl.map.emplace_back(k, v);
    std::vector<std::pair<std::string, Node>> combos;
    std::vector<size_t> idx(dims.size(), 0);
    bool empty =
        dims.empty() || std::any_of(dims.begin(), dims.end(), [](auto& d) { return d.second.empty(); });
    while (!empty) {
      Node item = Node::mapping();
      std::vector<std::string> fragments;
      for (size_t d = 0; d < dims.size(); ++d) {
        const Node& v = dims[d].second[idx[d]];
        item.set(dims[d].first, v);
        fragments.push_back(is_map_or_seq(v) ? dims[d].first + std::to_string(idx[d]) : to_str(v));
      }
      std::string key = join(fragments, "-");
      bool replaced = false;
      for (auto& [k, v] : combos)
        if (k == key) {
          v = item;
          replaced = true;
        }
      if (!replaced) combos.emplace_back(key, std::move(item));
      size_t d = dims.size();
      while (d > 0) {
        --d;
        if (++idx[d] < dims[d].second.size()) break;
        idx[d] = 0;
        if (d == 0) empty = true;
      }
      if (dims.empty()) break;
    }
    for (const auto& [key, item] : combos) {
      Context c = ctx;
      c.set("key", Node::str(key));
      c.set("item", item);
      auto st = resolve_stage(c, imports, name + "@" + key, tmpl);
      if (!st) return std::unexpected(st.error());
      st->group = name;
      st->line = line;
      out.push_back(std::move(*st));
    }
    return {};
  }
};


// The line of a stage's key in `stages`.
int key_line(const Node& stages, const std::string& name, const Node& value,
             const std::vector<std::string>& lines) {
  if (int line = key_position(stages, name, lines).first) return line;
  if (value.line == 0) return 0;
  return value.kind == Kind::mapping && !value.flow && value.line > 1 ? value.line - 1 : value.line;
}

// GTO's artifact name rule.
bool valid_artifact_name(std::string_view name) {
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (name.empty() || !alnum(name.front()) || !alnum(name.back())) return false;
  return std::all_of(name.begin(), name.end(),
                     [&](char c) { return alnum(c) || c == '-' || c == '/' || c == '_'; });
}

}  // namespace

std::vector<std::string> StageDef::command_lines() const {
  std::vector<std::string> out;
  if (cmd.kind == Kind::sequence) {
    for (const auto& item : cmd.seq) out.push_back(to_str(item));
    return out;
  }
  // str.splitlines(): \n, \r, \r\n, \v, \f, \x1c-\x1e, U+0085, U+2028, U+2029.
  std::string text = to_str(cmd), cur;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t skip = 0;
    if (c == '\n' || c == '\v' || c == '\f' || (c >= 0x1c && c <= 0x1e))
      skip = 1;
    else if (c == '\r')
      skip = i + 1 < text.size() && text[i + 1] == '\n' ? 2 : 1;
    else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x85)
      skip = 2;
    else if (c == 0xE2 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
             (static_cast<unsigned char>(text[i + 2]) == 0xA8 ||
              static_cast<unsigned char>(text[i + 2]) == 0xA9))
      skip = 3;
    if (skip == 0) {
      cur += text[i];
      continue;
    }
    out.push_back(std::move(cur));
    cur.clear();
    i += skip - 1;
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

std::string StageDef::cmd_text() const {
  if (cmd.kind != Kind::sequence) return to_str(cmd);
  std::vector<std::string> parts;
  for (const auto& item : cmd.seq) parts.push_back(to_str(item));
  return join(parts, "\n");
}

Result<DvcYaml> parse_dvc_yaml(std::string_view text, const std::string& filename, const VarsLoader& load,
                               const FlagStyle& flags) {
  if (!is_valid_utf8(text)) {
    std::string rel = filename.starts_with("./") ? filename.substr(2) : filename;
    return fail(ErrorCode::corruption, "unable to read: '" + rel + "', is not valid utf-8");
  }
  auto parsed = yaml::parse(text, filename);
  if (!parsed) return std::unexpected(syntax_error(parsed.error(), text, filename));
  DvcYaml out;
  Node doc = std::move(*parsed);
  if (doc.is_null()) doc = Node::mapping();

  Errors errors;
  validate_document(doc, errors);
  if (!errors.empty()) return std::unexpected(validation_error(errors, text, filename, doc.is_mapping()));

  Resolver r{filename.starts_with("./") ? filename.substr(2) : filename, load, flags, out.warnings};

  // Global context: params.yaml when it exists, then `vars`.
  Context ctx;
  Resolver::Imports imports;
  Node no_vars = Node::sequence();
  const Node* vars = doc.find("vars");
  if (!vars) vars = &no_vars;
  if (any_interpolation(*vars))
    return fail(ErrorCode::invalid_argument,
                "failed to parse 'vars' in '" + r.relpath + "': interpolating is not allowed");
  {
    auto params = load("params.yaml");
    if (params) {
      if (params->kind != Kind::mapping && !params->is_null())
        return fail(ErrorCode::invalid_argument, "failed to parse 'vars' in '" + r.relpath +
                                                     "': expected a dictionary, got '" + py_type(*params) +
                                                     "' in file 'params.yaml'");
      if (params->is_mapping())
        if (auto st = ctx.merge(*params, "params.yaml"); !st) return r.fail_at("'vars'", st.error());
      imports["params.yaml"] = std::nullopt;
    } else if (params.error().code != ErrorCode::not_found) {
      return r.fail_at("'vars'", params.error());
    }
  }
  if (auto st = r.load_vars(ctx, *vars, ".", "", imports); !st) return r.fail_at("'vars'", st.error());

  if (const Node* stages = doc.find("stages")) {
    auto lines = split_lines(text);
    for (const auto& [name, def] : stages->map) {
      int line = key_line(*stages, name, def, lines);
      if (def.find("matrix")) {
        if (auto st = r.matrix_stages(ctx, imports, name, def, line, out.stages); !st)
          return std::unexpected(st.error());
      } else if (def.find("foreach")) {
        if (auto st = r.foreach_stages(ctx, imports, name, def, line, out.stages); !st)
          return std::unexpected(st.error());
      } else {
        auto st = r.resolve_stage(ctx, imports, name, def);
        if (!st) return std::unexpected(st.error());
        st->line = line;
        out.stages.push_back(std::move(*st));
      }
    }
  }

  // Top-level sections, resolved eagerly like DVC's TopDefinition.
  auto top = [&](const char* key, auto&& each) -> Status {
    const Node* list = doc.find(key);
    if (!list) return {};
    for (size_t i = 0; i < list->seq.size(); ++i) {
      auto v = resolve(list->seq[i], ctx, false, flags);
      if (!v) return r.fail_at("'" + std::string(key) + "." + std::to_string(i) + "'", v.error());
      each(std::move(*v));
    }
    return {};
  };
  if (auto st = top("params", [&](Node v) { out.params.push_back(to_str(v)); }); !st)
    return std::unexpected(st.error());
  if (auto st = top("metrics", [&](Node v) { out.metrics.push_back(to_str(v)); }); !st)
    return std::unexpected(st.error());
  if (doc.find("plots")) {
    out.plots = Node::sequence();
    if (auto st = top("plots", [&](Node v) { out.plots.push_back(std::move(v)); }); !st)
      return std::unexpected(st.error());
  }
  if (doc.find("datasets") && doc.find("datasets")->is_sequence()) {
    out.datasets = Node::sequence();
    if (auto st = top("datasets", [&](Node v) { out.datasets.push_back(std::move(v)); }); !st)
      return std::unexpected(st.error());
  }
  if (const Node* arts = doc.find("artifacts")) {
    out.artifacts = Node::mapping();
    for (const auto& [written, def] : arts->map) {
      // The name is interpolated too, and must stay a string.
      auto name = resolve(Node::str(written), ctx, false, flags);
      if (!name) return r.fail_at("'artifacts." + written + "'", name.error());
      if (!name->is_string())
        return fail(ErrorCode::invalid_argument, "failed to resolve 'artifacts." + written + "' in '" +
                                                     r.relpath + "': expected str, got " + py_type(*name));
      auto v = resolve(def, ctx, false, flags);
      if (!v) return r.fail_at("'artifacts." + written + "'", v.error());
      if (!valid_artifact_name(name->s))
        out.warnings.push_back("Can't use '" + name->s + "' as artifact name (ID).");
      out.artifacts.set(name->s, std::move(*v));
    }
  }
  out.doc = std::move(doc);
  return out;
}

bool is_pretty_error(std::string_view message) {
  std::string_view first = message.substr(0, message.find('\n'));
  if (!first.starts_with("'")) return false;
  if (first.find("' is invalid") != std::string_view::npos) return true;
  size_t at = first.find("' validation failed");
  return at != std::string_view::npos && first.ends_with(".");
}

Error yaml_file_error(const Error& parse_error, std::string_view text, const std::string& filename) {
  const std::string& m = parse_error.message;
  if (m.find("document too") != std::string::npos || m.find("nested") != std::string::npos ||
      m.find("nesting") != std::string::npos) {
    // "'<file>':L:C: what" -> "'<file>' is invalid.\n\nwhat, in line L, column C"
    std::string what = m, pos;
    std::string prefix = "'" + filename + "':";
    size_t colon = std::string::npos;
    if (m.starts_with(prefix)) colon = m.find(": ", prefix.size());
    if (colon != std::string::npos) {
      pos = m.substr(prefix.size(), colon - prefix.size());
      what = m.substr(colon + 2);
      size_t c = pos.find(':');
      if (c != std::string::npos) pos = ", in line " + pos.substr(0, c) + ", column " + pos.substr(c + 1);
      else pos.clear();
    }
    return Error{parse_error.code, "'" + filename + "' is invalid.\n\n" + what + pos};
  }
  return yaml_syntax_error(parse_error, text, filename);
}

bool valid_stage_name(std::string_view name) {
  // DVC refuses string.punctuation except '_' and '-'; anything else (spaces, non-ASCII) passes.
  if (name.empty()) return false;
  return std::none_of(name.begin(), name.end(), [](char c) {
    return std::ispunct(static_cast<unsigned char>(c)) && c != '_' && c != '-';
  });
}

std::string dvc_error_path(const std::string& path_from_cwd) {
  if (path_from_cwd.starts_with("..") || path_from_cwd.starts_with("/")) return path_from_cwd;
  return "./" + path_from_cwd;
}

}  // namespace dvx::formats
