// dvx gc and dvx cache migrate: behaviour.md §7, formats.md §2.4.
#include <algorithm>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"
#include "dvx/remote/remote.h"
#include "dvx/scm/git.h"
#include "dvx/transfer/transfer.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

// A directory output whose manifest gc could not read: until it is read, gc cannot tell which
// file objects the directory needs, so it keeps everything (it stops).
enum class Problem { missing, corrupted, malformed };
struct Unreadable {
  odb::ObjectId id;
  std::string name;  // the output, and where it was recorded, for the message
  Problem problem = Problem::missing;
};

// The keep-set of gc: every object the selected revisions reference. A directory's files come
// from its manifest, read and checked against its id: one that does not hash to its id is
// corrupted, one that does but does not parse (or lists invalid ids) is malformed; either way
// its list of files cannot be trusted.
class KeepSet {
 public:
  explicit KeepSet(repo::Repo& repo) : m_repo(repo) {}

  void add_output(const repo::Output& o, const std::string& where) {
    auto id = o.recorded();
    if (!id || !o.entry.cache) return;
    if (!m_used.insert(*id).second || !id->is_dir()) return;
    if (auto problem = expand(*id)) m_unreadable.push_back({*id, "'" + o.rel_path + "'" + where, *problem});
  }
  void add_stages(const std::vector<repo::DvcStage>& stages, const std::string& where) {
    for (auto& st : stages)
      for (auto& o : st.outs) add_output(o, where);
  }
  // Reads the unreadable manifests again (after a fetch); keeps those still unreadable.
  void retry() {
    std::vector<Unreadable> still;
    for (auto& u : m_unreadable)
      if (auto problem = expand(u.id)) still.push_back({u.id, u.name, *problem});
    m_unreadable = std::move(still);
  }
  const std::vector<Unreadable>& unreadable() const { return m_unreadable; }
  std::set<odb::ObjectId>& used() { return m_used; }

 private:
  // Adds the files of manifest `id`; the problem when it cannot.
  std::optional<Problem> expand(const odb::ObjectId& id) {
    const auto& cache = m_repo.cache();
    auto bytes = cache.read(id);
    if (!bytes) return bytes.error().code == ErrorCode::not_found ? Problem::missing : Problem::corrupted;
    if (hash::md5_hex(*bytes) != odb::content_digest(id)) return Problem::corrupted;
    auto entries = formats::decode_manifest(*bytes, cache.path_of(id));
    if (!entries) return Problem::malformed;
    for (auto& e : *entries)
      if (!odb::valid_oid(e.md5) || e.md5.ends_with(".dir")) return Problem::malformed;
    for (auto& e : *entries) m_used.insert(odb::ObjectId{e.md5, id.layout});
    return std::nullopt;
  }

  repo::Repo& m_repo;
  std::set<odb::ObjectId> m_used;
  std::vector<Unreadable> m_unreadable;
};

}  // namespace

std::unique_ptr<remote::Remote> detail::open_named_remote(repo::Repo& repo, const std::string& name) {
  auto url = repo.config().remote_url(name);
  if (!url) throw UserError("configuration error - " + url.error().message, ExitCode::config);
  auto r = remote::open_remote(*url, repo.config().remote_options(name));
  if (!r) throw UserError(r.error().message, ExitCode::config);
  return std::move(*r);
}

std::optional<odb::ObjectId> detail::remote_key_object(const std::string& key, odb::Layout layout) {
  // "files/md5/ab/cdef..." or "ab/cdef..." (legacy: exactly two segments).
  std::string rel = key;
  if (layout == odb::Layout::v3) {
    if (!rel.starts_with("files/md5/")) return std::nullopt;
    rel = rel.substr(10);
  }
  auto slash = rel.find('/');
  if (slash != 2 || rel.find('/', slash + 1) != std::string::npos) return std::nullopt;
  std::string oid = rel.substr(0, 2) + rel.substr(3);
  if (!odb::valid_oid(oid)) return std::nullopt;
  return odb::ObjectId{oid, layout};
}

