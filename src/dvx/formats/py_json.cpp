#include "dvx/formats/py_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "dvx/formats/py_float.h"
#include "dvx/formats/py_json_read.h"
#include "dvx/formats/unicode.h"

namespace dvx::formats {

namespace {

const char kHex[] = "0123456789abcdef";

void append_u(std::string& out, unsigned v) {
  out += "\\u";
  out += kHex[(v >> 12) & 0xF];
  out += kHex[(v >> 8) & 0xF];
  out += kHex[(v >> 4) & 0xF];
  out += kHex[v & 0xF];
}

}  // namespace

void py_json_append_string(std::string& out, std::string_view s) {
  out += '"';
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    // Copy the longest run of printable ASCII that needs no escape in one go.
    size_t j = i;
    while (j < n) {
      unsigned char c = static_cast<unsigned char>(s[j]);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') break;
      ++j;
    }
    out.append(s.data() + i, j - i);
    i = j;
    if (i >= n) break;
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default: append_u(out, c);
      }
      ++i;
      continue;
    }
    int len = 0;
    char32_t cp = 0, min = 0;
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; min = 0x10000; }
    bool ok = len > 0 && i + len <= n;
    for (int k = 1; ok && k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) ok = false;
      else cp = (cp << 6) | (cc & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (!ok) {  // Python's surrogateescape form of an undecodable byte
      append_u(out, 0xDC00 + c);
      ++i;
      continue;
    }
    if (cp >= 0x10000) {
      char32_t v = cp - 0x10000;
      append_u(out, 0xD800 + (v >> 10));
      append_u(out, 0xDC00 + (v & 0x3FF));
    } else {
      append_u(out, cp);
    }
    i += len;
  }
  out += '"';
}

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool read_hex4(std::string_view s, size_t& p, unsigned& v) {
  if (p + 4 > s.size()) return false;
  v = 0;
  for (int k = 0; k < 4; ++k) {
    int h = hex_value(s[p + static_cast<size_t>(k)]);
    if (h < 0) return false;
    v = (v << 4) | static_cast<unsigned>(h);
  }
  p += 4;
  return true;
}

}  // namespace

bool py_json_read_string(std::string_view s, size_t& p, std::string& out) {
  if (p >= s.size() || s[p] != '"') return false;
  ++p;
  out.clear();
  while (true) {
    size_t start = p;
    while (p < s.size() && s[p] != '"' && s[p] != '\\' && static_cast<unsigned char>(s[p]) >= 0x20) ++p;
    out.append(s.data() + start, p - start);
    if (p >= s.size()) return false;
    char c = s[p++];
    if (c == '"') return true;
    if (c != '\\') return false;  // raw control character
    if (p >= s.size()) return false;
    char e = s[p++];
    switch (e) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case '/': out += '/'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned v;
        if (!read_hex4(s, p, v)) return false;
        char32_t cp = v;
        if (v >= 0xD800 && v <= 0xDBFF && p + 6 <= s.size() && s[p] == '\\' && s[p + 1] == 'u') {
          size_t save = p;
          p += 2;
          unsigned lo;
          if (read_hex4(s, p, lo) && lo >= 0xDC00 && lo <= 0xDFFF) cp = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
          else p = save;
        }
        utf8_append(out, cp);  // lone U+DC80..DCFF become raw bytes (surrogateescape)
        break;
      }
      default: return false;
    }
  }
}

std::string py_json_float(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return py_float_repr(v);
}

