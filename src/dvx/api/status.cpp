// dvx status (local mode) and dvx checkout: behaviour.md §2, §3.1.
#include <algorithm>
#include <map>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

// The cache's fingerprint per layout, taken once per command (256 stats each).
using Fingerprints = std::map<odb::Layout, odb::ObjectDb::Fingerprint>;

bool object_complete(repo::Repo& repo, const odb::ObjectId& id, Fingerprints& fingerprints) {
  if (!repo.cache().exists(id)) return false;
  if (!id.is_dir()) return true;
  // "All files of this directory are in the cache" is remembered in the state db under the
  // cache's fingerprint: adding or removing any object changes it, so the memory is exact,
  // and a repeated status costs 256 stats instead of reading every object folder.
  auto* db = repo.state();
  auto fp_it = fingerprints.find(id.layout);
  if (fp_it == fingerprints.end()) fp_it = fingerprints.emplace(id.layout, repo.cache().fingerprint(id.layout)).first;
  const auto& fp = fp_it->second;
  std::string memo = repo.cache().root() + "/#complete/" + id.oid;
  state::StatKey key{fp.digest, fp.folders, fp.max_mtime_ns, fp.max_ctime_ns};
  auto alg = odb::algorithm_for(id.layout);
  if (db) {
    auto hit = db->lookup({memo}, {key}, alg);
    if (hit[0] && *hit[0] == id.oid.substr(0, 32)) return true;
  }
  auto entries = repo.cache().read_manifest(id);
  if (!entries) return false;
  std::vector<odb::ObjectId> ids;
  ids.reserve(entries->size());
  for (auto& e : *entries) {
    if (!odb::valid_oid(e.md5)) return false;
    ids.push_back({std::move(e.md5), id.layout});
  }
  for (bool present : repo.cache().exists_many(ids, repo.jobs()))
    if (!present) return false;
  if (db) (void)db->store({memo}, {key}, {id.oid.substr(0, 32)}, alg);
  return true;
}

}  // namespace

StatusResult status(repo::Repo& repo, const StatusOptions& opts) {
  StatusResult res;
  const auto& stages = repo.stages();
  if (stages.empty()) {
    res.no_stages = true;
    return res;
  }
  auto selected = detail::select_outputs(repo, opts.targets, opts.recursive, "status");
  auto ctx = repo.context();
  Fingerprints fingerprints;
  const repo::DvcStage* current_stage = nullptr;
  for (auto& sel : selected) {
    if (sel.stage != current_stage) {
      std::string name = repo.display(sel.stage->abs_path);
      if (sel.stage->is_pipeline()) {
        // Stage addressing: bare name for the CWD's dvc.yaml, else "<path to dvc.yaml>:<name>".
        std::string yaml = fsx::parent_dir(sel.stage->abs_path) + "/dvc.yaml";
        name = fsx::parent_dir(sel.stage->abs_path) == repo.cwd()
                   ? sel.stage->pipeline_stage
                   : repo.display(yaml) + ":" + sel.stage->pipeline_stage;
      }
      res.stages.push_back(StageStatus{name, {}, false});
      current_stage = sel.stage;
    }
    auto& report = res.stages.back();
    const auto& o = *sel.out;
    auto rec = o.recorded();
    std::string name = repo.display(o.abs_path);
    if (rec && o.entry.cache && !object_complete(repo, *rec, fingerprints)) {
      report.changed_outs.emplace_back(name, "not in cache");
      continue;
    }
    auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
    if (!st) raise(st.error());
    if (st->kind == workspace::OutputState::Kind::missing) report.changed_outs.emplace_back(name, "deleted");
    else if (!rec || st->oid != rec->oid) report.changed_outs.emplace_back(name, "modified");
  }
  std::erase_if(res.stages, [](const StageStatus& s) { return s.changed_outs.empty() && !s.changed_checksum; });
  return res;
}

