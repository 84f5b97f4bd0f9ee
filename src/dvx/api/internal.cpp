#include "dvx/api/internal.h"

#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "dvx/base/thread_pool.h"
#include "dvx/scm/git.h"

namespace dvx::api::detail {

namespace fsx = dvx::platform;

[[noreturn]] void raise(const Error& e, ExitCode code) { throw UserError(e.message, code); }

std::vector<Selected> select_outputs(repo::Repo& repo, const std::vector<std::string>& targets, bool recursive,
                                     const std::string& command) {
  std::vector<Selected> out;
  const auto& stages = repo.stages();
  if (targets.empty()) {
    for (auto& st : stages)
      for (auto& o : st.outs) out.push_back({&st, &o});
    return out;
  }
  for (auto& t : targets) {
    std::string abs = repo.absolute(t);
    auto rel = repo.relative(abs);
    bool found = false;
    if (rel) {
      for (auto& st : stages) {
        bool whole = (!st.is_pipeline() && st.rel_path == *rel) ||
                     (recursive && (rel->empty() || fsx::is_within(st.rel_path, *rel)));
        for (auto& o : st.outs) {
          if (whole || o.rel_path == *rel || (recursive && !rel->empty() && fsx::is_within(o.rel_path, *rel))) {
            out.push_back({&st, &o, ""});
            found = true;
          } else if (fsx::is_within(*rel, o.rel_path) && o.recorded() && o.recorded()->is_dir()) {
            out.push_back({&st, &o, rel->substr(o.rel_path.size() + 1)});
            found = true;
          }
        }
      }
    }
    if (!found) {
      // Pipeline stage names: "name", "dvc.yaml:name", "dir:name".
      std::string file = "dvc.yaml", name = t;
      if (auto colon = t.rfind(':'); colon != std::string::npos) {
        file = t.substr(0, colon);
        name = t.substr(colon + 1);
        if (!file.ends_with("dvc.yaml")) file = fsx::join_path(file, "dvc.yaml");
      }
      auto yaml_rel = repo.relative(repo.absolute(file));
      for (auto& st : stages) {
        if (!st.is_pipeline() || !yaml_rel) continue;
        std::string lock_rel = fsx::join_path(fsx::parent_dir(*yaml_rel), "dvc.lock");
        if (st.rel_path != lock_rel) continue;
        if (st.pipeline_stage == name || st.pipeline_stage.starts_with(name + "@")) {
          for (auto& o : st.outs) out.push_back({&st, &o, ""});
          found = true;
        }
      }
    }
    if (!found) {
      if (t.ends_with("dvc.lock"))
        throw UserError("Did you mean: `" + t.substr(0, t.size() - 4) + "yaml`?", ExitCode::error);
      if (command == "checkout")
        throw UserError("Did you mean `git checkout " + t + "`?", ExitCode::error);
      if (rel && fsx::stat_path(abs).exists() && !recursive)
        throw UserError("'" + t + "' does not exist as an output or a stage name in 'dvc.yaml'", ExitCode::error);
      throw UserError("'" + t + "' does not exist", ExitCode::error);
    }
  }
  // Keep each output once, in project order (a whole output wins over parts of it). Grouped by
  // output first, so this stays linear in the number of outputs and selections.
  std::unordered_map<const repo::Output*, std::vector<const Selected*>> by_out;
  for (auto& s : out) by_out[s.out].push_back(&s);
  std::vector<Selected> unique;
  for (auto& st : stages)
    for (auto& o : st.outs) {
      auto it = by_out.find(&o);
      if (it == by_out.end()) continue;
      const Selected* whole = nullptr;
      for (auto* s : it->second)
        if (s->sub.empty()) whole = s;
      if (whole) {
        unique.push_back(*whole);
        continue;
      }
      std::unordered_set<std::string> subs;
      for (auto* s : it->second)
        if (subs.insert(s->sub).second) unique.push_back(*s);
    }
  return unique;
}

std::vector<UsedObject> used_objects(const repo::Repo& repo, const repo::Output& out, bool* manifest_missing) {
  std::vector<UsedObject> used;
  if (manifest_missing) *manifest_missing = false;
  auto id = out.recorded();
  if (!id || !out.entry.cache) return used;
  used.push_back({*id, out.rel_path});
  if (id->is_dir()) {
    auto entries = repo.cache().read_manifest(*id);
    if (!entries) {
      if (manifest_missing) *manifest_missing = true;
      return used;
    }
    for (auto& e : *entries) {
      if (!odb::valid_oid(e.md5) || e.md5.ends_with(".dir")) continue;
      used.push_back({odb::ObjectId{e.md5, id->layout}, out.rel_path + "/" + e.relpath});
    }
  }
  return used;
}

void write_stage(repo::Repo& repo, const std::string& rel_path, const formats::DvcFile& file,
                 const repo::DvcStage* existing) {
  std::string text = existing ? formats::update_dvc_file(existing->file, file) : formats::emit_dvc_file(file);
  if (existing && text == existing->text) return;
  if (auto r = fsx::write_file_atomic(repo.root() + "/" + rel_path, text, 0644); !r) raise(r.error());
  repo.track_for_git(repo.root() + "/" + rel_path);
}

bool gitignore_add(repo::Repo& repo, const std::string& out_rel) {
  auto* git = repo.git();
  if (!git) return false;
  std::string git_rel = fsx::relative_path(repo.root() + "/" + out_rel, git->work_tree());
  auto r = scm::ignore_output(*git, git_rel);
  if (!r) raise(r.error());
  if (*r) repo.track_for_git(git->work_tree() + "/" + **r);
  return r->has_value();
}

void gitignore_add_many(repo::Repo& repo, const std::vector<std::string>& out_rels) {
  auto* git = repo.git();
  if (!git) return;
  std::vector<std::string> git_rels;
  git_rels.reserve(out_rels.size());
  for (const auto& r : out_rels) git_rels.push_back(fsx::relative_path(repo.root() + "/" + r, git->work_tree()));
  auto changed = scm::ignore_outputs(*git, git_rels);
  if (!changed) raise(changed.error());
  for (const auto& g : *changed) repo.track_for_git(git->work_tree() + "/" + g);
}

void gitignore_remove(repo::Repo& repo, const std::string& out_rel) {
  auto* git = repo.git();
  if (!git) return;
  std::string git_rel = fsx::relative_path(repo.root() + "/" + out_rel, git->work_tree());
  auto r = scm::unignore_output(git->work_tree(), git_rel);
  if (!r) raise(r.error());
  if (*r) repo.track_for_git(git->work_tree() + "/" + **r);
}

std::vector<std::string> revision_commits(repo::Repo& repo, bool all_branches, bool all_tags, bool all_commits) {
  std::vector<std::string> out;
  auto* git = repo.git();
  if (!git || !(all_branches || all_tags || all_commits)) return out;
  // A Git error stops the command: a shorter list would shrink what gc keeps.
  // Names are resolved as full refs: a tag named like a branch must not hide the branch.
  auto take = [](Result<std::vector<std::string>> r, const std::string& ref_prefix, std::vector<std::string>& into) {
    if (!r) raise(r.error());
    for (auto& name : *r) into.push_back(ref_prefix + name);
  };
  std::vector<std::string> revs;
  if (all_commits) {
    take(git->all_commits(), "", revs);
  } else {
    if (all_branches) take(git->branches(), "refs/heads/", revs);
    if (all_tags) take(git->tags(), "refs/tags/", revs);
  }
  std::unordered_set<std::string> seen;
  for (auto& r : revs) {
    auto c = git->resolve(r);
    if (!c) {
      // Only a tag may name something that is not a commit (a tagged blob or tree): no data.
      if (c.error().code == ErrorCode::not_found && r.starts_with("refs/tags/")) continue;
      raise(c.error());
    }
    if (seen.insert(*c).second) out.push_back(*c);
  }
  return out;
}

// cache.type as it works here: reflink is dropped when the file system can't make one (DVC
// probes its types before linking), so `reflink,hardlink` relinks with hardlinks on ext4.
std::vector<fsx::LinkType> usable_link_types(repo::Repo& repo, const std::string& dir) {
  auto types = repo.link_types();
  if (!types.empty() && types.front() == fsx::LinkType::reflink && !repo.cache().reflink_works(dir))
    types.erase(types.begin());
  return types;
}

void relink(repo::Repo& repo, const repo::Output& o, const workspace::OutputState& st, odb::Layout layout,
            const std::vector<uint8_t>* in_place) {
  auto linked_in_place = [&](size_t i) { return in_place && i < in_place->size() && (*in_place)[i]; };
  // Never through a symlink: below a symlinked folder, or a folder output that is itself a link
  // (commit of `data -> elsewhere`), the data stays where it is. A link standing for a file
  // output is replaced by a file (DVC's add of `link.txt`), its target left alone.
  auto dest = workspace::check_destination(repo.context(), o.abs_path);
  if (!dest || (*dest != workspace::Obstacle::none && st.kind != workspace::OutputState::Kind::file)) return;
  auto types = usable_link_types(repo, fsx::parent_dir(o.abs_path));
  auto& cache = repo.cache();
  // No usable type (cache.type = reflink without reflink here): the workspace keeps its data.
  if (types.empty()) return;
  if (types.front() != fsx::LinkType::hardlink && types.front() != fsx::LinkType::symlink) {
    // An independent copy is kept as it is (DVC does the same); symlinks to files outside the
    // cache are replaced by regular files.
    std::vector<fsx::LinkType> copy_types{fsx::LinkType::reflink, fsx::LinkType::copy};
    if (st.kind == workspace::OutputState::Kind::file) {
      if (fsx::lstat_path(o.abs_path).type == fsx::FileType::symlink) {
        auto r = workspace::link_from_cache(cache.path_of({st.oid, layout}), o.abs_path, copy_types, st.isexec);
        if (!r) raise(r.error());
      }
      return;
    }
    if (!st.has_symlinks) return;
    for (auto& e : st.entries) {
      std::string p = o.abs_path + "/" + e.relpath;
      if (fsx::lstat_path(p).type != fsx::FileType::symlink) continue;
      auto r = workspace::link_from_cache(cache.path_of({e.md5, layout}), p, copy_types, false);
      if (!r) raise(r.error());
    }
    return;
  }
  if (st.kind == workspace::OutputState::Kind::file) {
    if (linked_in_place(0)) return;
    auto r = workspace::link_from_cache(cache.path_of({st.oid, layout}), o.abs_path, types, st.isexec);
    if (!r) raise(r.error());
    return;
  }
  // In parallel; a file that already is the object's inode (the cache was filled by
  // hardlinking it) is left alone.
  std::mutex m;
  std::optional<Error> first;
  parallel_for(st.entries.size(), repo.jobs(), [&](size_t i) {
    if (linked_in_place(i)) return;  // hard-linked into the cache by this command
    const auto& e = st.entries[i];
    std::string obj = cache.path_of({e.md5, layout}), dst = o.abs_path + "/" + e.relpath;
    if (types.front() == fsx::LinkType::hardlink) {
      auto a = fsx::lstat_path(obj), b = fsx::lstat_path(dst);
      if (a.exists() && a.inode == b.inode && a.device == b.device) return;
    }
    auto local = types;
    auto r = workspace::link_from_cache(obj, dst, local, false);
    if (!r) {
      std::lock_guard<std::mutex> lock(m);
      if (!first) first = r.error();
    }
  });
  if (first) raise(*first);
}

std::string corrupted_message(const repo::Repo& repo, const odb::ObjectId& id, const std::string& name,
                              const std::string& quarantined, bool restored) {
  std::string m = "corrupted cache file '" + repo.display(repo.cache().path_of(id)) + "' (md5: " + id.oid + ")";
  if (!name.empty()) m += " for '" + name + "'";
  m += ": its content no longer matches its hash";
  if (!quarantined.empty()) m += "; moved to '" + repo.display(quarantined) + "'";
  if (restored) return m + "; stored again from the workspace file.";
  return m + ". Re-add the intact file or fetch it again to restore it.";
}

std::string display_out(const repo::Repo& repo, const std::string& abs_path, bool is_dir) {
  std::string d = repo.display(abs_path);
  return is_dir ? d + "/" : d;
}

}  // namespace dvx::api::detail
