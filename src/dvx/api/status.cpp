// dvx status (local mode) and dvx checkout: behaviour.md §2, §3.1.
#include <algorithm>
#include <map>
#include <unordered_set>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;


StatusResult status(repo::Repo& repo, const StatusOptions& opts) {
  StatusResult res;
  const auto& stages = repo.stages();
  bool pipelines = !repo.pipeline_files().empty();
  if (stages.empty() && !pipelines) {
    res.no_stages = true;
    return res;
  }
  // dvc.yaml stages first (index order), then the .dvc files (behaviour.md §3.1).
  std::vector<std::string> other_targets = opts.targets;
  if (pipelines) {
    other_targets.clear();
    detail::pipeline_status(repo, opts.targets, other_targets, res);
    if (!opts.targets.empty() && other_targets.empty()) return res;
  }
  auto selected = detail::select_outputs(repo, other_targets, opts.recursive, "status");
  std::erase_if(selected, [](const detail::Selected& s) { return s.stage->is_pipeline(); });
  auto ctx = repo.context();
  ctx.dangling_absent = true;
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
      StageStatus s;
      s.name = name;
      res.stages.push_back(std::move(s));
      current_stage = sel.stage;
    }
    auto& report = res.stages.back();
    const auto& o = *sel.out;
    auto rec = o.recorded();
    std::string name = repo.display(o.abs_path);
    if (rec && o.entry.cache) {
      auto state = repo.cache_state(*rec);
      if (state != repo::CacheState::complete) {
        report.changed_outs.emplace_back(name, state == repo::CacheState::corrupted ? "corrupted" : "not in cache");
        continue;
      }
    }
    // A FIFO, socket or device where the output belongs is never opened: the output is
    // modified (checkout -f replaces it). A dangling symlink reads as missing: deleted.
    if (fsx::lstat_path(o.abs_path).type == fsx::FileType::other) {
      report.changed_outs.emplace_back(name, "modified");
      continue;
    }
    auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
    if (!st) raise(st.error());
    if (st->kind == workspace::OutputState::Kind::missing) report.changed_outs.emplace_back(name, "deleted");
    else if (!rec || st->oid != rec->oid || !st->dangling.empty()) report.changed_outs.emplace_back(name, "modified");
  }
  std::erase_if(res.stages, [](const StageStatus& s) {
    return s.changed_outs.empty() && !s.changed_checksum && s.changed_deps.empty() && !s.always_changed &&
           !s.changed_command;
  });
  return res;
}

