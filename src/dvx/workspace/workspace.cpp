#include "dvx/workspace/workspace.h"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cerrno>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"

namespace dvx::workspace {

namespace fsx = dvx::platform;

state::StateDb* Hasher::db() {
  if (m_open_db) {
    m_db = m_open_db();
    m_open_db = nullptr;
  }
  return m_db;
}

Result<std::vector<std::string>> Hasher::hash(const std::vector<std::string>& abs_paths,
                                              const std::vector<fsx::FileStat>& stats, hash::Algorithm alg,
                                              const std::function<void(size_t)>& progress, const Ingest* ingest,
                                              std::vector<char>* ingested) {
  std::vector<std::string> out(abs_paths.size());
  std::vector<state::StatKey> keys(abs_paths.size());
  for (size_t i = 0; i < abs_paths.size(); ++i)
    keys[i] = state::StatKey{stats[i].inode, stats[i].size, stats[i].mtime_ns, stats[i].ctime_ns};
  std::vector<size_t> todo;
  if (db()) {
    auto cached = db()->lookup(abs_paths, keys, alg);
    for (size_t i = 0; i < abs_paths.size(); ++i) {
      if (cached[i]) out[i] = *cached[i];
      else todo.push_back(i);
    }
  } else {
    for (size_t i = 0; i < abs_paths.size(); ++i) todo.push_back(i);
  }
  if (progress && todo.size() < abs_paths.size()) progress(abs_paths.size() - todo.size());
  if (todo.empty()) return out;
  const int64_t reads_began = state::StateDb::read_stamp();  // before any byte is read
  size_t base_done = abs_paths.size() - todo.size();
  if (ingested) ingested->assign(abs_paths.size(), 0);
  // Both ways of hashing fill out[i], the bytes read and any error, per todo slot k.
  std::vector<int64_t> read_size(todo.size(), -1);
  std::vector<std::optional<Error>> errors(todo.size());
  if (ingest && ingest->cache && alg == hash::Algorithm::md5) {
    // Hash while copying into the cache: one read of each new file.
    std::string staging = ingest->cache->staging_dir();
    std::atomic<size_t> done{0};
    constexpr size_t k_in_memory = 1 << 20;  // small files: read into memory, hashed, written
    // Small files are taken a chunk at a time per worker: read into memory, hashed side by side
    // (multi-buffer MD5, one lane per file), then written. Large files one at a time.
    constexpr size_t k_chunk = 32;
    // An object that was already in the cache is not marked ingested: save_to_cache checks it
    // (it may be corrupted) instead of trusting it.
    auto finish_one = [&](size_t k, bool written) {
      if (ingested && written) (*ingested)[todo[k]] = 1;
      size_t n = ++done;
      if (progress) progress(base_done + n);
    };
    parallel_for_ranges(todo.size(), k_chunk, m_threads, [&](size_t k0, size_t k1) {
      thread_local std::vector<std::string> contents;
      contents.resize(k_chunk);
      std::vector<size_t> small_k;
      std::vector<std::string_view> small_bytes;
      for (size_t k = k0; k < k1; ++k) {
        size_t i = todo[k];
        auto& content = contents[k - k0];
        auto small = fsx::read_file_upto(abs_paths[i], k_in_memory, content);
        if (!small) {
          errors[k] = small.error();
          continue;
        }
        if (*small) {
          small_k.push_back(k);
          small_bytes.emplace_back(content);
          continue;
        }
        // Large: copied to a temp file in the staging folder while hashed (copy_file_observed:
        // the kernel copies while this thread hashes; MD5 is the slower of the two), then moved
        // into place. A file that differs from the walk's stat changed meanwhile.
        std::string tmp = fsx::temp_path_beside(staging + "/x");
        hash::Md5Stream md5;
        auto cp = fsx::copy_file_observed(abs_paths[i], tmp, 0444,
                                          [&](std::string_view b) { md5.update(b.data(), b.size()); });
        if (cp && (cp->size != stats[i].size || cp->mtime_ns != stats[i].mtime_ns ||
                   cp->ctime_ns != stats[i].ctime_ns || cp->inode != stats[i].inode))
          cp = std::unexpected(Error{ErrorCode::conflict, "'" + abs_paths[i] + "' changed while it was read"});
        if (!cp) {
          (void)fsx::remove_file(tmp);
          errors[k] = cp.error();
          continue;
        }
        read_size[k] = cp->size;
        out[i] = md5.hex_digest();
        bool written = false;
        if (auto r = ingest->cache->adopt(tmp, odb::ObjectId{out[i], ingest->layout}, &written); !r) {
          errors[k] = r.error();
          continue;
        }
        finish_one(k, written);
      }
      auto digests = hash::md5_many(small_bytes);
      for (size_t j = 0; j < small_k.size(); ++j) {
        size_t k = small_k[j], i = todo[k];
        out[i] = std::move(digests[j]);
        read_size[k] = static_cast<int64_t>(small_bytes[j].size());
        odb::ObjectId id{out[i], ingest->layout};
        bool written = false;
        if (auto r = ingest->bulk ? ingest->bulk->add(small_bytes[j], id, &written)
                                  : ingest->cache->add_bytes(small_bytes[j], id, &written);
            !r) {
          errors[k] = r.error();
          continue;
        }
        finish_one(k, written);
      }
    });
  } else {
    std::vector<std::string> paths;
    paths.reserve(todo.size());
    for (size_t i : todo) paths.push_back(abs_paths[i]);
    auto results = hash::hash_files(paths, alg, m_threads, [&](size_t n) {
      if (progress) progress(base_done + n);
    });
    for (size_t k = 0; k < todo.size(); ++k) {
      if (!results[k]) {
        errors[k] = results[k].error();
        continue;
      }
      out[todo[k]] = std::move(results[k]->md5);
      read_size[k] = results[k]->size;
    }
  }
  // Remember the new hashes in one batch, under the stat taken before reading; a file whose
  // size differs from what was read changed meanwhile and is not remembered.
  std::vector<std::string> new_paths, new_md5s;
  std::vector<state::StatKey> new_keys;
  new_paths.reserve(todo.size());
  for (size_t k = 0; k < todo.size(); ++k) {
    if (errors[k]) return std::unexpected(*errors[k]);
    size_t i = todo[k];
    if (read_size[k] != stats[i].size) continue;
    new_paths.push_back(abs_paths[i]);
    new_keys.push_back(keys[i]);
    new_md5s.push_back(out[i]);
  }
  if (db() && !new_paths.empty()) (void)db()->store(new_paths, new_keys, new_md5s, alg, reads_began);
  return out;
}

bool safe_relpath(const std::string& relpath) {
  if (relpath.empty() || relpath[0] == '/') return false;
  if (relpath.find('\0') != std::string::npos || relpath.find('\\') != std::string::npos) return false;
  size_t i = 0;
  while (i <= relpath.size()) {
    size_t j = relpath.find('/', i);
    if (j == std::string::npos) j = relpath.size();
    std::string_view seg(relpath.data() + i, j - i);
    if (seg.empty() || seg == "." || seg == "..") return false;
    i = j + 1;
  }
  return true;
}

Result<OutputState> compute_state(const Context& ctx, const std::string& abs_path, hash::Algorithm alg) {
  OutputState st;
  auto ls = fsx::lstat_path(abs_path);
  auto s = ls.type == fsx::FileType::symlink ? fsx::stat_path(abs_path) : ls;
  if (!s.exists()) return st;
  if (s.type == fsx::FileType::regular) {
    std::vector<char> ingested;
    auto md5s = ctx.hasher->hash({abs_path}, {s}, alg, {}, ctx.ingest, &ingested);
    if (!md5s) return std::unexpected(md5s.error());
    st.cached = !ingested.empty() && ingested[0];
    st.kind = OutputState::Kind::file;
    st.oid = (*md5s)[0];
    st.size = s.size;
    st.isexec = s.is_exec();
    return st;
  }
  if (s.type != fsx::FileType::directory)
    return fail(ErrorCode::invalid_argument, "output '" + abs_path + "' is not a file or directory");
  auto walked = fs::walk_dir(abs_path, ctx.root, *ctx.ignore, ctx.hasher->threads());
  if (!walked) return std::unexpected(walked.error());
  if (ctx.dangling_absent) {
    std::erase_if(*walked, [&](const fs::WalkEntry& w) {
      if (w.stat.type != fsx::FileType::missing) return false;
      st.dangling.push_back(w.rel_path);
      return true;
    });
  }
  const size_t n = walked->size();
  // Hashed in batches so that absolute paths and stat copies exist for one batch at a time:
  // memory stays bounded by one copy of the file list (one state-db transaction per batch).
  Result<std::vector<std::string>> md5s = std::vector<std::string>();
  md5s->reserve(n);
  st.entry_cached.reserve(n);
  constexpr size_t k_batch = 16384;
  for (size_t b = 0; b < n; b += k_batch) {
    size_t e = std::min(n, b + k_batch);
    std::vector<std::string> paths;
    std::vector<fsx::FileStat> stats;
    paths.reserve(e - b);
    stats.reserve(e - b);
    for (size_t i = b; i < e; ++i) {
      paths.push_back(abs_path + "/" + (*walked)[i].rel_path);
      stats.push_back((*walked)[i].stat);
    }
    std::vector<char> cached;
    auto part = ctx.hasher->hash(
        paths, stats, alg,
        [&](size_t done) {
          if (ctx.progress) ctx.progress("hashing", b + done, n);
        },
        ctx.ingest, &cached);
    if (!part) return std::unexpected(part.error());
    for (auto& m : *part) md5s->push_back(std::move(m));
    st.entry_cached.insert(st.entry_cached.end(), cached.begin(), cached.end());
  }
  st.kind = OutputState::Kind::dir;
  st.entries.reserve(n);
  st.entry_sizes.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto& w = (*walked)[i];
    st.entry_sizes.push_back(w.stat.size);
    st.has_symlinks = st.has_symlinks || w.is_symlink;
    st.size += w.stat.size;
    st.entries.push_back(formats::ManifestEntry{std::move(w.rel_path), std::move((*md5s)[i])});
  }
  walked->clear();
  walked->shrink_to_fit();
  md5s->clear();
  md5s->shrink_to_fit();
  st.nfiles = static_cast<int64_t>(n);
  if (ctx.keep_manifest) {
    st.manifest = formats::encode_sorted_manifest(st.entries);
    st.oid = hash::md5_hex(st.manifest) + ".dir";
    return st;
  }
  // Only the id is needed: hash the manifest slice by slice instead of building it whole.
  hash::Md5Stream md5;
  md5.update("[", 1);
  constexpr size_t k_slice = 4096;
  std::vector<formats::ManifestEntry> slice;
  for (size_t b = 0; b < n; b += k_slice) {
    size_t e = std::min(n, b + k_slice);
    slice.assign(st.entries.begin() + static_cast<std::ptrdiff_t>(b), st.entries.begin() + static_cast<std::ptrdiff_t>(e));
    std::string part = formats::encode_sorted_manifest(slice);  // "[...]"
    if (b) md5.update(", ", 2);
    md5.update(part.data() + 1, part.size() - 2);
  }
  md5.update("]", 1);
  st.oid = md5.hex_digest() + ".dir";
  return st;
}

