#include "dvx/api/plots.h"

#include <algorithm>
#include <cstdlib>

#include "dvx/base/user_error.h"
#include "dvx/formats/yaml.h"
#include "dvx/formats/yaml_edit.h"
#include "dvx/pipeline/index.h"
#include "dvx/platform/files.h"
#include "dvx/platform/process.h"
#include "dvx/scm/git.h"

namespace dvx::api {

namespace fsx = dvx::platform;
using metrics::Json;

namespace {

bool config_true(repo::Repo& repo, const std::string& key) {
  auto v = repo.config().get(key);
  if (!v) return false;
  std::string s = *v;
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s == "true" || s == "1" || s == "yes" || s == "on";
}

// DVC's diff revisions: none -> HEAD (when tracked files changed) and the workspace; one -> it
// and the workspace; more -> as given. A repository without commits has none.
std::vector<std::string> diff_revisions(repo::Repo& repo, const std::vector<std::string>& given) {
  scm::Git* git = repo.git();
  if (!git) return {};
  auto has = git->has_commits();
  if (!has || !*has) return {};
  std::vector<std::string> revs = given;
  if (revs.size() <= 1) {
    if (revs.empty()) {
      auto dirty = git->has_changes(scm::Untracked::exclude);
      if (dirty && *dirty) revs.push_back("HEAD");
    }
    revs.push_back("workspace");
  }
  return revs;
}

// The commit a revision names; UserError when Git does not know it.
std::string resolve_commit(repo::Repo& repo, const std::string& rev) {
  scm::Git* git = repo.git();
  if (!git) throw UserError("unknown Git revision '" + rev + "'");
  auto commit = git->resolve(rev);
  if (!commit) throw UserError(commit.error().message);
  return *commit;
}

bool has_error(const metrics::RevisionPlots& r) {
  if (r.definitions_error) return true;
  return std::any_of(r.sources.begin(), r.sources.end(),
                     [](auto& s) { return s.second.kind == metrics::PlotFileData::Kind::error; });
}

struct VegaLibs {
  std::string vega, vega_lite, vega_embed;
};

VegaLibs load_vega_libs() {
  static const char* names[] = {"vega.min.js", "vega-lite.min.js", "vega-embed.min.js"};
  auto dirs = vega_search_path();
  for (auto& dir : dirs) {
    VegaLibs libs;
    std::string* slots[] = {&libs.vega, &libs.vega_lite, &libs.vega_embed};
    bool all = true;
    for (int i = 0; i < 3 && all; ++i) {
      auto text = fsx::read_file(dir + "/" + names[i]);
      if (!text) all = false;
      else *slots[i] = std::move(*text);
    }
    if (all) return libs;
  }
  std::string where;
  for (auto& d : dirs) where += (where.empty() ? "" : ", ") + d;
  throw UserError("cannot write an offline plots page: vega.min.js, vega-lite.min.js and vega-embed.min.js were not "
                  "found in any of " + where + " (`./dev setup` installs them; DVX_VEGA_DIR names another folder)",
                  ExitCode::failure);
}

}  // namespace

std::vector<std::string> vega_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("DVX_VEGA_DIR"); env && *env) return {env};
  if (const char* home = std::getenv("HOME"); home && *home) dirs.push_back(std::string(home) + "/.local/share/dvx/vega");
  dirs.emplace_back("/usr/local/share/dvx/vega");
  dirs.emplace_back("/usr/share/dvx/vega");
  return dirs;
}

