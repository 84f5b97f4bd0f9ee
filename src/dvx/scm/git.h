// Git access for dvx through libgit2: repository discovery, index queries and `git add`,
// revisions and reading DVC files at a commit, status, repository config, and the
// `.gitignore` upkeep DVC does for its outputs (formats.md §10.2).
// libgit2 stays behind this header: no libgit2 type appears here.
// Thread-safety: a Git object must be used by one thread at a time (libgit2 repository objects
// are not safe for concurrent use); distinct Git objects may be used concurrently. The free
// functions are safe on distinct .gitignore files.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::scm {

// One reference and the commit it leads to (symbolic refs followed, tags peeled).
struct RefTarget {
  std::string name;    // full name, "refs/heads/main"
  std::string target;  // 40-hex id of the object it names (symbolic refs followed); "" if none
  std::string commit;  // 40-hex id of the commit it leads to (tags peeled); "" when none
};

// What `git cat-file commit` tells about a commit.
struct CommitInfo {
  std::string id;                    // 40-hex
  std::string tree;                  // 40-hex
  std::vector<std::string> parents;  // in order (first parent first)
  int64_t time = 0;                  // committer time, seconds since the epoch
  std::string message;               // raw, as stored
};

// Whether a status query counts untracked (not ignored) files as changes.
enum class Untracked { include, exclude };

class Git {
 public:
  Git(Git&&) noexcept;
  Git& operator=(Git&&) noexcept;
  Git(const Git&) = delete;
  Git& operator=(const Git&) = delete;
  ~Git();

  // Opens the repository whose work tree contains `path` (searching upwards; a missing path is
  // searched from its nearest existing parent); nullopt when there is none or it is bare.
  static Result<std::optional<Git>> discover(const std::string& path);
  // Creates an empty non-bare repository at `path` (for tests and tools).
  static Status init_repo(const std::string& path);

  // Absolute work tree path, no trailing slash.
  std::string work_tree() const;
  // Absolute .git directory of this work tree (per-worktree for linked worktrees), no trailing slash.
  std::string git_dir() const;
  // Absolute common .git directory (where hooks/ and config live), no trailing slash.
  std::string common_dir() const;

  // True if Git tracks `rel_path` (relative to the work tree): a file in the index, or a
  // directory with tracked files below it. "" or "." asks whether anything is tracked.
  // Re-reads the index from disk when it changed.
  Result<bool> is_tracked(const std::string& rel_path) const;
  // True if Git's ignore rules (.gitignore files, .git/info/exclude, core.excludesFile) ignore the
  // path or one of its parent directories, like `git check-ignore --no-index`. Always sees the
  // current contents of the ignore files.
  Result<bool> is_ignored(const std::string& rel_path) const;
  // `git add -f` of each path: files are staged, directories recursively (skipping ignored
  // files), paths that no longer exist are removed from the index. Writes the index.
  Status add(const std::vector<std::string>& rel_paths);

  // "HEAD", "HEAD~1", a branch, tag or (short) sha -> 40-hex commit id;
  // not_found ("unknown Git revision '<rev>'") when it names no commit.
  Result<std::string> resolve(const std::string& rev) const;
  // False for a repository whose HEAD is unborn (no commit yet).
  Result<bool> has_commits() const;
  // Bytes of `rel_path` in the tree of `commit` (any revision resolve() accepts); nullopt when
  // the path does not exist there or is not a file.
  Result<std::optional<std::string>> read_file_at(const std::string& commit,
                                                  const std::string& rel_path) const;
  // Every file path in the tree of `commit` that ends with ".dvc" or whose name is "dvc.yaml" or
  // "dvc.lock" (recursive, '/'-separated, sorted).
  Result<std::vector<std::string>> list_dvc_files_at(const std::string& commit) const;
  // Every file below the folder `dir_rel` in the tree of `commit` ('/'-separated paths relative
  // to the work tree, recursive, sorted); nullopt when `dir_rel` is not a folder there.
  Result<std::optional<std::vector<std::string>>> list_files_at(const std::string& commit,
                                                                const std::string& dir_rel) const;

