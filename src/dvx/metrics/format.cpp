#include "dvx/metrics/format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "dvx/formats/py_float.h"
#include "dvx/formats/unicode.h"

namespace dvx::metrics {

using Kind = yaml::Node::Kind;

namespace {

// Python's repr() of a str: single quotes unless the text has ' and no ", escapes for \\,
// the quote, \n \r \t and other non-printable ASCII.
std::string repr_string(const std::string& s) {
  bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
  char q = has_single && !has_double ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + q;
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  out += q;
  return out;
}

std::string str_impl(const yaml::Node& v, bool repr) {
  switch (v.kind) {
    case Kind::null: return "None";
    case Kind::boolean: return v.b ? "True" : "False";
    case Kind::integer: return std::to_string(v.i);
    case Kind::floating: return formats::py_float_repr(v.f);
    case Kind::string: return repr ? repr_string(v.s) : v.s;
    case Kind::sequence: {
      std::string out = "[";
      for (size_t i = 0; i < v.seq.size(); ++i) out += (i ? ", " : "") + str_impl(v.seq[i], true);
      return out + "]";
    }
    case Kind::mapping: {
      std::string out = "{";
      for (size_t i = 0; i < v.map.size(); ++i)
        out += (i ? ", " : "") + repr_string(v.map[i].first) + ": " + str_impl(v.map[i].second, true);
      return out + "}";
    }
  }
  return "";
}

void flatten_into(const yaml::Node& v, const std::string& prefix,
                  std::vector<std::pair<std::string, const yaml::Node*>>& out) {
  for (auto& [k, child] : v.map) {
    std::string key = prefix.empty() ? k : prefix + "." + k;
    if (child.is_mapping()) flatten_into(child, key, out);
    else out.emplace_back(key, &child);
  }
}

// Every float of a value (also inside lists and mappings) replaced by `f(x)`: DVC's
// _format_field, which rounds them (round_decimals) or turns them into the strings
// format(x, ".Ng") gives (significant), which then print quoted inside lists ("['0.1', 2]").
template <class F>
yaml::Node map_floats(const yaml::Node& v, const F& f) {
  if (v.kind == Kind::floating) return f(v.f);
  if (v.kind == Kind::sequence || v.kind == Kind::mapping) {
    yaml::Node out = v;
    for (auto& x : out.seq) x = map_floats(x, f);
    for (auto& [k, x] : out.map) x = map_floats(x, f);
    return out;
  }
  return v;
}

}  // namespace

std::string py_str(const yaml::Node& v) { return str_impl(v, false); }
std::string py_repr(const yaml::Node& v) { return str_impl(v, true); }

double py_round(double x, int ndigits) {
  if (!std::isfinite(x)) return x;
  if (ndigits < 0) {
    double p = std::pow(10.0, -ndigits);
    return std::nearbyint(x / p) * p;
  }
  if (ndigits > 330) return x;
  // glibc prints the exact binary value correctly rounded (ties to even), as Python's dtoa.
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*f", ndigits, x);
  return std::strtod(buf, nullptr);
}

std::string py_format_g(double x, int digits) {
  if (std::isnan(x)) return "nan";
  if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
  if (digits <= 0) digits = 1;
  char buf[512];
  std::snprintf(buf, sizeof buf, "%.*g", digits, x);
  return buf;  // C's %g and Python's "g" agree (exponent at least two digits)
}

bool is_number(const yaml::Node& v) {
  return v.kind == Kind::integer || v.kind == Kind::floating || v.kind == Kind::boolean;
}

yaml::Node subtract(const yaml::Node& new_v, const yaml::Node& old_v) {
  auto as_int = [](const yaml::Node& n) { return n.kind == Kind::boolean ? int64_t(n.b) : n.i; };
  auto as_double = [&](const yaml::Node& n) { return n.kind == Kind::floating ? n.f : double(as_int(n)); };
  if (new_v.kind != Kind::floating && old_v.kind != Kind::floating)
    return yaml::Node::integer(as_int(new_v) - as_int(old_v));
  return yaml::Node::floating(as_double(new_v) - as_double(old_v));
}

std::vector<std::pair<std::string, const yaml::Node*>> flatten(const yaml::Node& v) {
  std::vector<std::pair<std::string, const yaml::Node*>> out;
  if (v.is_mapping()) flatten_into(v, "", out);
  else out.emplace_back("", &v);
  return out;
}

nlohmann::ordered_json to_json(const yaml::Node& v) {
  switch (v.kind) {
    case Kind::null: return nullptr;
    case Kind::boolean: return v.b;
    case Kind::integer: return v.i;
    case Kind::floating: return v.f;
    case Kind::string: return v.s;
    case Kind::sequence: {
      auto a = nlohmann::ordered_json::array();
      for (auto& x : v.seq) a.push_back(to_json(x));
      return a;
    }
    case Kind::mapping: {
      auto o = nlohmann::ordered_json::object();
      for (auto& [k, x] : v.map) o[k] = to_json(x);
      return o;
    }
  }
  return nullptr;
}

std::string format_cell(const yaml::Node& v, const CellFormat& fmt) {
  switch (fmt.kind) {
    case CellFormat::Kind::raw: return py_str(v);
    case CellFormat::Kind::round_decimals:
      return py_str(map_floats(v, [&](double x) { return yaml::Node::floating(py_round(x, fmt.precision)); }));
    case CellFormat::Kind::significant:
      return py_str(map_floats(v, [&](double x) { return yaml::Node::str(py_format_g(x, fmt.precision)); }));
  }
  return py_str(v);
}

namespace {

std::vector<size_t> column_widths(const Table& t) {
  std::vector<size_t> w(t.headers.size());
  for (size_t i = 0; i < t.headers.size(); ++i) w[i] = formats::display_width(t.headers[i]) + 2;
  for (auto& row : t.rows)
    for (size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], formats::display_width(row[i]));
  return w;
}

std::string pad(const std::string& s, size_t w) {
  size_t dw = formats::display_width(s);
  return dw >= w ? s : s + std::string(w - dw, ' ');
}

}  // namespace

