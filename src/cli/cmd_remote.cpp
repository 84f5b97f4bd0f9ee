// Commands that move data between the cache and a remote: push, fetch, pull.
#include "app.h"
#include "dvx/base/strings.h"

namespace dvx::cli {

namespace {

void add_transfer_options(CLI::App* sub, api::TransferOptions& o) {
  sub->add_option("-j,--jobs", o.jobs, "Number of jobs to run simultaneously.");
  sub->add_option("targets", o.targets, "Limit command scope to these tracked files/directories, .dvc files and stage names.");
  sub->add_option("-r,--remote", o.remote, "Remote storage to use.");
  sub->add_flag("-a,--all-branches", o.all_branches, "Use the tips of all Git branches.");
  sub->add_flag("-T,--all-tags", o.all_tags, "Use all Git tags.");
  sub->add_flag("-A,--all-commits", o.all_commits, "Use all Git commits.");
  sub->add_flag("-d,--with-deps")->description("Include all dependencies of the specified target.");
  sub->add_flag("-R,--recursive", o.recursive, "Use all DVC files in the specified directories.");
  sub->add_flag("--run-cache,!--no-run-cache", o.run_cache, "Transfer run history for all stages.");
  sub->add_flag("--glob")->description("Allows targets containing shell-style wildcards.");
}

// Runs a transfer, wrapping failures with DVC's context message.
template <class F>
auto with_context(const std::string& context, F&& f) {
  try {
    return f();
  } catch (const UserError& e) {
    ExitCode code = e.code() == ExitCode::config ? ExitCode::config : ExitCode::failure;
    throw UserError(context + " - " + e.what(), code);
  }
}

void set_warn(Context& ctx, api::TransferOptions& o) {
  o.warn = [&ctx](const std::string& text, bool plain) {
    if (plain) ctx.console.plain_err(text);
    else ctx.console.warn(text);
  };
}

}  // namespace

void register_remote_commands(CLI::App& app, Action& action) {
  {
    static api::TransferOptions opts;
    auto* sub = app.add_subcommand("push", "Upload tracked files or directories to remote storage.");
    add_transfer_options(sub, opts);
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        set_warn(ctx, opts);
        auto r = with_context("failed to push data to the cloud", [&] { return api::push(*repo, opts); });
        for (auto& w : r.warnings) ctx.console.warn(w);
        ctx.console.out(r.transferred ? plural(static_cast<int64_t>(r.transferred), "file pushed", "files pushed")
                                      : "Everything is up to date.");
        return 0;
      };
    });
  }
  {
    static api::TransferOptions opts;
    auto* sub = app.add_subcommand("fetch", "Download files or directories from remote storage to the cache.");
    add_transfer_options(sub, opts);
    sub->add_option("--max-size")->description("Fetch data files/directories that are each below specified size (bytes).");
    sub->add_option("--type")->description("Only fetch data files/directories that are of a particular type (metrics, plots).");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        set_warn(ctx, opts);
        auto r = with_context("failed to fetch data from the cloud", [&] { return api::fetch(*repo, opts); });
        for (auto& w : r.warnings) ctx.console.warn(w);
        ctx.console.out(r.transferred ? plural(static_cast<int64_t>(r.transferred), "file fetched", "files fetched")
                                      : "Everything is up to date.");
        return 0;
      };
    });
  }
  {
    static api::TransferOptions opts;
    static bool force = false, allow_missing = false;
    auto* sub = app.add_subcommand("pull", "Download tracked files or directories from remote storage.");
    add_transfer_options(sub, opts);
    sub->add_flag("-f,--force", force, "Do not prompt when removing working directory files.");
    sub->add_flag("--allow-missing", allow_missing, "Ignore errors if some of the files or directories are missing.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        set_warn(ctx, opts);
        auto r = with_context("failed to pull data from the cloud",
                              [&] { return api::pull(*repo, opts, force, allow_missing); });
        for (auto& w : r.fetched.warnings) ctx.console.warn(w);
        print_checkout_lines(ctx, r.checkout);
        std::string s = counts_summary({{static_cast<int64_t>(r.fetched.transferred), "fetched"},
                                 {r.checkout.files_modified, "modified"},
                                 {r.checkout.files_added, "added"},
                                 {r.checkout.files_deleted, "deleted"}});
        ctx.console.out(s.empty() ? "Everything is up to date." : s);
        if (r.failure) throw UserError("failed to pull data from the cloud - " + *r.failure, ExitCode::failure);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
