#include "dvx/formats/dvc_lock.h"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "dvx/formats/dvc_yaml.h"
#include "dvx/formats/py_json.h"

namespace dvx::formats {

using yaml::Node;
using Kind = yaml::Node::Kind;

namespace {

Error lock_error(const std::string& file, const Node& at, const std::string& what) {
  std::string msg = "'" + file + "'";
  if (at.line > 0) msg += ":" + std::to_string(at.line) + ":" + std::to_string(at.column);
  return Error{ErrorCode::corruption, msg + ": " + what};
}

// Values written by DVC come from Python objects: block style throughout, no source text.
Node plain(const Node& n) {
  Node out = n;
  out.flow = false;
  out.line = out.column = 0;
  for (auto& e : out.seq) e = plain(e);
  for (auto& [_, v] : out.map) v = plain(v);
  return out;
}

Node entry_node(const LockEntry& e) {
  Node n = Node::mapping();
  n.set("path", Node::str(e.path));
  if (e.hash) n.set("hash", Node::str(*e.hash));
  if (e.md5) n.set("md5", Node::str(*e.md5));
  if (e.size) n.set("size", Node::integer(*e.size));
  if (e.nfiles) n.set("nfiles", Node::integer(*e.nfiles));
  if (e.isexec) n.set("isexec", Node::boolean(true));
  return n;
}

Result<LockEntry> entry_from(const Node& n, const std::string& where) {
  if (!n.is_mapping()) return fail(ErrorCode::corruption, where + ": expected a dictionary");
  LockEntry e;
  bool have_path = false;
  for (auto& [k, v] : n.map) {
    if (k == "path") {
      if (!v.is_string()) return fail(ErrorCode::corruption, where + ": 'path' must be a string");
      e.path = v.s;
      have_path = true;
    } else if (k == "hash") {
      if (!v.is_string()) return fail(ErrorCode::corruption, where + ": 'hash' must be a string");
      e.hash = v.s;
    } else if (k == "md5") {
      if (!v.is_string()) return fail(ErrorCode::corruption, where + ": 'md5' must be a string");
      e.md5 = v.s;
    } else if (k == "size" || k == "nfiles") {
      if (v.kind != Kind::integer) return fail(ErrorCode::corruption, where + ": '" + k + "' must be an integer");
      (k == "size" ? e.size : e.nfiles) = v.i;
    } else if (k == "isexec") {
      if (v.kind != Kind::boolean) return fail(ErrorCode::corruption, where + ": 'isexec' must be a boolean");
      e.isexec = v.b;
    }
    // Other keys (etag, version_id, cloud, files, ...) belong to cloud-versioned data; they
    // are not part of what dvx compares and are kept in the document as written.
  }
  if (!have_path) return fail(ErrorCode::corruption, where + ": required key 'path' not provided");
  return e;
}

// json of an entry with size/nfiles dropped at every depth (formats.md §11).
// `sizes`: keep the size/nfiles keys (the run-cache drops them at every depth).
nlohmann::ordered_json to_json(const Node& n, bool sizes = false) {
  switch (n.kind) {
    case Kind::null: return nullptr;
    case Kind::boolean: return n.b;
    case Kind::integer: return n.i;
    case Kind::floating: return n.f;
    case Kind::string: return n.s;
    case Kind::sequence: {
      auto a = nlohmann::ordered_json::array();
      for (auto& e : n.seq) a.push_back(to_json(e, sizes));
      return a;
    }
    case Kind::mapping: {
      auto o = nlohmann::ordered_json::object();
      for (auto& [k, v] : n.map)
        if (sizes || (k != "size" && k != "nfiles")) o[k] = to_json(v, sizes);
      return o;
    }
  }
  return nullptr;
}

}  // namespace

Node lock_stage_to_node(const LockStage& st) {
  Node n = Node::mapping();
  n.set("cmd", plain(st.cmd));
  auto sorted = [](std::vector<LockEntry> v) {
    std::stable_sort(v.begin(), v.end(), [](const LockEntry& a, const LockEntry& b) { return a.path < b.path; });
    return v;
  };
  if (!st.deps.empty()) {
    Node deps = Node::sequence();
    for (auto& e : sorted(st.deps)) deps.push_back(entry_node(e));
    n.set("deps", std::move(deps));
  }
  if (!st.params.empty()) {
    auto files = st.params;
    std::stable_sort(files.begin(), files.end(), [](auto& a, auto& b) {
      bool ad = a.first == "params.yaml", bd = b.first == "params.yaml";
      if (ad != bd) return ad;
      return a.first < b.first;
    });
    Node params = Node::mapping();
    for (auto& [file, values] : files) {
      auto kv = values;
      std::stable_sort(kv.begin(), kv.end(), [](auto& a, auto& b) { return a.first < b.first; });
      Node m = Node::mapping();
      for (auto& [k, v] : kv) m.set(k, plain(v));
      params.set(file, std::move(m));
    }
    n.set("params", std::move(params));
  }
  if (!st.outs.empty()) {
    Node outs = Node::sequence();
    for (auto& e : sorted(st.outs)) outs.push_back(entry_node(e));
    n.set("outs", std::move(outs));
  }
  return n;
}

Result<LockStage> lock_stage_from_node(const Node& node, const std::string& where) {
  if (!node.is_mapping()) return fail(ErrorCode::corruption, where + ": expected a dictionary");
  LockStage st;
  const Node* cmd = node.find("cmd");
  if (!cmd) return fail(ErrorCode::corruption, where + ": required key 'cmd' not provided");
  if (!cmd->is_string() && !cmd->is_sequence())
    return fail(ErrorCode::corruption, where + ": 'cmd' must be a string or a list");
  st.cmd = *cmd;
  for (auto& [k, v] : node.map) {
    if (k == "deps" || k == "outs") {
      if (!v.is_sequence() && !v.is_null())
        return fail(ErrorCode::corruption, where + ": '" + k + "' must be a list");
      for (size_t i = 0; i < v.seq.size(); ++i) {
        auto e = entry_from(v.seq[i], where + " -> " + k + " -> " + std::to_string(i));
        if (!e) return std::unexpected(e.error());
        (k == "deps" ? st.deps : st.outs).push_back(std::move(*e));
      }
    } else if (k == "params") {
      if (!v.is_mapping() && !v.is_null()) return fail(ErrorCode::corruption, where + ": 'params' must be a dictionary");
      for (auto& [file, values] : v.map) {
        if (!values.is_mapping() && !values.is_null())
          return fail(ErrorCode::corruption, where + " -> params -> " + file + ": expected a dictionary");
        std::vector<std::pair<std::string, Node>> kv(values.map.begin(), values.map.end());
        st.params.emplace_back(file, std::move(kv));
      }
    } else if (k != "cmd") {
      return fail(ErrorCode::corruption, where + ": extra keys not allowed: '" + k + "'");
    }
  }
  return st;
}

Result<DvcLock> DvcLock::parse(std::string_view text, const std::string& filename) {
  auto doc = yaml::parse(text, filename);
  if (!doc) return std::unexpected(yaml_file_error(doc.error(), text, filename));
  return from_document(std::move(*doc), filename);
}

Result<DvcLock> DvcLock::from_document(yaml::Node document, const std::string& filename) {
  DvcLock lock;
  auto* doc = &document;
  if (doc->is_null()) {
    lock.m_doc = Node::mapping();
    lock.m_doc.set("schema", Node::str("2.0"));
    lock.m_doc.set("stages", Node::mapping());
    return lock;
  }
  if (!doc->is_mapping()) return std::unexpected(lock_error(filename, *doc, "expected a dictionary"));
  const Node* schema = doc->find("schema");
  if (!schema)
    return std::unexpected(lock_error(filename, *doc,
                                      "a dvc.lock without 'schema' (DVC 1.x) is not supported; run `dvc repro` "
                                      "with DVC 2 or later to rewrite it"));
  if (!schema->is_string() || schema->s != "2.0")
    return std::unexpected(lock_error(filename, *schema, "unsupported schema version (expected '2.0')"));
  for (auto& [k, v] : doc->map)
    if (k != "schema" && k != "stages" && k != "datasets")
      return std::unexpected(lock_error(filename, v, "extra keys not allowed: '" + k + "'"));
  Node* stages = doc->find("stages");
  if (stages && !stages->is_mapping() && !stages->is_null())
    return std::unexpected(lock_error(filename, *stages, "'stages' must be a dictionary"));
  if (!stages) doc->set("stages", Node::mapping());
  else if (stages->is_null()) *stages = Node::mapping();
  for (auto& [name, entry] : doc->find("stages")->map) {
    auto st = lock_stage_from_node(entry, "stage '" + name + "'");
    if (!st) return std::unexpected(lock_error(filename, entry, st.error().message));
    lock.m_typed.emplace(name, std::move(*st));
  }
  lock.m_doc = std::move(document);
  return lock;
}

Node* DvcLock::stages_node() {
  if (!m_doc.is_mapping()) m_doc = Node::mapping();
  if (!m_doc.find("schema")) m_doc.set("schema", Node::str("2.0"));
  Node* stages = m_doc.find("stages");
  if (!stages) stages = &m_doc.set("stages", Node::mapping());
  return stages;
}

const Node* DvcLock::find_stage(std::string_view name) const {
  const Node* stages = m_doc.find("stages");
  if (!stages || !stages->is_mapping()) return nullptr;
  if (m_pos_stale) {
    m_pos.clear();
    for (size_t k = 0; k < stages->map.size(); ++k) m_pos.emplace(stages->map[k].first, k);
    m_pos_stale = false;
  }
  auto it = m_pos.find(std::string(name));
  if (it == m_pos.end() || it->second >= stages->map.size() || stages->map[it->second].first != name) return nullptr;
  return &stages->map[it->second].second;
}

std::optional<LockStage> DvcLock::stage(std::string_view name) const {
  if (auto it = m_typed.find(std::string(name)); it != m_typed.end()) return it->second;
  const Node* n = find_stage(name);
  if (!n) return std::nullopt;
  auto st = lock_stage_from_node(*n, std::string(name));
  if (!st) return std::nullopt;  // validated by parse()
  return std::move(*st);
}

const LockStage* DvcLock::stage_ref(std::string_view name) const {
  // from_document() and set_stage() keep a typed entry for every stage of the document.
  auto it = m_typed.find(std::string(name));
  return it == m_typed.end() ? nullptr : &it->second;
}

std::vector<std::string> DvcLock::stage_names() const {
  std::vector<std::string> names;
  if (const Node* stages = m_doc.find("stages"))
    for (auto& [k, _] : stages->map) names.push_back(k);
  return names;
}

void DvcLock::set_stage(const std::string& name, const LockStage& st) {
  Node* stages = stages_node();
  Node node = lock_stage_to_node(st);
  if (const Node* found = find_stage(name)) {
    *const_cast<Node*>(found) = std::move(node);
  } else {
    stages->map.emplace_back(name, std::move(node));
    if (!m_pos_stale) m_pos[name] = stages->map.size() - 1;
  }
  m_typed.insert_or_assign(name, st);
}

bool DvcLock::remove_stage(std::string_view name) {
  Node* stages = m_doc.find("stages");
  if (!stages || !stages->erase(name)) return false;
  m_typed.erase(std::string(name));
  m_pos_stale = true;
  return true;
}

void DvcLock::move_to_end(const std::vector<std::string>& names) {
  Node* stages = m_doc.find("stages");
  if (!stages || !stages->is_mapping()) return;
  std::unordered_map<std::string_view, size_t> rank;
  for (size_t k = 0; k < names.size(); ++k) rank.emplace(names[k], k);
  std::vector<std::pair<std::string, Node>> kept, moved(names.size());
  std::vector<char> present(names.size(), 0);
  for (auto& e : stages->map) {
    auto it = rank.find(e.first);
    if (it == rank.end()) {
      kept.push_back(std::move(e));
    } else {
      present[it->second] = 1;
      moved[it->second] = std::move(e);
    }
  }
  for (size_t k = 0; k < names.size(); ++k)
    if (present[k]) kept.push_back(std::move(moved[k]));
  stages->map = std::move(kept);
  m_pos_stale = true;
}

bool DvcLock::empty() const {
  const Node* stages = m_doc.find("stages");
  return !stages || stages->map.empty();
}

std::string DvcLock::emit() const { return yaml::emit(m_doc); }

std::string run_cache_value_json(const LockStage& entry) {
  return py_json_dumps(to_json(lock_stage_to_node(entry)), true);
}

std::string run_cache_key_json(const LockStage& entry) {
  auto j = to_json(lock_stage_to_node(entry));
  if (j.contains("outs")) {
    auto paths = nlohmann::ordered_json::array();
    for (auto& o : j["outs"]) paths.push_back(o["path"]);
    j["outs"] = paths;
  }
  return py_json_dumps(j, true);
}

std::string lock_stages_json(const std::vector<std::pair<std::string, LockStage>>& stages) {
  auto j = nlohmann::ordered_json::object();
  for (auto& [name, st] : stages) j[name] = to_json(lock_stage_to_node(st), true);
  return py_json_dumps(j, true);
}

}  // namespace dvx::formats
