// The state database: a persistent, rebuildable cache of file hashes keyed by absolute path and
// hash algorithm, valid only while the file's (inode, size, mtime, ctime) are unchanged, so an
// unchanged file is never hashed twice (formats.md §10.5 describes DVC's own equivalent; dvx
// keeps its own SQLite file and never reads DVC's).
//
// Race safety (git's "racy clean" rule): a file modified again after it was read but within the
// same timestamp tick keeps its (size, mtime, ctime), so a hash stored for it could be stale.
// Each entry therefore remembers a moment, `trusted_ns`, and is trusted only while the file's
// mtime and ctime are not later than it:
//  - with a `reads_began` stamp (read_stamp(), taken before the file's bytes were read) on a
//    local file system and a file whose timestamps have a sub-second part (so the file system
//    keeps fine timestamps): `reads_began` minus k_fine_window_ns. Any write after the stamp gets
//    a timestamp from the kernel's coarse clock, which read_stamp() reads too, truncated to the
//    file system's granularity: later than that moment, so different from the stored one.
//  - otherwise (no stamp, a network file system whose server keeps its own clock, or whole-second
//    timestamps): k_racy_window_ns before the stamp or the moment of storing.
// A racy entry becomes trusted once the file is hashed and stored again later.
// Thread-safety: a StateDb may be used from several threads; calls are serialised internally.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/hash/md5.h"
#include "dvx/platform/files.h"

namespace dvx::state {

// How much older than the moment of storing a file's mtime/ctime must be for the entry to be
// trusted. ext4 has ns timestamps, but other file systems are coarser (1 s on ext3, HFS+ and
// some network file systems), and the kernel stamps files from a coarse clock that may lag the
// wall clock by a tick.
inline constexpr int64_t k_racy_window_ns = 1'000'000'000;
// The same for files with sub-second timestamps on a local file system: the coarsest such
// granularity in use (exFAT's 10 ms) with a margin; the kernel's tick is 1-10 ms.
inline constexpr int64_t k_fine_window_ns = 20'000'000;

struct StatKey {
  uint64_t inode = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;

  bool operator==(const StatKey&) const = default;
  static StatKey from(const platform::FileStat& st) {
    return StatKey{st.inode, st.size, st.mtime_ns, st.ctime_ns};
  }
};

// Whether lookup() trusts racy entries (see above).
// `trust` is for cache objects only: dvx records an object right after it wrote (temp + rename,
// read-only) or hashed it, so every such entry would be "racy". dvx never edits an object in
// place; an outside write within the same timestamp tick as the recording would go unnoticed,
// a later one (or a replacement) changes the object's mtime or inode.
enum class Racy { distrust, trust };

class StateDb {
 public:
  StateDb(StateDb&&) noexcept;
  StateDb& operator=(StateDb&&) noexcept;
  StateDb(const StateDb&) = delete;
  StateDb& operator=(const StateDb&) = delete;
  ~StateDb();

  // Opens (creating it and its parent folders if needed) the database at `db_path`. A file that
  // is not a valid database, or holds an unknown schema, is deleted and recreated.
  // Errors: permission/io when the file or its folder cannot be created or opened.
  static Result<StateDb> open(const std::string& db_path);

  // For each i: the md5 stored for (abs_paths[i], alg) when the stored key equals keys[i] and
  // the entry was not racy when stored; nullopt otherwise. One transaction for the whole batch.
  // Never fails: database errors (and vectors of different sizes) count as misses; a corrupt
  // database is recreated.
  std::vector<std::optional<std::string>> lookup(const std::vector<std::string>& abs_paths,
                                                 const std::vector<StatKey>& keys,
                                                 hash::Algorithm alg, Racy racy = Racy::distrust);

  // Stores (replacing) the entries in ONE transaction. `reads_began`: a read_stamp() taken
  // before the files' bytes were read (see the race rule above); without it the entries are
  // stamped with the current time and the coarse window.
  // invalid_argument when the vectors differ in size; io/timeout on database failures.
  Status store(const std::vector<std::string>& abs_paths, const std::vector<StatKey>& keys,
               const std::vector<std::string>& md5s, hash::Algorithm alg,
               std::optional<int64_t> reads_began = std::nullopt);

  // The kernel's coarse real-time clock, the one file timestamps are taken from (ns since the
  // epoch). Take it before reading files whose hashes will be stored.
  static int64_t read_stamp();

  // Forgets every entry (all algorithms) of the given paths, in one transaction.
  Status remove(const std::vector<std::string>& abs_paths);

  const std::string& path() const;

 private:
  struct Impl;
  explicit StateDb(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> m_impl;
};

}  // namespace dvx::state