Status save_to_cache(const Context& ctx, const std::string& abs_path, const OutputState& state, odb::Layout layout,
                     std::vector<CorruptObject>* repaired, std::vector<uint8_t>* in_place) {
  if (in_place) in_place->assign(state.kind == OutputState::Kind::dir ? state.entries.size() : 1, 0);
  // Objects seen missing just below are stored without a second look at the cache (one flag
  // per entry of a folder, or one for a file).
  std::vector<uint8_t> absent(state.kind == OutputState::Kind::dir ? state.entries.size() : 1, 0);
  // Objects staged while hashing become visible first.
  if (ctx.ingest && ctx.ingest->bulk)
    if (auto r = ctx.ingest->bulk->commit(); !r) return r;
  {
    // Objects this command did not write are checked before they are kept (and before the
    // workspace is relinked to them): a corrupted one is quarantined and written again below.
    std::vector<odb::ObjectId> ids;
    std::vector<std::string> paths;
    std::vector<size_t> slot;  // the flag in `absent` of each id
    if (state.kind == OutputState::Kind::file && !state.cached) {
      ids.push_back(odb::ObjectId{state.oid, layout});
      paths.push_back(abs_path);
      slot.push_back(0);
    }
    for (size_t i = 0; i < state.entries.size(); ++i)
      if (i >= state.entry_cached.size() || !state.entry_cached[i]) {
        ids.push_back(odb::ObjectId{state.entries[i].md5, layout});
        paths.push_back(abs_path + "/" + state.entries[i].relpath);
        slot.push_back(i);
      }
    auto present = ctx.cache->exists_many(ids, ctx.hasher->threads());
    for (size_t i = 0; i < ids.size(); ++i)
      if (!present[i] && slot[i] < absent.size()) absent[slot[i]] = 1;
    size_t n = 0;
    for (size_t i = 0; i < ids.size(); ++i)
      if (present[i]) {
        if (n != i) {
          ids[n] = std::move(ids[i]);
          paths[n] = std::move(paths[i]);
        }
        ++n;
      }
    ids.resize(n);
    paths.resize(n);
    auto bad = verify_objects(ctx, ids, &paths);
    if (repaired) repaired->insert(repaired->end(), bad.begin(), bad.end());
  }
  // Objects are created by reflink or copy (hardlink when it is the first cache type), never
  // symlinks, as DVC does (formats.md §4.2).
  std::vector<LinkType> types{LinkType::reflink};
  const bool hardlink_first = !ctx.link_types.empty() && ctx.link_types.front() == LinkType::hardlink;
  if (hardlink_first) types.push_back(LinkType::hardlink);
  types.push_back(LinkType::copy);
  // A file reached through a symlink (the output itself, or a link inside a folder) is never
  // hardlinked: link(2) would link the symlink, and protecting the object (chmod 0444) would
  // change the link's target, which may be anywhere.
  const std::vector<LinkType> copy_types{LinkType::reflink, LinkType::copy};
  const bool output_is_link = hardlink_first && fsx::lstat_path(abs_path).type == fsx::FileType::symlink;
  // When the workspace is linked to the objects (not copied from them), they are recorded in
  // the state db: they hold bytes just hashed (or verified), so a link checkout need not read
  // them again. Copy-only caches record only large objects (a copy checkout verifies small
  // ones while copying, on every core; see k_recorded_copy_size).
  auto record = [&] {
    const bool all = links_without_reading(ctx, ctx.link_types, fsx::parent_dir(abs_path));
    std::vector<odb::ObjectId> ids;
    if (state.kind == OutputState::Kind::file && (all || state.size >= k_recorded_copy_size))
      ids.push_back(odb::ObjectId{state.oid, layout});
    for (size_t i = 0; i < state.entries.size(); ++i)
      if (all || (i < state.entry_sizes.size() && state.entry_sizes[i] >= k_recorded_copy_size))
        ids.push_back(odb::ObjectId{state.entries[i].md5, layout});
    if (!ids.empty()) record_objects(ctx, ids);
  };
  if (state.kind == OutputState::Kind::file) {
    if (!state.cached) {
      bool linked = false;
      if (auto r = ctx.cache->add_file(abs_path, odb::ObjectId{state.oid, layout}, output_is_link ? copy_types : types,
                                       absent[0] != 0, &linked);
          !r)
        return r;
      if (in_place) (*in_place)[0] = linked;
    }
    record();
    return {};
  }
  if (state.kind != OutputState::Kind::dir) return fail(ErrorCode::not_found, "output '" + abs_path + "' does not exist");
  std::mutex m;
  std::optional<Error> first;
  std::atomic<size_t> done{0};
  parallel_for(state.entries.size(), ctx.hasher->threads(), [&](size_t i) {
    const auto& e = state.entries[i];
    if (i < state.entry_cached.size() && state.entry_cached[i]) return;  // copied while hashing
    std::string src = abs_path + "/" + e.relpath;
    bool via_link = output_is_link ||
                    (hardlink_first && state.has_symlinks && fsx::lstat_path(src).type == fsx::FileType::symlink);
    bool linked = false;
    auto r = ctx.cache->add_file(src, odb::ObjectId{e.md5, layout}, via_link ? copy_types : types,
                                 absent[i] != 0, &linked);
    if (in_place) (*in_place)[i] = linked;
    if (!r) {
      std::lock_guard<std::mutex> lock(m);
      if (!first) first = r.error();
    }
    size_t d = ++done;
    if (ctx.progress) ctx.progress("caching", d, state.entries.size());
  });
  if (first) return std::unexpected(*first);
  record();
  if (state.manifest.empty()) return ctx.cache->add_bytes(formats::encode_sorted_manifest(state.entries), odb::ObjectId{state.oid, layout});
  return ctx.cache->add_bytes(state.manifest, odb::ObjectId{state.oid, layout});
}

