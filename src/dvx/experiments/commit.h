// How DVC 3.64 commits an experiment (dvc/repo/experiments/executor/base.py): which files it
// stages (each stage's files, the top-level metrics/params/plots of every dvc.yaml), the
// experiment hash that names it in the default message, and the commit itself — a child of the
// baseline holding the index plus every tracked change of the work tree (`git add -u`) plus the
// staged paths — stored at the experiment's ref without moving HEAD.
// Thread-safety: one call per Repo/Git at a time.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/experiments/refs.h"
#include "dvx/formats/dvc_lock.h"
#include "dvx/pipeline/index.h"
#include "dvx/repo/repo.h"

namespace dvx::experiments {

// DVC's hash_exp: sha256 of json.dumps({stage name: dvc.lock entry}, sort_keys=True) of the
// pipeline stages given (sha256 of "{}" for none).
std::string exp_hash(const std::vector<std::pair<std::string, formats::LockStage>>& entries);

// DVC's _get_stage_files: the stage's dvc.yaml and dvc.lock (a .dvc file for data sources), its
// in-repo dependencies that no stage outputs (params files included), its uncached outputs;
// repo-relative.
std::vector<std::string> stage_git_paths(const pipeline::Index& index, size_t i);

// DVC's _get_top_level_paths: top-level `metrics:` and `params:` files of every dvc.yaml, then
// the top-level plots' data sources (a plot's `y`/`x` files, else its id), repo-relative.
std::vector<std::string> top_level_paths(repo::Repo& repo);

// Throws DVC's ExperimentExistsError (255): "Experiment conflicts with existing experiment
// '<name>'. To overwrite the existing experiment run:\n\n\tdvc exp <command> -f ...\n\n".
[[noreturn]] void raise_exists(const std::string& name, const std::string& command = "run");

struct ExpCommit {
  ExpRef ref;                          // baseline and name
  std::string exp_hash;                // for the default message
  std::optional<std::string> message;  // -m
  bool force = false;                  // replace an existing experiment of that name
  std::vector<std::string> paths;      // repo-relative paths to stage besides `git add -u`
  bool force_paths = false;            // stage them even when Git ignores them (exp save -I)
};

// Commits the work tree as the experiment (the index file and HEAD are left alone) and points
// its ref at the commit. An existing ref without `force`: the old commit is kept when its tree
// is the same, else ExperimentExistsError naming the full ref (DVC's _raise_ref_conflict).
// Returns the commit id.
std::string commit_experiment(scm::Git& git, const ExpCommit& c);

}  // namespace dvx::experiments
