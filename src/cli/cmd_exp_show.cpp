// `exp show`, `exp diff`, `exp list` (cli.md §5, §6.5, §6.8): the read side of experiments.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "app.h"
#include "dvx/metrics/show.h"

namespace dvx::cli {

namespace {

constexpr int k_default_precision = 5;

// The `exp` group (shared with the commands that run and manage experiments).
CLI::App* exp_group(CLI::App& app) {
  for (auto* sub : app.get_subcommands([](CLI::App*) { return true; }))
    if (sub->get_name() == "exp") return sub;
  auto* group = app.add_subcommand("exp", "Commands to run and manage experiments.");
  group->alias("experiments");
  group->require_subcommand(1);
  return group;
}

// rich's console width when the table must fit (--no-pager): $COLUMNS, else the terminal's,
// else 80.
size_t console_width() {
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return static_cast<size_t>(std::atoi(c));
  struct winsize ws {};
  if (::isatty(STDOUT_FILENO) && ::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

// Text DVC prints also with -q (its tables written with force=True): `exp diff`, `exp show --md`.
void write_forced(Context& ctx, const std::string& text) {
  if (text.empty()) return;
  ctx.console.out_always(text.back() == '\n' ? text.substr(0, text.size() - 1) : text);
}

// DVC lays the table out up to 1024 columns wide when it goes to the pager (or is piped).
constexpr size_t k_pager_width = 1024;

}  // namespace

void add_rev_selection(CLI::App* sub, bool& all_commits, std::vector<std::string>& revs, int& num,
                       const std::string& verb) {
  sub->add_flag("-A,--all-commits", all_commits,
                verb + " all experiments in the repository (overrides `--rev` and `--num`).");
  sub->add_option("--rev", revs, verb + " experiments derived from the specified `<commit>` as baseline (HEAD by default).")
      ->type_name("<commit>")
      ->allow_extra_args(false);
  sub->add_option("-n,--num", num,
                  verb + " experiments from the last `num` commits (first parents) starting from the `--rev` baseline. "
                         "Give a negative value to include all first-parent commits (similar to `git log -n`).")
      ->type_name("<num>");
}

namespace {

void add_rev_selection(CLI::App* sub, experiments::BaselineSelection& sel, const std::string& verb) {
  dvx::cli::add_rev_selection(sub, sel.all_commits, sel.revs, sel.num, verb);
}

void register_show(CLI::App* group, Action& action) {
  struct Flags {
    experiments::ShowOptions opts;
    bool no_pager = false, only_changed = false, hide_failed = false, hide_queued = false;
    bool json = false, csv = false, md = false, no_fetch = false, force = false;
    std::vector<std::string> drop, keep;
    std::string sort_by, sort_order = "asc";
    int precision = 0;
  };
  auto* f = new Flags();  // lives as long as the command table
  auto* sub = group->add_subcommand("show", "Print experiments.");
  add_rev_selection(sub, f->opts.baselines, "Show");
  sub->add_flag("-a,--all-branches", f->opts.baselines.all_branches,
                "Show experiments derived from the tip of all Git branches.");
  sub->add_flag("-T,--all-tags", f->opts.baselines.all_tags, "Show experiments derived from all Git tags.");
  sub->add_flag("--no-pager", f->no_pager, "Do not pipe output into a pager.");
  sub->add_flag("--only-changed", f->only_changed,
                "Only show metrics/params with values varying across the selected experiments.");
  sub->add_option("--drop", f->drop, "Remove the columns matching the specified regex pattern.")
      ->type_name("<regex_pattern>")
      ->allow_extra_args(false);
  sub->add_option("--keep", f->keep, "Preserve the columns matching the specified regex pattern.")
      ->type_name("<regex_pattern>")
      ->allow_extra_args(false);
  sub->add_flag("--param-deps", f->opts.param_deps, "Show only params that are stage dependencies.");
  sub->add_option("--sort-by", f->sort_by, "Sort related experiments by the specified metric or param.")
      ->type_name("<metric/param>");
  sub->add_option("--sort-order", f->sort_order, "Sort order to use with --sort-by. Defaults to ascending ('asc').")
      ->check(CLI::IsMember({"asc", "desc"}));
  sub->add_flag("--sha", f->opts.sha_only, "Always show git commit SHAs instead of branch/tag names.");
  sub->add_flag("--hide-failed", f->hide_failed, "Hide failed experiments in the table.");
  sub->add_flag("--hide-queued", f->hide_queued, "Hide queued experiments in the table.");
  sub->add_flag("--hide-workspace", f->opts.hide_workspace, "Hide workspace row in the table.");
  sub->add_flag("--json", f->json, "Print output in JSON format instead of a human-readable table.");
  sub->add_flag("--csv", f->csv, "Print output in csv format instead of a human-readable table.");
  sub->add_flag("--md", f->md, "Show tabulated output in the Markdown format (GFM).");
  sub->add_option("--precision", f->precision,
                  "Round metrics/params to `n` digits precision after the decimal point. Rounds to 5 digits by default.")
      ->type_name("<n>");
  sub->add_flag("--no-fetch", f->no_fetch, "")->group("");
  sub->add_flag("-f,--force", f->force, "Force re-collection of experiments instead of loading from exp cache.");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      auto repo = ctx.open_repo();
      std::vector<experiments::ExpState> states;
      try {
        f->opts.hide_queued = f->hide_queued;
        f->opts.hide_failed = f->hide_failed;
        states = api::exp_show(*repo, f->opts);
      } catch (const UserError& e) {
        ctx.console.error(std::string("failed to show experiments - ") + e.what());
        return 1;
      }
      if (f->json) {
        ctx.console.out(json_text(ctx, experiments::show_json(states)));
        return 0;
      }
      experiments::TableOptions topts;
      topts.csv = f->csv;
      // The table and --md always use 5 significant digits; --precision only reaches --csv.
      if (f->csv) {
        if (f->precision) topts.precision = f->precision;
      } else {
        topts.precision = k_default_precision;
      }
      if (!f->sort_by.empty()) topts.sort_by = f->sort_by;
      topts.sort_desc = f->sort_order == "desc";
      topts.keep = f->keep;
      topts.drop = f->drop;
      topts.only_changed = f->only_changed;
      auto t = experiments::tabulate(states, topts);
      if (f->csv) {
        ctx.console.write(metrics::render_csv(t.table));
        return 0;
      }
      if (f->md) {
        write_forced(ctx, metrics::render_markdown(t.table));
        return 0;
      }
      std::vector<metrics::BoxColumn> cols;
      for (size_t i = 0; i < t.kinds.size(); ++i) {
        bool metric = t.kinds[i] == experiments::ColumnKind::metric;
        cols.push_back({metric ? metrics::BoxColumn::Justify::right : metrics::BoxColumn::Justify::left,
                        t.collapsible[i], metric || t.table.headers[i] == "Experiment"});
      }
      ctx.console.write(metrics::render_box(t.table, cols, f->no_pager ? console_width() : k_pager_width));
      return 0;
    };
  });
}

void register_diff(CLI::App* group, Action& action) {
  struct Flags {
    std::vector<std::string> revs;
    bool all = false, param_deps = false, json = false, md = false, no_path = false;
    int precision = 0;
  };
  auto* f = new Flags();
  auto* sub = group->add_subcommand("diff", "Show changes between experiments.");
  sub->add_option("revs", f->revs,
                  "a_rev: old experiment to compare (defaults to HEAD); b_rev: new experiment to compare (defaults to "
                  "the current workspace)")
      ->expected(0, 2);
  sub->add_flag("--all", f->all, "Show unchanged metrics/params as well.");
  sub->add_flag("--param-deps", f->param_deps, "Show only params that are stage dependencies.");
  sub->add_flag("--json", f->json, "Show output in JSON format.");
  sub->add_flag("--md", f->md, "Show tabulated output in the Markdown format (GFM).");
  sub->add_flag("--no-path", f->no_path, "Don't show metric/param path.");
  sub->add_option("--precision", f->precision,
                  "Round metrics/params to `n` digits precision after the decimal point. Rounds to 5 digits by default.")
      ->type_name("<n>");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      auto repo = ctx.open_repo();
      std::optional<std::string> a, b;
      if (f->revs.size() >= 1) a = f->revs[0];
      if (f->revs.size() >= 2) b = f->revs[1];
      experiments::DiffResult d;
      try {
        d = api::exp_diff(*repo, a, b, f->all, f->param_deps);
      } catch (const UserError& e) {
        ctx.console.error(std::string("failed to show experiments diff - ") + e.what());
        return 1;
      }
      if (f->json) {
        nlohmann::ordered_json j = nlohmann::ordered_json::object();
        j["metrics"] = metrics::diff_json(d.metrics);
        j["params"] = metrics::diff_json(d.params);
        ctx.console.out(json_text(ctx, j));
        return 0;
      }
      std::string a_name = a.value_or("HEAD"), b_name = b.value_or("workspace");
      metrics::CellFormat metric_fmt{metrics::CellFormat::Kind::significant,
                                     f->precision ? f->precision : k_default_precision};
      metrics::CellFormat param_fmt{metrics::CellFormat::Kind::raw, 0};
      auto render = [&](const metrics::Table& t) {
        // without rows: the Markdown header and rule, but no plain header
        return f->md ? metrics::render_markdown(t) : metrics::render_plain(t);
      };
      // tables and the line between them are printed also with -q
      write_forced(ctx, render(metrics::diff_table(d.metrics, "Metric", a_name, b_name, f->no_path, true, metric_fmt,
                                                   "diff not supported")));
      ctx.console.out_always("");
      write_forced(ctx, render(metrics::diff_table(d.params, "Param", a_name, b_name, f->no_path, true, param_fmt,
                                                   "diff not supported")));
      return 0;
    };
  });
}

