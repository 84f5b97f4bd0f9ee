// Shared pieces of the command-line front end: the context every command gets and helpers
// for output. CLI11 is used only in src/cli.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dvx/api/api.h"
#include "dvx/base/user_error.h"
#include "dvx/ui/console.h"

namespace dvx::cli {

struct Globals {
  int quiet = 0;
  int verbose = 0;
  std::string cd;
  bool wait_for_lock = false;
};

struct Context {
  Globals globals;
  ui::Console console;
  std::string cwd;
  // Opens the repository of the CWD (throws not-a-repo).
  std::unique_ptr<repo::Repo> open_repo();
  // Takes the repo lock with DVC's retry policy.
  // The repository lock (and DVC's path claims for `scope`: by default the whole repository).
  void lock(repo::Repo& repo, ExitCode code_on_failure, const repo::LockScope& scope = {});
  // Prints the "git add" hint or stages the files (core.autostage).
  void git_hint(repo::Repo& repo);
  api::Confirm confirmer();
};

// DVC's humanize.join: "a", "a and b", "a, b and c".
inline std::string humanize_join(std::vector<std::string> items) {
  if (items.size() <= 1) return items.empty() ? "" : items[0];
  std::string last = items.back();
  items.pop_back();
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out + " and " + last;
}

// A command's action, run after parsing; returns the exit code.
using Action = std::function<int(Context&)>;

// Registration functions, one per group of commands; each adds its subcommands to `app` and
// sets `action` when its subcommand is selected.
void register_add_command(CLI::App& app, Action& action);
void register_commit_command(CLI::App& app, Action& action);
void register_checkout_command(CLI::App& app, Action& action);
void register_status_command(CLI::App& app, Action& action);
void register_diff_command(CLI::App& app, Action& action);
void register_remove_command(CLI::App& app, Action& action);
void register_gc_command(CLI::App& app, Action& action);
void register_list_command(CLI::App& app, Action& action);
void register_remote_commands(CLI::App& app, Action& action);
void register_config_commands(CLI::App& app, Action& action);
void register_project_commands(CLI::App& app, Action& action);
void register_repro_command(CLI::App& app, Action& action);
void register_stage_commands(CLI::App& app, Action& action);
void register_dag_command(CLI::App& app, Action& action);
void register_run_command(CLI::App& app, Action& action);
void register_freeze_commands(CLI::App& app, Action& action);
void register_plots_commands(CLI::App& app, Action& action);
void register_metrics_commands(CLI::App& app, Action& action);
void register_params_commands(CLI::App& app, Action& action);
// `exp show`, `exp diff`, `exp list` (the `exp` group is created by whichever comes first).
void register_exp_read_commands(CLI::App& app, Action& action);

// A registration function and the top-level commands (with aliases) it adds, in the order
// `dvx --help` lists them. main() registers only the group of the command it runs.
struct CommandGroup {
  void (*add)(CLI::App& app, Action& action);
  std::vector<std::string_view> names;
};
const std::vector<CommandGroup>& command_groups();

void register_exp_commands(CLI::App& app, Action& action);
void register_queue_commands(CLI::App& app, Action& action);
void register_fsck_command(CLI::App& app, Action& action);
// `cache verify` (the `cache` group is in cmd_config.cpp).
void register_cache_verify(CLI::App& cache, Action& action);
// The subcommands of `exp` that write experiments (cmd_exp_run.cpp).
void register_exp_write_commands(CLI::App& exp, Action& action);
// `exp push`, `exp pull`, `exp clean` and `exp remove -g` (cmd_exp_remote.cpp); after the write
// commands, whose `remove` it extends.
void register_exp_remote_commands(CLI::App& exp, Action& action);
// The -A/--all-commits, --rev and -n/--num flags of the experiments commands (cmd_exp_show.cpp),
// with DVC's help texts for `verb` ("List", "Push", ...).
void add_rev_selection(CLI::App* sub, bool& all_commits, std::vector<std::string>& revs, int& num,
                       const std::string& verb);

// The flags `repro` shares with `exp run` (cmd_repro.cpp): -f, -i, -s, -p, -P, -R, --downstream, ...
void add_repro_flags(CLI::App* sub, pipeline::ReproOptions& o);

// "DVC failed to load some metrics for following revisions: '<a, b>'." on stderr (none: nothing).
void report_errored(Context& ctx, const std::vector<std::string>& errored);

// Adds -q/-v to a subcommand (DVC accepts them after the command too).
void add_common_flags(CLI::App* sub, Globals& g);

// "1 file fetched, 2 files modified and 1 file deleted" from non-zero counts ("" if none).
std::string counts_summary(const std::vector<std::pair<int64_t, std::string>>& parts);
// The A/M/D lines of checkout and pull.
void print_checkout_lines(Context& ctx, const api::CheckoutResult& r);

// "word:" padded with spaces to 20 columns, as DVC aligns status words.
inline std::string pad20(const std::string& word) {
  std::string s = word + ":";
  if (s.size() < 20) s.resize(20, ' ');
  return s;
}

// Where `repro` (and `stage add --run`, `run`) print: stdout, warnings, errors, questions.
inline api::ReproOutput repro_output(Context& ctx) {
  api::ReproOutput io;
  io.out = [&ctx](const std::string& s) { ctx.console.out(s); };
  io.warn = [&ctx](const std::string& s) { ctx.console.warn(s); };
  io.error = [&ctx](const std::string& s) { ctx.console.error(s); };
  io.confirm = ctx.confirmer();
  return io;
}

// Expands TABs to 8-column stops, as DVC's console does for some outputs.
std::string expand_tabs(const std::string& s);

// Python json.dumps of a value, one line (or indented on a terminal).
std::string json_text(Context& ctx, const nlohmann::ordered_json& v);

}  // namespace dvx::cli
