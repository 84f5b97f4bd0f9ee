// Pipelines at the api level: repro (the engine is in pipeline/, the data operations it shares
// with add/commit are provided here), stage list, and the pipeline part of status.
#include <algorithm>
#include <set>
#include <map>

#include "dvx/api/internal.h"
#include "dvx/base/strings.h"
#include "dvx/base/teardown.h"
#include "dvx/formats/yaml_edit.h"
#include "dvx/pipeline/index.h"
#include "dvx/pipeline/repro.h"
#include "dvx/pipeline/status.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using detail::raise;

namespace {

// A stage output as the data layer knows outputs (for relink).
repo::Output as_output(const pipeline::Stage& st, const pipeline::Out& o, const workspace::OutputState& s) {
  repo::Output out;
  out.dvcfile = st.lock_rel;
  out.rel_path = o.rel;
  out.abs_path = o.abs;
  out.entry.path = o.written;
  out.entry.md5 = s.oid;
  out.entry.hash = "md5";
  out.entry.cache = o.def.cache;
  return out;
}

}  // namespace

static pipeline::ReproIo make_io(repo::Repo& repo, const ReproOutput& io) {
  pipeline::ReproIo rio;
  rio.out = io.out ? io.out : [](const std::string&) {};
  rio.warn = io.warn ? io.warn : [](const std::string&) {};
  rio.error = io.error ? io.error : [](const std::string&) {};
  rio.confirm = io.confirm;
  auto warn = rio.warn;
  rio.save_out = [&repo, warn](const pipeline::Stage& st, const pipeline::Out& o, bool save) {
    auto ctx = repo.context();
    auto s = workspace::compute_state(ctx, o.abs, hash::Algorithm::md5);
    if (!s) raise(s.error());
    if (s->kind == workspace::OutputState::Kind::missing)
      throw UserError("output '" + repo.display(o.abs) + "' does not exist");
    if (save) {
      std::vector<workspace::CorruptObject> repaired;
      std::vector<uint8_t> in_place;
      if (auto r = workspace::save_to_cache(ctx, o.abs, *s, odb::Layout::v3, &repaired, &in_place); !r) raise(r.error());
      for (auto& c : repaired) warn(detail::corrupted_message(repo, c.id, repo.display(c.path), c.quarantined, true));
      if (o.def.cache) detail::relink(repo, as_output(st, o, *s), *s, odb::Layout::v3, &in_place);
    }
    return std::move(*s);
  };
  rio.gitignore = [&repo](const std::vector<std::string>& rels) { detail::gitignore_add_many(repo, rels); };
  rio.commit_dvc = [&repo](const pipeline::Stage& st) {
    CommitOptions c;
    c.targets = {repo.display(st.dvc->abs_path)};
    c.force = true;
    commit(repo, c, [](const std::string&) { return true; });
  };
  return rio;
}

size_t repro(repo::Repo& repo, const pipeline::ReproOptions& opts, const ReproOutput& io) {
  return detail::repro_with(repo, opts, io, nullptr).reproduced;
}

pipeline::ReproResult detail::repro_with(repo::Repo& repo, const pipeline::ReproOptions& opts, const ReproOutput& io,
                                         const ReproInspect& inspect) {
  if (opts.pull && !opts.dry) {
    // --pull: the run-cache and the data the stages need, fetched and checked out first, so
    // that stages whose only change is missing data are restored instead of run.
    TransferOptions t;
    t.run_cache = true;
    if (io.warn) t.warn = [&io](const std::string& text, bool) { io.warn(text); };
    try {
      auto r = pull(repo, t, false, true);
      if (r.failure && io.warn) io.warn(*r.failure);
    } catch (const UserError& e) {
      if (io.warn) io.warn(e.what());  // stages then run as without --pull
    }
    repo.reload_stages();
  }
  auto index = pipeline::Index::load(repo);
  auto rio = make_io(repo, io);
  auto result = pipeline::reproduce(*index, opts, rio);
  if (inspect) inspect(*index, result);
  repo.reload_stages();
  retire(std::move(index));
  return result;
}