CheckoutResult checkout(repo::Repo& repo, const CheckoutOptions& opts) {
  CheckoutResult res;
  auto selected = detail::select_outputs(repo, opts.targets, opts.recursive, "checkout");
  auto ctx = repo.context();
  ctx.dangling_absent = true;
  ctx.trusted = opts.trusted;
  struct Item {
    const repo::Output* out;
    odb::ObjectId id;
    workspace::OutputState current;
  };
  std::vector<Item> items;
  std::vector<std::string> unsaved, failed;
  std::vector<std::string> granular_lines;
  // Everything is checked before anything is written: where each output (or file of a
  // granular target) goes, unsaved data that would be lost, symlinks/FIFOs in the way.
  struct GranularFile {
    std::string path;
    odb::ObjectId id;
    bool existed = false;
    bool is_dir = false;  // a folder stands where the file belongs
  };
  std::vector<GranularFile> granular;
  std::vector<std::string> obstacles;
  auto destination = [&](const std::string& p) {
    auto dest = workspace::check_destination(ctx, p);
    if (!dest) raise(dest.error());
    return *dest;
  };
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
        auto dest = destination(p);
        workspace::OutputState cur;
        if (dest == workspace::Obstacle::none) {
          auto c = workspace::compute_state(ctx, p, o.algorithm());
          if (!c) raise(c.error());
          cur = std::move(*c);
        }
        if (cur.kind == workspace::OutputState::Kind::file && cur.oid == e.md5 && !opts.relink) continue;
        if (!repo.cache().exists(id)) {
          if (!opts.allow_missing) failed.push_back(repo.display(p));
          continue;
        }
        if (!opts.force && dest != workspace::Obstacle::none) obstacles.push_back(workspace::obstacle_error(p, dest).message);
        if (!opts.force && cur.kind != workspace::OutputState::Kind::missing) {
          auto u = workspace::unsaved_files(ctx, p, cur, id, nullptr);
          unsaved.insert(unsaved.end(), u.begin(), u.end());
        }
        granular.push_back({p, id, dest != workspace::Obstacle::none || cur.kind != workspace::OutputState::Kind::missing,
                            cur.kind == workspace::OutputState::Kind::dir});
      }
      continue;
    }
    auto dest = destination(o.abs_path);
    auto reached = fsx::stat_path(o.abs_path).type;  // through a symlink: what it leads to
    bool readable = reached == fsx::FileType::regular || reached == fsx::FileType::directory;
    if (dest != workspace::Obstacle::none && !readable) {
      // A FIFO, or a dangling link or one to a FIFO: never read (never opened), replaced when
      // forced.
      if (!opts.force) obstacles.push_back(workspace::obstacle_error(o.abs_path, dest).message);
      items.push_back({&o, *rec, workspace::OutputState{}});
      continue;
    }
    if (dest == workspace::Obstacle::symlink) {
      // A link to a file is only read: when it already holds the recorded data nothing is
      // written. A link to a folder is not walked (it could lead to `/`). Else only --force
      // replaces the link (never what it points to).
      if (reached == fsx::FileType::regular && !opts.relink) {
        auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
        if (!st) raise(st.error());
        if (st->oid == rec->oid) continue;
      }
      if (!opts.force) obstacles.push_back(workspace::obstacle_error(o.abs_path, dest).message);
      items.push_back({&o, *rec, workspace::OutputState{}});
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
  if (!obstacles.empty()) throw UserError(join(obstacles, "\n"));
  if (!unsaved.empty())
    throw UserError("Can't remove the following unsaved files without confirmation. Use `--force` to force.\n" +
                    join(unsaved, "\n"));
  // Leftovers of a killed command beside the outputs (temp files, staging folders) go first:
  // one listing per folder, however many outputs it holds.
  {
    std::unordered_set<std::string> parents;
    for (auto& it : items) parents.insert(fsx::parent_dir(it.out->abs_path));
    for (auto& g : granular) parents.insert(fsx::parent_dir(g.path));
    for (auto& d : parents) workspace::remove_temp_leftovers(d);
  }
  for (auto& g : granular) {
    auto types = repo.link_types();
    std::vector<workspace::CorruptObject> bad;
    if (workspace::links_without_reading(ctx, types, fsx::parent_dir(g.path))) {
      std::vector<std::string> paths{g.path};
      bad = workspace::verify_objects(ctx, {g.id}, &paths);
    }
    if (bad.empty()) {
      if (g.is_dir)
        if (auto r = fsx::remove_all(g.path); !r) raise(r.error());
      if (auto r = fsx::make_dirs(fsx::parent_dir(g.path)); !r) raise(r.error());
      if (auto r = workspace::link_from_cache(repo.cache().path_of(g.id), g.path, types, false,
                                              workspace::Placement::via_temp, &g.id);
          !r) {
        if (r.error().code != ErrorCode::corruption) raise(r.error());
        bad.push_back(workspace::quarantine_object(ctx, g.id, g.path));
      }
    }
    if (!bad.empty()) {
      report_corrupted(bad);
      failed.push_back(repo.display(g.path));
      continue;
    }
    (g.existed ? res.files_modified : res.files_added) += 1;
    granular_lines.push_back((g.existed ? "M\t" : "A\t") + repo.display(g.path));
  }
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
    std::string msg = "Checkout failed for following targets:\n" + join(failed, "\n") +
                      "\nIs your cache up to date?\n<https://error.dvc.org/missing-files>";
    if (!opts.report_failure) throw UserError(msg);
    res.failure = msg;
  }
  return res;
}

}  // namespace dvx::api
