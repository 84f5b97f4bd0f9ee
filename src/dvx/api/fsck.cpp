// `dvx fsck` (alias `dvx cache verify`): checks what is stored — every object the workspace's (and
// with -a/-T/-A the revisions') .dvc files and dvc.lock reference, or with --cache-only every
// object of the cache: present, bytes hashing to the name (many files hashed side by side on all
// cores), `.dir` manifests that parse, sizes and file counts that agree with what was recorded, no
// leftover temp files; with -r the same on a remote (listing; --deep downloads and hashes).
// --repair replaces bad or missing cache objects from the remote or from an intact workspace copy;
// a corrupted object is moved to the cache's quarantine, never deleted.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include "dvx/api/internal.h"
#include "dvx/base/thread_pool.h"
#include "dvx/hash/md5.h"
#include "dvx/remote/remote.h"
#include "dvx/transfer/transfer.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::checked;

namespace {

// What the repository says about one object.
struct Expect {
  std::string name;                   // output (or <dir>/<file>) that references it
  std::optional<int64_t> size;        // recorded size (outputs only)
  std::optional<int64_t> nfiles;      // recorded file count (directories)
  std::string workspace;              // where an intact copy may be (absolute), "" if none
};

class Collector {
 public:

  void add_stages(const std::vector<repo::DvcStage>& stages, bool workspace) {
    for (auto& st : stages)
      for (auto& o : st.outs) {
        auto id = o.recorded();
        if (!id || !o.entry.cache) continue;
        Expect e;
        e.name = o.rel_path;
        if (o.entry.size) e.size = *o.entry.size;
        if (o.entry.nfiles) e.nfiles = *o.entry.nfiles;
        if (workspace) e.workspace = o.abs_path;
        add(*id, std::move(e));
      }
  }
  void add(const odb::ObjectId& id, Expect e) {
    auto [it, fresh] = m_objects.emplace(id, std::move(e));
    if (!fresh && it->second.workspace.empty()) it->second.workspace = e.workspace;
  }
  std::map<odb::ObjectId, Expect>& objects() { return m_objects; }

 private:
  std::map<odb::ObjectId, Expect> m_objects;
};

FsckProblem problem(std::string kind, const odb::ObjectId& id, const Expect* e, std::string detail) {
  FsckProblem p;
  p.kind = std::move(kind);
  p.oid = id.oid;
  p.legacy = id.layout == odb::Layout::legacy;
  if (e) p.name = e->name;
  p.detail = std::move(detail);
  return p;
}

std::string remote_key(const odb::ObjectId& id) {
  std::string rel = id.oid.substr(0, 2) + "/" + id.oid.substr(2);
  return id.layout == odb::Layout::v3 ? "files/md5/" + rel : rel;
}

// The object ids a remote lists (both layouts).
std::set<odb::ObjectId> remote_objects(const remote::Remote& rem) {
  std::set<odb::ObjectId> out;
  for (auto layout : {odb::Layout::v3, odb::Layout::legacy}) {
    auto keys = rem.list(layout == odb::Layout::v3 ? "files/md5" : "");
    if (!keys) throw UserError("failed to list remote " + rem.describe() + ": " + keys.error().message);
    for (auto& k : *keys)
      if (auto id = detail::remote_key_object(k, layout)) out.insert(*id);
  }
  return out;
}

}  // namespace

