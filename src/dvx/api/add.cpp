// dvx add: behaviour.md §1.
#include <glob.h>

#include <algorithm>
#include <unordered_map>

#include <mutex>

#include "dvx/api/internal.h"
#include "dvx/base/thread_pool.h"
#include "dvx/base/strings.h"
#include "dvx/scm/git.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

struct Plan {
  std::string user;     // the target as given
  std::string abs;      // absolute path of the output
  std::string rel;      // repo-relative
  const repo::DvcStage* stage = nullptr;  // existing stage whose output this is
  const repo::Output* out = nullptr;
  const repo::Output* granular_parent = nullptr;  // target is inside this tracked directory
  const repo::DvcStage* granular_stage = nullptr;
};

std::vector<std::string> expand_globs(const std::vector<std::string>& targets, const std::string& cwd) {
  std::vector<std::string> out;
  for (auto& t : targets) {
    glob_t g{};
    std::string pattern = t.empty() || t[0] == '/' ? t : cwd + "/" + t;
    int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
    if (rc != 0 || g.gl_pathc == 0) {
      ::globfree(&g);
      throw UserError("Glob " + python_list_repr({t}) + " has no matches.", ExitCode::failure);
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
    ::globfree(&g);
  }
  return out;
}

bool has_symlinked_parent(const std::string& abs, const std::string& root) {
  std::string d = fsx::parent_dir(abs);
  while (d.size() > root.size() && fsx::is_within(d, root)) {
    if (fsx::lstat_path(d).type == fsx::FileType::symlink) return true;
    d = fsx::parent_dir(d);
  }
  return false;
}

Status copy_tree(const std::string& src, const std::string& dst) {
  auto s = fsx::stat_path(src);
  if (s.type == fsx::FileType::regular) {
    std::string tmp = fsx::temp_path_beside(dst);
    if (auto r = fsx::copy_file(src, tmp, s.mode & 0777); !r) return r;
    return fsx::rename_path(tmp, dst);
  }
  if (s.type != fsx::FileType::directory) return fail(ErrorCode::not_found, "'" + src + "' does not exist");
  if (auto r = fsx::make_dirs(dst); !r) return r;
  auto entries = fsx::list_dir(src);
  if (!entries) return std::unexpected(entries.error());
  for (auto& e : *entries)
    if (auto r = copy_tree(src + "/" + e.name, dst + "/" + e.name); !r) return r;
  return {};
}

}  // namespace

