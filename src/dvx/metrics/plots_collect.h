// Which plots a revision has and their data (DVC's Plots.collect()): top-level `plots:`
// definitions of every dvc.yaml, stage outputs under `plots:` (with their display properties),
// and files named as targets; each data file read once per revision from the workspace, the
// revision's Git tree, or the cache (outputs recorded in the revision's dvc.lock).
// Thread-safety: a RevisionFiles is used by one thread; distinct revisions may be read in parallel.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/formats/dvc_yaml.h"
#include "dvx/metrics/plots_render.h"
#include "dvx/repo/repo.h"

namespace dvx::metrics {

// A revision of the project as plots see it: its pipelines and its files (repo-relative paths).
class RevisionFiles {
 public:
  virtual ~RevisionFiles() = default;
  // The revision's name in outputs: "workspace", or the revision as the user wrote it.
  virtual const std::string& name() const = 0;
  // Every dvc.yaml of the revision (repo-relative), parsed, in DVC's index order.
  virtual std::vector<std::pair<std::string, formats::DvcYaml>> pipelines() = 0;
  // The bytes of a file; nullopt when there is no such file.
  virtual Result<std::optional<std::string>> read(const std::string& rel) = 0;
  // The files below a directory (repo-relative, sorted); nullopt when `rel` is not a directory.
  virtual std::optional<std::vector<std::string>> list_dir(const std::string& rel) = 0;
};

// The workspace (files on disk, dvc.yaml files as the pipeline index finds them).
std::unique_ptr<RevisionFiles> workspace_files(repo::Repo& repo);
// A Git revision: files of its tree, and outputs recorded in its dvc.lock files read from the
// cache. Throws UserError for a revision Git does not know.
std::unique_ptr<RevisionFiles> git_revision_files(repo::Repo& repo, const std::string& rev);

// DVC's PLOT_PROPS given on the command line (template, x, y, x_label, y_label, title, header),
// only those set.
using PlotProps = Json;

// Collects one revision: definitions (by config file; "" for stage outputs and targets) and the
// content or error of every data file they use. `targets` are repo-relative; they match plot ids
// and paths as regular expressions anchored at the start, as DVC does.
RevisionPlots collect_revision(RevisionFiles& files, const std::vector<std::string>& targets, const PlotProps& props);

// The display properties of a stage's plot output (its option mapping, only DVC's PLOT_PROPS).
Json plot_output_props(const formats::StageOut& out);

}  // namespace dvx::metrics
