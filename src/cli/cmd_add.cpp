// `add`: start tracking files and folders (behaviour.md §1).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

void register_add_command(CLI::App& app, Action& action) {
  // ---- add
  {
    static api::AddOptions opts_storage{};
    auto* opts = &opts_storage;
    auto* sub = app.add_subcommand("add", "Track data files or directories with DVC.");
    sub->add_flag("--no-commit", opts->no_commit, "Don't put files/directories into cache.");
    sub->add_flag("--glob", opts->glob, "Allows targets containing shell-style wildcards.");
    sub->add_option("-o,--out", opts->out, "Destination path to put files to.");
    sub->add_flag("-f,--force", opts->force, "Override local file or folder if exists.");
    sub->add_flag("--no-relink", opts->no_relink, "Don't recreate links from cache to workspace.");
    sub->add_option("targets", opts->targets, "Input files/directories to add.")->required();
    sub->callback([&action, opts] {
      action = [opts](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure, !opts->out ? repo->scope_of_targets(opts->targets, true) : repo::LockScope{});
        opts->warn = [&ctx](const std::string& text) { ctx.console.warn(text); };
        try {
          api::add(*repo, *opts);
        } catch (const UserError& e) {
          throw UserError(e.what(), ExitCode::failure);
        }
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
