// dvx diff, data status and ls: behaviour.md §11, §12; cli.md §6.2, §6.6, §6.7.
#include <algorithm>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/scm/git.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

// path ("dir/" for directories) -> hash, repo-relative.
using Index = std::map<std::string, std::string>;

void index_recorded(const repo::Repo& repo, const repo::Output& o, Index& idx, bool granular) {
  auto rec = o.recorded();
  if (!rec) return;
  if (!rec->is_dir()) {
    idx[o.rel_path] = rec->oid;
    return;
  }
  idx[o.rel_path + "/"] = rec->oid;
  if (!granular) return;
  auto entries = repo.cache().read_manifest(*rec);
  if (!entries) return;
  for (auto& e : *entries) idx[o.rel_path + "/" + e.relpath] = e.md5;
}

void index_actual(repo::Repo& repo, const repo::Output& o, Index& idx, bool granular) {
  auto ctx = repo.context();
  auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
  if (!st) raise(st.error());
  if (st->kind == workspace::OutputState::Kind::file) idx[o.rel_path] = st->oid;
  else if (st->kind == workspace::OutputState::Kind::dir) {
    idx[o.rel_path + "/"] = st->oid;
    if (granular)
      for (auto& e : st->entries) idx[o.rel_path + "/" + e.relpath] = e.md5;
  }
}

using repo::stages_at;

bool matches_targets(const std::string& path, const std::vector<std::string>& targets) {
  if (targets.empty()) return true;
  std::string p = path;
  if (!p.empty() && p.back() == '/') p.pop_back();
  for (auto& t : targets)
    if (fsx::is_within(p, t) || fsx::is_within(t, p)) return true;
  return false;
}

// An entry of `dvc diff --targets`: the path itself or a path below a target (a file target
// inside a tracked folder selects that file only, not the folder's own entry).
bool under_targets(const std::string& path, const std::vector<std::string>& targets) {
  if (targets.empty()) return true;
  std::string p = path;
  if (!p.empty() && p.back() == '/') p.pop_back();
  return std::any_of(targets.begin(), targets.end(),
                     [&](const std::string& t) { return t.empty() || t == "." || fsx::is_within(p, t); });
}

}  // namespace

DiffResult diff(repo::Repo& repo, const std::optional<std::string>& a_rev, const std::optional<std::string>& b_rev,
                const std::vector<std::string>& targets_in) {
  DiffResult res;
  res.workspace = !b_rev;
  auto* git = repo.git();
  if (!git) throw UserError("failed to get diff - Only supported for Git repositories.", ExitCode::failure);
  auto has = git->has_commits();
  if (has && !*has) return res;
  std::vector<std::string> targets;
  for (auto& t : targets_in) {
    auto rel = repo.relative(repo.absolute(t));
    if (rel) targets.push_back(*rel);
  }
  auto resolve = [&](const std::string& rev) {
    auto c = git->resolve(rev);
    if (!c) throw UserError("failed to get diff - " + c.error().message, ExitCode::failure);
    return *c;
  };
  Index a, b;
  for (auto& st : stages_at(repo, resolve(a_rev.value_or("HEAD"))))
    for (auto& o : st.outs) index_recorded(repo, o, a, true);
  std::vector<std::pair<std::string, std::string>> not_in_cache;
  if (b_rev) {
    for (auto& st : stages_at(repo, resolve(*b_rev)))
      for (auto& o : st.outs) index_recorded(repo, o, b, true);
  } else {
    for (auto& st : repo.stages())
      for (auto& o : st.outs) {
        if (!fsx::lstat_path(o.abs_path).exists()) {
          auto rec = o.recorded();
          if (rec && !repo.cache().exists(*rec)) {
            Index tmp;
            index_recorded(repo, o, tmp, true);
            for (auto& [p, h] : tmp) {
              not_in_cache.emplace_back(p, h);
              b[p] = h;  // reported as not in cache, not as deleted
            }
            continue;
          }
        }
        index_actual(repo, o, b, true);
      }
  }
  std::vector<DiffEntry> added, deleted;
  for (auto& [p, h] : a) {
    if (!under_targets(p, targets)) continue;
    auto it = b.find(p);
    if (it == b.end()) deleted.push_back({p, "", h, ""});
    else if (it->second != h) res.modified.push_back({p, "", h, it->second});
  }
  for (auto& [p, h] : b) {
    if (!under_targets(p, targets)) continue;
    if (!a.count(p)) added.push_back({p, "", "", h});
  }
  // Renames: a deleted and an added file with the same content.
  std::unordered_map<std::string, size_t> deleted_by_hash;
  for (size_t i = 0; i < deleted.size(); ++i)
    if (deleted[i].path.back() != '/') deleted_by_hash.emplace(deleted[i].old_hash, i);
  std::vector<bool> renamed_deleted(deleted.size(), false);
  for (auto& e : added) {
    auto it = e.path.back() == '/' ? deleted_by_hash.end() : deleted_by_hash.find(e.new_hash);
    if (it != deleted_by_hash.end() && !renamed_deleted[it->second]) {
      renamed_deleted[it->second] = true;
      res.renamed.push_back({e.path, deleted[it->second].path, e.new_hash, e.new_hash});
    } else {
      res.added.push_back(e);
    }
  }
  for (size_t i = 0; i < deleted.size(); ++i)
    if (!renamed_deleted[i]) res.deleted.push_back(deleted[i]);
  for (auto& [p, h] : not_in_cache)
    if (under_targets(p, targets) && a.count(p) && a[p] == h) res.not_in_cache.push_back({p, "", h, h});
  std::sort(res.renamed.begin(), res.renamed.end(), [](auto& x, auto& y) { return x.old_path < y.old_path; });
  return res;
}

