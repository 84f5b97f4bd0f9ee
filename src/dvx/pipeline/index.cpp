#include "dvx/pipeline/index.h"

#include <fnmatch.h>

#include <algorithm>
#include <functional>
#include <unordered_map>

#include "dvx/base/strings.h"
#include "dvx/formats/params.h"
#include "dvx/platform/files.h"

namespace dvx::pipeline {

namespace fsx = dvx::platform;

namespace {

constexpr size_t k_read_limit = 64u << 20;

// The file as DVC names it in errors ("./dvc.yaml", "./sub/dvc.yaml", "../dvc.yaml").
std::string error_name(const repo::Repo& repo, const std::string& abs) {
  return formats::dvc_error_path(repo.display(abs));
}

bool inside_or_equal(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/');
}

}  // namespace

formats::DvcYaml read_dvc_yaml(repo::Repo& repo, const std::string& rel) {
  const std::string& root = repo.root();
  return read_dvc_yaml(repo, rel, [&root](const std::string& file) {
    return fsx::read_file_prefix(root + "/" + file, k_read_limit);
  });
}

formats::DvcYaml read_dvc_yaml(repo::Repo& repo, const std::string& rel, const TreeReader& read) {
  std::string abs = repo.root() + "/" + rel;
  auto text = read(rel);
  if (!text) throw UserError(text.error().message);
  std::string dir = fsx::parent_dir(abs);
  formats::VarsLoader loader = [&](const std::string& file) -> Result<yaml::Node> {
    std::string path = fsx::absolute_path(file, dir);
    if (!fsx::is_within(path, repo.root()))
      return fail(ErrorCode::invalid_argument, "'" + file + "' is outside of the repository");
    auto t = read(path.substr(repo.root().size() + 1));
    if (!t) return std::unexpected(t.error());
    return formats::parse_params(*t, repo.display(path), formats::params_format(path));
  };
  formats::FlagStyle flags;
  if (auto v = repo.config().get("parsing.bool"); v && *v == "boolean_optional") flags.bool_optional = true;
  if (auto v = repo.config().get("parsing.list"); v && *v == "append") flags.list_append = true;
  auto parsed = formats::parse_dvc_yaml(*text, error_name(repo, abs), loader, flags);
  if (!parsed) throw UserError(parsed.error().message);
  return std::move(*parsed);
}

std::unique_ptr<Index> Index::load(repo::Repo& repo) { return load(repo, {}); }

std::unique_ptr<Index> Index::load(repo::Repo& repo, const std::function<bool(const std::string&)>& skip_broken) {
  auto index = std::unique_ptr<Index>(new Index());
  index->m_repo = &repo;
  const std::string& root = repo.root();
  auto resolve_path = [&](const std::string& written, const std::string& base, std::string& abs, std::string& rel) {
    abs = fsx::absolute_path(written, base);
    rel = abs == root ? "" : (fsx::is_within(abs, root) ? abs.substr(root.size() + 1) : "");
  };
  std::vector<std::string> files = repo.pipeline_files();
  std::stable_sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return fsx::parent_dir("/" + a) < fsx::parent_dir("/" + b);
  });
  // dvc.yaml stages, then .dvc files, each group in walk order (DVC's index order).
  for (const auto& file : files) {
    formats::DvcYaml dvc_yaml;
    try {
      dvc_yaml = read_dvc_yaml(repo, file);
    } catch (const UserError&) {
      if (skip_broken && skip_broken(file)) continue;
      throw;
    }
    std::string dir = fsx::parent_dir(root + "/" + file);
    std::string lock_rel = file.substr(0, file.size() - 4) + "lock";
    index->m_stages.reserve(index->m_stages.size() + dvc_yaml.stages.size());
    for (auto& def : dvc_yaml.stages) {
      Stage st;
      st.file_rel = file;
      st.name = def.name;
      st.lock_rel = lock_rel;
      st.wdir_abs = fsx::absolute_path(def.wdir.empty() ? "." : def.wdir, dir);
      for (auto& d : def.deps) {
        Dep dep{d, "", ""};
        resolve_path(d, st.wdir_abs, dep.abs, dep.rel);
        st.deps.push_back(std::move(dep));
      }
      for (auto& p : def.params) {
        ParamsDep pd{p.file, "", "", p.keys, p.whole_file};
        resolve_path(p.file, st.wdir_abs, pd.abs, pd.rel);
        st.params.push_back(std::move(pd));
      }
      for (auto& o : def.outs) {
        Out out{o.path, "", "", o};
        resolve_path(o.path, st.wdir_abs, out.abs, out.rel);
        if (out.rel.empty() || out.rel == ".git" || out.rel.starts_with(".git/") || out.rel == ".dvc" ||
            out.rel.starts_with(".dvc/"))
          throw UserError("'" + file + "': output path '" + o.path + "' of stage '" + def.name +
                          "' is outside of the repository or inside .git/.dvc");
        st.outs.push_back(std::move(out));
      }
      st.frozen = def.frozen;
      st.always_changed = def.always_changed;
      st.def = std::move(def);
      index->m_stages.push_back(std::move(st));
    }
  }
  for (const auto& ds : repo.stages()) {
    if (ds.is_pipeline()) continue;
    Stage st;
    st.file_rel = ds.rel_path;
    st.dvc = &ds;
    st.wdir_abs = fsx::parent_dir(ds.abs_path);
    st.frozen = ds.file.frozen;
    st.always_changed = ds.file.always_changed;
    for (auto& o : ds.outs) {
      Out out;
      out.written = o.entry.path;
      out.abs = o.abs_path;
      out.rel = o.rel_path;
      out.def.path = o.entry.path;
      out.def.cache = o.entry.cache;
      out.def.persist = o.entry.persist;
      st.outs.push_back(std::move(out));
    }
    index->m_stages.push_back(std::move(st));
  }
  index->build_graph();
  return index;
}

