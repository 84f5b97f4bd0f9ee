// Repo: the open DVC project. Finds the root, owns the config, the cache object databases, the
// state db, Git access and the repository lock, and indexes the tracked outputs of every .dvc
// file. Upper layers (api) get everything they need from here.
// Thread-safety: one Repo per command; not shared across threads (its parts parallelise).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dvx/base/user_error.h"
#include "dvx/config/config.h"
#include "dvx/formats/dvc_file.h"
#include "dvx/fs/ignore.h"
#include "dvx/odb/object_db.h"
#include "dvx/platform/files.h"
#include "dvx/repo/rwlock.h"
#include "dvx/scm/git.h"
#include "dvx/state/state_db.h"
#include "dvx/workspace/workspace.h"

namespace dvx::repo {

// One output of a .dvc file.
struct Output {
  std::string dvcfile;   // repo-relative path of the .dvc file
  size_t index = 0;      // position in its outs list
  std::string rel_path;  // repo-relative output path ('/' separated)
  std::string abs_path;
  formats::DvcOut entry;
  // 3.x entries (hash: md5) live in files/md5; entries without `hash` are 2.x (md5-dos2unix).
  odb::Layout layout() const { return entry.hash ? odb::Layout::v3 : odb::Layout::legacy; }
  hash::Algorithm algorithm() const { return odb::algorithm_for(layout()); }
  // The recorded object, if the entry has a hash.
  std::optional<odb::ObjectId> recorded() const;
};

// A parsed .dvc file and its outputs, or one stage of a dvc.yaml whose outputs are read from
// dvc.lock (pipeline stages are managed by the pipeline layer; here they only contribute
// their cached outputs to checkout, transfers, gc, diff, ls and data status).
struct DvcStage {
  std::string rel_path;  // repo-relative (.dvc file, or the dvc.lock of a pipeline stage)
  std::string abs_path;
  std::string pipeline_stage;  // stage name for dvc.lock stages, empty for .dvc files
  bool is_pipeline() const { return !pipeline_stage.empty(); }
  std::string text;      // original bytes (for round-trip updates)
  formats::DvcFile file;
  std::vector<Output> outs;
};

enum class LockWait { retry, forever };

// Whether an output's objects are all in the cache; a directory whose manifest is in the
// cache but cannot be read as one is "corrupted" (not "not in cache": fetching would not help
// unless the object is replaced).
enum class CacheState { complete, not_in_cache, corrupted };

class Repo {
 public:
  // Finds the project containing `cwd` (walks up to the file system root); throws
  // UserError(not_a_repo) when there is none.
  static std::unique_ptr<Repo> open(const std::string& cwd);
  // Repo root for a project being created (no checks).
  static std::optional<std::string> find_root(const std::string& cwd);

  const std::string& root() const { return m_root; }
  const std::string& cwd() const { return m_cwd; }
  std::string dvc_dir() const { return m_root + "/.dvc"; }
  std::string tmp_dir() const { return m_root + "/.dvc/tmp"; }

  config::Config& config() { return m_config; }
  const odb::ObjectDb& cache() const { return *m_cache; }
  state::StateDb* state();
  // Git of the work tree (opened on first use: commands that never ask don't pay for it);
  // nullptr in --no-scm projects and outside Git.
  scm::Git* git();
  const fs::IgnoreRules& ignore();
  workspace::Hasher& hasher();
  workspace::Context context();
  std::vector<platform::LinkType> link_types() const;
  unsigned jobs() const { return m_jobs; }

  // Takes the repository lock shared with DVC (flock on .dvc/tmp/lock), retrying ~3 s unless
  // told to wait forever; throws UserError with DVC's message on failure. Then honours the
  // path claims of running DVC stages (rwlock.h) for what the command touches (`scope`:
  // the whole repository unless narrowed, see scope_of_targets).
  void lock(LockWait wait, ExitCode code_on_failure, const LockScope& scope = {});
  // The paths user `targets` name (a `.dvc` file stands for its output path): nullopt-free
  // narrowing only when every target is a plain path; stage names, `dvc.yaml` files and
  // anything else fall back to the whole repository.
  LockScope scope_of_targets(const std::vector<std::string>& targets, bool write) const;