  // Short name of the branch HEAD points to (also when it has no commit yet); nullopt when HEAD
  // is detached.
  Result<std::optional<std::string>> current_branch() const;
  // Local branch names (short, sorted).
  Result<std::vector<std::string>> branches() const;
  // Tag names (sorted).
  Result<std::vector<std::string>> tags() const;
  // Ids of every commit reachable from HEAD, local branches, tags and remote-tracking branches
  // (newest first); empty in a repository without commits.
  Result<std::vector<std::string>> all_commits() const;

  // Every reference whose full name starts with `prefix` ("refs/exps/", "refs/heads/"), sorted
  // by name (git_refs.cpp).
  Result<std::vector<RefTarget>> refs_under(const std::string& prefix) const;
  // The commit `rev` names (any revision resolve() accepts); not_found ("unknown Git revision
  // '<rev>'") when it names no commit of this repository.
  Result<CommitInfo> commit_info(const std::string& rev) const;

  // Untracked, not ignored files (files inside untracked directories listed one by one),
  // relative to the work tree, sorted.
  Result<std::vector<std::string>> untracked_files() const;
  // True when `git status` shows any change (staged, unstaged, and untracked files unless
  // excluded).
  Result<bool> has_changes(Untracked untracked = Untracked::include) const;

  // Value of a config key as Git sees it from this repository (all levels); nullopt when unset.
  Result<std::optional<std::string>> config_get(const std::string& key) const;
  // Sets a key in the repository's own config (.git/config).
  Status config_set(const std::string& key, const std::string& value);

  // Drops cached ignore/attribute files so the next query re-reads them.
  void refresh_ignores() const;

  // ---- commits and references (git_write.cpp), as DVC's experiments write them -----------------
  // Commit a reference points to (symbolic references followed, tags peeled); nullopt when the
  // reference does not exist.
  Result<std::optional<std::string>> ref_target(const std::string& ref) const;
  // Points `ref` (a full name, "refs/...") at commit `id`, creating or replacing it. `log_message`
  // goes to the reflog where Git keeps one (branches).
  Status set_ref(const std::string& ref, const std::string& id, const std::string& log_message = "");
  // Deletes `ref`; a missing reference is not an error.
  Status delete_ref(const std::string& ref);
  // True when `ancestor` is `descendant` or one of its ancestors.
  Result<bool> is_ancestor(const std::string& ancestor, const std::string& descendant) const;

  // Whether workspace_tree() first updates the tracked files (`git add -u`), keeps the index, or
  // starts from an empty one (the tree then holds only `paths`).
  enum class Tracked { update, keep, none };
  // The tree `git add -u` then `git add <paths>` would give, built on a copy of the index (the
  // index file is not changed): every tracked file updated from the work tree (deleted ones
  // dropped) unless `tracked` is keep, then each of `paths` added (folders recursively; paths
  // that do not exist are dropped; ignored files skipped unless `force_paths`). Returns the
  // tree id.
  Result<std::string> workspace_tree(const std::vector<std::string>& paths, bool force_paths,
                                     Tracked tracked = Tracked::update) const;
  // Writes a commit of `tree` with these parents, author and committer from the Git config (as
  // `git commit`), the message as given (no newline added); moves no reference. Returns its id.
  Result<std::string> create_commit(const std::string& tree, const std::vector<std::string>& parents,
                                    const std::string& message);
  // A tree like `tree` with each of `files` (repo-relative path, content) written as a regular
  // file blob (mode kept when the path is already a file of the tree, else 0644). Neither the
  // index file nor the work tree is touched. Returns the new tree id.
  Result<std::string> overlay_tree(const std::string& tree,
                                   const std::vector<std::pair<std::string, std::string>>& files) const;
  // Makes the index match the tree of `commit` (`git reset --mixed` without moving HEAD).
  Status reset_index(const std::string& commit);
  // Writes every file of `commit`'s tree into the work tree (content, executable bit, symlinks),
  // replacing what is there atomically; files the tree does not hold are left alone. Returns the
  // paths written, sorted. A tree path that could leave the work tree ('..', '.git' parts) is
  // refused before anything is written.
  Result<std::vector<std::string>> write_tree_files(const std::string& commit);

