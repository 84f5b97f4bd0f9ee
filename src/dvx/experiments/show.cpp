#include "dvx/experiments/show.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "dvx/base/thread_pool.h"
#include "dvx/experiments/queue.h"
#include "dvx/experiments/refs.h"
#include "dvx/formats/dvc_lock.h"
#include "dvx/platform/files.h"

namespace dvx::experiments {

namespace fsx = dvx::platform;
using json = nlohmann::ordered_json;
using Kind = yaml::Node::Kind;

namespace {

// normpath of a '/'-joined repo-relative path ("" for the root).
std::string join_rel(const std::string& dir, const std::string& written) {
  std::string abs = fsx::normalize_path("/" + (dir.empty() ? written : dir + "/" + written));
  return abs == "/" ? std::string() : abs.substr(1);
}

std::string dir_of(const std::string& rel) {
  std::string parent = fsx::parent_dir("/" + rel);
  return parent == "/" ? std::string() : parent.substr(1);
}

// A dict comprehension over repo.index: the first position of a path, its last value.
template <class T>
void put(std::vector<std::pair<std::string, T>>& into, const std::string& key, T value) {
  for (auto& [k, v] : into)
    if (k == key) {
      v = std::move(value);
      return;
    }
  into.emplace_back(key, std::move(value));
}

ExpDep recorded(const formats::LockEntry* e) {
  if (!e) return {};
  return {e->md5, e->size, e->nfiles};
}

const formats::LockEntry* find_entry(const std::vector<formats::LockEntry>& entries, const std::string& wdir,
                                     const std::string& rel) {
  for (auto& e : entries)
    if (join_rel(wdir, e.path) == rel) return &e;
  return nullptr;
}

// The stage files of a revision in the order of DVC's index walk: a folder's files (by name)
// before its subfolders'.
struct StageFile {
  std::string dir, name;
  const metrics::PipelineFile* pipeline = nullptr;
  const repo::DvcStage* dvc = nullptr;
};

// deps and outs of every stage (DVC's repo.index.deps / outs minus params, metrics and plots).
void collect_deps_outs(metrics::RevisionTree& tree, const std::vector<repo::DvcStage>& dvc_stages, ExpData& d) {
  std::vector<StageFile> files;
  for (auto& pf : tree.pipelines()) files.push_back({pf.dir, fsx::base_name(pf.rel), &pf, nullptr});
  for (auto& st : dvc_stages)
    if (!st.is_pipeline()) files.push_back({dir_of(st.rel_path), fsx::base_name(st.rel_path), nullptr, &st});
  std::stable_sort(files.begin(), files.end(), [](const StageFile& a, const StageFile& b) {
    if (a.dir != b.dir) return a.dir < b.dir;
    return a.name < b.name;
  });
  for (auto& f : files) {
    if (f.dvc) {
      for (auto& dep : f.dvc->file.deps) {
        if (!dep.is_mapping() || dep.find("repo") || !dep.find("path")) continue;
        ExpDep rec;
        if (auto* m = dep.find("md5"); m && m->kind == Kind::string) rec.hash = m->s;
        if (auto* s = dep.find("size"); s && s->kind == Kind::integer) rec.size = s->i;
        if (auto* n = dep.find("nfiles"); n && n->kind == Kind::integer) rec.nfiles = n->i;
        put(d.deps, join_rel(f.dir, dep.find("path")->s), rec);
      }
      for (auto& o : f.dvc->file.outs)
        put(d.outs, join_rel(f.dir, o.path), ExpOut{{o.md5, o.size, o.nfiles}, o.cache, true});
      continue;
    }
    std::string lock_rel = f.dir.empty() ? "dvc.lock" : f.dir + "/dvc.lock";
    std::optional<formats::DvcLock> lock;
    auto bytes = tree.read(lock_rel);
    if (auto* text = std::get_if<std::string>(&bytes)) {
      auto parsed = formats::DvcLock::parse(*text, lock_rel);
      if (!parsed) throw UserError(parsed.error().message);
      lock = std::move(*parsed);
    }
    for (auto& st : f.pipeline->yaml.stages) {
      std::string wdir = join_rel(f.dir, st.wdir);
      std::optional<formats::LockStage> entry;
      if (lock) entry = lock->stage(st.name);
      for (auto& dep : st.deps) {
        std::string rel = join_rel(wdir, dep);
        put(d.deps, rel, recorded(entry ? find_entry(entry->deps, wdir, rel) : nullptr));
      }
      for (auto& o : st.outs) {
        if (o.kind != formats::StageOut::Kind::out) continue;
        std::string rel = join_rel(wdir, o.path);
        put(d.outs, rel, ExpOut{recorded(entry ? find_entry(entry->outs, wdir, rel) : nullptr), o.cache, false});
      }
    }
  }
}

// The project's Git; DVC's error in a project without one.
scm::Git& git_of(repo::Repo& repo) {
  auto* git = repo.git();
  if (!git)
    throw UserError("Only supported for Git repositories. If you're seeing this error in a Git repo, try updating the DVC configuration with `dvc config core.no_scm false`.");
  return *git;
}

// A revision that could not be read, as DVC's exp show reports it: a dvc.yaml that is not YAML
// is a YAMLSyntaxError "unable to read: '<rel>', YAML file structure is corrupted", one that
// fails the schema a YAMLValidationError "'./<rel>' validation failed[ in revision '<sha7>']";
// the other messages stay as they are.
metrics::ErrorEntry exp_error(metrics::ErrorEntry e, const std::string& rev) {
  if (e.type != "DvcException" || !e.msg.starts_with("'")) return e;
  size_t end = e.msg.find('\'', 1);
  if (end == std::string::npos) return e;
  std::string file = e.msg.substr(1, end - 1);
  std::string rest = e.msg.substr(end + 1);
  std::string rel = file.starts_with("./") ? file.substr(2) : file;
  if (rest.starts_with(" is invalid.")) return {"YAMLSyntaxError", "unable to read: '" + rel + "', YAML file structure is corrupted"};
  if (rest.starts_with(" validation failed")) {
    std::string where = rev == "workspace" ? "" : " in revision '" + rev.substr(0, 7) + "'";
    return {"YAMLValidationError", "'" + file + "' validation failed" + where};
  }
  return e;
}

ExpState read_state(repo::Repo& repo, const std::string& rev, bool param_deps) {
  ExpState st;
  st.rev = rev;
  bool ws = rev == "workspace";
  try {
    ExpData d;
    d.rev = rev;
    std::unique_ptr<metrics::RevisionTree> tree;
    if (ws) {
      tree = metrics::RevisionTree::workspace(repo);
    } else {
      auto* git = repo.git();
      auto info = git ? git->commit_info(rev) : Result<scm::CommitInfo>(fail(ErrorCode::not_found, "no Git"));
      if (!info) throw UserError(info.error().message);
      d.time = info->time;
      tree = metrics::RevisionTree::at_commit(repo, rev);
    }
    auto params = metrics::gather_params(*tree, rev, {}, param_deps);
    if (params.error) {
      st.error = exp_error(*params.error, rev);
      return st;
    }
    auto mets = metrics::gather_metrics(*tree, rev, {});
    if (mets.error) {
      st.error = exp_error(*mets.error, rev);
      return st;
    }
    d.params = std::move(params.files);
    d.metrics = std::move(mets.files);
    if (ws) collect_deps_outs(*tree, repo.stages(), d);
    else collect_deps_outs(*tree, repo::stages_at(repo, rev), d);
    st.data = std::move(d);
  } catch (const UserError& e) {
    st.data.reset();
    st.error = exp_error({"DvcException", e.what()}, rev);
  }
  return st;
}

// The repository of a running experiment's temporary work tree; null when it is gone (the run
// ended meanwhile).
std::unique_ptr<repo::Repo> open_quietly(const std::string& root) {
  try {
    if (!fsx::lstat_path(root + "/.dvc").exists()) return nullptr;
    return repo::Repo::open(root);
  } catch (const std::exception&) {
    return nullptr;
  }
}

// A revision to read, with or without --param-deps (DVC reads baselines without it).
using ReadKey = std::pair<std::string, bool>;

// Reads every revision once, spread over threads (each with its own Repo: a RevisionTree and
// Git are single-threaded).
std::map<ReadKey, ExpState> read_states(repo::Repo& repo, const std::vector<ReadKey>& revs) {
  std::vector<ExpState> out(revs.size());
  unsigned threads = std::max(1u, std::min<unsigned>(hardware_threads(), static_cast<unsigned>(revs.size())));
  size_t per = (revs.size() + threads - 1) / std::max<size_t>(threads, 1);
  if (per == 0) per = 1;
  parallel_for_ranges(revs.size(), per, threads, [&](size_t begin, size_t end) {
    std::unique_ptr<repo::Repo> own;
    repo::Repo* r = &repo;
    if (begin != 0) {
      own = repo::Repo::open(repo.cwd());
      r = own.get();
    }
    for (size_t i = begin; i < end; ++i) out[i] = read_state(*r, revs[i].first, revs[i].second);
  });
  std::map<ReadKey, ExpState> by_rev;
  for (size_t i = 0; i < revs.size(); ++i) by_rev.emplace(revs[i], std::move(out[i]));
  return by_rev;
}

}  // namespace

ExpState collect_rev(repo::Repo& repo, const std::string& rev, bool param_deps) {
  return read_state(repo, rev, param_deps);
}

std::vector<ExpState> collect(repo::Repo& repo, const ShowOptions& opts) {
  auto* git = &git_of(repo);
  auto has = git->has_commits();
  if (!has || !*has) return {};
  auto exp_refs = read_exp_refs(*git);
  auto baselines = select_baselines(*git, opts.baselines, exp_refs);
  std::map<std::string, std::string> names;
  if (!opts.sha_only) names = describe(*git, baselines);

  // The commits of each experiment: from the ref's tip down the first parents, stopping before
  // the baseline (or at a root commit), as DVC's branch_revs.
  struct Plan {
    std::string name;
    std::vector<std::string> revs;
  };
  std::map<std::string, std::vector<Plan>> plans;
  std::vector<ReadKey> to_read;
  std::set<ReadKey> queued;
  auto want = [&](const std::string& rev, bool param_deps) {
    if (queued.insert({rev, param_deps}).second) to_read.emplace_back(rev, param_deps);
  };
  if (!opts.hide_workspace) want("workspace", opts.param_deps);
  for (auto& b : baselines) {
    want(b, false);
    for (auto& ref : exp_refs) {
      if (ref.baseline != b || ref.commit.empty()) continue;
      Plan p{ref.name, {}};
      std::string cur = ref.commit;
      std::set<std::string> seen;
      for (;;) {
        auto info = git->commit_info(cur);
        if (!info || !seen.insert(cur).second) break;
        p.revs.push_back(cur);
        if (info->parents.empty() || info->parents.front() == b) break;
        cur = info->parents.front();
      }
      if (p.revs.empty()) continue;
      for (auto& r : p.revs) want(r, opts.param_deps);
      plans[b].push_back(std::move(p));
    }
  }
  // The queue: queued and failed runs read at their queue commit, running ones from their
  // temporary work tree (below), successful ones give their executor to their experiment.
  Queue queue(repo.tmp_dir());
  std::vector<QueueTask> tasks;
  if (auto t = queue.tasks()) tasks = std::move(*t);
  std::set<std::string> baseline_set(baselines.begin(), baselines.end());
  for (auto& t : tasks) {
    if (!baseline_set.count(t.baseline)) continue;
    if ((t.status == TaskStatus::queued && t.kind == TaskKind::queue && !opts.hide_queued) ||
        (t.status == TaskStatus::failed && t.kind == TaskKind::queue && !opts.hide_failed) ||
        t.status == TaskStatus::running)
      want(t.id, opts.param_deps);
  }
  auto states = read_states(repo, to_read);

  auto local_of = [&](const QueueTask& t, bool with_log) {
    ExpExecutor::Local l;
    if (with_log) l.log = queue.log_path(t.id);
    l.pid = t.pid;
    l.returncode = t.returncode;
    l.task_id = t.id;
    return l;
  };
  std::map<std::string, std::vector<ExpRange>> active, queued_ranges, failed_ranges;
  std::map<std::string, ExpExecutor> success_by_ref;
  for (auto& t : tasks) {
    if (!baseline_set.count(t.baseline)) continue;
    if (t.status == TaskStatus::running) {
      // DVC's collect_active_data: the executor's workspace, under the task's id and name; the
      // queue commit while the work tree is being made (or once it is gone).
      ExpState st;
      std::unique_ptr<repo::Repo> exec_repo = t.root.empty() ? nullptr : open_quietly(t.root);
      if (exec_repo) {
        st = read_state(*exec_repo, "workspace", opts.param_deps);
      } else {
        st = states.at({t.id, opts.param_deps});
        if (st.data) st.data->metrics.clear();
      }
      st.rev = t.id;
      st.name = t.name;
      ExpRange r;
      r.name = t.name;
      r.revs.push_back(std::move(st));
      ExpExecutor ex{"running", std::string(t.kind == TaskKind::temp ? "tempdir" : "dvc-task"), local_of(t, t.kind == TaskKind::queue)};
      if (!t.root.empty()) ex.local->root = t.root;
      r.executor = std::move(ex);
      active[t.baseline].push_back(std::move(r));
    } else if (t.kind != TaskKind::queue) {
      continue;
    } else if (t.status == TaskStatus::success && !t.exp_ref.empty()) {
      success_by_ref[t.exp_ref] = ExpExecutor{"success", std::string("dvc-task"), local_of(t, true)};
    } else if (t.status == TaskStatus::queued && !opts.hide_queued) {
      ExpState st = states.at({t.id, opts.param_deps});
      if (st.data) st.data->metrics.clear();  // DVC shows none for a run not started
      st.name = t.name;
      ExpRange r;
      r.name = t.name;
      r.revs.push_back(std::move(st));
      ExpExecutor::Local l;
      l.task_id = t.id;
      r.executor = ExpExecutor{"queued", std::string("dvc-task"), l};
      queued_ranges[t.baseline].push_back(std::move(r));
    } else if (t.status == TaskStatus::failed && !opts.hide_failed) {
      ExpState st = states.at({t.id, opts.param_deps});
      st.name = t.name;
      st.error = metrics::ErrorEntry{"", "Experiment run failed"};
      ExpRange r;
      r.name = t.name;
      r.revs.push_back(std::move(st));
      r.executor = ExpExecutor{"failed", std::nullopt, local_of(t, true)};
      failed_ranges[t.baseline].push_back(std::move(r));
    }
  }

  std::vector<ExpState> result;
  if (!opts.hide_workspace) result.push_back(states.at({"workspace", opts.param_deps}));
  for (auto& b : baselines) {
    ExpState base = states.at({b, false});
    if (auto it = names.find(b); it != names.end()) base.name = it->second;
    std::vector<ExpRange> successful;
    for (auto& p : plans[b]) {
      ExpRange r;
      r.name = p.name;
      for (auto& rev : p.revs) r.revs.push_back(states.at({rev, opts.param_deps}));
      r.revs.front().name = p.name;
      if (auto it = success_by_ref.find(ExpRef{b, p.name}.str()); it != success_by_ref.end()) r.executor = it->second;
      successful.push_back(std::move(r));
    }
    // DVC's order: running, successful, queued, failed; each newest first by (head commit time,
    // head sha), unreadable heads last.
    auto key = [](const ExpRange& r) {
      auto& head = r.revs.front();
      if (head.data && head.data->time) return std::pair<int64_t, std::string>(*head.data->time, head.rev);
      return std::pair<int64_t, std::string>(0, "");
    };
    std::vector<ExpRange> ranges;
    for (auto* group : {&active[b], &successful, &queued_ranges[b], &failed_ranges[b]}) {
      std::stable_sort(group->begin(), group->end(), [&](const ExpRange& x, const ExpRange& y) { return key(x) > key(y); });
      for (auto& r : *group) ranges.push_back(std::move(r));
    }
    if (!ranges.empty()) base.experiments = std::move(ranges);
    result.push_back(std::move(base));
  }
  return result;
}

// ---- JSON ------------------------------------------------------------------------------------

namespace {

json file_results_json(const std::vector<metrics::FileResult>& files) {
  json out = json::object();
  for (auto& f : files) {
    if (f.error) out[f.path] = json{{"error", json{{"type", f.error->type}, {"msg", f.error->msg}}}};
    else out[f.path] = json{{"data", metrics::to_json(*f.data)}};
  }
  return out;
}

json opt_json(const std::optional<std::string>& v) { return v ? json(*v) : json(nullptr); }
json opt_json(const std::optional<int64_t>& v) { return v ? json(*v) : json(nullptr); }

json state_json(const ExpState& st) {
  json out = json::object();
  out["rev"] = st.rev;
  out["name"] = opt_json(st.name);
  if (st.data) {
    auto& d = *st.data;
    json data = json::object();
    data["rev"] = d.rev;
    data["timestamp"] = d.time ? json(local_time(*d.time)) : json(nullptr);
    data["params"] = file_results_json(d.params);
    data["metrics"] = file_results_json(d.metrics);
    json deps = json::object();
    for (auto& [path, dep] : d.deps)
      deps[path] = json{{"hash", opt_json(dep.hash)}, {"size", opt_json(dep.size)}, {"nfiles", opt_json(dep.nfiles)}};
    data["deps"] = std::move(deps);
    json outs = json::object();
    for (auto& [path, o] : d.outs)
      outs[path] = json{{"hash", opt_json(o.recorded.hash)},
                        {"size", opt_json(o.recorded.size)},
                        {"nfiles", opt_json(o.recorded.nfiles)},
                        {"use_cache", o.use_cache},
                        {"is_data_source", o.is_data_source}};
    data["outs"] = std::move(outs);
    data["meta"] = json::object();
    out["data"] = std::move(data);
  } else {
    out["data"] = nullptr;
  }
  // DVC's SerializableError: msg before type.
  out["error"] = st.error ? json{{"msg", st.error->msg}, {"type", st.error->type}} : json(nullptr);
  if (st.experiments) {
    json exps = json::array();
    for (auto& r : *st.experiments) {
      json revs = json::array();
      for (auto& s : r.revs) revs.push_back(state_json(s));
      json executor = nullptr;
      if (r.executor) {
        auto& e = *r.executor;
        executor = json::object();
        executor["state"] = e.state;
        executor["name"] = opt_json(e.name);
        if (e.local) {
          auto& l = *e.local;
          executor["local"] = json{{"root", opt_json(l.root)},
                                   {"log", opt_json(l.log)},
                                   {"pid", opt_json(l.pid)},
                                   {"returncode", l.returncode ? json(*l.returncode) : json(nullptr)},
                                   {"task_id", opt_json(l.task_id)}};
        } else {
          executor["local"] = nullptr;
        }
      }
      exps.push_back(json{{"revs", std::move(revs)}, {"executor", std::move(executor)}, {"name", r.name}});
    }
    out["experiments"] = std::move(exps);
  } else {
    out["experiments"] = nullptr;
  }
  return out;
}

}  // namespace

json show_json(const std::vector<ExpState>& states) {
  json out = json::array();
  for (auto& st : states) out.push_back(state_json(st));
  return out;
}

// ---- table -----------------------------------------------------------------------------------

namespace {

// path -> flattened keys in first-seen order (DVC's _DataNames, nested dicts keep key order).
using Names = std::vector<std::pair<std::string, std::vector<std::string>>>;

std::vector<std::string>& names_of(Names& names, const std::string& path) {
  for (auto& [p, keys] : names)
    if (p == path) return keys;
  names.emplace_back(path, std::vector<std::string>{});
  return names.back().second;
}

void add_names(Names& names, const std::vector<metrics::FileResult>& files) {
  for (auto& f : files) {
    if (!f.data || !f.data->is_mapping()) {
      // DVC's defaultdict creates nothing for a file without a mapping; it never gets a column.
      continue;
    }
    auto& keys = names_of(names, f.path);
    for (auto& [k, v] : metrics::flatten(*f.data))
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  }
}

void collect_names(const std::vector<ExpState>& states, Names& mets, Names& params, std::set<std::string>& deps) {
  for (auto& st : states) {
    if (st.data) {
      add_names(mets, st.data->metrics);
      add_names(params, st.data->params);
      for (auto& [p, d] : st.data->deps) deps.insert(p);
    }
    if (st.experiments)
      for (auto& r : *st.experiments) collect_names(r.revs, mets, params, deps);
  }
}

const char* const k_info_headers[] = {"Experiment", "rev", "typ", "Created", "parent", "State", "Executor"};

std::vector<std::string> normalize_headers(const Names& names, const std::map<std::string, int>& count) {
  std::vector<std::string> out;
  for (auto& [path, keys] : names)
    for (auto& k : keys) out.push_back(count.at(k) == 1 ? k : path + ":" + k);
  return out;
}

const std::vector<std::string>* find_names(const Names& names, const std::string& path) {
  for (auto& [p, keys] : names)
    if (p == path) return &keys;
  return nullptr;
}

struct RowBuilder {
  const std::vector<std::string>& headers;
  const Names& mets;
  const Names& params;
  const std::vector<std::string>& metric_headers;
  const std::vector<std::string>& param_headers;
  const std::vector<std::string>& deps;
  const TableOptions& opts;
  std::string fill;

