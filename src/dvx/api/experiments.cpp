// Experiments that write: `exp run` (in the workspace), `exp save`, `exp apply`, `exp branch`,
// `exp remove`, `exp rename` (DVC 3.64's dvc/repo/experiments/*.py).
#include <algorithm>
#include <set>
#include <stdexcept>

#include "dvx/api/api.h"
#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/experiments/commit.h"
#include "dvx/experiments/refs.h"
#include "dvx/experiments/set_params.h"
#include "dvx/pipeline/index.h"
#include "dvx/platform/files.h"

namespace dvx::api {
namespace exps = dvx::experiments;

namespace detail {

scm::Git& exp_git(repo::Repo& repo) {
  auto* git = repo.git();
  if (git == nullptr)
    throw UserError(
        "Only supported for Git repositories. If you're seeing this error in a Git repo, try updating the DVC "
        "configuration with `dvc config core.no_scm false`.",
        ExitCode::error);
  auto has = git->has_commits();
  if (!has) detail::raise(has.error());
  if (!*has) throw std::runtime_error("Empty git repo");  // scmrepo's error, an unexpected one for DVC
  return *git;
}

std::string head_commit(scm::Git& git) {
  auto head = git.resolve("HEAD");
  if (!head) detail::raise(head.error());
  return *head;
}

std::string new_exp_name(scm::Git& git, const std::string& baseline, const std::optional<std::string>& name,
                         bool force) {
  if (!name || name->empty()) return exps::random_exp_name(git, baseline);
  exps::ExpRef ref{baseline, *name};
  exps::check_exp_name(ref);
  auto existing = git.ref_target(ref.str());
  if (!existing) detail::raise(existing.error());
  if (*existing && !force) exps::raise_exists(*name);
  return *name;
}

}  // namespace detail

namespace {

using detail::exp_git;
using detail::head_commit;
using detail::new_exp_name;

using detail::checked;

// Repo-relative form of a path given relative to the CWD (nullopt outside the repository).
std::optional<std::string> repo_rel(const repo::Repo& repo, const std::string& given) {
  std::string abs = platform::normalize_path(platform::absolute_path(given, repo.cwd()));
  if (abs == repo.root()) return std::string();
  if (!abs.starts_with(repo.root() + "/")) return std::nullopt;
  return abs.substr(repo.root().size() + 1);
}

}  // namespace

namespace detail {

// `-S`: every override parsed first (a syntax error is an unexpected error for DVC, a sweep is
// refused without --queue), then each params file's new text computed, then all written, so a
// failing override leaves every file as it was (DVC resets its stash).
void check_set_params(const std::vector<std::pair<std::string, std::vector<std::string>>>& groups, bool allow_sweep) {
  bool sweep = false;
  for (auto& [file, overrides] : groups)
    for (auto& text : overrides) {
      auto o = exps::parse_override(text);
      if (!o) throw std::runtime_error(o.error().message);
      if (!o->sweep.empty()) sweep = true;
    }
  if (sweep && !allow_sweep) throw UserError("Sweep overrides can't be used without `--queue`", ExitCode::error);
}

std::vector<ParamsUpdate> params_updates(repo::Repo& repo,
                                         const std::vector<std::pair<std::string, std::vector<std::string>>>& groups) {
  std::vector<ParamsUpdate> pending;
  for (auto& [file, overrides] : groups) {
    std::string abs = platform::normalize_path(platform::absolute_path(file, repo.cwd()));
    auto st = platform::stat_path(abs);
    std::string text;
    if (st.exists()) text = checked(platform::read_file(abs));
    auto updated = exps::rewrite_params(text, file, overrides);
    if (!updated) {
      const std::string& msg = updated.error().message;
      // A key added to a Python params file is a KeyError DVC does not catch: "'<key>'".
      if (msg.starts_with("'")) throw std::runtime_error(msg);
      throw UserError(msg, ExitCode::error);
    }
    ParamsUpdate u;
    u.abs = abs;
    u.text = std::move(*updated);
    u.mode = st.exists() ? (st.mode & 07777) : 0644u;
    if (abs.starts_with(repo.root() + "/")) u.rel = abs.substr(repo.root().size() + 1);
    pending.push_back(std::move(u));
  }
  return pending;
}

}  // namespace detail

namespace {

// Writes the params files -S changes; returns the files, repo-relative, which DVC stages
// (`git add`) with the experiment.
std::vector<std::string> write_set_params(repo::Repo& repo,
                                          const std::vector<std::pair<std::string, std::vector<std::string>>>& groups) {
  auto pending = detail::params_updates(repo, groups);
  std::vector<std::string> rels;
  for (auto& p : pending)
    if (!p.rel.empty()) rels.push_back(p.rel);
  for (auto& p : pending) checked(platform::write_file_atomic(p.abs, p.text, p.mode));
  return rels;
}

// While an experiment is made DVC keeps its baseline in refs/exps/exec/EXEC_BASELINE, and when
// it is done the index matches HEAD again (its stash and detached-HEAD dance ends with a reset);
// EXEC_HEAD stays. Undone on every way out.
class ExecRefs {
 public:
  ExecRefs(scm::Git& git, const std::string& baseline) : m_git(git), m_baseline(baseline) {
    checked(git.set_ref(std::string(exps::k_exec_head), baseline));
    checked(git.set_ref(std::string(exps::k_exec_baseline), baseline));
  }
  ExecRefs(const ExecRefs&) = delete;
  ExecRefs& operator=(const ExecRefs&) = delete;
  ~ExecRefs() {
    (void)m_git.delete_ref(std::string(exps::k_exec_baseline));
    (void)m_git.delete_ref(std::string(exps::k_exec_merge));
    (void)m_git.delete_ref(std::string(exps::k_exec_branch));
    (void)m_git.reset_index(m_baseline);
  }

