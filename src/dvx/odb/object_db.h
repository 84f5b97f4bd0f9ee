// The content-addressed object database: a local cache (or a local-directory remote, which
// has the same layout). 3.x objects live at <root>/files/md5/<oid[0:2]>/<oid[2:]>, legacy 2.x
// (md5-dos2unix) objects at <root>/<oid[0:2]>/<oid[2:]> (formats.md §4, §5).
// Thread-safety: all methods may be called concurrently; writes are atomic (temp + rename),
// so a killed process leaves either no object or a complete one.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/manifest.h"
#include "dvx/hash/md5.h"
#include "dvx/platform/files.h"

namespace dvx::odb {

// Which layout an object id belongs to.
enum class Layout { v3, legacy };

Layout layout_for(hash::Algorithm alg);
hash::Algorithm algorithm_for(Layout layout);

// An object id in one layout: "<32 hex>" or "<32 hex>.dir".
struct ObjectId {
  std::string oid;
  Layout layout = Layout::v3;
  bool is_dir() const { return oid.size() > 4 && oid.compare(oid.size() - 4, 4, ".dir") == 0; }
  bool operator==(const ObjectId&) const = default;
  auto operator<=>(const ObjectId&) const = default;
};

// How an object's content is hashed (.dir manifests: plain md5 in both layouts) and the digest
// it must have (the oid without ".dir").
hash::Algorithm content_algorithm(const ObjectId& id);
std::string_view content_digest(const ObjectId& id);

// 0..511: which of the 256 prefix folders of which layout (v3 first) holds the object. The
// oid must be valid (see valid_oid).
size_t prefix_slot(const ObjectId& id);

// True when `oid` is 32 lower-case hex digits optionally followed by ".dir".
bool valid_oid(const std::string& oid);

enum class Verify { no, yes };

// The error for bytes (of `what`: an object file, a download) that do not hash to object `id`:
// code corruption, naming both hashes.
Error corrupted(const std::string& what, const ObjectId& id, const std::string& actual);
// Copies `src` to `dst` (which must not exist) hashing it on the way; when the bytes do not
// hash to `id`, dst is removed and the error is corrupted(src, ...).
Status copy_verified(const std::string& src, const std::string& dst, uint32_t mode, const ObjectId& id);

class ObjectDb {
 public:
  explicit ObjectDb(std::string root, bool shared_group = false)
      : m_root(std::move(root)), m_shared_group(shared_group) {}

  const std::string& root() const { return m_root; }
  // Absolute path of the object file (it may not exist).
  std::string path_of(const ObjectId& id) const;
  bool exists(const ObjectId& id) const;
  // A summary of the object folders of one layout (stat of each prefix folder): any object
  // added or removed changes a folder's mtime/ctime and so the summary. Lets callers remember
  // "every object of X was present" cheaply and exactly.
  struct Fingerprint {
    uint64_t digest = 0;     // hash of every prefix folder's (name, inode, mtime, ctime)
    int64_t max_mtime_ns = 0, max_ctime_ns = 0;
    int64_t folders = 0;
  };
  Fingerprint fingerprint(Layout layout) const;
  // exists() for many ids at once: a prefix folder holding many of them is read once instead
  // of a stat per object. Result[i] is for ids[i].
  std::vector<bool> exists_many(const std::vector<ObjectId>& ids, unsigned threads) const;
  // Exists and, when verify is yes or the object is not read-only (0444), its content hashes
  // to its id; a corrupted object is quarantined.
  bool exists_valid(const ObjectId& id, Verify verify) const;

  // Stores `src` under `id` unless present: the first of `link_types` that works (reflink,
  // hardlink, copy) creates a temp file beside the destination, which is then renamed into
  // place and made read-only (0444). A hard link is made under the final name at once.
  // `known_absent`: the caller saw the object missing a moment ago (no second look; a
  // concurrent writer is still handled). `linked_src` (when given) tells whether `src` itself
  // became the object (hard-linked: one inode, nothing left to link back).
  Status add_file(const std::string& src, const ObjectId& id, const std::vector<platform::LinkType>& link_types,
                  bool known_absent = false, bool* linked_src = nullptr) const;
  // Stores bytes (a .dir manifest, or a small file's content) unless present.
  // `written` (when given) tells whether this call stored it (false: it was present).
  Status add_bytes(std::string_view bytes, const ObjectId& id, bool* written = nullptr) const;
  // A temp name in the object's folder (the folder is created).
  std::string temp_path_for(const ObjectId& id) const;

