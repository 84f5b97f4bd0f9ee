#include "dvx/metrics/format.h"

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

yaml::Node round_floats(const yaml::Node& v, const CellFormat& fmt) {
  if (v.kind == Kind::floating) return yaml::Node::floating(py_round(v.f, fmt.precision));
  if (v.kind == Kind::sequence || v.kind == Kind::mapping) {
    yaml::Node out = v;
    for (auto& x : out.seq) x = round_floats(x, fmt);
    for (auto& [k, x] : out.map) x = round_floats(x, fmt);
    return out;
  }
  return v;
}

std::string format_g_impl(const yaml::Node& v, const CellFormat& fmt) {
  if (v.kind == Kind::floating) return py_format_g(v.f, fmt.precision);
  if (v.kind == Kind::sequence) {
    std::string out = "[";
    for (size_t i = 0; i < v.seq.size(); ++i)
      out += (i ? ", " : "") + (v.seq[i].kind == Kind::floating ? py_format_g(v.seq[i].f, fmt.precision)
                                                                : py_repr(v.seq[i]));
    return out + "]";
  }
  return py_str(v);
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
    case CellFormat::Kind::round_decimals: return py_str(round_floats(v, fmt));
    case CellFormat::Kind::significant: return format_g_impl(v, fmt);
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
