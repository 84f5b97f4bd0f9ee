// `freeze` / `unfreeze`: set or clear `frozen` on dvc.yaml stages and .dvc files.
#include "app.h"

namespace dvx::cli {

void register_freeze_commands(CLI::App& app, Action& action) {
  for (bool frozen : {true, false}) {
    auto* targets = new std::vector<std::string>();  // lives as long as the command table
    auto* sub = app.add_subcommand(frozen ? "freeze" : "unfreeze",
                                   frozen ? "Freeze stages or .dvc files." : "Unfreeze stages or .dvc files.");
    sub->add_option("targets", *targets, "Stages or .dvc files to " + std::string(frozen ? "freeze" : "unfreeze"))
        ->required();
    sub->callback([&action, targets, frozen] {
      action = [targets, frozen](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        for (auto& line : api::freeze(*repo, *targets, frozen)) ctx.console.out(line);
        (void)repo->take_git_paths();  // DVC prints no hint here
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
