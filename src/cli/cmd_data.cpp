// Commands that work on tracked data: add, commit, checkout, status, data status, diff, remove,
// move, unprotect, gc, list, check-ignore, cache migrate.
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {

using json = nlohmann::ordered_json;

std::string pad20(const std::string& word) {
  std::string s = word + ":";
  if (s.size() < 20) s.resize(20, ' ');
  return s;
}

}  // namespace

void register_data_commands(CLI::App& app, Action& action) {
  // ---- add
  {
    static api::AddOptions opts_storage{};
    auto* opts = &opts_storage;
    auto* sub = app.add_subcommand("add", "Track data files or directories with DVC.");
    sub->add_flag("--no-commit", opts->no_commit, "Don't put files/directories into cache.");
    sub->add_flag("--glob", opts->glob, "Allows targets containing shell-style wildcards.");
    sub->add_option("-o,--out", opts->out, "Destination path to put files to.");
    sub->add_flag("-f,--force", opts->force, "Override local file or folder if exists.");
    sub->add_flag("--no-relink", opts->no_relink, "Don't recreate links from cache to workspace.");
    sub->add_option("targets", opts->targets, "Input files/directories to add.")->required();
    sub->callback([&action, opts] {
      action = [opts](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        opts->warn = [&ctx](const std::string& text) { ctx.console.warn(text); };
        try {
          api::add(*repo, *opts);
        } catch (const UserError& e) {
          throw UserError(e.what(), ExitCode::failure);
        }
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- commit
  {
    static api::CommitOptions opts_storage{};
    auto* opts = &opts_storage;
    auto* sub = app.add_subcommand("commit", "Record changes to files or directories tracked by DVC.");
    sub->add_flag("-f,--force", opts->force, "Commit data even if hash values for dependencies or outputs did not change.");
    sub->add_flag("-d,--with-deps")->description("Commit all dependencies of the specified target.");
    sub->add_flag("-R,--recursive", opts->recursive, "Commit cache for subdirectories of the specified directory.");
    sub->add_flag("--no-relink", opts->no_relink, "Don't recreate links from cache to workspace.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories or .dvc files.");
    sub->callback([&action, opts] {
      action = [opts](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        auto warnings = api::commit(*repo, *opts, ctx.confirmer());
        for (auto& w : warnings) ctx.console.warn(w);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- checkout
  {
    static api::CheckoutOptions opts_storage{};
    auto* opts = &opts_storage;
    static bool summary_storage{false};
    auto* summary = &summary_storage;
    auto* sub = app.add_subcommand("checkout", "Checkout data files from cache.");
    sub->add_flag("--summary", *summary, "Show summary of the changes.");
    sub->add_flag("-d,--with-deps")->description("Checkout all dependencies of the specified target.");
    sub->add_flag("-R,--recursive", opts->recursive, "Checkout all subdirectories of the specified directory.");
    sub->add_flag("-f,--force", opts->force, "Do not prompt when removing working directory files.");
    sub->add_flag("--relink", opts->relink, "Recreate links or copies from cache to workspace.");
    sub->add_flag("--allow-missing", opts->allow_missing, "Ignore errors if some of the files or directories are missing.");
    sub->add_option("targets", opts->targets, "Limit command scope to these tracked files/directories, .dvc files and stage names.");
    sub->callback([&action, opts, summary] {
      action = [opts, summary](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        opts->warn = [&ctx](const std::string& text) { ctx.console.warn(text); };
        auto r = api::checkout(*repo, *opts);
        if (*summary) {
          std::string s = counts_summary({{r.files_modified, "modified"}, {r.files_added, "added"}, {r.files_deleted, "deleted"}});
          ctx.console.out(s.empty() ? "No changes." : s);
        } else {
          print_checkout_lines(ctx, r);
        }
        if (opts->relink) ctx.console.out("Relinked successfully");
        return 0;
      };
    });
  }
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
        ctx.lock(*repo, ExitCode::error);
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
          for (auto& st : r.stages) {
            json items = json::array();
            if (!st.changed_outs.empty()) {
              json outs = json::object();
              for (auto& [p, s] : st.changed_outs) outs[p] = s;
              items.push_back(json{{"changed outs", outs}});
            }
            if (st.changed_checksum) items.push_back("changed checksum");
            j[st.name] = items;
          }
          ctx.console.out_always(json_text(ctx, j));
          return 0;
        }
        if (r.no_stages) {
          ctx.console.out("There are no data or pipelines tracked in this project yet.\nSee <https://dvc.org/doc/start> to get started!");
          return 0;
        }
        if (r.stages.empty()) {
          ctx.console.out("Data and pipelines are up to date.");
          return 0;
        }
        for (auto& st : r.stages) {
          ctx.console.out(st.name + ":");
          if (!st.changed_outs.empty()) {
            ctx.console.out("\tchanged outs:");
            for (auto& [p, s] : st.changed_outs) ctx.console.out("\t\t" + pad20(s) + p);
          }
          if (st.changed_checksum) ctx.console.out("\tchanged checksum");
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
  // ---- diff
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    static std::vector<std::string> revs_storage{};
    auto* revs = &revs_storage;
    static bool as_json_storage{false};
    auto* as_json = &as_json_storage;
    static bool show_hash_storage{false};
    auto* show_hash = &show_hash_storage;
    static bool md_storage{false};
    auto* md = &md_storage;
    static bool hide_missing_storage{false};
    auto* hide_missing = &hide_missing_storage;
    auto* sub = app.add_subcommand("diff", "Show added, modified, or deleted data between commits in the DVC repository, or between a commit and the workspace.");
    sub->add_option("--targets", *targets, "Specific DVC-tracked files to compare.")->expected(0, -1);
    sub->add_option("revs", *revs, "a_rev (default HEAD) and b_rev (default workspace)")->expected(0, 2);
    sub->add_flag("--json", *as_json, "Format the output into a JSON.");
    sub->add_flag("--show-hash", *show_hash, "Display hash value for each entry.");
    sub->add_flag("--md", *md, "Show tabulated output in the Markdown format (GFM).");
    sub->add_flag("--hide-missing", *hide_missing, "Hide missing cache file status.");
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        try {
          ctx.lock(*repo, ExitCode::failure);
        } catch (const UserError& e) {
          throw UserError(std::string("failed to get diff - ") + e.what(), ExitCode::failure);
        }
        std::optional<std::string> a, b;
        if (revs->size() >= 1) a = (*revs)[0];
        if (revs->size() >= 2) b = (*revs)[1];
        auto r = api::diff(*repo, a, b, *targets);
        bool with_missing = r.workspace && !*hide_missing;
        if (*as_json) {
          json j = json::object();
          bool any = !r.added.empty() || !r.deleted.empty() || !r.modified.empty() || !r.renamed.empty() ||
                     (with_missing && !r.not_in_cache.empty());
          if (any) {
            auto simple = [&](const std::vector<api::DiffEntry>& v, bool old_hash) {
              json a = json::array();
              for (auto& e : v) {
                json x = {{"path", e.path}};
                if (*show_hash) x["hash"] = old_hash ? e.old_hash : e.new_hash;
                a.push_back(x);
              }
              return a;
            };
            j["added"] = simple(r.added, false);
            j["deleted"] = simple(r.deleted, true);
            json m = json::array();
            for (auto& e : r.modified) {
              json x = {{"path", e.path}};
              if (*show_hash) x["hash"] = {{"old", e.old_hash}, {"new", e.new_hash}};
              m.push_back(x);
            }
            j["modified"] = m;
            json rn = json::array();
            for (auto& e : r.renamed) {
              json x = {{"path", {{"old", e.old_path}, {"new", e.path}}}};
              if (*show_hash) x["hash"] = e.new_hash;
              rn.push_back(x);
            }
            j["renamed"] = rn;
            if (with_missing) j["not in cache"] = simple(r.not_in_cache, true);
          }
          ctx.console.out_always(json_text(ctx, j));
          return 0;
        }
        auto short_hash = [](const std::string& h) { return h.substr(0, 8); };
        if (*md) {
          std::vector<std::vector<std::string>> rows;
          auto add = [&](const char* st, const std::vector<api::DiffEntry>& v, int kind) {
            for (auto& e : v) {
              std::string path = kind == 2 ? e.old_path + " -> " + e.path : e.path;
              std::string h = kind == 1 ? short_hash(e.old_hash) + ".." + short_hash(e.new_hash)
                                        : short_hash(e.new_hash.empty() ? e.old_hash : e.new_hash);
              rows.push_back(*show_hash ? std::vector<std::string>{st, h, path} : std::vector<std::string>{st, path});
            }
          };
          add("added", r.added, 0);
          add("deleted", r.deleted, 0);
          add("renamed", r.renamed, 2);
          add("modified", r.modified, 1);
          if (with_missing) add("not in cache", r.not_in_cache, 0);
          std::vector<std::string> header = *show_hash ? std::vector<std::string>{"Status", "Hash", "Path"}
                                                      : std::vector<std::string>{"Status", "Path"};
          std::vector<size_t> w(header.size());
          for (size_t i = 0; i < header.size(); ++i) w[i] = header[i].size();
          for (auto& row : rows)
            for (size_t i = 0; i < row.size(); ++i) w[i] = std::max(w[i], row[i].size());
          auto line = [&](const std::vector<std::string>& cells) {
            std::string s = "|";
            for (size_t i = 0; i < cells.size(); ++i) {
              std::string c = cells[i];
              c.resize(w[i], ' ');
              s += " " + c + " |";
            }
            return s;
          };
          ctx.console.out(line(header));
          std::string sep = "|";
          for (auto x : w) sep += std::string(x + 2, '-') + "|";
          ctx.console.out(sep);
          for (auto& row : rows) ctx.console.out(line(row));
          ctx.console.out("");
          return 0;
        }
        int64_t na = 0, nd = 0, nr = 0, nm = 0, nn = 0;
        auto files = [](const std::vector<api::DiffEntry>& v) {
          int64_t n = 0;
          for (auto& e : v)
            if (e.path.empty() || e.path.back() != '/') ++n;
          return n;
        };
        auto section = [&](const char* title, const std::vector<api::DiffEntry>& v, int kind) {
          if (v.empty()) return;
          ctx.console.out(title);
          for (auto& e : v) {
            std::string path = kind == 2 ? e.old_path + " -> " + e.path : e.path;
            std::string h;
            if (*show_hash)
              h = (kind == 1 ? short_hash(e.old_hash) + ".." + short_hash(e.new_hash)
                             : short_hash(e.new_hash.empty() ? e.old_hash : e.new_hash)) + "  ";
            ctx.console.out("    " + h + path);
          }
          ctx.console.out("");
        };
        section("Added:", r.added, 0);
        section("Deleted:", r.deleted, 0);
        section("Renamed:", r.renamed, 2);
        section("Modified:", r.modified, 1);
        if (with_missing) section("Not in cache:", r.not_in_cache, 0);
        na = files(r.added), nd = files(r.deleted), nr = files(r.renamed), nm = files(r.modified);
        nn = with_missing ? files(r.not_in_cache) : 0;
        std::vector<std::string> parts;
        if (na) parts.push_back(std::to_string(na) + " added");
        if (nd) parts.push_back(std::to_string(nd) + " deleted");
        if (nr) parts.push_back(std::to_string(nr) + " renamed");
        if (nm) parts.push_back(std::to_string(nm) + " modified");
        if (nn) parts.push_back(std::to_string(nn) + " not in cache");
        if (!parts.empty()) ctx.console.out("files summary: " + join(parts, ", "));
        return 0;
      };
    });
  }
  // ---- remove
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    static bool outs_storage{false};
    auto* outs = &outs_storage;
    auto* sub = app.add_subcommand("remove", "Remove stages from dvc.yaml and/or stop tracking files or directories.");
    sub->alias("rm");
    sub->add_flag("--outs", *outs, "Remove outputs as well.");
    sub->add_option("targets", *targets, ".dvc files or stages from dvc.yaml to remove.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        api::remove(*repo, *targets, *outs);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- move
  {
    static std::string src_storage{};
    auto* src = &src_storage;
    static std::string dst_storage{};
    auto* dst = &dst_storage;
    auto* sub = app.add_subcommand("move", "Rename or move a DVC controlled data file or a directory.");
    sub->alias("mv");
    sub->add_option("src", *src, "Source path to a data file or directory.")->required();
    sub->add_option("dst", *dst, "Destination path.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        api::move(*repo, *src, *dst);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  // ---- unprotect
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    auto* sub = app.add_subcommand("unprotect", "Unprotect tracked files or directories (when hardlinks or symlinks have been enabled with `dvc config cache.type`).");
    sub->add_option("targets", *targets, "Data files/directories to unprotect.")->required();
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        api::unprotect(*repo, *targets);
        return 0;
      };
    });
  }
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
  // ---- list
  {
    static std::string url_storage{};
    auto* url = &url_storage;
    static std::optional<std::string> path_storage{};
    auto* path = &path_storage;
    static bool recursive_storage{false};
    auto* recursive = &recursive_storage;
    static bool dvc_only_storage{false};
    auto* dvc_only = &dvc_only_storage;
    static bool as_json_storage{false};
    auto* as_json = &as_json_storage;
    static bool size_storage{false};
    auto* size = &size_storage;
    static bool show_hash_storage{false};
    auto* show_hash = &show_hash_storage;
    auto* sub = app.add_subcommand("list", "List repository contents, including files and directories tracked by DVC and by Git.");
    sub->alias("ls");
    sub->add_option("url", *url, "Location of DVC repository to list")->required();
    sub->add_option("path", *path, "Path to a directory within the repository to list outputs for");
    sub->add_flag("-R,--recursive", *recursive, "Recursively list files.");
    sub->add_flag("--dvc-only", *dvc_only, "Show only DVC outputs.");
    sub->add_flag("--json", *as_json, "Show output in JSON format.");
    sub->add_option("--rev")->description("Git revision (e.g. SHA, branch, tag)");
    sub->add_flag("--size", *size, "Show sizes.");
    sub->add_flag("--show-hash", *show_hash, "Display hash value for each item.");
    sub->callback([=, &action] {
      if (sub->count("--rev")) throw CLI::ValidationError("--rev is not supported by dvx list yet");
      action = [=](Context& ctx) {
        std::string abs = platform::absolute_path(*url, ctx.cwd);
        if (url->find("://") != std::string::npos || platform::stat_path(abs).type != platform::FileType::directory)
          throw UserError("dvx list supports local repositories only (got '" + *url + "')");
        auto repo = repo::Repo::open(abs);
        auto items = api::ls(*repo, *path, *recursive, *dvc_only);
        if (*as_json) {
          json a = json::array();
          for (auto& e : items)
            a.push_back(json{{"isout", e.isout}, {"isdir", e.isdir}, {"isexec", e.isexec},
                             {"size", e.size ? json(*e.size) : json(nullptr)},
                             {"md5", e.md5 ? json(*e.md5) : json(nullptr)}, {"path", e.path}});
          ctx.console.out_always(json_text(ctx, a));
          return 0;
        }
        for (auto& e : items) {
          std::string line;
          if (*size) line += (e.size ? std::to_string(*e.size) : std::string("-")) + "  ";
          if (*show_hash) line += (e.md5 ? *e.md5 : std::string("-")) + "  ";
          ctx.console.out(line + e.path);
        }
        return 0;
      };
    });
  }
  // ---- check-ignore
  {
    static std::vector<std::string> targets_storage{};
    auto* targets = &targets_storage;
    static bool details_storage{false};
    auto* details = &details_storage;
    static bool non_matching_storage{false};
    auto* non_matching = &non_matching_storage;
    static bool use_stdin_storage{false};
    auto* use_stdin = &use_stdin_storage;
    auto* sub = app.add_subcommand("check-ignore", "Check whether files or directories are excluded due to `.dvcignore`.");
    sub->add_flag("-d,--details", *details, "Show the exclude patterns along with each target path.");
    sub->add_flag("-a,--all")->description("Include the target paths which don't match any pattern in the `--details` list.");
    sub->add_flag("-n,--non-matching", *non_matching, "Include the target paths which don't match any pattern in the `--details` list.");
    sub->add_flag("--stdin", *use_stdin, "Read paths from standard input instead of providing `targets`.");
    sub->add_option("targets", *targets, "File or directory paths to check");
    sub->callback([=, &action] {
      action = [=](Context& ctx) {
        auto repo = ctx.open_repo();
        std::vector<std::string> paths = *targets;
        if (*use_stdin) {
          std::string line;
          while (std::getline(std::cin, line))
            if (!line.empty()) paths.push_back(line);
        }
        if (paths.empty()) throw UserError("`targets` or `--stdin` needed", ExitCode::error);
        bool any = false;
        for (auto& p : paths) {
          std::string abs = repo->absolute(p);
          auto rel = repo->relative(abs);
          if (!rel) continue;
          bool is_dir = platform::stat_path(abs).type == platform::FileType::directory;
          auto m = repo->ignore().match(*rel, is_dir);
          if (m && m->ignored) any = true;
          if (*details) {
            if (m) ctx.console.out(m->source + ":" + std::to_string(m->line) + ":" + m->pattern + "\t" + p);
            else if (*non_matching) ctx.console.out("::\t" + p);
          } else if (m && m->ignored) {
            ctx.console.out(p);
          }
        }
        return any ? 0 : 1;
      };
    });
  }
}

}  // namespace dvx::cli