namespace {

using detail::open_named_remote;

// Fetches the manifests gc could not read from the -r remote, else the default one (a
// corrupted one is replaced, except in a dry run, which changes nothing). Then stops with an
// error naming every output whose manifest is still unreadable: gc never deletes what such a
// directory may reference, and --force does not change that.
void recover_manifests(repo::Repo& repo, KeepSet& keep, const std::optional<std::string>& remote_name, bool dry,
                       unsigned jobs) {
  if (keep.unreadable().empty()) return;
  std::string source = remote_name.value_or("");
  if (source.empty())
    if (auto def = repo.config().get("core.remote"); def && !def->empty()) source = *def;
  if (!source.empty()) {
    auto rem = open_named_remote(repo, source);
    std::vector<odb::ObjectId> ids;
    for (auto& u : keep.unreadable()) {
      if (u.problem == Problem::malformed) continue;  // the remote's copy has the same bytes
      if (u.problem == Problem::corrupted) {
        if (dry) continue;
        if (auto r = repo.cache().remove(u.id); !r) raise(r.error());
      }
      ids.push_back(u.id);
    }
    if (!ids.empty()) {
      (void)transfer::fetch(repo.cache(), *rem, ids, jobs, odb::Verify::yes);  // failures: still unreadable
      keep.retry();
    }
    if (keep.unreadable().empty()) return;
  }
  std::string msg = "gc removed nothing: it cannot tell which files these directories use";
  for (auto& u : keep.unreadable()) {
    msg += "\n    " + u.name + ": manifest '" + u.id.oid + "' is ";
    bool tried = !source.empty() && (u.problem == Problem::missing || (u.problem == Problem::corrupted && !dry));
    if (u.problem == Problem::malformed) msg += "malformed";
    else if (u.problem == Problem::corrupted) msg += "corrupted";
    else msg += "missing from the cache";
    if (tried) msg += ", and remote '" + source + "' does not have it";
    else if (u.problem == Problem::corrupted && dry) msg += " (a dry run does not replace it)";
  }
  msg += source.empty() ? "\nConfigure a default remote that has them (dvc remote add -d ...) or restore them, then run gc again."
                        : "\nRestore them (push them from a copy of the repository that has them), then run gc again.";
  throw UserError(msg);
}

}  // namespace

