#include "dvx/odb/object_db.h"

#include "dvx/platform/durable.h"

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <string_view>
#include <unordered_set>

#include "dvx/base/thread_pool.h"

#include "dvx/base/strings.h"

namespace dvx::odb {

namespace fsx = dvx::platform;

Layout layout_for(hash::Algorithm alg) {
  return alg == hash::Algorithm::md5 ? Layout::v3 : Layout::legacy;
}

hash::Algorithm algorithm_for(Layout layout) {
  return layout == Layout::v3 ? hash::Algorithm::md5 : hash::Algorithm::md5_dos2unix;
}

hash::Algorithm content_algorithm(const ObjectId& id) {
  return id.is_dir() ? hash::Algorithm::md5 : algorithm_for(id.layout);
}

std::string_view content_digest(const ObjectId& id) { return std::string_view(id.oid).substr(0, 32); }

size_t prefix_slot(const ObjectId& id) {
  auto hexval = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  return (id.layout == Layout::v3 ? 0 : 256) + size_t(hexval(id.oid[0]) * 16 + hexval(id.oid[1]));
}

bool valid_oid(const std::string& oid) {
  std::string_view v(oid);
  if (v.size() == 36 && v.substr(32) == ".dir") v = v.substr(0, 32);
  if (v.size() != 32) return false;
  for (char c : v)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string ObjectDb::path_of(const ObjectId& id) const {
  std::string base = id.layout == Layout::v3 ? m_root + "/files/md5/" : m_root + "/";
  return base + id.oid.substr(0, 2) + "/" + id.oid.substr(2);
}

bool ObjectDb::exists(const ObjectId& id) const {
  return fsx::lstat_path(path_of(id)).type == fsx::FileType::regular;
}

ObjectDb::Fingerprint ObjectDb::fingerprint(Layout layout) const {
  Fingerprint fp;
  std::string base = layout == Layout::v3 ? m_root + "/files/md5" : m_root;
  auto mix = [&](uint64_t v) { fp.digest = (fp.digest ^ v) * 0x100000001b3ull + 0x9e3779b97f4a7c15ull; };
  auto top = fsx::stat_path(base);
  mix(top.inode);
  mix(static_cast<uint64_t>(top.mtime_ns));
  mix(static_cast<uint64_t>(top.ctime_ns));
  static const char* hex = "0123456789abcdef";
  for (int i = 0; i < 256; ++i) {
    char name[3] = {hex[i >> 4], hex[i & 15], 0};
    auto st = fsx::lstat_path(base + "/" + name);
    mix(static_cast<uint64_t>(i));
    if (st.type != fsx::FileType::directory) {
      mix(0);
      continue;
    }
    ++fp.folders;
    mix(st.inode);
    mix(static_cast<uint64_t>(st.mtime_ns));
    mix(static_cast<uint64_t>(st.ctime_ns));
    fp.max_mtime_ns = std::max(fp.max_mtime_ns, st.mtime_ns);
    fp.max_ctime_ns = std::max(fp.max_ctime_ns, st.ctime_ns);
  }
  return fp;
}

std::vector<bool> ObjectDb::exists_many(const std::vector<ObjectId>& ids, unsigned threads) const {
  std::vector<char> found(ids.size(), 0);
  // Group by (layout, prefix).
  std::vector<std::vector<size_t>> groups(512);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i].oid.size() < 3) continue;
    size_t slot = prefix_slot(ids[i]);
    if (slot < groups.size()) groups[slot].push_back(i);
  }
  parallel_for(groups.size(), threads, [&](size_t g) {
    const auto& members = groups[g];
    if (members.empty()) return;
    if (members.size() <= 8) {
      for (size_t i : members) found[i] = exists(ids[i]) ? 1 : 0;
      return;
    }
    std::string dir = fsx::parent_dir(path_of(ids[members.front()]));
    auto entries = fsx::list_dir(dir);
    if (!entries) return;  // missing folder: none present
    // Sorted names, searched by binary search: cheaper than hashing a million 30-byte strings.
    std::vector<std::string_view> names;
    names.reserve(entries->size());
    for (auto& e : *entries)
      if (e.type == fsx::FileType::regular) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    for (size_t i : members) {
      std::string_view want = std::string_view(ids[i].oid).substr(2);
      found[i] = std::binary_search(names.begin(), names.end(), want) ? 1 : 0;
    }
  });
  return std::vector<bool>(found.begin(), found.end());
}