std::string render_plain(const Table& t) {
  if (t.rows.empty()) return "";
  auto w = column_widths(t);
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s;
    for (size_t i = 0; i < w.size(); ++i) {
      if (i) s += "  ";
      s += pad(i < cells.size() ? cells[i] : std::string(), w[i]);
    }
    while (!s.empty() && s.back() == ' ') s.pop_back();
    out += s + "\n";
  };
  line(t.headers);
  for (auto& r : t.rows) line(r);
  return out;
}

std::string render_markdown(const Table& t) {
  auto w = column_widths(t);
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string s = "|";
    for (size_t i = 0; i < w.size(); ++i) s += " " + pad(i < cells.size() ? cells[i] : std::string(), w[i]) + " |";
    out += s + "\n";
  };
  line(t.headers);
  out += "|";
  for (size_t x : w) out += std::string(x + 2, '-') + "|";
  out += "\n";
  for (auto& r : t.rows) line(r);
  out += "\n";
  return out;
}

std::string render_csv(const Table& t) {
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out += ',';
      const std::string& c = cells[i];
      if (c.find_first_of(",\"\r\n") != std::string::npos) {
        out += '"';
        for (char ch : c) out += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        out += '"';
      } else {
        out += c;
      }
    }
    out += "\r\n";
  };
  line(t.headers);
  for (auto& r : t.rows) line(r);
  return out;
}

}  // namespace dvx::metrics

// ---- rich's box table (exp show) -------------------------------------------------------------