  // Moves a complete temp file (made by the caller, e.g. while hashing) into place as object
  // `id`, read-only; if the object already exists the temp file is removed instead.
  Status adopt(const std::string& tmp, const ObjectId& id, bool* written = nullptr) const;
  // Whether files under `dir` can be reflinked into this cache (probed once with a small temp
  // file, then remembered).
  bool reflink_works(const std::string& dir) const;
  // A directory for such temp files, on the cache's file system (created on demand).
  std::string staging_dir() const;
  // Mode for folders created in the cache (cache.shared = group: group-writable, setgid).
  uint32_t dir_mode() const { return m_shared_group ? 02775 : 0777; }

  Result<std::string> read(const ObjectId& id) const;
  // Reads and parses a .dir manifest object; not_found when missing.
  Result<std::vector<formats::ManifestEntry>> read_manifest(const ObjectId& id) const;

  // Every object id present in one layout (for gc and migrate). With `leftovers`, also collects
  // the paths of temp files and staging trees (platform::is_temp_name) left in that layout's
  // folders by killed commands, of any age.
  Result<std::vector<ObjectId>> list(Layout layout, std::vector<std::string>* leftovers = nullptr) const;
  Status remove(const ObjectId& id) const;

  // Corrupted objects (content that no longer hashes to the name) are moved aside into
  // <root>/.quarantine/ as "<oid>-<random>" (2.x: "legacy-<oid>-<random>"): never listed as an
  // object, never pushed, kept for inspection until gc removes them. The object is then absent,
  // so fetch downloads it again and add writes it again. Returns the new path.
  Result<std::string> quarantine(const ObjectId& id) const;
  std::string quarantine_dir() const { return m_root + "/.quarantine"; }
  // Every file in the quarantine folder (absolute paths).
  std::vector<std::string> quarantined() const;
  // Whether the object file's bytes hash to its id (reads the whole object). not_found when it
  // is absent; the digest found otherwise.
  Result<std::string> content_hash(const ObjectId& id) const;

 private:
  Status make_parent(const std::string& path) const;
  // Creates <root>/[files/md5/]<prefix> once per command (remembered per layout and prefix).
  Status make_prefix_dir(const ObjectId& id) const;
  mutable std::array<std::atomic<bool>, 512> m_prefix_ready{};
  std::string m_root;
  bool m_shared_group;
  // Whether reflinks work into this cache: unknown (0), yes (1), no (2); learned once.
  mutable std::atomic<int> m_reflink{0};
};

// Temp files and staging trees left in a cache by killed commands. A staging tree's writer
// holds an flock on the tree's folder for its whole life and, once it holds it, creates the
// marker file k_staging_lock_marker inside: a tree with the marker whose lock can be taken has
// no writer any more and is removed at once (by the next BulkWriter on the store, or by gc).
// Everything else (temp files, trees without the marker: a writer killed before it wrote it,
// or a file system where flock is not trusted, e.g. NFS) is removed once older than
// k_stale_leftover_ns, which no single command lasts.
inline constexpr int64_t k_stale_leftover_ns = int64_t(24) * 3600 * 1'000'000'000;
inline constexpr const char* k_staging_lock_marker = ".flock";
// Whether `path` (a leftover found by ObjectDb::list) was last modified longer ago than that.
bool is_stale_leftover(const std::string& path);
// Makes `dir` (a new, empty staging tree) tell its writer's liveness: locks it and, where
// flock is trusted, writes the marker. Keep the returned lock until the tree is gone (an empty
// lock: the tree falls back to the age rule).
platform::FileLock claim_staging_tree(const std::string& dir);
// Removes the leftover `path` when its writer is known to be gone (see above); true if removed.
bool remove_if_abandoned(const std::string& path);

}  // namespace dvx::odb
