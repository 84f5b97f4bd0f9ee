// `stage list` (and `stage add` once dvc.yaml editing lands): pipeline stages of dvc.yaml files.
#include <algorithm>

#include "app.h"

namespace dvx::cli {

void register_stage_commands(CLI::App& app, Action& action) {
  auto* stage = app.add_subcommand("stage", "Commands to list and create stages.");
  stage->require_subcommand(1);
  {
    static api::StageListOptions opts_storage{};
    auto* opts = &opts_storage;
    static bool name_only_storage = false;
    auto* name_only = &name_only_storage;
    auto* sub = stage->add_subcommand("list", "List stages.");
    sub->add_flag("--all", opts->all, "List all of the stages in the repo.");
    sub->add_flag("--fail", opts->fail, "Fail immediately, do not suppress any syntax errors.");
    sub->add_flag("-R,--recursive", opts->recursive, "List all stages inside the specified directory.");
    sub->add_flag("--name-only,--names-only", *name_only, "List only stage names.");
    sub->add_option("targets", opts->targets, "Show stages from a dvc.yaml/.dvc file or a directory. 'dvc.yaml' by default");
    sub->callback([&action, opts, name_only] {
      action = [opts, name_only](Context& ctx) {
        auto repo = ctx.open_repo();
        auto entries = api::stage_list(*repo, *opts);
        size_t width = 0;
        for (auto& e : entries) width = std::max(width, e.address.size());
        for (auto& e : entries) {
          if (*name_only) {
            ctx.console.out(e.address);
            continue;
          }
          std::string line = e.address;
          line.resize(width + 2, ' ');
          ctx.console.out(line + e.description);
        }
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
