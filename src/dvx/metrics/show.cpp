#include "dvx/metrics/show.h"

#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "dvx/formats/params.h"

namespace dvx::metrics {

using Kind = yaml::Node::Kind;
using json = nlohmann::ordered_json;

namespace {

// DVC names a file it failed to parse by its data-file-system path "/<rel>" seen from the CWD.
std::string fs_display(const repo::Repo& repo, const std::string& rel) {
  std::string prefix;
  const std::string& cwd = repo.cwd();
  for (char c : cwd)
    if (c == '/') prefix += "../";
  if (cwd == "/") prefix.clear();
  return prefix + rel;
}

const char* corrupted_type(formats::ParamsFormat f) {
  switch (f) {
    case formats::ParamsFormat::json: return "JSONFileCorruptedError";
    case formats::ParamsFormat::toml: return "TOMLFileCorruptedError";
    case formats::ParamsFormat::python: return "PythonFileCorruptedError";
    case formats::ParamsFormat::yaml: break;
  }
  return "YAMLFileCorruptedError";
}

// Parses a file of the tree as DVC's load_path does; ErrorEntry on failure.
std::variant<yaml::Node, ErrorEntry> load(RevisionTree& tree, const std::string& rel) {
  auto bytes = tree.read(rel);
  if (auto* err = std::get_if<ErrorEntry>(&bytes)) return *err;
  auto fmt = formats::params_format(rel);
  std::string name = fs_display(tree.repo(), rel);
  auto doc = formats::parse_params(std::get<std::string>(bytes), name, fmt);
  if (!doc) {
    std::string msg = doc.error().message;
    if (auto p = msg.find("is not valid utf-8"); p != std::string::npos)
      return ErrorEntry{"EncodingError", msg.substr(0, p + 18)};
    if (auto p = msg.find(" corrupted"); p != std::string::npos) msg = msg.substr(0, p + 10);
    return ErrorEntry{corrupted_type(fmt), msg};
  }
  if (doc->is_null()) return yaml::Node::mapping();
  return std::move(*doc);
}

// DVC's _extract_metrics: nullopt stands for None.
std::optional<yaml::Node> extract_metrics(const yaml::Node& v) {
  switch (v.kind) {
    case Kind::boolean:
    case Kind::integer:
    case Kind::floating:
    case Kind::string: return v;
    case Kind::mapping: {
      yaml::Node out = yaml::Node::mapping();
      for (auto& [k, child] : v.map) {
        auto m = extract_metrics(child);
        if (m && !(m->is_mapping() && m->map.empty())) out.map.emplace_back(k, std::move(*m));
      }
      return out;
    }
    default: return std::nullopt;
  }
}

// dpath.search(doc, key) merged into `out`: the value at the dotted key with its parents.
void merge_key(const yaml::Node& doc, const std::vector<std::string>& parts, size_t i, yaml::Node& out) {
  if (i == parts.size()) return;
  const yaml::Node* child = nullptr;
  if (doc.is_mapping()) child = doc.find(parts[i]);
  if (!child) return;
  bool last = i + 1 == parts.size();
  if (last) {
    out.set(parts[i], *child);
    return;
  }
  if (!child->is_mapping()) return;
  yaml::Node* sub = out.find(parts[i]);
  if (!sub) sub = &out.set(parts[i], yaml::Node::mapping());
  yaml::Node probe = yaml::Node::mapping();
  merge_key(*child, parts, i + 1, probe);
  if (probe.map.empty()) {
    if (sub->map.empty()) out.erase(parts[i]);
    return;
  }
  merge_key(*child, parts, i + 1, *sub);
}

// A revision that could not be collected. A params/vars file that failed to parse is reported
// as DVC's <Kind>FileCorruptedError, whatever dvc.yaml context wraps it.
ErrorEntry error_of(const UserError& e) {
  std::string msg = e.what();
  auto start = msg.find("unable to read: '");
  auto end = msg.find(" file structure is corrupted", start == std::string::npos ? 0 : start);
  if (start != std::string::npos && end != std::string::npos) {
    std::string text = msg.substr(start, end + 28 - start);
    for (auto [word, type] : {std::pair{"YAML", "YAMLFileCorruptedError"}, {"JSON", "JSONFileCorruptedError"},
                              {"TOML", "TOMLFileCorruptedError"}, {"Python", "PythonFileCorruptedError"}})
      if (text.ends_with(std::string(", ") + word + " file structure is corrupted")) return {type, text};
  }
  return {"DvcException", msg};
}

bool results_equal(const RevisionResult& a, const RevisionResult& b) {
  // Exceptions never compare equal in Python.
  if (a.error || b.error) return false;
  if (a.files.size() != b.files.size()) return false;
  for (size_t i = 0; i < a.files.size(); ++i) {
    auto &x = a.files[i], &y = b.files[i];
    if (x.path != y.path || x.error || y.error || !x.data || !y.data) return false;
    if (!yaml::equal(*x.data, *y.data)) return false;
  }
  return true;
}

json error_json(const ErrorEntry& e) { return json{{"type", e.type}, {"msg", e.msg}}; }

// DVC's format_dict: lists become their str() form (flattening keeps nested mappings).
yaml::Node format_lists(const yaml::Node& v) {
  if (v.kind == Kind::sequence) return yaml::Node::str(py_str(v));
  if (v.kind != Kind::mapping) return v;
  yaml::Node out = yaml::Node::mapping();
  for (auto& [k, x] : v.map) out.map.emplace_back(k, format_lists(x));
  return out;
}

// Python ==, for scalars after format_lists (1 == 1.0 == True).
bool same_value(const std::optional<yaml::Node>& a, const std::optional<yaml::Node>& b) {
  if (!a || !b) return !a && !b;
  return yaml::equal(*a, *b);
}

}  // namespace

bool RevisionResult::failed() const {
  if (error) return true;
  return std::any_of(files.begin(), files.end(), [](const FileResult& f) { return f.error.has_value(); });
}

FileResult read_metrics_file(RevisionTree& tree, const std::string& rel) {
  FileResult r{rel, std::nullopt, std::nullopt};
  auto doc = load(tree, rel);
  if (auto* err = std::get_if<ErrorEntry>(&doc)) {
    r.error = *err;
    return r;
  }
  auto m = extract_metrics(std::get<yaml::Node>(doc));
  r.data = m && yaml::truthy(*m) ? *m : yaml::Node::mapping();
  return r;
}

FileResult read_params_file(RevisionTree& tree, const ParamsFile& file) {
  FileResult r{file.path, std::nullopt, std::nullopt};
  auto doc = load(tree, file.path);
  if (auto* err = std::get_if<ErrorEntry>(&doc)) {
    r.error = *err;
    return r;
  }
  auto& d = std::get<yaml::Node>(doc);
  if (file.keys.empty()) {
    r.data = std::move(d);
    return r;
  }
  yaml::Node out = yaml::Node::mapping();
  for (auto& key : file.keys) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t p; (p = key.find('.', start)) != std::string::npos; start = p + 1) parts.push_back(key.substr(start, p - start));
    parts.push_back(key.substr(start));
    merge_key(d, parts, 0, out);
  }
  r.data = std::move(out);
  return r;
}

