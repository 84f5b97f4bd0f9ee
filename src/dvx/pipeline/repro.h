// `repro` (behaviour.md §4): the plan (ancestors in depth-first post-order, --downstream,
// -p/-P, -s), change detection per stage, restoring outputs from the stage's own dvc.lock entry
// or the run-cache, running commands through the shell, saving outputs and writing dvc.lock,
// and the scheduler that runs independent stages concurrently (`-j N`).
// Thread-safety: reproduce() is called once per command. With jobs > 1 only the stage commands
// run concurrently; checks, saves and dvc.lock writes are serialised (one mutex), and the hooks
// are never called from two threads at once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dvx/pipeline/index.h"
#include "dvx/workspace/workspace.h"

namespace dvx::pipeline {

struct ReproOptions {
  std::vector<std::string> targets;
  bool force = false, single_item = false, pipeline = false, all_pipelines = false, recursive = false;
  bool downstream = false, force_downstream = false, dry = false, interactive = false;
  bool no_commit = false, no_run_cache = false, allow_missing = false, glob = false;
  bool keep_going = false, ignore_errors = false, pull = false;
  unsigned jobs = 1;
};

// What the engine needs from the layer above: output, questions, and the data operations that
// are shared with add/commit/pull (saving an output into the cache and relinking it, .gitignore
// upkeep, committing a .dvc data source, fetching missing objects).
struct ReproIo {
  std::function<void(const std::string&)> out;    // one line on stdout
  std::function<void(const std::string&)> warn;   // "WARNING: ..." on stderr
  std::function<void(const std::string&)> error;  // "ERROR: ..." on stderr (failures kept going)
  std::function<bool(const std::string&)> confirm;
  // Hashes an output (error "output '<p>' does not exist" when missing); with `save`, stores it
  // in the cache and relinks it as add/commit do. Returns its state.
  std::function<workspace::OutputState(const Stage&, const Out&, bool save)> save_out;
  // Adds the .gitignore entries of cached outputs (repository-relative paths, in order). Called
  // in batches, when dvc.lock is written.
  std::function<void(const std::vector<std::string>&)> gitignore;
  // Commits a changed .dvc data source (its outputs' new hashes into the .dvc file).
  std::function<void(const Stage&)> commit_dvc;
  // --pull: fetches the objects of these outputs' ids from the default remote; returns whether
  // all arrived.
  std::function<bool(const std::vector<odb::ObjectId>&)> fetch;
};

struct ReproResult {
  size_t reproduced = 0;             // stages run, restored or verified
  std::vector<size_t> reproduced_stages;  // their indexes in the Index, in the order they finished
  std::vector<std::string> failed;   // addresses of stages that failed (-k / --ignore-errors)
};

// The stages `repro` would consider, in order.
std::vector<size_t> plan(const Index& index, const ReproOptions& opts);

// Reproduces; throws UserError with DVC's messages ("failed to reproduce 'x': ..."), exit 252
// on SIGINT/SIGTERM after keeping the dvc.lock entries of the stages that finished.
ReproResult reproduce(Index& index, const ReproOptions& opts, const ReproIo& io);

// Records stage i as it is now, as `commit` does: hashes deps and params, saves the outputs
// into the cache (relinked), updates its dvc.lock entry and the run-cache. Throws UserError
// ("output '<p>' does not exist", missing deps or params).
void commit_stage(Index& index, size_t i, const ReproIo& io);

}  // namespace dvx::pipeline