namespace dvx::metrics {

namespace {

constexpr size_t k_cell_padding = 2;  // one space each side

size_t cp_width(char32_t c) {
  std::string s;
  formats::utf8_append(s, c);
  return formats::display_width(s);
}

// rich's set_cell_size + "…": the text cut to `width` cells, the last one an ellipsis.
std::string truncate_ellipsis(const std::string& text, size_t width) {
  if (formats::display_width(text) <= width) return text;
  if (width == 0) return "";
  std::u32string cps = formats::utf8_decode(text);
  std::string out;
  size_t used = 0;
  for (char32_t c : cps) {
    size_t w = cp_width(c);
    if (used + w > width - 1) break;
    formats::utf8_append(out, c);
    used += w;
  }
  // a wide character that did not fit leaves a gap rich fills with a space
  while (used < width - 1) {
    out += ' ';
    ++used;
  }
  return out + "…";
}

std::string rstrip(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\n')) s.pop_back();
  return s;
}

// rich's Text.wrap with overflow "ellipsis" (no folding): words kept whole where they fit, a
// word wider than the line on a line of its own, every line then cut to the width.
std::vector<std::string> wrap_cell(const std::string& text, size_t width, bool no_wrap) {
  if (no_wrap || formats::display_width(text) <= width) return {truncate_ellipsis(text, width)};
  // words: \s*\S+\s*
  std::vector<std::pair<size_t, std::string>> words;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    words.emplace_back(start, text.substr(start, i - start));
  }
  std::vector<size_t> divides;
  size_t pos = 0;
  for (auto& [start, word] : words) {
    size_t wlen = formats::display_width(rstrip(word));
    if (pos + wlen > width) {
      if (wlen > width) {
        if (start) divides.push_back(start);
        pos = formats::display_width(word);
      } else if (pos && start) {
        divides.push_back(start);
        pos = formats::display_width(word);
      }
    } else {
      pos += formats::display_width(word);
    }
  }
  std::vector<std::string> lines;
  size_t prev = 0;
  divides.push_back(text.size());
  for (size_t d : divides) {
    lines.push_back(truncate_ellipsis(rstrip(text.substr(prev, d - prev)), width));
    prev = d;
  }
  return lines;
}

std::string justify(const std::string& s, size_t width, BoxColumn::Justify j) {
  size_t w = formats::display_width(s);
  if (w >= width) return s;
  std::string fill(width - w, ' ');
  return j == BoxColumn::Justify::right ? fill + s : s + fill;
}

// rich's ratio_reduce: take `total` from the values in proportion to the ratios, each at most
// its maximum (Python's round: ties to even).
std::vector<size_t> ratio_reduce(size_t total, std::vector<size_t> ratios, const std::vector<size_t>& maximums,
                                 const std::vector<size_t>& values) {
  for (size_t i = 0; i < ratios.size(); ++i)
    if (!maximums[i]) ratios[i] = 0;
  size_t total_ratio = 0;
  for (size_t r : ratios) total_ratio += r;
  if (!total_ratio) return values;
  long long remaining = static_cast<long long>(total);
  std::vector<size_t> out;
  for (size_t i = 0; i < values.size(); ++i) {
    if (ratios[i] && total_ratio > 0) {
      double share = std::nearbyint(double(ratios[i]) * double(remaining) / double(total_ratio));
      long long distributed = std::min(static_cast<long long>(maximums[i]), static_cast<long long>(share));
      out.push_back(static_cast<size_t>(std::max(0LL, static_cast<long long>(values[i]) - distributed)));
      remaining -= distributed;
      total_ratio -= ratios[i];
    } else {
      out.push_back(values[i]);
    }
  }
  return out;
}

size_t sum(const std::vector<size_t>& v) {
  size_t s = 0;
  for (size_t x : v) s += x;
  return s;
}

// rich's Table._collapse_widths: shrink the widest wrappable columns until the total fits.
std::vector<size_t> shrink_wrappable(std::vector<size_t> widths, const std::vector<bool>& wrapable, size_t max_width) {
  long long total = static_cast<long long>(sum(widths));
  long long excess = total - static_cast<long long>(max_width);
  if (std::none_of(wrapable.begin(), wrapable.end(), [](bool b) { return b; })) return widths;
  while (total && excess > 0) {
    size_t max_col = 0, second = 0;
    for (size_t i = 0; i < widths.size(); ++i)
      if (wrapable[i]) max_col = std::max(max_col, widths[i]);
    for (size_t i = 0; i < widths.size(); ++i)
      if (wrapable[i] && widths[i] != max_col) second = std::max(second, widths[i]);
    size_t diff = max_col - second;
    std::vector<size_t> ratios(widths.size());
    bool any = false;
    for (size_t i = 0; i < widths.size(); ++i) {
      ratios[i] = widths[i] == max_col && wrapable[i] ? 1 : 0;
      any = any || ratios[i];
    }
    if (!any || !diff) break;
    std::vector<size_t> max_reduce(widths.size(), std::min(static_cast<size_t>(excess), diff));
    widths = ratio_reduce(static_cast<size_t>(excess), ratios, max_reduce, widths);
    total = static_cast<long long>(sum(widths));
    excess = total - static_cast<long long>(max_width);
  }
  return widths;
}

}  // namespace

