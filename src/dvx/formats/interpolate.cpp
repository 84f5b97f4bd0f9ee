#include "dvx/formats/interpolate.h"

#include "dvx/base/strings.h"
#include "dvx/formats/py_float.h"

namespace dvx::formats {

using yaml::Node;
using Kind = yaml::Node::Kind;

namespace {

// Python's str() of a scalar, with JSON-style booleans as DVC writes them into text.
std::string scalar_text(const Node& n) {
  switch (n.kind) {
    case Kind::null: return "None";
    case Kind::boolean: return n.b ? "true" : "false";
    case Kind::integer: return std::to_string(n.i);
    case Kind::floating: return py_float_repr(n.f);
    case Kind::string: return n.s;
    default: return "";
  }
}

Status merge_into(Node& into, const Node& data, const std::string& prefix, const std::string& src,
                  const std::string& src0) {
  for (auto& [k, v] : data.map) {
    Node* old = into.find(k);
    if (!old) {
      into.set(k, v);
      continue;
    }
    if (old->is_mapping() && v.is_mapping()) {
      if (auto st = merge_into(*old, v, prefix + k + ".", src, src0); !st) return st;
      continue;
    }
    return fail(ErrorCode::invalid_argument,
                "cannot redefine '" + prefix + k + "' from '" + src + "' as it already exists in '" + src0 + "'");
  }
  return {};
}

// A `${...}` found in a string.
struct Match {
  size_t begin, end;  // of the whole "${...}"
  std::string expr;
};

// The `${...}` occurrences of s (unescaped), in order; `\${` is not one.
std::vector<Match> find_matches(std::string_view s) {
  std::vector<Match> out;
  for (size_t i = 0; i + 1 < s.size(); ++i) {
    if (s[i] != '$' || s[i + 1] != '{') continue;
    if (i > 0 && s[i - 1] == '\\') continue;
    size_t close = s.find('}', i + 2);
    if (close == std::string_view::npos) break;
    out.push_back({i, close + 1, std::string(trim(s.substr(i + 2, close - i - 2)))});
    i = close;
  }
  return out;
}

void flag_text(const std::string& key, const Node& v, const FlagStyle& flags, std::vector<std::string>& parts) {
  if (v.is_mapping()) {
    for (auto& [k, sub] : v.map) flag_text(key + "." + k, sub, flags, parts);
    return;
  }
  if (v.kind == Kind::boolean) {
    if (v.b) parts.push_back("--" + key);
    else if (flags.bool_optional) parts.push_back("--no-" + key);
    return;
  }
  if (v.is_sequence()) {
    if (flags.list_append) {
      for (auto& e : v.seq) parts.push_back("--" + key + " " + shell_quote(scalar_text(e)));
    } else {
      std::string p = "--" + key;
      for (auto& e : v.seq) p += " " + shell_quote(scalar_text(e));
      parts.push_back(p);
    }
    return;
  }
  parts.push_back("--" + key + " " + shell_quote(scalar_text(v)));
}

Result<std::string> resolve_text(const std::string& s, const Context& ctx, bool in_cmd, const FlagStyle& flags) {
  auto matches = find_matches(s);
  std::string out;
  size_t pos = 0;
  for (auto& m : matches) {
    out += s.substr(pos, m.begin - pos);
    const Node* v = ctx.lookup(m.expr);
    if (!v) return fail(ErrorCode::invalid_argument, "Could not find '" + m.expr + "'");
    if (v->is_mapping() && in_cmd) {
      std::vector<std::string> parts;
      for (auto& [k, sub] : v->map) flag_text(k, sub, flags, parts);
      out += join(parts, " ");
    } else if (v->is_mapping() || v->is_sequence()) {
      return fail(ErrorCode::invalid_argument, std::string("Cannot interpolate data of type '") + python_type_name(*v) + "'");
    } else {
      out += scalar_text(*v);
    }
    pos = m.end;
  }
  out += s.substr(pos);
  // `\${` stands for a literal `${`.
  std::string unescaped;
  unescaped.reserve(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\\' && i + 2 < out.size() + 0 && out[i + 1] == '$' && out[i + 2] == '{') continue;
    unescaped += out[i];
  }
  return unescaped;
}

Result<Node> resolve_node(const Node& value, const Context& ctx, bool in_cmd, const FlagStyle& flags, int depth) {
  if (depth > 64) return fail(ErrorCode::invalid_argument, "value nested too deeply");
  switch (value.kind) {
    case Kind::string: {
      auto matches = find_matches(value.s);
      if (matches.empty()) {
        if (value.s.find("\\${") == std::string::npos) return value;
        auto t = resolve_text(value.s, ctx, in_cmd, flags);
        if (!t) return std::unexpected(t.error());
        Node n = value;
        n.s = *t;
        return n;
      }
      if (matches.size() == 1 && matches[0].begin == 0 && matches[0].end == value.s.size()) {
        const Node* v = ctx.lookup(matches[0].expr);
        if (!v) return fail(ErrorCode::invalid_argument, "Could not find '" + matches[0].expr + "'");
        if (!(in_cmd && v->is_mapping())) {
          Node n = *v;
          n.line = value.line;
          n.column = value.column;
          return n;
        }
      }
      auto t = resolve_text(value.s, ctx, in_cmd, flags);
      if (!t) return std::unexpected(t.error());
      Node n = Node::str(*t);
      n.line = value.line;
      n.column = value.column;
      return n;
    }
    case Kind::sequence: {
      Node n = value;
      for (auto& e : n.seq) {
        auto r = resolve_node(e, ctx, in_cmd, flags, depth + 1);
        if (!r) return r;
        e = std::move(*r);
      }
      return n;
    }
    case Kind::mapping: {
      Node n = value;
      for (auto& [k, v] : n.map) {
        if (has_interpolation(k)) {
          auto t = resolve_text(k, ctx, false, flags);
          if (!t) return std::unexpected(t.error());
          k = *t;
        }
        auto r = resolve_node(v, ctx, in_cmd, flags, depth + 1);
        if (!r) return r;
        v = std::move(*r);
      }
      return n;
    }
    default: return value;
  }
}

}  // namespace

Status Context::merge(const Node& data, const std::string& src) {
  if (!data.is_mapping()) {
    if (data.is_null()) return {};
    return fail(ErrorCode::invalid_argument,
                std::string("expected a dictionary, got '") + python_type_name(data) + "' in file '" + src + "'");
  }
  for (auto& [k, v] : data.map) {
    Node* old = m_data.find(k);
    std::string src0;
    for (auto& [key, s] : m_sources)
      if (key == k) src0 = s;
    if (!old) {
      m_data.set(k, v);
      m_sources.emplace_back(k, src);
      continue;
    }
    if (old->is_mapping() && v.is_mapping()) {
      if (auto st = merge_into(*old, v, k + ".", src, src0); !st) return st;
      continue;
    }
    return fail(ErrorCode::invalid_argument,
                "cannot redefine '" + k + "' from '" + src + "' as it already exists in '" + src0 + "'");
  }
  return {};
}

Status Context::load_vars_item(const Node& item, const VarsLoader& load) {
  if (item.is_mapping()) return merge(item, "vars");
  if (!item.is_string()) return fail(ErrorCode::invalid_argument, "vars items must be file names or dictionaries");
  std::string path = item.s, keys;
  if (size_t colon = path.find(':'); colon != std::string::npos) {
    keys = path.substr(colon + 1);
    path.resize(colon);
  }
  auto doc = load(path);
  if (!doc) {
    if (doc.error().code == ErrorCode::not_found) return fail(ErrorCode::not_found, "'" + path + "' does not exist");
    return std::unexpected(doc.error());
  }
  if (keys.empty()) return merge(*doc, path);
  Node selected = Node::mapping();
  for (auto& k : split(keys, ',')) {
    std::string key(trim(k));
    if (key.empty()) continue;
    const Node* v = doc->is_mapping() ? doc->find(key) : nullptr;
    if (!v) return fail(ErrorCode::invalid_argument, "Could not find '" + key + "' in '" + path + "'");
    selected.set(key, *v);
  }
  return merge(selected, path);
}

void Context::set(const std::string& name, Node value) {
  m_data.set(name, std::move(value));
  bool known = false;
  for (auto& [k, s] : m_sources)
    if (k == name) known = true;
  if (!known) m_sources.emplace_back(name, "generated");
}

const Node* Context::lookup(std::string_view expr) const {
  // "a.b[0].c" -> a, b, 0, c
  std::vector<std::string> segs;
  std::string cur;
  for (size_t i = 0; i < expr.size(); ++i) {
    char c = expr[i];
    if (c == '.') {
      segs.push_back(cur);
      cur.clear();
    } else if (c == '[') {
      if (!cur.empty()) segs.push_back(cur);
      cur.clear();
      size_t close = expr.find(']', i);
      if (close == std::string_view::npos) return nullptr;
      segs.emplace_back(trim(expr.substr(i + 1, close - i - 1)));
      i = close;
      if (i + 1 < expr.size() && expr[i + 1] == '.') ++i;
    } else {
      cur += c;
    }
  }
  if (!cur.empty() || segs.empty()) segs.push_back(cur);
  const Node* n = &m_data;
  for (auto& s : segs) {
    if (s.empty()) return nullptr;
    if (n->is_mapping()) {
      n = n->find(s);
    } else if (n->is_sequence()) {
      if (s.size() > 9 || s.find_first_not_of("0123456789") != std::string::npos) return nullptr;
      size_t idx = std::stoul(s);
      n = idx < n->seq.size() ? &n->seq[idx] : nullptr;
    } else {
      return nullptr;
    }
    if (!n) return nullptr;
  }
  return n;
}

const char* python_type_name(const Node& n) {
  switch (n.kind) {
    case Kind::null: return "NoneType";
    case Kind::boolean: return "bool";
    case Kind::integer: return "int";
    case Kind::floating: return "float";
    case Kind::string: return "str";
    case Kind::sequence: return "list";
    case Kind::mapping: return "dict";
  }
  return "object";
}

bool has_interpolation(std::string_view s) { return !find_matches(s).empty(); }

Result<Node> resolve(const Node& value, const Context& ctx, bool in_cmd, const FlagStyle& flags) {
  return resolve_node(value, ctx, in_cmd, flags, 0);
}

}  // namespace dvx::formats