void Index::build_graph() {
  size_t n = m_stages.size();
  m_up.assign(n, {});
  m_down.assign(n, {});
  // Outputs sorted by path: an output equal to or containing a dep is found by looking up the
  // dep's parents; outputs inside a dep folder by a range scan.
  std::vector<std::pair<std::string, size_t>> outs;
  for (size_t i = 0; i < n; ++i)
    for (auto& o : m_stages[i].outs) outs.emplace_back(o.abs, i);
  std::sort(outs.begin(), outs.end());
  std::unordered_map<std::string, std::vector<size_t>> by_path;
  for (auto& [p, i] : outs) by_path[p].push_back(i);
  for (size_t b = 0; b < n; ++b) {
    std::vector<size_t> ups;
    auto add_dep = [&](const std::string& abs) {
      // outputs equal to or containing the dep
      std::string p = abs;
      while (!p.empty() && p != "/") {
        if (auto it = by_path.find(p); it != by_path.end())
          for (size_t a : it->second) ups.push_back(a);
        p = fsx::parent_dir(p);
        if (p.size() < m_repo->root().size()) break;
      }
      // outputs inside the dep
      std::string prefix = abs + "/";
      for (auto it = std::lower_bound(outs.begin(), outs.end(), std::make_pair(prefix, size_t(0)));
           it != outs.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
        ups.push_back(it->second);
    };
    for (auto& d : m_stages[b].deps) add_dep(d.abs);
    for (auto& p : m_stages[b].params) add_dep(p.abs);
    std::sort(ups.begin(), ups.end());
    ups.erase(std::unique(ups.begin(), ups.end()), ups.end());
    for (size_t a : ups) {
      m_up[b].push_back(a);
      m_down[a].push_back(b);
    }
  }
}

void Index::check() const {
  // Duplicate and overlapping outputs.
  std::vector<std::pair<std::string, size_t>> outs;
  for (size_t i = 0; i < m_stages.size(); ++i)
    for (auto& o : m_stages[i].outs) outs.emplace_back(o.abs, i);
  std::stable_sort(outs.begin(), outs.end(), [](auto& a, auto& b) { return a.first < b.first; });
  for (size_t k = 0; k + 1 < outs.size(); ++k) {
    if (outs[k].first == outs[k + 1].first) {
      std::string msg = "output '" + m_repo->display(outs[k].first) + "' is specified in:";
      for (size_t j = k; j < outs.size() && outs[j].first == outs[k].first; ++j) msg += "\n\t- " + address(outs[j].second);
      msg += "\nUse `dvc remove` with any of the above targets to stop tracking the overlapping output.";
      throw UserError(msg);
    }
  }
  for (size_t k = 0; k < outs.size(); ++k) {
    for (size_t j = k + 1; j < outs.size() && inside_or_equal(outs[j].first, outs[k].first); ++j) {
      if (outs[j].second == outs[k].second) continue;
      throw UserError("The output paths:\n'" + m_repo->display(outs[k].first) + "'('" + address(outs[k].second) +
                      "')\n'" + m_repo->display(outs[j].first) + "'('" + address(outs[j].second) +
                      "')\noverlap and are thus in the same tracked directory.\nTo keep reproducibility, outputs "
                      "should be in separate tracked directories or tracked individually.");
    }
  }
  // Cycles (iterative DFS, colours).
  size_t n = m_stages.size();
  std::vector<char> colour(n, 0);
  std::vector<size_t> path;
  for (size_t s = 0; s < n; ++s) {
    if (colour[s]) continue;
    std::vector<std::pair<size_t, size_t>> stack{{s, 0}};
    colour[s] = 1;
    while (!stack.empty()) {
      auto& [v, k] = stack.back();
      if (k < m_up[v].size()) {
        size_t w = m_up[v][k++];
        if (colour[w] == 1) {
          std::vector<std::string> names;
          bool in = false;
          for (auto& [x, _] : stack) {
            if (x == w) in = true;
            if (in) names.push_back(address(x));
          }
          std::sort(names.begin(), names.end());
          throw UserError("Same item(s) are defined as both a dependency and an output in stages: " +
                          join(names, ", ") + ".");
        }
        if (colour[w] == 0) {
          colour[w] = 1;
          stack.emplace_back(w, 0);
        }
      } else {
        colour[v] = 2;
        stack.pop_back();
      }
    }
  }
}

std::string Index::address(size_t i) const {
  const Stage& st = m_stages[i];
  if (st.is_dvc_file()) return m_repo->display(st.dvc->abs_path);
  std::string yaml_abs = m_repo->root() + "/" + st.file_rel;
  if (fsx::parent_dir(yaml_abs) == m_repo->cwd()) return st.name;
  return m_repo->display(yaml_abs) + ":" + st.name;
}

std::vector<size_t> Index::default_targets() const {
  std::vector<size_t> out;
  for (size_t i = 0; i < m_stages.size(); ++i) {
    const Stage& st = m_stages[i];
    if (!st.is_dvc_file() && fsx::parent_dir(m_repo->root() + "/" + st.file_rel) == m_repo->cwd()) out.push_back(i);
  }
  return out;
}

std::vector<size_t> Index::resolve(const std::string& target, bool glob) const {
  std::string file_part, name_part;
  size_t colon = target.rfind(':');
  if (colon != std::string::npos) {
    file_part = target.substr(0, colon);
    name_part = target.substr(colon + 1);
  } else {
    std::string abs = m_repo->absolute(target);
    auto stt = fsx::stat_path(abs);
    bool dir_without_pipeline = stt.type == fsx::FileType::directory &&
                                fsx::lstat_path(abs + "/dvc.yaml").type == fsx::FileType::missing;
    if (target.ends_with(".dvc") || fsx::base_name(abs) == "dvc.yaml" ||
        (stt.type == fsx::FileType::directory && !dir_without_pipeline)) {
      file_part = target;
    } else {
      name_part = target;
    }
  }
  std::string yaml_abs;
  if (file_part.empty()) {
    yaml_abs = m_repo->cwd() + "/dvc.yaml";
  } else {
    yaml_abs = m_repo->absolute(file_part);
    if (fsx::stat_path(yaml_abs).type == fsx::FileType::directory) yaml_abs += "/dvc.yaml";
  }
  auto rel = m_repo->relative(yaml_abs);
  std::vector<size_t> out;
  if (rel && yaml_abs.ends_with(".dvc")) {
    for (size_t i = 0; i < m_stages.size(); ++i)
      if (m_stages[i].is_dvc_file() && m_stages[i].file_rel == *rel) out.push_back(i);
    if (out.empty()) throw UserError("'" + target + "' does not exist");
    return out;
  }
  bool file_known = false;
  for (size_t i = 0; i < m_stages.size(); ++i) {
    const Stage& st = m_stages[i];
    if (st.is_dvc_file() || !rel || st.file_rel != *rel) continue;
    file_known = true;
    if (name_part.empty()) {
      out.push_back(i);
    } else if (glob) {
      if (fnmatch(name_part.c_str(), st.name.c_str(), 0) == 0) out.push_back(i);
    } else if (st.name == name_part || st.def.group == name_part) {
      out.push_back(i);
    }
  }
  if (out.empty()) {
    std::string shown = m_repo->display(yaml_abs);
    if (!file_known && fsx::stat_path(yaml_abs).type != fsx::FileType::regular) {
      if (file_part.empty() && !name_part.empty()) throw UserError("'" + target + "' does not exist");
      throw UserError("'" + shown + "' does not exist");
    }
    throw UserError("Stage '" + name_part + "' not found inside '" + shown + "' file");
  }
  return out;
}

bool Index::lock_exists(const std::string& lock_rel) const {
  lock(lock_rel);
  return m_lock_exists[lock_rel];
}

formats::DvcLock& Index::lock(const std::string& lock_rel) const {
  auto it = m_locks.find(lock_rel);
  if (it != m_locks.end()) return *it->second;
  std::string abs = m_repo->root() + "/" + lock_rel;
  std::unique_ptr<formats::DvcLock> lk;
  if (auto doc = m_repo->take_lock_document(lock_rel)) {
    // Already parsed by the repository's output index: validated here, not parsed again.
    auto parsed = formats::DvcLock::from_document(std::move(*doc), error_name(*m_repo, abs));
    if (!parsed) throw UserError(parsed.error().message);
    m_lock_exists[lock_rel] = true;
    return *m_locks.emplace(lock_rel, std::make_unique<formats::DvcLock>(std::move(*parsed))).first->second;
  }
  auto text = fsx::read_file_prefix(abs, k_read_limit);
  if (!text) {
    if (text.error().code != ErrorCode::not_found) throw UserError(text.error().message);
    auto empty = formats::DvcLock::parse("", m_repo->display(abs));
    if (!empty) throw UserError(empty.error().message);
    lk = std::make_unique<formats::DvcLock>(std::move(*empty));
    m_lock_exists[lock_rel] = false;
  } else {
    auto parsed = formats::DvcLock::parse(*text, error_name(*m_repo, abs));
    if (!parsed) throw UserError(parsed.error().message);
    lk = std::make_unique<formats::DvcLock>(std::move(*parsed));
    m_lock_exists[lock_rel] = true;
  }
  return *m_locks.emplace(lock_rel, std::move(lk)).first->second;
}

std::optional<formats::LockStage> Index::lock_entry(size_t i) const {
  const Stage& st = m_stages[i];
  if (st.is_dvc_file()) return std::nullopt;
  return lock(st.lock_rel).stage(st.name);
}

const formats::LockStage* Index::lock_entry_ptr(size_t i) const {
  const Stage& st = m_stages[i];
  if (st.is_dvc_file()) return nullptr;
  return lock(st.lock_rel).stage_ref(st.name);
}

void Index::write_lock(const std::string& lock_rel) const {
  std::string abs = m_repo->root() + "/" + lock_rel;
  if (auto r = fsx::write_file_atomic(abs, lock(lock_rel).emit(), 0644); !r) throw UserError(r.error().message);
  m_lock_exists[lock_rel] = true;
  m_repo->track_for_git(abs);
}

}  // namespace dvx::pipeline
