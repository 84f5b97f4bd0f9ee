// `exp push`, `exp pull`, `exp list <git_remote>`, `exp remove -g`: experiments and Git remotes
// (DVC 3.64's dvc/repo/experiments/push.py, pull.py, ls.py, remove.py).
#include <set>

#include "dvx/api/api.h"
#include "dvx/api/internal.h"
#include "dvx/experiments/exp_refs.h"

namespace dvx::api {

namespace {

std::vector<std::string> names_of(const std::vector<experiments::ExpRefEntry>& exps) {
  std::vector<std::string> out;
  for (auto& e : exps) out.push_back(e.ref.name);
  return out;
}

std::vector<experiments::ExpRefEntry> local_exps(scm::Git& git) {
  auto all = experiments::list_exp_refs(git);
  if (!all) throw UserError(all.error().message, ExitCode::error);
  return *all;
}

// The experiments' commits as the revisions whose outputs travel (not the workspace's).
TransferOptions transfer_for(scm::Git& git, const ExpRemoteOptions& opts,
                             const std::vector<experiments::ExpRefEntry>& exps) {
  TransferOptions t = opts.transfer;
  t.revs = experiments::exp_commits(git, exps);
  t.workspace = false;
  return t;
}

}  // namespace

ExpPushResult exp_push(repo::Repo& repo, const ExpRemoteOptions& opts) {
  auto& git = detail::exp_git(repo);
  auto selected = experiments::select_experiments(git, local_exps(git), opts.select);
  auto sync = experiments::push_experiments(git, opts.git_remote, selected, opts.force);
  ExpPushResult res{names_of(sync.success), names_of(sync.up_to_date), names_of(sync.diverged), 0, std::nullopt};
  if (!opts.cache) return res;
  auto pushed = sync.up_to_date;
  pushed.insert(pushed.end(), sync.success.begin(), sync.success.end());
  // DVC pushes the run-cache even when no experiment moved.
  if (pushed.empty() && !opts.transfer.run_cache) return res;
  try {
    res.uploaded = push(repo, transfer_for(git, opts, pushed)).transferred;
  } catch (const std::exception& e) {
    res.cache_error = e.what();
  }
  return res;
}

ExpPullResult exp_pull(repo::Repo& repo, const ExpRemoteOptions& opts) {
  auto& git = detail::exp_git(repo);
  auto remote = experiments::remote_exp_refs(git, opts.git_remote);
  auto selected = experiments::select_experiments(git, remote, opts.select);
  auto sync = experiments::pull_experiments(git, opts.git_remote, selected, opts.force);
  ExpPullResult res{names_of(sync.success), names_of(sync.diverged), 0};
  if (!opts.cache) return res;
  auto pulled = sync.up_to_date;
  pulled.insert(pulled.end(), sync.success.begin(), sync.success.end());
  if (pulled.empty() && !opts.transfer.run_cache) return res;
  res.downloaded = fetch(repo, transfer_for(git, opts, pulled)).transferred;
  return res;
}

std::vector<std::string> exp_remove_remote(repo::Repo& repo, const ExpRemoveOptions& opts,
                                           const std::string& git_remote) {
  if (opts.keep && opts.queue) throw UserError("Cannot use both `--keep` and `--queue`.", ExitCode::error);
  if (opts.queue) throw UserError("`--queue` cannot be used with a Git remote.", ExitCode::error);
  auto& git = detail::exp_git(repo);
  auto remote = experiments::remote_exp_refs(git, git_remote);
  experiments::ExpSelection sel;
  sel.names = opts.names;
  sel.revs = opts.revs;
  sel.num = opts.num;
  sel.all_commits = opts.all_commits;
  auto selected = experiments::select_experiments(git, remote, sel, git_remote);
  std::vector<std::string> removed = opts.names.empty() ? names_of(selected) : opts.names;
  if (opts.keep) {
    std::set<std::string> chosen;
    for (auto& e : selected) chosen.insert(e.ref.str());
    std::vector<experiments::ExpRefEntry> rest;
    for (auto& e : remote)
      if (!chosen.count(e.ref.str())) rest.push_back(e);
    selected = rest;
    removed = names_of(selected);
  }
  experiments::remove_remote_experiments(git, git_remote, selected);
  return removed;
}

}  // namespace dvx::api
