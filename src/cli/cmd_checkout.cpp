// `checkout`: make the workspace match .dvc files and dvc.lock (behaviour.md §2).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

void register_checkout_command(CLI::App& app, Action& action) {
  // ---- checkout
  {
    static api::CheckoutOptions opts_storage{};
    auto* opts = &opts_storage;
    static bool summary_storage{false};
    auto* summary = &summary_storage;
    auto* sub = app.add_subcommand("checkout", "Checkout data files from cache.");
    sub->add_flag("--summary", *summary, "Show summary of the changes.");
    sub->add_flag("-d,--with-deps")->description("Checkout all dependencies of the specified target.");
    sub->add_flag("-R,--recursive", opts->recursive, "Checkout all subdirectories of the specified directory.");
    sub->add_flag("-f,--force", opts->force, "Do not prompt when removing working directory files.");
    sub->add_flag("--relink", opts->relink, "Recreate links or copies from cache to workspace.");
    sub->add_flag("--allow-missing", opts->allow_missing, "Ignore errors if some of the files or directories are missing.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories, .dvc files and stage names.");
    sub->callback([&action, opts, summary] {
      action = [opts, summary](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error, repo->scope_of_targets(opts->targets, true));
        opts->warn = [&ctx](const std::string& text) { ctx.console.warn(text); };
        auto r = api::checkout(*repo, *opts);
        if (*summary) {
          std::string s = counts_summary({{r.files_modified, "modified"}, {r.files_added, "added"}, {r.files_deleted, "deleted"}});
          ctx.console.out(s.empty() ? "No changes." : s);
        } else {
          print_checkout_lines(ctx, r);
        }
        if (opts->relink) ctx.console.out("Relinked successfully");
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
