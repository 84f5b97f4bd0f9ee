// `exp run`, `exp save`, `exp apply`, `exp branch`, `exp remove`, `exp rename`, `exp clean`:
// the experiments commands that write (DVC 3.64's dvc/commands/experiments/*.py).
#include "app.h"
#include "dvx/base/strings.h"

namespace dvx::cli {
namespace {

// DVC's humanize.join of reprs: "'a'", "'a' and 'b'", "'a', 'b' and 'c'".
std::string quoted_list(const std::vector<std::string>& names) {
  std::vector<std::string> q;
  for (auto& n : names) q.push_back("'" + n + "'");
  return humanize_join(q);
}

void register_run(CLI::App& exp, Action& action) {
  struct Flags {
    api::ExpRunOptions opts;
    int jobs = 1;
    bool queue = false, temp = false, run_all = false;
  };
  static Flags flags_storage;
  auto* f = &flags_storage;
  auto* opts = &f->opts;
  auto* sub = exp.add_subcommand("run", "Run an experiment.");
  add_repro_flags(sub, opts->repro);
  sub->add_option("-n,--name", opts->name, "Human-readable experiment name. If not specified, a name will be auto-generated.");
  sub->add_option("-S,--set-param", opts->set_params, "Use the specified param value when reproducing pipelines.")
      ->allow_extra_args(false);
  sub->add_flag("--queue", f->queue, "Stage this experiment in the run queue for future execution.");
  sub->add_flag("--run-all", f->run_all, "Execute all experiments in the run queue. Implies --temp.");
  sub->add_option("-j,--jobs", f->jobs, "Run the specified number of experiments at a time in parallel.");
  sub->add_flag("--temp", f->temp, "Run this experiment in a separate temporary directory instead of your workspace.");
  sub->add_option("-C,--copy-paths", opts->copy_paths,
                  "List of ignored or untracked paths to copy into the temp directory. Only used if `--temp` or `--queue` is specified.")
      ->allow_extra_args(false);
  sub->add_option("-m,--message,-M", opts->message, "Custom commit message to use when committing the experiment.");
  sub->add_option("targets", opts->repro.targets, "Stages to reproduce. 'dvc.yaml' by default.");
  sub->callback([&action, f, opts] {
    action = [f, opts](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      if (auto v = repo->config().get("core.interactive"); v && (*v == "true" || *v == "True"))
        opts->repro.interactive = true;
      auto io = repro_output(ctx);
      auto print_tmp_result = [&ctx](const std::vector<std::string>& names) {
        ctx.console.out("");
        ctx.console.out("Ran experiment(s): " + join(names, ", "));
        ctx.console.out("To apply the results of an experiment to your workspace run:");
        ctx.console.out("");
        ctx.console.out("\tdvc exp apply <exp>");
      };
      if (f->run_all) {
        auto [ok, failed] = api::exp_run_all(*repo, std::max(1, f->jobs),
                                              [&ctx](std::string_view text) { ctx.console.write(std::string(text)); });
        if (!failed.empty()) ctx.console.error("Failed to reproduce experiment(s) '" + join(failed, ", ") + "'");
        if (!ok.empty()) print_tmp_result(ok);
        return 0;
      }
      if (f->queue) {
        api::exp_queue(*repo, *opts, [&ctx](const std::string& overrides, const std::string& name) {
          if (!overrides.empty()) ctx.console.out("Queueing with overrides '" + overrides + "'.");
          ctx.console.out("Queued experiment '" + name + "' for future execution.");
        });
        return 0;
      }
      api::ExpRunResult r;
      try {
        // --dry runs in a temporary copy too (DVC: dry implies tmp_dir).
        if (f->temp || opts->repro.dry) r = api::exp_run_temp(*repo, *opts, io);
        else r = api::exp_run(*repo, *opts, io);
      } catch (const UserError& e) {
        // Broken DVC files read on the way fail with 255, as in DVC (and as `repro`).
        if (e.code() == ExitCode::failure) throw UserError(e.what(), ExitCode::error);
        throw;
      }
      if (r.commit.empty()) return 0;  // --dry
      if (f->temp) {
        print_tmp_result({r.name});
        return 0;
      }
      ctx.console.out("");
      ctx.console.out("Ran experiment(s): " + r.name);
      ctx.console.out("Experiment results have been applied to your workspace.");
      return 0;
    };
  });
}

// Internal commands (DVC's `exp exec-run` and `exp queue-worker`): what `queue start` leaves
// running in the background.
void register_internal(CLI::App& exp, Action& action) {
  static std::string task;
  auto* exec = exp.add_subcommand("exec-run", "Run a queued experiment (internal).");
  exec->group("");
  exec->add_option("task", task, "Queue task id.")->required();
  exec->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      auto io = repro_output(ctx);
      try {
        api::exp_exec_task(*repo, task, io);
      } catch (const UserError& e) {
        if (e.code() == ExitCode::failure) throw UserError(e.what(), ExitCode::error);
        throw;
      }
      return 0;
    };
  });
  static int lock_fd = -1;
  static std::string registry;
  auto* worker = exp.add_subcommand("queue-worker", "Run queued experiments (internal).");
  worker->group("");
  worker->add_option("--lock-fd", lock_fd, "Inherited registry lock.")->required();
  worker->add_option("--registry", registry, "Worker registry file.")->required();
  worker->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      return api::queue_worker(*repo, lock_fd, registry);
    };
  });
}

