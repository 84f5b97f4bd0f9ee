// Project-level commands: init, destroy, install, git-hook, root, version.
#include <fstream>
#include <sys/utsname.h>

#include <cstdlib>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {

// "<fstype> on <device>" of the mount holding `path` (/proc/self/mounts, longest prefix), as
// DVC's doctor prints it.
std::string filesystem_of(const std::string& path) {
  std::ifstream mounts("/proc/self/mounts");
  std::string dev, mnt, type, rest, best_dev, best_type;
  size_t best = 0;
  while (mounts >> dev >> mnt >> type && std::getline(mounts, rest)) {
    if (!(path == mnt || mnt == "/" || path.starts_with(mnt + "/"))) continue;
    if (mnt.size() >= best) {
      best = mnt.size();
      best_dev = dev;
      best_type = type;
    }
  }
  return best_type.empty() ? path : best_type + " on " + best_dev;
}

}  // namespace

void register_project_commands(CLI::App& app, Action& action) {
  {
    static api::InitOptions opts;
    auto* sub = app.add_subcommand("init", "Initialize DVC in the current directory.");
    sub->add_option("directory", opts.directory, "Location where to initialize the DVC repository (default: current directory).");
    sub->add_flag("--no-scm", opts.no_scm, "Initiate DVC in directory that is not tracked by any SCM tool (e.g. Git).");
    sub->add_flag("-f,--force", opts.force, "Overwrite existing '.dvc/' directory. This operation removes local cache.");
    sub->add_flag("--subdir", opts.subdir, "Necessary for running this command inside a subdirectory of a parent SCM repository.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto r = api::init(ctx.cwd, opts);
        std::string text = "Initialized DVC repository.\n";
        if (r.git) text += "\nYou can now commit the changes to git.\n";
        text +=
            "\nWhat's next?\n------------\n- Check out the documentation: <https://dvc.org/doc>\n"
            "- Get help and share ideas: <https://dvc.org/chat>\n- Star us on GitHub: <https://github.com/iterative/dvc>";
        ctx.console.out(text);
        return 0;
      };
    });
  }
  {
    static bool force = false;
    auto* sub = app.add_subcommand("destroy", "Remove DVC files, local DVC config and data cache.");
    sub->add_flag("-f,--force", force, "Force destruction.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::failure);
        api::destroy(*repo, force, ctx.confirmer());
        return 0;
      };
    });
  }
  {
    auto* sub = app.add_subcommand("install", "Install DVC git hooks into the repository.");
    sub->add_flag("--use-pre-commit-tool")->description("Install DVC hooks using pre-commit (https://pre-commit.com) if it is installed.");
    sub->callback([&action, sub] {
      if (sub->count("--use-pre-commit-tool")) throw CLI::ValidationError("--use-pre-commit-tool is not supported by dvx yet");
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        api::install_hooks(*repo);
        return 0;
      };
    });
  }
  {
    auto* hook = app.add_subcommand("git-hook", "Run GIT hook.");
    hook->require_subcommand(1);
    static std::vector<std::string> args;
    auto run_quietly = [](Context& ctx, const std::function<void(repo::Repo&)>& f) {
      if (!repo::Repo::find_root(ctx.cwd)) return 0;  // hooks are silent outside a DVC repo
      auto repo = ctx.open_repo();
      f(*repo);
      return 0;
    };
    {
      auto* sub = hook->add_subcommand("pre-commit", "Run pre-commit GIT hook.");
      sub->add_option("args", args)->expected(0, -1);
      sub->callback([&action, run_quietly] {
        action = [run_quietly](Context& ctx) {
          return run_quietly(ctx, [&](repo::Repo& repo) {
            ctx.lock(repo, ExitCode::error);
            auto r = api::status(repo, {});
            for (auto& st : r.stages) {
              ctx.console.out(st.name + ":");
              ctx.console.out("\tchanged outs:");
              for (auto& [p, s] : st.changed_outs) {
                std::string w = s + ":";
                w.resize(std::max<size_t>(20, w.size()), ' ');
                ctx.console.out("\t\t" + w + p);
              }
            }
          });
        };
      });
    }
    {
      auto* sub = hook->add_subcommand("post-checkout", "Run post-checkout GIT hook.");
      sub->add_option("args", args)->expected(0, -1);
      sub->callback([&action, run_quietly] {
        action = [run_quietly](Context& ctx) {
          const char* env = std::getenv("PRE_COMMIT_CHECKOUT_TYPE");
          bool branch = (args.size() >= 3 && args[2] == "1") || (env && std::string(env) == "1");
          if (!branch) return 0;
          if (auto root = repo::Repo::find_root(ctx.cwd)) {
            (void)root;
          }
          return run_quietly(ctx, [&](repo::Repo& repo) {
            if (auto* git = repo.git(); git && platform::lstat_path(git->git_dir() + "/rebase-merge").exists()) return;
            ctx.lock(repo, ExitCode::error);
            auto r = api::checkout(repo, {});
            print_checkout_lines(ctx, r);
          });
        };
      });
    }
    {
      auto* sub = hook->add_subcommand("pre-push", "Run pre-push GIT hook.");
      sub->add_option("args", args)->expected(0, -1);
      sub->callback([&action, run_quietly] {
        action = [run_quietly](Context& ctx) {
          return run_quietly(ctx, [&](repo::Repo& repo) {
            ctx.lock(repo, ExitCode::failure);
            auto r = api::push(repo, {});
            ctx.console.out(r.transferred ? plural(static_cast<int64_t>(r.transferred), "file pushed", "files pushed")
                                          : "Everything is up to date.");
          });
        };
      });
    }
  }
  {
    auto* sub = app.add_subcommand("root", "Return the relative path to the root of the DVC project.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.console.out(platform::relative_path(repo->root(), ctx.cwd));
        return 0;
      };
    });
  }
  {
    auto* sub = app.add_subcommand("version", "Display the DVC version and system/environment information.");
    sub->alias("doctor");
    sub->callback([&action] {
      action = [](Context& ctx) {
        struct utsname u {};
        ::uname(&u);
        // The first line is what tools parse: the DVC version whose behaviour dvx provides.
        std::string text = "DVC version: 3.64.0\n-------------------\n";
        text += std::string("Platform: dvx 0.1.0 (native C++) on ") + u.sysname + "-" + u.release + "-" + u.machine + "\n";
        text += "Supports:\n\tazure,\n\tgs,\n\thttp,\n\thttps,\n\tlocal,\n\ts3,\n\tssh,\n\twebdav,\n\twebdavs";
        // Config folders as DVC names them (its global and system config locations).
        const char* xdg = std::getenv("XDG_CONFIG_HOME");
        const char* home = std::getenv("HOME");
        std::string global = xdg && *xdg ? std::string(xdg) : std::string(home ? home : "") + "/.config";
        const char* dirs = std::getenv("XDG_CONFIG_DIRS");
        std::string system = dirs && *dirs ? std::string(dirs).substr(0, std::string(dirs).find(':')) : "/etc/xdg";
        text += "\nConfig:\n\tGlobal: " + global + "/dvc\n\tSystem: " + system + "/dvc";
        auto root = repo::Repo::find_root(ctx.cwd);
        if (root) {
          try {
            auto repo = ctx.open_repo();
            std::string cache = repo->cache().root();
            if (platform::stat_path(cache).type == platform::FileType::directory) {
              // The link types that work between the cache and the workspace, tried as DVC does.
              std::string name = "." + platform::base_name(platform::temp_path_beside(cache + "/x")) + ".dvx-probe";
              std::string src = cache + "/" + name, dst = repo->root() + "/" + name;
              std::vector<std::string> types;
              if (platform::create_file(src, "", 0644)) {
                for (auto t : {platform::LinkType::reflink, platform::LinkType::hardlink, platform::LinkType::symlink}) {
                  auto r = platform::try_link(t, src, dst);
                  if (r && *r) types.push_back(platform::link_type_name(t));
                  (void)platform::remove_file(dst);
                }
                (void)platform::remove_file(src);
              }
              text += "\nCache types: " + join(types, ", ");
              text += "\nCache directory: " + filesystem_of(cache);
            } else {
              text += "\nCache types: <https://error.dvc.org/no-dvc-cache>";
            }
            text += "\nCaches: local\nRemotes: " + std::string(repo->config().remote_names().empty() ? "None" : "local");
            text += "\nWorkspace directory: " + filesystem_of(repo->root());
            // A cheap look for a Git work tree (no libgit2 start-up for `version`).
            bool git = false;
            if (!repo->config().no_scm())
              for (std::string d = repo->root(); !d.empty() && !git; d = d == "/" ? "" : platform::parent_dir(d))
                git = platform::lstat_path(d + "/.git").exists();
            text += std::string("\nRepo: dvc") + (git ? ", git" : "");
          } catch (const UserError&) {
          }
        }
        ctx.console.out(text);
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
