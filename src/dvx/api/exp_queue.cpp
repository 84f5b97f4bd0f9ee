// The experiment queue and temporary-directory runs (DVC 3.64's celery and tempdir queues,
// dvc/repo/experiments/queue/*.py, without Celery): `exp run --queue/--temp/--run-all`, the
// worker processes `queue start` leaves running, `queue status/logs/remove/kill/stop`. The files
// are experiments::Queue's; the temporary work trees experiments/executor.h's.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <stdexcept>
#include <thread>

#include "dvx/api/api.h"
#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/experiments/commit.h"
#include "dvx/experiments/executor.h"
#include "dvx/experiments/queue.h"
#include "dvx/experiments/refs.h"
#include "dvx/experiments/set_params.h"
#include "dvx/platform/files.h"
#include "dvx/platform/process.h"

namespace dvx::api {
namespace {

namespace exps = dvx::experiments;
using json = nlohmann::json;

using detail::checked;

exps::Queue queue_of(const repo::Repo& repo) { return exps::Queue(repo.tmp_dir()); }

// Python's repr of a str.
std::string py_repr(const std::string& s) {
  bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    if (c == '\\') out += "\\\\";
    else if (c == static_cast<unsigned char>(q)) out += std::string("\\") + static_cast<char>(q);
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\r') out += "\\r";
    else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else out += static_cast<char>(c);
  }
  return out + q;
}

// DVC's "{'params.yaml': ['lr=0.3']}".
std::string overrides_repr(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups) {
  std::string out = "{";
  for (size_t i = 0; i < groups.size(); ++i) {
    if (i) out += ", ";
    out += py_repr(groups[i].first) + ": [";
    for (size_t j = 0; j < groups[i].second.size(); ++j) {
      if (j) out += ", ";
      out += py_repr(groups[i].second[j]);
    }
    out += "]";
  }
  return out + "}";
}

json run_args(const ExpRunOptions& opts) {
  const auto& r = opts.repro;
  json a = json::object();
  a["targets"] = r.targets;
  a["force"] = r.force;
  a["single_item"] = r.single_item;
  a["pipeline"] = r.pipeline;
  a["all_pipelines"] = r.all_pipelines;
  a["recursive"] = r.recursive;
  a["downstream"] = r.downstream;
  a["force_downstream"] = r.force_downstream;
  a["no_commit"] = r.no_commit;
  a["no_run_cache"] = r.no_run_cache;
  a["allow_missing"] = r.allow_missing;
  a["glob"] = r.glob;
  a["keep_going"] = r.keep_going;
  a["ignore_errors"] = r.ignore_errors;
  a["pull"] = r.pull;
  a["dry"] = r.dry;
  a["jobs"] = r.jobs;
  a["message"] = opts.message ? json(*opts.message) : json(nullptr);
  a["copy_paths"] = opts.copy_paths;
  return a;
}

ExpRunOptions options_from(const json& a, const std::string& name) {
  ExpRunOptions o;
  auto& r = o.repro;
  auto flag = [&](const char* k) { return a.contains(k) && a[k].is_boolean() && a[k].get<bool>(); };
  if (a.contains("targets") && a["targets"].is_array())
    for (auto& t : a["targets"])
      if (t.is_string()) r.targets.push_back(t.get<std::string>());
  r.force = flag("force");
  r.single_item = flag("single_item");
  r.pipeline = flag("pipeline");
  r.all_pipelines = flag("all_pipelines");
  r.recursive = flag("recursive");
  r.downstream = flag("downstream");
  r.force_downstream = flag("force_downstream");
  r.no_commit = flag("no_commit");
  r.no_run_cache = flag("no_run_cache");
  r.allow_missing = flag("allow_missing");
  r.glob = flag("glob");
  r.keep_going = flag("keep_going");
  r.ignore_errors = flag("ignore_errors");
  r.pull = flag("pull");
  r.dry = flag("dry");
  if (a.contains("jobs") && a["jobs"].is_number_unsigned()) r.jobs = std::max(1u, a["jobs"].get<unsigned>());
  if (a.contains("message") && a["message"].is_string()) o.message = a["message"].get<std::string>();
  if (a.contains("copy_paths") && a["copy_paths"].is_array())
    for (auto& p : a["copy_paths"])
      if (p.is_string()) o.copy_paths.push_back(p.get<std::string>());
  o.name = name;
  return o;
}

// -C paths as repo-relative paths (given relative to the CWD).
std::vector<std::string> repo_rel_paths(const repo::Repo& repo, const std::vector<std::string>& given) {
  std::vector<std::string> out;
  for (auto& g : given) {
    std::string abs = platform::normalize_path(platform::absolute_path(g, repo.cwd()));
    if (!abs.starts_with(repo.root() + "/"))
      throw UserError("copy path '" + g + "' is not inside the repository", ExitCode::error);
    out.push_back(abs.substr(repo.root().size() + 1));
  }
  return out;
}

// DVC's _stash_commit_deps (data only): data that a .dvc file tracks and that changed in the
// workspace is saved into the cache, and the .dvc file's new text goes into the queued tree only
// (the workspace's .dvc file stays as it is), so the queued run sees the data as it is now.
std::vector<std::pair<std::string, std::string>> data_source_updates(repo::Repo& repo) {
  std::vector<std::pair<std::string, std::string>> out;
  auto ctx = repo.context();
  for (const repo::DvcStage& st : repo.stages()) {
    if (st.is_pipeline() || !st.file.deps.empty() || st.file.frozen) continue;  // pipelines, imports
    formats::DvcFile file = st.file;
    bool changed = false;
    for (const repo::Output& o : st.outs) {
      if (!o.entry.cache) continue;
      auto state = workspace::compute_state(ctx, o.abs_path, o.algorithm());
      if (!state || state->kind == workspace::OutputState::Kind::missing) continue;
      auto rec = o.recorded();
      if (rec && rec->oid == state->oid) continue;
      odb::Layout layout = o.layout();
      if (layout == odb::Layout::legacy) {
        auto v3 = workspace::compute_state(ctx, o.abs_path, hash::Algorithm::md5);
        if (!v3) continue;
        state = std::move(*v3);
        layout = odb::Layout::v3;
      }
      checked(workspace::save_to_cache(ctx, o.abs_path, *state, layout));
      detail::record_state(file.outs[o.index], *state, layout);
      changed = true;
    }
    if (changed) out.emplace_back(st.rel_path, formats::update_dvc_file(st.file, file));
  }
  return out;
}

// Queues one task per sweep combination; returns them.
std::vector<exps::QueueTask> enqueue(repo::Repo& repo, const ExpRunOptions& opts, exps::TaskKind kind,
                                     std::vector<std::string>* reprs) {
  scm::Git& git = detail::exp_git(repo);
  auto groups = exps::group_by_file(opts.set_params);
  detail::check_set_params(groups, kind == exps::TaskKind::queue);
  auto sweeps = exps::expand_sweeps(opts.set_params);
  if (!sweeps) throw UserError(sweeps.error().message, ExitCode::error);
  bool sweep = false;
  for (auto& [file, overrides] : groups)
    for (auto& text : overrides)
      if (auto o = exps::parse_override(text); o && !o->sweep.empty()) sweep = true;
  std::string head = detail::head_commit(git);
  std::string baseline = head;
  ExpRunOptions run = opts;
  run.copy_paths = repo_rel_paths(repo, opts.copy_paths);

  // Every params text computed before anything is queued: a bad override queues nothing.
  struct Planned {
    std::vector<std::pair<std::string, std::string>> files;
    std::string name, repr;
  };
  std::vector<Planned> planned;
  exps::Queue q = queue_of(repo);
  auto lock = checked(q.lock());
  auto existing = checked(q.tasks());
  std::set<std::string> taken;
  for (auto& t : existing)
    if (t.baseline == baseline && t.status != exps::TaskStatus::success) taken.insert(t.name);
  for (size_t i = 0; i < sweeps->size(); ++i) {
    Planned p;
    for (auto& u : detail::params_updates(repo, (*sweeps)[i])) {
      if (u.rel.empty()) throw UserError("params file '" + u.abs + "' is outside the repository", ExitCode::error);
      p.files.emplace_back(u.rel, std::move(u.text));
    }
    std::optional<std::string> name = opts.name;
    if (sweep && opts.name && !opts.name->empty()) name = *opts.name + "-" + std::to_string(i + 1);
    if (name && !name->empty()) {
      p.name = detail::new_exp_name(git, baseline, name, opts.repro.force);
      if (taken.count(p.name) && !opts.repro.force) exps::raise_exists(p.name);
    } else {
      do p.name = exps::random_exp_name(git, baseline);
      while (taken.count(p.name));
    }
    taken.insert(p.name);
    p.repr = (*sweeps)[i].empty() ? "" : overrides_repr((*sweeps)[i]);
    planned.push_back(std::move(p));
  }

  std::string tree = checked(exps::workspace_snapshot_tree(git));
  if (auto data = data_source_updates(repo); !data.empty()) tree = checked(git.overlay_tree(tree, data));
  std::vector<exps::QueueTask> out;
  uint64_t seq = checked(q.next_seq());
  for (auto& p : planned) {
    exps::QueueTask t;
    t.id = checked(exps::make_queue_commit(git, tree, p.files, head, baseline, p.name));
    t.name = p.name;
    t.baseline = baseline;
    t.head = head;
    t.created = checked(git.commit_info(t.id)).time;
    t.seq = seq++;
    t.kind = kind;
    t.args = run_args(run);
    checked(q.save(t));
    if (reprs) reprs->push_back(p.repr);
    out.push_back(std::move(t));
  }
  return out;
}

// Records the end of a task (under the queue lock; the task may be gone if it was removed).
void finish_task(const exps::Queue& q, const std::string& id, const std::function<void(exps::QueueTask&)>& edit) {
  auto lock = q.lock();
  if (!lock) return;
  auto t = q.find(id);
  if (!t || !*t) return;
  edit(**t);
  (void)q.save(**t);
}

}  // namespace

