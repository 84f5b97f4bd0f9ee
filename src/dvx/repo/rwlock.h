// DVC's read/write path locks: `.dvc/tmp/rwlock` (JSON: {"read": {path: [{"pid", "cmd"}]},
// "write": {path: {"pid", "cmd"}}}) edited under flock(2) on `.dvc/tmp/rwlock.lock`
// (formats.md 10.4). DVC releases the repository lock while a stage's command runs and keeps
// these claims instead: the stage's deps as read, its outs as write. dvx holds the repository
// lock for a whole command, so it only has to honour the claims of DVC processes (it never
// needs to add its own): a command that would touch a path a live DVC process claims stops with
// DVC's "is busy" error instead of changing data under a running stage.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::repo {

// What a command is about to touch: `paths` (absolute; empty = the whole repository), read or
// written.
struct LockScope {
  bool write = true;
  std::vector<std::string> paths;
};

// Fails with error code conflict and DVC's message when a live process other than this one
// claims a path overlapping `scope` (equal, or one inside the other): any writer, and also any
// reader when the scope writes. Claims of processes that no longer exist are removed from the
// file, each reported through `warn` as DVC does. A missing file means no claims; a corrupted
// one is an error naming it.
Status check_rwlock(const std::string& tmp_dir, const LockScope& scope,
                    const std::function<void(const std::string&)>& warn);

}  // namespace dvx::repo