  std::string format_value(const yaml::Node& v) const {
    if (opts.precision) return metrics::format_cell(v, {metrics::CellFormat::Kind::significant, *opts.precision});
    return metrics::py_str(v);
  }

  void data_cells(const ExpData& d, std::map<std::string, std::string>& row) const {
    auto cells = [&](const std::vector<metrics::FileResult>& files, const Names& names,
                     const std::vector<std::string>& hdrs) {
      for (auto& f : files) {
        const auto* keys = find_names(names, f.path);
        if (!keys) continue;
        std::vector<std::pair<std::string, const yaml::Node*>> flat;
        if (f.data && f.data->is_mapping()) flat = metrics::flatten(*f.data);
        for (auto& name : *keys) {
          std::string value = f.error ? "!" : fill;
          for (auto& [k, v] : flat)
            if (k == name && !v->is_null()) {
              value = format_value(*v);
              break;
            }
          bool plain = std::find(hdrs.begin(), hdrs.end(), name) != hdrs.end();
          row[plain ? name : f.path + ":" + name] = value;
        }
      }
    };
    cells(d.metrics, mets, metric_headers);
    cells(d.params, params, param_headers);
    for (auto& name : deps)
      for (auto& [p, dep] : d.deps)
        if (p == name) {
          row[name] = dep.hash ? *dep.hash : fill;
          break;
        }
  }

