// `metrics show` / `metrics diff` (cli.md §5, §6.3, §6.4, §6.8).
#include "app.h"
#include "dvx/metrics/show.h"

namespace dvx::cli {

namespace {
constexpr int k_default_precision = 5;
}  // namespace

void report_errored(Context& ctx, const std::vector<std::string>& errored) {
  if (errored.empty()) return;
  std::string names;
  for (auto& n : errored) names += (names.empty() ? "" : ", ") + n;
  // DVC's params diff says "metrics" too.
  ctx.console.plain_err("DVC failed to load some metrics for following revisions: '" + names + "'.");
}

void register_metrics_commands(CLI::App& app, Action& action) {
  auto* group = app.add_subcommand("metrics", "Commands to display and compare metrics.");
  group->require_subcommand(1);
  {
    struct Flags {
      api::MetricsShowOptions opts;
      bool json = false, md = false, recursive = false;
      int precision = 0;
    };
    auto* f = new Flags();  // lives as long as the command table
    auto* sub = group->add_subcommand("show", "Print metrics, with optional formatting.");
    sub->add_option("targets", f->opts.targets,
                    "Limit command scope to these metrics files. Using -R, directories to search metrics files in "
                    "can also be given.");
    sub->add_flag("-a,--all-branches", f->opts.all_branches, "Show metrics for all branches.");
    sub->add_flag("-T,--all-tags", f->opts.all_tags, "Show metrics for all tags.");
    sub->add_flag("-A,--all-commits", f->opts.all_commits, "Show metrics for all commits.");
    sub->add_flag("--json", f->json, "Show output in JSON format.");
    sub->add_flag("--md", f->md, "Show tabulated output in the Markdown format (GFM).");
    sub->add_flag("-R,--recursive", f->recursive,
                  "If any target is a directory, recursively search and process metrics files.");
    sub->add_option("--precision", f->precision,
                    "Round metrics to `n` digits precision after the decimal point. Rounds to 5 digits by default.")
        ->type_name("<n>");
    sub->callback([&action, f] {
      action = [f](Context& ctx) {
        auto repo = ctx.open_repo();
        auto r = api::metrics_show(*repo, f->opts);
        for (auto& rev : r.revisions)
          if (rev.error) ctx.console.warn("failed to load metrics in revision '" + rev.name + "', " + rev.error->msg);
        report_errored(ctx, r.errored);
        if (f->json) {
          ctx.console.out_always(json_text(ctx, metrics::show_json(r.revisions)));
          return 0;
        }
        bool with_rev = f->opts.all_branches || f->opts.all_tags || f->opts.all_commits;
        auto table = metrics::show_table(r.revisions, with_rev, f->precision ? f->precision : k_default_precision);
        ctx.console.write(f->md ? metrics::render_markdown(table) : metrics::render_plain(table));
        return 0;
      };
    });
  }
  {
    struct Flags {
      std::vector<std::string> revs;
      api::CompareOptions opts;
      bool json = false, md = false, no_path = false, recursive = false;
      int precision = 0;
    };
    auto* f = new Flags();
    auto* sub = group->add_subcommand(
        "diff",
        "Show changes in metrics between commits in the DVC repository, or between a commit and the workspace.");
    sub->add_option("revs", f->revs, "a_rev (default HEAD) and b_rev (default workspace)")->expected(0, 2);
    sub->add_option("--targets", f->opts.targets,
                    "Specific metrics file(s) to compare (even if not found as `metrics` in `dvc.yaml`).")
        ->expected(0, -1)
        ->type_name("<paths>");
    sub->add_flag("-R,--recursive", f->recursive,
                  "If any target is a directory, recursively search and process metrics files.");
    sub->add_flag("--all", f->opts.all, "Show unchanged metrics as well.");
    sub->add_flag("--json", f->json, "Show output in JSON format.");
    sub->add_flag("--md", f->md, "Show tabulated output in the Markdown format (GFM).");
    sub->add_flag("--no-path", f->no_path, "Don't show metric path.");
    sub->add_option("--precision", f->precision,
                    "Round metrics to `n` digits precision after the decimal point. Rounds to 5 digits by default.")
        ->type_name("<n>");
    sub->callback([&action, f] {
      action = [f](Context& ctx) {
        auto repo = ctx.open_repo();
        if (f->revs.size() >= 1) f->opts.a_rev = f->revs[0];
        if (f->revs.size() >= 2) f->opts.b_rev = f->revs[1];
        auto r = api::metrics_diff(*repo, f->opts);
        for (auto& w : r.warnings) ctx.console.warn(w);
        report_errored(ctx, r.errored);
        if (f->json) {
          ctx.console.out_always(json_text(ctx, metrics::diff_json(r.diffs)));
          return 0;
        }
        metrics::CellFormat fmt{metrics::CellFormat::Kind::round_decimals,
                                f->precision ? f->precision : k_default_precision};
        auto table = metrics::diff_table(r.diffs, "Metric", f->opts.a_rev, f->opts.b_rev, f->no_path, true, fmt);
        ctx.console.write(f->md ? metrics::render_markdown(table) : metrics::render_plain(table));
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