void exp_queue(repo::Repo& repo, const ExpRunOptions& opts,
               const std::function<void(const std::string&, const std::string&)>& on_queued) {
  std::vector<std::string> reprs;
  auto tasks = enqueue(repo, opts, exps::TaskKind::queue, &reprs);
  for (size_t i = 0; i < tasks.size(); ++i) on_queued(reprs[i], tasks[i].name);
}

ExpRunResult exp_exec_task(repo::Repo& repo, const std::string& task_id, const ReproOutput& io) {
  scm::Git& git = detail::exp_git(repo);
  exps::Queue q = queue_of(repo);
  exps::QueueTask task;
  {
    auto lock = checked(q.lock());
    auto t = checked(q.find(task_id));
    if (!t) throw UserError("no queued experiment task '" + task_id + "'", ExitCode::error);
    task = *t;
  }
  ExpRunOptions opts = options_from(task.args, task.name);
  std::string dir;
  try {
    dir = checked(exps::make_temp_workspace(git, q.exps_dir(), task, repo.config().cache_dir(), repo.root(),
                                            opts.copy_paths));
  } catch (...) {
    finish_task(q, task.id, [](exps::QueueTask& t) {
      t.status = exps::TaskStatus::failed;
      t.returncode = 255;
    });
    throw;
  }
  finish_task(q, task.id, [&](exps::QueueTask& t) {
    t.status = exps::TaskStatus::running;
    t.root = dir;
    t.pid = static_cast<int64_t>(::getpgrp());
  });
  struct Cleanup {
    std::string dir;
    ~Cleanup() { (void)platform::remove_all(dir); }
  } cleanup{dir};

  ExpRunResult result;
  try {
    auto temp = repo::Repo::open(dir);
    {
      CheckoutOptions co;
      co.force = true;
      co.allow_missing = true;
      co.report_failure = true;
      (void)checkout(*temp, co);
    }
    opts.repro.force = task.args.value("force", false);
    result = exp_run(*temp, opts, io);
    if (!opts.repro.dry) {
      scm::Git* tgit = temp->git();
      if (tgit == nullptr) throw UserError("the temporary work tree lost its Git repository", ExitCode::error);
      checked(exps::import_git_objects(tgit->git_dir(), git.common_dir()));
      exps::ExpRef ref{task.baseline, task.name};
      auto existing = checked(git.ref_target(ref.str()));
      if (existing && *existing != result.commit && !opts.repro.force) {
        auto old = checked(git.commit_info(*existing));
        auto now = checked(git.commit_info(result.commit));
        if (old.tree != now.tree) exps::raise_exists(ref.str());
        result.commit = *existing;
      } else {
        checked(git.set_ref(ref.str(), result.commit));
      }
      result.ref = ref.str();
    }
  } catch (...) {
    finish_task(q, task.id, [](exps::QueueTask& t) {
      t.status = exps::TaskStatus::failed;
      t.returncode = 255;
      t.root.clear();
    });
    throw;
  }
  finish_task(q, task.id, [&](exps::QueueTask& t) {
    t.status = exps::TaskStatus::success;
    t.returncode = 0;
    t.root.clear();
    t.exp_ref = result.ref;
    t.exp_commit = result.commit;
  });
  return result;
}

