// The stage graph of a project (behaviour.md §4.2): every stage of every dvc.yaml (after
// generators and interpolation) and every .dvc file, their deps and outs resolved to paths,
// the edges "B depends on A" when a dep of B is, contains or is inside an output of A, and
// DVC's errors for duplicate and overlapping outputs and cycles. Also target resolution
// (`stage`, `file:stage`, `dvc.yaml`, `.dvc` files, `--glob`) and stage addressing.
// Thread-safety: built once per command, then read-only (shared by parallel repro workers).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dvx/formats/dvc_lock.h"
#include "dvx/formats/dvc_yaml.h"
#include "dvx/repo/repo.h"

namespace dvx::pipeline {

struct Dep {
  std::string written;  // as in dvc.yaml (relative to wdir)
  std::string abs;      // normalised absolute path
  std::string rel;      // repo-relative, "" when outside the repository
};

struct ParamsDep {
  std::string written;  // file as in dvc.yaml
  std::string abs, rel;
  std::vector<std::string> keys;  // dotted keys (empty with whole_file)
  bool whole_file = false;
};

struct Out {
  std::string written;  // as in dvc.yaml / the .dvc file
  std::string abs, rel;  // rel is repo-relative
  formats::StageOut def;
};

struct Stage {
  std::string file_rel;  // repo-relative dvc.yaml or .dvc file
  std::string name;      // stage name; empty for a .dvc file
  std::string lock_rel;  // repo-relative dvc.lock (pipeline stages)
  formats::StageDef def;              // pipeline stages
  const repo::DvcStage* dvc = nullptr;  // .dvc stages (owned by the Repo)
  std::string wdir_abs;
  std::vector<Dep> deps;
  std::vector<ParamsDep> params;
  std::vector<Out> outs;
  bool frozen = false, always_changed = false;

  bool is_dvc_file() const { return dvc != nullptr; }
  // A stage with a command and neither deps nor outputs ("callback" stage): always changed.
  bool is_callback() const { return !is_dvc_file() && deps.empty() && params.empty() && outs.empty(); }
};

class Index {
 public:
  // Loads every stage of the project. Parse errors of dvc.yaml files throw UserError (exit 255);
  // graph errors (duplicate/overlapping outputs, cycles) are raised by check().
  static std::unique_ptr<Index> load(repo::Repo& repo);
  // The same, but a dvc.yaml that fails to load is left out when `skip_broken(file_rel)` says so
  // (`stage list -R` without --fail lists what loads, as DVC does).
  static std::unique_ptr<Index> load(repo::Repo& repo, const std::function<bool(const std::string&)>& skip_broken);

  repo::Repo& repo() const { return *m_repo; }
  const std::vector<Stage>& stages() const { return m_stages; }
  const Stage& stage(size_t i) const { return m_stages[i]; }
  // Stages whose outputs stage i depends on / stages depending on stage i's outputs.
  // Frozen stages keep their upstream edges here; planners skip them (behaviour.md §4.2).
  const std::vector<size_t>& upstream(size_t i) const { return m_up[i]; }
  const std::vector<size_t>& downstream(size_t i) const { return m_down[i]; }

  // DVC's errors: an output in two stages, outputs inside one another, a dependency cycle.
  void check() const;

  // How messages name a stage: bare name for the CWD's dvc.yaml, else "<dvc.yaml from CWD>:<name>";
  // for .dvc files their path from the CWD.
  std::string address(size_t i) const;

  // Stages a target names: "name", "path/dvc.yaml:name", "path/dvc.yaml", "x.dvc", a folder
  // (its dvc.yaml); with glob, fnmatch patterns on names. Throws DVC's errors.
  std::vector<size_t> resolve(const std::string& target, bool glob) const;
  // Stages of the CWD's dvc.yaml (repro/status without targets use every stage).
  std::vector<size_t> default_targets() const;

  // The parsed dvc.lock next to a dvc.yaml (loaded on first use; empty when absent).
  formats::DvcLock& lock(const std::string& lock_rel) const;
  bool lock_exists(const std::string& lock_rel) const;
  // The recorded entry of a pipeline stage, nullopt when none.
  std::optional<formats::LockStage> lock_entry(size_t i) const;
  // The same without a copy (valid until the dvc.lock is next changed), nullptr when none.
  const formats::LockStage* lock_entry_ptr(size_t i) const;
  // Writes a dvc.lock from its (edited) lock() document, atomically, and records it for Git.
  void write_lock(const std::string& lock_rel) const;

 private:
  repo::Repo* m_repo = nullptr;
  std::vector<Stage> m_stages;
  std::vector<std::vector<size_t>> m_up, m_down;
  mutable std::map<std::string, std::unique_ptr<formats::DvcLock>> m_locks;
  mutable std::map<std::string, bool> m_lock_exists;
  void build_graph();
};

// Reads a dvc.yaml (repo-relative) of the project; `display` names it in errors.
formats::DvcYaml read_dvc_yaml(repo::Repo& repo, const std::string& rel);
// Bytes of a repo-relative file of some tree (the workspace, a Git commit); an error with code
// not_found when it is absent.
using TreeReader = std::function<Result<std::string>(const std::string& rel)>;
// The same, with the dvc.yaml and its vars/params files read through `read` (a Git commit's tree).
formats::DvcYaml read_dvc_yaml(repo::Repo& repo, const std::string& rel, const TreeReader& read);

}  // namespace dvx::pipeline