namespace {

// The description `stage list` shows: the stage's `desc` (first line), or what it produces.
std::string stage_description(const pipeline::Stage& st) {
  std::string desc;
  std::optional<std::string> written = st.is_dvc_file() ? std::nullopt : st.def.desc;
  if (st.is_dvc_file() && st.dvc->file.desc) written = st.dvc->file.desc;
  if (written) {
    desc = written->substr(0, written->find('\n'));
  } else {
    std::vector<std::string> outs, reports;
    for (auto& o : st.outs) (o.def.kind == formats::StageOut::Kind::out ? outs : reports).push_back(o.written);
    std::vector<std::string> parts;
    if (!outs.empty()) parts.push_back("Outputs " + join(outs, ", "));
    if (!reports.empty()) parts.push_back("Reports " + join(reports, ", "));
    // dvc/commands/stage.py generate_description
    if (st.outs.empty()) {
      std::vector<std::string> deps;
      for (auto& d : st.deps) deps.push_back(d.written);
      for (auto& p : st.params)  // one params dependency per file
        if (std::find(deps.begin(), deps.end(), p.written) == deps.end()) deps.push_back(p.written);
      desc = deps.empty() ? "No outputs or dependencies" : "Depends on " + join(deps, ", ");
    } else {
      desc = join(parts, "; ");
    }
  }
  // At most 80 characters, the last one an ellipsis when cut.
  size_t chars = 0, cut = std::string::npos;
  for (size_t i = 0; i < desc.size(); ++i) {
    if ((static_cast<unsigned char>(desc[i]) & 0xC0) == 0x80) continue;
    if (chars == 79) cut = i;
    ++chars;
  }
  if (chars > 80) desc = desc.substr(0, cut) + "\u2026";
  return desc;
}

}  // namespace

std::vector<StageListEntry> stage_list(repo::Repo& repo, const StageListOptions& opts) {
  // DVC loads the cwd's dvc.yaml and the files targets name directly (their errors stop the
  // command); files found by -R go through an error handler that only logs, unless --fail.
  // Other files are not read at all.
  std::set<std::string> named;
  std::vector<std::string> folders;  // -R targets: their files fail the command only with --fail
  if (opts.targets.empty()) named.insert(fsx::relative_path(repo.cwd() + "/dvc.yaml", repo.root()));
  for (auto& t : opts.targets) {
    std::string file = t.find(':') != std::string::npos ? t.substr(0, t.rfind(':')) : t;
    std::string abs = repo.absolute(file);
    if (fsx::stat_path(abs).type == fsx::FileType::directory) {
      if (opts.recursive) folders.push_back(abs);
      else named.insert(fsx::relative_path(abs + "/dvc.yaml", repo.root()));
      continue;
    }
    named.insert(fsx::relative_path(abs, repo.root()));
  }
  auto lenient = [&](const std::string& file_rel) {
    if (named.count(file_rel)) return false;
    if (opts.all) return !opts.fail;  // the whole index goes through the handler
    if (opts.fail)
      for (auto& f : folders)
        if (fsx::is_within(repo.root() + "/" + file_rel, f)) return false;
    return true;
  };
  auto index = pipeline::Index::load(repo, lenient);
  std::vector<size_t> sel;
  if (opts.all) {
    for (size_t i = 0; i < index->stages().size(); ++i) sel.push_back(i);
  } else if (opts.targets.empty()) {
    sel = index->default_targets();
    if (sel.empty() && fsx::lstat_path(repo.cwd() + "/dvc.yaml").type == fsx::FileType::missing)
      throw UserError("'" + repo.display(repo.cwd() + "/dvc.yaml") + "' does not exist");
  } else {
    for (auto& t : opts.targets) {
      std::string abs = repo.absolute(t);
      if (opts.recursive && fsx::stat_path(abs).type == fsx::FileType::directory) {
        for (size_t i = 0; i < index->stages().size(); ++i)
          if (fsx::is_within(repo.root() + "/" + index->stage(i).file_rel, abs)) sel.push_back(i);
        continue;
      }
      for (size_t i : index->resolve(t, false)) sel.push_back(i);
    }
  }
  std::vector<StageListEntry> out;
  std::vector<char> seen(index->stages().size(), 0);
  for (size_t i : sel) {
    if (seen[i]) continue;
    seen[i] = 1;
    out.push_back({index->address(i), stage_description(index->stage(i))});
  }
  return out;
}

