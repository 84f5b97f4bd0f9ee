// Metrics and params of revisions and their differences (cli.md §6.3, §6.4): reading the
// collected files into values (metrics keep only numbers, strings and booleans; params are
// filtered to the tracked keys), DVC's per-revision results, the diff of two revisions, and
// their JSON shapes and text tables.
// Thread-safety: pure functions over the results; gather_* read through a RevisionTree.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvx/metrics/collect.h"
#include "dvx/metrics/format.h"

namespace dvx::metrics {

// One file of a revision: its values, or why it could not be read.
struct FileResult {
  std::string path;  // repo-relative (the api makes it CWD-relative)
  std::optional<yaml::Node> data;
  std::optional<ErrorEntry> error;
};

// One revision: its files, or the error that stopped it (e.g. an invalid dvc.yaml).
struct RevisionResult {
  std::string name;  // brancher name: "", "workspace", "HEAD~1", "master,v1", a sha
  std::vector<FileResult> files;
  std::optional<ErrorEntry> error;
  // A file or the revision failed (DVC: "DVC failed to load some metrics for following revisions").
  bool failed() const;
};

// Values of one metrics file: numbers, strings and booleans and mappings holding them (lists,
// nulls and empty mappings dropped); a scalar document stays a scalar, anything else is {}.
// Parse failures read "unable to read: '<path from the CWD to /rel>', JSON file structure is
// corrupted" (type JSONFileCorruptedError; YAML/TOML/Python likewise), as DVC's file system
// names them.
FileResult read_metrics_file(RevisionTree& tree, const std::string& rel);
// Values of one params file: the whole document, or only the listed dotted keys (nested as in
// the file, in the order the keys are listed).
FileResult read_params_file(RevisionTree& tree, const ParamsFile& file);

// Every metrics (params) file of one revision; a revision that cannot be collected (an invalid
// dvc.yaml, an unreadable .dvc file) gets `error`.
RevisionResult gather_metrics(repo::Repo& repo, const Revision& rev, const std::vector<std::string>& targets);
// The same through an open tree (`exp show` reads metrics, params, deps and outs from one tree);
// `name` names the revision.
RevisionResult gather_metrics(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets);
RevisionResult gather_params(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets,
                             bool deps_only);
RevisionResult gather_params(repo::Repo& repo, const Revision& rev, const std::vector<std::string>& targets,
                             bool deps_only);

// DVC's _hide_workspace: drops the "workspace" entry when it equals the entry named exactly as
// the active branch.
void hide_workspace(std::vector<RevisionResult>& results, const std::optional<std::string>& active_branch);

// {rev: {"data": {file: {"data": ...} | {"error": {...}}}} | {"error": {...}}}.
nlohmann::ordered_json show_json(const std::vector<RevisionResult>& results);
// `metrics show` table: [Revision,] Path, then every flattened key sorted by code point; one row
// per (revision, file); floats rounded to `precision` decimals.
Table show_table(const std::vector<RevisionResult>& results, bool with_revision, int precision);

// One changed (or, with --all, unchanged) key.
struct KeyDiff {
  std::string key;  // flattened, "" for a scalar file
  std::optional<yaml::Node> old_value, new_value;  // nullopt: absent
  std::optional<yaml::Node> diff;                  // new - old when both are numbers
};
struct FileDiff {
  std::string path;
  std::vector<KeyDiff> keys;
};
// DVC's utils.diff over two revisions' files (lists compared as their str() form); files and
// keys that did not change are left out unless `with_unchanged`.
std::vector<FileDiff> diff(const RevisionResult* old_rev, const RevisionResult* new_rev, bool with_unchanged);
// {file: {key: {"old": v, "new": v[, "diff": d]}}}.
nlohmann::ordered_json diff_json(const std::vector<FileDiff>& diffs);
// `metrics diff` / `params diff` table: Path, <title>, a_rev, b_rev[, Change], keys sorted per
// file; `fmt` rounds values and changes (metrics) or not (params). A change that cannot be
// computed reads `on_empty_diff` (`exp diff`: "diff not supported").
Table diff_table(const std::vector<FileDiff>& diffs, const std::string& title, const std::string& a_rev,
                 const std::string& b_rev, bool no_path, bool show_change, const CellFormat& fmt,
                 const std::string& on_empty_diff = "-");

}  // namespace dvx::metrics
