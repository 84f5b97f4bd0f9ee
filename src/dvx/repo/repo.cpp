#include "dvx/repo/repo.h"

#include "dvx/formats/dvc_yaml.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <unordered_set>

#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"
#include "dvx/formats/yaml.h"
#include "dvx/platform/durable.h"

#include <regex>

namespace dvx::repo {

namespace fsx = dvx::platform;

// DVC files are read at most one byte past the parsers' size limit, which then refuse them.
constexpr size_t k_parse_read_limit = dvx::formats::k_parse_limits.max_bytes + 1;

const char* const kLockErrorMessage =
    "Unable to acquire lock. Most likely another DVC process is running or was terminated abruptly. "
    "Check the page <https://dvc.org/doc/user-guide/troubleshooting#lock-issue> for other possible reasons "
    "and to learn how to resolve this.";

std::optional<odb::ObjectId> Output::recorded() const {
  if (!entry.md5 || entry.md5->empty()) return std::nullopt;
  return odb::ObjectId{*entry.md5, layout()};
}

std::optional<std::string> Repo::find_root(const std::string& cwd) {
  std::string d = fsx::absolute_path(cwd);
  while (true) {
    if (fsx::stat_path(d + "/.dvc").type == fsx::FileType::directory) return d;
    if (d == "/" || d.empty()) return std::nullopt;
    d = fsx::parent_dir(d);
  }
}

std::unique_ptr<Repo> Repo::open(const std::string& cwd) {
  auto root = find_root(cwd);
  if (!root) {
    // DVC names the mount point it checked up to.
    std::string d = fsx::absolute_path(cwd), mount = "/";
    auto dev = fsx::stat_path(d).device;
    while (d != "/" && !d.empty()) {
      std::string p = fsx::parent_dir(d);
      if (fsx::stat_path(p).device != dev) {
        mount = d;
        break;
      }
      d = p;
    }
    throw UserError("you are not inside of a DVC repository (checked up to mount point '" + mount + "')",
                    ExitCode::not_a_repo);
  }
  std::unique_ptr<Repo> r(new Repo());
  r->m_root = *root;
  r->m_cwd = fsx::absolute_path(cwd);
  auto cfg = config::Config::load(r->dvc_dir());
  if (!cfg) throw UserError("configuration error - " + cfg.error().message, ExitCode::config);
  r->m_config = std::move(*cfg);
  {
    // DVX_FSYNC=1/true or =0/false overrides core.fsync (off by default).
    const char* env = std::getenv("DVX_FSYNC");
    std::string_view e = env ? env : "";
    bool on = e == "1" || e == "true" ? true : e == "0" || e == "false" ? false : r->m_config.fsync();
    fsx::set_durable(on);
  }
  r->m_cache = std::make_unique<odb::ObjectDb>(r->m_config.cache_dir(), r->m_config.cache_shared_group());
  // All cores by default (DVC's default is half of them, at most 4); core.checksum_jobs, when
  // set, bounds the hashing and checkout workers as in DVC.
  r->m_jobs = r->m_config.get("core.checksum_jobs") ? r->m_config.checksum_jobs() : std::max(1u, hardware_threads());
  return r;
}

scm::Git* Repo::git() {
  if (!m_git_tried) {
    m_git_tried = true;
    if (!m_config.no_scm()) {
      auto g = scm::Git::discover(m_root);
      if (g && *g) m_git.emplace(std::move(**g));
    }
  }
  return m_git ? &*m_git : nullptr;
}

state::StateDb* Repo::state() {
  if (!m_state_tried) {
    m_state_tried = true;
    (void)fsx::make_dirs(tmp_dir() + "/dvx");
    auto db = state::StateDb::open(tmp_dir() + "/dvx/state.db");
    if (db) m_state.emplace(std::move(*db));
  }
  return m_state ? &*m_state : nullptr;
}

const fs::IgnoreRules& Repo::ignore() {
  if (!m_ignore) {
    auto rules = fs::IgnoreRules::load(m_root);
    if (!rules) throw UserError(rules.error().message);
    m_ignore.emplace(std::move(*rules));
  }
  return *m_ignore;
}

workspace::Hasher& Repo::hasher() {
  if (!m_hasher) m_hasher = std::make_unique<workspace::Hasher>([this] { return state(); }, m_jobs);
  return *m_hasher;
}

std::vector<fsx::LinkType> Repo::link_types() const {
  std::vector<fsx::LinkType> out;
  for (auto& t : m_config.cache_types())
    if (auto lt = fsx::parse_link_type(t)) out.push_back(*lt);
  if (out.empty()) out = {fsx::LinkType::reflink, fsx::LinkType::copy};
  return out;
}

workspace::Context Repo::context() {
  workspace::Context ctx;
  ctx.root = m_root;
  ctx.ignore = &ignore();
  ctx.hasher = &hasher();
  ctx.cache = m_cache.get();
  ctx.link_types = link_types();
  ctx.progress = m_progress;
  return ctx;
}

void Repo::lock(LockWait wait, ExitCode code_on_failure, const LockScope& scope) {
  if (m_lock) return;
  take_lock(wait, code_on_failure);
  auto claims = check_rwlock(tmp_dir(), scope, m_warn);
  if (!claims) {
    m_lock.reset();
    throw UserError(claims.error().message, code_on_failure);
  }
}

LockScope Repo::scope_of_targets(const std::vector<std::string>& targets, bool write) const {
  LockScope scope;
  scope.write = write;
  if (targets.empty()) return scope;
  for (auto& t : targets) {
    std::string abs = absolute(t);
    auto name = fsx::base_name(abs);
    if (t.find(':') != std::string::npos || name == "dvc.yaml" || name == "dvc.lock" || abs == m_root ||
        !fsx::is_within(abs, m_root))
      return LockScope{write, {}};
    if (abs.size() > 4 && abs.compare(abs.size() - 4, 4, ".dvc") == 0) {
      abs.resize(abs.size() - 4);
    } else if (!fsx::stat_path(abs).exists() && !fsx::stat_path(abs + ".dvc").exists()) {
      return LockScope{write, {}};  // maybe a stage name
    }
    scope.paths.push_back(abs);
  }
  return scope;
}

void Repo::take_lock(LockWait wait, ExitCode code_on_failure) {
  (void)fsx::make_dirs(tmp_dir());
  std::string path = tmp_dir() + "/lock";
  for (int attempt = 0;; ++attempt) {
    auto l = fsx::FileLock::try_acquire(path);
    if (l) {
      std::string pid = " " + std::to_string(::getpid()) + "\n";
      (void)::ftruncate(l->fd(), 0);
      (void)::pwrite(l->fd(), pid.data(), pid.size(), 0);
      m_lock.emplace(std::move(*l));
      return;
    }
    if (l.error().code != ErrorCode::conflict) throw UserError(l.error().message, code_on_failure);
    if (wait == LockWait::retry && attempt >= 6) throw UserError(kLockErrorMessage, code_on_failure);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

std::string Repo::display(const std::string& abs_path) const { return fsx::relative_path(abs_path, m_cwd); }

std::string Repo::absolute(const std::string& user_path) const { return fsx::absolute_path(user_path, m_cwd); }

std::optional<std::string> Repo::relative(const std::string& abs_path) const {
  std::string p = fsx::normalize_path(abs_path);
  if (!fsx::is_within(p, m_root)) return std::nullopt;
  if (p == m_root) return std::string();
  return p.substr(m_root.size() + 1);
}

std::vector<std::string> Repo::take_git_paths() {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& p : m_git_paths)
    if (seen.insert(p).second) out.push_back(p);
  m_git_paths.clear();
  return out;
}

DvcStage Repo::load_stage(const std::string& rel_path, const std::string& text) const {
  DvcStage st;
  st.rel_path = rel_path;
  st.abs_path = m_root + "/" + rel_path;
  st.text = text;
  auto parsed = formats::parse_dvc_file(text, rel_path);
  if (!parsed) throw UserError(parsed.error().message, ExitCode::failure);
  st.file = std::move(*parsed);
  std::string dir = fsx::parent_dir(st.abs_path);
  if (st.file.wdir) dir = fsx::absolute_path(*st.file.wdir, dir);
  for (size_t i = 0; i < st.file.outs.size(); ++i) {
    const auto& e = st.file.outs[i];
    if (e.path.empty() || e.path[0] == '/' || e.path.find("://") != std::string::npos) {
      throw UserError("'" + rel_path + "': output path '" + e.path +
                          "' is outside of the repository; external outputs are not supported",
                      ExitCode::failure);
    }
    std::string abs = fsx::absolute_path(e.path, dir);
    if (!fsx::is_within(abs, m_root) || abs == m_root || fsx::is_within(abs, m_root + "/.dvc") ||
        fsx::is_within(abs, m_root + "/.git")) {
      throw UserError("'" + rel_path + "': output path '" + e.path + "' escapes the repository", ExitCode::failure);
    }
    // A symlinked parent directory could point anywhere: refuse it when it leads out of the
    // work tree or into .git/.dvc (checkout refuses every symlinked parent anyway).
    std::string parent = fsx::parent_dir(abs);
    if (auto real_parent = fsx::real_path(parent)) {
      auto real_root = fsx::real_path(m_root).value_or(m_root);
      if (!fsx::is_within(*real_parent, real_root) || fsx::is_within(*real_parent, real_root + "/.git") ||
          fsx::is_within(*real_parent, real_root + "/.dvc"))
        throw UserError("'" + rel_path + "': output path '" + e.path +
                            "' escapes the repository through a symlink; nothing is read or written there",
                        ExitCode::error);
    }
    Output o;
    o.dvcfile = rel_path;
    o.index = i;
    o.abs_path = abs;
    o.rel_path = abs.substr(m_root.size() + 1);
    o.entry = e;
    if (e.md5 && !odb::valid_oid(*e.md5))
      throw UserError("'" + rel_path + "': invalid hash '" + *e.md5 + "' for output '" + e.path + "'",
                      ExitCode::failure);
    if (e.hash && *e.hash != "md5")
      throw UserError("'" + rel_path + "': unsupported hash name '" + *e.hash + "' for output '" + e.path +
                          "' (only 'md5' is supported)",
                      ExitCode::failure);
    if ((e.size && *e.size < 0) || (e.nfiles && *e.nfiles < 0))
      throw UserError("'" + rel_path + "': invalid " + (e.size && *e.size < 0 ? "size " + std::to_string(*e.size)
                                                                               : "nfiles " + std::to_string(*e.nfiles)) +
                          " for output '" + e.path + "': it must not be negative",
                      ExitCode::failure);
    st.outs.push_back(std::move(o));
  }
  return st;
}

namespace {

// Templates ("${data_dir}/x", "plots/loss.csv") of outputs declared with `cache: false` in a
// dvc.yaml, as regular expressions over the resolved path. Interpolation itself belongs to
// the pipeline layer; matching `${...}` as "anything" is exact for every non-overlapping
// declaration.
std::vector<std::regex> uncached_templates(const yaml::Node& doc) {
  std::vector<std::regex> out;
  auto scan_stage = [&](const yaml::Node& st) {
    for (const char* key : {"outs", "metrics", "plots"}) {
      const yaml::Node* list = st.find(key);
      if (!list || !list->is_sequence()) continue;
      for (auto& item : list->seq) {
        if (!item.is_mapping() || item.map.size() != 1) continue;
        const auto& [path, opts] = item.map.front();
        const yaml::Node* cache = opts.is_mapping() ? opts.find("cache") : nullptr;
        if (!cache || cache->kind != yaml::Node::Kind::boolean || cache->b) continue;
        std::string re;
        for (size_t i = 0; i < path.size(); ++i) {
          if (path.compare(i, 2, "${") == 0) {
            size_t end = path.find('}', i);
            if (end != std::string::npos) {
              re += ".+";
              i = end;
              continue;
            }
          }
          char c = path[i];
          if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) re += '\\';
          re += c;
        }
        try {
          out.emplace_back(re);
        } catch (const std::regex_error&) {
        }
      }
    }
  };
  const yaml::Node* stages = doc.find("stages");
  if (!stages || !stages->is_mapping()) return out;
  for (auto& [name, st] : stages->map) {
    if (!st.is_mapping()) continue;
    scan_stage(st);
    if (const yaml::Node* d = st.find("do"); d && d->is_mapping()) scan_stage(*d);
  }
  return out;
}

}  // namespace

std::vector<DvcStage> Repo::load_lock(const std::string& rel_path, const std::string& lock_text,
                                      const std::string& dvc_yaml) const {
  std::vector<DvcStage> out;
  auto doc = yaml::parse(lock_text, rel_path);
  if (!doc) {
    std::string shown = formats::dvc_error_path(display(m_root + "/" + rel_path));
    auto again = yaml::parse(lock_text, shown);  // the same error, named as DVC names the file
    throw UserError(formats::yaml_file_error(again ? doc.error() : again.error(), lock_text, shown).message,
                    ExitCode::failure);
  }
  std::vector<std::regex> uncached;
  // Only an output option `cache: false` makes a lock entry uncached: a dvc.yaml whose text
  // holds no "cache" (nor an escape that could spell it in a quoted key) is not parsed here.
  if (!dvc_yaml.empty() && (dvc_yaml.find("cache") != std::string::npos || dvc_yaml.find('\\') != std::string::npos)) {
    auto y = yaml::parse(dvc_yaml, fsx::join_path(fsx::parent_dir(rel_path), "dvc.yaml"));
    if (!y) throw UserError(y.error().message, ExitCode::failure);
    uncached = uncached_templates(*y);
  }
  const yaml::Node& kept = m_lock_docs[rel_path] = std::move(*doc);
  const yaml::Node* stages = kept.find("stages");
  if (!stages || !stages->is_mapping()) return out;
  std::string dir = fsx::parent_dir(m_root + "/" + rel_path);
  out.reserve(stages->map.size());
  const std::string dvc_dir = m_root + "/.dvc", git_dir = m_root + "/.git";
  for (auto& [name, st] : stages->map) {
    DvcStage stage;
    stage.rel_path = rel_path;
    stage.abs_path = m_root + "/" + rel_path;
    stage.pipeline_stage = name;
    const yaml::Node* outs = st.is_mapping() ? st.find("outs") : nullptr;
    if (!outs || !outs->is_sequence()) continue;
    for (auto& o : outs->seq) {
      if (!o.is_mapping()) continue;
      const yaml::Node* path = o.find("path");
      if (!path || !path->is_string()) continue;
      bool cached = true;
      for (auto& re : uncached)
        if (std::regex_match(path->s, re)) cached = false;
      if (!cached) continue;
      formats::DvcOut e;
      e.path = path->s;
      if (const yaml::Node* h = o.find("hash"); h && h->is_string()) e.hash = h->s;
      if (const yaml::Node* m = o.find("md5"); m && m->is_string()) e.md5 = to_lower(m->s);
      if (const yaml::Node* sz = o.find("size"); sz && sz->kind == yaml::Node::Kind::integer) e.size = sz->i;
      if (const yaml::Node* n = o.find("nfiles"); n && n->kind == yaml::Node::Kind::integer) e.nfiles = n->i;
      if (const yaml::Node* x = o.find("isexec"); x && x->kind == yaml::Node::Kind::boolean) e.isexec = x->b;
      std::string abs = fsx::absolute_path(e.path, dir);
      if (!fsx::is_within(abs, m_root) || abs == m_root || fsx::is_within(abs, dvc_dir) || fsx::is_within(abs, git_dir))
        throw UserError("'" + rel_path + "': output path '" + e.path + "' escapes the repository", ExitCode::failure);
      if (e.md5 && !odb::valid_oid(*e.md5))
        throw UserError("'" + rel_path + "': invalid hash '" + *e.md5 + "' for output '" + e.path + "'",
                        ExitCode::failure);
      Output out_entry;
      out_entry.dvcfile = rel_path;
      out_entry.index = stage.outs.size();
      out_entry.abs_path = abs;
      out_entry.rel_path = abs.substr(m_root.size() + 1);
      out_entry.entry = std::move(e);
      stage.outs.push_back(std::move(out_entry));
    }
    out.push_back(std::move(stage));
  }
  return out;
}

CacheState Repo::cache_state(const odb::ObjectId& id) {
  if (!cache().exists(id)) return CacheState::not_in_cache;
  if (!id.is_dir()) return CacheState::complete;
  // "All files of this directory are in the cache" is remembered in the state db under the
  // cache's fingerprint: adding or removing any object changes it, so the memory is exact,
  // and a repeated status costs 256 stats instead of reading every object folder.
  auto* db = state();
  auto fp_it = m_fingerprints.find(id.layout);
  if (fp_it == m_fingerprints.end()) fp_it = m_fingerprints.emplace(id.layout, cache().fingerprint(id.layout)).first;
  const auto& fp = fp_it->second;
  std::string memo = cache().root() + "/#complete/" + id.oid;
  state::StatKey key{fp.digest, fp.folders, fp.max_mtime_ns, fp.max_ctime_ns};
  auto alg = odb::algorithm_for(id.layout);
  if (db) {
    auto hit = db->lookup({memo}, {key}, alg);
    if (hit[0] && *hit[0] == id.oid.substr(0, 32)) return CacheState::complete;
  }
  // Taken before the checks below read the cache (the state db's race rule); only for a cache
  // on a local file system, whose folders are stamped by this kernel's clock.
  if (m_cache_local < 0) m_cache_local = fsx::is_local_file_system(cache().root()) ? 1 : 0;
  const auto reads_began = m_cache_local ? std::optional<int64_t>(state::StateDb::read_stamp()) : std::nullopt;
  auto entries = cache().read_manifest(id);
  if (!entries) return entries.error().code == ErrorCode::not_found ? CacheState::not_in_cache : CacheState::corrupted;
  std::vector<odb::ObjectId> ids;
  ids.reserve(entries->size());
  for (auto& e : *entries) {
    if (!odb::valid_oid(e.md5) || e.md5.ends_with(".dir")) return CacheState::corrupted;
    ids.push_back({std::move(e.md5), id.layout});
  }
  for (bool present : cache().exists_many(ids, jobs()))
    if (!present) return CacheState::not_in_cache;
  if (db) (void)db->store({memo}, {key}, {id.oid.substr(0, 32)}, alg, reads_began);
  return CacheState::complete;
}


const std::vector<DvcStage>& Repo::stages() {
  if (m_stages_loaded) return m_stages;
  m_stages.clear();
  m_pipeline_files.clear();
  const auto& rules = ignore();
  std::unordered_set<std::string> outputs;  // repo-relative output paths seen so far
  std::vector<std::string> dirs{""};
  while (!dirs.empty()) {
    std::string rel = dirs.back();
    dirs.pop_back();
    std::string abs = rel.empty() ? m_root : m_root + "/" + rel;
    auto entries = fsx::list_dir(abs);
    if (!entries) continue;
    std::sort(entries->begin(), entries->end(), [](auto& a, auto& b) { return a.name < b.name; });
    std::vector<std::string> subdirs;
    for (auto& e : *entries) {
      std::string child = rel.empty() ? e.name : rel + "/" + e.name;
      if (e.type == fsx::FileType::directory) {
        if (rel.empty() && (e.name == ".git" || e.name == ".dvc" || e.name == ".hg")) continue;
        subdirs.push_back(child);
        continue;
      }
      if (e.type == fsx::FileType::regular && e.name == "dvc.yaml" && !rules.is_ignored(child, false))
        m_pipeline_files.push_back(child);
      if (e.type == fsx::FileType::regular && e.name == "dvc.lock" && !rules.is_ignored(child, false)) {
        auto lock = fsx::read_file_prefix(abs + "/" + e.name, k_parse_read_limit);
        if (!lock) throw UserError(lock.error().message);
        auto yaml_text = fsx::read_file_prefix(abs + "/dvc.yaml", k_parse_read_limit);
        auto loaded = load_lock(child, *lock, yaml_text ? *yaml_text : std::string());
        m_stages.reserve(m_stages.size() + loaded.size());
        for (auto& st : loaded) m_stages.push_back(std::move(st));
        for (auto& st : m_stages)
          if (st.rel_path == child)
            for (auto& o : st.outs) outputs.insert(o.rel_path);
        continue;
      }
      if (e.type != fsx::FileType::regular || !e.name.ends_with(".dvc") || e.name == ".dvc") continue;
      if (rules.is_ignored(child, false)) continue;
      auto text = fsx::read_file_prefix(abs + "/" + e.name, k_parse_read_limit);
      if (!text) throw UserError(text.error().message);
      auto st = load_stage(child, *text);
      for (auto& o : st.outs) outputs.insert(o.rel_path);
      m_stages.push_back(std::move(st));
    }
    for (auto& sd : subdirs) {
      if (outputs.count(sd)) continue;  // a tracked directory: its content is data, not DVC files
      if (rules.is_ignored(sd, true)) continue;
      if (fsx::stat_path(m_root + "/" + sd + "/.dvc").type == fsx::FileType::directory) continue;  // nested repo
      dirs.push_back(sd);
    }
  }
  auto by_path = [](const DvcStage& a, const DvcStage& b) { return a.rel_path < b.rel_path; };
  if (!std::is_sorted(m_stages.begin(), m_stages.end(), by_path))  // one dvc.lock's stages: already are
    std::stable_sort(m_stages.begin(), m_stages.end(), by_path);
  m_stages_loaded = true;
  return m_stages;
}

std::vector<DvcStage> stages_at(Repo& repo, const std::string& commit) {
  std::vector<DvcStage> out;
  auto* git = repo.git();
  if (!git) return out;
  auto files = git->list_dvc_files_at(commit);
  if (!files) throw UserError(files.error().message);
  std::string prefix = fsx::relative_path(repo.root(), git->work_tree());
  for (auto& f : *files) {
    bool lock = fsx::base_name(f) == "dvc.lock";
    if (!f.ends_with(".dvc") && !lock) continue;
    if (prefix != "." && !fsx::is_within(f, prefix)) continue;
    auto text = git->read_file_at(commit, f);
    if (!text) throw UserError(text.error().message);
    if (!*text) continue;
    std::string rel = prefix == "." ? f : f.substr(prefix.size() + 1);
    // An invalid file stops the command: skipping it would drop its outputs from what gc
    // keeps and push/fetch transfer.
    try {
      if (lock) {
        auto yaml_text = git->read_file_at(commit, fsx::join_path(fsx::parent_dir(f), "dvc.yaml"));
        if (!yaml_text) throw UserError(yaml_text.error().message);
        std::string y = *yaml_text ? **yaml_text : std::string();
        for (auto& st : repo.load_lock(rel, **text, y)) out.push_back(std::move(st));
        continue;
      }
      out.push_back(repo.load_stage(rel, **text));
    } catch (const UserError& e) {
      throw UserError("'" + rel + "' at commit " + commit.substr(0, 7) + ": " + e.what(), e.code());
    }
  }
  return out;
}

}  // namespace dvx::repo