DataStatus data_status(repo::Repo& repo, const DataStatusOptions& opts) {
  DataStatus res;
  std::vector<std::string> targets;
  for (auto& t : opts.targets)
    if (auto rel = repo.relative(repo.absolute(t))) targets.push_back(*rel);
  auto show = [&](const std::string& rel) {
    bool dir = !rel.empty() && rel.back() == '/';
    std::string p = fsx::relative_path(repo.root() + "/" + (dir ? rel.substr(0, rel.size() - 1) : rel), repo.cwd());
    return dir ? p + "/" : p;
  };
  Index recorded, actual, head;
  for (auto& st : repo.stages())
    for (auto& o : st.outs) {
      if (!matches_targets(o.rel_path, targets)) continue;
      index_recorded(repo, o, recorded, opts.granular);
      index_actual(repo, o, actual, opts.granular);
      auto rec = o.recorded();
      if (rec && o.entry.cache) {
        if (!repo.cache().exists(*rec)) res.not_in_cache.push_back(show(rec->is_dir() ? o.rel_path + "/" : o.rel_path));
      }
    }
  auto* git = repo.git();
  bool head_known = false;
  if (git) {
    auto has = git->has_commits();
    if (has && *has) {
      auto c = git->resolve("HEAD");
      if (c) {
        head_known = true;
        for (auto& st : stages_at(repo, *c))
          for (auto& o : st.outs)
            if (matches_targets(o.rel_path, targets)) index_recorded(repo, o, head, opts.granular);
      }
    }
  }
  auto compare = [&](const Index& from, const Index& to, std::map<std::string, std::vector<std::string>>& out) {
    for (auto& [p, h] : from) {
      auto it = to.find(p);
      if (it == to.end()) out["deleted"].push_back(show(p));
      else if (it->second != h) out["modified"].push_back(show(p));
    }
    for (auto& [p, h] : to)
      if (!from.count(p)) out["added"].push_back(show(p));
  };
  if (head_known) compare(head, recorded, res.committed);
  else if (git) for (auto& [p, h] : recorded) res.committed["added"].push_back(show(p));
  compare(recorded, actual, res.uncommitted);
  if (opts.unchanged) {
    for (auto& [p, h] : recorded) {
      auto it = actual.find(p);
      if (it == actual.end() || it->second != h) continue;
      auto hit = head.find(p);
      if (head_known && (hit == head.end() || hit->second != h)) continue;
      res.unchanged.push_back(show(p));
    }
  }
  if (git) {
    if (opts.untracked) {
      auto u = git->untracked_files();
      if (u) {
        std::string prefix = fsx::relative_path(repo.root(), git->work_tree());
        for (auto& f : *u) res.untracked.push_back(fsx::relative_path(git->work_tree() + "/" + f, repo.cwd()));
      }
    }
    auto ch = git->has_changes();
    res.git_has_changes = ch && *ch;
  }
  return res;
}

