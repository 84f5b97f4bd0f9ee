// Workspace <-> cache: what an output looks like on disk now (hashed through the state db so an
// unchanged file is never read twice), saving outputs into the cache, and checking them out
// with DVC's link strategies. Safety first: nothing is deleted or overwritten that the cache
// can't restore unless Force::yes, and manifest paths that would escape the output are refused.
// Thread-safety: a Workspace object is used by one command thread; it parallelises internally.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/manifest.h"
#include "dvx/fs/walk.h"
#include "dvx/hash/md5.h"
#include "dvx/odb/bulk_writer.h"
#include "dvx/odb/object_db.h"
#include "dvx/platform/files.h"
#include "dvx/state/state_db.h"

namespace dvx::workspace {

using platform::LinkType;

// What an output path holds right now.
struct OutputState {
  enum class Kind { missing, file, dir };
  Kind kind = Kind::missing;
  std::string oid;       // md5, or md5 + ".dir" for directories
  int64_t size = 0;      // file size, or the sum of the directory's file sizes
  int64_t nfiles = 0;    // directories only
  bool isexec = false;   // files only
  std::vector<formats::ManifestEntry> entries;  // directories: sorted manifest entries
  std::vector<int64_t> entry_sizes;             // parallel to entries
  std::vector<char> entry_cached;               // parallel to entries: object written while hashing
  bool cached = false;                          // files: object written while hashing
  bool has_symlinks = false;                    // directories: some entry is a symlink to a file
  std::string manifest;                         // directories: manifest bytes (Context::keep_manifest)
  std::vector<std::string> dangling;            // directories: dangling symlinks (Context::dangling_absent)
};

// Where files that must be read for hashing are copied on the way ("hash while copying into
// the cache", so `add` reads each byte once).
// Small files go through `bulk` when set (published by save_to_cache, which commits it).
struct Ingest {
  const odb::ObjectDb* cache = nullptr;
  odb::Layout layout = odb::Layout::v3;
  odb::BulkWriter* bulk = nullptr;
};

// Hashes files through the state database, in parallel, storing new results in one batch.
class Hasher {
 public:
  Hasher(state::StateDb* db, unsigned threads) : m_db(db), m_threads(threads) {}
  // The state db is opened by `open_db` on first use (commands that hash nothing never open it).
  Hasher(std::function<state::StateDb*()> open_db, unsigned threads)
      : m_open_db(std::move(open_db)), m_threads(threads) {}
  // md5 of each file. With `ingest`, files not known to the state db are copied into the cache
  // while being hashed and `ingested[i]` is set for them (when not null).
  Result<std::vector<std::string>> hash(const std::vector<std::string>& abs_paths,
                                        const std::vector<platform::FileStat>& stats, hash::Algorithm alg,
                                        const std::function<void(size_t)>& progress = {},
                                        const Ingest* ingest = nullptr, std::vector<char>* ingested = nullptr);
  unsigned threads() const { return m_threads; }
  // The state database (opened on first use; may be null when it cannot be opened).
  state::StateDb* state() { return db(); }