void register_save(CLI::App& exp, Action& action) {
  static api::ExpSaveOptions opts_storage;
  static bool json = false;
  auto* opts = &opts_storage;
  auto* sub = exp.add_subcommand("save", "Save current workspace as an experiment.");
  sub->add_option("targets", opts->targets, "Limit DVC caching to these .dvc files and stage names.");
  sub->add_flag("-R,--recursive", opts->recursive, "Cache subdirectories of the specified directory.");
  sub->add_flag("-f,--force", opts->force, "Replace experiment if it already exists.");
  sub->add_flag("--json", json, "Show output in JSON format.");
  sub->add_option("-n,--name", opts->name, "Human-readable experiment name. If not specified, a name will be auto-generated.");
  sub->add_option("-I,--include-untracked", opts->include_untracked, "List of untracked paths to include in the experiment.")
      ->allow_extra_args(false);
  sub->add_option("-m,--message,-M", opts->message, "Custom commit message to use when committing the experiment.");
  sub->callback([&action, opts] {
    action = [opts](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      opts->warn = [&ctx](const std::string& w) { ctx.console.warn(w); };
      api::ExpRunResult r;
      try {
        r = api::exp_save(*repo, *opts);
      } catch (const UserError& e) {
        // DVC: logger.exception("failed to save experiment"), exit 1.
        ctx.console.error(std::string("failed to save experiment - ") + e.what());
        return 1;
      }
      if (json) {
        nlohmann::ordered_json j;
        j["ref"] = r.commit;
        ctx.console.out_always(json_text(ctx, j));
      } else {
        ctx.console.out("Experiment has been saved as: " + r.name);
      }
      return 0;
    };
  });
}

void register_apply(CLI::App& exp, Action& action) {
  static std::string rev;
  static bool no_force = false;
  auto* sub = exp.add_subcommand("apply", "Apply the changes from an experiment to your workspace.");
  sub->add_flag("--no-force", no_force, "Fail if this command would overwrite conflicting changes.");
  sub->add_option("experiment", rev, "Experiment to be applied.")->required();
  sub->callback([&action] {
    action = [](Context& ctx) {
      if (no_force)
        ctx.console.out(
            "The --no-force option is deprecated and will be removed in a future DVC release. To revert the result "
            "of 'exp apply', run:\n\n" +
            expand_tabs("\tgit reset --hard\n\tgit stash apply refs/exps/apply/stash\n"));
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      api::exp_apply(*repo, rev);
      ctx.console.out("Changes for experiment '" + rev + "' have been applied to your current workspace.");
      return 0;
    };
  });
}