std::vector<LsEntry> ls(repo::Repo& repo, const std::optional<std::string>& path, bool recursive, bool dvc_only) {
  // Every file of the project view: DVC outputs (directories expanded from manifests) and,
  // unless dvc_only, the other workspace files.
  std::map<std::string, LsEntry> files;
  std::unordered_set<std::string> out_dirs;
  std::map<std::string, LsEntry> out_dir_entries;
  for (auto& st : repo.stages())
    for (auto& o : st.outs) {
      auto rec = o.recorded();
      if (rec && rec->is_dir()) {
        LsEntry d{o.rel_path, true, true, false, o.entry.size, rec->oid};
        out_dir_entries[o.rel_path] = d;
        out_dirs.insert(o.rel_path);
        auto entries = repo.cache().read_manifest(*rec);
        if (entries)
          for (auto& e : *entries)
            files[o.rel_path + "/" + e.relpath] = LsEntry{o.rel_path + "/" + e.relpath, true, false, false, std::nullopt, e.md5};
      } else {
        files[o.rel_path] = LsEntry{o.rel_path, true, false, o.entry.isexec, o.entry.size,
                                    rec ? std::optional<std::string>(rec->oid) : std::nullopt};
      }
    }
  if (!dvc_only) {
    const auto& rules = repo.ignore();
    std::vector<std::string> stack{""};
    while (!stack.empty()) {
      std::string rel = stack.back();
      stack.pop_back();
      auto entries = fsx::list_dir(rel.empty() ? repo.root() : repo.root() + "/" + rel);
      if (!entries) continue;
      for (auto& e : *entries) {
        std::string child = rel.empty() ? e.name : rel + "/" + e.name;
        if (rel.empty() && (e.name == ".git" || e.name == ".dvc")) continue;
        if (files.count(child) || out_dirs.count(child)) continue;
        if (e.type == fsx::FileType::directory) {
          if (!rules.is_ignored(child, true)) stack.push_back(child);
        } else if (!rules.is_ignored(child, false)) {
          auto s = fsx::stat_path(repo.root() + "/" + child);
          files[child] = LsEntry{child, false, false, s.is_exec(), s.size, std::nullopt};
        }
      }
    }
  }
  std::string base;
  if (path) {
    auto rel = repo.relative(repo.absolute(*path));
    if (!rel) throw UserError("'" + *path + "' is outside of the repository");
    base = *rel;
  }
  std::vector<LsEntry> out;
  std::unordered_set<std::string> seen_dirs;
  bool any = false;
  for (auto& [p, e] : files) {
    if (!base.empty() && !fsx::is_within(p, base)) continue;
    any = true;
    std::string rel = base.empty() ? p : (p == base ? fsx::base_name(p) : p.substr(base.size() + 1));
    if (recursive) {
      LsEntry x = e;
      x.path = rel;
      out.push_back(x);
      continue;
    }
    auto slash = rel.find('/');
    if (slash == std::string::npos) {
      LsEntry x = e;
      x.path = rel;
      out.push_back(x);
    } else {
      std::string top = rel.substr(0, slash);
      if (seen_dirs.insert(top).second) {
        std::string full = base.empty() ? top : base + "/" + top;
        auto it = out_dir_entries.find(full);
        if (it != out_dir_entries.end()) {
          LsEntry x = it->second;
          x.path = top;
          out.push_back(x);
        } else {
          out.push_back(LsEntry{top, false, true, false, std::nullopt, std::nullopt});
        }
      }
    }
  }
  if (!any && !base.empty()) throw UserError("The path '" + *path + "' does not exist in the target repository '.'");
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.path < b.path; });
  return out;
}

}  // namespace dvx::api
