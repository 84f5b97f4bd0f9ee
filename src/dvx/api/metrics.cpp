// metrics show/diff and params diff: cli.md §6.3, §6.4. Collection and values come from the
// metrics layer; here revisions are selected and paths made relative to the CWD.
#include "dvx/api/api.h"
#include "dvx/platform/files.h"

namespace dvx::api {

namespace fsx = dvx::platform;

namespace {

std::vector<std::string> repo_relative(repo::Repo& repo, const std::vector<std::string>& targets) {
  std::vector<std::string> out;
  for (auto& t : targets)
    if (auto rel = repo.relative(repo.absolute(t))) out.push_back(*rel);
  return out;
}

std::string from_cwd(const repo::Repo& repo, const std::string& rel) {
  return fsx::relative_path(rel.empty() ? repo.root() : repo.root() + "/" + rel, repo.cwd());
}

void paths_from_cwd(const repo::Repo& repo, metrics::RevisionResult& r) {
  for (auto& f : r.files) f.path = from_cwd(repo, f.path);
}

enum class What { metrics, params };

CompareResult compare(repo::Repo& repo, const CompareOptions& opts, What what) {
  CompareResult res;
  auto* git = repo.git();
  if (!git) return res;
  if (auto has = git->has_commits(); !has || !*has) return res;
  auto targets = repo_relative(repo, opts.targets);
  auto revs = metrics::select_revisions(repo, {{opts.a_rev, opts.b_rev}});
  std::vector<metrics::RevisionResult> results;
  for (auto& rev : revs) {
    // Only the two compared revisions are read (the brancher also yields an unused workspace).
    if (rev.name != opts.a_rev && rev.name != opts.b_rev) continue;
    results.push_back(what == What::metrics ? metrics::gather_metrics(repo, rev, targets)
                                            : metrics::gather_params(repo, rev, targets, opts.deps_only));
    if (results.back().error)
      res.warnings.push_back(std::string("failed to load ") + (what == What::metrics ? "metrics" : "params") +
                             " in revision '" + rev.name + "', " + results.back().error->msg);
  }
  auto find = [&](const std::string& name) -> const metrics::RevisionResult* {
    for (auto& r : results)
      if (r.name == name) return &r;
    return nullptr;
  };
  const auto* a = find(opts.a_rev);
  const auto* b = find(opts.b_rev);
  if (a && a->failed()) res.errored.push_back(opts.a_rev);
  if (b && b->failed() && opts.b_rev != opts.a_rev) res.errored.push_back(opts.b_rev);
  res.diffs = metrics::diff(a, b, opts.all);
  for (auto& d : res.diffs) d.path = from_cwd(repo, d.path);
  return res;
}

}  // namespace

MetricsShowResult metrics_show(repo::Repo& repo, const MetricsShowOptions& opts) {
  MetricsShowResult res;
  auto targets = repo_relative(repo, opts.targets);
  auto revs = metrics::select_revisions(repo, {{}, opts.all_branches, opts.all_tags, opts.all_commits});
  for (auto& rev : revs) res.revisions.push_back(metrics::gather_metrics(repo, rev, targets));
  metrics::hide_workspace(res.revisions, metrics::active_branch(repo));
  for (auto& r : res.revisions) {
    paths_from_cwd(repo, r);
    if (r.failed()) res.errored.push_back(r.name);
  }
  return res;
}

CompareResult metrics_diff(repo::Repo& repo, const CompareOptions& opts) { return compare(repo, opts, What::metrics); }
CompareResult params_diff(repo::Repo& repo, const CompareOptions& opts) { return compare(repo, opts, What::params); }

}  // namespace dvx::api
