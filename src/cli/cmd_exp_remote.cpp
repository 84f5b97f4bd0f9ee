// `exp push`, `exp pull` and `exp clean` (DVC 3.64's dvc/commands/experiments/push.py, pull.py,
// clean.py); `exp remove -g` is in cmd_exp_run.cpp.
#include "app.h"
#include "dvx/base/strings.h"

namespace dvx::cli {
namespace {

// Python's repr of a list of strings: ['a', 'b'].
std::string list_repr(const std::vector<std::string>& items) {
  std::vector<std::string> q;
  for (auto& i : items) q.push_back("'" + i + "'");
  return "[" + join(q, ", ") + "]";
}

struct RemoteFlags {
  api::ExpRemoteOptions opts;
  bool no_cache = false;
};

void add_remote_flags(CLI::App* sub, RemoteFlags& f, const std::string& verb, const std::string& force_help,
                      const std::string& cache_help, const std::string& remote_help, const std::string& jobs_help,
                      const std::string& run_cache_help, const std::string& exp_help) {
  add_rev_selection(sub, f.opts.select.all_commits, f.opts.select.revs, f.opts.select.num, verb);
  sub->add_flag("-f,--force", f.opts.force, force_help);
  sub->add_flag("--no-cache", f.no_cache, cache_help);
  sub->add_option("-r,--remote", f.opts.transfer.remote, remote_help)->type_name("<name>");
  sub->add_option("-j,--jobs", f.opts.transfer.jobs, jobs_help)->type_name("<number>");
  sub->add_flag("--run-cache,!--no-run-cache", f.opts.transfer.run_cache, run_cache_help);
  sub->add_option("git_remote", f.opts.git_remote, "Git remote name or Git URL.")->required()->type_name("<git_remote>");
  sub->add_option("experiment", f.opts.select.names, exp_help)->type_name("<experiment>");
}

void prepare(Context& ctx, RemoteFlags& f) {
  f.opts.cache = !f.no_cache;
  f.opts.transfer.warn = [&ctx](const std::string& text, bool plain) {
    if (plain) ctx.console.plain_err(text);
    else ctx.console.warn(text);
  };
}

void register_push(CLI::App& exp, Action& action) {
  auto* f = new RemoteFlags();
  auto* sub = exp.add_subcommand("push", "Push a local experiment to a Git remote.");
  add_remote_flags(sub, *f, "Push", "Replace experiment in the Git remote if it already exists.",
                   "Do not push cached outputs for this experiment to DVC remote storage.",
                   "Name of the DVC remote to use when pushing cached outputs.",
                   "Number of jobs to run simultaneously when pushing to DVC remote storage.",
                   "Push run history for all stages.", "Experiments to push.");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      prepare(ctx, *f);
      auto r = api::exp_push(*repo, f->opts);
      const std::string remote = "'" + f->opts.git_remote + "'";
      if (!r.diverged.empty())
        ctx.console.plain_err("Local experiment " + humanize_join(r.diverged) +
                              " has diverged from remote experiment with the same name.\n"
                              "To override the remote experiment re-run with '--force'.");
      if (!r.up_to_date.empty())
        ctx.console.out("Experiment " + humanize_join(r.up_to_date) + (r.up_to_date.size() > 1 ? " are" : " is") +
                        " up to date on Git remote " + remote + ".");
      if (!r.success.empty()) ctx.console.out("Pushed experiment " + humanize_join(r.success) + " to Git remote " + remote + ".");
      if (r.up_to_date.empty() && r.success.empty()) ctx.console.out("No experiments to push.");
      if (r.uploaded) ctx.console.out(plural(static_cast<int64_t>(r.uploaded), "file uploaded", "files uploaded"));
      if (r.cache_error) throw UserError("failed to push cache - " + *r.cache_error, ExitCode::error);
      if (!f->opts.cache)
        ctx.console.out(
            "To push cached outputs for this experiment to DVC remote storage,re-run this command without "
            "'--no-cache'.");
      return 0;
    };
  });
}

void register_pull(CLI::App& exp, Action& action) {
  auto* f = new RemoteFlags();
  auto* sub = exp.add_subcommand("pull", "Pull an experiment from a Git remote.");
  add_remote_flags(sub, *f, "Pull", "Replace local experiment if it already exists.",
                   "Do not pull cached outputs for this experiment from DVC remote storage.",
                   "Name of the DVC remote to use when pulling cached outputs.",
                   "Number of jobs to run simultaneously when pulling from DVC remote storage.",
                   "Pull run history for all stages.", "Experiments to pull.");
  sub->callback([&action, f] {
    action = [f](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      prepare(ctx, *f);
      auto r = api::exp_pull(*repo, f->opts);
      if (!r.diverged.empty())
        ctx.console.warn("Local experiment '" + list_repr(r.diverged) +
                         "' has diverged from remote experiment with the same name. To override the local "
                         "experiment re-run with '--force'.");
      if (!r.success.empty())
        ctx.console.out("Pulled experiment '" + list_repr(r.success) + "' from Git remote '" + f->opts.git_remote + "'.");
      else ctx.console.out("No experiments to pull.");
      if (!f->opts.cache)
        ctx.console.out(
            "To pull cached outputs for this experimentfrom DVC remote storage,re-run this command without "
            "'--no-cache'.");
      return 0;
    };
  });
}

// DVC 3.64's `exp clean` empties its Celery broker of processed messages. dvx's queue keeps no
// broker messages (a task's file is its state, removed by `queue remove`); what a crash can leave
// behind is cleaned instead: queue commits' refs without a task, and unused temporary trees.
void register_clean(CLI::App& exp, Action& action) {
  auto* sub = exp.add_subcommand("clean", "Cleanup experiments temporary internal files.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.console.out("Cleaning up dvc-task messages...");
      auto r = api::exp_clean(*repo);
      if (r.refs || r.trees)
        ctx.console.debug("removed " + std::to_string(r.refs) + " stale queue refs and " + std::to_string(r.trees) +
                            " temporary work trees");
      ctx.console.out("Done!");
      return 0;
    };
  });
}

}  // namespace

void register_exp_remote_commands(CLI::App& exp, Action& action) {
  register_push(exp, action);
  register_pull(exp, action);
  register_clean(exp, action);
}

}  // namespace dvx::cli