 private:
  state::StateDb* db();
  state::StateDb* m_db = nullptr;
  std::function<state::StateDb*()> m_open_db;
  unsigned m_threads;
};

struct Context {
  std::string root;                     // repository root (absolute)
  const fs::IgnoreRules* ignore = nullptr;
  Hasher* hasher = nullptr;
  const odb::ObjectDb* cache = nullptr;
  std::vector<LinkType> link_types;     // cache.type order
  const Ingest* ingest = nullptr;       // set by commands that save what they hash (add, commit)
  bool keep_manifest = false;           // keep OutputState::manifest (else only its id is computed)
  // status/checkout: a dangling symlink inside a folder is no entry (listed in
  // OutputState::dangling, replaced or removed by checkout) instead of failing the hash as in
  // add/commit (DVC's rule).
  bool dangling_absent = false;
  std::function<void(const std::string& what, size_t done, size_t total)> progress;  // may be empty
  // Sorted; may be null: objects this command has just put in the cache from bytes it hashed on
  // the way, e.g. a pull's fetch. Checkout copies and links them without reading them again.
  const std::vector<odb::ObjectId>* trusted = nullptr;
};

// Whether `id` is in ctx.trusted.
bool trusted_object(const Context& ctx, const odb::ObjectId& id);

// A cache object whose bytes no longer hash to its name, found by a command about to use it.
struct CorruptObject {
  odb::ObjectId id;
  std::string path;         // the workspace file it was to become (absolute), or empty
  std::string quarantined;  // where the object was moved (ObjectDb::quarantine), empty if it could not be
};

// Inspects and hashes the output at `abs_path` (a file, a directory, or missing).
Result<OutputState> compute_state(const Context& ctx, const std::string& abs_path, hash::Algorithm alg);

// Stores the output's objects in the cache (files, and the .dir manifest). Idempotent. Objects
// already in the cache (not written by this command) are checked first (verify_objects); a
// corrupted one is quarantined, written again from the workspace file and reported in
// `repaired` (when given). `in_place` (when given) gets one flag per file of the output (one for
// a file output, else one per entry): set when the workspace file itself became the object (a
// hard link made by this call), so relinking it would change nothing.
Status save_to_cache(const Context& ctx, const std::string& abs_path, const OutputState& state, odb::Layout layout,
                     std::vector<CorruptObject>* repaired = nullptr, std::vector<uint8_t>* in_place = nullptr);

// Temp files left by a killed command (platform::is_temp_name) are removed by checkout.
using platform::is_temp_name;

// Checks that a manifest relpath stays inside its directory: relative, no "..", "." or empty
// segments, no NUL.
bool safe_relpath(const std::string& relpath);

enum class Force { no, yes };
enum class Relink { no, yes };

// Checks cache objects that are about to be linked into the workspace without being read
// (hardlink, symlink, reflink), as DVC does, through the state db: an object recorded with its
// current (inode, size, mtime) and the right hash is trusted (not ctime: linking an object
// changes it; bytes written in place change mtime); any other is hashed once
// (in parallel) and, when good, recorded. One state-db lookup and one store for the batch.
// Corrupted objects are quarantined and returned (with `paths[i]` as their path when given);
// absent objects are skipped (the caller reports them missing).
std::vector<CorruptObject> verify_objects(const Context& ctx, const std::vector<odb::ObjectId>& ids,
                                          const std::vector<std::string>* paths = nullptr);
// Records objects dvx has just written from bytes it hashed (or, with a remote's verify = false,
// took as received), so that verify_objects trusts them without reading them (one lstat each,
// one state-db batch); those smaller than `min_size` are left out.
void record_objects(const Context& ctx, const std::vector<odb::ObjectId>& ids, int64_t min_size = 0);

// Objects of this size or more are also recorded when the cache copies: a copy checkout of
// one recorded (and unchanged) object copies it in the kernel instead of hashing it on the
// way, which for one large file is a single MD5 stream, several times slower than the copy.
inline constexpr int64_t k_recorded_copy_size = 1 << 20;
// Whether `id` is a regular file of at least k_recorded_copy_size bytes that the state db
// records with its current (inode, size, mtime) and the right hash.
bool large_object_known_good(const Context& ctx, const odb::ObjectId& id);

// Whether creating files in `dir` with `types` reads the object's bytes (copy) rather than
// linking them (reflink when it works there, hardlink, symlink): decides between checking an
// object while copying it and verify_objects.
bool links_without_reading(const Context& ctx, const std::vector<LinkType>& types, const std::string& dir);

// Quarantines `id` after a verified copy found it corrupted; safe to call twice for one id.
CorruptObject quarantine_object(const Context& ctx, const odb::ObjectId& id, const std::string& path);

struct CheckoutResult {
  enum class Change { none, added, modified, deleted };
  Change change = Change::none;
  int64_t files_added = 0, files_modified = 0, files_deleted = 0;
  bool missing_in_cache = false;  // recorded object(s) absent or corrupted: the output failed
  std::vector<CorruptObject> corrupted;  // objects found corrupted (quarantined)
};

// Makes `abs_path` match `recorded` (an object id of `layout`). Refuses with a conflict error
// listing the absolute paths of unsaved files (content not in the cache) unless force.
// `current` may pass the state computed by the caller (avoids hashing twice).
Result<CheckoutResult> checkout(const Context& ctx, const std::string& abs_path, const odb::ObjectId& recorded,
                                std::optional<bool> isexec, Force force, Relink relink,
                                const OutputState* current = nullptr);

// Files of `abs_path` that a checkout would delete or overwrite and that the cache cannot
// restore (absolute paths), given the current state.
std::vector<std::string> unsaved_files(const Context& ctx, const std::string& abs_path, const OutputState& current,
                                       const odb::ObjectId& recorded, const std::vector<formats::ManifestEntry>* recorded_entries);

// Replaces links to the cache under `abs_path` by writable private copies.
Status unprotect(const std::string& abs_path);

// What stands at a path checkout is about to write (an output, or a file of a tracked folder).
enum class Obstacle {
  none,     // missing, a regular file or folder, or a symlink into the cache (cache.type symlink)
  symlink,  // any other symlink (to a file or folder anywhere, or dangling)
  special,  // a FIFO, socket or device
};
// Checks where checkout would write `abs_path`: every existing folder between ctx.root
// (exclusive) and abs_path (exclusive) must be a real folder; a symlinked one could lead out of
// the repository or into .git/.dvc, so it is refused (permission error, nothing written; never
// overridden by force). Then tells what stands at abs_path itself: an obstacle is replaced
// (the link itself removed, never its target) only when forced. lstat only: never opens it.
Result<Obstacle> check_destination(const Context& ctx, const std::string& abs_path);
// Conflict error for an obstacle found without force (DVC-style wording, says to use --force).
Error obstacle_error(const std::string& abs_path, Obstacle what);

// Removes leftovers of a killed command in `dir` (not recursive): temp files and staging
// folders named like platform::temp_path_beside makes them. Callers hold the repository lock.
void remove_temp_leftovers(const std::string& dir);

// The error when no cache link type in the list works here (DVC's wording).
Error no_link_types_error(const std::string& dst);

// Creates one workspace file from a cache object with the first working link type (temp +
// rename, so the destination is replaced atomically). A type the file system can't make
// (platform::link_unsupported) is dropped from `link_types` and the next is tried; other
// errors are returned as they are; when no type is left, no_link_types_error.
// Placement::direct writes `dst` in place (for a destination inside a fresh staging directory
// that is renamed into place as a whole). With `verify` (the object's id), a copy is hashed
// while written and discarded when the bytes do not match (error code corruption).
enum class Placement { via_temp, direct };
Status link_from_cache(const std::string& object_path, const std::string& dst, std::vector<LinkType>& link_types,
                       bool isexec, Placement placement = Placement::via_temp, const odb::ObjectId* verify = nullptr);

}  // namespace dvx::workspace
