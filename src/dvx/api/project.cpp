// init, destroy, install, remove, move, unprotect, commit: behaviour.md §5, §9, §10, §13.
#include <algorithm>
#include <cstdlib>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/scm/git.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

InitResult init(const std::string& cwd, const InitOptions& opts) {
  std::string dir = fsx::absolute_path(opts.directory, cwd);
  InitResult res;
  res.root = dir;
  if (opts.no_scm && opts.subdir)
    throw UserError("Cannot initialize repo with `--no-scm` and `--subdir`", ExitCode::failure);
  std::optional<scm::Git> git;
  if (!opts.no_scm) {
    auto g = scm::Git::discover(dir);
    if (g && *g && ((*g)->work_tree() == dir || opts.subdir)) git.emplace(std::move(**g));
    if (!git)
      throw UserError(dir +
                          " is not tracked by any supported SCM tool (e.g. Git). Use `--no-scm` if you don't want to "
                          "use any SCM or `--subdir` if initializing inside a subdirectory of a parent SCM repository.",
                      ExitCode::failure);
  }
  res.git = git.has_value();
  std::string dvc = dir + "/.dvc";
  if (fsx::lstat_path(dvc).exists()) {
    if (!opts.force) throw UserError("'.dvc' exists. Use `-f` to force.", ExitCode::failure);
    if (auto r = fsx::remove_all(dvc); !r) raise(r.error(), ExitCode::failure);
  }
  auto check = [](const Status& s) {
    if (!s) raise(s.error(), ExitCode::failure);
  };
  check(fsx::make_dirs(dvc + "/tmp"));
  check(fsx::write_file_atomic(dvc + "/config", opts.no_scm ? "[core]\n    no_scm = True\n" : "", 0644));
  check(fsx::write_file_atomic(dvc + "/.gitignore", "/config.local\n/tmp\n/cache\n", 0644));
  check(fsx::write_file_atomic(dir + "/.dvcignore",
                               "# Add patterns of files dvc should ignore, which could improve\n"
                               "# the performance. Learn more at\n"
                               "# https://dvc.org/doc/user-guide/dvcignore\n",
                               0644));
  if (git) {
    auto rel = [&](const std::string& p) { return fsx::relative_path(p, git->work_tree()); };
    check(git->add({rel(dvc + "/config"), rel(dvc + "/.gitignore"), rel(dir + "/.dvcignore")}));
  }
  return res;
}

void destroy(repo::Repo& repo, bool force, const Confirm& confirm) {
  if (!force && !confirm(
                    "This will destroy all information about your pipelines, all data files, as well as cache in "
                    ".dvc/cache.\nAre you sure you want to continue?"))
    throw UserError(
        "failed to destroy DVC - cannot destroy without a confirmation from the user. Use `-f` to force.",
        ExitCode::failure);
  for (auto& st : repo.stages()) {
    for (auto& o : st.outs)
      if (fsx::lstat_path(o.abs_path).exists()) (void)workspace::unprotect(o.abs_path);
    if (auto r = fsx::remove_file(st.abs_path); !r) raise(r.error());
    if (st.is_pipeline())
      if (auto r = fsx::remove_file(fsx::parent_dir(st.abs_path) + "/dvc.yaml"); !r) raise(r.error());
  }
  (void)fsx::remove_file(repo.root() + "/.dvcignore");
  if (auto r = fsx::remove_all(repo.dvc_dir()); !r) raise(r.error());
}

void install_hooks(repo::Repo& repo) {
  auto* git = repo.git();
  if (!git) throw UserError("Only supported for Git repositories.", ExitCode::error);
  std::string hooks = git->common_dir() + "/hooks";
  const char* names[] = {"post-checkout", "pre-commit", "pre-push"};
  for (auto* n : names)
    if (fsx::lstat_path(hooks + "/" + n).exists())
      throw UserError(std::string("Hook '") + n + "' already exists. Please refer to <https://man.dvc.org/install> for more info.",
                      ExitCode::failure);
  std::string sh = "/bin/sh";
  if (const char* path = std::getenv("PATH")) {
    for (auto& d : split(path, ':')) {
      if (d.empty()) continue;
      auto s = fsx::stat_path(d + "/sh");
      if (s.type == fsx::FileType::regular && (s.mode & 0111)) {
        sh = d + "/sh";
        break;
      }
    }
  }
  if (auto r = fsx::make_dirs(hooks); !r) raise(r.error());
  for (auto* n : names) {
    std::string text = "#!" + sh + "\nexec dvc git-hook " + n + " $@\n";
    if (auto r = fsx::write_file_atomic(hooks + "/" + n, text, 0755); !r) raise(r.error());
  }
  if (auto r = git->config_set("merge.dvc.name", "DVC merge driver"); !r) raise(r.error());
  if (auto r = git->config_set("merge.dvc.driver", "dvc git-hook merge-driver --ancestor %O --our %A --their %B "); !r)
    raise(r.error());
}