bool ObjectDb::exists_valid(const ObjectId& id, Verify verify) const {
  std::string p = path_of(id);
  auto st = fsx::lstat_path(p);
  if (st.type != fsx::FileType::regular) return false;
  if (verify == Verify::no && (st.mode & 0777) == 0444) return true;
  auto d = hash::hash_file(p, content_algorithm(id));
  if (!d || d->md5 != content_digest(id)) {
    if (!quarantine(id)) (void)fsx::remove_file(p);
    return false;
  }
  return true;
}

Error corrupted(const std::string& what, const ObjectId& id, const std::string& actual) {
  return Error{ErrorCode::corruption, "'" + what + "' is corrupted: its content hashes to '" + actual +
                                          "', not to its name '" + std::string(content_digest(id)) + "'"};
}

Status copy_verified(const std::string& src, const std::string& dst, uint32_t mode, const ObjectId& id) {
  auto d = hash::copy_file_hashed(src, dst, mode, content_algorithm(id));
  if (!d) return std::unexpected(d.error());
  if (*d == content_digest(id)) return {};
  (void)fsx::remove_file(dst);
  return std::unexpected(corrupted(src, id, *d));
}

Status ObjectDb::make_parent(const std::string& path) const {
  return fsx::make_dirs(fsx::parent_dir(path), dir_mode());
}

Status ObjectDb::make_prefix_dir(const ObjectId& id) const {
  size_t slot = prefix_slot(id);
  if (slot < m_prefix_ready.size() && m_prefix_ready[slot].load(std::memory_order_acquire)) return {};
  auto r = make_parent(path_of(id));
  if (r && slot < m_prefix_ready.size()) m_prefix_ready[slot].store(true, std::memory_order_release);
  return r;
}

Status ObjectDb::add_file(const std::string& src, const ObjectId& id, const std::vector<fsx::LinkType>& link_types,
                          bool known_absent, bool* linked_src) const {
  if (linked_src) *linked_src = false;
  std::string dst = path_of(id);
  if (!known_absent && fsx::lstat_path(dst).type == fsx::FileType::regular) return {};
  if (auto r = make_prefix_dir(id); !r) return r;
  size_t first_type = 0;  // reflinks known not to work here are skipped
  while (first_type < link_types.size() && link_types[first_type] == fsx::LinkType::reflink &&
         m_reflink.load(std::memory_order_relaxed) == 2)
    ++first_type;
  if (first_type < link_types.size() && link_types[first_type] == fsx::LinkType::hardlink) {
    // link(2) makes the object under its final name at once, complete (the inode exists): no
    // temp name and no rename. The data is the workspace file's: written out before the name
    // exists; the shared inode then made read-only, as DVC does for hardlink caches.
    if (auto f = fsx::flush_path(src); !f) return f;
    auto linked = fsx::try_link(fsx::LinkType::hardlink, src, dst);
    if (linked && *linked) {
      if (linked_src) *linked_src = true;
      return fsx::chmod_path(dst, 0444);
    }
    if (!linked) {
      // Another writer stored it meanwhile.
      if (fsx::lstat_path(dst).type == fsx::FileType::regular) return {};
      return std::unexpected(linked.error());
    }
    ++first_type;  // no hard links here: the next type
  }
  std::string tmp = fsx::temp_path_beside(dst);
  Status made = fail(ErrorCode::io, "no usable link type");
  fsx::LinkType used = fsx::LinkType::copy;
  for (size_t i = first_type; i < link_types.size(); ++i) {
    auto t = link_types[i];
    if (t == fsx::LinkType::reflink) {
      if (m_reflink.load(std::memory_order_relaxed) == 2) continue;  // known not to work here
      made = fsx::reflink_file(src, tmp);
      m_reflink.store(made ? 1 : 2, std::memory_order_relaxed);
    } else if (t == fsx::LinkType::hardlink) {
      // A hardlinked object would share the workspace inode: chmod 0444 would also protect the
      // workspace file, which is what DVC does for hardlink caches.
      made = fsx::hardlink_file(src, tmp);
    } else if (t == fsx::LinkType::copy) {
      made = fsx::copy_file(src, tmp, 0444);
    } else {
      continue;  // symlinks are never used for cache objects
    }
    used = t;
    if (made) break;
    (void)fsx::remove_file(tmp);
  }
  if (!made) return made;
  if (used != fsx::LinkType::copy) {
    (void)fsx::chmod_path(tmp, 0444);  // copies are created 0444 (and written out by copy_file)
    // A link shares data dvx did not write: it reaches the disk before the object's name does.
    if (auto f = fsx::flush_path(tmp); !f) {
      (void)fsx::remove_file(tmp);
      return f;
    }
  }
  if (auto r = fsx::rename_path(tmp, dst); !r) {
    (void)fsx::remove_file(tmp);
    return r;
  }
  // rename(2) is a no-op when both names are links to one inode (a concurrent writer linked
  // the same file): the temp name is then still there.
  if (used == fsx::LinkType::hardlink) (void)fsx::remove_file(tmp);
  return {};
}

