// `params diff` (cli.md §5, §6.4, §6.8).
#include "app.h"
#include "dvx/metrics/show.h"

namespace dvx::cli {

void register_params_commands(CLI::App& app, Action& action) {
  auto* group = app.add_subcommand("params", "Commands to display params.");
  group->require_subcommand(1);
  struct Flags {
    std::vector<std::string> revs;
    api::CompareOptions opts;
    bool json = false, md = false, no_path = false;
  };
  auto* f = new Flags();  // lives as long as the command table
  auto* sub = group->add_subcommand(
      "diff", "Show changes in params between commits in the DVC repository, or between a commit and the workspace.");
  sub->add_option("revs", f->revs, "a_rev (default HEAD) and b_rev (default workspace)")->expected(0, 2);
  sub->add_option("--targets", f->opts.targets,
                  "Specific params file(s) to compare (even if not found as `params` in `dvc.yaml`). Shows all "
                  "tracked params by default.")
      ->expected(0, -1)
      ->type_name("<paths>");
  sub->add_flag("--all", f->opts.all, "Show unchanged params as well.");
  sub->add_flag("--deps", f->opts.deps_only, "Show only params that are stage dependencies.");
  sub->add_flag("--json", f->json, "Show output in JSON format.");
  sub->add_flag("--md", f->md, "Show tabulated output in the Markdown format (GFM).");
  sub->add_flag("--no-path", f->no_path, "Don't show params path.");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      auto repo = ctx.open_repo();
      if (f->revs.size() >= 1) f->opts.a_rev = f->revs[0];
      if (f->revs.size() >= 2) f->opts.b_rev = f->revs[1];
      auto r = api::params_diff(*repo, f->opts);
      for (auto& w : r.warnings) ctx.console.warn(w);
      report_errored(ctx, r.errored);
      if (f->json) {
        ctx.console.out_always(json_text(ctx, metrics::diff_json(r.diffs)));
        return 0;
      }
      auto table = metrics::diff_table(r.diffs, "Param", f->opts.a_rev, f->opts.b_rev, f->no_path, false, {});
      ctx.console.write(f->md ? metrics::render_markdown(table) : metrics::render_plain(table));
      return 0;
    };
  });
}

}  // namespace dvx::cli