std::string stage_add(repo::Repo& repo, const formats::StageAddSpec& spec) {
  if (!formats::valid_stage_name(spec.name))
    throw UserError("Invalid stage name '" + spec.name +
                    "': a stage name cannot contain punctuation characters other than '_' and '-'");
  std::string abs = repo.cwd() + "/dvc.yaml";
  std::string shown = repo.display(abs);
  auto old = fsx::read_file_prefix(abs, 64u << 20);
  if (!old && old.error().code != ErrorCode::not_found) raise(old.error());
  std::string old_text = old ? *old : "";
  auto text = formats::add_stage(old_text, shown, spec);
  if (!text) raise(text.error());
  if (auto r = fsx::write_file_atomic(abs, *text, 0644); !r) raise(r.error());
  // The new graph must hold: else the file goes back to what it was.
  std::unique_ptr<pipeline::Index> index;
  try {
    repo.reload_stages();
    index = pipeline::Index::load(repo);
    index->check();
  } catch (const UserError&) {
    if (old) (void)fsx::write_file_atomic(abs, old_text, 0644);
    else (void)fsx::remove_file(abs);
    repo.reload_stages();
    throw;
  }
  repo.track_for_git(abs);
  // .gitignore lines in the order DVC creates the outputs: persistent outs, metrics, plots, outs.
  for (auto& i : index->resolve("dvc.yaml:" + spec.name, false)) {
    auto rank = [](const pipeline::Out& o) {
      if (o.def.persist && o.def.kind == formats::StageOut::Kind::out) return 0;
      if (o.def.kind == formats::StageOut::Kind::metric) return 1;
      if (o.def.kind == formats::StageOut::Kind::plot) return 2;
      return 3;
    };
    std::vector<const pipeline::Out*> outs;
    for (auto& o : index->stage(i).outs) outs.push_back(&o);
    std::stable_sort(outs.begin(), outs.end(), [&](auto* a, auto* b) { return rank(*a) < rank(*b); });
    std::vector<std::string> rels;
    for (auto* o : outs)
      if (o->def.cache) rels.push_back(o->rel);
    detail::gitignore_add_many(repo, rels);
  }
  return "Added stage '" + spec.name + "' in '" + shown + "'";
}

std::vector<std::string> freeze(repo::Repo& repo, const std::vector<std::string>& targets, bool frozen) {
  const char* verb = frozen ? "freeze" : "unfreeze";
  std::vector<std::string> lines;
  auto index = pipeline::Index::load(repo);
  for (auto& t : targets) {
    std::vector<size_t> found;
    try {
      found = index->resolve(t, false);
    } catch (const UserError& e) {
      throw UserError(std::string("failed to ") + verb + " '" + t + "' - " + e.what(), ExitCode::failure);
    }
    for (size_t i : found) {
      const auto& st = index->stage(i);
      if (st.is_dvc_file()) {
        formats::DvcFile f = st.dvc->file;
        f.frozen = frozen;
        detail::write_stage(repo, st.file_rel, f, st.dvc);
        continue;
      }
      std::string abs = repo.root() + "/" + st.file_rel;
      auto text = fsx::read_file_prefix(abs, 64u << 20);
      if (!text) raise(text.error());
      std::string shown = repo.display(abs);
      auto edited = frozen ? formats::set_stage_key(*text, shown, st.name, "frozen", yaml::Node::boolean(true))
                           : formats::remove_stage_key(*text, shown, st.name, "frozen");
      if (!edited)
        throw UserError(std::string("failed to ") + verb + " '" + t + "' - " + edited.error().message, ExitCode::failure);
      lines.push_back("Modifying stage '" + st.name + "' in '" + shown + "'");
      if (*edited == *text) continue;
      if (auto r = fsx::write_file_atomic(abs, *edited, 0644); !r) raise(r.error());
      repo.track_for_git(abs);
    }
  }
  repo.reload_stages();
  return lines;
}