PlotsResult plots_show(repo::Repo& repo, const PlotsOptions& o) {
  if (o.show_vega) {
    if (o.targets.empty()) throw UserError("please specify a target for `--show-vega`", ExitCode::failure);
    if (o.targets.size() > 1) throw UserError("you can only specify one target for `--show-vega`", ExitCode::failure);
    if (o.json) throw UserError("'--show-vega' and '--json' are mutually exclusive options.", ExitCode::failure);
  }
  PlotsResult result;
  // Rows of every revision are built, copied and dropped in large buffers: reused in the heap,
  // each one would otherwise cost fresh zeroed pages (a third fewer page faults on 3 x 10k rows).
  platform::retain_freed_memory();

  std::vector<std::string> revs = o.diff ? diff_revisions(repo, o.revisions) : std::vector<std::string>{"workspace"};
  // The workspace first (DVC's brancher order), each revision once.
  std::vector<std::string> ordered;
  if (std::find(revs.begin(), revs.end(), "workspace") != revs.end()) ordered.push_back("workspace");
  for (auto& r : revs)
    if (std::find(ordered.begin(), ordered.end(), r) == ordered.end()) ordered.push_back(r);

  std::vector<std::string> targets;
  for (auto& t : o.targets) {
    auto rel = repo.relative(repo.absolute(t));
    targets.push_back(rel && !rel->empty() ? *rel : t);
  }

  std::vector<metrics::RevisionPlots> collected;
  for (auto& rev : ordered) {
    auto tree = rev == "workspace" ? metrics::RevisionTree::workspace(repo)
                                   : metrics::RevisionTree::at_commit(repo, resolve_commit(repo, rev));
    auto r = metrics::collect_revision(*tree, rev, targets, o.props);
    if (r.definitions.empty() && !r.definitions_error) continue;  // nothing defined at this revision
    collected.push_back(std::move(r));
  }
  std::vector<std::string> errored;
  for (auto& r : collected)
    if (has_error(r)) errored.push_back(r.rev);
  if (!errored.empty()) {
    std::string list;
    for (auto& e : errored) list += (list.empty() ? "" : ", ") + e;
    result.errors.push_back("DVC failed to load some plots for following revisions: '" + list + "'.");
  }
  if (collected.empty() && !o.json)
    result.errors.push_back("No plots were loaded, visualization file will not be created.");

  std::string out = o.out;
  if (out.empty()) out = repo.config().get("plots.out_dir").value_or("");
  if (out.empty()) out = "dvc_plots";
  std::string out_abs = fsx::absolute_path(out, repo.cwd());

  metrics::RenderOptions ropts;
  ropts.out = o.json ? out_abs : out_abs + "/static";
  ropts.templates_dir = repo.dvc_dir() + "/plots";
  ropts.cwd = repo.cwd();
  auto renderers = metrics::match_renderers(collected, ropts, result.warnings);

  if (o.json) {
    result.json = metrics::plots_json(renderers, collected, ropts, o.split);
    return result;
  }
  if (o.show_vega) {
    for (auto& r : renderers)
      if (r.type == metrics::PlotRenderer::Type::vega) {
        result.vega = metrics::filled_spec(r, ropts);
        break;
      }
    return result;
  }
  if (renderers.empty()) return result;

  std::string html_template = o.html_template;
  if (html_template.empty()) {
    html_template = repo.config().get("plots.html_template").value_or("");
    if (!html_template.empty() && html_template[0] != '/') html_template = repo.dvc_dir() + "/" + html_template;
  } else {
    html_template = fsx::absolute_path(html_template, repo.cwd());
  }
  std::optional<std::string> page_template;
  if (!html_template.empty()) {
    if (fsx::stat_path(html_template).type == fsx::FileType::regular) {
      auto text = fsx::read_file(html_template);
      if (!text) throw UserError(text.error().message);
      page_template = std::move(*text);
    } else {
      page_template = o.html_template.empty() ? html_template : o.html_template;  // DVC uses the text itself
    }
  }
  metrics::PageScripts scripts;
  scripts.offline = o.offline.value_or(config_true(repo, "plots.offline"));
  if (scripts.offline) {
    auto libs = load_vega_libs();
    scripts.vega = std::move(libs.vega);
    scripts.vega_lite = std::move(libs.vega_lite);
    scripts.vega_embed = std::move(libs.vega_embed);
  }
  std::string page = metrics::render_page(renderers, ropts, page_template, out_abs, scripts);
  if (auto st = fsx::make_dirs(out_abs); !st) throw UserError(st.error().message);
  std::string path = out_abs + "/index.html";
  if (auto st = fsx::write_file_atomic(path, page); !st) throw UserError(st.error().message);
  result.page = path;
  result.auto_open = config_true(repo, "plots.auto_open");
  return result;
}

}  // namespace dvx::api