std::string render_box(const Table& t, const std::vector<BoxColumn>& columns_in, size_t max_width) {
  std::vector<BoxColumn> columns = columns_in;
  columns.resize(t.headers.size());
  size_t n = t.headers.size();
  if (n == 0) return "\n";
  // Column indices still drawn (DVC drops all but one of a run of collapsed columns).
  std::vector<size_t> index(n);
  for (size_t i = 0; i < n; ++i) index[i] = i;
  std::vector<size_t> natural(n);
  for (size_t i = 0; i < n; ++i) {
    size_t w = formats::display_width(t.headers[i]);
    for (auto& r : t.rows)
      if (i < r.size()) w = std::max(w, formats::display_width(r[i]));
    natural[i] = w + k_cell_padding;
  }
  size_t extra = 2 + (n - 1);
  size_t avail = max_width > extra ? max_width - extra : 0;
  // rich measures each column against the room there is: none wider than all of it
  std::vector<size_t> widths(n);
  for (size_t i = 0; i < n; ++i) widths[i] = avail < 1 ? 1 : std::min(natural[i], avail);
  if (sum(widths) > avail) {
    // DVC's Table._collapse_widths: collapsible columns to 0, right to left, until it fits.
    long long excess = static_cast<long long>(sum(widths)) - static_cast<long long>(avail);
    for (size_t k = n; k-- > 0;)
      if (columns[k].collapse) {
        excess -= static_cast<long long>(widths[k]);
        widths[k] = 0;
        if (excess <= 0) break;
      }
    std::vector<bool> wrapable(n);
    for (size_t i = 0; i < n; ++i) wrapable[i] = !columns[i].no_wrap;
    widths = shrink_wrappable(widths, wrapable, avail);
    if (sum(widths) > avail) widths = ratio_reduce(sum(widths) - avail, std::vector<size_t>(n, 1), widths, widths);
    // measured again at the new widths
    for (size_t i = 0; i < n; ++i) {
      if (widths[i] > k_cell_padding) widths[i] = std::min(natural[i], widths[i]);
    }
    // DVC's Table._calculate_column_widths: one "…" column per run of collapsed columns.
    long long room = static_cast<long long>(avail);
    long long last = -1;
    for (size_t k = n; k-- > 0;) {
      if (widths[k] == 0 && columns[index[k]].collapse) {
        if (last >= 0) {
          widths.erase(widths.begin() + last);
          index.erase(index.begin() + last);
          room += 1;
        }
        last = static_cast<long long>(k);
        if (static_cast<long long>(sum(widths) + k_cell_padding) <= room) widths[k] = 1 + k_cell_padding;
      } else {
        last = -1;
      }
    }
  }

  std::string out;
  std::string rule = " ";
  for (size_t k = 0; k < sum(widths) + widths.size() - 1; ++k) rule += "─";
  rule += " \n";
  auto row_lines = [&](const std::vector<std::string>& cells) {
    std::vector<std::vector<std::string>> wrapped(widths.size());
    size_t height = 1;
    for (size_t k = 0; k < widths.size(); ++k) {
      size_t i = index[k];
      size_t cw = widths[k] > k_cell_padding ? widths[k] - k_cell_padding : 0;
      wrapped[k] = widths[k] == 0 ? std::vector<std::string>{""} : wrap_cell(i < cells.size() ? cells[i] : "", cw, columns[i].no_wrap);
      height = std::max(height, wrapped[k].size());
    }
    for (size_t line = 0; line < height; ++line) {
      std::string s = " ";
      for (size_t k = 0; k < widths.size(); ++k) {
        if (k) s += " ";
        if (widths[k] == 0) continue;
        size_t cw = widths[k] > k_cell_padding ? widths[k] - k_cell_padding : 0;
        std::string text = line < wrapped[k].size() ? wrapped[k][line] : "";
        if (widths[k] >= k_cell_padding) s += " " + justify(text, cw, columns[index[k]].justify) + " ";
        else s += std::string(widths[k], ' ');
      }
      out += s + " \n";
    }
  };
  out += rule;
  row_lines(t.headers);
  out += rule;
  for (auto& r : t.rows) row_lines(r);
  out += rule;
  return out;
}

}  // namespace dvx::metrics
