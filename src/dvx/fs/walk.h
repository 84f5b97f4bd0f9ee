// The .dvcignore-aware directory walk used for directory outputs (formats.md §3.3): recursive,
// symlinked folders are neither descended into nor reported, symlinks to files are reported with
// the stat of their target, ignored paths and nested DVC repositories (folders holding `.dvc/`)
// are skipped. Listing and stat run on a bounded number of threads; the result is sorted by
// relative path bytes (Python string order), so it is the same whatever the thread count.
// Thread-safety: walk_dir may be called concurrently (it only reads the file system and `rules`).
#pragma once

#include <string>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/fs/ignore.h"
#include "dvx/platform/files.h"

namespace dvx::fs {

struct WalkEntry {
  std::string rel_path;      // relative to the walked folder, '/' separated
  platform::FileStat stat;   // of the file, or of the symlink's target (type missing: dangling)
  bool is_symlink = false;   // the entry itself is a symlink (to a file)
};

// What to do with a .dvcignore found inside the walked folder (itself included).
enum class NestedIgnoreFiles {
  error,  // DVC's rule for directory outputs: ".dvcignore file should not be in collected dir path"
  apply,  // workspace walks: read it and apply it to its folder and below
};

// Lists the files below `abs_dir` (regular files and symlinks to files; not folders, fifos,
// sockets or devices). Rules come from `rules` (the repository's .dvcignore files above
// `abs_dir`); when `abs_dir` is outside `repo_root` no rule applies. A dangling symlink is
// reported with stat.type == missing, so that hashing it fails like in DVC.
// Errors: not_found / invalid_argument when `abs_dir` is missing or not a folder; permission/io
// when a folder cannot be listed; invalid_argument for a nested .dvcignore in `error` mode
// (message as DVC's) or a malformed .dvcignore on the way.
Result<std::vector<WalkEntry>> walk_dir(const std::string& abs_dir, const std::string& repo_root,
                                        const IgnoreRules& rules, unsigned threads,
                                        NestedIgnoreFiles nested = NestedIgnoreFiles::error);

// Sorts entries by rel_path bytes on up to `threads` threads.
void sort_walk_entries(std::vector<WalkEntry>& entries, unsigned threads);

}  // namespace dvx::fs
