// Where queued and `--temp` experiments run (DVC's TempDirExecutor, formats.md §12.3): the queue
// commit that records the workspace as queued, the temporary Git work tree under
// .dvc/tmp/exps/ in which a run happens (its objects borrowed from the repository through Git's
// alternates, its DVC cache the repository's), and the way the experiment commit made there comes
// back (its new Git objects copied into the repository, then its ref set there).
// Thread-safety: functions over the Git/Repo objects passed in, one thread per object.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "dvx/experiments/queue.h"
#include "dvx/repo/repo.h"
#include "dvx/scm/git.h"

namespace dvx::experiments {

// DVC's stash message: "dvc-exp:<head>:<baseline>:<name>".
std::string queue_commit_message(const std::string& head, const std::string& baseline, const std::string& name);

// The tree of the workspace as `git stash -u` would take it (tracked changes and untracked,
// not ignored files), computed once per `exp run --queue`.
Result<std::string> workspace_snapshot_tree(scm::Git& git);

// A queue commit: `tree` with `files` (repo-relative path, new content: the -S rewrites)
// overlaid, a child of `head`, kept alive by Queue::task_ref(). Returns its id.
Result<std::string> make_queue_commit(scm::Git& git, const std::string& tree,
                                      const std::vector<std::pair<std::string, std::string>>& files,
                                      const std::string& head, const std::string& baseline, const std::string& name);

// Creates <exps_dir>/tmpXXXXXXXX: a Git repository borrowing the objects of `main_git`, HEAD
// detached at the task's baseline with the index at the baseline, the files of the queue commit
// written, .dvc/config.local pointing the DVC cache at `cache_dir`, and each of `copy_paths`
// (workspace-relative paths of the main repository, files or folders; -C) copied from
// `main_root`. Returns the folder; on failure nothing is left behind.
Result<std::string> make_temp_workspace(const scm::Git& main_git, const std::string& exps_dir,
                                        const QueueTask& task, const std::string& cache_dir,
                                        const std::string& main_root, const std::vector<std::string>& copy_paths);

// Copies every loose object of Git directory `from` that `to` lacks into `to` (atomically: a
// temp file then a rename), so a commit made in a temporary work tree is readable in the
// repository.
Status import_git_objects(const std::string& from_git_dir, const std::string& to_git_dir);

}  // namespace dvx::experiments