void register_list(CLI::App* group, Action& action) {
  struct Flags {
    experiments::BaselineSelection sel;
    bool name_only = false, sha_only = false;
    std::string git_remote;
  };
  auto* f = new Flags();
  auto* sub = group->add_subcommand("list", "List local and remote experiments.");
  sub->alias("ls");
  add_rev_selection(sub, f->sel, "List");
  auto* names = sub->add_flag("--name-only,--names-only", f->name_only,
                              "Only output experiment names (without SHAs or parent commits).");
  auto* shas = sub->add_flag("--sha-only,--shas-only", f->sha_only,
                             "Only output experiment commit SHAs (without names or parent commits).");
  names->excludes(shas);
  sub->add_option("git_remote", f->git_remote, "Name or URL of the Git remote to list experiments from.")
      ->type_name("<git_remote>");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      if (f->sha_only && !f->git_remote.empty())
        throw UserError("--sha-only not supported with git_remote.", ExitCode::error);
      auto repo = ctx.open_repo();
      api::ExpListOptions opts;
      opts.revs = f->sel.revs;
      opts.num = f->sel.num;
      opts.all_commits = f->sel.all_commits;
      opts.describe = !(f->name_only || f->sha_only);
      opts.git_remote = f->git_remote;
      for (auto& b : api::exp_list(*repo, opts)) {
        if (opts.describe) ctx.console.out(b.name + ":");
        for (auto& [name, sha] : b.experiments) {
          if (f->name_only) ctx.console.out(name);
          else if (f->sha_only) ctx.console.out(sha);
          else if (!sha.empty()) ctx.console.out("\t" + sha.substr(0, 7) + " [" + name + "]");
          else ctx.console.out("\t" + name);
        }
      }
      return 0;
    };
  });
}

}  // namespace

void register_exp_read_commands(CLI::App& app, Action& action) {
  auto* group = exp_group(app);
  register_show(group, action);
  register_diff(group, action);
  register_list(group, action);
}

}  // namespace dvx::cli
