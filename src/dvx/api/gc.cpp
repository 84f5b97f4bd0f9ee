// dvx gc and dvx cache migrate: behaviour.md §7, formats.md §2.4.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/remote/remote.h"
#include "dvx/scm/git.h"
#include "dvx/transfer/transfer.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

// Object ids used by the .dvc files of one Git revision.
void add_revision_objects(repo::Repo& repo, const std::string& commit, std::set<odb::ObjectId>& used) {
  auto* git = repo.git();
  auto files = git->list_dvc_files_at(commit);
  if (!files) raise(files.error());
  std::string prefix = fsx::relative_path(repo.root(), git->work_tree());
  for (auto& f : *files) {
    if (!f.ends_with(".dvc")) continue;
    if (prefix != "." && !fsx::is_within(f, prefix)) continue;
    auto text = git->read_file_at(commit, f);
    if (!text || !*text) continue;
    std::string rel = prefix == "." ? f : f.substr(prefix.size() + 1);
    repo::DvcStage st;
    try {
      st = repo.load_stage(rel, **text);
    } catch (const UserError&) {
      continue;  // an invalid .dvc file in history keeps nothing
    }
    for (auto& o : st.outs)
      for (auto& u : detail::used_objects(repo, o, nullptr)) used.insert(u.id);
  }
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

  std::set<odb::ObjectId> used;
  for (auto& st : repo.stages())
    for (auto& o : st.outs)
      for (auto& u : detail::used_objects(repo, o, nullptr)) used.insert(u.id);
  for (auto& commit : detail::revision_commits(repo, opts.all_branches, opts.all_tags, opts.all_commits))
    add_revision_objects(repo, commit, used);
  if (opts.rev) {
    auto* git = repo.git();
    if (!git) throw UserError("--rev needs a Git repository");
    for (int i = 0; i < std::max(1, opts.num); ++i) {
      auto commit = git->resolve(*opts.rev + (i ? "~" + std::to_string(i) : ""));
      if (!commit) {
        if (i == 0) throw UserError(commit.error().message);
        break;
      }
      add_revision_objects(repo, *commit, used);
    }
  }
  std::unique_ptr<remote::Remote> rem;
  if (opts.cloud || opts.not_in_remote) {
    std::string name = pick_remote(repo, opts.remote, "gc");
    auto url = repo.config().remote_url(name);
    if (!url) throw UserError("configuration error - " + url.error().message, ExitCode::config);
    auto r = remote::open_remote(*url, {});
    if (!r) throw UserError(r.error().message, ExitCode::config);
    rem = std::move(*r);
  }
  unsigned jobs = opts.jobs.value_or(std::max(1u, repo.jobs() * 4));
  if (opts.not_in_remote) {
    std::vector<odb::ObjectId> ids(used.begin(), used.end());
    auto there = transfer::remote_contains(*rem, ids, jobs);
    if (!there) throw UserError(there.error().message);
    for (size_t i = 0; i < ids.size(); ++i)
      if ((*there)[i]) used.erase(ids[i]);
  }

  std::vector<std::string> lines;
  std::vector<std::string> leftovers;  // temp files and staging trees of killed commands
  auto sweep = [&](odb::Layout layout, const std::string& scheme) {
    auto all = repo.cache().list(layout, scheme == "local" ? nullptr : &leftovers);
    if (!all) raise(all.error());
    size_t removed = 0;
    for (auto& id : *all) {
      if (used.count(id)) continue;
      if (!opts.dry)
        if (auto r = repo.cache().remove(id); !r) raise(r.error());
      ++removed;
    }
    if (removed == 0) lines.push_back("No unused '" + scheme + "' cache to remove.");
    else if (opts.dry) lines.push_back(std::to_string(removed) + " objects would be removed from " + scheme + " cache.");
    else lines.push_back("Removed " + std::to_string(removed) + " objects from " + scheme + " cache.");
  };
  sweep(odb::Layout::v3, "repo");
  if (opts.dry) lines.push_back("No unused 'local' cache to remove.");
  else sweep(odb::Layout::v3, "local");
  sweep(odb::Layout::legacy, "legacy");
  if (!opts.dry)  // a day old: never a running command's (BulkWriter applies the same rule)
    for (auto& p : leftovers)
      if (odb::is_stale_leftover(p)) (void)fsx::remove_all(p);
  if (!opts.dry)  // corrupted objects moved aside: never used again
    for (auto& q : repo.cache().quarantined()) (void)fsx::remove_all(q);
  if (opts.cloud) {
    size_t removed = 0;
    for (auto layout : {odb::Layout::v3, odb::Layout::legacy}) {
      auto keys = rem->list(layout == odb::Layout::v3 ? "files/md5" : "");
      if (!keys) throw UserError(keys.error().message);
      for (auto& k : *keys) {
        // "files/md5/ab/cdef..." or "ab/cdef..." (legacy: exactly two segments).
        std::string rel = k;
        if (layout == odb::Layout::v3) {
          if (!rel.starts_with("files/md5/")) continue;
          rel = rel.substr(10);
        }
        auto slash = rel.find('/');
        if (slash != 2 || rel.find('/', slash + 1) != std::string::npos) continue;
        std::string oid = rel.substr(0, 2) + rel.substr(3);
        if (!odb::valid_oid(oid)) continue;
        odb::ObjectId id{oid, layout};
        if (used.count(id)) continue;
        if (!opts.dry)
          if (auto r = rem->remove(k); !r) throw UserError(r.error().message);
        ++removed;
      }
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