namespace {

using Json = nlohmann::ordered_json;

// The binary subtype that marks a py_json_raw() value.
constexpr std::uint64_t k_raw_subtype = 0x7261;  // "ra"

bool is_raw(const Json& v) {
  return v.is_binary() && v.get_binary().has_subtype() && v.get_binary().subtype() == k_raw_subtype;
}

// Compact json.dumps text laid out as json.dumps(indent=...) would write the same value, starting
// at nesting `level`: ", " and ": " outside strings become ",\n<indent>" and ": ", containers open
// onto their own lines, empty ones stay "[]" and "{}".
void reindent(std::string& out, std::string_view s, int indent, int level) {
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * static_cast<size_t>(std::max(lvl, 0)), ' ');
  };
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    char c = s[i];
    if (c == '"') {  // a string, copied whole (escapes included)
      size_t j = i + 1;
      while (j < n && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
      j = std::min(j + 1, n);
      out.append(s.substr(i, j - i));
      i = j;
    } else if (c == '[' || c == '{') {
      char close = c == '[' ? ']' : '}';
      if (i + 1 < n && s[i + 1] == close) {
        out += c;
        out += close;
        i += 2;
        continue;
      }
      out += c;
      newline(++level);
      ++i;
    } else if (c == ']' || c == '}') {
      newline(--level);
      out += c;
      ++i;
    } else if (c == ',') {
      out += ',';
      newline(level);
      i += (i + 1 < n && s[i + 1] == ' ') ? 2 : 1;
    } else if (c == ':') {
      out += ": ";
      i += (i + 1 < n && s[i + 1] == ' ') ? 2 : 1;
    } else {
      out += c;
      ++i;
    }
  }
}

void dump(std::string& out, const Json& v, bool sort_keys, int indent, int level) {
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(static_cast<size_t>(indent) * lvl, ' ');
  };
  const char* item_sep = indent >= 0 ? "," : ", ";
  switch (v.type()) {
    case Json::value_t::null: out += "null"; break;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); break;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); break;
    case Json::value_t::number_float: out += py_json_float(v.get<double>()); break;
    case Json::value_t::string: py_json_append_string(out, v.get_ref<const std::string&>()); break;
    case Json::value_t::array: {
      if (v.empty()) {
        out += "[]";
        break;
      }
      out += '[';
      bool first = true;
      for (const auto& e : v) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        dump(out, e, sort_keys, indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += ']';
      break;
    }
    case Json::value_t::object: {
      if (v.empty()) {
        out += "{}";
        break;
      }
      out += '{';
      std::vector<std::pair<const std::string*, const Json*>> items;
      items.reserve(v.size());
      for (auto it = v.begin(); it != v.end(); ++it) items.emplace_back(&it.key(), &it.value());
      if (sort_keys)
        std::stable_sort(items.begin(), items.end(),
                         [](const auto& a, const auto& b) { return *a.first < *b.first; });
      bool first = true;
      for (auto& [k, e] : items) {
        if (!first) out += item_sep;
        first = false;
        if (indent >= 0) newline(level + 1);
        py_json_append_string(out, *k);
        out += ": ";
        dump(out, *e, sort_keys, indent, level + 1);
      }
      if (indent >= 0) newline(level);
      out += '}';
      break;
    }
    case Json::value_t::binary: {
      if (!is_raw(v)) {
        out += "null";
        break;
      }
      const auto& bytes = v.get_binary();
      std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
      if (indent >= 0) reindent(out, text, indent, level);
      else out.append(text);
      break;
    }
    case Json::value_t::discarded: break;
  }
}

}  // namespace

void py_json_append(std::string& out, const nlohmann::ordered_json& v) { dump(out, v, false, -1, 0); }

nlohmann::ordered_json py_json_raw(std::string_view compact_text) {
  return Json::binary(std::vector<std::uint8_t>(compact_text.begin(), compact_text.end()), k_raw_subtype);
}

std::string py_json_dumps(const nlohmann::ordered_json& v, bool sort_keys) {
  std::string out;
  dump(out, v, sort_keys, -1, 0);
  return out;
}

std::string py_json_dumps_indent(const nlohmann::ordered_json& v, int indent) {
  std::string out;
  dump(out, v, false, indent < 0 ? 0 : indent, 0);
  return out;
}

}  // namespace dvx::formats