DagResult dag(repo::Repo& repo, const std::optional<std::string>& target, bool full, bool outs) {
  auto index = pipeline::Index::load(repo);
  index->check();
  size_t n = index->stages().size();
  std::vector<char> keep(n, target ? 0 : 1);
  if (target) {
    std::vector<size_t> stack = index->resolve(*target, false);
    for (size_t i : stack) keep[i] = 1;
    while (!stack.empty()) {
      size_t v = stack.back();
      stack.pop_back();
      auto visit = [&](size_t w) {
        if (!keep[w]) {
          keep[w] = 1;
          stack.push_back(w);
        }
      };
      for (size_t w : index->upstream(v)) visit(w);
      if (full)
        for (size_t w : index->downstream(v)) visit(w);
    }
  }
  DagResult res;
  if (!outs) {
    std::vector<size_t> id(n, SIZE_MAX);
    for (size_t i = 0; i < n; ++i)
      if (keep[i]) {
        id[i] = res.nodes.size();
        res.nodes.push_back(index->address(i));
      }
    for (size_t i = 0; i < n; ++i)
      if (keep[i])
        for (size_t u : index->upstream(i))
          if (keep[u]) res.edges.emplace_back(id[i], id[u]);
    return res;
  }
  // Outputs graph: every output of a kept stage is a node; an output depends on the outputs
  // that its stage's deps are, are inside of, or contain.
  std::map<std::string, size_t> node_of;
  for (size_t i = 0; i < n; ++i)
    if (keep[i])
      for (auto& o : index->stage(i).outs)
        if (node_of.emplace(o.abs, res.nodes.size()).second) res.nodes.push_back(repo.display(o.abs));
  auto related = [](const std::string& a, const std::string& b) {
    return a == b || fsx::is_within(a, b) || fsx::is_within(b, a);
  };
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    const auto& st = index->stage(i);
    for (auto& d : st.deps) {
      std::vector<size_t> overlapping;
      for (size_t u : index->upstream(i))
        for (auto& uo : index->stage(u).outs)
          if (related(uo.abs, d.abs) && keep[u]) overlapping.push_back(node_of[uo.abs]);
      for (auto& o : st.outs)
        for (size_t t : overlapping) res.edges.emplace_back(node_of[o.abs], t);
    }
  }
  return res;
}