Error no_link_types_error(const std::string& dst) {
  return Error{ErrorCode::io, "No possible cache link types for '" + dst +
                                  "'. See <https://dvc.org/doc/user-guide/troubleshooting#cache-types> for more "
                                  "information."};
}

namespace {

// The state-db key of a cache object: inode, size and mtime, as DVC keys its state. Not ctime:
// every hardlink checkout changes the object's link count and so its ctime.
state::StatKey object_key(const fsx::FileStat& st) {
  auto k = state::StatKey::from(st);
  k.ctime_ns = 0;
  return k;
}

}  // namespace

std::vector<CorruptObject> verify_objects(const Context& ctx, const std::vector<odb::ObjectId>& ids,
                                          const std::vector<std::string>* paths) {
  std::vector<CorruptObject> bad;
  state::StateDb* db = ctx.hasher ? ctx.hasher->state() : nullptr;
  const unsigned threads = ctx.hasher ? ctx.hasher->threads() : 1;
  // Each object once, grouped by the algorithm its content is hashed with, in path order (the
  // state db then answers with one range scan).
  std::vector<size_t> order(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) order[i] = i;
  std::vector<std::string> obj_paths(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) obj_paths[i] = ctx.cache->path_of(ids[i]);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    auto aa = odb::content_algorithm(ids[a]), ab = odb::content_algorithm(ids[b]);
    return aa != ab ? aa < ab : obj_paths[a] < obj_paths[b];
  });
  order.erase(std::unique(order.begin(), order.end(), [&](size_t a, size_t b) { return obj_paths[a] == obj_paths[b]; }),
              order.end());
  std::erase_if(order, [&](size_t i) { return trusted_object(ctx, ids[i]); });
  std::vector<fsx::FileStat> stats(order.size());
  parallel_for_ranges(order.size(), 256, threads, [&](size_t k0, size_t k1) {
    for (size_t k = k0; k < k1; ++k) stats[k] = fsx::lstat_path(obj_paths[order[k]]);
  });
  for (size_t g0 = 0; g0 < order.size();) {
    const auto alg = odb::content_algorithm(ids[order[g0]]);
    size_t g1 = g0;
    while (g1 < order.size() && odb::content_algorithm(ids[order[g1]]) == alg) ++g1;
    std::vector<size_t> ks;  // present objects of this group (indexes into order)
    std::vector<std::string> lookup_paths;
    std::vector<state::StatKey> keys;
    for (size_t k = g0; k < g1; ++k) {
      if (stats[k].type != fsx::FileType::regular) continue;
      ks.push_back(k);
      lookup_paths.push_back(obj_paths[order[k]]);
      keys.push_back(object_key(stats[k]));
    }
    g0 = g1;
    std::vector<std::optional<std::string>> known(ks.size());
    if (db) known = db->lookup(lookup_paths, keys, alg, state::Racy::trust);
    std::vector<size_t> todo;  // indexes into ks
    std::vector<std::string> hash_paths;
    for (size_t j = 0; j < ks.size(); ++j) {
      const auto& id = ids[order[ks[j]]];
      if (known[j] && *known[j] == odb::content_digest(id)) continue;
      todo.push_back(j);
      hash_paths.push_back(lookup_paths[j]);
    }
    if (todo.empty()) continue;
    auto digests = hash::hash_files(hash_paths, alg, threads);
    std::vector<std::string> good_paths, good_md5s;
    std::vector<state::StatKey> good_keys;
    for (size_t t = 0; t < todo.size(); ++t) {
      size_t i = order[ks[todo[t]]];
      const auto& id = ids[i];
      if (!digests[t]) continue;  // unreadable or gone: the link (or the caller) reports it
      if (digests[t]->md5 == odb::content_digest(id)) {
        good_paths.push_back(hash_paths[t]);
        good_keys.push_back(object_key(digests[t]->stat));
        good_md5s.push_back(digests[t]->md5);
        continue;
      }
      bad.push_back(quarantine_object(ctx, id, paths ? (*paths)[i] : std::string()));
    }
    if (db && !good_paths.empty()) (void)db->store(good_paths, good_keys, good_md5s, alg);
  }
  return bad;
}