 private:
  scm::Git& m_git;
  std::string m_baseline;
};

void append(std::vector<std::string>& to, const std::vector<std::string>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

// The entries DVC hashes for the experiment: the pipeline stages among `stages`.
std::vector<std::pair<std::string, formats::LockStage>> lock_entries(const pipeline::Index& index,
                                                                     const std::vector<size_t>& stages) {
  std::vector<std::pair<std::string, formats::LockStage>> out;
  for (size_t i : stages) {
    const pipeline::Stage& st = index.stage(i);
    if (st.is_dvc_file()) continue;
    if (auto e = index.lock_entry(i)) out.emplace_back(st.name, std::move(*e));
  }
  return out;
}

// The experiment a name or revision means (DVC's resolve_rev: a Git revision first, then an
// experiment name); nullopt when neither (or an ambiguous name).
std::optional<std::string> resolve_exp_rev(scm::Git& git, const std::string& rev) {
  if (auto id = git.resolve(rev)) return *id;
  if (rev == "HEAD" || rev.starts_with("refs/")) return std::nullopt;
  try {
    auto found = exps::resolve_names(git, {rev}, head_commit(git));
    if (auto& e = found[rev]) return e->commit;
  } catch (const UserError&) {
    // ambiguous: DVC's resolve_rev reports it as an unknown revision
  }
  return std::nullopt;
}

}  // namespace

ExpRunResult exp_run(repo::Repo& repo, const ExpRunOptions& opts, const ReproOutput& io) {
  scm::Git& git = exp_git(repo);
  auto groups = exps::group_by_file(opts.set_params);
  detail::check_set_params(groups, false);
  std::string baseline = head_commit(git);
  ExpRunResult result;
  result.name = new_exp_name(git, baseline, opts.name, opts.repro.force);
  std::vector<std::string> paths = write_set_params(repo, groups);

  ExecRefs exec(git, baseline);
  if (io.out) io.out("Reproducing experiment '" + result.name + "'");
  std::vector<std::pair<std::string, formats::LockStage>> ran;
  detail::repro_with(repo, opts.repro, io, [&](pipeline::Index& index, const pipeline::ReproResult& r) {
    // DVC stages the files of every stage it visits (run or skipped), then hashes those it ran.
    for (size_t i : pipeline::plan(index, opts.repro)) append(paths, exps::stage_git_paths(index, i));
    ran = lock_entries(index, r.reproduced_stages);
  });
  (void)repo.take_git_paths();  // experiments print no `git add` hint
  if (opts.repro.dry) return result;
  append(paths, exps::top_level_paths(repo));

  exps::ExpCommit c;
  c.ref = exps::ExpRef{baseline, result.name};
  c.exp_hash = exps::exp_hash(ran);
  if (opts.message && !opts.message->empty()) c.message = opts.message;
  c.force = opts.repro.force;
  c.paths = std::move(paths);
  result.commit = exps::commit_experiment(git, c);
  result.ref = c.ref.str();
  return result;
}

ExpRunResult exp_save(repo::Repo& repo, const ExpSaveOptions& opts) {
  scm::Git& git = exp_git(repo);
  std::string baseline = head_commit(git);
  ExpRunResult result;
  result.name = new_exp_name(git, baseline, opts.name, opts.force);
  ExecRefs exec(git, baseline);

  CommitOptions co;
  co.targets = opts.targets;
  co.force = true;
  co.recursive = opts.recursive;
  co.no_relink = true;
  for (auto& w : commit(repo, co, [](const std::string&) { return true; }))
    if (opts.warn) opts.warn(w);
  (void)repo.take_git_paths();
  repo.reload_stages();

  std::vector<std::pair<std::string, formats::LockStage>> entries;
  {
    auto index = pipeline::Index::load(repo);
    std::vector<size_t> stages;
    if (opts.targets.empty()) {
      for (size_t i = 0; i < index->stages().size(); ++i) stages.push_back(i);
    } else {
      for (auto& t : opts.targets)
        for (size_t i : index->resolve(t, false))
          if (std::find(stages.begin(), stages.end(), i) == stages.end()) stages.push_back(i);
    }
    entries = lock_entries(*index, stages);
  }

  std::vector<std::string> paths;
  for (auto& p : opts.include_untracked)
    if (auto rel = repo_rel(repo, p)) paths.push_back(*rel);
  append(paths, exps::top_level_paths(repo));
  if (platform::lstat_path(repo.root() + "/dvc.lock").exists() && !checked(git.is_tracked("dvc.lock")))
    paths.push_back("dvc.lock");

  exps::ExpCommit c;
  c.ref = exps::ExpRef{baseline, result.name};
  c.exp_hash = exps::exp_hash(entries);
  if (opts.message && !opts.message->empty()) c.message = opts.message;
  c.force = opts.force;
  c.paths = paths;
  c.force_paths = true;
  result.commit = exps::commit_experiment(git, c);
  result.ref = c.ref.str();

  // Untracked files the experiment left out.
  std::vector<std::string> left;
  for (auto& f : checked(git.untracked_files())) {
    bool included = std::any_of(paths.begin(), paths.end(), [&](const std::string& p) {
      return f == p || (f.size() > p.size() && f.starts_with(p) && f[p.size()] == '/');
    });
    if (!included) left.push_back(f);
  }
  if (!left.empty() && opts.warn)
    opts.warn("The following untracked files were present in the workspace before saving but will not be "
              "included in the experiment commit:\n\t" + join(left, ", "));
  return result;
}

void exp_apply(repo::Repo& repo, const std::string& rev) {
  scm::Git& git = exp_git(repo);
  std::string head = head_commit(git);
  auto exp_rev = resolve_exp_rev(git, rev);
  if (!exp_rev) {
    // DVC looks the name up once more among experiments (an ambiguous name fails there).
    auto found = exps::resolve_names(git, {rev}, head);
    if (found[rev]) {
      exp_rev = found[rev]->commit;
    } else {
      throw UserError("'" + rev + "' does not appear to be an experiment commit.: unknown Git revision '" + rev + "'",
                      ExitCode::error);
    }
  }
  // The work tree as it was, kept where DVC keeps its apply stash, as `git stash` shapes it
  // (`git stash apply refs/exps/apply/stash` takes it back): a commit of the tracked changes
  // whose parents are HEAD, a commit of the index and one of the untracked files.
  if (checked(git.has_changes())) {
    auto info = checked(git.commit_info(head));
    std::string subject = info.message.substr(0, info.message.find('\n'));
    auto branch = checked(git.current_branch());
    std::string on = (branch ? *branch : std::string("(no branch)")) + ": " + head.substr(0, 7) + " " + subject + "\n";
    std::vector<std::string> parents{head};
    parents.push_back(checked(git.create_commit(checked(git.workspace_tree({}, false, scm::Git::Tracked::keep)),
                                                {head}, "index on " + on)));
    auto untracked = checked(git.untracked_files());
    if (!untracked.empty())
      parents.push_back(checked(git.create_commit(
          checked(git.workspace_tree(untracked, false, scm::Git::Tracked::none)), {}, "untracked files on " + on)));
    std::string message = "dvc-exp-apply:" + head + ":" + *exp_rev + ":" + rev;
    std::string stash = checked(git.create_commit(checked(git.workspace_tree({}, false)), parents, message));
    checked(git.set_ref(std::string(exps::k_apply_head), head));
    checked(git.set_ref(std::string(exps::k_apply_stash), stash));
  }
  checked(git.write_tree_files(*exp_rev));
  checked(git.reset_index(head));
  repo.reload_stages();
  CheckoutOptions co;
  co.force = true;
  checkout(repo, co);
  checked(git.set_ref(std::string(exps::k_exec_apply), *exp_rev));
}

ExpBranchResult exp_branch(repo::Repo& repo, const std::string& exp, const std::optional<std::string>& branch) {
  scm::Git& git = exp_git(repo);
  auto rev = resolve_exp_rev(git, exp);
  if (!rev) throw UserError(exp, ExitCode::error);
  auto infos = checked(exps::exp_refs_containing(git, *rev));
  std::optional<exps::ExpRefEntry> chosen;
  if (infos.size() == 1) {
    chosen = infos[0];
  } else if (infos.size() > 1) {
    std::string head = head_commit(git);
    for (auto& e : infos)
      if (e.ref.baseline == head) {
        chosen = e;
        break;
      }
    if (!chosen) {
      std::string msg = "Ambiguous experiment name '" + exp +
                        "' can refer to multiple experiments. To create a branch use a full experiment ref:\n";
      for (auto& e : infos) msg += "\n" + e.ref.str();
      throw UserError(msg, ExitCode::error);
    }
  }
  if (!chosen) throw UserError("'" + exp + "' does not appear to be an experiment commit.", ExitCode::error);
  ExpBranchResult result;
  result.name = chosen->ref.name;
  result.branch = branch && !branch->empty() ? *branch : chosen->ref.name + "-branch";
  std::string branch_ref = "refs/heads/" + result.branch;
  if (checked(git.ref_target(branch_ref)))
    throw UserError("Git branch '" + result.branch + "' already exists.", ExitCode::error);
  checked(git.set_ref(branch_ref, chosen->commit, "dvc: Created from experiment '" + result.name + "'"));
  return result;
}

std::vector<std::string> exp_remove(repo::Repo& repo, const ExpRemoveOptions& opts) {
  if (opts.keep && opts.queue) throw UserError("Cannot use both `--keep` and `--queue`.", ExitCode::error);
  std::vector<std::string> removed;
  if (opts.names.empty() && !opts.queue && !opts.all_commits && opts.revs.empty()) return removed;
  scm::Git& git = exp_git(repo);
  if (opts.queue) {
    QueueRemoveOptions q;
    q.queued = true;
    removed = queue_remove(repo, q);
  }
  std::vector<exps::ExpRefEntry> selected;
  if (!opts.names.empty()) {
    auto found = exps::resolve_names(git, opts.names, head_commit(git));
    std::vector<std::string> unresolved;
    for (auto& name : opts.names) {
      auto& e = found[name];
      if (!e) {
        // a queued or finished queue task of that name (DVC's get_ref_and_entry_by_names)
        QueueRemoveOptions q;
        q.tasks = {name};
        try {
          auto gone = queue_remove(repo, q);
          removed.insert(removed.end(), gone.begin(), gone.end());
        } catch (const UserError&) {
          unresolved.push_back(name);
        }
        continue;
      }
      removed.push_back(name);
      selected.push_back(*e);
    }
    if (!unresolved.empty()) {
      std::string names = join(unresolved, "; ");
      throw UserError(unresolved.size() > 1 ? "'" + names + "' are not valid experiment names"
                                            : "'" + names + "' is not a valid experiment name",
                      ExitCode::error);
    }
  } else if (!opts.revs.empty()) {
    // DVC's iter_revs: each revision and its first parents, num in all (all of them when negative).
    std::set<std::string> baselines;
    for (auto& r : opts.revs) {
      auto id = git.resolve(r);
      if (!id) detail::raise(id.error());
      std::string cur = *id;
      for (int n = 0; opts.num < 0 || n < opts.num; ++n) {
        baselines.insert(cur);
        auto info = checked(git.commit_info(cur));
        if (info.parents.empty()) break;
        cur = info.parents[0];
      }
    }
    std::vector<std::string> names;
    for (auto& e : checked(exps::list_exp_refs(git)))
      if (baselines.count(e.ref.baseline)) {
        // DVC keys them by name: a name shared by two baselines is listed (and removed) once.
        auto it = std::find_if(selected.begin(), selected.end(), [&](auto& s) { return s.ref.name == e.ref.name; });
        if (it != selected.end()) {
          *it = e;
        } else {
          selected.push_back(e);
          removed.push_back(e.ref.name);
        }
      }
  } else if (opts.all_commits) {
    selected = checked(exps::list_exp_refs(git));
    for (auto& e : selected) removed.push_back(e.ref.name);
  }
  if (opts.keep) {
    std::vector<exps::ExpRefEntry> rest;
    for (auto& e : checked(exps::list_exp_refs(git)))
      if (std::none_of(selected.begin(), selected.end(), [&](auto& s) { return s.ref == e.ref; })) rest.push_back(e);
    selected = rest;
    removed.clear();
    for (auto& e : selected) removed.push_back(e.ref.name);
  }
  auto exec_apply = checked(git.ref_target(std::string(exps::k_exec_apply)));
  for (auto& e : selected) {
    if (exec_apply && *exec_apply == e.commit) checked(git.delete_ref(std::string(exps::k_exec_apply)));
    checked(git.delete_ref(e.ref.str()));
  }
  return removed;
}

std::vector<std::string> exp_rename(repo::Repo& repo, const std::string& exp, const std::string& new_name, bool force) {
  if (exp == new_name) return {};
  scm::Git& git = exp_git(repo);
  auto found = exps::resolve_names(git, {exp}, head_commit(git));
  auto& e = found[exp];
  if (!e) throw UserError("'" + exp + "' is not a valid experiment name", ExitCode::error);
  exps::ExpRef to{e->ref.baseline, new_name};
  if (checked(git.ref_target(to.str())) && !force) exps::raise_exists(new_name);
  exps::check_exp_name(to);
  checked(git.delete_ref(e->ref.str()));
  checked(git.set_ref(to.str(), e->commit));
  return {exp};
}

}  // namespace dvx::api