Status ObjectDb::add_bytes(std::string_view bytes, const ObjectId& id, bool* written) const {
  if (written) *written = false;
  std::string dst = path_of(id);
  if (fsx::lstat_path(dst).type == fsx::FileType::regular) return {};
  if (auto r = make_prefix_dir(id); !r) return r;
  auto r = fsx::write_file_atomic(dst, bytes, 0444);
  if (written) *written = r.has_value();
  return r;
}

std::string ObjectDb::temp_path_for(const ObjectId& id) const {
  std::string dst = path_of(id);
  (void)make_prefix_dir(id);
  return fsx::temp_path_beside(dst);
}

Status ObjectDb::adopt(const std::string& tmp, const ObjectId& id, bool* written) const {
  if (written) *written = false;
  std::string dst = path_of(id);
  if (fsx::lstat_path(dst).type == fsx::FileType::regular) return fsx::remove_file(tmp);
  if (auto r = make_prefix_dir(id); !r) {
    (void)fsx::remove_file(tmp);
    return r;
  }
  if (auto r = fsx::rename_path(tmp, dst); !r) {
    (void)fsx::remove_file(tmp);
    return r;
  }
  if (written) *written = true;
  return {};
}

bool ObjectDb::reflink_works(const std::string& dir) const {
  int known = m_reflink.load(std::memory_order_relaxed);
  if (known) return known == 1;
  std::string probe = fsx::temp_path_beside(dir + "/x");
  if (!fsx::write_file_atomic(probe, "dvx!", 0644)) return false;
  std::string dst = fsx::temp_path_beside(staging_dir() + "/x");
  bool ok = fsx::reflink_file(probe, dst).has_value();
  (void)fsx::remove_file(dst);
  (void)fsx::remove_file(probe);
  m_reflink.store(ok ? 1 : 2, std::memory_order_relaxed);
  return ok;
}

std::string ObjectDb::staging_dir() const {
  std::string d = m_root + "/files/md5";
  (void)fsx::make_dirs(d, dir_mode());
  return d;
}

Result<std::string> ObjectDb::read(const ObjectId& id) const { return fsx::read_file(path_of(id)); }

Result<std::vector<formats::ManifestEntry>> ObjectDb::read_manifest(const ObjectId& id) const {
  std::string p = path_of(id);
  auto bytes = fsx::read_file(p);
  if (!bytes) return std::unexpected(bytes.error());
  return formats::decode_manifest(*bytes, p);
}

