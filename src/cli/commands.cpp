// The table of command groups (app.h): which registration function adds which top-level
// commands. Each command lives in its own file (cmd_<name>.cpp).
#include "app.h"

namespace dvx::cli {

namespace {
// `exp`: the subcommands that write experiments (cmd_exp.cpp, cmd_exp_run.cpp) and those that
// read them (cmd_exp_show.cpp) share one group.
void register_exp_all_commands(CLI::App& app, Action& action) {
  register_exp_commands(app, action);
  register_exp_read_commands(app, action);
}
}  // namespace

const std::vector<CommandGroup>& command_groups() {
  static const std::vector<CommandGroup> groups{
      {register_project_commands, {"init", "destroy", "install", "git-hook", "root", "version", "doctor"}},
      {register_add_command, {"add"}},
      {register_commit_command, {"commit"}},
      {register_checkout_command, {"checkout"}},
      {register_status_command, {"status", "data"}},
      {register_diff_command, {"diff"}},
      {register_remove_command, {"remove", "rm", "move", "mv", "unprotect"}},
      {register_gc_command, {"gc"}},
      {register_fsck_command, {"fsck"}},
      {register_list_command, {"list", "ls", "check-ignore"}},
      {register_remote_commands, {"push", "fetch", "pull"}},
      {register_config_commands, {"config", "remote", "cache"}},
      {register_repro_command, {"repro"}},
      {register_stage_commands, {"stage"}},
      {register_dag_command, {"dag"}},
      {register_run_command, {"run"}},
      {register_freeze_commands, {"freeze", "unfreeze"}},
      {register_plots_commands, {"plots"}},
      {register_metrics_commands, {"metrics"}},
      {register_params_commands, {"params"}},
      {register_exp_all_commands, {"exp", "experiments"}},
      {register_queue_commands, {"queue"}},
  };
  return groups;
}

}  // namespace dvx::cli