bool trusted_object(const Context& ctx, const odb::ObjectId& id) {
  return ctx.trusted && std::binary_search(ctx.trusted->begin(), ctx.trusted->end(), id);
}

void record_objects(const Context& ctx, const std::vector<odb::ObjectId>& ids, int64_t min_size) {
  state::StateDb* db = ctx.hasher ? ctx.hasher->state() : nullptr;
  if (!db || ids.empty()) return;
  std::vector<fsx::FileStat> stats(ids.size());
  parallel_for_ranges(ids.size(), 256, ctx.hasher->threads(), [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; ++i) stats[i] = fsx::lstat_path(ctx.cache->path_of(ids[i]));
  });
  for (auto alg : {hash::Algorithm::md5, hash::Algorithm::md5_dos2unix}) {
    std::vector<std::string> paths, md5s;
    std::vector<state::StatKey> keys;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (odb::content_algorithm(ids[i]) != alg || stats[i].type != fsx::FileType::regular ||
          stats[i].size < min_size)
        continue;
      paths.push_back(ctx.cache->path_of(ids[i]));
      keys.push_back(object_key(stats[i]));
      md5s.emplace_back(odb::content_digest(ids[i]));
    }
    if (!paths.empty()) (void)db->store(paths, keys, md5s, alg);
  }
}

bool large_object_known_good(const Context& ctx, const odb::ObjectId& id) {
  state::StateDb* db = ctx.hasher ? ctx.hasher->state() : nullptr;
  if (!db) return false;
  std::string path = ctx.cache->path_of(id);
  auto st = fsx::lstat_path(path);
  if (st.type != fsx::FileType::regular || st.size < k_recorded_copy_size) return false;
  auto known = db->lookup({path}, {object_key(st)}, odb::content_algorithm(id), state::Racy::trust);
  return known[0] && *known[0] == odb::content_digest(id);
}