  std::vector<std::string> row(const ExpState& st, const std::string& experiment, const std::string& rev,
                               const std::string& typ) const {
    std::map<std::string, std::string> cells;
    for (auto& h : headers) cells[h] = fill;
    cells["Experiment"] = experiment;
    cells["rev"] = rev;
    cells["typ"] = typ;
    cells["parent"] = "";
    if (st.data) {
      if (!st.data->time) cells["Created"] = fill;
      else cells["Created"] = opts.csv ? local_time(*st.data->time) : table_time(*st.data->time);
      data_cells(*st.data, cells);
    }
    std::vector<std::string> out;
    for (auto& h : headers) out.push_back(cells[h]);
    return out;
  }
};

bool is_sha(const std::string& s) {
  if (s.size() != 40) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

// (path, name, "metrics"|"params") of --sort-by (DVC's _sort_column).
std::tuple<std::string, std::string, bool> sort_column(std::string sort_by, const Names& mets, const Names& params) {
  std::vector<std::string> parts;
  {
    size_t start = 0;
    for (size_t p; (p = sort_by.find(':', start)) != std::string::npos; start = p + 1)
      parts.push_back(sort_by.substr(start, p - start));
    parts.push_back(sort_by.substr(start));
  }
  auto join = [&](size_t a, size_t b) {
    std::string s;
    for (size_t i = a; i < b; ++i) s += (i > a ? ":" : "") + parts[i];
    return s;
  };
  auto has = [](const Names& names, const std::string& path, const std::string& name) {
    auto* keys = find_names(names, path);
    return keys && std::find(keys->begin(), keys->end(), name) != keys->end();
  };
  std::set<std::tuple<std::string, std::string, bool>> matches;  // bool: is metric
  for (size_t split = 0; split < parts.size(); ++split) {
    std::string path = join(0, split), name = join(split, parts.size());
    if (path.empty()) sort_by = name;
    if (has(mets, path, name)) matches.insert({path, name, true});
    if (has(params, path, name)) matches.insert({path, name, false});
  }
  if (matches.empty()) {
    for (auto& [path, keys] : mets)
      if (std::find(keys.begin(), keys.end(), sort_by) != keys.end()) matches.insert({path, sort_by, true});
    for (auto& [path, keys] : params)
      if (std::find(keys.begin(), keys.end(), sort_by) != keys.end()) matches.insert({path, sort_by, false});
  }
  if (matches.size() == 1) return *matches.begin();
  if (matches.size() > 1) {
    std::string list;
    for (auto& [p, n, m] : matches) list += (list.empty() ? "" : ", ") + p + ":" + n;
    throw UserError("Ambiguous sort column '" + sort_by + "' matched '" + list + "'");
  }
  throw UserError("Unknown sort column '" + sort_by + "'");
}

// The sort value of an experiment: nullopt (sorted last) when absent.
std::optional<yaml::Node> sort_value(const ExpRange& r, const std::string& path, const std::string& name, bool metric) {
  auto& head = r.revs.front();
  if (!head.data) return std::nullopt;
  auto& files = metric ? head.data->metrics : head.data->params;
  for (auto& f : files) {
    if (f.path != path || !f.data) continue;
    if (!f.data->is_mapping()) return std::nullopt;
    for (auto& [k, v] : metrics::flatten(*f.data))
      if (k == name) return v->is_null() ? std::nullopt : std::optional<yaml::Node>(*v);
  }
  return std::nullopt;
}

bool value_less(const yaml::Node& a, const yaml::Node& b) {
  auto num = [](const yaml::Node& n) {
    return n.kind == Kind::floating ? n.f : n.kind == Kind::integer ? double(n.i) : double(n.b);
  };
  if (metrics::is_number(a) && metrics::is_number(b)) return num(a) < num(b);
  if (a.kind == Kind::string && b.kind == Kind::string) return a.s < b.s;
  return metrics::py_str(a) < metrics::py_str(b);
}

std::vector<const ExpRange*> sorted_experiments(const std::vector<ExpRange>& exps, const TableOptions& opts,
                                                const Names& mets, const Names& params) {
  std::vector<const ExpRange*> out;
  for (auto& r : exps) out.push_back(&r);
  if (!opts.sort_by) return out;
  auto [path, name, metric] = sort_column(*opts.sort_by, mets, params);
  std::map<const ExpRange*, std::optional<yaml::Node>> value;
  for (auto* r : out) value[r] = sort_value(*r, path, name, metric);
  // Python's key (val is None, val); reverse=True keeps equal items in order.
  auto less = [&](const ExpRange* a, const ExpRange* b) {
    auto &va = value[a], &vb = value[b];
    if (!va || !vb) return va.has_value() && !vb.has_value();
    return value_less(*va, *vb);
  };
  if (opts.sort_desc) std::stable_sort(out.begin(), out.end(), [&](auto* a, auto* b) { return less(b, a); });
  else std::stable_sort(out.begin(), out.end(), less);
  return out;
}

// Python's re.match of "|".join(patterns): a match anchored at the start.
bool matches_any(const std::vector<std::string>& patterns, const std::string& s) {
  if (patterns.empty()) return false;
  std::string joined;
  for (auto& p : patterns) joined += (joined.empty() ? "" : "|") + p;
  try {
    std::regex re(joined);
    return std::regex_search(s, re, std::regex_constants::match_continuous);
  } catch (const std::regex_error&) {
    throw UserError("invalid regular expression '" + joined + "'");
  }
}

void drop_column(ExpTable& t, size_t i) {
  t.table.headers.erase(t.table.headers.begin() + static_cast<long>(i));
  t.kinds.erase(t.kinds.begin() + static_cast<long>(i));
  t.collapsible.erase(t.collapsible.begin() + static_cast<long>(i));
  for (auto& r : t.table.rows) r.erase(r.begin() + static_cast<long>(i));
}

}  // namespace

ExpTable tabulate(const std::vector<ExpState>& states, const TableOptions& opts) {
  Names mets, params;
  std::set<std::string> dep_set;
  collect_names(states, mets, params, dep_set);
  std::vector<std::string> deps(dep_set.begin(), dep_set.end());

  // Counter over the names of every file (a path in both metrics and params counts once, with
  // its params names: DVC's `metrics | params`), plus the fixed headers.
  std::map<std::string, int> count;
  Names merged = mets;
  for (auto& [p, keys] : params) names_of(merged, p) = keys;
  for (auto& [p, keys] : merged)
    for (auto& k : keys) ++count[k];
  for (auto* h : k_info_headers) ++count[h];
  auto metric_headers = normalize_headers(mets, count);
  auto param_headers = normalize_headers(params, count);

  ExpTable t;
  auto add = [&](const std::string& h, ColumnKind kind, bool collapsible) {
    t.table.headers.push_back(h);
    t.kinds.push_back(kind);
    t.collapsible.push_back(collapsible);
  };
  for (auto* h : k_info_headers) add(h, ColumnKind::info, false);
  for (size_t i = 0; i < metric_headers.size(); ++i) add(metric_headers[i], ColumnKind::metric, i != 0);
  for (size_t i = 0; i < param_headers.size(); ++i) add(param_headers[i], ColumnKind::param, i != 0);
  for (size_t i = 0; i < deps.size(); ++i) add(deps[i], ColumnKind::dep, i != 0);

  RowBuilder rb{t.table.headers, mets, params, metric_headers, param_headers, deps, opts, opts.csv ? "" : "-"};
  for (auto& base : states) {
    std::string rev = base.name ? *base.name : is_sha(base.rev) ? base.rev.substr(0, 7) : base.rev;
    t.table.rows.push_back(rb.row(base, "", rev, "baseline"));
    if (!base.experiments) continue;
    auto exps = sorted_experiments(*base.experiments, opts, mets, params);
    for (size_t i = 0; i < exps.size(); ++i) {
      auto& head = exps[i]->revs.front();
      std::string hrev = is_sha(head.rev) ? head.rev.substr(0, 7) : head.rev;
      auto row = rb.row(head, head.name.value_or(""), hrev, i + 1 == exps.size() ? "branch_base" : "branch_commit");
      if (auto& ex = exps[i]->executor) {
        auto cap = [](std::string v) {
          if (!v.empty()) v[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(v[0])));
          return v;
        };
        for (size_t c = 0; c < t.table.headers.size(); ++c) {
          if (t.table.headers[c] == "State") row[c] = cap(ex->state);
          else if (t.table.headers[c] == "Executor" && ex->name) row[c] = cap(*ex->name);
        }
      }
      t.table.rows.push_back(std::move(row));
    }
  }