RevisionResult gather_metrics(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets) {
  RevisionResult res{name, {}, std::nullopt};
  try {
    for (auto& f : metrics_files(tree, targets)) res.files.push_back(read_metrics_file(tree, f));
  } catch (const UserError& e) {
    res.files.clear();
    res.error = error_of(e);
  }
  return res;
}

RevisionResult gather_params(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets,
                             bool deps_only) {
  RevisionResult res{name, {}, std::nullopt};
  try {
    for (auto& f : params_files(tree, targets, deps_only)) res.files.push_back(read_params_file(tree, f));
  } catch (const UserError& e) {
    res.files.clear();
    res.error = error_of(e);
  }
  return res;
}

RevisionResult gather_metrics(repo::Repo& repo, const Revision& rev, const std::vector<std::string>& targets) {
  return gather_metrics(*open_revision(repo, rev), rev.name, targets);
}

RevisionResult gather_params(repo::Repo& repo, const Revision& rev, const std::vector<std::string>& targets,
                             bool deps_only) {
  return gather_params(*open_revision(repo, rev), rev.name, targets, deps_only);
}

void hide_workspace(std::vector<RevisionResult>& results, const std::optional<std::string>& active_branch) {
  if (!active_branch) return;
  auto ws = std::find_if(results.begin(), results.end(), [](auto& r) { return r.name == "workspace"; });
  auto br = std::find_if(results.begin(), results.end(), [&](auto& r) { return r.name == *active_branch; });
  if (ws != results.end() && br != results.end() && results_equal(*ws, *br)) results.erase(ws);
}

json show_json(const std::vector<RevisionResult>& results) {
  json out = json::object();
  for (auto& r : results) {
    if (r.error) {
      out[r.name] = json{{"error", error_json(*r.error)}};
      continue;
    }
    json files = json::object();
    for (auto& f : r.files)
      files[f.path] = f.error ? json{{"error", error_json(*f.error)}} : json{{"data", to_json(*f.data)}};
    out[r.name] = json{{"data", files}};
  }
  return out;
}

Table show_table(const std::vector<RevisionResult>& results, bool with_revision, int precision) {
  CellFormat fmt{CellFormat::Kind::round_decimals, precision};
  std::vector<std::map<std::string, std::string>> rows;
  std::vector<std::pair<std::string, std::string>> heads;  // (revision, path)
  std::set<std::string> keys;
  for (auto& r : results)
    for (auto& f : r.files) {
      std::map<std::string, std::string> row;
      if (f.data)
        for (auto& [k, v] : flatten(format_lists(*f.data))) {
          row[k] = format_cell(*v, fmt);
          keys.insert(k);
        }
      rows.push_back(std::move(row));
      heads.emplace_back(r.name, f.path);
    }
  Table t;
  if (with_revision) t.headers.push_back("Revision");
  t.headers.push_back("Path");
  // Python sorts the key columns by code point: std::set of UTF-8 bytes gives the same order.
  for (auto& k : keys) t.headers.push_back(k);
  for (size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> cells;
    if (with_revision) cells.push_back(heads[i].first);
    cells.push_back(heads[i].second);
    for (auto& k : keys) {
      auto it = rows[i].find(k);
      cells.push_back(it == rows[i].end() ? "-" : it->second);
    }
    t.rows.push_back(std::move(cells));
  }
  return t;
}

