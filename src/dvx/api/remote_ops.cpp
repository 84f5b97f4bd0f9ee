// dvx push / fetch / pull / status -c: behaviour.md §6, §3.2.
#include <algorithm>
#include <map>
#include <set>
#include <unordered_set>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/pipeline/run_cache.h"
#include "dvx/remote/remote.h"
#include "dvx/transfer/transfer.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

// Warns like DVC when no remote is named and none is the default.
void warn_no_remote(repo::Repo& repo, const TransferOptions& opts) {
  if (opts.remote || !opts.warn) return;
  auto def = repo.config().get("core.remote");
  if (!def || def->empty()) opts.warn("No remote provided and no default remote set.", true);
}

std::string pick_remote(repo::Repo& repo, const std::optional<std::string>& name, const std::string& command) {
  auto names = repo.config().remote_names();
  if (name) {
    std::string n = to_lower(*name);
    if (std::find(names.begin(), names.end(), n) == names.end())
      throw UserError("config file error: remote '" + *name + "' doesn't exist", ExitCode::config);
    return n;
  }
  auto def = repo.config().get("core.remote");
  if (def && !def->empty()) {
    if (std::find(names.begin(), names.end(), *def) == names.end())
      throw UserError("config file error: default remote '" + *def + "' doesn't exist", ExitCode::config);
    return *def;
  }
  if (names.empty())
    throw UserError("config file error: no remote specified in " + repo.root() +
                        ". Create a default remote with\n    dvc remote add -d <remote name> <remote url>",
                    ExitCode::failure);
  throw UserError("config file error: no remote specified in " + repo.root() +
                      ". Setup default remote with\n    dvc remote default <remote name>\nor use:\n    dvc " + command +
                      " -r <remote name>",
                  ExitCode::failure);
}