  // ---- Git remotes (git_remote.cpp): `remote` is a configured remote's name or a URL/path ------
  // (a local path or file:// URL must name a bare repository to be pushed to: libgit2's local
  // transport refuses to push into a work tree).
  // How one reference fared against the other side, as scmrepo's SyncStatus.
  enum class SyncStatus { success, up_to_date, diverged };
  // References of the remote whose full names start with `prefix` (`git ls-remote`), sorted by
  // name; `target` and `commit` hold the advertised id. Fails (invalid_argument) with
  // "'<remote>' is not a valid Git remote or URL" when it names no reachable repository.
  Result<std::vector<RefTarget>> remote_refs(const std::string& remote, const std::string& prefix) const;
  // Pushes each local reference (full name) to the same name on the remote, as scmrepo's
  // push_refspecs: up_to_date when the remote already has the same commit, diverged when the
  // remote's commit is not an ancestor of ours (or unknown here) and `force` is off, success
  // once pushed. A reference that does not exist here is an error (not_found).
  Result<std::map<std::string, SyncStatus>> push_refs(const std::string& remote, const std::vector<std::string>& refs,
                                                      bool force);
  // Fetches each remote reference (full name) into the same local name, as scmrepo's
  // fetch_refspecs: up_to_date when both name the same commit, diverged when ours is not an
  // ancestor of theirs and `force` is off, success once the local reference is set. References
  // the remote does not have are left out of the result.
  Result<std::map<std::string, SyncStatus>> fetch_refs(const std::string& remote, const std::vector<std::string>& refs,
                                                       bool force);
  // Deletes these references on the remote (`git push <remote> :<ref>`).
  Status delete_remote_refs(const std::string& remote, const std::vector<std::string>& refs);

 private:
  struct Impl;
  explicit Git(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

// The .gitignore line DVC writes for an output: "/" + basename, with [ ] ! * # ? escaped as DVC
// does, and also \ and trailing spaces (which DVC leaves raw, so that Git misreads them).
std::string gitignore_entry(const std::string& output_rel_path);
// Error (invalid_argument) when the output's name cannot be written as a .gitignore line: it
// holds a newline or ends with a carriage return. add checks this before writing anything.
Status check_gitignore_name(const std::string& output_rel_path);

// Ensures the output's entry is in <dir of output>/.gitignore unless Git already ignores the
// path: appends it (inserting "\n" first when the file does not end with one), creating the file
// when missing; never adds a duplicate. Writes atomically and keeps the file's mode (0644 when
// new). Returns the .gitignore path relative to the work tree when the file changed.
Result<std::optional<std::string>> ignore_output(const Git& git, const std::string& output_rel_path);
// The same for many outputs at once, in order (an output inside one given an entry earlier in the
// list is ignored already): each .gitignore is read and written once, Git's ignore rules
// reloaded once. Returns the .gitignore files that changed, relative to the work tree.
Result<std::vector<std::string>> ignore_outputs(const Git& git, const std::vector<std::string>& output_rel_paths);

// Removes the output's entry from <dir of output>/.gitignore (lines compared after stripping
// whitespace, against the escaped entry and the unescaped "/<basename>" DVC also uses); deletes
// the file when no line is left. Returns the .gitignore path relative to the work tree when the
// file changed or was deleted.
Result<std::optional<std::string>> unignore_output(const std::string& work_tree,
                                                   const std::string& output_rel_path);

}  // namespace dvx::scm