bool links_without_reading(const Context& ctx, const std::vector<LinkType>& types, const std::string& dir) {
  std::string probe_dir = dir;  // the reflink probe needs a folder that exists
  while (fsx::lstat_path(probe_dir).type != fsx::FileType::directory && probe_dir.size() > ctx.root.size())
    probe_dir = fsx::parent_dir(probe_dir);
  for (auto t : types) {
    if (t == LinkType::copy) return false;
    if (t == LinkType::reflink && !ctx.cache->reflink_works(probe_dir)) continue;
    return true;
  }
  return false;
}

CorruptObject quarantine_object(const Context& ctx, const odb::ObjectId& id, const std::string& path) {
  CorruptObject c{id, path, {}};
  if (ctx.cache->exists(id))
    if (auto q = ctx.cache->quarantine(id)) c.quarantined = *q;
  return c;
}

Status link_from_cache(const std::string& object_path, const std::string& dst, std::vector<LinkType>& link_types,
                       bool isexec, Placement placement, const odb::ObjectId* verify) {
  const uint32_t file_mode = 0666 & ~fsx::current_umask();
  const bool direct = placement == Placement::direct;
  std::string tmp = direct ? dst : fsx::temp_path_beside(dst);
  while (true) {
    // Types the file system can't make are dropped (for the rest of the command) and the next
    // one is tried; other errors are real. An empty list means none of cache.type works here.
    if (link_types.empty()) return std::unexpected(no_link_types_error(dst));
    LinkType t = link_types.front();
    Status made;
    if (t == LinkType::copy) {
      made = verify ? odb::copy_verified(object_path, tmp, file_mode, *verify) : fsx::copy_file(object_path, tmp, file_mode);
    } else if (auto obj = t == LinkType::hardlink ? fsx::lstat_path(object_path) : fsx::FileStat{};
               obj.type == fsx::FileType::regular && obj.size == 0) {
      // Never hardlink empty objects (link-count limits): a private empty file instead.
      made = fsx::write_file_atomic(tmp, "", 0666);
      t = LinkType::copy;  // a private file: exec bits apply below
    } else {
      auto linked = fsx::try_link(t, object_path, tmp);
      if (linked && !*linked) {
        link_types.erase(link_types.begin());
        continue;
      }
      if (!linked) made = std::unexpected(linked.error());
      else if (t == LinkType::reflink) made = fsx::chmod_path(tmp, file_mode);
    }
    if (!made) {
      (void)fsx::remove_file(tmp);
      return made;
    }
    if (isexec && t != LinkType::symlink && t != LinkType::hardlink) {
      auto s = fsx::lstat_path(tmp);
      (void)fsx::chmod_path(tmp, s.mode | 0100);
    }
    if (direct) return {};
    if (auto r = fsx::rename_path(tmp, dst); !r) {
      (void)fsx::remove_file(tmp);
      return r;
    }
    // rename(2) does nothing when both names are links to the same inode (relinking a file
    // that already is the hardlinked object): the temp name is then still there.
    (void)fsx::remove_file(tmp);
    return {};
  }
}

namespace {

// The first symlink among the folders from `dir` (inclusive) up to `stop` (exclusive), walking
// up; nullopt when all are real folders or missing, i.e. writing below `dir` cannot be
// redirected. Folders found fine are remembered in `ok_dirs` (shared by one checkout).
std::optional<std::string> symlinked_parent(const std::string& dir, const std::string& stop,
                                            std::unordered_set<std::string>& ok_dirs) {
  std::string d = dir;
  std::vector<std::string> seen;
  while (d.size() > stop.size() && fsx::is_within(d, stop)) {
    if (ok_dirs.count(d)) break;
    if (fsx::lstat_path(d).type == fsx::FileType::symlink) return d;
    seen.push_back(d);
    d = fsx::parent_dir(d);
  }
  for (auto& x : seen) ok_dirs.insert(x);
  return std::nullopt;
}

Error symlinked_parent_error(const std::string& abs_path, const std::string& link) {
  return Error{ErrorCode::permission, "refusing to write '" + abs_path + "' through the symlinked folder '" + link +
                                          "': it could lead outside of the repository; replace the symlink by a "
                                          "real folder"};
}

}  // namespace

std::vector<std::string> unsaved_files(const Context& ctx, const std::string& abs_path, const OutputState& current,
                                       const odb::ObjectId& recorded,
                                       const std::vector<formats::ManifestEntry>* recorded_entries) {
  std::vector<std::string> out;
  auto in_cache = [&](const std::string& md5) { return ctx.cache->exists(odb::ObjectId{md5, recorded.layout}); };
  if (current.kind == OutputState::Kind::file) {
    if (current.oid != recorded.oid && !in_cache(current.oid)) out.push_back(abs_path);
  } else if (current.kind == OutputState::Kind::dir) {
    std::unordered_map<std::string, const std::string*> want;
    if (recorded_entries)
      for (auto& e : *recorded_entries) want.emplace(e.relpath, &e.md5);
    for (auto& e : current.entries) {
      auto it = want.find(e.relpath);
      bool keep = it != want.end() && *it->second == e.md5;
      if (it == want.end() && is_temp_name(fsx::base_name(e.relpath))) continue;  // left by a killed run
      if (!keep && !in_cache(e.md5)) out.push_back(abs_path + "/" + e.relpath);
    }
  }
  return out;
}

Result<Obstacle> check_destination(const Context& ctx, const std::string& abs_path) {
  std::unordered_set<std::string> ok_dirs;
  if (auto link = symlinked_parent(fsx::parent_dir(abs_path), ctx.root, ok_dirs))
    return std::unexpected(symlinked_parent_error(abs_path, *link));
  auto s = fsx::lstat_path(abs_path);
  if (s.type == fsx::FileType::other) return Obstacle::special;
  if (s.type != fsx::FileType::symlink) return Obstacle::none;
  // A link to a cache object is what cache.type = symlink makes: checkout replaces it as a file.
  if (ctx.cache && fsx::stat_path(abs_path).type == fsx::FileType::regular) {
    auto real = fsx::real_path(abs_path), cache_root = fsx::real_path(ctx.cache->root());
    if (real && cache_root && fsx::is_within(*real, *cache_root)) return Obstacle::none;
  }
  return Obstacle::symlink;
}