ExpRunResult exp_run_temp(repo::Repo& repo, const ExpRunOptions& opts, const ReproOutput& io) {
  auto tasks = enqueue(repo, opts, exps::TaskKind::temp, nullptr);
  exps::Queue q = queue_of(repo);
  const exps::QueueTask& t = tasks.front();
  scm::Git& git = detail::exp_git(repo);
  auto forget = [&] {
    auto lock = q.lock();
    (void)q.erase(t.id);
    (void)git.delete_ref(exps::Queue::task_ref(t.id));
  };
  ExpRunResult r;
  try {
    auto run_lock = checked(q.hold_run(t.id));
    r = exp_exec_task(repo, t.id, io);
  } catch (...) {
    forget();
    throw;
  }
  forget();
  return r;
}

// ---- workers -------------------------------------------------------------------------------

int queue_start(repo::Repo& repo, int jobs) {
  detail::exp_git(repo);
  exps::Queue q = queue_of(repo);
  int live = static_cast<int>(q.workers().size());
  int started = 0;
  std::string exe = platform::self_exe();
  if (exe.empty()) throw UserError("cannot find the dvx executable to start queue workers", ExitCode::error);
  for (int i = live; i < jobs; ++i) {
    auto [file, lock] = checked(q.register_worker());
    std::string log = q.dir() + "/worker.log";
    platform::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
    platform::SpawnOptions so;
    so.cwd = repo.root();
    so.stdout_fd = out.get();
    so.stderr_fd = out.get();
    so.keep_fds = {lock.fd()};
    so.new_session = true;
    checked(platform::spawn_process(
        {exe, "exp", "queue-worker", "--lock-fd", std::to_string(lock.fd()), "--registry", file}, so));
    ++started;
    // `lock` closes here: the worker holds the registry lock through its inherited descriptor.
  }
  return started;
}

