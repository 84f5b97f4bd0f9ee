// `stage list` (and `stage add` once dvc.yaml editing lands): pipeline stages of dvc.yaml files.
#include <algorithm>

#include "app.h"
#include "dvx/formats/yaml_edit.h"

namespace dvx::cli {

// The stage-definition flags shared by `stage add` and `run`.
void add_stage_flags(CLI::App* sub, formats::StageAddSpec& s) {
  sub->add_option("-n,--name", s.name, "Name of the stage to add")->required();
  sub->add_flag("-f,--force", s.force, "Overwrite existing stage");
  sub->add_option("-d,--deps", s.deps, "Declare dependencies for reproducible cmd.")->allow_extra_args(false);
  sub->add_option("-p,--params", s.params, "Declare parameter to use as additional dependency.")->allow_extra_args(false);
  sub->add_option("-o,--outs", s.outs, "Declare output file or directory.")->allow_extra_args(false);
  sub->add_option("-O,--outs-no-cache", s.outs_no_cache, "Declare output file or directory (do not put into DVC cache).")->allow_extra_args(false);
  sub->add_option("--outs-persist", s.outs_persist, "Declare output file or directory that will not be removed upon repro.")->allow_extra_args(false);
  sub->add_option("--outs-persist-no-cache", s.outs_persist_no_cache, "Declare output file or directory that will not be removed upon repro (do not put into DVC cache).")->allow_extra_args(false);
  sub->add_option("-m,--metrics", s.metrics, "Declare output metrics file.")->allow_extra_args(false);
  sub->add_option("-M,--metrics-no-cache", s.metrics_no_cache, "Declare output metrics file (do not put into DVC cache).")->allow_extra_args(false);
  sub->add_option("--plots", s.plots, "Declare output plot file.")->allow_extra_args(false);
  sub->add_option("--plots-no-cache", s.plots_no_cache, "Declare output plot file (do not put into DVC cache).")->allow_extra_args(false);
  sub->add_option("-w,--wdir", s.wdir, "Directory within your repo to run your command in.");
  sub->add_flag("--always-changed", s.always_changed, "Always consider this stage as changed.");
  sub->add_option("--desc", s.desc, "User description of the stage (optional).");
  sub->fallthrough(false);  // positionals stay here...
  sub->prefix_command();    // ...and from the first one on, every word is the command
}

void register_stage_commands(CLI::App& app, Action& action) {
  auto* stage = app.add_subcommand("stage", "Commands to list and create stages.");
  stage->require_subcommand(1);
  {
    static formats::StageAddSpec spec_storage;
    auto* spec = &spec_storage;
    static bool run_storage = false;
    auto* run = &run_storage;
    auto* sub = stage->add_subcommand("add", "Create stage");
    add_stage_flags(sub, *spec);
    sub->add_flag("--run", *run, "Execute the stage after generating it.");
    sub->callback([&action, spec, run, sub] {
      spec->command = sub->remaining();
      action = [spec, run](Context& ctx) {
        if (spec->command.empty()) throw UserError("command is not specified", ExitCode::bad_arguments);
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        ctx.console.out(api::stage_add(*repo, *spec));
        if (*run) {
          pipeline::ReproOptions o;
          o.targets = {spec->name};
          o.single_item = true;
          auto io = repro_output(ctx);
          api::repro(*repo, o, io);
        }
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  {
    static api::StageListOptions opts_storage{};
    auto* opts = &opts_storage;
    static bool name_only_storage = false;
    auto* name_only = &name_only_storage;
    auto* sub = stage->add_subcommand("list", "List stages.");
    sub->add_flag("--all", opts->all, "List all of the stages in the repo.");
    sub->add_flag("--fail", opts->fail, "Fail immediately, do not suppress any syntax errors.");
    sub->add_flag("-R,--recursive", opts->recursive, "List all stages inside the specified directory.");
    sub->add_flag("--name-only,--names-only", *name_only, "List only stage names.");
    sub->add_option("targets", opts->targets, "Show stages from a dvc.yaml/.dvc file or a directory. 'dvc.yaml' by default");
    sub->callback([&action, opts, name_only] {
      action = [opts, name_only](Context& ctx) {
        auto repo = ctx.open_repo();
        auto entries = api::stage_list(*repo, *opts);
        size_t width = 0;
        for (auto& e : entries) width = std::max(width, e.address.size());
        for (auto& e : entries) {
          if (*name_only) {
            ctx.console.out(e.address);
            continue;
          }
          std::string line = e.address;
          line.resize(width + 2, ' ');
          ctx.console.out(line + e.description);
        }
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