CheckoutResult checkout(repo::Repo& repo, const CheckoutOptions& opts) {
  CheckoutResult res;
  auto selected = detail::select_outputs(repo, opts.targets, opts.recursive, "checkout");
  auto ctx = repo.context();
  struct Item {
    const repo::Output* out;
    odb::ObjectId id;
    workspace::OutputState current;
  };
  std::vector<Item> items;
  std::vector<std::string> unsaved, failed;
  std::vector<std::string> granular_lines;
  auto report_corrupted = [&](const std::vector<workspace::CorruptObject>& bad) {
    for (auto& c : bad) {
      std::string msg = detail::corrupted_message(repo, c.id, c.path.empty() ? "" : repo.display(c.path), c.quarantined);
      if (opts.warn) opts.warn(msg);
    }
  };
  for (auto& sel : selected) {
    const auto& o = *sel.out;
    if (!o.entry.cache) continue;
    auto rec = o.recorded();
    if (!rec) continue;  // "No file hash info found": nothing to create
    if (!sel.sub.empty()) {
      // Granular: only the files of the directory below `sub`.
      auto entries = repo.cache().read_manifest(*rec);
      if (!entries) {
        if (!opts.allow_missing) failed.push_back(repo.display(o.abs_path + "/" + sel.sub));
        continue;
      }
      for (auto& e : *entries) {
        if (e.relpath != sel.sub && !fsx::is_within(e.relpath, sel.sub)) continue;
        if (!workspace::safe_relpath(e.relpath)) raise(Error{ErrorCode::corruption, "unsafe path '" + e.relpath + "' in the manifest of '" + o.rel_path + "'"});
        odb::ObjectId id{e.md5, rec->layout};
        std::string p = o.abs_path + "/" + e.relpath;
        auto cur = workspace::compute_state(ctx, p, o.algorithm());
        if (!cur) raise(cur.error());
        if (cur->kind == workspace::OutputState::Kind::file && cur->oid == e.md5 && !opts.relink) continue;
        if (!repo.cache().exists(id)) {
          if (!opts.allow_missing) failed.push_back(repo.display(p));
          continue;
        }
        if (!opts.force && cur->kind != workspace::OutputState::Kind::missing) {
          auto u = workspace::unsaved_files(ctx, p, *cur, id, nullptr);
          if (!u.empty()) throw UserError("Can't remove the following unsaved files without confirmation. Use `--force` to force.\n" + join(u, "\n"));
        }
        bool existed = cur->kind != workspace::OutputState::Kind::missing;
        if (cur->kind == workspace::OutputState::Kind::dir) (void)fsx::remove_all(p);
        if (auto r = fsx::make_dirs(fsx::parent_dir(p)); !r) raise(r.error());
        auto types = repo.link_types();
        std::vector<workspace::CorruptObject> bad;
        if (workspace::links_without_reading(ctx, types, fsx::parent_dir(p))) {
          std::vector<std::string> paths{p};
          bad = workspace::verify_objects(ctx, {id}, &paths);
        }
        if (bad.empty())
          if (auto r = workspace::link_from_cache(repo.cache().path_of(id), p, types, false,
                                                  workspace::Placement::via_temp, &id);
              !r) {
            if (r.error().code != ErrorCode::corruption) raise(r.error());
            bad.push_back(workspace::quarantine_object(ctx, id, p));
          }
        if (!bad.empty()) {
          report_corrupted(bad);
          failed.push_back(repo.display(p));
          continue;
        }
        (existed ? res.files_modified : res.files_added) += 1;
        granular_lines.push_back((existed ? "M\t" : "A\t") + repo.display(p));
      }
      continue;
    }
    if (!rec->is_dir() && o.entry.size) {
      // A recorded size that disagrees with the cache object: the .dvc file or the object is
      // wrong; nothing is written.
      // A corrupted object (hashing to something else) is dealt with by the checkout itself.
      auto obj = fsx::lstat_path(repo.cache().path_of(*rec));
      if (obj.type == fsx::FileType::regular && obj.size != *o.entry.size &&
          repo.cache().content_hash(*rec).value_or("") == odb::content_digest(*rec))
        throw UserError("'" + o.dvcfile + "': the recorded size " + std::to_string(*o.entry.size) + " of '" +
                        repo.display(o.abs_path) + "' disagrees with its cache file '" +
                        repo.display(repo.cache().path_of(*rec)) + "' (" + std::to_string(obj.size) + " bytes)");
    }
    auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
    if (!st) raise(st.error());
    if (!opts.force) {
      std::vector<formats::ManifestEntry> entries;
      const std::vector<formats::ManifestEntry>* ep = nullptr;
      if (rec->is_dir()) {
        auto m = repo.cache().read_manifest(*rec);
        if (m) {
          entries = std::move(*m);
          ep = &entries;
        }
      }
      bool same = st->oid == rec->oid && st->kind != workspace::OutputState::Kind::missing;
      if (!same && (ep || !rec->is_dir())) {
        auto u = workspace::unsaved_files(ctx, o.abs_path, *st, *rec, ep);
        unsaved.insert(unsaved.end(), u.begin(), u.end());
      }
    }
    items.push_back({&o, *rec, std::move(*st)});
  }
  if (!unsaved.empty())
    throw UserError("Can't remove the following unsaved files without confirmation. Use `--force` to force.\n" +
                    join(unsaved, "\n"));
  struct Line {
    bool dir;
    std::string path;
  };
  std::vector<Line> mod, add, del;
  for (auto& it : items) {
    std::optional<bool> isexec;
    if (it.out->entry.isexec) isexec = true;
    auto r = workspace::checkout(ctx, it.out->abs_path, it.id, isexec, workspace::Force::yes,
                                 opts.relink ? workspace::Relink::yes : workspace::Relink::no, &it.current);
    if (!r) raise(r.error());
    report_corrupted(r->corrupted);
    if (r->missing_in_cache) {
      // A corrupted object fails the output even with --allow-missing: it was not missing.
      if (!opts.allow_missing || !r->corrupted.empty()) failed.push_back(repo.display(it.out->abs_path));
      continue;
    }
    res.files_added += r->files_added;
    res.files_modified += r->files_modified;
    res.files_deleted += r->files_deleted;
    Line line{it.id.is_dir(), detail::display_out(repo, it.out->abs_path, it.id.is_dir())};
    if (r->change == workspace::CheckoutResult::Change::added) add.push_back(line);
    else if (r->change == workspace::CheckoutResult::Change::modified) mod.push_back(line);
    else if (r->change == workspace::CheckoutResult::Change::deleted) del.push_back(line);
  }
  auto order = [](std::vector<Line>& v, std::vector<std::string>& out) {
    std::stable_sort(v.begin(), v.end(), [](const Line& a, const Line& b) {
      if (a.dir != b.dir) return a.dir;
      return a.path < b.path;
    });
    for (auto& l : v) out.push_back(l.path);
  };
  for (auto& l : granular_lines) (l[0] == 'M' ? mod : add).push_back(Line{false, l.substr(2)});
  order(mod, res.modified);
  order(add, res.added);
  order(del, res.deleted);
  if (!failed.empty()) {
    std::sort(failed.begin(), failed.end());
    throw UserError("Checkout failed for following targets:\n" + join(failed, "\n") +
                    "\nIs your cache up to date?\n<https://error.dvc.org/missing-files>");
  }
  return res;
}

}  // namespace dvx::api