namespace detail {

namespace {

// The dvc.yaml stages that targets name (every one without targets), in index order; targets
// that name none (or name a .dvc file) are left to the .dvc-file code in `other_targets`.
std::vector<size_t> pipeline_stages_of(const pipeline::Index& index, const std::vector<std::string>& targets,
                                       std::vector<std::string>& other_targets) {
  std::vector<size_t> sel;
  for (size_t i = 0; i < index.stages().size(); ++i)
    if (targets.empty() && !index.stage(i).is_dvc_file()) sel.push_back(i);
  for (auto& t : targets) {
    std::vector<size_t> found;
    try {
      found = index.resolve(t, false);
    } catch (const UserError&) {
      other_targets.push_back(t);
      continue;
    }
    bool dvc_file = false;
    for (size_t i : found) {
      if (index.stage(i).is_dvc_file()) dvc_file = true;
      else sel.push_back(i);
    }
    if (dvc_file) other_targets.push_back(t);
  }
  std::sort(sel.begin(), sel.end());
  sel.erase(std::unique(sel.begin(), sel.end()), sel.end());
  return sel;
}

}  // namespace

std::vector<std::string> remove_pipeline_stages(repo::Repo& repo, const std::vector<std::string>& targets, bool outs) {
  auto index = pipeline::Index::load(repo);
  std::vector<std::string> rest;
  std::vector<size_t> sel;
  for (auto& t : targets) {
    if (t.ends_with(".dvc")) {
      rest.push_back(t);
      continue;
    }
    std::vector<size_t> found;
    try {
      found = index->resolve(t, false);
    } catch (const UserError&) {
      // A generated stage named by its full name that resolve() knows under its group, or no
      // stage at all: the .dvc-file path decides.
      rest.push_back(t);
      continue;
    }
    for (size_t i : found)
      if (!index->stage(i).is_dvc_file()) sel.push_back(i);
  }
  // Check everything first: a parametrized stage stops the command before anything is written.
  for (size_t i : sel)
    if (!index->stage(i).def.group.empty())
      throw UserError("cannot remove a parametrized stage: '" + index->stage(i).name + "'");
  for (size_t i : sel) {
    const auto& st = index->stage(i);
    std::string abs = repo.root() + "/" + st.file_rel;
    auto text = fsx::read_file_prefix(abs, 64u << 20);
    if (!text) raise(text.error());
    auto removed = formats::remove_stage(*text, repo.display(abs), st.name);
    if (!removed) raise(removed.error());
    bool none_left = removed->no_stages;
    const std::string* edited = &removed->text;
    for (auto& o : st.outs) {
      if (o.def.cache) gitignore_remove(repo, o.rel);
      if (outs) {
        if (auto r = fsx::remove_all(o.abs); !r) raise(r.error());
      } else if (fsx::lstat_path(o.abs).exists()) {
        (void)workspace::unprotect(o.abs);
      }
    }
    auto& lock = index->lock(st.lock_rel);
    if (lock.remove_stage(st.name)) {
      if (lock.empty()) {
        (void)fsx::remove_file(repo.root() + "/" + st.lock_rel);
        repo.track_for_git(repo.root() + "/" + st.lock_rel);
      } else {
        index->write_lock(st.lock_rel);
      }
    }
    bool only_stages = false;
    if (none_left)
      if (auto d = yaml::parse(*edited, abs); d && (d->is_null() || (d->is_mapping() && d->map.size() <= 1 &&
                                                                    (d->map.empty() || d->map[0].first == "stages"))))
        only_stages = true;
    if (only_stages) {
      if (auto r = fsx::remove_file(abs); !r) raise(r.error());
    } else if (auto r = fsx::write_file_atomic(abs, *edited, 0644); !r) {
      raise(r.error());
    }
    repo.track_for_git(abs);
  }
  repo.reload_stages();
  return rest;
}

void pipeline_status(repo::Repo& repo, const std::vector<std::string>& targets, std::vector<std::string>& other_targets,
                     StatusResult& res) {
  std::unique_ptr<pipeline::Index> index;
  try {
    index = pipeline::Index::load(repo);
  } catch (const UserError& e) {
    throw UserError(e.what(), ExitCode::failure);
  }
  std::vector<size_t> sel = pipeline_stages_of(*index, targets, other_targets);
  auto checker_owned = std::make_unique<pipeline::Checker>(*index);
  auto& checker = *checker_owned;
  checker.prefetch(sel, true);
  for (size_t i : sel) {
    const auto& st = index->stage(i);
    if (st.frozen)
      res.warnings.push_back("stage: '" + index->address(i) +
                             "' is frozen. Its dependencies are not going to be shown in the status output.");
    pipeline::StageChanges ch;
    try {
      ch = checker.check(i);
    } catch (const UserError& e) {
      throw UserError(e.what(), ExitCode::failure);
    }
    if (!ch.any()) continue;
    StageStatus s;
    s.name = index->address(i);
    s.changed_deps = std::move(ch.deps);
    s.changed_outs = std::move(ch.outs);
    s.always_changed = ch.always;
    s.changed_command = ch.command;
    res.stages.push_back(std::move(s));
  }
  // Status is the command's last use of them: the CLI leaves them to the process exit.
  retire(std::move(checker_owned));
  retire(std::move(index));
}

void commit_pipeline(repo::Repo& repo, const CommitOptions& opts, const Confirm& confirm,
                     std::vector<std::string>& other_targets) {
  auto index = pipeline::Index::load(repo);
  std::vector<size_t> sel = pipeline_stages_of(*index, opts.targets, other_targets);
  pipeline::Checker checker(*index);
  auto rio = make_io(repo, {});
  for (size_t i : sel) {
    std::string name = index->address(i);
    if (!opts.force) {
      auto ch = checker.check(i);
      std::string q;
      auto quoted = [](const std::vector<std::string>& v) {
        std::string s = "[";
        for (size_t k = 0; k < v.size(); ++k) s += (k ? ", '" : "'") + v[k] + "'";
        return s + "]";
      };
      std::vector<std::string> deps, outs;
      for (auto& d : ch.deps) deps.push_back(d.path);
      for (auto& [p, _] : ch.outs) outs.push_back(p);
      if (ch.command) q = "'cmd' of stage: '" + name + "' has changed.";
      else if (!deps.empty() && !outs.empty())
        q = "dependencies " + quoted(deps) + " and outputs " + quoted(outs) + " of stage: '" + name + "' changed.";
      else if (!deps.empty()) q = "dependencies " + quoted(deps) + " of stage: '" + name + "' changed.";
      else if (!outs.empty()) q = "outputs " + quoted(outs) + " of stage: '" + name + "' changed.";
      if (!q.empty() && !confirm(q + " Are you sure you want to commit it?"))
        throw UserError("failed to commit - unable to commit changed stage: '" + name + "'. Use `-f|--force` to force.",
                        ExitCode::failure);
    }
    try {
      pipeline::commit_stage(*index, i, rio);
    } catch (const UserError& e) {
      throw UserError(std::string("failed to commit - ") + e.what(), ExitCode::failure);
    }
  }
}

}  // namespace detail

}  // namespace dvx::api
