#include "dvx/formats/dvc_file.h"

#include <algorithm>
#include <array>

#include "dvx/base/strings.h"

namespace dvx::formats {

using yaml::Node;
using Kind = yaml::Node::Kind;

bool DvcOut::is_dir() const {
  return nfiles.has_value() || (md5 && md5->size() >= 4 && md5->ends_with(".dir"));
}

namespace {

struct Validator {
  const std::string& file;
  std::optional<Error> err;

  // path: voluptuous-style location, rendered "a -> 0 -> b".
  bool fail(const Node& at, const std::vector<std::string>& path, const std::string& what) {
    if (err) return false;
    std::string msg = "'" + file + "':" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                      ": validation failed: " + what;
    if (!path.empty()) msg += ", in " + join(path, " -> ");
    err = Error{ErrorCode::corruption, std::move(msg)};
    return false;
  }

  bool expect(const Node& n, Kind k, const std::vector<std::string>& path) {
    if (n.kind == k) return true;
    const char* name = k == Kind::string    ? "expected str"
                       : k == Kind::integer ? "expected int"
                       : k == Kind::boolean ? "expected bool"
                       : k == Kind::mapping ? "expected a dictionary"
                       : k == Kind::sequence ? "expected a list"
                                             : "invalid value";
    return fail(n, path, name);
  }