  // Every .dvc file of the workspace (sorted by path); parse errors throw UserError.
  const std::vector<DvcStage>& stages();
  // Re-reads the .dvc files after a command changed them.
  void reload_stages() {
    m_stages_loaded = false;
    m_lock_docs.clear();
  }
  // Hands over the parsed document of a dvc.lock (repo-relative) as stages() read it, or nullopt
  // when it was not read (or was taken, or the stages were reloaded since): the pipeline index
  // uses it instead of parsing the file a second time.
  std::optional<yaml::Node> take_lock_document(const std::string& rel_path) {
    auto it = m_lock_docs.find(rel_path);
    if (it == m_lock_docs.end()) return std::nullopt;
    std::optional<yaml::Node> doc(std::move(it->second));
    m_lock_docs.erase(it);
    return doc;
  }
  // Every dvc.yaml of the workspace (repo-relative, in walk order: a folder's file before its
  // subfolders'), found by the same walk as stages().
  const std::vector<std::string>& pipeline_files() {
    stages();
    return m_pipeline_files;
  }
  // Parses one .dvc file (repo-relative path); throws UserError on invalid content or paths
  // that escape the repository.
  DvcStage load_stage(const std::string& rel_path, const std::string& text) const;
  // The cached outputs recorded in a dvc.lock (repo-relative path), one DvcStage per stage;
  // `dvc_yaml` (may be empty) tells which outputs have `cache: false`.
  std::vector<DvcStage> load_lock(const std::string& rel_path, const std::string& lock_text,
                                  const std::string& dvc_yaml) const;

  // Whether `id` (and, for a directory, every file it lists) is in the cache. "All files of a
  // directory are in the cache" is remembered in the state db under the cache's fingerprint
  // (taken once per command), so a repeated check costs 256 stats.
  CacheState cache_state(const odb::ObjectId& id);

  // Path for messages: relative to the CWD.
  std::string display(const std::string& abs_path) const;
  // Absolute, normalised path of a user-given path (relative to the CWD).
  std::string absolute(const std::string& user_path) const;
  // Repo-relative path of an absolute one ("" for the root); nullopt when outside.
  std::optional<std::string> relative(const std::string& abs_path) const;

  // Progress reporting for long operations (hashing, checkout, transfers); may be empty.
  using Progress = std::function<void(const std::string& what, size_t done, size_t total)>;
  void set_progress(Progress p) { m_progress = std::move(p); }
  // Where the repository's own warnings go (e.g. stale DVC path claims removed).
  void set_warn(std::function<void(const std::string&)> w) { m_warn = std::move(w); }
  const Progress& progress() const { return m_progress; }

  // Files Git should learn about (absolute paths; for autostage or the hint).
  void track_for_git(const std::string& abs_path) { m_git_paths.push_back(abs_path); }
  std::vector<std::string> take_git_paths();

 private:
  Repo() = default;
  std::string m_root, m_cwd;
  config::Config m_config;
  std::unique_ptr<odb::ObjectDb> m_cache;
  std::optional<state::StateDb> m_state;
  bool m_state_tried = false;
  std::optional<scm::Git> m_git;
  bool m_git_tried = false;
  std::optional<fs::IgnoreRules> m_ignore;
  std::unique_ptr<workspace::Hasher> m_hasher;
  std::vector<DvcStage> m_stages;
  std::vector<std::string> m_pipeline_files;
  std::map<odb::Layout, odb::ObjectDb::Fingerprint> m_fingerprints;
  int m_cache_local = -1;  // the cache is on a local file system: 1, not: 0, unknown: -1
  bool m_stages_loaded = false;
  mutable std::map<std::string, yaml::Node> m_lock_docs;  // dvc.lock documents read by stages()
  std::optional<platform::FileLock> m_lock;
  std::vector<std::string> m_git_paths;
  Progress m_progress;
  std::function<void(const std::string&)> m_warn;
  void take_lock(LockWait wait, ExitCode code_on_failure);
  unsigned m_jobs = 2;
};

// The .dvc files and dvc.lock outputs of a Git commit, parsed (paths relative to the repo root;
// empty outside Git). An invalid file throws UserError naming it and the commit: a caller that
// skipped it would lose its outputs (gc's keep-set, transfers).
std::vector<DvcStage> stages_at(Repo& repo, const std::string& commit);

// DVC's lock failure message.
extern const char* const kLockErrorMessage;

}  // namespace dvx::repo
