// `exp`: the experiments group. The commands that write experiments (run, save, apply, branch,
// remove, rename, clean) are in cmd_exp_run.cpp.
#include "app.h"

namespace dvx::cli {

void register_exp_commands(CLI::App& app, Action& action) {
  auto* exp = app.add_subcommand("exp", "Run and manage experiments.");
  exp->alias("experiments");
  exp->require_subcommand(1);
  register_exp_write_commands(*exp, action);
  register_exp_remote_commands(*exp, action);
}

}  // namespace dvx::cli