Error obstacle_error(const std::string& abs_path, Obstacle what) {
  if (what == Obstacle::special)
    return Error{ErrorCode::conflict, "'" + abs_path +
                                          "' is not a file or directory (a FIFO, socket or device) and stands where "
                                          "tracked data belongs. Use `--force` to replace it."};
  return Error{ErrorCode::conflict, "'" + abs_path +
                                        "' is a symlink that stands where tracked data belongs; checkout never writes "
                                        "through it. Use `--force` to replace the symlink itself (its target is left "
                                        "alone)."};
}

void remove_temp_leftovers(const std::string& dir) {
  auto listing = fsx::list_dir(dir);
  if (!listing) return;
  for (auto& e : *listing) {
    if (!is_temp_name(e.name)) continue;
    std::string p = dir + "/" + e.name;
    // Never follows a link: remove_all of a symlink removes the link.
    (void)(e.type == fsx::FileType::directory ? fsx::remove_all(p) : fsx::remove_file(p));
  }
}

namespace {

// A staging folder removed again unless it was published (every early return cleans up).
struct StagingDir {
  std::string path;
  StagingDir() = default;
  StagingDir(const StagingDir&) = delete;
  StagingDir& operator=(const StagingDir&) = delete;
  ~StagingDir() {
    if (!path.empty()) (void)fsx::remove_all(path);
  }
};

}  // namespace

