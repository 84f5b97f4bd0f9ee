#include "dvx/formats/ini.h"

#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "dvx/base/strings.h"
#include "dvx/formats/limits.h"

namespace dvx::formats {

namespace {

// Python's str.isspace for ASCII, which is what configobj's `\s` matches in practice.
bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_quote(char c) { return c == '"' || c == '\''; }

size_t skip_ws(std::string_view s, size_t p) {
  while (p < s.size() && is_ws(s[p])) ++p;
  return p;
}

std::string_view rtrim(std::string_view s) {
  size_t e = s.size();
  while (e > 0 && is_ws(s[e - 1])) --e;
  return s.substr(0, e);
}

// configobj's _unquote: strips one pair of matching outer quotes.
std::string unquote(std::string_view s) {
  if (s.size() >= 2 && s.front() == s.back() && is_quote(s.front())) return std::string(s.substr(1, s.size() - 2));
  return std::string(s);
}

// A repr of the line for messages, like Python's repr of a str (single quotes).
std::string line_repr(std::string_view line) {
  bool has_single = line.find('\'') != std::string_view::npos;
  bool has_double = line.find('"') != std::string_view::npos;
  char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (char c : line) {
    if (c == '\\') out += "\\\\";
    else if (c == q) out += std::string("\\") + q;
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  out += q;
  return out;
}

struct SectionMarker {
  int opens = 0;
  int closes = 0;
  std::string name;  // unquoted
};

// For every position k of a line, the number of closing brackets that
// `(\s*\])+\s*(#.*)?$` matches from k, or -1: computed once per line, right to left, so that
// trying every possible end of a section name stays linear in the line's length.
std::vector<int> closers_table(std::string_view line) {
  const size_t n = line.size();
  std::vector<char> tail(n + 1);  // `\s*(#.*)?$` matches from k
  std::vector<size_t> next(n + 1);  // first non-space at or after k
  std::vector<int> cl(n + 1, -1);
  tail[n] = 1;
  next[n] = n;
  for (size_t k = n; k-- > 0;) {
    tail[k] = line[k] == '#' || (is_ws(line[k]) && tail[k + 1]);
    next[k] = is_ws(line[k]) ? next[k + 1] : k;
  }
  for (size_t k = n + 1; k-- > 0;) {
    size_t s = next[k];
    if (s >= n || line[s] != ']') continue;
    size_t after = next[s + 1];
    if (after < n && line[after] == ']') cl[k] = cl[s + 1] >= 0 ? 1 + cl[s + 1] : -1;
    else cl[k] = tail[s + 1] ? 1 : -1;
  }
  return cl;
}

// configobj's _sectionmarker regex, written out, for a name starting at p.
std::optional<SectionMarker> match_name_at(std::string_view line, size_t p, const std::vector<int>& cl) {
  if (p >= line.size()) return std::nullopt;
  SectionMarker m;
  char first = line[p];
  if (is_quote(first)) {
    // "\s*\S.*?\s*" : a non-space inside, the first closing quote followed by the brackets.
    size_t non_space = p + 1;
    while (non_space < line.size() && is_ws(line[non_space])) ++non_space;
    for (size_t k = p + 1; k < line.size(); ++k) {
      if (line[k] != first || k <= non_space) continue;
      if (cl[k + 1] >= 0) {
        m.closes = cl[k + 1];
        m.name = unquote(line.substr(p, k + 1 - p));
        return m;
      }
    }
    return std::nullopt;
  }
  if (is_ws(first)) return std::nullopt;
  for (size_t k = p + 1; k <= line.size(); ++k) {
    if (cl[k] >= 0) {
      m.closes = cl[k];
      m.name = std::string(line.substr(p, k - p));
      return m;
    }
  }
  return std::nullopt;
}

// configobj's _sectionmarker regex, written out (with its backtracking over the openers).
// More openers than the nesting limit are not tried (`too_deep` is set).
std::optional<SectionMarker> match_section(std::string_view line, bool& too_deep) {
  size_t p = skip_ws(line, 0);
  if (p >= line.size() || line[p] != '[') return std::nullopt;
  std::vector<size_t> name_starts;  // where the name starts after 1, 2, ... openers
  while (p < line.size() && line[p] == '[') {
    if (name_starts.size() >= k_parse_limits.max_depth) {
      too_deep = true;
      return std::nullopt;
    }
    p = skip_ws(line, p + 1);
    name_starts.push_back(p);
  }
  const std::vector<int> cl = closers_table(line);
  for (size_t n = name_starts.size(); n > 0; --n) {
    if (auto m = match_name_at(line, name_starts[n - 1], cl)) {
      m->opens = static_cast<int>(n);
      return m;
    }
  }
  return std::nullopt;
}

struct KeywordLine {
  std::string key;  // unquoted, not lower-cased yet
  std::string_view value;
};

// configobj's _keyword regex: `(\s*)((?:".*?")|(?:'.*?')|(?:[^'"=].*?))\s*=\s*(.*)$`.
std::optional<KeywordLine> match_keyword(std::string_view line) {
  size_t p = skip_ws(line, 0);
  if (p >= line.size()) return std::nullopt;
  size_t eq = std::string_view::npos;
  std::string_view raw_key;
  if (is_quote(line[p])) {
    for (size_t k = p + 1; k < line.size(); ++k) {
      if (line[k] != line[p]) continue;
      size_t a = skip_ws(line, k + 1);
      if (a < line.size() && line[a] == '=') {
        raw_key = line.substr(p, k + 1 - p);
        eq = a;
        break;
      }
    }
  }
  if (eq == std::string_view::npos) {
    // Unquoted key `[^'"=].*?`; when the text starts with a quote or '=', the regex backtracks
    // into the indentation and the key starts with its last whitespace character.
    size_t start = p;
    if (is_quote(line[p]) || line[p] == '=') {
      if (p == 0) return std::nullopt;
      start = p - 1;
    }
    eq = line.find('=', start + 1);
    if (eq == std::string_view::npos) return std::nullopt;
    raw_key = line.substr(start, eq - start);
    size_t e = raw_key.size();
    while (e > 1 && is_ws(raw_key[e - 1])) --e;
    raw_key = raw_key.substr(0, e);
  }
  KeywordLine kw;
  kw.key = unquote(raw_key);
  kw.value = line.substr(skip_ws(line, eq + 1));
  return kw;
}

struct ParsedValue {
  std::string value;
  bool is_list = false;
  std::vector<std::string> items;
};

// True when s[p..] is `\s*(#.*)?$`.
bool rest_is_comment(std::string_view s, size_t p) {
  p = skip_ws(s, p);
  return p == s.size() || s[p] == '#';
}

// configobj's _handle_value for one-line values (list_values on). nullopt = syntax error.
std::optional<ParsedValue> parse_value(std::string_view v) {
  ParsedValue out;
  size_t p = 0;
  if (p < v.size() && v[p] == ',') {
    if (!rest_is_comment(v, p + 1)) return std::nullopt;
    out.is_list = true;
    out.value = ",";
    return out;
  }
  std::vector<std::string> items;
  bool saw_comma = false;
  size_t text_end = 0;  // end of the value text (before the comment)
  while (true) {
    p = skip_ws(v, p);
    if (p >= v.size() || v[p] == '#') {
      if (!saw_comma) {  // empty value
        out.value = "";
        return out;
      }
      break;  // trailing comma
    }
    std::string item;
    size_t after = 0;
    if (is_quote(v[p])) {
      bool found = false;
      for (size_t k = p + 1; k < v.size(); ++k) {
        if (v[k] != v[p]) continue;
        size_t a = skip_ws(v, k + 1);
        if (a == v.size() || v[a] == '#' || v[a] == ',') {
          item = std::string(v.substr(p + 1, k - p - 1));
          after = k + 1;
          found = true;
          break;
        }
      }
      if (!found) return std::nullopt;
    } else if (v[p] == ',') {
      return std::nullopt;  // `a,,b`
    } else {
      size_t k = p;
      while (k < v.size() && v[k] != ',' && v[k] != '#') ++k;
      item = std::string(rtrim(v.substr(p, k - p)));
      after = p + item.size();
    }
    text_end = after;
    items.push_back(std::move(item));
    size_t a = skip_ws(v, after);
    if (a < v.size() && v[a] == ',') {
      saw_comma = true;
      text_end = a + 1;
      p = a + 1;
      continue;
    }
    if (a == v.size() || v[a] == '#') break;
    return std::nullopt;  // e.g. `"a" b`
  }
  if (!saw_comma) {
    out.value = std::move(items.front());
    return out;
  }
  out.is_list = true;
  out.items = std::move(items);
  out.value = std::string(rtrim(v.substr(0, text_end)));
  return out;
}

// The position of the first closing `quot` (3 chars) in s at or after `from` that is followed
// only by whitespace and an optional comment.
std::optional<size_t> find_triple_end(std::string_view s, size_t from, std::string_view quot) {
  for (size_t k = s.find(quot, from); k != std::string_view::npos; k = s.find(quot, k + 1)) {
    if (rest_is_comment(s, k + 3)) return k;
  }
  return std::nullopt;
}

std::unexpected<Error> syntax_error(const std::string& filename, int line, const std::string& what) {
  return fail(ErrorCode::invalid_argument,
              "config file error: '" + filename + "':" + std::to_string(line) + ": " + what);
}

}  // namespace

const IniOption* IniSection::find(std::string_view key) const {
  for (const auto& o : options)
    if (o.key == key) return &o;
  return nullptr;
}

IniOption* IniSection::find(std::string_view key) {
  for (auto& o : options)
    if (o.key == key) return &o;
  return nullptr;
}

const IniSection* IniFile::find(std::string_view name) const {
  for (const auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

IniSection* IniFile::find(std::string_view name) {
  for (auto& s : sections)
    if (s.name == name) return &s;
  return nullptr;
}

Result<IniFile> parse_ini(std::string_view text, const std::string& filename) {
  return parse_ini(text, filename, k_parse_limits);
}

Result<IniFile> parse_ini(std::string_view text, const std::string& filename, const ParseLimits& limits) {
  ParseBudget budget(limits);
  if (!budget.input(text.size())) return syntax_error(filename, 1, budget.reason());
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  std::vector<std::string_view> lines;
  {
    size_t i = 0;
    while (i < text.size()) {
      size_t j = text.find('\n', i);
      if (j == std::string_view::npos) j = text.size();
      std::string_view l = text.substr(i, j - i);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      lines.push_back(l);
      i = j + 1;
    }
  }

  IniFile file;
  IniSection* current = nullptr;
  // Raw (not lower-cased) names seen, for configobj's duplicate checks.
  // (Hash sets and indexes: a hostile file of a million keys must not take quadratic time.)
  std::unordered_set<std::string> raw_sections;
  std::unordered_set<std::string> raw_keys;
  std::unordered_map<std::string, size_t> section_index;  // lower-cased name -> index
  std::unordered_map<std::string, size_t> option_index;   // of the current section

  for (size_t idx = 0; idx < lines.size(); ++idx) {
    std::string_view line = lines[idx];
    const int lineno = static_cast<int>(idx) + 1;
    std::string_view sline = trim(line);
    if (sline.empty() || sline.front() == '#') continue;

    bool too_deep = false;
    auto marker = match_section(line, too_deep);
    if (too_deep) {
      budget.enter(limits.max_depth + 1);
      return syntax_error(filename, lineno, budget.reason());
    }
    if (marker) {
      if (marker->opens != marker->closes) return syntax_error(filename, lineno, "cannot compute the section depth");
      if (marker->opens > 1) return syntax_error(filename, lineno, "nested sections are not supported");
      if (!raw_sections.insert(marker->name).second) return syntax_error(filename, lineno, "duplicate section name");
      if (!budget.charge(1, marker->name.size())) return syntax_error(filename, lineno, budget.reason());
      raw_keys.clear();
      option_index.clear();
      std::string name = to_lower(marker->name);
      auto [it, added] = section_index.try_emplace(name, file.sections.size());
      if (!added) {
        // Same name up to case: DVC's lower-casing keeps the later value at the first position.
        file.sections[it->second].options.clear();
      } else {
        file.sections.push_back(IniSection{name, {}, lineno});
      }
      current = &file.sections[it->second];
      continue;
    }

    auto kw = match_keyword(line);
    if (!kw) {
      return syntax_error(filename, lineno,
                          "invalid line " + line_repr(line) + " (matched as neither section nor keyword)");
    }
    if (!current) return syntax_error(filename, lineno, "option '" + kw->key + "' is not in a section");

    ParsedValue pv;
    std::string_view value = kw->value;
    if (value.starts_with("\"\"\"") || value.starts_with("'''")) {
      std::string_view quot = value.substr(0, 3);
      if (auto end = find_triple_end(value, 3, quot)) {
        pv.value = std::string(value.substr(3, *end - 3));
      } else {
        if (value.find(quot, 3) != std::string_view::npos)
          return syntax_error(filename, lineno, "parse error in multiline value");
        std::string acc(value.substr(3));
        bool closed = false;
        while (idx + 1 < lines.size()) {
          ++idx;
          std::string_view l = lines[idx];
          acc += '\n';
          if (l.find(quot) == std::string_view::npos) {
            acc += l;
            continue;
          }
          auto e = find_triple_end(l, 0, quot);
          if (!e) return syntax_error(filename, lineno, "parse error in multiline value");
          acc += l.substr(0, *e);
          closed = true;
          break;
        }
        if (!closed) return syntax_error(filename, lineno, "parse error in multiline value");
        pv.value = std::move(acc);
      }
    } else {
      auto parsed = parse_value(value);
      if (!parsed) return syntax_error(filename, lineno, "parse error in value");
      pv = std::move(*parsed);
    }

    if (!raw_keys.insert(kw->key).second) return syntax_error(filename, lineno, "duplicate keyword name");
    if (!budget.charge(1 + pv.items.size(), kw->key.size() + pv.value.size()))
      return syntax_error(filename, lineno, budget.reason());

    IniOption opt{to_lower(kw->key), std::move(pv.value), lineno, pv.is_list, std::move(pv.items)};
    auto [it, added] = option_index.try_emplace(opt.key, current->options.size());
    if (!added) {
      current->options[it->second] = std::move(opt);
    } else {
      current->options.push_back(std::move(opt));
    }
  }
  return file;
}

std::string ini_quote(std::string_view value, bool multiline) {
  if (value.empty()) return "\"\"";
  auto has = [&](std::string_view needle) { return value.find(needle) != std::string_view::npos; };
  const std::string_view wspace_plus = " \r\n\v\t'\"";
  const bool has_sq = has("'"), has_dq = has("\""), has_nl = has("\n");
  const bool need_triple = multiline && ((has_sq && has_dq) || has_nl);

  auto single_quote = [&]() -> std::string {
    // configobj refuses a value with both quote kinds here; double quotes are the closest.
    if (has_dq && !has_sq) return "'" + std::string(value) + "'";
    return "\"" + std::string(value) + "\"";
  };

  if (need_triple) {
    // configobj 5.0.8 (its tdquot/tsquot): ''' unless the value holds """, then """ (even when
    // the result cannot be read back; DVC writes the same bytes).
    if (!has("\"\"\"")) return "'''" + std::string(value) + "'''";
    return "\"\"\"" + std::string(value) + "\"\"\"";
  }
  if (has_nl) return "\"" + std::string(value) + "\"";  // configobj: "cannot be safely quoted"
  bool plain = wspace_plus.find(value.front()) == std::string_view::npos &&
               wspace_plus.find(value.back()) == std::string_view::npos && !has(",");
  if (!plain) return single_quote();
  if (has("#")) return single_quote();
  return std::string(value);
}

std::string emit_ini(const IniFile& f) {
  std::string out;
  for (const auto& s : f.sections) {
    if (s.options.empty()) continue;
    out += "[" + ini_quote(s.name, false) + "]\n";
    for (const auto& o : s.options) {
      std::string v;
      if (o.is_list) {
        if (o.items.empty()) {
          v = ",";
        } else if (o.items.size() == 1) {
          v = ini_quote(o.items[0], false) + ",";
        } else {
          for (size_t i = 0; i < o.items.size(); ++i) {
            if (i) v += ", ";
            v += ini_quote(o.items[i], false);
          }
        }
      } else {
        v = ini_quote(o.value, true);
      }
      out += "    " + ini_quote(o.key, false) + " = " + v + "\n";
    }
  }
  return out;
}

}  // namespace dvx::formats