  // show_experiments: protect --keep columns, drop empty State/Executor, merge the Experiment
  // column (not in CSV), --only-changed, --drop.
  std::set<std::string> protect;
  if (!opts.keep.empty())
    for (auto& h : t.table.headers)
      if (matches_any(opts.keep, h)) protect.insert(h);
  auto col = [&](const std::string& name) -> std::optional<size_t> {
    auto it = std::find(t.table.headers.begin(), t.table.headers.end(), name);
    if (it == t.table.headers.end()) return std::nullopt;
    return static_cast<size_t>(it - t.table.headers.begin());
  };
  auto drop = [&](const std::string& name) {
    if (protect.count(name)) return;
    if (auto i = col(name)) drop_column(t, *i);
  };
  for (const char* c : {"State", "Executor"}) {
    auto i = col(c);
    if (!i) continue;
    bool empty = std::all_of(t.table.rows.begin(), t.table.rows.end(),
                             [&](auto& r) { return r[*i] == rb.fill; });
    if (empty) drop(c);
  }
  if (!opts.csv) {
    size_t e = *col("Experiment"), r = *col("rev"), ty = *col("typ"), pa = *col("parent");
    for (auto& row : t.table.rows) {
      const std::string& name = row[e];
      const std::string& typ = row[ty];
      std::string text = typ == "baseline" || name.empty() ? (name.empty() ? row[r] : name) : row[r] + " [" + name + "]";
      if (!row[pa].empty()) text += " (" + row[pa] + ")";
      std::string tree = typ == "branch_commit" ? "├── " : typ == "branch_base" ? "└── " : "";
      row[e] = tree + text;
    }
    for (const char* c : {"rev", "typ", "parent"}) drop(c);
  }
  if (opts.only_changed) {
    std::vector<std::string> same;
    for (size_t i = 0; i < t.table.headers.size(); ++i) {
      std::set<std::string> values;
      for (auto& r : t.table.rows) values.insert(r[i]);
      if (values.size() == 1) same.push_back(t.table.headers[i]);
    }
    for (auto& h : same) drop(h);
  }
  if (!opts.drop.empty()) {
    std::vector<std::string> gone;
    for (auto& h : t.table.headers)
      if (matches_any(opts.drop, h)) gone.push_back(h);
    for (auto& h : gone) drop(h);
  }
  return t;
}

// ---- diff ------------------------------------------------------------------------------------

DiffResult diff(repo::Repo& repo, const std::optional<std::string>& a_rev, const std::optional<std::string>& b_rev,
                bool all, bool param_deps) {
  DiffResult out;
  auto* git = &git_of(repo);
  auto has = git->has_commits();
  if (!has || !*has) return out;
  auto refs = read_exp_refs(*git);
  std::string a = resolve_rev(*git, a_rev.value_or("HEAD"), refs);
  std::string b = b_rev ? resolve_rev(*git, *b_rev, refs) : "workspace";
  std::vector<ReadKey> keys{{a, param_deps}};
  if (b != a) keys.emplace_back(b, param_deps);
  auto states = read_states(repo, keys);
  auto as_result = [](const ExpState& st, bool metric) {
    metrics::RevisionResult r{st.rev, {}, std::nullopt};
    if (st.data) r.files = metric ? st.data->metrics : st.data->params;
    return r;
  };
  auto &old_st = states.at({a, param_deps}), &new_st = states.at({b, param_deps});
  auto om = as_result(old_st, true), nm = as_result(new_st, true);
  auto op = as_result(old_st, false), np = as_result(new_st, false);
  out.metrics = metrics::diff(&om, &nm, all);
  out.params = metrics::diff(&op, &np, all);
  return out;
}

}  // namespace dvx::experiments
