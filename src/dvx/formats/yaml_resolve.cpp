#include "dvx/formats/yaml_resolve.h"

#include "dvx/formats/yaml.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

namespace dvx::yaml {

// ---------------------------------------------------------------------------------------------
// Implicit resolution of plain scalars (ruamel.yaml VersionedResolver, YAML 1.2)

namespace detail {

namespace {

// Hand-written equivalents of ruamel's resolver regexes (tests/unit/formats compare them with the
// regexes on generated texts): a std::regex per scalar was most of the time spent reading a file.
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool all_of(std::string_view s, bool (*ok)(char)) {
  if (s.empty()) return false;
  for (char c : s)
    if (!ok(c)) return false;
  return true;
}

// ^(?:[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+)$
bool match_int(std::string_view t) {
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t.remove_prefix(1);
  if (t.size() > 2 && t[0] == '0') {
    std::string_view rest = t.substr(2);
    if (t[1] == 'b') return all_of(rest, [](char c) { return c == '0' || c == '1' || c == '_'; });
    if (t[1] == 'o') return all_of(rest, [](char c) { return (c >= '0' && c <= '7') || c == '_'; });
    if (t[1] == 'x')
      return all_of(rest, [](char c) {
        return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '_';
      });
  }
  return all_of(t, [](char c) { return is_digit(c) || c == '_'; });
}

size_t skip(std::string_view t, size_t p, bool (*ok)(char)) {
  while (p < t.size() && ok(t[p])) ++p;
  return p;
}

bool digit_or_us(char c) { return is_digit(c) || c == '_'; }
bool digit_only(char c) { return is_digit(c); }

// [eE] sign digits+ running to the end; `sign_required` for the ".5e+1" form.
bool exponent_to_end(std::string_view t, size_t p, bool sign_required) {
  if (p >= t.size() || (t[p] != 'e' && t[p] != 'E')) return false;
  ++p;
  if (p < t.size() && (t[p] == '-' || t[p] == '+'))
    ++p;
  else if (sign_required)
    return false;
  size_t q = skip(t, p, digit_only);
  return q > p && q == t.size();
}

// ^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
//   |[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$
bool match_float(std::string_view t) {
  bool sign = !t.empty() && (t[0] == '-' || t[0] == '+');
  if (sign) t.remove_prefix(1);
  if (t.empty()) return false;
  if (t[0] == '.') {
    std::string_view r = t.substr(1);
    if (r == "inf" || r == "Inf" || r == "INF") return true;
    if (r == "nan" || r == "NaN" || r == "NAN") return !sign;
    size_t p = skip(t, 1, digit_or_us);
    if (p == 1) return false;
    return p == t.size() || exponent_to_end(t, p, true);
  }
  if (!is_digit(t[0])) return false;
  size_t p = skip(t, 1, digit_or_us);
  if (p < t.size() && t[p] == '.') {
    p = skip(t, p + 1, digit_or_us);
    return p == t.size() || exponent_to_end(t, p, false);
  }
  return exponent_to_end(t, p, false);
}

// Exactly n digits (n_max > n: between n and n_max) at p; advances p.
bool digits(std::string_view t, size_t& p, size_t n, size_t n_max) {
  size_t q = p;
  while (q < t.size() && q - p < n_max && is_digit(t[q])) ++q;
  if (q - p < n) return false;
  p = q;
  return true;
}

bool lit(std::string_view t, size_t& p, char c) {
  if (p < t.size() && t[p] == c) {
    ++p;
    return true;
  }
  return false;
}

bool space_tab(char c) { return c == ' ' || c == '\t'; }

// ^(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}(?:[Tt]|[ \t]+)[0-9]{1,2}:[0-9]{2}
//   :[0-9]{2}(?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9]{1,2}(?::[0-9]{2})?))?)$
bool match_timestamp(std::string_view t) {
  if (t.size() == 10) {
    size_t p = 0;
    if (digits(t, p, 4, 4) && lit(t, p, '-') && digits(t, p, 2, 2) && lit(t, p, '-') &&
        digits(t, p, 2, 2) && p == t.size())
      return true;
  }
  size_t p = 0;
  if (!(digits(t, p, 4, 4) && lit(t, p, '-') && digits(t, p, 1, 2) && lit(t, p, '-') &&
        digits(t, p, 1, 2)))
    return false;
  if (p < t.size() && (t[p] == 'T' || t[p] == 't')) {
    ++p;
  } else {
    size_t q = skip(t, p, space_tab);
    if (q == p) return false;
    p = q;
  }
  if (!(digits(t, p, 1, 2) && lit(t, p, ':') && digits(t, p, 2, 2) && lit(t, p, ':') &&
        digits(t, p, 2, 2)))
    return false;
  if (lit(t, p, '.')) p = skip(t, p, digit_only);
  if (p == t.size()) return true;
  p = skip(t, p, space_tab);
  if (lit(t, p, 'Z')) return p == t.size();
  if (p < t.size() && (t[p] == '-' || t[p] == '+')) {
    ++p;
    if (!digits(t, p, 1, 2)) return false;
    if (p == t.size()) return true;
    return lit(t, p, ':') && digits(t, p, 2, 2) && p == t.size();
  }
  return false;
}

}  // namespace

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
  if (c != '.' && match_int(t)) return Implicit::integer;
  if (match_float(t)) return Implicit::floating;
  if (c >= '0' && c <= '9' && t.size() >= 10 && match_timestamp(t)) return Implicit::timestamp;
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

void type_plain_scalar(Node& n, std::string_view v) {
  switch (resolve(v)) {
    case Implicit::null: break;
    case Implicit::boolean:
      n.kind = Node::Kind::boolean;
      n.b = v[0] == 't' || v[0] == 'T';
      break;
    case Implicit::integer:
      if (parse_int(v, n.i)) {
        n.kind = Node::Kind::integer;
        n.s = v;
      } else if (v.find_first_of("0123456789") != std::string_view::npos) {
        n.kind = Node::Kind::floating;
        n.f = parse_float(v);
        n.s = v;
      } else {
        n.kind = Node::Kind::string;
        n.s = v;
      }
      break;
    case Implicit::floating:
      n.kind = Node::Kind::floating;
      n.f = parse_float(v);
      n.s = v;
      break;
    case Implicit::timestamp:
      n.kind = Node::Kind::string;
      n.s = v;
      n.timestamp = true;
      break;
    default:
      n.kind = Node::Kind::string;
      n.s = v;
  }
}

}  // namespace detail

}  // namespace dvx::yaml
