// Durability against power loss, not only a killed process. Every file dvx creates is later
// published by rename(2); after a power cut the rename must never be found on disk without the
// data it names (a cache object under its hash with other bytes, an empty .dvc file). Git's
// "batch" fsync mode is the model: per file only a write-out of its data with no journal commit
// (sync_file_range before the file is closed and renamed: waited for, or on ext4 with ordered
// data only submitted, since ext4 then writes allocated data before committing the rename), and
// one syncfs(2) per file system at the end of the command, which commits the renames and
// flushes the drive's cache. `core.fsync = false` or DVX_FSYNC=0 turn it off.
#pragma once

#include <string>

#include "dvx/base/result.h"

namespace dvx::platform {

void set_durable(bool on);
bool durable();

// When durable: writes `fd`'s data out to the disk and remembers its file system for
// sync_durable(). `path` names it in errors. A no-op otherwise.
Status flush_written(int fd, const std::string& path);
// The same for a file given by name (e.g. a hardlink or reflink whose data dvx did not write).
Status flush_path(const std::string& path);
// syncfs(2) on every file system written to since the last call (the end of a command).
Status sync_durable();

}  // namespace dvx::platform
