#include "dvx/experiments/commit.h"

#include <algorithm>

#include "dvx/base/user_error.h"
#include "dvx/hash/sha256.h"
#include "dvx/metrics/collect.h"
#include "dvx/platform/files.h"

namespace dvx::experiments {
namespace {

[[noreturn]] void raise(const Error& e) { throw UserError(e.message, ExitCode::error); }

// Repo-relative path of `file` written in the dvc.yaml of folder `dir` (normalised).
std::string join_rel(const std::string& dir, const std::string& file) {
  std::string p = platform::normalize_path(dir.empty() ? file : dir + "/" + file);
  while (p.starts_with("./")) p.erase(0, 2);
  return p;
}

bool inside(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

}  // namespace

std::string exp_hash(const std::vector<std::pair<std::string, formats::LockStage>>& entries) {
  return hash::sha256_hex(formats::lock_stages_json(entries));
}

std::vector<std::string> stage_git_paths(const pipeline::Index& index, size_t i) {
  const pipeline::Stage& st = index.stage(i);
  std::vector<std::string> out{st.file_rel};
  if (!st.is_dvc_file()) out.push_back(st.lock_rel);
  auto is_output = [&](const std::string& rel) {
    for (auto& other : index.stages())
      for (auto& o : other.outs)
        if (!o.rel.empty() && inside(rel, o.rel)) return true;
    return false;
  };
  for (auto& d : st.deps)
    if (!d.rel.empty() && !is_output(d.rel)) out.push_back(d.rel);
  for (auto& p : st.params)
    if (!p.rel.empty() && !is_output(p.rel)) out.push_back(p.rel);
  for (auto& o : st.outs)
    if (!o.rel.empty() && !o.def.cache) out.push_back(o.rel);
  return out;
}

std::vector<std::string> top_level_paths(repo::Repo& repo) {
  auto tree = metrics::RevisionTree::workspace(repo);
  std::vector<std::string> metrics_paths, params_paths, plot_paths;
  for (auto& pf : tree->pipelines()) {
    for (auto& m : pf.yaml.metrics) metrics_paths.push_back(join_rel(pf.dir, m));
    for (auto& p : pf.yaml.params) params_paths.push_back(join_rel(pf.dir, p));
    if (!pf.yaml.plots.is_sequence()) continue;
    for (auto& item : pf.yaml.plots.seq) {
      if (item.is_string()) {
        plot_paths.push_back(join_rel(pf.dir, item.s));
        continue;
      }
      if (!item.is_mapping()) continue;
      for (auto& [id, props] : item.map) {
        const yaml::Node* y = props.is_mapping() ? props.find("y") : nullptr;
        if (y != nullptr && y->is_mapping()) {
          for (auto& [file, _] : y->map) plot_paths.push_back(join_rel(pf.dir, file));
          const yaml::Node* x = props.find("x");
          if (x != nullptr && x->is_mapping())
            for (auto& [file, _] : x->map) plot_paths.push_back(join_rel(pf.dir, file));
        } else {
          plot_paths.push_back(join_rel(pf.dir, id));
        }
      }
    }
  }
  std::vector<std::string> out = std::move(metrics_paths);
  out.insert(out.end(), params_paths.begin(), params_paths.end());
  out.insert(out.end(), plot_paths.begin(), plot_paths.end());
  return out;
}

void raise_exists(const std::string& name, const std::string& command) {
  throw UserError("Experiment conflicts with existing experiment '" + name +
                      "'. To overwrite the existing experiment run:\n\n\tdvc exp " + command + " -f ...\n\n",
                  ExitCode::error);
}

std::string commit_experiment(scm::Git& git, const ExpCommit& c) {
  std::string ref = c.ref.str();
  auto existing = git.ref_target(ref);
  if (!existing) raise(existing.error());
  auto tree = git.workspace_tree(c.paths, c.force_paths);
  if (!tree) raise(tree.error());
  if (*existing && !c.force) {
    // DVC commits, then keeps the old experiment when nothing differs from it.
    auto old = git.commit_info(**existing);
    if (!old) raise(old.error());
    if (old->tree != *tree) raise_exists(ref);
    return **existing;
  }
  std::string message = c.message ? *c.message : "dvc: commit experiment " + c.exp_hash;
  auto commit = git.create_commit(*tree, {c.ref.baseline}, message);
  if (!commit) raise(commit.error());
  if (auto s = git.set_ref(ref, *commit); !s) raise(s.error());
  return *commit;
}

}  // namespace dvx::experiments