std::vector<FileDiff> diff(const RevisionResult* old_rev, const RevisionResult* new_rev, bool with_unchanged) {
  // path -> data (a file that failed to load counts as empty)
  std::vector<std::string> paths;
  std::map<std::string, const yaml::Node*> olds, news;
  static const yaml::Node empty = yaml::Node::mapping();
  auto take = [&](const RevisionResult* r, std::map<std::string, const yaml::Node*>& into) {
    if (!r || r->error) return;
    for (auto& f : r->files) {
      if (!into.count(f.path) && !olds.count(f.path) && !news.count(f.path)) paths.push_back(f.path);
      into[f.path] = f.data ? &*f.data : &empty;
    }
  };
  take(new_rev, news);
  take(old_rev, olds);
  std::vector<FileDiff> out;
  for (auto& path : paths) {
    yaml::Node o = olds.count(path) ? format_lists(*olds[path]) : empty;
    yaml::Node n = news.count(path) ? format_lists(*news[path]) : empty;
    FileDiff fd{path, {}};
    auto add = [&](const std::string& key, std::optional<yaml::Node> ov, std::optional<yaml::Node> nv) {
      if (ov && ov->is_null()) ov.reset();
      if (nv && nv->is_null()) nv.reset();
      if (!with_unchanged && same_value(ov, nv)) return;
      KeyDiff kd{key, ov, nv, std::nullopt};
      if (ov && nv && is_number(*ov) && is_number(*nv)) kd.diff = subtract(*nv, *ov);
      fd.keys.push_back(std::move(kd));
    };
    if (o.is_mapping() || n.is_mapping()) {
      // a scalar file on one side reads "unable to parse" for every key of the other
      auto flat = [](const yaml::Node& d, std::vector<std::string>& order) {
        std::map<std::string, yaml::Node> m;
        for (auto& [k, v] : flatten(d)) {
          if (!d.is_mapping()) continue;
          order.push_back(k);
          m[k] = *v;
        }
        return m;
      };
      std::vector<std::string> order;
      auto nm = flat(n, order);
      auto om = flat(o, order);
      std::unordered_set<std::string> seen;
      auto value = [](const yaml::Node& d, const std::map<std::string, yaml::Node>& m,
                      const std::string& k) -> std::optional<yaml::Node> {
        if (!d.is_mapping() && yaml::truthy(d)) return yaml::Node::str("unable to parse");
        auto it = m.find(k);
        if (it == m.end()) return std::nullopt;
        return it->second;
      };
      for (auto& k : order)
        if (seen.insert(k).second) add(k, value(o, om, k), value(n, nm, k));
    } else {
      add("", yaml::truthy(o) ? std::optional<yaml::Node>(o) : std::nullopt,
          yaml::truthy(n) ? std::optional<yaml::Node>(n) : std::nullopt);
    }
    if (!fd.keys.empty()) out.push_back(std::move(fd));
  }
  return out;
}

json diff_json(const std::vector<FileDiff>& diffs) {
  json out = json::object();
  for (auto& f : diffs) {
    json keys = json::object();
    for (auto& k : f.keys) {
      json e = json::object();
      e["old"] = k.old_value ? to_json(*k.old_value) : json(nullptr);
      e["new"] = k.new_value ? to_json(*k.new_value) : json(nullptr);
      if (k.diff) e["diff"] = to_json(*k.diff);
      keys[k.key] = std::move(e);
    }
    out[f.path] = std::move(keys);
  }
  return out;
}

Table diff_table(const std::vector<FileDiff>& diffs, const std::string& title, const std::string& a_rev,
                 const std::string& b_rev, bool no_path, bool show_change, const CellFormat& fmt,
                 const std::string& on_empty_diff) {
  Table t;
  if (!no_path) t.headers.push_back("Path");
  t.headers.push_back(title);
  t.headers.push_back(a_rev);
  t.headers.push_back(b_rev);
  if (show_change) t.headers.push_back("Change");
  auto cell = [&](const std::optional<yaml::Node>& v) { return v ? format_cell(*v, fmt) : std::string("-"); };
  for (auto& f : diffs) {
    std::vector<const KeyDiff*> keys;
    for (auto& k : f.keys) keys.push_back(&k);
    std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->key < b->key; });
    for (auto* k : keys) {
      std::vector<std::string> row;
      if (!no_path) row.push_back(f.path);
      row.push_back(k->key);
      row.push_back(cell(k->old_value));
      row.push_back(cell(k->new_value));
      if (show_change) {
        if (k->diff) row.push_back(cell(k->diff));
        else row.push_back(on_empty_diff);
      }
      t.rows.push_back(std::move(row));
    }
  }
  return t;
}

}  // namespace dvx::metrics