Result<CheckoutResult> checkout(const Context& ctx, const std::string& abs_path, const odb::ObjectId& recorded,
                                std::optional<bool> isexec, Force force, Relink relink,
                                const OutputState* precomputed) {
  CheckoutResult res;
  // Where we would write comes first: nothing is read through, or written through, a
  // symlinked folder; a symlink, FIFO or socket at the output itself is replaced only when
  // forced (and then the link itself is removed, never its target).
  auto dest = check_destination(ctx, abs_path);
  if (!dest) return std::unexpected(dest.error());
  const bool obstacle = *dest != Obstacle::none;
  if (obstacle && force == Force::no) return std::unexpected(obstacle_error(abs_path, *dest));
  auto alg = odb::algorithm_for(recorded.layout);
  Result<OutputState> current = obstacle      ? Result<OutputState>(OutputState{})
                                : precomputed ? Result<OutputState>(*precomputed)
                                              : compute_state(ctx, abs_path, alg);
  if (!current) return std::unexpected(current.error());
  std::vector<LinkType> types = ctx.link_types.empty() ? std::vector<LinkType>{LinkType::reflink, LinkType::copy}
                                                       : ctx.link_types;
  const bool existed = obstacle || current->kind != OutputState::Kind::missing;

  if (!recorded.is_dir()) {
    bool same = current->kind == OutputState::Kind::file && current->oid == recorded.oid;
    if (same && relink == Relink::no) {
      if (isexec && *isexec && !current->isexec) {
        auto s = fsx::lstat_path(abs_path);
        (void)fsx::chmod_path(abs_path, s.mode | 0100);
        res.change = CheckoutResult::Change::modified;
        res.files_modified = 1;
      }
      return res;
    }
    if (!ctx.cache->exists(recorded)) {
      res.missing_in_cache = true;
      return res;
    }
    // A linked object is checked first (state db); a copied one while it is copied.
    if (links_without_reading(ctx, types, fsx::parent_dir(abs_path))) {
      std::vector<std::string> paths{abs_path};
      res.corrupted = verify_objects(ctx, {recorded}, &paths);
      if (!res.corrupted.empty()) {
        res.missing_in_cache = true;
        return res;
      }
    }
    if (force == Force::no && !same) {
      auto unsaved = unsaved_files(ctx, abs_path, *current, recorded, nullptr);
      if (!unsaved.empty()) return fail(ErrorCode::conflict, join(unsaved, "\n"));
    }
    if (current->kind == OutputState::Kind::dir) {
      if (auto r = fsx::remove_all(abs_path); !r) return std::unexpected(r.error());
    }
    // An obstacle (symlink, FIFO) is replaced by the rename of link_from_cache itself. A large
    // object verified before (and unchanged since) is copied without being read again; one
    // verified now is recorded for the next time.
    if (auto r = fsx::make_dirs(fsx::parent_dir(abs_path)); !r) return std::unexpected(r.error());
    const bool known_good = trusted_object(ctx, recorded) || large_object_known_good(ctx, recorded);
    if (auto r = link_from_cache(ctx.cache->path_of(recorded), abs_path, types, isexec.value_or(false),
                                 Placement::via_temp, known_good ? nullptr : &recorded);
        !r) {
      if (r.error().code != ErrorCode::corruption) return std::unexpected(r.error());
      res.corrupted.push_back(quarantine_object(ctx, recorded, abs_path));
      res.missing_in_cache = true;
      return res;
    }
    if (!known_good && fsx::lstat_path(ctx.cache->path_of(recorded)).size >= k_recorded_copy_size)
      record_objects(ctx, {recorded});
    res.change = existed ? CheckoutResult::Change::modified : CheckoutResult::Change::added;
    (existed ? res.files_modified : res.files_added) = 1;
    return res;
  }

  // Directory output.
  if (!ctx.cache->exists(recorded)) {
    res.missing_in_cache = true;
    return res;
  }
  auto entries = ctx.cache->read_manifest(recorded);
  if (!entries) return std::unexpected(entries.error());
  for (auto& e : *entries) {
    if (!safe_relpath(e.relpath))
      return fail(ErrorCode::corruption, "refusing to check out '" + abs_path + "': manifest '" +
                                             ctx.cache->path_of(recorded) + "' holds the unsafe path '" + e.relpath + "'");
    if (!odb::valid_oid(e.md5) || e.md5.ends_with(".dir"))
      return fail(ErrorCode::corruption, "manifest '" + ctx.cache->path_of(recorded) + "' holds an invalid hash '" + e.md5 + "'");
  }
  {
    std::vector<odb::ObjectId> ids;
    ids.reserve(entries->size());
    for (auto& e : *entries) ids.push_back(odb::ObjectId{e.md5, recorded.layout});
    for (bool present : ctx.cache->exists_many(ids, ctx.hasher->threads()))
      if (!present) {
        res.missing_in_cache = true;
        return res;
      }
  }
  if (current->kind == OutputState::Kind::dir && current->oid == recorded.oid && current->dangling.empty() &&
      relink == Relink::no)
    return res;
  const bool links = links_without_reading(ctx, types, abs_path);
  if (links) {
    // Objects about to be linked are checked before anything is touched.
    std::unordered_map<std::string_view, std::string_view> now;
    if (current->kind == OutputState::Kind::dir)
      for (auto& e : current->entries) now.emplace(e.relpath, e.md5);
    std::vector<odb::ObjectId> ids;
    std::vector<std::string> paths;
    for (auto& e : *entries) {
      auto it = now.find(e.relpath);
      if (it != now.end() && it->second == e.md5 && relink == Relink::no) continue;
      ids.push_back(odb::ObjectId{e.md5, recorded.layout});
      paths.push_back(abs_path + "/" + e.relpath);
    }
    res.corrupted = verify_objects(ctx, ids, &paths);
    if (!res.corrupted.empty()) {
      res.missing_in_cache = true;
      return res;
    }
  }
  if (force == Force::no) {
    auto unsaved = unsaved_files(ctx, abs_path, *current, recorded, &*entries);
    if (!unsaved.empty()) return fail(ErrorCode::conflict, join(unsaved, "\n"));
  }
  std::unordered_set<std::string> ok_dirs;
  if (current->kind == OutputState::Kind::file) {
    if (auto r = fsx::remove_file(abs_path); !r) return std::unexpected(r.error());
    ++res.files_deleted;
  }
  // Inside an existing folder, every folder a recorded file goes into must be real too (a
  // symlinked subfolder could lead anywhere): checked before anything is deleted.
  if (current->kind == OutputState::Kind::dir) {
    std::string_view last_folder = "/";  // entries are sorted: a folder's files come in a run
    for (auto& e : *entries) {
      size_t slash = e.relpath.rfind('/');
      if (slash == std::string::npos) continue;  // directly in the output
      std::string_view folder(e.relpath.data(), slash);
      if (folder == last_folder) continue;
      last_folder = folder;
      std::string p = abs_path + "/" + e.relpath;
      if (auto link = symlinked_parent(fsx::parent_dir(p), abs_path, ok_dirs))
        return std::unexpected(symlinked_parent_error(p, *link));
    }
  }
  // Delete files that are not recorded.
  std::unordered_map<std::string, const std::string*> have;
  if (current->kind == OutputState::Kind::dir) {
    std::unordered_set<std::string> want;
    for (auto& e : *entries) want.insert(e.relpath);
    // Dangling symlinks hold no data: removed (the link itself) unless a recorded file
    // replaces them below.
    for (auto& d : current->dangling) {
      if (want.count(d)) continue;
      std::string p = abs_path + "/" + d;
      if (auto r = fsx::remove_file(p); !r) return std::unexpected(r.error());
      fsx::remove_empty_dirs_up(fsx::parent_dir(p), abs_path);
      ++res.files_deleted;
    }
    for (auto& e : current->entries) {
      if (!want.count(e.relpath)) {
        std::string p = abs_path + "/" + e.relpath;
        if (auto r = fsx::remove_file(p); !r) return std::unexpected(r.error());
        fsx::remove_empty_dirs_up(fsx::parent_dir(p), abs_path);
        ++res.files_deleted;
      } else {
        have.emplace(e.relpath, &e.md5);
      }
    }
  }
  // A directory that doesn't exist yet is built in a staging directory beside it and renamed
  // into place at the end: files are written directly (no temp + rename per file), and a
  // killed checkout leaves only a temp directory (removed by the next checkout), never a
  // half-filled output.
  const bool staged = current->kind == OutputState::Kind::missing;
  std::string target = abs_path;
  StagingDir staging;
  if (staged) {
    std::string parent = fsx::parent_dir(abs_path);
    if (auto r = fsx::make_dirs(parent); !r) return std::unexpected(r.error());
    remove_temp_leftovers(parent);
    target = fsx::temp_path_beside(abs_path);
    staging.path = target;
  }
  if (auto r = fsx::make_dirs(target); !r) return std::unexpected(r.error());
  // Create or replace files.
  std::vector<size_t> todo;
  for (size_t i = 0; i < entries->size(); ++i) {
    auto it = have.find((*entries)[i].relpath);
    if (it == have.end()) todo.push_back(i);
    else if (*it->second != (*entries)[i].md5 || relink == Relink::yes) todo.push_back(i);
  }
  std::mutex m;
  std::optional<Error> first;
  std::atomic<int64_t> added{0}, modified{0};
  std::atomic<size_t> done{0};
  // Directories first (serially: cheap, and avoids races creating the same parent).
  std::unordered_set<std::string> made_dirs{target};
  for (size_t i : todo) {
    std::string p = target + "/" + (*entries)[i].relpath;
    std::string parent = fsx::parent_dir(p);
    if (made_dirs.count(parent)) continue;
    if (auto r = fsx::make_dirs(parent); !r) return std::unexpected(r.error());
    made_dirs.insert(parent);
  }
  auto link_one = [&](size_t k) {
    const auto& e = (*entries)[todo[k]];
    std::string p = target + "/" + e.relpath;
    std::vector<LinkType> local_types;
    {
      std::lock_guard<std::mutex> lock(m);
      local_types = types;
    }
    odb::ObjectId id{e.md5, recorded.layout};
    auto r = link_from_cache(ctx.cache->path_of(id), p, local_types, false,
                             staged ? Placement::direct : Placement::via_temp, trusted_object(ctx, id) ? nullptr : &id);
    if (!r) {
      if (r.error().code == ErrorCode::corruption) {
        // Quarantined; the other files are still created, the output is reported failed.
        auto c = quarantine_object(ctx, id, abs_path + "/" + e.relpath);
        std::lock_guard<std::mutex> lock(m);
        res.corrupted.push_back(std::move(c));
        return;
      }
      std::lock_guard<std::mutex> lock(m);
      // No type left: named by the output, not by a file of the staging folder.
      if (!first) first = local_types.empty() ? no_link_types_error(abs_path) : r.error();
      return;
    }
    if (local_types.size() < types.size()) {
      std::lock_guard<std::mutex> lock(m);
      if (local_types.size() < types.size()) types = local_types;
    }
    if (have.count(e.relpath)) ++modified;
    else ++added;
    size_t d = ++done;
    if (ctx.progress) ctx.progress("checkout", d, todo.size());
  };
  // Threads across folders, not within one: creating files in one folder takes its lock, so
  // workers that share a folder mostly wait on each other (a copy of 5,000 small files into one
  // folder spent twice the kernel time on two threads for no gain in wall time). Entries are
  // sorted, so a folder is a run, and each worker takes whole runs. Only copies of large files,
  // which move data rather than directory entries, go file by file across all workers.
  auto dir_of = [&](size_t k) {
    std::string_view rel = (*entries)[todo[k]].relpath;
    size_t slash = rel.rfind('/');
    return slash == std::string_view::npos ? std::string_view() : rel.substr(0, slash);
  };
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t k = 0; k < todo.size();) {
    size_t end = k + 1;
    while (end < todo.size() && dir_of(end) == dir_of(k)) ++end;
    runs.emplace_back(k, end);
    k = end;
  }
  const bool metadata_only = !types.empty() && (types.front() == LinkType::hardlink || types.front() == LinkType::symlink);
  bool large_files = false;
  if (!metadata_only && !todo.empty()) {  // the mean size of a sample of the objects
    constexpr size_t k_sample = 32;
    constexpr int64_t k_large = int64_t(1) << 20;
    int64_t total = 0;
    size_t n = std::min(todo.size(), k_sample);
    for (size_t j = 0; j < n; ++j) {
      const auto& e = (*entries)[todo[j * todo.size() / n]];
      total += std::max<int64_t>(0, fsx::lstat_path(ctx.cache->path_of(odb::ObjectId{e.md5, recorded.layout})).size);
    }
    large_files = total / static_cast<int64_t>(n) >= k_large;
  }
  if (large_files) {
    parallel_for(todo.size(), ctx.hasher->threads() * 2, link_one);
  } else {
    // Copies wait on the disk as well: twice as many workers as cores (one per folder at most).
    parallel_for(runs.size(), ctx.hasher->threads() * (metadata_only ? 1 : 2), [&](size_t r) {
      for (size_t k = runs[r].first; k < runs[r].second; ++k) link_one(k);
    });
  }
  if (first || !res.corrupted.empty()) {
    if (first) return std::unexpected(*first);  // the staging folder goes with `staging`
    // A copied object was corrupted: a new output is not created; an existing one keeps the
    // old content of the files concerned.
    std::sort(res.corrupted.begin(), res.corrupted.end(),
              [](const CorruptObject& a, const CorruptObject& b) { return a.path < b.path; });
    res.missing_in_cache = true;
    res.files_added = res.files_modified = 0;
    return res;
  }
  if (staged) {
    // The obstacle (a symlink, a FIFO) goes only now that its replacement is complete; a
    // folder can't be renamed over it.
    if (obstacle)
      if (auto r = fsx::remove_file(abs_path); !r) return std::unexpected(r.error());
    if (auto r = fsx::rename_path(target, abs_path); !r) return std::unexpected(r.error());
    staging.path.clear();
  }
  res.files_added = added;
  res.files_modified = modified;
  if (!existed) res.change = CheckoutResult::Change::added;
  else if (res.files_added || res.files_modified || res.files_deleted) res.change = CheckoutResult::Change::modified;
  return res;
}

