#include "dvx/formats/manifest.h"

#include <algorithm>
#include <cstring>

#include "dvx/formats/limits.h"
#include "dvx/formats/py_json.h"
#include "dvx/formats/py_json_read.h"
#include "dvx/formats/unicode.h"

namespace dvx::formats {

std::string encode_sorted_manifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  size_t estimate = 2;
  for (const auto& e : entries) estimate += e.relpath.size() + e.md5.size() + 34;
  out.reserve(estimate + estimate / 8);
  out += '[';
  bool first = true;
  for (const auto& e : entries) {
    if (!first) out += ", ";
    first = false;
    out += "{\"md5\": ";
    py_json_append_string(out, e.md5);
    out += ", \"relpath\": ";
    py_json_append_string(out, e.relpath);
    out += '}';
  }
  out += ']';
  return out;
}

std::string encode_manifest(std::vector<ManifestEntry> entries) {
  std::sort(entries.begin(), entries.end(),
            [](const ManifestEntry& a, const ManifestEntry& b) { return a.relpath < b.relpath; });
  return encode_sorted_manifest(entries);
}

namespace {

// A small strict JSON reader, enough for manifests: fast on million-entry lists and able to
// skip values of any type.
class Reader {
 public:
  Reader(std::string_view text, const std::string& filename) : m_s(text), m_file(filename) {}

  Result<std::vector<ManifestEntry>> run() {
    std::vector<ManifestEntry> out;
    ws();
    if (!eat('[')) return error("expected a JSON list");
    ws();
    if (eat(']')) return finish(std::move(out));
    // Rough guess of the entry count to avoid regrowth on big manifests.
    out.reserve(m_s.size() / 90 + 1);
    while (true) {
      ws();
      size_t elem_pos = m_p;
      if (!eat('{')) return error("expected an object in the list");
      ManifestEntry e;
      bool have_md5 = false, have_rel = false;
      ws();
      if (!eat('}')) {
        while (true) {
          ws();
          std::string key;
          if (!string(key)) return error("expected a string key");
          ws();
          if (!eat(':')) return error("expected ':'");
          ws();
          if (key == "md5" || key == "relpath") {
            std::string& dst = key == "md5" ? e.md5 : e.relpath;
            if (peek() != '"') return error("expected a string value for '" + key + "'");
            if (!string(dst)) return error("invalid string");
            (key == "md5" ? have_md5 : have_rel) = true;
          } else if (!skip_value(3)) {
            return error(m_too_deep ? "nested more than " + std::to_string(k_parse_limits.max_depth) +
                                          " levels deep"
                                    : "invalid JSON value");
          }
          ws();
          if (eat(',')) continue;
          if (eat('}')) break;
          return error("expected ',' or '}'");
        }
      }
      if (!have_md5 || !have_rel) {
        m_p = elem_pos;
        return error(std::string("entry without ") + (have_md5 ? "'relpath'" : "'md5'"));
      }
      out.push_back(std::move(e));
      ws();
      if (eat(',')) continue;
      if (eat(']')) break;
      return error("expected ',' or ']'");
    }
    return finish(std::move(out));
  }

 private:
  std::string_view m_s;
  const std::string& m_file;
  size_t m_p = 0;
  bool m_too_deep = false;

  Result<std::vector<ManifestEntry>> finish(std::vector<ManifestEntry> out) {
    ws();
    if (m_p != m_s.size()) return error("trailing data after the JSON list");
    return out;
  }

  std::unexpected<Error> error(const std::string& what) const {
    int line = 1, col = 1;
    for (size_t k = 0; k < m_p && k < m_s.size(); ++k) {
      if (m_s[k] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    return fail(ErrorCode::corruption, "'" + m_file + "':" + std::to_string(line) + ":" +
                                           std::to_string(col) + ": invalid directory manifest: " +
                                           what);
  }

  char peek() const { return m_p < m_s.size() ? m_s[m_p] : '\0'; }
  bool eat(char c) {
    if (m_p < m_s.size() && m_s[m_p] == c) {
      ++m_p;
      return true;
    }
    return false;
  }
  void ws() {
    while (m_p < m_s.size() &&
           (m_s[m_p] == ' ' || m_s[m_p] == '\n' || m_s[m_p] == '\r' || m_s[m_p] == '\t'))
      ++m_p;
  }

  bool string(std::string& out) { return py_json_read_string(m_s, m_p, out); }

  // Skips a value at nesting `depth` (the list is 1, its objects 2). Recursive, so bounded by
  // the shared depth limit; a manifest has no aliases, so its memory is linear in its size and
  // it has no node or byte limit (a million-file manifest is legitimately ~100 MB).
  bool skip_value(uint32_t depth) {
    if (depth > k_parse_limits.max_depth) {
      m_too_deep = true;
      return false;
    }
    ws();
    char c = peek();
    if (c == '"') {
      std::string tmp;
      return string(tmp);
    }
    if (c == '{' || c == '[') {
      char close = c == '{' ? '}' : ']';
      ++m_p;
      ws();
      if (eat(close)) return true;
      while (true) {
        ws();
        if (c == '{') {
          std::string k;
          if (!string(k)) return false;
          ws();
          if (!eat(':')) return false;
        }
        if (!skip_value(depth + 1)) return false;
        ws();
        if (eat(',')) continue;
        return eat(close);
      }
    }
    for (std::string_view lit : {"true", "false", "null", "NaN", "Infinity", "-Infinity"}) {
      if (m_s.substr(m_p, lit.size()) == lit) {
        m_p += lit.size();
        return true;
      }
    }
    size_t start = m_p;
    if (peek() == '-') ++m_p;
    while (m_p < m_s.size() && std::strchr("0123456789.eE+-", m_s[m_p]) && m_s[m_p] != '\0') ++m_p;
    return m_p > start && !(m_p == start + 1 && m_s[start] == '-');
  }
};

}  // namespace

Result<std::vector<ManifestEntry>> decode_manifest(std::string_view bytes, const std::string& filename) {
  return Reader(bytes, filename).run();
}

}  // namespace dvx::formats
