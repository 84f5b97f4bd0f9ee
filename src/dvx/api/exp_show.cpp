// exp show / exp diff / exp list: the read side of experiments (cli.md §6.5, §6.8). The work is
// in the experiments layer; here the repository's Git is checked.
#include <algorithm>
#include <set>

#include "dvx/api/api.h"

namespace dvx::api {

namespace {

scm::Git& git_of(repo::Repo& repo) {
  auto* git = repo.git();
  if (!git)
    throw UserError("Only supported for Git repositories. If you're seeing this error in a Git repo, try updating the DVC configuration with `dvc config core.no_scm false`.");
  return *git;
}

}  // namespace

std::vector<experiments::ExpState> exp_show(repo::Repo& repo, const experiments::ShowOptions& opts) {
  return experiments::collect(repo, opts);
}

experiments::DiffResult exp_diff(repo::Repo& repo, const std::optional<std::string>& a_rev,
                                 const std::optional<std::string>& b_rev, bool all, bool param_deps) {
  return experiments::diff(repo, a_rev, b_rev, all, param_deps);
}

std::vector<ExpListBaseline> exp_list(repo::Repo& repo, const ExpListOptions& opts) {
  auto& git = git_of(repo);
  std::vector<ExpListBaseline> out;
  auto add = [&](const std::string& baseline, const std::string& name, const std::string& sha) {
    auto it = std::find_if(out.begin(), out.end(), [&](auto& b) { return b.baseline == baseline; });
    if (it == out.end()) {
      out.push_back({baseline, baseline.substr(0, 7), {}});
      it = out.end() - 1;
    }
    it->experiments.emplace_back(name, sha);
  };
  if (!opts.git_remote.empty()) {
    experiments::ExpSelection sel;
    sel.revs = opts.revs;
    sel.num = opts.num;
    sel.all_commits = opts.all_commits;
    // DVC shows no sha for a remote's experiments.
    for (auto& e : experiments::select_experiments(git, experiments::remote_exp_refs(git, opts.git_remote), sel))
      add(e.ref.baseline, e.ref.name, "");
  } else {
    auto refs = experiments::read_exp_refs(git, experiments::RefNames::strict);
    std::optional<std::set<std::string>> wanted;
    if (!opts.all_commits) {
      experiments::BaselineSelection sel;
      sel.revs = opts.revs.empty() ? std::vector<std::string>{"HEAD"} : opts.revs;
      sel.num = opts.num;
      auto revs = experiments::select_baselines(git, sel, refs);
      wanted.emplace(revs.begin(), revs.end());
    }
    for (auto& r : refs)
      if (!wanted || wanted->count(r.baseline)) add(r.baseline, r.name, r.target);
  }
  if (opts.describe) {
    std::vector<std::string> shas;
    for (auto& b : out) shas.push_back(b.baseline);
    auto names = experiments::describe(git, shas);
    for (auto& b : out)
      if (auto n = names.find(b.baseline); n != names.end()) b.name = n->second;
  }
  return out;
}

}  // namespace dvx::api
