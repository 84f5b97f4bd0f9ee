// Which plots a revision has and their data (DVC's Plots.collect()): top-level `plots:`
// definitions of every dvc.yaml, stage outputs under `plots:` (with their display properties),
// and files named as targets; each data file read once per revision through collect's
// RevisionTree (the workspace, the revision's Git tree, or the cache).
// Thread-safety: as the RevisionTree it is given (one per thread).
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/formats/dvc_yaml.h"
#include "dvx/metrics/collect.h"
#include "dvx/metrics/plots_render.h"
#include "dvx/repo/repo.h"

namespace dvx::metrics {

// DVC's PLOT_PROPS given on the command line (template, x, y, x_label, y_label, title, header),
// only those set.
using PlotProps = Json;

// Collects one revision: definitions (by config file; "" for stage outputs and targets) and the
// content or error of every data file they use. `targets` are repo-relative; they match plot ids
// and paths as regular expressions anchored at the start, as DVC does.
// `name` is the revision's name in outputs ("workspace", or the revision as the user wrote it).
RevisionPlots collect_revision(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets,
                               const PlotProps& props);

// The display properties of a stage's plot output (its option mapping, only DVC's PLOT_PROPS).
Json plot_output_props(const formats::StageOut& out);

}  // namespace dvx::metrics