namespace {

std::unique_ptr<remote::Remote> open(repo::Repo& repo, const std::string& name) {
  auto url = repo.config().remote_url(name);
  if (!url) throw UserError("config file error: " + url.error().message, ExitCode::config);
  auto r = remote::open_remote(*url, repo.config().remote_options(name));
  if (!r) throw UserError(r.error().message, ExitCode::config);
  return std::move(*r);
}

struct UsedSet {
  std::vector<detail::UsedObject> objects;  // unique ids, first name wins
  std::vector<odb::ObjectId> dirs_without_manifest;
};

UsedSet collect_used(repo::Repo& repo, const TransferOptions& opts, bool for_push) {
  UsedSet used;
  std::set<odb::ObjectId> seen;
  auto take = [&](const repo::Output& o) {
    if (for_push && !o.entry.push) return;
    bool missing = false;
    for (auto& u : detail::used_objects(repo, o, &missing))
      if (seen.insert(u.id).second) used.objects.push_back(u);
    if (missing) used.dirs_without_manifest.push_back(*o.recorded());
  };
  if (opts.workspace)
    for (auto& sel : detail::select_outputs(repo, opts.targets, opts.recursive, "push")) take(*sel.out);
  // Other revisions (-a/-T/-A): the .dvc files are read from Git.
  std::vector<std::string> targets;
  for (auto& t : opts.targets)
    if (auto rel = repo.relative(repo.absolute(t))) targets.push_back(*rel);
  auto commits = detail::revision_commits(repo, opts.all_branches, opts.all_tags, opts.all_commits);
  for (auto& rev : opts.revs)
    if (std::find(commits.begin(), commits.end(), rev) == commits.end()) commits.push_back(rev);
  for (auto& commit : commits) {
    for (auto& st : repo::stages_at(repo, commit))
      for (auto& o : st.outs) {
        bool wanted = targets.empty();
        for (auto& t : targets)
          if (st.rel_path == t || fsx::is_within(o.rel_path, t)) wanted = true;
        if (wanted) take(o);
      }
  }
  return used;
}

unsigned jobs_for(repo::Repo& repo, const TransferOptions& opts) {
  if (opts.jobs && *opts.jobs > 0) return *opts.jobs;
  return std::max(1u, repo.jobs() * 4);
}

std::string missing_warning(const std::vector<odb::ObjectId>& missing, const std::vector<detail::UsedObject>& used) {
  std::string w = "Some of the cache files do not exist neither locally nor on remote. Missing cache files:";
  std::set<odb::ObjectId> m(missing.begin(), missing.end());
  for (auto& u : used)
    if (m.count(u.id)) w += "\nname: " + u.name + ", md5: " + u.id.oid;
  return w;
}

// Some objects could not be fetched; the others were (pull still checks them out).
struct DownloadsFailed : UserError {
  DownloadsFailed(const std::string& msg, TransferSummary done) : UserError(msg, ExitCode::failure), summary(std::move(done)) {}
  TransferSummary summary;  // what was fetched
};

std::vector<odb::ObjectId> ids_of(const std::vector<detail::UsedObject>& used) {
  std::vector<odb::ObjectId> ids;
  ids.reserve(used.size());
  for (auto& u : used) ids.push_back(u.id);
  return ids;
}

// The run-cache entries missing on the other side, copied one by one (they are small and few;
// the data objects they name move with the normal transfer). Keys are checked to have the
// layout "runs/<k[:2]>/<key>/<value>" before anything is written.
size_t transfer_run_cache(repo::Repo& repo, const remote::Remote& rem, bool upload) {
  pipeline::RunCache rc(repo);
  auto local = rc.list();
  auto listed = rem.list("runs/");
  if (!listed) raise(listed.error(), ExitCode::failure);
  std::set<std::string> remote_keys;
  for (auto& k : *listed)
    if (k.starts_with("runs/")) remote_keys.insert(k.substr(5));
  auto valid = [](const std::string& rel) {
    if (rel.size() != 2 + 1 + 64 + 1 + 64 || rel[2] != '/' || rel[67] != '/' || rel.compare(0, 2, rel, 3, 2) != 0)
      return false;
    for (size_t i = 0; i < rel.size(); ++i) {
      if (i == 2 || i == 67) continue;
      char c = rel[i];
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  };
  size_t n = 0;
  if (upload) {
    for (auto& rel : local) {
      if (remote_keys.count(rel)) continue;
      if (auto r = rem.put(rc.dir() + "/" + rel, "runs/" + rel); !r) raise(r.error(), ExitCode::failure);
      ++n;
    }
    return n;
  }
  std::set<std::string> have(local.begin(), local.end());
  for (auto& rel : remote_keys) {
    if (have.count(rel) || !valid(rel)) continue;
    std::string dst = rc.dir() + "/" + rel;
    if (auto r = fsx::make_dirs(fsx::parent_dir(dst)); !r) raise(r.error(), ExitCode::failure);
    std::string tmp = fsx::temp_path_beside(dst);
    auto r = rem.get("runs/" + rel, tmp, {});
    if (!r) {
      (void)fsx::remove_file(tmp);
      raise(r.error(), ExitCode::failure);
    }
    if (!*r) continue;
    (void)fsx::chmod_path(tmp, 0444);
    if (auto m = fsx::rename_path(tmp, dst); !m) raise(m.error(), ExitCode::failure);
    ++n;
  }
  return n;
}

}  // namespace

TransferSummary push(repo::Repo& repo, const TransferOptions& opts) {
  TransferSummary sum;
  warn_no_remote(repo, opts);
  auto used = collect_used(repo, opts, true);
  if (opts.run_cache) {
    auto rem = open(repo, pick_remote(repo, opts.remote, "push"));
    sum.transferred += transfer_run_cache(repo, *rem, true);
  }
  if (used.objects.empty()) return sum;
  std::string name = pick_remote(repo, opts.remote, "push");
  auto rem = open(repo, name);
  transfer::Progress progress;
  if (repo.progress()) progress = [&](size_t d, size_t t) { repo.progress()("push", d, t); };
  // Large objects verified before (state db) are sent without hashing them again.
  auto ctx = repo.context();
  if (ctx.hasher) (void)ctx.hasher->state();  // opened once, before the workers ask it
  auto r = transfer::push(repo.cache(), *rem, ids_of(used.objects), jobs_for(repo, opts), progress,
                          [&](const odb::ObjectId& id) { return workspace::large_object_known_good(ctx, id); });
  sum.transferred += r.transferred;
  if (!r.missing.empty()) {
    if (opts.warn) opts.warn(missing_warning(r.missing, used.objects), false);
    else sum.warnings.push_back(missing_warning(r.missing, used.objects));
  }
  if (!r.corrupted.empty()) {
    // Named like the missing files: by the workspace path each object is for.
    std::map<odb::ObjectId, std::string> names;
    for (auto& u : used.objects) names.emplace(u.id, u.name);
    for (size_t i = 0; i < r.corrupted.size(); ++i) {
      std::string msg = detail::corrupted_message(repo, r.corrupted[i], names[r.corrupted[i]], r.quarantined[i]);
      if (opts.warn) opts.warn(msg, false);
      else sum.warnings.push_back(msg);
    }
  }
  if (!r.failed.empty())
    throw UserError(std::to_string(r.failed.size()) + " files failed to upload: " + r.errors.front(),
                    ExitCode::failure);
  return sum;
}

TransferSummary fetch(repo::Repo& repo, const TransferOptions& opts) {
  TransferSummary sum;
  warn_no_remote(repo, opts);
  if (opts.run_cache) {
    auto rem = open(repo, pick_remote(repo, opts.remote, "fetch"));
    sum.transferred += transfer_run_cache(repo, *rem, false);
  }
  auto used = collect_used(repo, opts, false);
  if (used.objects.empty()) return sum;
  // Everything already cached: no remote needed (DVC succeeds without one).
  bool all_cached = used.dirs_without_manifest.empty();
  for (auto& u : used.objects)
    if (all_cached && !repo.cache().exists(u.id)) all_cached = false;
  if (all_cached) return sum;
  std::string name = pick_remote(repo, opts.remote, "fetch");
  auto rem = open(repo, name);
  unsigned jobs = jobs_for(repo, opts);
  auto verify = repo.config().remote_verify(name) ? odb::Verify::yes : odb::Verify::no;
  std::vector<odb::ObjectId> missing;
  std::vector<std::string> errors;
  size_t failed = 0;
  // Phase 1: directory manifests we don't have yet.
  if (!used.dirs_without_manifest.empty()) {
    // One entry per output and revision: transfer::fetch takes each object once.
    auto r = transfer::fetch(repo.cache(), *rem, used.dirs_without_manifest, jobs, verify);
    sum.transferred += r.transferred;
    failed += r.failed.size();
    errors.insert(errors.end(), r.errors.begin(), r.errors.end());
    missing.insert(missing.end(), r.missing.begin(), r.missing.end());
    used = collect_used(repo, opts, false);
  }
  // Phase 2: every object (manifests fetched above are now present and skipped).
  transfer::Progress progress;
  if (repo.progress()) progress = [&](size_t d, size_t t) { repo.progress()("fetch", d, t); };
  auto r = transfer::fetch(repo.cache(), *rem, ids_of(used.objects), jobs, verify, progress);
  sum.transferred += r.transferred;
  // Downloads hashed on the way, or (verify = false) taken as the remote names them, as DVC
  // does: a checkout copies them as they are instead of hashing them again (the pull's own
  // checkout through `trusted`, later commands through the state db, which records the large
  // ones only: a row per small file costs more than hashing it). Small files taken unhashed are
  // still hashed by the copy that checks them out.
  if (!r.verified.empty() || !r.received.empty()) {
    auto ctx = repo.context();
    workspace::record_objects(ctx, r.verified, workspace::k_recorded_copy_size);
    workspace::record_objects(ctx, r.received, workspace::k_recorded_copy_size);
    sum.trusted = std::move(r.verified);
    std::sort(sum.trusted.begin(), sum.trusted.end());
  }
  failed += r.failed.size();
  errors.insert(errors.end(), r.errors.begin(), r.errors.end());
  missing.insert(missing.end(), r.missing.begin(), r.missing.end());
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  if (!missing.empty()) {
    if (opts.warn) opts.warn(missing_warning(missing, used.objects), false);
    else sum.warnings.push_back(missing_warning(missing, used.objects));
    failed += missing.size();
  }
  if (failed) {
    std::string msg = std::to_string(failed) + " files failed to download";
    if (!errors.empty()) msg += ": " + errors.front();
    throw DownloadsFailed(msg, sum);
  }
  return sum;
}

PullResult pull(repo::Repo& repo, const TransferOptions& opts, bool force, bool allow_missing) {
  PullResult res;
  // A failed fetch (objects missing on the remote, corrupted, unreadable) does not stop the
  // checkout of everything that did arrive; the fetch's error is the command's.
  try {
    res.fetched = fetch(repo, opts);
  } catch (const DownloadsFailed& e) {
    res.fetched = e.summary;
    if (!allow_missing) res.failure = e.what();
  } catch (const UserError&) {
    if (!allow_missing) throw;
  }
  CheckoutOptions co;
  co.targets = opts.targets;
  co.recursive = opts.recursive;
  co.force = force;
  co.allow_missing = allow_missing;
  co.report_failure = true;
  co.trusted = &res.fetched.trusted;
  if (opts.warn) co.warn = [&opts](const std::string& text) { opts.warn(text, false); };
  res.checkout = checkout(repo, co);
  if (!res.failure) res.failure = res.checkout.failure;
  return res;
}

CloudStatus status_cloud(repo::Repo& repo, const TransferOptions& opts) {
  CloudStatus res;
  warn_no_remote(repo, opts);
  res.remote_name = pick_remote(repo, opts.remote, "status");
  auto rem = open(repo, res.remote_name);
  auto used = collect_used(repo, opts, true);
  auto ids = ids_of(used.objects);
  auto on_remote = transfer::remote_contains(*rem, ids, jobs_for(repo, opts));
  if (!on_remote) throw UserError(on_remote.error().message);
  for (size_t i = 0; i < ids.size(); ++i) {
    bool local = repo.cache().exists(ids[i]);
    bool remote = (*on_remote)[i];
    std::string name = fsx::relative_path(repo.root() + "/" + used.objects[i].name, repo.cwd());
    if (local && !remote) res.entries.emplace_back(name, "new");
    else if (!local && remote) res.entries.emplace_back(name, "deleted");
    else if (!local && !remote) res.entries.emplace_back(name, "missing");
  }
  return res;
}

}  // namespace dvx::api
