// `exp push`, `exp pull`, `exp clean` and the `-g/--git-remote` option of `exp remove`
// (DVC 3.64's dvc/commands/experiments/push.py, pull.py, clean.py, remove.py).
#include "app.h"
#include "dvx/base/strings.h"

namespace dvx::cli {
namespace {

// DVC's humanize.join: "a", "a and b", "a, b and c".
std::string join_and(std::vector<std::string> items) {
  if (items.size() <= 1) return items.empty() ? "" : items[0];
  std::string last = items.back();
  items.pop_back();
  return join(items, ", ") + " and " + last;
}

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
        ctx.console.plain_err("Local experiment " + join_and(r.diverged) +
                              " has diverged from remote experiment with the same name.\n"
                              "To override the remote experiment re-run with '--force'.");
      if (!r.up_to_date.empty())
        ctx.console.out("Experiment " + join_and(r.up_to_date) + (r.up_to_date.size() > 1 ? " are" : " is") +
                        " up to date on Git remote " + remote + ".");
      if (!r.success.empty()) ctx.console.out("Pushed experiment " + join_and(r.success) + " to Git remote " + remote + ".");
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
// broker messages (a task's file is its state, removed by `queue remove`), so nothing is left to
// clean; the command answers as DVC does.
void register_clean(CLI::App& exp, Action& action) {
  auto* sub = exp.add_subcommand("clean", "Cleanup experiments temporary internal files.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      ctx.console.out("Cleaning up dvc-task messages...");
      ctx.console.out("Done!");
      return 0;
    };
  });
}

// `exp remove -g <git_remote>`: the option is added to the `remove` subcommand registered in
// cmd_exp_run.cpp; when given, the group's callback (which CLI11 runs after the subcommand's)
// replaces remove's action with the remote one.
void add_remove_git_remote(CLI::App& exp, Action& action) {
  CLI::App* remove = nullptr;
  try {
    remove = exp.get_subcommand("remove");
  } catch (const CLI::OptionNotFound&) {
    return;
  }
  static std::string git_remote;
  static api::ExpRemoveOptions opts;
  remove->add_option("-g,--git-remote", git_remote, "Name or URL of the Git remote to remove the experiment from")
      ->type_name("<git_remote>");
  exp.callback([&action, remove] {
    if (!remove->parsed() || git_remote.empty()) return;
    // CLI11 reads an option given no value as one empty value: only count what was given.
    auto given = [remove](const char* name) { return remove->get_option(name)->count() > 0; };
    opts.all_commits = given("--all-commits");
    opts.keep = given("--keep");
    opts.queue = given("--queue");
    if (given("--rev")) opts.revs = remove->get_option("--rev")->as<std::vector<std::string>>();
    if (given("--num")) opts.num = remove->get_option("--num")->as<int>();
    if (given("experiment")) opts.names = remove->get_option("experiment")->as<std::vector<std::string>>();
    action = [](Context& ctx) {
      bool selection = opts.all_commits || !opts.revs.empty() || opts.queue;
      if (selection == !opts.names.empty())
        throw UserError("Either provide an `experiment` argument, or use the `--rev` or `--all-commits` or `--queue` flag.",
                        ExitCode::error);
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      auto removed = api::exp_remove_remote(*repo, opts, git_remote);
      std::vector<std::string> q;
      for (auto& n : removed) q.push_back("'" + n + "'");
      ctx.console.out(removed.empty() ? "No experiments to remove." : "Removed experiments: " + join_and(q));
      return 0;
    };
  });
}

}  // namespace

void register_exp_remote_commands(CLI::App& exp, Action& action) {
  register_push(exp, action);
  register_pull(exp, action);
  register_clean(exp, action);
  add_remove_git_remote(exp, action);
}

}  // namespace dvx::cli