namespace {

const repo::DvcStage* find_stage_file(repo::Repo& repo, const std::string& target) {
  std::string abs = repo.absolute(target);
  auto rel = repo.relative(abs);
  if (!rel) return nullptr;
  for (auto& st : repo.stages())
    if (!st.is_pipeline() && st.rel_path == *rel) return &st;
  return nullptr;
}

}  // namespace

void remove(repo::Repo& repo, const std::vector<std::string>& all_targets, bool outs) {
  std::vector<std::string> targets = all_targets;
  if (!repo.pipeline_files().empty()) targets = detail::remove_pipeline_stages(repo, all_targets, outs);
  std::vector<const repo::DvcStage*> selected;
  for (auto& t : targets) {
    auto* st = find_stage_file(repo, t);
    if (!st) {
      std::string abs = repo.absolute(t);
      if (fsx::lstat_path(abs + ".dvc").exists())
        throw UserError("'" + t + "' is not a .dvc file. Do you mean '" + t + ".dvc'?");
      throw UserError("'" + t + "' does not exist");
    }
    selected.push_back(st);
  }
  for (auto* st : selected) {
    for (auto& o : st->outs) {
      if (outs) {
        if (auto r = fsx::remove_all(o.abs_path); !r) raise(r.error());
      } else if (fsx::lstat_path(o.abs_path).exists()) {
        if (auto r = workspace::unprotect(o.abs_path); !r) raise(r.error());
      }
      if (o.entry.cache) detail::gitignore_remove(repo, o.rel_path);
    }
    if (auto r = fsx::remove_file(st->abs_path); !r) raise(r.error());
    repo.track_for_git(st->abs_path);
  }
  repo.reload_stages();
}

void move(repo::Repo& repo, const std::string& src, const std::string& dst) {
  std::string src_abs = repo.absolute(src);
  auto src_rel = repo.relative(src_abs);
  const repo::DvcStage* stage = nullptr;
  const repo::Output* out = nullptr;
  if (src_rel)
    for (auto& st : repo.stages())
      for (auto& o : st.outs)
        if (o.rel_path == *src_rel) {
          stage = &st;
          out = &o;
        }
  if (stage && stage->is_pipeline())
    throw UserError("move is not permitted for stages that are not data sources. You need to either move '" +
                    repo.display(out->abs_path) + "' to a new location and edit it by hand, or remove '" +
                    repo.display(out->abs_path) + "' and create a new one at the desired location.");
  if (!out) throw UserError("'" + src + "' is not a DVC-tracked output: can't move it", ExitCode::error);
  std::string dst_abs = repo.absolute(dst);
  if (fsx::stat_path(dst_abs).type == fsx::FileType::directory) dst_abs += "/" + fsx::base_name(src_abs);
  auto dst_rel = repo.relative(dst_abs);
  if (!dst_rel || dst_rel->empty() || fsx::is_within(*dst_rel, ".dvc") || fsx::is_within(*dst_rel, ".git"))
    throw UserError("destination '" + dst + "' is outside of the DVC project", ExitCode::error);
  if (fsx::lstat_path(dst_abs).exists()) throw UserError("destination '" + dst + "' already exists", ExitCode::error);
  if (auto r = fsx::make_dirs(fsx::parent_dir(dst_abs)); !r) raise(r.error());
  if (fsx::lstat_path(src_abs).exists())
    if (auto r = fsx::rename_path(src_abs, dst_abs); !r) raise(r.error());
  detail::gitignore_remove(repo, out->rel_path);
  detail::gitignore_add(repo, *dst_rel);

  formats::DvcFile file = stage->file;
  bool named_after_output = fsx::base_name(stage->rel_path) == fsx::base_name(out->rel_path) + ".dvc" &&
                            fsx::parent_dir(stage->rel_path) == fsx::parent_dir(out->rel_path);
  if (named_after_output) {
    std::string new_dvc = *dst_rel + ".dvc";
    file.outs[out->index].path = fsx::base_name(*dst_rel);
    // A fresh file next to the destination, keeping desc/meta/frozen (carried by the doc).
    std::string text = formats::update_dvc_file(stage->file, file);
    if (auto r = fsx::write_file_atomic(repo.root() + "/" + new_dvc, text, 0644); !r) raise(r.error());
    repo.track_for_git(repo.root() + "/" + new_dvc);
    if (new_dvc != stage->rel_path) {
      if (auto r = fsx::remove_file(stage->abs_path); !r) raise(r.error());
      repo.track_for_git(stage->abs_path);
    }
  } else {
    std::string dvc_dir = fsx::parent_dir(stage->abs_path);
    file.outs[out->index].path = fsx::relative_path(dst_abs, dvc_dir);
    detail::write_stage(repo, stage->rel_path, file, stage);
  }
  repo.reload_stages();
}

