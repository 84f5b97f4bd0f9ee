#include "dvx/api/internal.h"

#include <unordered_map>
#include <unordered_set>

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

void gitignore_remove(repo::Repo& repo, const std::string& out_rel) {
  auto* git = repo.git();
  if (!git) return;
  std::string git_rel = fsx::relative_path(repo.root() + "/" + out_rel, git->work_tree());
  auto r = scm::unignore_output(git->work_tree(), git_rel);
  if (!r) raise(r.error());
  if (*r) repo.track_for_git(git->work_tree() + "/" + **r);
}

std::vector<repo::DvcStage> stages_at(repo::Repo& repo, const std::string& commit) {
  std::vector<repo::DvcStage> out;
  auto* git = repo.git();
  if (!git) return out;
  auto files = git->list_dvc_files_at(commit);
  if (!files) raise(files.error());
  std::string prefix = fsx::relative_path(repo.root(), git->work_tree());
  for (auto& f : *files) {
    bool lock = fsx::base_name(f) == "dvc.lock";
    if (!f.ends_with(".dvc") && !lock) continue;
    if (prefix != "." && !fsx::is_within(f, prefix)) continue;
    auto text = git->read_file_at(commit, f);
    if (!text) raise(text.error());
    if (!*text) continue;
    std::string rel = prefix == "." ? f : f.substr(prefix.size() + 1);
    if (lock) {
      auto yaml_text = git->read_file_at(commit, fsx::join_path(fsx::parent_dir(f), "dvc.yaml"));
      std::string y = yaml_text && *yaml_text ? **yaml_text : std::string();
      for (auto& st : repo.load_lock(rel, **text, y)) out.push_back(std::move(st));
      continue;
    }
    out.push_back(repo.load_stage(rel, **text));
  }
  return out;
}

std::vector<std::string> revision_commits(repo::Repo& repo, bool all_branches, bool all_tags, bool all_commits) {
  std::vector<std::string> out;
  auto* git = repo.git();
  if (!git || !(all_branches || all_tags || all_commits)) return out;
  std::vector<std::string> revs;
  if (all_commits) {
    if (auto c = git->all_commits()) revs = *c;
  } else {
    if (all_branches)
      if (auto b = git->branches()) revs.insert(revs.end(), b->begin(), b->end());
    if (all_tags)
      if (auto t = git->tags()) revs.insert(revs.end(), t->begin(), t->end());
  }
  std::unordered_set<std::string> seen;
  for (auto& r : revs) {
    auto c = git->resolve(r);
    if (c && seen.insert(*c).second) out.push_back(*c);
  }
  return out;
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
