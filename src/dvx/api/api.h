// One function per user operation. Each takes the open Repo (or a path for init) and plain
// options, does the work, and returns a plain result struct; nothing here prints. Failures
// the user must see are thrown as UserError with DVC's message and exit code.
// Thread-safety: one operation per Repo at a time.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/experiments/remote.h"
#include "dvx/experiments/show.h"
#include "dvx/formats/yaml_edit.h"
#include "dvx/metrics/show.h"
#include "dvx/pipeline/repro.h"
#include "dvx/pipeline/status.h"
#include "dvx/repo/repo.h"

namespace dvx::api {

// Lines a command asks the user to confirm with [y/n]; returns the answer.
using Confirm = std::function<bool(const std::string& question)>;

// ---- init / destroy / install -------------------------------------------------------------
struct InitOptions {
  std::string directory = ".";
  bool no_scm = false, subdir = false, force = false;
};
struct InitResult {
  std::string root;
  bool git = true;
};
InitResult init(const std::string& cwd, const InitOptions& opts);

void destroy(repo::Repo& repo, bool force, const Confirm& confirm);
void install_hooks(repo::Repo& repo);

// ---- add / commit / remove / move / unprotect ---------------------------------------------
struct AddOptions {
  std::vector<std::string> targets;
  bool glob = false, no_commit = false, no_relink = false, force = false;
  std::optional<std::string> out;
  // Receives warnings (printed "WARNING: ..."), e.g. a corrupted cache file that was repaired.
  std::function<void(const std::string& text)> warn;
};
void add(repo::Repo& repo, const AddOptions& opts);

struct CommitOptions {
  std::vector<std::string> targets;
  bool force = false, recursive = false, no_relink = false;
};
// Returns warnings to print (e.g. empty outputs).
std::vector<std::string> commit(repo::Repo& repo, const CommitOptions& opts, const Confirm& confirm);

void remove(repo::Repo& repo, const std::vector<std::string>& targets, bool outs);
void move(repo::Repo& repo, const std::string& src, const std::string& dst);
void unprotect(repo::Repo& repo, const std::vector<std::string>& targets);

// ---- status / checkout --------------------------------------------------------------------
// One stage's report: ordered items as in `dvc status --json`.
struct StageStatus {
  std::string name;  // .dvc path relative to the CWD, or the stage's address
  std::vector<pipeline::DepChange> changed_deps;                  // pipeline stages
  std::vector<std::pair<std::string, std::string>> changed_outs;  // display path -> status
  bool always_changed = false;
  bool changed_checksum = false;
  bool changed_command = false;  // pipeline stages
};
struct StatusOptions {
  std::vector<std::string> targets;
  bool recursive = false;
};
struct StatusResult {
  std::vector<StageStatus> stages;  // only stages with something to report
  bool no_stages = false;           // the project tracks nothing
  std::vector<std::string> warnings;  // frozen stages
};
StatusResult status(repo::Repo& repo, const StatusOptions& opts);

struct CheckoutOptions {
  std::vector<std::string> targets;
  bool force = false, relink = false, recursive = false, allow_missing = false;
  // Outputs whose objects are missing are reported in CheckoutResult::failure instead of
  // thrown (pull prints what it checked out, then fails).
  bool report_failure = false;
  // Receives warnings as they happen (printed "WARNING: ..."), e.g. corrupted cache files.
  std::function<void(const std::string& text)> warn;
  // Sorted; may be null: objects just fetched by this command (TransferSummary::trusted),
  // checked out without being read again.
  const std::vector<odb::ObjectId>* trusted = nullptr;
};
struct CheckoutResult {
  std::vector<std::string> modified, added, deleted;  // display paths, dirs end with '/'
  int64_t files_added = 0, files_modified = 0, files_deleted = 0;
  std::optional<std::string> failure;  // with report_failure: what could not be checked out
};
CheckoutResult checkout(repo::Repo& repo, const CheckoutOptions& opts);

// ---- remotes: push / fetch / pull / status -c ----------------------------------------------
struct TransferOptions {
  std::vector<std::string> targets;
  std::optional<std::string> remote;
  std::optional<unsigned> jobs;
  bool recursive = false, all_branches = false, all_tags = false, all_commits = false;
  bool run_cache = false;  // also transfer the run-cache (`runs/`)
  // Also these commits' outputs (read from Git), as DVC's `revs=`; without `workspace` only
  // theirs (and -a/-T/-A's), not the workspace's (`exp push`/`exp pull`).
  std::vector<std::string> revs;
  bool workspace = true;
  // Receives warnings as they happen (prefixed "WARNING: " by the caller unless plain).
  std::function<void(const std::string& text, bool plain)> warn;
};
struct TransferSummary {
  size_t transferred = 0;
  std::vector<std::string> warnings;  // printed as "WARNING: ..." on stderr
  // fetch: the objects that arrived hashed on the way, sorted: a checkout right after may use
  // them without reading them again.
  std::vector<odb::ObjectId> trusted;
};
TransferSummary push(repo::Repo& repo, const TransferOptions& opts);
TransferSummary fetch(repo::Repo& repo, const TransferOptions& opts);
struct PullResult {
  TransferSummary fetched;
  CheckoutResult checkout;
  // Set when something could not be fetched or checked out. Like DVC, pull fetches and checks
  // out everything else first; the caller prints that, then fails with this message.
  std::optional<std::string> failure;
};
PullResult pull(repo::Repo& repo, const TransferOptions& opts, bool force, bool allow_missing);

struct CloudStatus {
  std::string remote_name;
  std::vector<std::pair<std::string, std::string>> entries;  // name -> new|deleted|missing
};
CloudStatus status_cloud(repo::Repo& repo, const TransferOptions& opts);

// Name of the remote a transfer uses (-r or core.remote); throws DVC's config errors.
std::string pick_remote(repo::Repo& repo, const std::optional<std::string>& name, const std::string& command);

// ---- gc / cache -----------------------------------------------------------------------------
struct GcOptions {
  bool workspace = false, force = false, dry = false;
  bool all_branches = false, all_tags = false, all_commits = false;
  std::optional<std::string> rev;  // keep this commit (and num-1 predecessors)
  int num = 1;
  bool cloud = false, not_in_remote = false;
  std::optional<std::string> remote;
  std::optional<unsigned> jobs;
};
// Returns the message lines to print.
std::vector<std::string> gc(repo::Repo& repo, const GcOptions& opts, const Confirm& confirm,
                            const std::function<void(const std::string&)>& warn);
std::vector<std::string> cache_migrate(repo::Repo& repo, bool dvc_files, bool dry);

// ---- fsck / cache verify (api/fsck.cpp) ----------------------------------------------------------
struct FsckOptions {
  bool all_branches = false, all_tags = false, all_commits = false;
  bool cache_only = false;             // every object of the cache, referenced or not
  std::optional<std::string> remote;   // also check this remote (listing)
  bool deep = false;                   // ... downloading and hashing each object
  bool repair = false;
  std::optional<unsigned> jobs;
};
struct FsckProblem {
  // missing, corrupted, malformed (a .dir that does not parse), mismatch (size/nfiles differ from
  // the record), unreadable, stray (a leftover temp file), remote-missing, remote-corrupted,
  // remote-unreadable
  std::string kind;
  std::string oid;          // "" for stray files
  bool legacy = false;      // a 2.x (md5-dos2unix) object
  std::string name;         // the output (or <dir>/<file>) that references it; a stray file's path
  std::string detail;
  bool repaired = false;
  std::string repaired_from;  // "workspace", "remote '<name>'", "removed"
};
struct FsckResult {
  size_t checked = 0, checked_remote = 0;
  std::vector<FsckProblem> problems;
  bool ok() const {
    return std::all_of(problems.begin(), problems.end(), [](const FsckProblem& p) { return p.repaired; });
  }
};
// Checks (and with opts.repair repairs) the cache and optionally a remote; never throws for a
// problem found, only when it cannot look (no remote of that name, an unreadable cache folder).
FsckResult fsck(repo::Repo& repo, const FsckOptions& opts, const std::function<void(const std::string&)>& progress);

// ---- diff / data status / ls ---------------------------------------------------------------
struct DiffEntry {
  std::string path;      // repo-relative; directories end with '/'
  std::string old_path;  // renames only
  std::string old_hash, new_hash;
};
struct DiffResult {
  std::vector<DiffEntry> added, deleted, modified, renamed, not_in_cache;
  bool workspace = true;  // b_rev is the workspace
};
DiffResult diff(repo::Repo& repo, const std::optional<std::string>& a_rev, const std::optional<std::string>& b_rev,
                const std::vector<std::string>& targets);

struct DataStatusOptions {
  std::vector<std::string> targets;
  bool granular = false, unchanged = false, untracked = false;
};
struct DataStatus {
  std::vector<std::string> not_in_cache;
  std::map<std::string, std::vector<std::string>> committed, uncommitted;  // added/deleted/modified/unknown
  std::vector<std::string> untracked, unchanged;
  bool git_has_changes = false;
};
DataStatus data_status(repo::Repo& repo, const DataStatusOptions& opts);

struct LsEntry {
  std::string path;
  bool isout = false, isdir = false, isexec = false;
  std::optional<int64_t> size;
  std::optional<std::string> md5;
};
std::vector<LsEntry> ls(repo::Repo& repo, const std::optional<std::string>& path, bool recursive, bool dvc_only);

// ---- pipelines (api/pipeline.cpp) ------------------------------------------------------------
struct ReproOutput {
  std::function<void(const std::string&)> out, warn, error;
  Confirm confirm;
};
// Reproduces (behaviour.md §4); returns the number of stages run, restored or verified.
size_t repro(repo::Repo& repo, const pipeline::ReproOptions& opts, const ReproOutput& io);

struct StageListOptions {
  std::vector<std::string> targets;
  bool all = false, recursive = false, fail = false;
};
struct StageListEntry {
  std::string address, description;
};
std::vector<StageListEntry> stage_list(repo::Repo& repo, const StageListOptions& opts);

// `stage add`: writes the stage into the CWD's dvc.yaml (comments and layout kept), adds the
// .gitignore entries of its cached outputs; returns the message "Added stage 'x' in 'dvc.yaml'".
// The project's graph is checked with the new stage first (duplicate/overlapping outputs,
// cycles): on an error nothing is written.
std::string stage_add(repo::Repo& repo, const formats::StageAddSpec& spec);

// `freeze` / `unfreeze`: returns the lines to print ("Modifying stage 'x' in 'dvc.yaml'").
std::vector<std::string> freeze(repo::Repo& repo, const std::vector<std::string>& targets, bool frozen);

// The graph `dag` draws: stage addresses (or output paths with `outs`) in DVC's graph order,
// and edges (dependent, dependency) in the order DVC adds them. With a target: the target and
// its ancestors, or its whole connected pipeline with `full`.
struct DagResult {
  std::vector<std::string> nodes;
  std::vector<std::pair<size_t, size_t>> edges;
};
DagResult dag(repo::Repo& repo, const std::optional<std::string>& target, bool full, bool outs);

// ---- metrics / params (cli.md §6.3, §6.4) -------------------------------------------------
struct MetricsShowOptions {
  std::vector<std::string> targets;  // paths as given (relative to the CWD)
  bool all_branches = false, all_tags = false, all_commits = false;
};
struct MetricsShowResult {
  // Per revision, file paths relative to the CWD; the workspace entry hidden as DVC hides it.
  std::vector<metrics::RevisionResult> revisions;
  std::vector<std::string> errored;  // names of revisions where something failed to load
};
// `metrics show`. An unknown revision throws DVC's error (255).
MetricsShowResult metrics_show(repo::Repo& repo, const MetricsShowOptions& opts);

struct CompareOptions {
  std::string a_rev = "HEAD", b_rev = "workspace";
  std::vector<std::string> targets;  // paths as given (relative to the CWD)
  bool all = false;        // keep unchanged keys
  bool deps_only = false;  // params: only stage dependencies
};
struct CompareResult {
  std::vector<metrics::FileDiff> diffs;  // file paths relative to the CWD
  std::vector<std::string> errored;      // a_rev and/or b_rev when something failed to load
  // "failed to load metrics (params) in revision '<rev>', <why>" for a revision that failed whole.
  std::vector<std::string> warnings;
};
// `metrics diff` / `params diff` between two revisions ("workspace" is the workspace); empty in
// a repository without commits.
CompareResult metrics_diff(repo::Repo& repo, const CompareOptions& opts);
CompareResult params_diff(repo::Repo& repo, const CompareOptions& opts);

// ---- experiments: show / diff / list (cli.md §6.5, §6.8) ----------------------------------
// `exp show`: the workspace and the selected baselines with their experiments (empty without
// commits). An unknown --rev throws "unknown Git revision '<rev>'".
std::vector<experiments::ExpState> exp_show(repo::Repo& repo, const experiments::ShowOptions& opts);
// `exp diff [a_rev] [b_rev]`: revisions or experiment names, HEAD and the workspace by default.
experiments::DiffResult exp_diff(repo::Repo& repo, const std::optional<std::string>& a_rev,
                                 const std::optional<std::string>& b_rev, bool all, bool param_deps);

struct ExpListOptions {
  std::vector<std::string> revs;  // baselines (HEAD by default)
  int num = 1;                    // first-parent commits from each
  bool all_commits = false;       // every experiment, whatever its baseline
  bool describe = true;           // name the baselines (not needed for --name-only/--sha-only)
  std::string git_remote;         // list this Git remote's experiments (no shas) instead
};
struct ExpListBaseline {
  std::string baseline;  // sha
  std::string name;      // branch/tag name, else the 7-char sha
  std::vector<std::pair<std::string, std::string>> experiments;  // (name, commit sha)
};
// `exp list [<git_remote>]`: experiments grouped by baseline in ref order.
std::vector<ExpListBaseline> exp_list(repo::Repo& repo, const ExpListOptions& opts);

// ---- experiments: run, save, apply, branch, remove, rename (api/experiments.cpp) ------------
// Every operation needs Git with a commit: "Only supported for Git repositories. ..." (255)
// without Git; a repository without commits fails as DVC does ("unexpected error - Empty git
// repo", thrown as std::runtime_error).
struct ExpRunOptions {
  pipeline::ReproOptions repro;            // targets and repro flags, passed through
  std::optional<std::string> name;         // -n (empty: generated)
  std::vector<std::string> set_params;     // -S, "[<file>:]<override>"
  std::optional<std::string> message;      // -m
  std::vector<std::string> copy_paths;     // -C: copied into the temporary work tree
};
struct ExpRunResult {
  std::string name;    // the experiment's name
  std::string commit;  // its commit id
  std::string ref;     // refs/exps/<baseline[:2]>/<baseline[2:]>/<name>
};
// `exp run` in the workspace (DVC's workspace queue): -S overrides written into the params
// files, "Reproducing experiment '<name>'" then the repro output on `io`, then the work tree
// committed as the experiment (commit_experiment) with HEAD and the work tree left as they are
// and the index reset to HEAD, as DVC leaves them.
ExpRunResult exp_run(repo::Repo& repo, const ExpRunOptions& opts, const ReproOutput& io);

struct ExpSaveOptions {
  std::vector<std::string> targets;            // limit the `dvc commit` to these
  std::optional<std::string> name;             // -n
  bool recursive = false, force = false;
  std::vector<std::string> include_untracked;  // -I, staged even when ignored
  std::optional<std::string> message;          // -m
  std::function<void(const std::string&)> warn;
};
// `exp save`: `dvc commit -f` of the stages, then the work tree committed as an experiment.
ExpRunResult exp_save(repo::Repo& repo, const ExpSaveOptions& opts);

// `exp apply`: the experiment's files written into the work tree (files it does not hold are
// kept), the index reset to HEAD, DVC outputs checked out (forced); the previous work tree is
// kept first at refs/exps/apply/stash as `git stash` would keep it (HEAD, index and untracked
// files as parents). `rev` is an
// experiment name, a full ref or a Git revision.
void exp_apply(repo::Repo& repo, const std::string& rev);

struct ExpBranchResult {
  std::string branch, name;
};
// `exp branch`: a Git branch (default "<name>-branch") at the experiment's commit.
ExpBranchResult exp_branch(repo::Repo& repo, const std::string& exp, const std::optional<std::string>& branch);

struct ExpRemoveOptions {
  std::vector<std::string> names;
  std::vector<std::string> revs;  // --rev: experiments of these baselines
  int num = 1;                    // -n: and of num-1 first parents of each
  bool all_commits = false, keep = false, queue = false;
};
// `exp remove`: the names removed, in DVC's order (empty: "No experiments to remove.").
std::vector<std::string> exp_remove(repo::Repo& repo, const ExpRemoveOptions& opts);

// ---- experiments and Git remotes (api/exp_remote.cpp): exp push / pull / list / remove -g ----
struct ExpRemoteOptions {
  std::string git_remote;             // a configured Git remote's name or a URL
  experiments::ExpSelection select;   // names, -A, --rev, -n
  bool force = false;                 // -f
  bool cache = true;                  // off with --no-cache
  TransferOptions transfer;           // -r, -j, --run-cache, warnings (revs filled in here)
};
struct ExpPushResult {
  std::vector<std::string> success, up_to_date, diverged;  // experiment names
  size_t uploaded = 0;
  std::optional<std::string> cache_error;  // why pushing the data failed (refs were pushed)
};
// `exp push`: the selected local experiments' refs to the Git remote, then (unless --no-cache)
// the data of those pushed or already there to the DVC remote.
ExpPushResult exp_push(repo::Repo& repo, const ExpRemoteOptions& opts);
struct ExpPullResult {
  std::vector<std::string> success, diverged;  // experiment names
  size_t downloaded = 0;
};
// `exp pull`: the selected remote experiments' refs fetched, then (unless --no-cache) the data
// of those fetched or already here from the DVC remote into the cache (the workspace is not
// checked out).
ExpPullResult exp_pull(repo::Repo& repo, const ExpRemoteOptions& opts);
// `exp remove -g <git_remote>`: deletes the selected experiments on the remote; the names
// removed (DVC's order and messages; "Experiment '<n>' does not exist in '<remote>'" for unknown
// names).
std::vector<std::string> exp_remove_remote(repo::Repo& repo, const ExpRemoveOptions& opts,
                                           const std::string& git_remote);

// ---- the experiment queue (api/exp_queue.cpp; experiments/queue.h keeps its files) -----------
// `exp run --queue`: one queue task per -S sweep combination (DVC's get_hydra_sweeps; with -n,
// names "<name>-1", "<name>-2", ...), each the workspace as it is plus that combination's params
// rewrites, the workspace untouched. `on_queued(overrides, name)` is called per task, with the
// overrides as DVC prints them ("{'params.yaml': ['lr=0.3']}", empty without -S).
void exp_queue(repo::Repo& repo, const ExpRunOptions& opts,
               const std::function<void(const std::string& overrides, const std::string& name)>& on_queued);
// `exp run --temp` (and --dry): the experiment run in a temporary work tree under .dvc/tmp/exps
// while the repository is left as it is; output on `io`. Throws like `exp run`.
ExpRunResult exp_run_temp(repo::Repo& repo, const ExpRunOptions& opts, const ReproOutput& io);
// `exp exec-run <task>` (internal, the process a queue worker starts): runs one claimed task in a
// temporary work tree, output on `io`; its result is stored in the task. Throws on failure.
ExpRunResult exp_exec_task(repo::Repo& repo, const std::string& task_id, const ReproOutput& io);

// `queue start -j N`: background workers until N are alive; returns how many were started.
int queue_start(repo::Repo& repo, int jobs);
// `exp queue-worker` (internal): takes queued tasks one at a time until the queue is empty or a
// stop is asked; `lock_fd` is its registry lock, inherited from `queue start`.
int queue_worker(repo::Repo& repo, int lock_fd, const std::string& registry_file);
struct QueueStatusEntry {
  std::string id, name, status;  // status: Running, Queued, Failed, Success
  int64_t created = 0;
};
struct QueueStatus {
  std::vector<QueueStatusEntry> tasks;  // running, queued, failed, then successful (DVC's order)
  int active = 0, idle = 0;             // workers
};
QueueStatus queue_status(repo::Repo& repo);
// `queue logs`: the task's output so far; with `follow`, `out` gets it as it grows until the run
// ends. Errors as DVC's ("Experiment '<n>' is in queue but has not been started", "'<n>' is not a
// valid queued experiment name").
void queue_logs(repo::Repo& repo, const std::string& task, bool follow,
                const std::function<void(std::string_view)>& out);
struct QueueRemoveOptions {
  std::vector<std::string> tasks;
  bool all = false, queued = false, success = false, failed = false;
};
// `queue remove`: the names (or short ids) removed, in DVC's order.
std::vector<std::string> queue_remove(repo::Repo& repo, const QueueRemoveOptions& opts);
// `queue kill`: interrupts (SIGINT; SIGKILL with force) running tasks; `killed` gets each name
// given. Unknown or not running names: "'<n>' is not a valid running experiment name" (255).
void queue_kill(repo::Repo& repo, const std::vector<std::string>& tasks, bool force,
                const std::function<void(const std::string&)>& killed);
// `queue stop`: workers exit after their task; with kill, running tasks are killed first.
void queue_stop(repo::Repo& repo, bool kill);
// `exp clean`: what a crash can leave of the queue — refs/exps/temp/queue/<id> whose task file
// is gone, and temporary work trees (.dvc/tmp/exps/tmp*) that no live run uses. Returns how many
// of each were removed.
struct ExpCleanResult {
  size_t refs = 0, trees = 0;
};
ExpCleanResult exp_clean(repo::Repo& repo);
// `exp run --run-all -j N`: workers started, then each queued (and running) task's output
// followed on `out` until it ends. Returns (names that succeeded, names that failed).
std::pair<std::vector<std::string>, std::vector<std::string>> exp_run_all(
    repo::Repo& repo, int jobs, const std::function<void(std::string_view)>& out);

// `exp rename`: the names renamed (empty when old and new names are the same).
std::vector<std::string> exp_rename(repo::Repo& repo, const std::string& exp, const std::string& new_name, bool force);

}  // namespace dvx::api