Result<std::vector<ObjectId>> ObjectDb::list(Layout layout, std::vector<std::string>* leftovers) const {
  std::vector<ObjectId> out;
  std::string base = layout == Layout::v3 ? m_root + "/files/md5" : m_root;
  if (leftovers && layout == Layout::v3)  // BulkWriter's v3 staging trees sit in files/
    if (auto up = fsx::list_dir(m_root + "/files"))
      for (auto& e : *up)
        if (fsx::is_temp_name(e.name)) leftovers->push_back(m_root + "/files/" + e.name);
  auto top = fsx::list_dir(base);
  if (!top) {
    if (top.error().code == ErrorCode::not_found) return out;
    return std::unexpected(top.error());
  }
  for (auto& d : *top) {
    if (leftovers && fsx::is_temp_name(d.name)) leftovers->push_back(base + "/" + d.name);
    if (d.type != fsx::FileType::directory || d.name.size() != 2 || !is_hex(d.name)) continue;
    auto inner = fsx::list_dir(base + "/" + d.name);
    if (!inner) continue;
    for (auto& f : *inner) {
      if (leftovers && fsx::is_temp_name(f.name)) leftovers->push_back(base + "/" + d.name + "/" + f.name);
      if (f.type != fsx::FileType::regular) continue;
      std::string oid = d.name + f.name;
      if (valid_oid(oid)) out.push_back(ObjectId{oid, layout});
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Status ObjectDb::remove(const ObjectId& id) const {
  std::string p = path_of(id);
  auto r = fsx::remove_file(p);
  if (id.layout == Layout::legacy && id.is_dir()) (void)fsx::remove_all(p + ".unpacked");
  return r;
}

Result<std::string> ObjectDb::quarantine(const ObjectId& id) const {
  std::string dir = quarantine_dir();
  if (auto r = fsx::make_dirs(dir, dir_mode()); !r) return std::unexpected(r.error());
  std::string rnd = fsx::base_name(fsx::temp_path_beside(dir + "/x"));  // ".<22 chars>.tmp"
  std::string name = (id.layout == Layout::legacy ? "legacy-" : "") + id.oid + "-" + rnd.substr(1, 22);
  std::string dst = dir + "/" + name;
  if (auto r = fsx::rename_path(path_of(id), dst); !r) return std::unexpected(r.error());
  return dst;
}

std::vector<std::string> ObjectDb::quarantined() const {
  std::vector<std::string> out;
  if (auto entries = fsx::list_dir(quarantine_dir()))
    for (auto& e : *entries) out.push_back(quarantine_dir() + "/" + e.name);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> ObjectDb::content_hash(const ObjectId& id) const {
  auto d = hash::hash_file(path_of(id), content_algorithm(id));
  if (!d) return std::unexpected(d.error());
  return d->md5;
}

bool is_stale_leftover(const std::string& path) {
  auto st = fsx::lstat_path(path);
  if (st.type == fsx::FileType::missing) return false;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  return now - st.mtime_ns > k_stale_leftover_ns;
}

fsx::FileLock claim_staging_tree(const std::string& dir) {
  auto lock = fsx::FileLock::try_acquire_dir(dir);
  if (!lock) return {};
  // The marker is written only once the lock is held: a cleaner that finds the marker and can
  // take the lock knows the writer has exited.
  if (fsx::is_local_file_system(dir)) (void)fsx::create_file(dir + "/" + k_staging_lock_marker, "", 0444);
  return std::move(*lock);
}

bool remove_if_abandoned(const std::string& path) {
  auto st = fsx::lstat_path(path);
  if (st.type == fsx::FileType::missing) return false;
  if (st.type == fsx::FileType::directory &&
      fsx::lstat_path(path + "/" + k_staging_lock_marker).type == fsx::FileType::regular &&
      fsx::is_local_file_system(path)) {
    auto lock = fsx::FileLock::try_acquire_dir(path);
    if (lock) return fsx::remove_all(path).has_value();  // removed while holding the lock
    if (lock.error().code == ErrorCode::conflict) return false;  // its writer is running
  }
  if (!is_stale_leftover(path)) return false;
  return fsx::remove_all(path).has_value();
}

}  // namespace dvx::odb
