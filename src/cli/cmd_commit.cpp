// `commit`: record changed outputs of .dvc files and stages (behaviour.md §5).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

void register_commit_command(CLI::App& app, Action& action) {
  // ---- commit
  {
    static api::CommitOptions opts_storage{};
    auto* opts = &opts_storage;
    auto* sub = app.add_subcommand("commit", "Record changes to files or directories tracked by DVC.");
    sub->add_flag("-f,--force", opts->force, "Commit data even if hash values for dependencies or outputs did not change.");
    sub->add_flag("-d,--with-deps")->description("Commit all dependencies of the specified target.");
    sub->add_flag("-R,--recursive", opts->recursive, "Commit cache for subdirectories of the specified directory.");
    sub->add_flag("--no-relink", opts->no_relink, "Don't recreate links from cache to workspace.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories or .dvc files.");
    sub->callback([&action, opts] {
      action = [opts](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure, repo->scope_of_targets(opts->targets, true));
        auto warnings = api::commit(*repo, *opts, ctx.confirmer());
        for (auto& w : warnings) ctx.console.warn(w);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
