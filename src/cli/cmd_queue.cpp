// `queue start/stop/status/logs/remove/kill` (DVC 3.64's dvc/commands/queue/*.py): the
// experiment queue that `exp run --queue` fills, run by dvx's own worker processes.
#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/experiments/exp_refs.h"
#include "dvx/metrics/format.h"

namespace dvx::cli {
namespace {

void register_start(CLI::App& queue, Action& action) {
  static int jobs = 1;
  auto* sub = queue.add_subcommand("start", "Start the experiments task queue worker.");
  sub->add_option("-j,--jobs", jobs, "Maximum number of concurrent queue workers to start. Defaults to 1.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      int started = api::queue_start(*repo, jobs);
      ctx.console.out("Started '" + std::to_string(started) + "' new experiments task queue worker" +
                      (started > 1 ? "s" : "") + ".");
      return 0;
    };
  });
}

void register_stop(CLI::App& queue, Action& action) {
  static bool kill = false;
  auto* sub = queue.add_subcommand("stop", "Stop all experiments task queue workers.");
  sub->add_flag("--kill", kill, "Kill all running tasks before stopping the queue workers.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      api::queue_stop(*repo, kill);
      // DVC's text, its missing space included.
      ctx.console.out(kill ? "All running tasks in the queue have been killed.Queue workers are stopping."
                           : "Queue workers will stop after running tasks finish.");
      return 0;
    };
  });
}

void register_status(CLI::App& queue, Action& action) {
  auto* sub = queue.add_subcommand("status", "Show the status of experiments queue tasks and workers.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      auto st = api::queue_status(*repo);
      if (!st.tasks.empty()) {
        metrics::Table t;
        t.headers = {"Task", "Name", "Created", "Status"};
        for (auto& e : st.tasks)
          t.rows.push_back({e.id.substr(0, 7), e.name, experiments::table_time(e.created), e.status});
        ctx.console.write(metrics::render_plain(t));
      } else {
        ctx.console.out("No experiment tasks in the queue.");
      }
      ctx.console.out("");
      ctx.console.out("Worker status: " + std::to_string(st.active) + " active, " + std::to_string(st.idle) + " idle");
      return 0;
    };
  });
}

void register_logs(CLI::App& queue, Action& action) {
  static std::string task;
  static bool follow = false;
  static std::string encoding;
  auto* sub = queue.add_subcommand("logs", "Show output logs for a task in the experiments queue.");
  sub->add_option("-e,--encoding", encoding, "Text encoding for log output. Defaults to system locale encoding.");
  sub->add_flag("-f,--follow", follow,
                "Attach to task and follow additional live output. Only applicable if the task is still running.");
  sub->add_option("task", task, "Task to show.")->required();
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      api::queue_logs(*repo, task, follow, [&ctx](std::string_view text) {
        ctx.console.write(std::string(text));
        std::fflush(stdout);
      });
      return 0;
    };
  });
}

void register_remove(CLI::App& queue, Action& action) {
  static api::QueueRemoveOptions opts;
  auto* sub = queue.add_subcommand("remove", "Remove tasks in experiments queue.");
  sub->add_flag("--all", opts.all, "Remove all queued and completed tasks from the queue.");
  sub->add_flag("--queued", opts.queued, "Remove all queued tasks from the queue.");
  sub->add_flag("--success", opts.success, "Remove all successful tasks from the queue.");
  sub->add_flag("--failed", opts.failed, "Remove all failed tasks from the queue.");
  sub->add_option("task", opts.tasks, "Tasks to remove.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      auto removed = api::queue_remove(*repo, opts);
      if (!removed.empty()) ctx.console.out("Removed tasks in queue: " + join(removed, ", "));
      else ctx.console.out("No tasks found named []");
      return 0;
    };
  });
}

void register_kill(CLI::App& queue, Action& action) {
  static std::vector<std::string> tasks;
  static bool force = false;
  auto* sub = queue.add_subcommand("kill", "Kill actively running experiment queue tasks.");
  sub->add_flag("-f,--force", force, "Forcefully and immediately kill running experiment queue tasks");
  sub->add_option("task", tasks, "Tasks in queue to kill.");
  sub->callback([&action] {
    action = [](Context& ctx) {
      auto repo = ctx.open_repo();
      api::queue_kill(*repo, tasks, force, [&ctx](const std::string& name) { ctx.console.out(name + " has been killed."); });
      return 0;
    };
  });
}

}  // namespace

void register_queue_commands(CLI::App& app, Action& action) {
  auto* queue = app.add_subcommand("queue", "Commands to manage experiments queue.");
  queue->require_subcommand(1);
  register_start(*queue, action);
  register_stop(*queue, action);
  register_status(*queue, action);
  register_logs(*queue, action);
  register_remove(*queue, action);
  register_kill(*queue, action);
}

}  // namespace dvx::cli
