// `exp show` and `exp diff` (cli.md §6.5, §6.8; DVC's repo/experiments/{collect,show,diff}.py and
// commands/experiments/show.py): the state of the workspace, of each baseline commit and of the
// experiments derived from it (params, metrics, path deps and outputs read through
// metrics::RevisionTree, each commit once, in parallel), DVC's JSON shape, and the table DVC
// builds from it (columns, --sort-by, --keep/--drop/--only-changed, the Experiment column).
// Queued, running and failed experiments come from the queue (queue.h); a running one is read
// from its temporary work tree, so its metrics are the ones written so far.
// Thread-safety: collect() uses the Repo from the calling thread and opens one more Repo per
// worker thread; everything else is pure.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvx/experiments/exp_refs.h"
#include "dvx/metrics/format.h"
#include "dvx/metrics/show.h"

namespace dvx::experiments {

// A path dependency of a stage with what dvc.lock (or the .dvc file) recorded for it.
struct ExpDep {
  std::optional<std::string> hash;  // md5 value ("...dir" for folders)
  std::optional<int64_t> size, nfiles;
};
// An output that is not a metric or plot.
struct ExpOut {
  ExpDep recorded;
  bool use_cache = true;
  bool is_data_source = false;  // output of a .dvc file
};

// DVC's SerializableExp: what one revision holds.
struct ExpData {
  std::string rev;                 // "workspace" or the commit sha
  std::optional<int64_t> time;     // commit time (seconds); nullopt for the workspace
  std::vector<metrics::FileResult> params, metrics;  // repo-relative paths
  std::vector<std::pair<std::string, ExpDep>> deps;  // first-seen order, last value wins
  std::vector<std::pair<std::string, ExpOut>> outs;
};

// DVC's ExpExecutor/LocalExpExecutor: how a queued, running, failed or queue-made experiment
// ran.
struct ExpExecutor {
  std::string state;                // "queued", "running", "success", "failed"
  std::optional<std::string> name;  // "dvc-task", "tempdir"; none for failed runs
  struct Local {
    std::optional<std::string> root, log;
    std::optional<int64_t> pid;
    std::optional<int> returncode;
    std::optional<std::string> task_id;
  };
  std::optional<Local> local;
};

struct ExpState;
// One experiment (DVC's ExpRange): its commits newest first (more than one only for experiments
// made of several commits on top of the baseline).
struct ExpRange {
  std::vector<ExpState> revs;
  std::string name;
  std::optional<ExpExecutor> executor;
};
// DVC's ExpState: a baseline (or the workspace) or one commit of an experiment.
struct ExpState {
  std::string rev;                  // "workspace" or the commit sha
  std::optional<std::string> name;  // branch/tag name of a baseline, experiment name
  std::optional<ExpData> data;
  std::optional<metrics::ErrorEntry> error;  // the revision could not be read
  std::optional<std::vector<ExpRange>> experiments;  // baselines only (null without any)
};

// Reads one revision ("workspace" or a commit sha) through `repo`.
ExpState collect_rev(repo::Repo& repo, const std::string& rev, bool param_deps);

struct ShowOptions {
  BaselineSelection baselines;
  bool hide_workspace = false;
  bool sha_only = false;    // --sha: baselines not named by branch/tag
  bool param_deps = false;  // only params that are stage dependencies
  bool hide_queued = false, hide_failed = false;
};
// The workspace (unless hidden), then each selected baseline with its experiments sorted newest
// first. Empty for a repository without commits. An unknown --rev throws UserError.
std::vector<ExpState> collect(repo::Repo& repo, const ShowOptions& opts);

// `exp show --json`: the list of records exactly as DVC dumps it.
nlohmann::ordered_json show_json(const std::vector<ExpState>& states);

// How the text, Markdown and CSV forms are built (CmdExperimentsShow + show_experiments).
struct TableOptions {
  bool csv = false;               // keep rev/typ/parent columns, ISO times, raw values
  std::optional<int> precision;   // significant digits (table and --md: always 5)
  std::optional<std::string> sort_by;
  bool sort_desc = false;
  std::vector<std::string> keep, drop;  // Python regexes matched at the start of column names
  bool only_changed = false;
};
enum class ColumnKind { info, metric, param, dep };
struct ExpTable {
  metrics::Table table;
  std::vector<ColumnKind> kinds;  // per column
  // metrics/params/deps columns but the first of their group may collapse in a narrow console
  std::vector<bool> collapsible;
};
// The table; an unknown or ambiguous --sort-by throws UserError (DVC's messages).
ExpTable tabulate(const std::vector<ExpState>& states, const TableOptions& opts);

// `exp diff`: metrics and params of two revisions (a: HEAD by default, b: the workspace), each
// resolved as a Git revision or experiment name; unchanged keys only with `all`.
struct DiffResult {
  std::vector<metrics::FileDiff> metrics, params;
};
DiffResult diff(repo::Repo& repo, const std::optional<std::string>& a_rev, const std::optional<std::string>& b_rev,
                bool all, bool param_deps);

}  // namespace dvx::experiments
