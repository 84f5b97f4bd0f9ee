// `status` (local and cloud) and `data status` (behaviour.md §3, §12).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {
using json = nlohmann::ordered_json;
}  // namespace

void register_status_command(CLI::App& app, Action& action) {
  // ---- status
  {
    static api::StatusOptions opts_storage{};
    auto* opts = &opts_storage;
    static api::TransferOptions topts_storage{};
    auto* topts = &topts_storage;
    static bool cloud_storage{false};
    auto* cloud = &cloud_storage;
    static bool as_json_storage{false};
    auto* as_json = &as_json_storage;
    static std::optional<unsigned> jobs_storage{};
    auto* jobs = &jobs_storage;
    auto* sub = app.add_subcommand("status", "Show changed stages, compare local cache and a remote storage.");
    sub->add_option("-j,--jobs", *jobs, "Number of jobs to run simultaneously.");
    sub->add_flag("-c,--cloud", *cloud, "Show status of a local cache compared to a remote repository.");
    sub->add_option("-r,--remote", topts->remote, "Remote storage to compare local cache to.");
    sub->add_flag("-a,--all-branches", topts->all_branches, "Show status of a local cache compared to a remote repository for all branches.");
    sub->add_flag("-T,--all-tags", topts->all_tags, "Show status of a local cache compared to a remote repository for all tags.");
    sub->add_flag("-A,--all-commits", topts->all_commits, "Show status of a local cache compared to a remote repository for all commits.");
    sub->add_flag("-d,--with-deps")->description("Show status for all dependencies of the specified target.");
    sub->add_flag("-R,--recursive", opts->recursive, "Show status of all stages in the specified directory.");
    sub->add_flag("--json", *as_json, "Show status in JSON format.");
    sub->add_flag("--no-updates")->description("Ignore updates to imported data.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories, .dvc files and stage names.");
    sub->callback([&action, opts, topts, cloud, as_json, jobs] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error, repo->scope_of_targets(opts->targets, false));
        if (*cloud || topts->remote) {
          topts->targets = opts->targets;
          topts->recursive = opts->recursive;
          topts->jobs = *jobs;
          topts->warn = [&ctx](const std::string& text, bool plain) {
            if (plain) ctx.console.plain_err(text);
            else ctx.console.warn(text);
          };
          auto r = api::status_cloud(*repo, *topts);
          if (*as_json) {
            json j = json::object();
            for (auto& [n, s] : r.entries) j[n] = s;
            ctx.console.out_always(json_text(ctx, j));
            return 0;
          }
          if (r.entries.empty()) {
            ctx.console.out("Cache and remote '" + r.remote_name + "' are in sync.");
            return 0;
          }
          for (auto& [n, s] : r.entries) ctx.console.out("\t" + pad20(s) + n);
          return ctx.globals.quiet ? 1 : 0;
        }
        std::vector<std::string> meaningless;
        if (topts->all_branches) meaningless.push_back("--all-branches");
        if (topts->all_tags) meaningless.push_back("--all-tags");
        if (topts->all_commits) meaningless.push_back("--all-commits");
        if (*jobs) meaningless.push_back("--jobs");
        if (!meaningless.empty())
          throw UserError("The following options are meaningless for local status: " + join(meaningless, ", "));
        auto r = api::status(*repo, *opts);
        if (*as_json) {
          json j = json::object();
          for (auto& w : r.warnings) ctx.console.warn(w);
          for (auto& st : r.stages) {
            json items = json::array();
            if (!st.changed_deps.empty()) {
              json deps = json::object();
              for (auto& d : st.changed_deps) {
                if (d.params.empty()) {
                  deps[d.path] = d.status;
                  continue;
                }
                json keys = json::object();
                for (auto& [k, v] : d.params) keys[k] = v;
                deps[d.path] = keys;
              }
              items.push_back(json{{"changed deps", deps}});
            }
            if (!st.changed_outs.empty()) {
              json outs = json::object();
              for (auto& [p, s] : st.changed_outs) outs[p] = s;
              items.push_back(json{{"changed outs", outs}});
            }
            if (st.always_changed) items.push_back("always changed");
            if (st.changed_checksum) items.push_back("changed checksum");
            if (st.changed_command) items.push_back("changed command");
            j[st.name] = items;
          }
          ctx.console.out_always(json_text(ctx, j));
          return 0;
        }
        if (r.no_stages) {
          ctx.console.out("There are no data or pipelines tracked in this project yet.\nSee <https://dvc.org/doc/start> to get started!");
          return 0;
        }
        for (auto& w : r.warnings) ctx.console.warn(w);
        if (r.stages.empty()) {
          ctx.console.out("Data and pipelines are up to date.");
          return 0;
        }
        for (auto& st : r.stages) {
          ctx.console.out(st.name + ":");
          if (!st.changed_deps.empty()) {
            ctx.console.out("\tchanged deps:");
            for (auto& d : st.changed_deps) {
              if (d.params.empty()) {
                ctx.console.out("\t\t" + pad20(d.status) + d.path);
                continue;
              }
              ctx.console.out("\t\t" + d.path + ":");
              for (auto& [k, v] : d.params) ctx.console.out("\t\t\t" + pad20(v) + k);
            }
          }
          if (!st.changed_outs.empty()) {
            ctx.console.out("\tchanged outs:");
            for (auto& [p, s] : st.changed_outs) ctx.console.out("\t\t" + pad20(s) + p);
          }
          if (st.always_changed) ctx.console.out("\talways changed");
          if (st.changed_checksum) ctx.console.out("\tchanged checksum");
          if (st.changed_command) ctx.console.out("\tchanged command");
        }
        return ctx.globals.quiet ? 1 : 0;
      };
    });
  }
  // ---- data status
  {
    auto* data = app.add_subcommand("data", "Commands related to data management.");
    data->require_subcommand(1);
    static api::DataStatusOptions opts_storage{};
    auto* opts = &opts_storage;
    static bool as_json_storage{false};
    auto* as_json = &as_json_storage;
    static std::string untracked_storage{};
    auto* untracked = &untracked_storage;
    auto* sub = data->add_subcommand("status", "Show changes between the last git commit, the dvcfiles and the workspace.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories.");
    sub->add_flag("--json", *as_json, "Format the output into a JSON.");
    sub->add_flag("--granular", opts->granular, "Show granular file-level info for DVC-tracked directories.");
    sub->add_flag("--unchanged", opts->unchanged, "Show unmodified DVC-tracked files.");
    sub->add_option("--untracked-files", *untracked, "Show untracked files.")->expected(0, 1)->default_str("")->check(CLI::IsMember({"no", "all", ""}));
    sub->add_option("-r,--remote")->description("Remote storage to check (with --not-in-remote).");
    sub->add_flag("--not-in-remote")->description("Show files not in remote.");
    sub->add_flag("--no-remote-refresh")->description("Use cached remote index (don't check remote).");
    sub->callback([&action, opts, as_json, untracked, sub] {
      opts->untracked = sub->count("--untracked-files") > 0 && *untracked != "no";
      action = [opts, as_json](Context& ctx) {
        auto repo = ctx.open_repo();
        auto r = api::data_status(*repo, *opts);
        if (*as_json) {
          json j = json::object();
          if (!r.not_in_cache.empty()) j["not_in_cache"] = r.not_in_cache;
          auto section = [](const std::map<std::string, std::vector<std::string>>& m) {
            json s = json::object();
            for (const char* k : {"added", "deleted", "modified", "unknown"}) {
              auto it = m.find(k);
              if (it != m.end() && !it->second.empty()) s[k] = it->second;
            }
            return s;
          };
          auto c = section(r.committed), u = section(r.uncommitted);
          if (!c.empty()) j["committed"] = c;
          if (!u.empty()) j["uncommitted"] = u;
          if (!r.untracked.empty()) j["untracked"] = r.untracked;
          if (!r.unchanged.empty()) j["unchanged"] = r.unchanged;
          ctx.console.out_always(json_text(ctx, j));
          return 0;
        }
        bool any = false;
        auto block = [&](const std::string& title, const std::string& hint,
                         const std::map<std::string, std::vector<std::string>>& m) {
          bool header = false;
          for (const char* k : {"added", "deleted", "modified", "unknown"}) {
            auto it = m.find(k);
            if (it == m.end()) continue;
            for (auto& p : it->second) {
              if (!header) {
                ctx.console.out(title);
                if (!hint.empty()) ctx.console.out(hint);
                header = true;
              }
              ctx.console.out("        " + std::string(k) + ": " + p);
            }
          }
          if (header) ctx.console.out("");
          any = any || header;
        };
        auto list = [&](const std::string& title, const std::string& hint, const std::vector<std::string>& v,
                        const std::string& word) {
          if (v.empty()) return;
          ctx.console.out(title);
          if (!hint.empty()) ctx.console.out(hint);
          for (auto& p : v) ctx.console.out("        " + (word.empty() ? "" : word + ": ") + p);
          ctx.console.out("");
          any = true;
        };
        list("Not in cache:", "  (use \"dvc fetch <file>...\" to download files)", r.not_in_cache, "");
        block("DVC committed changes:", "  (git commit the corresponding dvc files to update the repo)", r.committed);
        block("DVC uncommitted changes:", "  (use \"dvc commit <file>...\" to track changes)\n  (use \"dvc checkout <file>...\" to discard changes)", r.uncommitted);
        list("Untracked files:", "  (use \"git add <file> ...\" or \"dvc add <file>...\" to commit to git or to dvc)", r.untracked, "");
        list("DVC unchanged files:", "", r.unchanged, "");
        if (!any) ctx.console.out("No changes.");
        if (r.git_has_changes)
          ctx.console.out(any ? "(there are other changes not tracked by dvc, use \"git status\" to see)"
                              : "(there are changes not tracked by dvc, use \"git status\" to see)");
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