namespace dvx::api {

namespace {

// The entry of `path` in one outs/metrics/plots list of a stage node; nullptr when absent.
yaml::Node* find_out_entry(yaml::Node& list, const std::string& path, size_t* index) {
  if (!list.is_sequence()) return nullptr;
  for (size_t i = 0; i < list.seq.size(); ++i) {
    auto& e = list.seq[i];
    if ((e.is_string() && e.s == path) || (e.is_mapping() && e.map.size() == 1 && e.map.front().first == path)) {
      *index = i;
      return &e;
    }
  }
  return nullptr;
}

yaml::Node json_to_node(const Json& j) {
  if (j.is_boolean()) return yaml::Node::boolean(j.get<bool>());
  if (j.is_number_integer()) return yaml::Node::integer(j.get<int64_t>());
  if (j.is_number_float()) return yaml::Node::floating(j.get<double>());
  if (j.is_string()) return yaml::Node::str(j.get<std::string>());
  return yaml::Node::null();
}

}  // namespace

std::string plots_modify(repo::Repo& repo, const std::string& target, const metrics::PlotProps& props,
                         const std::optional<std::vector<std::string>>& unset) {
  if (auto t = props.find("template"); t != props.end()) {
    auto tpl = metrics::load_template(t->get<std::string>(), repo.dvc_dir() + "/plots", repo.cwd());
    if (!tpl) throw metrics::PlotsRenderError(tpl.error().message);
  }
  auto index = pipeline::Index::load(repo);
  std::string abs = repo.absolute(target);
  const pipeline::Stage* stage = nullptr;
  const pipeline::Out* out = nullptr;
  for (auto& st : index->stages())
    for (auto& o : st.outs)
      if (o.abs == abs) {
        stage = &st;
        out = &o;
      }
  if (!stage) throw UserError("Unable to find DVC file with output '" + target + "'", ExitCode::error);
  if (stage->is_dvc_file()) throw UserError("'" + target + "' is not a known plot. Use `dvc plots modify` to turn it into one.");
  bool is_plot = out->def.kind == formats::StageOut::Kind::plot;
  if (!is_plot && unset)
    throw UserError("'" + target + "' is not a known plot. Use `dvc plots modify` to turn it into one.");
  if (!stage->def.group.empty()) throw UserError("cannot dump a parametrized stage: '" + stage->def.name + "'");

  std::string path = repo.root() + "/" + stage->file_rel;
  auto text = fsx::read_file(path);
  if (!text) throw UserError(text.error().message);
  auto doc = yaml::parse(*text, stage->file_rel);
  if (!doc) throw UserError(doc.error().message);
  yaml::Node updated_doc = *doc;
  yaml::Node* def = updated_doc.find("stages") ? updated_doc.find("stages")->find(stage->def.name) : nullptr;
  if (!def) throw UserError("cannot dump a parametrized stage: '" + stage->def.name + "'");
  // DVC changes the output in its stage, serializes the whole stage and applies the difference to
  // the loaded document (apply_diff), which ruamel writes back with the comments it still has.
  yaml::Node stage_def = *def;
  yaml::Node* st = &stage_def;
  static const std::vector<std::string> plot_props = {"template", "x", "y", "x_label", "y_label", "title", "header"};
  // DVC loads the display properties of a plot output in PLOT_PROPS order (_split_dict).
  if (yaml::Node* plots = st->find("plots"); plots && plots->is_sequence())
    for (auto& item : plots->seq) {
      if (!item.is_mapping() || item.map.empty() || !item.map.front().second.is_mapping()) continue;
      auto& opts = item.map.front().second.map;
      std::vector<std::pair<std::string, yaml::Node>> reordered;
      for (auto& kv : opts)
        if (std::find(plot_props.begin(), plot_props.end(), kv.first) == plot_props.end()) reordered.push_back(kv);
      for (auto& k : plot_props)
        for (auto& kv : opts)
          if (kv.first == k) reordered.push_back(kv);
      opts = std::move(reordered);
    }
  const char* section = out->def.kind == formats::StageOut::Kind::plot     ? "plots"
                        : out->def.kind == formats::StageOut::Kind::metric ? "metrics"
                                                                           : "outs";
  size_t i = 0;
  yaml::Node* list = st->find(section);
  yaml::Node* entry = list ? find_out_entry(*list, out->written, &i) : nullptr;
  if (!entry) throw UserError("cannot edit the output '" + target + "' of stage '" + stage->def.name + "'");
  yaml::Node e = *entry;
  if (!is_plot) {  // the output becomes a plot: it moves to the stage's plots
    list->seq.erase(list->seq.begin() + static_cast<std::ptrdiff_t>(i));
    if (list->seq.empty()) st->erase(section);
    if (!st->find("plots")) st->set("plots", yaml::Node::sequence());
    st->find("plots")->push_back(e);
    list = st->find("plots");
    entry = &list->seq.back();
  }
  if (entry->is_string()) {
    yaml::Node m = yaml::Node::mapping();
    m.set(entry->s, yaml::Node::mapping());
    *entry = std::move(m);
  }
  yaml::Node& options = entry->map.front().second;
  if (!options.is_mapping()) options = yaml::Node::mapping();
  if (unset) {
    std::vector<std::string> missing;
    for (auto& u : *unset)
      if (!options.find(u) || std::find(plot_props.begin(), plot_props.end(), u) == plot_props.end()) missing.push_back(u);
    if (!missing.empty()) {
      std::string list_text;
      for (auto& m : missing) list_text += (list_text.empty() ? "'" : ", '") + m + "'";
      throw UserError("display properties [" + list_text + "] not found in plot '" + target + "'");
    }
    for (auto& u : *unset) options.erase(u);
  }
  for (auto& [k, v] : props.items()) options.set(k, json_to_node(v));
  if (options.map.empty()) *entry = yaml::Node::str(entry->map.front().first);
  yaml::apply_diff(formats::pipeline_stage_node(stage_def), *def);
  std::string out_text = formats::render_round_trip(*text, *doc, updated_doc, formats::SequenceEdits::item_by_item);
  if (auto st2 = fsx::write_file_atomic(path, out_text); !st2) throw UserError(st2.error().message);
  return "Modifying stage '" + stage->def.name + "' in '" + stage->file_rel + "'";
}

}  // namespace dvx::api
