// Writes many small objects into a cache with fewer directory operations than add_bytes one by
// one, with the same guarantee: an object appears under its name only complete.
//
// add_bytes costs a temp file plus a rename per object (three directory updates). Here, objects
// whose prefix folder (files/md5/<xx>) does not exist yet are created straight inside a hidden
// staging tree (<cache>/files/.<random>.tmp/<layout>/<xx>/, one directory update each), and
// commit() publishes each staged prefix folder with one rename(2) of the folder. That is the
// common case of a first `add` into a fresh cache. A prefix folder that exists already goes
// through add_bytes; one that appears while objects are staged (another process writing the
// same cache) gets the staged objects one rename each at commit.
//
// A killed process leaves only the hidden staging tree: its objects were never visible. The
// writer holds an flock on its tree (claim_staging_tree), so the next BulkWriter on the store
// (or gc) removes the trees whose writer is gone at once, never a running one's; trees that
// cannot tell (no lock marker, e.g. on NFS) once they are a day old (remove_if_abandoned).
// The same works for any folder with the cache's layout, e.g. a local remote (open an ObjectDb on
// its root).
// Thread-safety: add(), add_file() and staged_path() may be called from many threads; commit() must not overlap add().
#pragma once

#include <array>
#include <atomic>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "dvx/odb/object_db.h"
#include "dvx/platform/durable.h"

namespace dvx::odb {

class BulkWriter {
 public:
  explicit BulkWriter(const ObjectDb& db);
  ~BulkWriter();  // removes whatever was staged and not committed
  BulkWriter(const BulkWriter&) = delete;
  BulkWriter& operator=(const BulkWriter&) = delete;

  // Stores `bytes` as object `id` unless present; visible in the cache only after commit()
  // when it was staged.
  // `written` (when given) tells whether this call stored it (false: it was present).
  Status add(std::string_view bytes, const ObjectId& id, bool* written = nullptr);
  // The same with the content of a file (copied; created read-only). With Verify::yes the bytes
  // are hashed while copied and nothing is stored when they do not hash to `id` (corruption).
  Status add_file(const std::string& src, const ObjectId& id, Verify verify = Verify::no);
  // Where the caller may write object `id` itself (e.g. a download), a path in the staging tree
  // that must not exist yet and is published by commit(); nullopt when the object's prefix
  // folder exists in the cache (write a temp file and ObjectDb::adopt it instead).
  std::optional<std::string> staged_path(const ObjectId& id);
  // Publishes every staged object (no-op when nothing is staged). add() may be used again after.
  Status commit();

 private:
  enum : int { k_unknown = 0, k_direct = 1, k_staged = 2 };
  int decide(size_t slot, const ObjectId& id);
  std::string staged_dir(size_t slot) const;

  const ObjectDb& m_db;
  platform::WriteOutBehind m_behind;  // writes staged files out while more are added
  std::string m_files;  // <cache>/files
  // Staging roots, created on first use: [0] <cache>/files/.<random>.tmp for 3.x objects,
  // [1] <cache>/.<random>.tmp for 2.x ones (a 2.x-only remote never gets a files/ folder).
  std::string m_staging[2];
  platform::FileLock m_locks[2];  // held while the staging root exists: tells we are alive
  std::mutex m_mutex;     // guards decisions and the creation of staging folders
  std::array<std::atomic<int>, 512> m_slots{};  // per (layout, prefix): k_*
  bool m_dirty = false;   // something was staged since the last commit
};

}  // namespace dvx::odb