void unprotect(repo::Repo& repo, const std::vector<std::string>& targets) {
  for (auto& t : targets) {
    std::string abs = repo.absolute(t);
    if (!fsx::lstat_path(abs).exists()) throw UserError("can't unprotect non-existing data '" + t + "'");
    if (auto r = workspace::unprotect(abs); !r) raise(r.error());
  }
}

void detail::record_state(formats::DvcOut& e, const workspace::OutputState& state, odb::Layout layout) {
  e.md5 = state.oid;
  e.size = state.size;
  if (state.kind == workspace::OutputState::Kind::dir) e.nfiles = state.nfiles;
  else e.nfiles.reset();
  e.isexec = state.kind == workspace::OutputState::Kind::file && state.isexec;
  if (layout == odb::Layout::v3) e.hash = "md5";
}

std::vector<std::string> commit(repo::Repo& repo, const CommitOptions& opts, const Confirm& confirm) {
  std::vector<std::string> warnings;
  std::vector<std::string> other_targets = opts.targets;
  if (!repo.pipeline_files().empty()) {
    other_targets.clear();
    detail::commit_pipeline(repo, opts, confirm, other_targets);
    if (!opts.targets.empty() && other_targets.empty()) {
      repo.reload_stages();
      return warnings;
    }
  }
  auto selected = detail::select_outputs(repo, other_targets, opts.recursive, "commit");
  auto ctx = repo.context();
  struct Change {
    const repo::DvcStage* stage;
    const repo::Output* out;
    workspace::OutputState state;
    odb::Layout layout;
  };
  std::vector<Change> changes;
  for (auto& sel : selected) {
    const auto& o = *sel.out;
    if (sel.stage->is_pipeline()) continue;  // committed above (detail::commit_pipeline)
    auto st = workspace::compute_state(ctx, o.abs_path, o.algorithm());
    if (!st) raise(st.error(), ExitCode::failure);
    if (st->kind == workspace::OutputState::Kind::missing)
      throw UserError("failed to commit - output '" + repo.display(o.abs_path) + "' does not exist", ExitCode::failure);
    odb::Layout layout = o.layout();
    auto rec = o.recorded();
    bool changed = !rec || rec->oid != st->oid;
    if (changed && layout == odb::Layout::legacy) {
      auto s3 = workspace::compute_state(ctx, o.abs_path, hash::Algorithm::md5);
      if (!s3) raise(s3.error(), ExitCode::failure);
      st = std::move(*s3);
      layout = odb::Layout::v3;
    }
    if (changed && !opts.force) {
      std::string q = "'md5' of stage: '" + repo.display(sel.stage->abs_path) + "' changed.";
      if (!confirm(q + " Are you sure you want to commit it?"))
        throw UserError("failed to commit - unable to commit changed stage: '" + repo.display(sel.stage->abs_path) +
                            "'. Use `-f|--force` to force.",
                        ExitCode::failure);
    }
    if ((st->kind == workspace::OutputState::Kind::file && st->size == 0) ||
        (st->kind == workspace::OutputState::Kind::dir && st->nfiles == 0))
      warnings.push_back("'" + repo.display(o.abs_path) + "' is empty.");
    changes.push_back({sel.stage, sel.out, std::move(*st), layout});
  }
  for (auto& c : changes) {
    std::vector<uint8_t> in_place;
    if (auto r = workspace::save_to_cache(ctx, c.out->abs_path, c.state, c.layout, nullptr, &in_place); !r)
      raise(r.error(), ExitCode::failure);
    if (!opts.no_relink) detail::relink(repo, *c.out, c.state, c.layout, &in_place);  // behaviour.md §5
  }
  // Group updates per .dvc file so each file is written once.
  for (size_t i = 0; i < changes.size();) {
    const repo::DvcStage* st = changes[i].stage;
    formats::DvcFile file = st->file;
    for (; i < changes.size() && changes[i].stage == st; ++i) {
      auto& c = changes[i];
      detail::record_state(file.outs[c.out->index], c.state, c.layout);
    }
    detail::write_stage(repo, st->rel_path, file, st);
  }
  repo.reload_stages();
  return warnings;
}

}  // namespace dvx::api
