// `gc`: remove unused objects from the cache or a remote (behaviour.md §7).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

void register_gc_command(CLI::App& app, Action& action) {
  // ---- gc
  {
    static api::GcOptions opts_storage{};
    auto* opts = &opts_storage;
    auto* sub = app.add_subcommand("gc", "Garbage collect unused objects from cache or remote storage.");
    sub->add_flag("-w,--workspace", opts->workspace, "Keep data files used in the current workspace.");
    sub->add_option("--rev", opts->rev, "Keep data files used in the specified <commit>.");
    sub->add_option("-n,--num", opts->num, "Keep data files used in the last `num` commits starting from the `--rev` <commit>.");
    sub->add_flag("-a,--all-branches", opts->all_branches, "Keep data files for the tips of all Git branches.");
    sub->add_flag("-T,--all-tags", opts->all_tags, "Keep data files for all Git tags.");
    sub->add_flag("-A,--all-commits", opts->all_commits, "Keep data files for all Git commits.");
    sub->add_option("--date")->description("Keep cached data referenced in the commits after ( inclusive ) a certain time.");
    sub->add_flag("--all-experiments")->description("Keep data files for all experiments.");
    sub->add_flag("--not-in-remote", opts->not_in_remote, "Keep data files that are not present in the remote.");
    sub->add_flag("-c,--cloud", opts->cloud, "Collect garbage in remote storage in addition to local cache.");
    sub->add_option("-r,--remote", opts->remote, "Remote storage to collect garbage in.");
    sub->add_flag("--skip-failed")->description("Skip revisions that fail when collected.");
    sub->add_flag("-f,--force", opts->force, "Force garbage collection - automatically agree to all prompts.");
    sub->add_option("-j,--jobs", opts->jobs, "Number of jobs to run simultaneously.");
    sub->add_option("-p,--projects")->description("Keep data files required by these projects in addition to the current one.");
    sub->add_flag("--dry", opts->dry, "Only print what would get removed without actually removing.");
    sub->callback([=, &action] {
      for (const char* unsupported : {"--date", "--all-experiments", "--projects"})
        if (sub->count(unsupported)) throw CLI::ValidationError(std::string(unsupported) + " is not supported by dvx gc yet");
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        auto lines = api::gc(*repo, *opts, ctx.confirmer(), [&](const std::string& w) { ctx.console.warn(w); });
        for (auto& l : lines) ctx.console.out(l);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