  // CHECKSUM_SCHEMA: null / "" -> absent; str or int -> str of at least 3 chars (lower-cased).
  bool checksum(const Node& n, const std::vector<std::string>& path, bool lower,
                std::optional<std::string>& out) {
    out.reset();
    if (n.kind == Kind::null) return true;
    std::string v;
    if (n.kind == Kind::string) v = n.s;
    else if (n.kind == Kind::integer) v = std::to_string(n.i);
    else return fail(n, path, "expected str");
    if (v.empty()) return true;
    if (v.size() < 3) return fail(n, path, "length of value must be at least 3");
    out = lower ? to_lower(v) : v;
    return true;
  }
};

std::vector<std::string> sub(std::vector<std::string> path, std::string more) {
  path.push_back(std::move(more));
  return path;
}

// Keys of an output entry, in the order DVC writes a fresh entry (formats.md §2.2).
constexpr std::array<std::string_view, 24> kOutOrder = {
    "md5",    "etag",   "checksum", "size",   "nfiles", "isexec", "version_id", "cloud",
    "hash",   "path",   "fs_config", "desc",  "type",   "labels", "meta",       "metric",
    "plot",   "cache",  "persist",  "remote", "push",   "files",  "",           ""};

bool is_out_key(std::string_view k) {
  return !k.empty() && std::find(kOutOrder.begin(), kOutOrder.end(), k) != kOutOrder.end();
}

// Keys a dependency entry may have (dependency.SCHEMA: artifact + repo + db + files + fs_config).
bool is_dep_key(std::string_view k) {
  static constexpr std::array<std::string_view, 16> keys = {
      "md5",   "etag",  "checksum", "size", "nfiles", "isexec",    "version_id", "cloud",
      "hash",  "path",  "plot",     "persist", "repo", "db",      "files",      "fs_config"};
  return std::find(keys.begin(), keys.end(), k) != keys.end();
}

bool parse_out(Validator& v, const Node& n, const std::vector<std::string>& path, DvcOut& out) {
  if (!v.expect(n, Kind::mapping, path)) return false;
  out.line = n.line;
  bool have_path = false;
  for (const auto& [k, val] : n.map) {
    auto p = sub(path, k);
    if (!is_out_key(k)) return v.fail(val, p, "extra keys not allowed");
    if (k == "md5") {
      if (!v.checksum(val, p, true, out.md5)) return false;
    } else if (k == "etag" || k == "checksum") {
      std::optional<std::string> c;
      if (!v.checksum(val, p, k == "checksum", c)) return false;
      out.extra.set(k, c ? Node::str(*c) : Node::null());
    } else if (k == "size" || k == "nfiles") {
      if (val.kind == Kind::null) continue;
      if (!v.expect(val, Kind::integer, p)) return false;
      (k == "size" ? out.size : out.nfiles) = val.i;
    } else if (k == "isexec" || k == "cache" || k == "persist" || k == "push") {
      if (!v.expect(val, Kind::boolean, p)) return false;
      if (k == "isexec") out.isexec = val.b;
      else if (k == "cache") out.cache = val.b;
      else if (k == "persist") out.persist = val.b;
      else out.push = val.b;
    } else if (k == "hash" || k == "path" || k == "remote") {
      if (!v.expect(val, Kind::string, p)) return false;
      if (k == "hash") out.hash = val.s;
      else if (k == "path") {
        out.path = val.s;
        have_path = true;
      } else {
        out.remote = val.s;
      }
    } else {
      if (k == "version_id" || k == "desc" || k == "type") {
        if (!v.expect(val, Kind::string, p)) return false;
      } else if (k == "cloud" || k == "fs_config") {
        if (!v.expect(val, Kind::mapping, p)) return false;
      } else if (k == "labels") {
        if (!v.expect(val, Kind::sequence, p)) return false;
        for (size_t i = 0; i < val.seq.size(); ++i)
          if (!v.expect(val.seq[i], Kind::string, sub(p, std::to_string(i)))) return false;
      } else if (k == "files") {
        if (!v.expect(val, Kind::sequence, p)) return false;
        for (size_t i = 0; i < val.seq.size(); ++i) {
          const Node& f = val.seq[i];
          auto fp = sub(p, std::to_string(i));
          if (!v.expect(f, Kind::mapping, fp)) return false;
          const Node* rel = f.find("relpath");
          if (!rel) return v.fail(f, sub(fp, "relpath"), "required key not provided");
          if (!v.expect(*rel, Kind::string, sub(fp, "relpath"))) return false;
        }
      } else if (k == "metric" || k == "plot") {
        if (val.kind != Kind::null && val.kind != Kind::boolean && val.kind != Kind::mapping)
          return v.fail(val, p, "expected bool");
      }
      out.extra.set(k, val);
    }
  }
  if (!have_path) return v.fail(n, sub(path, "path"), "required key not provided");
  return true;
}

bool parse_dep(Validator& v, const Node& n, const std::vector<std::string>& path) {
  if (!v.expect(n, Kind::mapping, path)) return false;
  bool have_path = false;
  for (const auto& [k, val] : n.map) {
    auto p = sub(path, k);
    if (!is_dep_key(k)) return v.fail(val, p, "extra keys not allowed");
    if (k == "path") {
      if (!v.expect(val, Kind::string, p)) return false;
      have_path = true;
    } else if (k == "md5" || k == "etag" || k == "checksum") {
      std::optional<std::string> c;
      if (!v.checksum(val, p, k != "etag", c)) return false;
    } else if ((k == "size" || k == "nfiles") && val.kind != Kind::null) {
      if (!v.expect(val, Kind::integer, p)) return false;
    } else if (k == "repo" || k == "db") {
      if (!v.expect(val, Kind::mapping, p)) return false;
      if (k == "repo" && !val.find("url"))
        return v.fail(val, sub(p, "url"), "required key not provided");
    }
  }
  if (!have_path) return v.fail(n, sub(path, "path"), "required key not provided");
  return true;
}

Node out_to_node(const DvcOut& o) {
  Node m = Node::mapping();
  auto extra = [&](std::string_view k) {
    if (const Node* e = o.extra.find(k)) m.set(k, *e);
  };
  if (o.md5 && !o.md5->empty()) m.set("md5", Node::str(*o.md5));
  extra("etag");
  extra("checksum");
  if (o.size) m.set("size", Node::integer(*o.size));
  if (o.nfiles) m.set("nfiles", Node::integer(*o.nfiles));
  if (o.isexec) m.set("isexec", Node::boolean(true));
  extra("version_id");
  extra("cloud");
  if (o.hash) m.set("hash", Node::str(*o.hash));
  m.set("path", Node::str(o.path));
  for (std::string_view k : {"fs_config", "desc", "type", "labels", "meta", "metric", "plot"}) extra(k);
  if (!o.cache) m.set("cache", Node::boolean(false));
  if (o.persist) m.set("persist", Node::boolean(true));
  if (o.remote) m.set("remote", Node::str(*o.remote));
  if (!o.push) m.set("push", Node::boolean(false));
  extra("files");
  for (const auto& [k, v] : o.extra.map)
    if (!m.find(k)) m.set(k, v);
  return m;
}

}  // namespace

Result<DvcFile> parse_dvc_file(std::string_view text, const std::string& filename) {
  auto doc = yaml::parse(text, filename);
  if (!doc) return std::unexpected(doc.error());
  Validator v{filename, std::nullopt};
  DvcFile f;
  const Node& d = *doc;
  if (d.kind != Kind::mapping) {
    Node at = d;
    if (at.line == 0) at.line = at.column = 1;
    v.fail(at, {}, "expected a dictionary");
    return std::unexpected(*v.err);
  }
  for (const auto& [k, val] : d.map) {
    std::vector<std::string> p{k};
    bool ok = true;
    if (k == "md5") {
      ok = v.checksum(val, p, true, f.md5);
    } else if (k == "wdir") {
      if (val.kind != Kind::null) {
        ok = v.expect(val, Kind::string, p);
        if (ok) f.wdir = val.s;
      }
    } else if (k == "desc") {
      ok = v.expect(val, Kind::string, p);
      if (ok) f.desc = val.s;
    } else if (k == "frozen" || k == "locked" || k == "always_changed") {
      ok = v.expect(val, Kind::boolean, p);
      if (ok && k == "always_changed") f.always_changed = val.b;
      else if (ok) f.frozen = f.frozen || val.b;
    } else if (k == "meta") {
      f.meta = val;
    } else if (k == "outs" || k == "deps") {
      if (val.kind == Kind::null) continue;
      ok = v.expect(val, Kind::sequence, p);
      for (size_t i = 0; ok && i < val.seq.size(); ++i) {
        auto ip = sub(p, std::to_string(i));
        if (k == "outs") {
          DvcOut o;
          ok = parse_out(v, val.seq[i], ip, o);
          if (ok) f.outs.push_back(std::move(o));
        } else {
          ok = parse_dep(v, val.seq[i], ip);
          if (ok) f.deps.push_back(val.seq[i]);
        }
      }
    } else {
      ok = v.fail(val, p, "extra keys not allowed");
    }
    if (!ok) return std::unexpected(*v.err);
  }
  f.doc = std::move(*doc);
  return f;
}

Node dvc_file_to_node(const DvcFile& f) {
  Node d = Node::mapping();
  if (f.desc && !f.desc->empty()) d.set("desc", Node::str(*f.desc));
  if (f.md5 && !f.md5->empty()) d.set("md5", Node::str(*f.md5));
  if (f.wdir && !f.wdir->empty() && *f.wdir != ".") d.set("wdir", Node::str(*f.wdir));
  if (f.frozen) d.set("frozen", Node::boolean(true));
  if (!f.deps.empty()) {
    Node deps = Node::sequence();
    deps.seq = f.deps;
    d.set("deps", std::move(deps));
  }
  if (!f.outs.empty()) {
    Node outs = Node::sequence();
    for (const auto& o : f.outs) outs.seq.push_back(out_to_node(o));
    d.set("outs", std::move(outs));
  }
  if (f.always_changed) d.set("always_changed", Node::boolean(true));
  if (f.meta && yaml::truthy(*f.meta)) d.set("meta", *f.meta);
  return d;
}

std::string emit_dvc_file(const DvcFile& f) { return yaml::emit(dvc_file_to_node(f)); }

std::string update_dvc_file(const DvcFile& original, const DvcFile& updated) {
  Node fresh = dvc_file_to_node(updated);
  if (original.doc.kind != Kind::mapping) return yaml::emit(fresh);
  Node doc = original.doc;
  yaml::apply_diff(fresh, doc);
  return yaml::emit(doc);
}

}  // namespace dvx::formats
