// `repro`: reproduce pipeline stages (behaviour.md §4). `-j N` runs independent stages at once.
#include "app.h"

namespace dvx::cli {

// The flags `repro` shares with `exp run` (which inherits them in DVC).
void add_repro_flags(CLI::App* sub, pipeline::ReproOptions& o) {
  sub->add_flag("-f,--force", o.force, "Reproduce even if dependencies were not changed.");
  sub->add_flag("-i,--interactive", o.interactive, "Ask for confirmation before reproducing each stage.");
  sub->add_flag("-s,--single-item", o.single_item, "Reproduce only single data item without recursive dependencies check.");
  sub->add_flag("-p,--pipeline", o.pipeline, "Reproduce the whole pipeline that the specified targets belong to.");
  sub->add_flag("-P,--all-pipelines", o.all_pipelines, "Reproduce all pipelines in the repo.");
  sub->add_flag("-R,--recursive", o.recursive, "Reproduce all stages in the specified directory.");
  sub->add_flag("--downstream", o.downstream, "Start from the specified stages when reproducing pipelines.");
  sub->add_flag("--force-downstream", o.force_downstream, "Reproduce all descendants of a changed stage even if their direct dependencies didn't change.");
  sub->add_flag("--pull", o.pull, "Try automatically pulling missing data.");
  sub->add_flag("--allow-missing", o.allow_missing, "Skip stages with missing data but no other changes.");
  sub->add_flag("--dry", o.dry, "Only print the commands that would be executed without actually executing.");
  sub->add_flag("-k,--keep-going", o.keep_going, "Continue executing, skipping stages having dependencies on the failed stages.");
  sub->add_flag("--ignore-errors", o.ignore_errors, "Ignore errors from stages.");
  sub->add_flag("--glob", o.glob, "Allows targets containing shell-style wildcards.");
  sub->add_flag("--no-commit", o.no_commit, "Don't put files/directories into cache.");
  sub->add_flag("--no-run-cache", o.no_run_cache, "Execute stage commands even if they have already been run with the same command/dependencies/outputs/etc before.");
}

void register_repro_command(CLI::App& app, Action& action) {
  static pipeline::ReproOptions opts_storage{};
  auto* opts = &opts_storage;
  auto* sub = app.add_subcommand("repro", "Reproduce complete or partial pipelines.");
  add_repro_flags(sub, *opts);
  sub->add_option("-j,--jobs", opts->jobs, "Run up to this many independent stages at the same time (default 1).")
      ->check(CLI::PositiveNumber);
  sub->add_option("targets", opts->targets, "Stages to reproduce. 'dvc.yaml' by default.");
  sub->callback([&action, opts] {
    action = [opts](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      if (auto v = repo->config().get("core.interactive"); v && (*v == "true" || *v == "True")) opts->interactive = true;
      auto io = repro_output(ctx);
      // On failure DVC prints no hint; the dvc.lock entries of the stages that finished stay.
      size_t n = 0;
      try {
        n = api::repro(*repo, *opts, io);
      } catch (const UserError& e) {
        // Broken DVC files read on the way (dvc.lock, .dvc) fail repro with 255, as in DVC.
        if (e.code() == ExitCode::failure) throw UserError(e.what(), ExitCode::error);
        throw;
      }
      ctx.git_hint(*repo);
      ctx.console.out(n ? "Use `dvc push` to send your updates to remote storage." : "Data and pipelines are up to date.");
      return 0;
    };
  });
}

}  // namespace dvx::cli