std::vector<std::string> gc(repo::Repo& repo, const GcOptions& opts, const Confirm& confirm,
                            const std::function<void(const std::string&)>& warn) {
  if (!opts.workspace && !opts.all_branches && !opts.all_tags && !opts.all_commits && !opts.rev)
    throw UserError(
        "Either of `-w|--workspace`, `-a|--all-branches`, `-T|--all-tags` `--all-experiments`, `--all-commits`, "
        "`--date` or `--rev` needs to be set.");
  if (opts.remote && !opts.cloud && !opts.not_in_remote)
    throw UserError("`-r|--remote` needs `-c|--cloud` or `--not-in-remote` to be set.");
  if (opts.cloud && opts.not_in_remote)
    throw UserError("`--not-in-remote` and `-c|--cloud` are mutually exclusive.");
  std::string what = "This will remove all cache except items used in the workspace of the current repo";
  if (opts.all_commits) what += " and all git commits";
  else if (opts.all_branches && opts.all_tags) what += " and all git branches and tags";
  else if (opts.all_branches) what += " and all git branches";
  else if (opts.all_tags) what += " and all git tags";
  if (opts.rev) what += " and last " + std::to_string(opts.num) + " commits from " + *opts.rev;
  if (opts.not_in_remote) what += " that are not present in the DVC remote";
  warn(what + ".");
  if (!opts.force && !opts.dry && !confirm("Are you sure you want to proceed?"))
    throw UserError("gc aborted: not confirmed", ExitCode::failure);

  unsigned jobs = opts.jobs.value_or(std::max(1u, repo.jobs() * 4));
  KeepSet keep(repo);
  for (auto& st : repo.stages())
    for (auto& o : st.outs) keep.add_output(o, "");
  auto at = [](const std::string& commit) { return " (at commit " + commit.substr(0, 7) + ")"; };
  for (auto& commit : detail::revision_commits(repo, opts.all_branches, opts.all_tags, opts.all_commits))
    keep.add_stages(repo::stages_at(repo, commit), at(commit));
  if (opts.rev) {
    auto* git = repo.git();
    if (!git) throw UserError("--rev needs a Git repository");
    for (int i = 0; i < std::max(1, opts.num); ++i) {
      auto commit = git->resolve(*opts.rev + (i ? "~" + std::to_string(i) : ""));
      if (!commit) {
        if (i == 0 || commit.error().code != ErrorCode::not_found) throw UserError(commit.error().message);
        break;  // the history is shorter than -n commits
      }
      keep.add_stages(repo::stages_at(repo, *commit), at(*commit));
    }
  }
  recover_manifests(repo, keep, opts.remote, opts.dry, jobs);
  auto& used = keep.used();
  std::unique_ptr<remote::Remote> rem;
  if (opts.cloud || opts.not_in_remote) rem = open_named_remote(repo, pick_remote(repo, opts.remote, "gc"));
  if (opts.not_in_remote) {
    std::vector<odb::ObjectId> ids(used.begin(), used.end());
    auto there = transfer::remote_contains(*rem, ids, jobs);
    if (!there) throw UserError(there.error().message);
    for (size_t i = 0; i < ids.size(); ++i)
      if ((*there)[i]) used.erase(ids[i]);
  }

  // Removes each of `n` things with `remove_one(i)` on several threads (an unlink or a request
  // mostly waits: on the file system's journal, on the network); the first failure is raised
  // once all are done.
  auto remove_all_of = [&](size_t n, unsigned threads, const std::function<Status(size_t)>& remove_one) {
    std::mutex m;
    std::optional<Error> first;
    parallel_for(n, threads, [&](size_t i) {
      if (auto r = remove_one(i); !r) {
        std::lock_guard<std::mutex> l(m);
        if (!first) first = r.error();
      }
    });
    if (first) raise(*first);
  };

  std::vector<std::string> lines;
  std::vector<std::string> leftovers;  // temp files and staging trees of killed commands
  auto sweep = [&](odb::Layout layout, const std::string& scheme) {
    auto all = repo.cache().list(layout, scheme == "local" ? nullptr : &leftovers);
    if (!all) raise(all.error());
    // Sorted by name, so by prefix folder: workers take whole folders (one folder's entries
    // share its lock).
    std::vector<std::pair<size_t, size_t>> folders;  // [begin, end) in `unused`
    std::vector<odb::ObjectId> unused;
    for (auto& id : *all) {
      if (used.count(id)) continue;
      if (unused.empty() || unused.back().oid.compare(0, 2, id.oid, 0, 2) != 0) folders.emplace_back(unused.size(), unused.size());
      unused.push_back(id);
      folders.back().second = unused.size();
    }
    size_t removed = unused.size();
    if (!opts.dry)
      remove_all_of(folders.size(), jobs, [&](size_t f) -> Status {
        for (size_t i = folders[f].first; i < folders[f].second; ++i)
          if (auto r = repo.cache().remove(unused[i]); !r) return r;
        return {};
      });
    if (removed == 0) lines.push_back("No unused '" + scheme + "' cache to remove.");
    else if (opts.dry) lines.push_back(std::to_string(removed) + " objects would be removed from " + scheme + " cache.");
    else lines.push_back("Removed " + std::to_string(removed) + " objects from " + scheme + " cache.");
  };
  sweep(odb::Layout::v3, "repo");
  if (opts.dry) lines.push_back("No unused 'local' cache to remove.");
  else sweep(odb::Layout::v3, "local");
  sweep(odb::Layout::legacy, "legacy");
  if (!opts.dry)  // only those whose writer is gone (odb::remove_if_abandoned; BulkWriter does the same)
    for (auto& p : leftovers) (void)odb::remove_if_abandoned(p);
  if (!opts.dry)  // corrupted objects moved aside: never used again
    for (auto& q : repo.cache().quarantined()) (void)fsx::remove_all(q);
  if (opts.cloud) {
    size_t removed = 0;
    for (auto layout : {odb::Layout::v3, odb::Layout::legacy}) {
      auto keys = rem->list(layout == odb::Layout::v3 ? "files/md5" : "");
      if (!keys) throw UserError(keys.error().message);
      std::vector<std::string> unused;
      for (auto& k : *keys) {
        auto id = detail::remote_key_object(k, layout);
        if (!id || used.count(*id)) continue;
        unused.push_back(k);
      }
      removed += unused.size();
      if (!opts.dry)
        remove_all_of(unused.size(), jobs, [&](size_t i) { return rem->remove(unused[i]); });
    }
    lines.push_back(removed ? "Removed " + std::to_string(removed) + " objects from remote."
                            : "No unused cache to remove from remote.");
  }
  return lines;
}

