#include "dvx/transfer/transfer.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <unordered_set>

#include "dvx/base/thread_pool.h"
#include "dvx/hash/md5.h"
#include "dvx/odb/bulk_writer.h"
#include "dvx/platform/files.h"

namespace dvx::transfer {

namespace fsx = dvx::platform;

std::string remote_key(const odb::ObjectId& id) {
  std::string rel = id.oid.substr(0, 2) + "/" + id.oid.substr(2);
  return id.layout == odb::Layout::v3 ? "files/md5/" + rel : rel;
}

Result<std::vector<bool>> remote_contains(const remote::Remote& remote, const std::vector<odb::ObjectId>& ids,
                                          unsigned jobs) {
  std::vector<char> found(ids.size(), 0);
  std::mutex m;
  std::optional<Error> first;
  parallel_for(ids.size(), jobs, [&](size_t i) {
    auto r = remote.exists(remote_key(ids[i]));
    if (!r) {
      std::lock_guard<std::mutex> lock(m);
      if (!first) first = r.error();
      return;
    }
    found[i] = *r ? 1 : 0;
  });
  if (first) return std::unexpected(*first);
  return std::vector<bool>(found.begin(), found.end());
}

namespace {

// Objects a worker takes at a time: up to `most` (small objects batched), but never so many that
// a few objects (large ones) land on fewer workers than there are.
size_t chunk_for(size_t n, unsigned jobs, size_t most) {
  return std::clamp<size_t>(n / (size_t(std::max(1u, jobs)) * 4), 1, most);
}

struct Collector {
  std::mutex m;
  TransferResult result;
  std::atomic<size_t> done{0};
  void missing(const odb::ObjectId& id) {
    std::lock_guard<std::mutex> lock(m);
    result.missing.push_back(id);
  }
  void failed(const odb::ObjectId& id, std::string error) {
    std::lock_guard<std::mutex> lock(m);
    result.failed.push_back(id);
    result.errors.push_back(std::move(error));
  }
  // A cache object whose bytes do not match its name: moved aside so nothing uses it again.
  void corrupted(const odb::ObjectDb& cache, const odb::ObjectId& id, std::string error) {
    auto moved = cache.quarantine(id);
    std::lock_guard<std::mutex> lock(m);
    result.corrupted.push_back(id);
    result.quarantined.push_back(moved ? *moved : std::string());
    result.failed.push_back(id);
    result.errors.push_back(std::move(error));
  }
  void copied(const odb::ObjectId* verified = nullptr, const odb::ObjectId* received = nullptr) {
    std::lock_guard<std::mutex> lock(m);
    ++result.transferred;
    if (verified) result.verified.push_back(*verified);
    if (received) result.received.push_back(*received);
  }
  TransferResult finish() {
    std::sort(result.missing.begin(), result.missing.end());
    return std::move(result);
  }
};

}  // namespace

namespace {

// Keys present on the remote among `ids`: for many ids one listing of the remote is cheaper
// than a query per object (DVC's "traverse"); for few, per-object queries.
// A failed query is an error, never "absent".
Result<std::vector<char>> present_on_remote(const remote::Remote& remote, const std::vector<odb::ObjectId>& ids,
                                            unsigned jobs) {
  std::vector<char> out(ids.size(), 0);
  constexpr size_t k_list_threshold = 1000;
  if (ids.size() >= k_list_threshold) {
    bool any_v3 = false, any_legacy = false;
    for (auto& id : ids) (id.layout == odb::Layout::v3 ? any_v3 : any_legacy) = true;
    std::unordered_set<std::string> keys;
    bool ok = true;
    if (any_v3) {
      auto l = remote.list("files/md5");
      if (l) keys.insert(l->begin(), l->end());
      else ok = false;
    }
    if (ok && any_legacy) {
      auto l = remote.list("");
      if (l) keys.insert(l->begin(), l->end());
      else ok = false;
    }
    if (ok) {
      for (size_t i = 0; i < ids.size(); ++i) out[i] = keys.count(remote_key(ids[i])) ? 1 : 0;
      return out;
    }
  }
  auto there = remote_contains(remote, ids, jobs);
  if (!there) return std::unexpected(there.error());
  for (size_t i = 0; i < ids.size(); ++i) out[i] = (*there)[i] ? 1 : 0;
  return out;
}

}  // namespace

TransferResult push(const odb::ObjectDb& cache, const remote::Remote& remote, const std::vector<odb::ObjectId>& ids,
                    unsigned jobs, const Progress& progress, const std::function<bool(const odb::ObjectId&)>& trusted) {
  Collector c;
  auto present = present_on_remote(remote, ids, jobs);
  if (!present) {  // nothing is known about the remote: nothing is uploaded, every object failed
    for (auto& id : ids) c.failed(id, present.error().message);
    return c.finish();
  }
  const auto& there = *present;
  auto local = cache.exists_many(ids, jobs);
  auto batch = remote.batch();
  std::vector<char> batched(ids.size(), 0);
  auto tick = [&] {
    size_t d = ++c.done;
    if (progress) progress(d, ids.size());
  };
  auto settle = [&](const odb::ObjectId& id, const Status& r) {
    if (!r) {
      if (r.error().code == ErrorCode::corruption) c.corrupted(cache, id, r.error().message);
      else c.failed(id, r.error().message);
    } else {
      c.copied();
    }
    tick();
  };
  // Small 3.x objects that need checking, for a remote that uploads from memory: read whole, a
  // chunk at a time per worker, hashed side by side (multi-buffer MD5), and the bytes hashed are
  // the bytes sent. The rest is hashed while it is streamed from its file.
  const size_t small_limit = batch ? 0 : static_cast<size_t>(remote.small_put_limit());
  constexpr size_t k_chunk = 32;
  constexpr size_t k_held = size_t(4) << 20;  // bytes a worker holds at most before sending them
  parallel_for_ranges(ids.size(), chunk_for(ids.size(), jobs, k_chunk), jobs, [&](size_t i0, size_t i1) {
    std::vector<size_t> read_i;
    std::vector<std::string> bufs;
    size_t held = 0;
    auto send_held = [&] {
      std::vector<std::string_view> views(bufs.begin(), bufs.end());
      auto digests = hash::md5_many(views);
      for (size_t j = 0; j < read_i.size(); ++j) {
        const auto& id = ids[read_i[j]];
        if (digests[j] != odb::content_digest(id))
          settle(id, std::unexpected(odb::corrupted(cache.path_of(id), id, digests[j])));
        else
          settle(id, remote.put_small(remote_key(id), bufs[j]));
      }
      read_i.clear();
      bufs.clear();
      held = 0;
    };
    for (size_t i = i0; i < i1; ++i) {
      const auto& id = ids[i];
      if (there[i]) {
        tick();
        continue;
      }
      if (!local[i]) {
        c.missing(id);
        tick();
        continue;
      }
      const odb::ObjectId* verify = trusted && trusted(id) ? nullptr : &id;
      std::string path = cache.path_of(id);
      if (small_limit > 0 && verify && odb::content_algorithm(id) == hash::Algorithm::md5) {
        // Larger objects, and any that cannot be read here, are streamed below (which reports
        // a read error as that object's failure).
        std::string bytes;
        if (auto small = fsx::read_file_upto(path, small_limit, bytes); small && *small) {
          held += bytes.size();
          read_i.push_back(i);
          bufs.push_back(std::move(bytes));
          if (held >= k_held) send_held();
          continue;
        }
      }
      if (batch) {
        auto r = batch->put(path, remote_key(id), verify);
        if (r) batched[i] = 1;
        settle(id, r);
      } else {
        settle(id, remote.put(path, remote_key(id), verify));
      }
    }
    if (!read_i.empty()) send_held();
  });
  if (batch) {
    if (auto r = batch->commit(); !r) {
      // Nothing of the batch is known to be there: every object of it failed.
      for (size_t i = 0; i < ids.size(); ++i)
        if (batched[i]) {
          c.failed(ids[i], r.error().message);
          --c.result.transferred;
        }
    }
  }
  return c.finish();
}

TransferResult fetch(const odb::ObjectDb& cache, const remote::Remote& remote, const std::vector<odb::ObjectId>& wanted,
                     unsigned jobs, odb::Verify verify, const Progress& progress) {
  Collector c;
  std::vector<odb::ObjectId> ids = wanted;  // each object once
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  // Objects for prefix folders the cache lacks (a fresh cache) are downloaded straight into a
  // staging tree published at the end; the others into a temp file adopted one by one.
  odb::BulkWriter bulk(cache);
  // Objects whose arrival depends on bulk.commit() (written into its staging tree, or through
  // bulk.add): reported failed if the commit fails.
  std::vector<char> via_bulk(ids.size(), 0);
  auto tick = [&] {
    size_t d = ++c.done;
    if (progress) progress(d, ids.size());
  };
  // One object streamed from the remote to a file, hashed on the way when verifying.
  auto fetch_streamed = [&](size_t i) {
    const auto& id = ids[i];
    auto in_staging = bulk.staged_path(id);
    std::string tmp = in_staging ? *in_staging : cache.temp_path_for(id);
    std::optional<hash::DigestStream> digest;
    fsx::ByteObserver observe;
    if (verify == odb::Verify::yes) {
      digest.emplace(odb::content_algorithm(id));
      observe = [&](std::string_view bytes) { digest->update(bytes.data(), bytes.size()); };
    }
    auto got = remote.get(remote_key(id), tmp, observe);
    Status stored;
    if (got && *got) {
      std::string d = digest ? digest->hex_digest() : std::string();
      if (digest && d != odb::content_digest(id))
        stored = fail(ErrorCode::corruption, "object '" + id.oid + "' is corrupted: its content hashes to '" + d + "'");
      else if (in_staging)
        via_bulk[i] = 1;
      else
        stored = cache.adopt(tmp, id);
    }
    if (!got) c.failed(id, got.error().message);
    else if (!*got) c.missing(id);
    else if (!stored) c.failed(id, stored.error().message);
    else c.copied(digest ? &id : nullptr, digest ? nullptr : &id);
    if (!via_bulk[i]) (void)fsx::remove_file(tmp);
  };
  // Verified downloads of small 3.x objects are read whole, a chunk at a time per worker, and
  // hashed side by side (multi-buffer MD5) before they are written; the rest is streamed.
  constexpr size_t k_chunk = 32;
  constexpr size_t k_small = size_t(1) << 20;
  // What the cache has, by a listing of its prefix folders (none for a fresh cache) rather than
  // an lstat per object; those listed are then checked one by one.
  const auto listed = cache.exists_many(ids, jobs);
  parallel_for_ranges(ids.size(), chunk_for(ids.size(), jobs, k_chunk), jobs, [&](size_t i0, size_t i1) {
    thread_local std::vector<std::string> bufs;
    bufs.resize(k_chunk);
    std::vector<size_t> read_i;
    std::vector<std::string_view> read_bytes;
    for (size_t i = i0; i < i1; ++i) {
      const auto& id = ids[i];
      if (listed[i] && cache.exists_valid(id, odb::Verify::no)) {
        tick();
        continue;
      }
      if (verify == odb::Verify::yes && odb::content_algorithm(id) == hash::Algorithm::md5) {
        auto r = remote.get_small(remote_key(id), k_small, bufs[i - i0]);
        if (!r) {
          c.failed(id, r.error().message);
          tick();
          continue;
        }
        if (*r == remote::Remote::SmallRead::absent) {
          c.missing(id);
          tick();
          continue;
        }
        if (*r == remote::Remote::SmallRead::read) {
          read_i.push_back(i);
          read_bytes.emplace_back(bufs[i - i0]);
          continue;
        }
      }
      fetch_streamed(i);
      tick();
    }
    auto digests = hash::md5_many(read_bytes);
    for (size_t j = 0; j < read_i.size(); ++j) {
      size_t i = read_i[j];
      const auto& id = ids[i];
      if (digests[j] != odb::content_digest(id)) {
        c.failed(id, "object '" + id.oid + "' is corrupted: its content hashes to '" + digests[j] + "'");
      } else if (auto w = bulk.add(read_bytes[j], id); !w) {
        c.failed(id, w.error().message);
      } else {
        via_bulk[i] = 1;
        c.copied(&id);
      }
      tick();
    }
  });
  if (auto r = bulk.commit(); !r) {
    for (size_t i = 0; i < ids.size(); ++i)
      if (via_bulk[i]) {
        c.failed(ids[i], r.error().message);
        --c.result.transferred;
      }
    // Nothing of the staging tree arrived: none of it is in the cache to be trusted.
    auto lost = [&](const odb::ObjectId& id) {
      auto it = std::lower_bound(ids.begin(), ids.end(), id);
      return it != ids.end() && *it == id && via_bulk[size_t(it - ids.begin())];
    };
    std::erase_if(c.result.verified, lost);
    std::erase_if(c.result.received, lost);
  }
  return c.finish();
}

}  // namespace dvx::transfer
