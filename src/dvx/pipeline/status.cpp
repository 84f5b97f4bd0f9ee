#include "dvx/pipeline/status.h"

#include <algorithm>
#include <set>

#include "dvx/base/strings.h"
#include "dvx/formats/params.h"
#include "dvx/platform/files.h"

namespace dvx::pipeline {

namespace fsx = dvx::platform;
using Kind = workspace::OutputState::Kind;

namespace {
constexpr size_t k_read_limit = 64u << 20;

// The keys of a params dependency: listed ones, or every top-level key for a whole file.
std::vector<std::string> param_keys(const ParamsDep& p, const yaml::Node* doc) {
  if (!p.whole_file) return p.keys;
  std::vector<std::string> keys;
  if (doc && doc->is_mapping())
    for (auto& [k, _] : doc->map) keys.push_back(k);
  return keys;
}
}  // namespace

formats::LockEntry lock_entry_of(const std::string& written, const workspace::OutputState& st) {
  formats::LockEntry e;
  e.path = written;
  e.hash = "md5";
  e.md5 = st.oid;
  e.size = st.size;
  if (st.kind == Kind::dir) e.nfiles = st.nfiles;
  e.isexec = st.kind == Kind::file && st.isexec;
  return e;
}

Checker::Checker(const Index& index) : m_index(index), m_repo(index.repo()), m_ctx(m_repo.context()) {
  m_ctx.dangling_absent = true;
}

void Checker::prefetch(const std::vector<size_t>& stages, bool cache_presence) {
  // Paths in byte order (deps and outputs of a foreach interleave folders): the state db then
  // reads them with one range scan of its key instead of a point query per path.
  std::set<std::string> wanted;
  for (size_t i : stages) {
    const Stage& st = m_index.stage(i);
    if (st.is_dvc_file()) continue;  // .dvc outputs may be 2.x entries hashed another way
    for (auto& d : st.deps)
      if (!m_states.count(d.abs)) wanted.insert(d.abs);
    for (auto& o : st.outs)
      if (!m_states.count(o.abs)) wanted.insert(o.abs);
  }
  if (cache_presence) prefetch_cache(stages);
  if (wanted.empty()) return;
  // Stat-ed from the repository root (one open folder), not from "/" path by path.
  const std::string& root = m_repo.root();
  std::vector<std::string> all(wanted.begin(), wanted.end()), rels;
  rels.reserve(all.size());
  for (auto& abs : all)
    rels.push_back(abs.size() > root.size() + 1 && abs.compare(0, root.size(), root) == 0 && abs[root.size()] == '/'
                       ? abs.substr(root.size() + 1)
                       : abs);  // outside the repository: an absolute path, stat-ed as it is
  auto all_stats = fsx::lstat_under(root, rels);
  std::vector<std::string> paths;
  std::vector<fsx::FileStat> stats;
  for (size_t k = 0; k < all.size(); ++k) {
    if (all_stats[k].type != fsx::FileType::regular) continue;
    paths.push_back(std::move(all[k]));
    stats.push_back(all_stats[k]);
  }
  if (paths.empty()) return;
  auto hashes = m_repo.hasher().hash(paths, stats, hash::Algorithm::md5);
  if (!hashes) return;  // state_of() will say what is wrong, path by path
  for (size_t k = 0; k < paths.size(); ++k) {
    workspace::OutputState s;
    s.kind = Kind::file;
    s.oid = (*hashes)[k];
    s.size = stats[k].size;
    s.isexec = stats[k].is_exec();
    m_states.emplace(paths[k], std::move(s));
  }
}

void Checker::prefetch_cache(const std::vector<size_t>& stages) {
  // The cached file outputs recorded in dvc.lock: their objects are stat-ed from the cache's
  // folder in one pass. Folders (.dir) are left to Repo::cache_state (their files too).
  std::vector<std::string> oids, rels;
  for (size_t i : stages) {
    const Stage& st = m_index.stage(i);
    if (st.is_dvc_file()) continue;
    const formats::LockStage* entry = m_index.lock_entry_ptr(i);
    if (!entry) continue;
    for (auto& o : st.outs) {
      if (!o.def.cache) continue;
      for (auto& e : entry->outs) {
        if (e.path != o.written || !e.md5 || e.md5->ends_with(".dir") || !odb::valid_oid(*e.md5)) continue;
        oids.push_back(*e.md5);
        rels.push_back(oids.back().substr(0, 2) + "/" + oids.back().substr(2));
      }
    }
  }
  if (oids.empty()) return;
  auto stats = fsx::lstat_under(m_repo.cache().root() + "/files/md5", rels);
  for (size_t k = 0; k < oids.size(); ++k)
    if (stats[k].type == fsx::FileType::regular) m_cache_present.insert(oids[k]);
}

workspace::OutputState Checker::state_of(const std::string& abs) {
  auto it = m_states.find(abs);
  if (it != m_states.end()) return it->second;
  workspace::OutputState st;
  if (fsx::lstat_path(abs).type != fsx::FileType::other) {
    auto r = workspace::compute_state(m_ctx, abs, hash::Algorithm::md5);
    if (!r) throw UserError(r.error().message);
    st = std::move(*r);
  } else {
    st.kind = Kind::file;  // a FIFO/socket is never opened: it is "modified"
    st.oid = "-";
  }
  st.manifest.clear();
  st.entries.clear();
  st.entry_sizes.clear();
  st.entry_cached.clear();
  return m_states.emplace(abs, std::move(st)).first->second;
}

void Checker::forget(const std::string& abs) {
  // The path itself, what is inside it (a range of the sorted map) and the folders holding it
  // (one lookup per parent): a repro forgets each output it writes, so no full scan here.
  m_states.erase(abs);
  std::string prefix = abs + "/";
  m_states.erase(m_states.lower_bound(prefix), m_states.lower_bound(abs + "0"));  // '0' follows '/'
  for (std::string p = fsx::parent_dir(abs); !p.empty() && p != "/"; p = fsx::parent_dir(p)) {
    m_states.erase(p);
    if (p.size() <= 1) break;
  }
  m_params_files.erase(abs);
}

const yaml::Node* Checker::params_file(const std::string& abs) {
  auto it = m_params_files.find(abs);
  if (it == m_params_files.end()) {
    std::optional<yaml::Node> doc;
    auto text = fsx::read_file_prefix(abs, k_read_limit);
    if (text) {
      auto parsed = formats::parse_params(*text, m_repo.display(abs), formats::params_format(abs));
      if (!parsed) throw UserError(parsed.error().message);
      doc = std::move(*parsed);
    } else if (text.error().code != ErrorCode::not_found) {
      throw UserError(text.error().message);
    }
    it = m_params_files.emplace(abs, std::move(doc)).first;
  }
  return it->second ? &*it->second : nullptr;
}

StageChanges Checker::check(size_t i, bool allow_missing) {
  const Stage& st = m_index.stage(i);
  StageChanges ch;
  if (st.is_dvc_file()) {
    for (auto& o : st.dvc->outs) {
      auto rec = o.recorded();
      auto name = [&] { return m_repo.display(o.abs_path); };
      if (rec && o.entry.cache) {
        auto cs = m_repo.cache_state(*rec);
        if (cs != repo::CacheState::complete) {
          if (!allow_missing) ch.outs.emplace_back(name(), cs == repo::CacheState::corrupted ? "corrupted" : "not in cache");
          continue;
        }
      }
      auto cur = state_of(o.abs_path);
      if (cur.kind == Kind::missing) {
        if (!allow_missing) ch.outs.emplace_back(name(), "deleted");
      } else if (!rec || cur.oid != rec->oid || !cur.dangling.empty()) {
        ch.outs.emplace_back(name(), "modified");
      }
    }
    ch.always = st.always_changed;
    return ch;
  }
  const formats::LockStage* entry = m_index.lock_entry_ptr(i);
  if (!st.frozen) {
    for (auto& d : st.deps) {
      const formats::LockEntry* rec = nullptr;
      if (entry)
        for (auto& e : entry->deps)
          if (e.path == d.written) rec = &e;
      auto cur = state_of(d.abs);
      auto name = [&] { return m_repo.display(d.abs); };
      if (cur.kind == Kind::missing) {
        if (!allow_missing) ch.deps.push_back({name(), "deleted", {}});
      } else if (!rec || !rec->md5 || *rec->md5 != cur.oid) {
        ch.deps.push_back({name(), "modified", {}});
      }
    }
    for (auto& p : st.params) {
      auto name = [&] { return m_repo.display(p.abs); };
      const yaml::Node* doc = params_file(p.abs);
      const std::vector<std::pair<std::string, yaml::Node>>* recorded = nullptr;
      if (entry)
        for (auto& [file, values] : entry->params)
          if (file == p.written) recorded = &values;
      if (!doc) {
        ch.deps.push_back({name(), "deleted", {}});
        continue;
      }
      if (!recorded) {
        ch.deps.push_back({name(), "new", {}});
        continue;
      }
      DepChange dc{name(), "", {}};
      std::vector<std::string> keys = param_keys(p, doc);
      for (auto& [k, _] : *recorded)
        if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
      for (auto& k : keys) {
        const yaml::Node* actual = formats::find_dotted(*doc, k);
        const yaml::Node* info = nullptr;
        for (auto& [rk, rv] : *recorded)
          if (rk == k) info = &rv;
        if (!actual) dc.params.emplace_back(k, "deleted");
        else if (!info) dc.params.emplace_back(k, "new");
        else if (!yaml::equal(*actual, *info)) dc.params.emplace_back(k, "modified");
      }
      if (!dc.params.empty()) ch.deps.push_back(std::move(dc));
    }
  }
  for (auto& o : st.outs) {
    const formats::LockEntry* rec = nullptr;
    if (entry)
      for (auto& e : entry->outs)
        if (e.path == o.written) rec = &e;
    auto name = [&] { return m_repo.display(o.abs); };
    if (rec && rec->md5 && o.def.cache) {
      // Seen in the cache by prefetch(): used once (the object was present a moment ago).
      auto known = m_cache_present.find(*rec->md5);
      auto cs = known != m_cache_present.end() ? repo::CacheState::complete
                                               : m_repo.cache_state(odb::ObjectId{*rec->md5, odb::Layout::v3});
      if (known != m_cache_present.end()) m_cache_present.erase(known);
      if (cs != repo::CacheState::complete) {
        if (!allow_missing) ch.outs.emplace_back(name(), cs == repo::CacheState::corrupted ? "corrupted" : "not in cache");
        continue;
      }
    }
    auto cur = state_of(o.abs);
    if (cur.kind == Kind::missing) {
      if (!allow_missing) ch.outs.emplace_back(name(), "deleted");
    } else if (!rec || !rec->md5 || *rec->md5 != cur.oid || !cur.dangling.empty()) {
      ch.outs.emplace_back(name(), "modified");
    }
  }
  ch.command = entry && !yaml::equal(entry->cmd, st.def.cmd);  // a stage never run: deps/outs tell
  ch.always = st.always_changed || st.is_callback();
  return ch;
}

void Checker::current_deps(size_t i, formats::LockStage& entry) {
  const Stage& st = m_index.stage(i);
  entry.deps.clear();
  entry.params.clear();
  for (auto& d : st.deps) {
    auto cur = state_of(d.abs);
    if (cur.kind == Kind::missing) throw UserError("[Errno 2] No such file or directory: '" + d.abs + "'");
    entry.deps.push_back(lock_entry_of(d.written, cur));
  }
  for (auto& p : st.params) {
    const yaml::Node* doc = params_file(p.abs);
    if (!doc) throw UserError("[Errno 2] No such file or directory: '" + p.abs + "'");
    std::vector<std::pair<std::string, yaml::Node>> values;
    std::vector<std::string> missing;
    for (auto& k : param_keys(p, doc)) {
      const yaml::Node* v = formats::find_dotted(*doc, k);
      if (!v) missing.push_back(k);
      else values.emplace_back(k, *v);
    }
    if (!missing.empty())
      throw UserError("Parameters '" + join(missing, ", ") + "' are missing from '" + m_repo.display(p.abs) + "'.");
    // The same file listed twice merges.
    bool merged = false;
    for (auto& [file, vals] : entry.params)
      if (file == p.written) {
        for (auto& kv : values)
          if (std::none_of(vals.begin(), vals.end(), [&](auto& x) { return x.first == kv.first; })) vals.push_back(kv);
        merged = true;
      }
    if (!merged) entry.params.emplace_back(p.written, std::move(values));
  }
}

void Checker::current_outs(size_t i, formats::LockStage& entry, std::vector<workspace::OutputState>* states) {
  const Stage& st = m_index.stage(i);
  entry.outs.clear();
  for (auto& o : st.outs) {
    auto cur = state_of(o.abs);
    if (cur.kind == Kind::missing) throw UserError("output '" + m_repo.display(o.abs) + "' does not exist");
    entry.outs.push_back(lock_entry_of(o.written, cur));
    if (states) states->push_back(cur);
  }
}

formats::LockStage Checker::current_entry(size_t i) {
  formats::LockStage e;
  e.cmd = m_index.stage(i).def.cmd;
  current_deps(i, e);
  current_outs(i, e);
  return e;
}

}  // namespace dvx::pipeline