std::vector<std::string> cache_migrate(repo::Repo& repo, bool dvc_files, bool dry) {
  std::vector<std::string> lines;
  const auto& cache = repo.cache();
  auto legacy = cache.list(odb::Layout::legacy);
  if (!legacy) raise(legacy.error());
  if (dry) {
    lines.push_back(std::to_string(legacy->size()) + " files will be re-hashed and migrated to the DVC 3.0 cache location.");
    return lines;
  }
  std::unordered_map<std::string, std::string> mapping;  // legacy oid -> 3.x oid
  // Files first, then manifests (which need the files' new ids).
  std::vector<odb::ObjectId> dirs;
  size_t migrated = 0;
  for (auto& id : *legacy) {
    if (id.is_dir()) {
      dirs.push_back(id);
      continue;
    }
    std::string p = cache.path_of(id);
    auto d = hash::hash_file(p, hash::Algorithm::md5);
    if (!d) raise(d.error());
    odb::ObjectId nid{d->md5, odb::Layout::v3};
    if (auto r = cache.add_file(p, nid, {fsx::LinkType::reflink, fsx::LinkType::hardlink, fsx::LinkType::copy}); !r)
      raise(r.error());
    mapping[id.oid] = nid.oid;
    ++migrated;
  }
  for (auto& id : dirs) {
    auto entries = cache.read_manifest(id);
    if (!entries) raise(entries.error());
    for (auto& e : *entries) {
      auto it = mapping.find(e.md5);
      if (it == mapping.end()) {
        auto d = hash::hash_file(cache.path_of({e.md5, odb::Layout::legacy}), hash::Algorithm::md5);
        if (!d) continue;
        e.md5 = d->md5;
      } else {
        e.md5 = it->second;
      }
    }
    std::string bytes = formats::encode_manifest(*entries);
    odb::ObjectId nid{hash::md5_hex(bytes) + ".dir", odb::Layout::v3};
    if (auto r = cache.add_bytes(bytes, nid); !r) raise(r.error());
    mapping[id.oid] = nid.oid;
    ++migrated;
  }
  lines.push_back("Migrated " + std::to_string(migrated) + " files to DVC 3.0 cache location.");
  if (dvc_files) {
    bool any = false;
    for (auto& st : repo.stages()) {
      formats::DvcFile file = st.file;
      bool changed = false;
      for (auto& o : st.outs) {
        if (o.layout() != odb::Layout::legacy || !o.entry.md5) continue;
        auto it = mapping.find(*o.entry.md5);
        if (it == mapping.end()) continue;
        auto& e = file.outs[o.index];
        e.md5 = it->second;
        e.hash = "md5";
        changed = true;
      }
      if (!changed) continue;
      any = true;
      lines.push_back("Updating DVC file '" + repo.display(st.abs_path) + "'");
      detail::write_stage(repo, st.rel_path, file, &st);
    }
    if (!any) lines.push_back("No DVC files in the repo to migrate to the 3.0 format.");
    repo.reload_stages();
  }
  return lines;
}

}  // namespace dvx::api
