// Which files are metrics and params at a revision, and reading them there (cli.md §6.3, §6.4;
// formats.md §6.1-6.3, §8). A revision is the workspace or a Git commit: its dvc.yaml files
// (parsed by formats::parse_dvc_yaml, vars files read from the same revision) say which files
// are metrics (top-level `metrics:`, stage outputs under `metrics:`), params (stage `params:`
// dependencies, top-level `params:`, the default params.yaml) or plots; the files are read
// from the workspace or the commit's Git tree, and a DVC-tracked output that is not there is
// read from the cache through that revision's dvc.lock/.dvc entries (fetched from the default
// remote when the cache lacks it, as DVC's data file system does).
// Also the revisions `-a/-T/-A` and `a_rev b_rev` select, named as DVC names them.
// Thread-safety: a RevisionTree uses the Repo (and its Git) and is not thread-safe; use one
// per thread with its own Repo.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "dvx/formats/dvc_yaml.h"
#include "dvx/formats/yaml.h"
#include "dvx/metrics/error_entry.h"
#include "dvx/repo/repo.h"

namespace dvx::metrics {

// posixpath.normpath(posixpath.join(dir, path)), as DVC joins a path written in a dvc.yaml (or a
// stage's wdir) to its folder: repo-relative, "." for the root itself.
std::string join_repo_path(const std::string& dir, const std::string& path);

// One dvc.yaml of a revision, parsed.
struct PipelineFile {
  std::string rel;  // repo-relative path of the dvc.yaml
  std::string dir;  // repo-relative folder of it ("" at the root)
  formats::DvcYaml yaml;
};

// A DVC-tracked output recorded at a revision (.dvc file or dvc.lock entry with a hash).
struct TrackedOutput {
  std::string rel;  // repo-relative path
  odb::ObjectId id;
};

// The files of one revision: the workspace or a commit.
class RevisionTree {
 public:
  // The workspace: files on disk; a tracked output missing from disk is read from the cache.
  static std::unique_ptr<RevisionTree> workspace(repo::Repo& repo);
  // The tree of `commit` (a resolved 40-hex id): files from Git; tracked outputs from the cache.
  static std::unique_ptr<RevisionTree> at_commit(repo::Repo& repo, const std::string& commit);
  virtual ~RevisionTree() = default;

  repo::Repo& repo() const { return *m_repo; }
  // The commit id, or nullopt for the workspace.
  const std::optional<std::string>& commit() const { return m_commit; }

  // Bytes of a repo-relative file, or the ErrorEntry DVC reports: FileNotFoundError
  // "[Errno 2] No such file or directory: '<rel>'" when it is neither in the tree nor a tracked
  // output, "[Errno 2] No storage files available: '<rel>'" when it is a tracked output whose
  // object is neither in the cache nor on the default remote.
  std::variant<std::string, ErrorEntry> read(const std::string& rel);
  // Files below a repo-relative folder (in the tree or inside a tracked directory output),
  // sorted; nullopt when `rel` is not a folder at this revision.
  std::optional<std::vector<std::string>> list_dir(const std::string& rel);
  // `rel` itself, or the files below it when it is a folder (DVC's try_expand_paths).
  std::vector<std::string> expand(const std::string& rel);

  // Every dvc.yaml of the revision in DVC's index order (a folder's file before its
  // subfolders'). A file that cannot be parsed throws UserError (the revision fails).
  const std::vector<PipelineFile>& pipelines();
  // Tracked outputs recorded at this revision (workspace: the current .dvc files/dvc.lock).
  const std::vector<TrackedOutput>& outputs();

 protected:
  RevisionTree(repo::Repo& repo, std::optional<std::string> commit) : m_repo(&repo), m_commit(std::move(commit)) {}
  // Bytes of a file of the tree itself (workspace or Git); nullopt when absent or not a file.
  virtual std::optional<std::string> read_tree_file(const std::string& rel) = 0;
  // Files below a folder of the tree itself; nullopt when not a folder.
  virtual std::optional<std::vector<std::string>> list_tree_dir(const std::string& rel) = 0;
  // dvc.yaml files of the tree (repo-relative).
  virtual std::vector<std::string> pipeline_file_names() = 0;
  // The recorded outputs of the tree.
  virtual std::vector<TrackedOutput> load_outputs() = 0;

 private:
  repo::Repo* m_repo;
  std::optional<std::string> m_commit;
  std::optional<std::vector<PipelineFile>> m_pipelines;
  std::optional<std::vector<TrackedOutput>> m_outputs;
  // The object of a tracked output (or of a file inside a tracked directory) for `rel`.
  std::optional<odb::ObjectId> tracked_object(const std::string& rel);
  std::optional<std::string> read_object(const odb::ObjectId& id);
};

// ---- which files ----------------------------------------------------------------------------

// Metrics files of a revision, repo-relative, without duplicates, in DVC's order: stage
// `metrics:` outputs (stages in index order), then top-level `metrics:` of each dvc.yaml;
// folders expanded to their files. With `targets` (repo-relative) only those, expanded.
std::vector<std::string> metrics_files(RevisionTree& tree, const std::vector<std::string>& targets);

// One params file and the dotted keys to show (empty: the whole file).
struct ParamsFile {
  std::string path;  // repo-relative
  std::vector<std::string> keys;
};
// Params files of a revision in DVC's order: stage `params:` dependencies merged per file
// (a file tracked whole anywhere is shown whole), then, unless `deps_only`, top-level
// `params:` files and the default params.yaml when it exists, all shown whole. With `targets`
// (repo-relative) only those, whole.
std::vector<ParamsFile> params_files(RevisionTree& tree, const std::vector<std::string>& targets, bool deps_only);

// Plots outputs of the stages (kind plot) of a revision, repo-relative, with their stage
// options; for the plots commands.
struct PlotOutput {
  std::string rel;
  const formats::StageOut* def = nullptr;  // owned by the tree's pipelines()
  const PipelineFile* file = nullptr;
};
std::vector<PlotOutput> plot_outputs(RevisionTree& tree);

// ---- which revisions ------------------------------------------------------------------------

// A revision to read: "workspace", or a commit with the name DVC prints for it.
struct Revision {
  std::string name;                   // "workspace", "HEAD~1", "master,v1", a full sha (-A)
  std::optional<std::string> commit;  // resolved id; nullopt for the workspace
};

// DVC's brancher: the workspace first, then the commits of `revs` (as typed), every branch
// (-a), tag (-T) or commit (-A), grouped by commit in first-seen order, each named by the
// comma-joined names that led to it. Without any of them: one revision named "" (the
// workspace). An unknown revision in `revs` throws UserError.
struct RevisionSelection {
  std::vector<std::string> revs;
  bool all_branches = false, all_tags = false, all_commits = false;
};
std::vector<Revision> select_revisions(repo::Repo& repo, const RevisionSelection& sel);

// The active branch's short name when HEAD is on a branch (DVC hides the workspace's entry when
// it equals this branch's).
std::optional<std::string> active_branch(repo::Repo& repo);

// The tree of a revision.
std::unique_ptr<RevisionTree> open_revision(repo::Repo& repo, const Revision& rev);

}  // namespace dvx::metrics
