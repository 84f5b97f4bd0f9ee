// `remove`, `move`, `unprotect` (behaviour.md §9).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

void register_remove_command(CLI::App& app, Action& action) {
  // ---- remove
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    static bool outs_storage{false};
    auto* outs = &outs_storage;
    auto* sub = app.add_subcommand("remove", "Remove stages from dvc.yaml and/or stop tracking files or directories.");
    sub->alias("rm");
    sub->add_flag("--outs", *outs, "Remove outputs as well.");
    sub->add_option("targets", *targets, ".dvc files or stages from dvc.yaml to remove.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error, repo->scope_of_targets(*targets, true));
        api::remove(*repo, *targets, *outs);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- move
  {
    static std::string src_storage{};
    auto* src = &src_storage;
    static std::string dst_storage{};
    auto* dst = &dst_storage;
    auto* sub = app.add_subcommand("move", "Rename or move a DVC controlled data file or a directory.");
    sub->alias("mv");
    sub->add_option("src", *src, "Source path to a data file or directory.")->required();
    sub->add_option("dst", *dst, "Destination path.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        api::move(*repo, *src, *dst);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- unprotect
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    auto* sub = app.add_subcommand("unprotect", "Unprotect tracked files or directories (when hardlinks or symlinks have been enabled with `dvc config cache.type`).");
    sub->add_option("targets", *targets, "Data files/directories to unprotect.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error, repo->scope_of_targets(*targets, true));
        api::unprotect(*repo, *targets);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