void add(repo::Repo& repo, const AddOptions& opts) {
  std::vector<std::string> targets = opts.targets;
  if (opts.out) {
    if (targets.size() != 1) throw UserError("-o/--out can't be used with multiple targets", ExitCode::bad_arguments);
    std::string src = repo.absolute(targets[0]);
    std::string dst = repo.absolute(*opts.out);
    if (fsx::lstat_path(dst).exists()) {
      if (!opts.force)
        throw UserError("The file '" + *opts.out + "' already exists locally.\nTo override it, re-run with '--force'.",
                        ExitCode::failure);
      if (auto r = fsx::remove_all(dst); !r) raise(r.error(), ExitCode::failure);
    }
    if (!fsx::stat_path(src).exists())
      throw UserError("output '" + targets[0] + "' does not exist: [Errno 2] No such file or directory: '" + src + "'",
                      ExitCode::failure);
    if (auto r = fsx::make_dirs(fsx::parent_dir(dst)); !r) raise(r.error(), ExitCode::failure);
    if (auto r = copy_tree(src, dst); !r) raise(r.error(), ExitCode::failure);
    targets = {*opts.out};
  }
  if (opts.glob) targets = expand_globs(targets, repo.cwd());

  const auto& stages = repo.stages();
  const auto& rules = repo.ignore();
  std::vector<Plan> plans;
  for (auto& t : targets) {
    Plan p;
    p.user = t;
    p.abs = repo.absolute(t);
    auto rel = repo.relative(p.abs);
    if (!rel || rel->empty())
      throw UserError("Cached output(s) outside of DVC project: " + p.abs +
                          ". See <https://dvc.org/doc/user-guide/data-management/importing-external-data> for more info.",
                      ExitCode::failure);
    p.rel = *rel;
    std::string base = fsx::base_name(p.rel);
    if (base.ends_with(".dvc") || base == "dvc.yaml" || base == "dvc.lock")
      throw UserError("DVC file '" + repo.display(p.abs) + "' cannot be an output.", ExitCode::failure);
    if (fsx::is_within(p.rel, ".dvc") || fsx::is_within(p.rel, ".git"))
      throw UserError("'" + repo.display(p.abs) + "' is inside the '.dvc' or '.git' directory and can't be tracked",
                      ExitCode::failure);
    if (has_symlinked_parent(p.abs, repo.root()) ||
        (fsx::lstat_path(p.abs).type == fsx::FileType::symlink && fsx::stat_path(p.abs).type == fsx::FileType::directory))
      throw UserError(
          "Cannot add files inside symlinked directories to DVC. See "
          "<https://dvc.org/doc/user-guide/troubleshooting#add-symlink> for more information.",
          ExitCode::failure);
    auto st = fsx::stat_path(p.abs);
    if (auto m = rules.match(p.rel, st.type == fsx::FileType::directory); m && m->ignored)
      throw UserError("Path '" + p.abs + "' is ignored by " + m->source + ":" + std::to_string(m->line) + ":" +
                          m->pattern,
                      ExitCode::failure);
    for (auto& s : stages) {
      for (auto& o : s.outs) {
        if (s.is_pipeline() && (o.rel_path == p.rel || fsx::is_within(p.rel, o.rel_path))) {
          std::string shown = p.rel == o.rel_path ? fsx::base_name(p.rel) : fsx::base_name(p.rel);
          throw UserError("cannot update '" + shown + "': overlaps with an output of stage: '" + s.pipeline_stage +
                              "' in '" + repo.display(fsx::parent_dir(s.abs_path) + "/dvc.yaml") +
                              "'.\nRun the pipeline or use 'dvc commit' to force update it.",
                          ExitCode::failure);
        }
        if (o.rel_path == p.rel) {
          p.stage = &s;
          p.out = &o;
        } else if (fsx::is_within(p.rel, o.rel_path)) {
          p.granular_parent = &o;
          p.granular_stage = &s;
        } else if (fsx::is_within(o.rel_path, p.rel)) {
          throw UserError("Cannot add '" + repo.display(p.abs) +
                              "', because it is overlapping with other DVC tracked output: '" +
                              repo.display(o.abs_path) + "'.\nTo include '" + repo.display(o.abs_path) + "' in '" +
                              repo.display(p.abs) + "', run 'dvc remove " + repo.display(s.abs_path) +
                              "' and then 'dvc add " + repo.display(p.abs) + "'",
                          ExitCode::failure);
        }
      }
    }
    if (!st.exists() && !p.granular_parent)
      throw UserError("output '" + repo.display(p.abs) + "' does not exist: [Errno 2] No such file or directory: '" +
                          p.abs + "'",
                      ExitCode::failure);
    if (st.exists() && st.type != fsx::FileType::regular && st.type != fsx::FileType::directory)
      throw UserError("output '" + repo.display(p.abs) + "' is not a file or directory", ExitCode::failure);
    if (auto* git = repo.git(); git && !p.granular_parent) {
      std::string git_rel = fsx::relative_path(p.abs, git->work_tree());
      if (auto ok = scm::check_gitignore_name(git_rel); !ok) throw UserError(ok.error().message, ExitCode::failure);
      auto tracked = git->is_tracked(git_rel);
      if (tracked && *tracked) {
        std::string d = repo.display(p.abs);
        throw UserError(" output '" + d +
                            "' is already tracked by SCM (e.g. Git).\n    You can remove it from Git, then add to DVC.\n"
                            "        To stop tracking from Git:\n            git rm -r --cached '" +
                            d + "'\n            git commit -m \"stop tracking " + d + "\" ",
                        ExitCode::failure);
      }
    }
    plans.push_back(std::move(p));
  }
  // Targets overlapping each other: nothing is written.
  for (size_t i = 0; i < plans.size(); ++i)
    for (size_t j = 0; j < plans.size(); ++j)
      if (i != j && plans[i].rel != plans[j].rel && fsx::is_within(plans[j].rel, plans[i].rel))
        throw UserError("Cannot add '" + repo.display(plans[i].abs) +
                            "', because it is overlapping with other DVC tracked output: '" +
                            repo.display(plans[j].abs) + "'.\nTo include '" + repo.display(plans[j].abs) + "' in '" +
                            repo.display(plans[i].abs) + "', run 'dvc remove " + repo.display(plans[j].abs) +
                            ".dvc' and then 'dvc add " + repo.display(plans[i].abs) + "'",
                        ExitCode::failure);

  auto ctx = repo.context();
  // New files are copied into the cache while they are hashed (read once), unless the cache
  // is filled by hardlinks or nothing is to be cached.
  odb::BulkWriter bulk(repo.cache());
  workspace::Ingest ingest{&repo.cache(), odb::Layout::v3, &bulk};
  if (!plans.empty()) ctx.link_types = detail::usable_link_types(repo, fsx::parent_dir(plans.front().abs));
  auto types = ctx.link_types;
  if (!opts.no_commit && (types.empty() || types.front() != fsx::LinkType::hardlink) && !plans.empty() &&
      !repo.cache().reflink_works(fsx::parent_dir(plans.front().abs)))
    ctx.ingest = &ingest;
  // .gitignore lines added by this command are taken back if it fails (behaviour.md, general rules).
  std::vector<std::string> ignored_now;
  std::vector<uint8_t> in_place;  // of the last save: files that became their objects
  auto save = [&](const std::string& abs, const workspace::OutputState& st, odb::Layout layout) {
    std::vector<workspace::CorruptObject> repaired;
    auto r = workspace::save_to_cache(ctx, abs, st, layout, &repaired, &in_place);
    for (auto& c : repaired)
      if (opts.warn) opts.warn(detail::corrupted_message(repo, c.id, repo.display(c.path), c.quarantined, true));
    if (!r) raise(r.error(), ExitCode::failure);
  };
  try {
  for (auto& p : plans) {
    if (p.granular_parent) {
      // Granular update of a tracked directory (behaviour.md §1 step 4).
      const auto& parent = *p.granular_parent;
      auto rec = parent.recorded();
      if (!rec) throw UserError("'" + repo.display(parent.abs_path) + "' has no recorded hash: add it first", ExitCode::failure);
      auto entries = repo.cache().read_manifest(*rec);
      if (!entries)
        throw UserError("cannot update '" + repo.display(p.abs) + "': the manifest of '" +
                            repo.display(parent.abs_path) + "' is not in the cache",
                        ExitCode::failure);
      std::string sub = p.rel.substr(parent.rel_path.size() + 1);
      std::vector<formats::ManifestEntry> kept;
      std::unordered_map<std::string, std::string> old;
      for (auto& e : *entries) {
        if (e.relpath == sub || fsx::is_within(e.relpath, sub)) old.emplace(e.relpath, e.md5);
        else kept.push_back(e);
      }
      auto st = workspace::compute_state(ctx, p.abs, parent.algorithm());
      if (!st) raise(st.error(), ExitCode::failure);
      std::vector<formats::ManifestEntry> added;
      int64_t added_size = 0;
      if (st->kind == workspace::OutputState::Kind::file) {
        added.push_back({sub, st->oid});
        added_size = st->size;
      } else if (st->kind == workspace::OutputState::Kind::dir) {
        for (size_t i = 0; i < st->entries.size(); ++i) {
          added.push_back({sub + "/" + st->entries[i].relpath, st->entries[i].md5});
          added_size += st->entry_sizes[i];
        }
      }
      bool pure_addition = old.empty();
      bool unchanged = old.size() == added.size();
      for (auto& a : added) {
        auto it = old.find(a.relpath);
        if (it == old.end() || it->second != a.md5) unchanged = false;
      }
      if (unchanged) continue;
      for (auto& a : added) kept.push_back(a);
      std::string manifest = formats::encode_manifest(kept);
      std::string oid = hash::md5_hex(manifest) + ".dir";
      if (!opts.no_commit) {
        if (st->kind != workspace::OutputState::Kind::missing) save(p.abs, *st, parent.layout());
        if (auto r = repo.cache().add_bytes(manifest, {oid, parent.layout()}); !r) raise(r.error(), ExitCode::failure);
      }
      formats::DvcFile updated = p.granular_stage->file;
      auto& e = updated.outs[parent.index];
      std::optional<int64_t> new_size;
      if (pure_addition && e.size) new_size = *e.size + added_size;
      e.md5 = oid;
      e.size = new_size;
      e.nfiles = static_cast<int64_t>(kept.size());
      detail::write_stage(repo, p.granular_stage->rel_path, updated, p.granular_stage);
      repo.reload_stages();
      continue;
    }

    auto alg = hash::Algorithm::md5;
    odb::Layout layout = odb::Layout::v3;
    std::optional<workspace::OutputState> st;
    if (p.out && p.out->layout() == odb::Layout::legacy) {
      // A 2.x entry stays 2.x while its data is unchanged (formats.md §2.4).
      auto legacy = workspace::compute_state(ctx, p.abs, hash::Algorithm::md5_dos2unix);
      if (!legacy) raise(legacy.error(), ExitCode::failure);
      if (p.out->entry.md5 && legacy->oid == *p.out->entry.md5) {
        st = std::move(*legacy);
        alg = hash::Algorithm::md5_dos2unix;
        layout = odb::Layout::legacy;
      }
    }
    if (!st) {
      auto s = workspace::compute_state(ctx, p.abs, alg);
      if (!s) raise(s.error(), ExitCode::failure);
      st = std::move(*s);
    }
    if (st->kind == workspace::OutputState::Kind::dir) {
      for (auto& e : st->entries)
        if (fsx::base_name(e.relpath) == ".dvcignore")
          throw UserError(".dvcignore file should not be in collected dir path: '" + p.abs + "'", ExitCode::failure);
    }
    if (detail::gitignore_add(repo, p.rel)) ignored_now.push_back(p.rel);
    if (!opts.no_commit) {
      save(p.abs, *st, layout);
      if (!opts.no_relink) {
        repo::Output o;
        o.abs_path = p.abs;
        detail::relink(repo, o, *st, layout, &in_place);
      }
    }
    formats::DvcFile file;
    const repo::DvcStage* existing = p.stage;
    std::string dvc_rel;
    size_t index = 0;
    if (existing) {
      file = existing->file;
      dvc_rel = existing->rel_path;
      index = p.out->index;
    } else {
      dvc_rel = p.rel + ".dvc";
      formats::DvcOut o;
      o.path = fsx::base_name(p.rel);
      file.outs.push_back(o);
    }
    auto& e = file.outs[index];
    e.md5 = st->oid;
    e.size = st->size;
    if (st->kind == workspace::OutputState::Kind::dir) e.nfiles = st->nfiles;
    else e.nfiles.reset();
    e.isexec = st->kind == workspace::OutputState::Kind::file && st->isexec;
    if (layout == odb::Layout::v3) e.hash = "md5";
    detail::write_stage(repo, dvc_rel, file, existing);
    repo.reload_stages();
    ignored_now.clear();  // this target is complete
  }
  } catch (...) {
    for (auto& rel : ignored_now) {
      try {
        detail::gitignore_remove(repo, rel);
      } catch (...) {
      }
    }
    throw;
  }
}

}  // namespace dvx::api