Status unprotect(const std::string& abs_path) {
  auto s = fsx::lstat_path(abs_path);
  const uint32_t file_mode = 0666 & ~fsx::current_umask();
  auto one = [&](const std::string& p, const fsx::FileStat& st) -> Status {
    if (st.type == fsx::FileType::symlink || (st.type == fsx::FileType::regular && st.nlink > 1)) {
      std::string tmp = fsx::temp_path_beside(p);
      uint32_t exec_bits = fsx::stat_path(p).mode & 0111;  // the target's, not the link's 0777
      if (auto r = fsx::copy_file(p, tmp, file_mode | exec_bits); !r) return r;
      return fsx::rename_path(tmp, p);
    }
    if (st.type == fsx::FileType::regular) return fsx::chmod_path(p, st.mode | (0666 & ~fsx::current_umask()));
    return {};
  };
  if (s.type != fsx::FileType::directory) return one(abs_path, s);
  std::vector<std::string> stack{abs_path};
  while (!stack.empty()) {
    std::string d = stack.back();
    stack.pop_back();
    auto entries = fsx::list_dir(d);
    if (!entries) return std::unexpected(entries.error());
    for (auto& e : *entries) {
      std::string p = d + "/" + e.name;
      if (e.type == fsx::FileType::directory) stack.push_back(p);
      else if (auto r = one(p, fsx::lstat_path(p)); !r) return r;
    }
  }
  return {};
}

}  // namespace dvx::workspace