FsckResult fsck(repo::Repo& repo, const FsckOptions& opts, const std::function<void(const std::string&)>& progress) {
  const odb::ObjectDb& cache = repo.cache();
  // Reading objects waits on the disk when they are not in the page cache: 8 readers per core
  // keep it busy (a cold 100k-object check here: 5.5 s on 2 threads, 2.1 s on 8, 1.7-1.9 s on
  // 16) and cost nothing when they are (0.47 s warm either way).
  unsigned threads = opts.jobs.value_or(std::max(1u, repo.jobs()));  // remote transfers
  unsigned readers = opts.jobs.value_or(std::clamp(8 * threads, 8u, 64u));
  FsckResult result;
  Collector col;
  if (opts.cache_only) {
    for (auto layout : {odb::Layout::v3, odb::Layout::legacy})
      for (auto& id : checked(cache.list(layout))) col.add(id, Expect{});
  } else {
    col.add_stages(repo.stages(), true);
    for (auto& commit : detail::revision_commits(repo, opts.all_branches, opts.all_tags, opts.all_commits))
      col.add_stages(repo::stages_at(repo, commit), false);
  }

  // Directories first: their manifests add the file objects they list.
  std::vector<FsckProblem> problems;
  std::set<odb::ObjectId> bad;  // in the cache but not usable (corrupted, malformed)
  std::vector<std::pair<odb::ObjectId, Expect>> dirs;
  for (auto& [id, e] : col.objects())
    if (id.is_dir()) dirs.emplace_back(id, e);
  for (auto& [id, e] : dirs) {
    auto bytes = cache.read(id);
    if (!bytes) {
      if (bytes.error().code == ErrorCode::not_found) {
        problems.push_back(problem("missing", id, &e, "not in the cache"));
        continue;
      }
      throw UserError(bytes.error().message);
    }
    std::string digest = hash::md5_hex(*bytes);
    if (digest != odb::content_digest(id)) {
      problems.push_back(problem("corrupted", id, &e, "its bytes hash to " + digest));
      bad.insert(id);
      continue;
    }
    auto entries = formats::decode_manifest(*bytes, cache.path_of(id));
    bool valid = entries.has_value();
    if (valid)
      for (auto& m : *entries)
        if (!odb::valid_oid(m.md5) || m.md5.ends_with(".dir") || m.relpath.empty() || m.relpath.starts_with("/") ||
            m.relpath == ".." || m.relpath.starts_with("../") || m.relpath.find("/../") != std::string::npos)
          valid = false;
    if (!valid) {
      problems.push_back(problem("malformed", id, &e, "the manifest does not parse or lists an invalid entry"));
      bad.insert(id);
      continue;
    }
    if (e.nfiles && *e.nfiles != static_cast<int64_t>(entries->size()))
      problems.push_back(problem("mismatch", id, &e,
                                 "recorded nfiles " + std::to_string(*e.nfiles) + ", the manifest lists " +
                                     std::to_string(entries->size())));
    for (auto& m : *entries) {
      Expect fe;
      fe.name = (e.name.empty() ? id.oid : e.name) + "/" + m.relpath;
      if (!e.workspace.empty()) fe.workspace = e.workspace + "/" + m.relpath;
      col.add(odb::ObjectId{m.md5, id.layout}, std::move(fe));
    }
  }

  // Files: present, then hashed side by side, grouped by the algorithm of their layout.
  std::vector<std::pair<odb::ObjectId, const Expect*>> files;
  for (auto& [id, e] : col.objects())
    if (!id.is_dir()) files.emplace_back(id, &e);
  for (auto alg : {hash::Algorithm::md5, hash::Algorithm::md5_dos2unix}) {
    std::vector<std::pair<odb::ObjectId, const Expect*>> group;
    std::vector<std::string> paths;
    for (auto& f : files) {
      if (odb::content_algorithm(f.first) != alg) continue;
      // Not checked for presence here: hash_files opens each file on all threads and reports a
      // missing one as not_found (a stat per object here would run serially, before them).
      group.push_back(f);
      paths.push_back(cache.path_of(f.first));
    }
    if (paths.empty()) continue;
    if (progress) progress("hashing " + std::to_string(paths.size()) + " cache files");
    auto digests = hash::hash_files(paths, alg, readers);
    for (size_t i = 0; i < group.size(); ++i) {
      auto& [id, e] = group[i];
      auto& d = digests[i];
      if (!d) {
        if (d.error().code == ErrorCode::not_found) problems.push_back(problem("missing", id, e, "not in the cache"));
        else problems.push_back(problem("unreadable", id, e, d.error().message));
        continue;
      }
      if (d->md5 != odb::content_digest(id)) {
        problems.push_back(problem("corrupted", id, e, "its bytes hash to " + d->md5));
        bad.insert(id);
        continue;
      }
      if (e->size && *e->size != d->size)
        problems.push_back(problem("mismatch", id, e,
                                   "recorded size " + std::to_string(*e->size) + ", the object has " +
                                       std::to_string(d->size) + " bytes"));
    }
  }
  result.checked = col.objects().size();

  // Leftovers of killed commands in the cache's folders.
  for (auto layout : {odb::Layout::v3, odb::Layout::legacy}) {
    std::vector<std::string> leftovers;
    (void)cache.list(layout, &leftovers);
    for (auto& p : leftovers) {
      // A fresh one may belong to a command writing right now: only old ones are strays.
      if (!odb::is_stale_leftover(p)) continue;
      FsckProblem s;
      s.kind = "stray";
      s.name = p;
      s.detail = "a temporary file an interrupted command left (more than a day old)";
      problems.push_back(std::move(s));
    }
  }

  // The remote: listed; --deep downloads and hashes what the repository references.
  std::unique_ptr<remote::Remote> rem;
  std::string rem_name;
  if (opts.remote) {
    rem_name = *opts.remote;
    rem = detail::open_named_remote(repo, rem_name);
    auto there = remote_objects(*rem);
    std::vector<std::pair<odb::ObjectId, const Expect*>> deep;
    for (auto& [id, e] : col.objects()) {
      if (!there.count(id)) {
        FsckProblem p = problem("remote-missing", id, &e, "not on remote '" + rem_name + "'");
        problems.push_back(std::move(p));
      } else if (opts.deep) {
        deep.emplace_back(id, &e);
      }
    }
    result.checked_remote = col.objects().size();
    if (!deep.empty()) {
      std::mutex mu;
      std::string tmp_dir = repo.tmp_dir() + "/fsck";
      checked(fsx::make_dirs(tmp_dir));
      parallel_for(deep.size(), std::max(1u, threads * 2), [&](size_t i) {
        auto& [id, e] = deep[i];
        std::string tmp = tmp_dir + "/" + id.oid + "." + std::to_string(::getpid()) + "." + std::to_string(i);
        std::string got;
        auto r = rem->get(remote_key(id), tmp, {});
        std::optional<FsckProblem> p;
        if (!r) {
          p = problem("remote-unreadable", id, e, r.error().message);
        } else if (!*r) {
          p = problem("remote-missing", id, e, "not on remote '" + rem_name + "'");
        } else {
          auto d = hash::hash_file(tmp, odb::content_algorithm(id));
          if (!d) p = problem("remote-unreadable", id, e, d.error().message);
          else if (d->md5 != odb::content_digest(id))
            p = problem("remote-corrupted", id, e, "its bytes on remote '" + rem_name + "' hash to " + d->md5);
        }
        (void)fsx::remove_file(tmp);
        if (p) {
          std::lock_guard<std::mutex> lock(mu);
          problems.push_back(std::move(*p));
        }
      });
      (void)fsx::remove_all(tmp_dir);
    }
  }

  // --repair: cache objects from the workspace (when the file there still hashes to the id) or
  // from a remote (-r, else the default one), verified on the way in; a corrupted object is
  // quarantined first, never deleted. Leftovers whose writer is gone are removed.
  if (opts.repair) {
    std::string source = rem_name;
    if (source.empty())
      if (auto def = repo.config().get("core.remote"); def && !def->empty()) source = *def;
    std::vector<odb::ObjectId> from_remote;
    std::map<odb::ObjectId, size_t> index;
    for (size_t i = 0; i < problems.size(); ++i) {
      auto& p = problems[i];
      if (p.kind == "stray") {
        if (odb::remove_if_abandoned(p.name)) {
          p.repaired = true;
          p.repaired_from = "removed";
        }
        continue;
      }
      if (p.kind != "missing" && p.kind != "corrupted" && p.kind != "malformed") continue;
      odb::ObjectId id{p.oid, p.legacy ? odb::Layout::legacy : odb::Layout::v3};
      if (bad.count(id)) {
        auto q = cache.quarantine(id);
        if (!q && q.error().code != ErrorCode::not_found)
          throw UserError("failed to move the corrupted object '" + id.oid + "' aside: " + q.error().message);
      }
      // the workspace copy
      auto it = col.objects().find(id);
      if (it != col.objects().end() && !it->second.workspace.empty() && !id.is_dir()) {
        const std::string& ws = it->second.workspace;
        if (fsx::lstat_path(ws).type == fsx::FileType::regular) {
          auto d = hash::hash_file(ws, odb::content_algorithm(id));
          if (d && d->md5 == odb::content_digest(id) &&
              cache.add_file(ws, id, {fsx::LinkType::reflink, fsx::LinkType::copy})) {
            p.repaired = true;
            p.repaired_from = "workspace";
            continue;
          }
        }
      }
      if (!source.empty()) {
        index[id] = i;
        from_remote.push_back(id);
      }
    }
    if (!from_remote.empty()) {
      std::unique_ptr<remote::Remote> src = rem_name == source && rem ? std::move(rem) : detail::open_named_remote(repo, source);
      (void)transfer::fetch(cache, *src, from_remote, std::max(1u, threads * 4), odb::Verify::yes);
      for (auto& id : from_remote) {
        auto& p = problems[index[id]];
        if (cache.exists(id)) {  // fetch with Verify::yes publishes only objects that hash to their id
          p.repaired = true;
          p.repaired_from = "remote '" + source + "'";
        }
      }
    }
  }
  result.problems = std::move(problems);
  return result;
}

}  // namespace dvx::api