int queue_worker(repo::Repo& repo, int lock_fd, const std::string& registry_file) {
  exps::Queue q = queue_of(repo);
  std::string exe = platform::self_exe();
  for (;;) {
    if (q.stop_requested(registry_file)) break;
    exps::QueueTask task;
    platform::FileLock run_lock;
    {
      auto lock = checked(q.lock(60000));
      auto all = checked(q.tasks());
      const exps::QueueTask* next = nullptr;
      for (auto& t : all) {
        if (t.dead) {
          exps::QueueTask dead = t;
          dead.root.clear();
          (void)q.save(dead);  // its process is gone: stored as failed
          continue;
        }
        if (!next && t.kind == exps::TaskKind::queue && t.status == exps::TaskStatus::queued) next = &t;
      }
      if (!next) break;
      task = *next;
      run_lock = checked(q.hold_run(task.id));
      task.status = exps::TaskStatus::running;
      task.pid.reset();
      checked(q.save(task));
    }
    (void)exps::Queue::note_worker_task(lock_fd, task.id);
    std::string log = q.log_path(task.id);
    checked(platform::make_dirs(platform::parent_dir(log)));
    platform::UniqueFd out(::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    int rc = 255;
    platform::SpawnOptions so;
    so.cwd = repo.root();
    so.stdout_fd = out.get();
    so.stderr_fd = out.get();
    so.keep_fds = {run_lock.fd()};
    auto pid = platform::spawn_process({exe, "exp", "exec-run", task.id}, so);
    if (pid) {
      finish_task(q, task.id, [&](exps::QueueTask& t) {
        if (t.status == exps::TaskStatus::running && !t.pid) t.pid = *pid;
      });
      auto w = platform::wait_process(*pid);
      rc = w ? *w : 255;
    }
    run_lock = platform::FileLock();
    finish_task(q, task.id, [&](exps::QueueTask& t) {
      if (t.status != exps::TaskStatus::running) return;  // the run stored its own result
      t.status = exps::TaskStatus::failed;
      t.returncode = rc;
      t.root.clear();
    });
    (void)exps::Queue::note_worker_task(lock_fd, "");
  }
  return 0;
}

QueueStatus queue_status(repo::Repo& repo) {
  exps::Queue q = queue_of(repo);
  QueueStatus st;
  auto all = checked(q.tasks());
  for (auto s : {exps::TaskStatus::running, exps::TaskStatus::queued, exps::TaskStatus::failed,
                 exps::TaskStatus::success})
    for (auto& t : all) {
      if (t.kind != exps::TaskKind::queue || t.status != s) continue;
      st.tasks.push_back({t.id, t.name, exps::status_title(t.status), t.created});
    }
  for (auto& w : q.workers()) (w.task.empty() ? st.idle : st.active) += 1;
  return st;
}

namespace {

std::vector<exps::QueueTask> queue_tasks(const exps::Queue& q) {
  std::vector<exps::QueueTask> out;
  for (auto& t : checked(q.tasks()))
    if (t.kind == exps::TaskKind::queue) out.push_back(std::move(t));
  return out;
}

std::vector<exps::QueueTask> with_status(const std::vector<exps::QueueTask>& all,
                                         std::initializer_list<exps::TaskStatus> statuses) {
  std::vector<exps::QueueTask> out;
  for (auto& t : all)
    if (std::find(statuses.begin(), statuses.end(), t.status) != statuses.end()) out.push_back(t);
  return out;
}

// Streams a file from `offset` on; returns the new offset.
size_t stream_from(const std::string& path, size_t offset, const std::function<void(std::string_view)>& out) {
  auto text = platform::read_file(path);
  if (!text || text->size() <= offset) return offset;
  out(std::string_view(*text).substr(offset));
  return text->size();
}

// Follows a task's output until the task is no longer running (or queued, when `wait_start`).
void follow_task(const exps::Queue& q, const std::string& id, const std::function<void(std::string_view)>& out) {
  size_t offset = 0;
  std::string log = q.log_path(id);
  for (;;) {
    auto t = q.find(id);
    bool done = !t || !*t || (*t)->status == exps::TaskStatus::success || (*t)->status == exps::TaskStatus::failed;
    offset = stream_from(log, offset, out);
    if (done) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stream_from(log, offset, out);
}

}  // namespace

void queue_logs(repo::Repo& repo, const std::string& task, bool follow,
                const std::function<void(std::string_view)>& out) {
  exps::Queue q = queue_of(repo);
  auto all = queue_tasks(q);
  auto started = with_status(all, {exps::TaskStatus::running, exps::TaskStatus::success, exps::TaskStatus::failed});
  const exps::QueueTask* t = exps::Queue::match(started, task);
  if (t == nullptr) {
    if (exps::Queue::match(with_status(all, {exps::TaskStatus::queued}), task))
      throw UserError("Experiment '" + task + "' is in queue but has not been started", ExitCode::error);
    throw UserError("'" + task + "' is not a valid queued experiment name", ExitCode::error);
  }
  if (follow) {
    out("Following logs for experiment '" + task + "'. Use Ctrl+C to stop following logs (experiment execution will continue).\n\n");
    follow_task(q, t->id, out);
    return;
  }
  auto text = platform::read_file(q.log_path(t->id));
  if (!text) {
    std::string message = "No output logs found for experiment '" + task + "'";
    if (t->status == exps::TaskStatus::failed) message += "\nExperiment likely failed during setup.";
    throw UserError(message, ExitCode::error);
  }
  out(*text + "\n");
}

std::vector<std::string> queue_remove(repo::Repo& repo, const QueueRemoveOptions& opts) {
  bool clear = opts.all || opts.queued || opts.success || opts.failed;
  if (clear == !opts.tasks.empty())
    throw UserError("Either provide an `tasks` argument, or use the `--all`, `--queued`, `--failed`, `--success` flag.",
                    ExitCode::error);
  exps::Queue q = queue_of(repo);
  scm::Git& git = detail::exp_git(repo);
  auto lock = checked(q.lock());
  auto all = queue_tasks(q);
  std::vector<std::string> removed;
  std::vector<exps::QueueTask> drop;
  if (clear) {
    auto take = [&](exps::TaskStatus s) {
      for (auto& t : all)
        if (t.status == s) {
          drop.push_back(t);
          removed.push_back(t.name.empty() ? t.id.substr(0, 7) : t.name);
        }
    };
    if (opts.all || opts.queued) take(exps::TaskStatus::queued);
    if (opts.all || opts.failed) take(exps::TaskStatus::failed);
    if (opts.all || opts.success) take(exps::TaskStatus::success);
  } else {
    auto done = with_status(all, {exps::TaskStatus::queued, exps::TaskStatus::success, exps::TaskStatus::failed});
    std::vector<std::string> unresolved;
    for (auto& name : opts.tasks) {
      const exps::QueueTask* t = exps::Queue::match(done, name);
      if (!t) {
        unresolved.push_back(name);
        continue;
      }
      drop.push_back(*t);
      removed.push_back(name);
    }
    if (!unresolved.empty()) {
      std::string names = join(unresolved, "; ");
      throw UserError(unresolved.size() > 1 ? "'" + names + "' are not valid experiment names"
                                            : "'" + names + "' is not a valid experiment name",
                      ExitCode::error);
    }
  }
  for (auto& t : drop) {
    checked(q.erase(t.id));
    checked(git.delete_ref(exps::Queue::task_ref(t.id)));
  }
  return removed;
}

void queue_kill(repo::Repo& repo, const std::vector<std::string>& tasks, bool force,
                const std::function<void(const std::string&)>& killed) {
  exps::Queue q = queue_of(repo);
  auto running = with_status(queue_tasks(q), {exps::TaskStatus::running});
  std::vector<std::string> missing;
  for (auto& name : tasks) {
    const exps::QueueTask* t = exps::Queue::match(running, name);
    if (!t || !t->pid || !platform::signal_group(*t->pid, force ? SIGKILL : SIGINT)) {
      missing.push_back(name);
      continue;
    }
    killed(name);
  }
  if (!missing.empty()) {
    std::string names = join(missing, "; ");
    throw UserError(missing.size() > 1 ? "'" + names + "' are not valid running experiment names"
                                       : "'" + names + "' is not a valid running experiment name",
                    ExitCode::error);
  }
}

ExpCleanResult exp_clean(repo::Repo& repo) {
  exps::Queue q = queue_of(repo);
  scm::Git& git = detail::exp_git(repo);
  auto lock = checked(q.lock());
  ExpCleanResult res;
  auto all = queue_tasks(q);
  std::set<std::string> ids, live_roots;
  for (auto& t : all) {
    ids.insert(t.id);
    if (!t.root.empty() && q.run_held(t.id)) live_roots.insert(platform::normalize_path(t.root));
  }
  const std::string prefix = exps::Queue::task_ref("");
  for (auto& ref : checked(git.refs_under(prefix))) {
    if (ids.count(ref.name.substr(prefix.size()))) continue;
    checked(git.delete_ref(ref.name));
    ++res.refs;
  }
  if (auto entries = platform::list_dir(q.exps_dir())) {
    for (auto& e : *entries) {
      if (e.type != platform::FileType::directory || e.name.rfind("tmp", 0) != 0) continue;
      std::string path = platform::normalize_path(q.exps_dir() + "/" + e.name);
      if (live_roots.count(path)) continue;
      // A tree being set up right now has no task root yet: only those an hour old go.
      auto st = platform::lstat_path(path);
      auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
      if (now - st.mtime_ns < int64_t(3600) * 1'000'000'000) continue;
      if (platform::remove_all(path)) ++res.trees;
    }
  }
  return res;
}

void queue_stop(repo::Repo& repo, bool kill) {
  exps::Queue q = queue_of(repo);
  checked(q.request_stop());
  if (!kill) return;
  for (auto& t : with_status(queue_tasks(q), {exps::TaskStatus::running}))
    if (t.pid) platform::signal_group(*t.pid, SIGKILL);
}

std::pair<std::vector<std::string>, std::vector<std::string>> exp_run_all(
    repo::Repo& repo, int jobs, const std::function<void(std::string_view)>& out) {
  exps::Queue q = queue_of(repo);
  auto entries = with_status(queue_tasks(q), {exps::TaskStatus::running, exps::TaskStatus::queued});
  std::pair<std::vector<std::string>, std::vector<std::string>> result;
  if (entries.empty()) return result;
  queue_start(repo, jobs);
  out("Following logs for all queued experiments. Use Ctrl+C to stop following logs (experiment execution will continue).\n\n");
  for (auto& e : entries) {
    // wait for it to start (a worker may also have exited meanwhile: keep workers alive)
    for (;;) {
      auto t = checked(q.find(e.id));
      if (!t || t->status != exps::TaskStatus::queued) break;
      if (q.workers().empty()) queue_start(repo, jobs);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    follow_task(q, e.id, out);
    auto t = checked(q.find(e.id));
    if (t && t->status == exps::TaskStatus::success) result.first.push_back(e.name);
    else result.second.push_back(e.name.empty() ? e.id.substr(0, 7) : e.name);
  }
  return result;
}

}  // namespace dvx::api
