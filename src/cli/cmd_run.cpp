// `run`: DVC 2's one-step form (`run -n NAME -d DEP -o OUT CMD`), done as `stage add` followed
// by `repro` of that stage, with a note that DVC 3 spells it `stage add`.
#include "app.h"
#include "dvx/formats/yaml_edit.h"

namespace dvx::cli {

void add_stage_flags(CLI::App* sub, formats::StageAddSpec& s);

void register_run_command(CLI::App& app, Action& action) {
  static formats::StageAddSpec spec_storage;
  auto* spec = &spec_storage;
  struct Extra {
    bool no_exec = false, no_commit = false, no_run_cache = false;
  };
  static Extra extra_storage;
  auto* extra = &extra_storage;
  auto* sub = app.add_subcommand("run", "Generate a stage and run it (DVC 2's form of `stage add` + `repro`).");
  add_stage_flags(sub, *spec);
  sub->add_flag("--no-exec", extra->no_exec, "Only create the stage, don't run it.");
  sub->add_flag("--no-commit", extra->no_commit, "Don't put files/directories into cache.");
  sub->add_flag("--no-run-cache", extra->no_run_cache, "Execute the command even if this stage has already been run with the same command/dependencies/outputs/etc before.");
  sub->callback([&action, spec, extra, sub] {
    spec->command = sub->remaining();
    action = [spec, extra](Context& ctx) {
      if (spec->command.empty()) throw UserError("command is not specified", ExitCode::bad_arguments);
      auto repo = ctx.open_repo();
      ctx.lock(*repo, ExitCode::error);
      ctx.console.warn("`dvc run` is DVC 2's command; DVC 3 spells it `dvc stage add` (then `dvc repro`).");
      ctx.console.out(api::stage_add(*repo, *spec));
      if (!extra->no_exec) {
        pipeline::ReproOptions o;
        o.targets = {spec->name};
        o.single_item = true;
        o.force = true;
        o.no_commit = extra->no_commit;
        o.no_run_cache = extra->no_run_cache;
        auto io = repro_output(ctx);
        api::repro(*repo, o, io);
      }
      ctx.git_hint(*repo);
      return 0;
    };
  });
}

}  // namespace dvx::cli