void register_branch(CLI::App& exp, Action& action) {
  static std::string rev;
  static std::optional<std::string> branch;
  auto* sub = exp.add_subcommand("branch", "Promote an experiment to a Git branch.");
  sub->add_option("experiment", rev, "Experiment to be promoted.")->required();
  sub->add_option("branch", branch, "Optional name for the new Git branch. Defaults to '{experiment-name}-branch'.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      auto r = api::exp_branch(*repo, rev, branch);
      ctx.console.out("Git branch '" + r.branch + "' has been created from experiment '" + r.name + "'.");
      ctx.console.out("To switch to the new branch run:");
      ctx.console.out("");
      ctx.console.out("\tgit checkout " + r.branch);  // logged: the TAB stays
      return 0;
    };
  });
}

void register_remove(CLI::App& exp, Action& action) {
  static api::ExpRemoveOptions opts_storage;
  auto* opts = &opts_storage;
  auto* sub = exp.add_subcommand("remove", "Remove experiments.");
  sub->alias("rm");
  sub->add_flag("-A,--all-commits", opts->all_commits, "Remove all experiments in the repository (overrides `--rev` and `--num`).");
  sub->add_option("--rev", opts->revs, "Remove experiments derived from the specified `<commit>` as baseline.")
      ->allow_extra_args(false);
  sub->add_option("-n,--num", opts->num, "Remove experiments from the last `num` commits (first parents) starting from the `--rev` baseline. Give a negative value to include all first-parent commits (similar to `git log -n`).");
  sub->add_flag("--keep", opts->keep, "Keep the selected experiments instead of removing them.");
  sub->add_flag("--queue", opts->queue, "Remove all queued experiments.");
  sub->add_option("experiment", opts->names, "Experiments to remove.");
  static std::string git_remote;
  sub->add_option("-g,--git-remote", git_remote, "Name or URL of the Git remote to remove the experiment from")
      ->type_name("<git_remote>");
  sub->callback([&action, opts] {
    action = [opts](Context& ctx) {
      bool selection = opts->all_commits || !opts->revs.empty() || opts->queue;
      if (selection == !opts->names.empty())
        throw UserError("Either provide an `experiment` argument, or use the `--rev` or `--all-commits` or `--queue` flag.",
                        ExitCode::error);
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      auto removed = git_remote.empty() ? api::exp_remove(*repo, *opts) : api::exp_remove_remote(*repo, *opts, git_remote);
      ctx.console.out(removed.empty() ? "No experiments to remove." : "Removed experiments: " + quoted_list(removed));
      return 0;
    };
  });
}

void register_rename(CLI::App& exp, Action& action) {
  static std::vector<std::string> args;
  static bool force = false;
  auto* sub = exp.add_subcommand("rename", "Rename experiments.");
  sub->add_option("experiment", args, "Experiment to rename, then the new name.")->expected(1, 2);
  sub->add_flag("-f,--force", force, "Replace experiment if it already exists.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      // argparse fills the optional `experiment` only when both are given.
      if (args.size() != 2 || args[0].empty() || args[1].empty())
        throw UserError("An experiment to rename and a new experiment name are required.", ExitCode::error);
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      auto renamed = api::exp_rename(*repo, args[0], args[1], force);
      ctx.console.out(renamed.empty() ? "No experiments to rename." : "Renamed experiments: " + quoted_list(renamed));
      return 0;
    };
  });
}

}  // namespace

void register_exp_write_commands(CLI::App& exp, Action& action) {
  register_run(exp, action);
  register_internal(exp, action);
  register_save(exp, action);
  register_apply(exp, action);
  register_branch(exp, action);
  register_remove(exp, action);
  register_rename(exp, action);
}

}  // namespace dvx::cli
