// Durability against power loss, not only a killed process. Every file dvx creates is later
// published by rename(2); after a power cut the rename must never be found on disk without the
// data it names (a cache object under its hash with other bytes, an empty .dvc file). Git's
// "batch" fsync mode is the model: per file only a write-out of its data with no journal commit
// (sync_file_range before the file is closed and renamed: waited for, or on ext4 with ordered
// data only submitted, since ext4 then writes allocated data before committing the rename), and
// one syncfs(2) per file system at the end of the command, which commits the renames and
// flushes the drive's cache. Files in a staging folder published whole are written out by one
// sync before the folder is renamed (note_written, write_out_now, WriteOutBehind). Off by
// default (it costs ~1.4x on a 100k-file add here); `core.fsync = true` or DVX_FSYNC=1 turn it on.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "dvx/base/result.h"

namespace dvx::platform {

void set_durable(bool on);
bool durable();

// When durable: writes `fd`'s data out to the disk and remembers its file system for
// sync_durable(). `path` names it in errors. A no-op otherwise.
Status flush_written(int fd, const std::string& path);
// For a file in a private folder that is published whole later (renamed into place): only
// remembers its file system; the publisher calls write_out_now() first. Many small files are
// then written out by one sync, merged, instead of one small write each.
void note_written(int fd);
// When durable: syncfs(2) of the file system holding `path` now (before publishing files
// noted by note_written there).
Status write_out_now(const std::string& path);
// When durable, a thread that syncs the file system holding a folder every 100 ms from start()
// until stop() (or destruction): files noted by note_written() there reach the disk while the
// command still works, so the write_out_now() before publishing has little left to wait for.
class WriteOutBehind {
 public:
  WriteOutBehind() = default;
  WriteOutBehind(const WriteOutBehind&) = delete;
  WriteOutBehind& operator=(const WriteOutBehind&) = delete;
  ~WriteOutBehind() { stop(); }
  void start(const std::string& path);  // once; later calls do nothing
  void stop();

 private:
  std::thread m_thread;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stop = false;
  int m_fd = -1;
};
// The same for a file given by name (e.g. a hardlink or reflink whose data dvx did not write).
Status flush_path(const std::string& path);
// syncfs(2) on every file system written to since the last call (the end of a command).
Status sync_durable();

}  // namespace dvx::platform
