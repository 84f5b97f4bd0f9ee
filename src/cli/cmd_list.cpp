// `list`/`ls` of a repository and `check-ignore`.
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {
using json = nlohmann::ordered_json;
}  // namespace

void register_list_command(CLI::App& app, Action& action) {
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
