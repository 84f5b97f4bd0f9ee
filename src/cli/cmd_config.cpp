// Commands that edit configuration: config, remote add/default/modify/list/remove/rename,
// cache dir. They don't take the repository lock (like DVC).
#include <algorithm>

#include "app.h"
#include "dvx/base/strings.h"
#include "dvx/config/config.h"
#include "dvx/platform/files.h"

namespace dvx::cli {

namespace {

struct LevelFlags {
  bool global = false, system = false, project = false, local = false;
  std::optional<config::Level> level() const {
    if (global) return config::Level::global;
    if (system) return config::Level::system;
    if (local) return config::Level::local;
    if (project) return config::Level::repo;
    return std::nullopt;
  }
};

void add_level_flags(CLI::App* sub, LevelFlags& f) {
  auto* g = sub->add_flag("--global", f.global, "Use global config.");
  auto* s = sub->add_flag("--system", f.system, "Use system config.");
  auto* p = sub->add_flag("--project", f.project, "Use project config (.dvc/config).");
  auto* l = sub->add_flag("--local", f.local, "Use local config (.dvc/config.local).");
  g->excludes(s)->excludes(p)->excludes(l);
  s->excludes(p)->excludes(l);
  p->excludes(l);
}

[[noreturn]] void config_error(const Error& e) {
  std::string m = e.message;
  if (!m.starts_with("config file error")) m = "config file error: " + m;
  throw UserError("configuration error - " + m, ExitCode::config);
}

void check(const Status& s) {
  if (!s) config_error(s.error());
}

// dvc_dir of the current project, or "" outside one (global/system levels still work).
std::string find_dvc_dir(Context& ctx, bool need_repo) {
  auto root = repo::Repo::find_root(ctx.cwd);
  if (!root) {
    if (need_repo) throw UserError("configuration error - config file error: Not inside a DVC repo", ExitCode::config);
    return "";
  }
  return *root + "/.dvc";
}

config::Config load(Context& ctx, bool need_repo, config::Validate validate = config::Validate::no) {
  auto c = config::Config::load(find_dvc_dir(ctx, need_repo), validate);
  if (!c) config_error(c.error());
  return std::move(*c);
}

}  // namespace

void register_config_commands(CLI::App& app, Action& action) {
  // ---- config
  {
    static LevelFlags lv;
    static bool unset = false, list = false, show_origin = false;
    static std::string name, value;
    auto* sub = app.add_subcommand("config", "Get or set config options.");
    add_level_flags(sub, lv);
    sub->add_flag("-u,--unset", unset, "Unset option.");
    sub->add_option("name", name, "Option name (section.option or remote.name.option).");
    sub->add_option("value", value, "Option value.");
    sub->add_flag("-l,--list", list, "List all defined config values.");
    sub->add_flag("--show-origin", show_origin, "Show the source file containing each config value.");
    sub->callback([&action, sub] {
      bool has_value = sub->count("value") > 0;
      bool has_name = sub->count("name") > 0;
      action = [has_value, has_name](Context& ctx) {
        auto level = lv.level();
        bool repo_level = !level || *level == config::Level::repo || *level == config::Level::local;
        if (list) {
          if (has_name || has_value) throw UserError("-l/--list can't be used together with any of these options: name, value", ExitCode::bad_arguments);
          auto cfg = load(ctx, level && repo_level);
          std::vector<config::Level> levels;
          if (level) levels = {*level};
          else levels = {config::Level::system, config::Level::global, config::Level::repo, config::Level::local};
          for (auto l : levels) {
            std::string origin = cfg.file_path(l);
            if (origin.empty()) continue;
            origin = platform::relative_path(origin, ctx.cwd);
            for (auto& [k, v] : cfg.list(l)) ctx.console.out((show_origin ? origin + "\t" : "") + k + "=" + v);
          }
          return 0;
        }
        if (!has_name) throw UserError("name argument is required", ExitCode::bad_arguments);
        auto key = config::parse_key_path(name);
        if (!key) throw UserError(key.error().message, ExitCode::bad_arguments);
        auto cfg = load(ctx, level ? repo_level : false);
        if (unset) {
          check(cfg.unset(level.value_or(config::Level::repo), name));
          return 0;
        }
        if (!has_value) {
          auto v = level ? cfg.get(*level, name, config::PathValues::resolved) : cfg.get(name, config::PathValues::resolved);
          if (!v) {
            if (!level) return 0;  // the merged view prints nothing for an unset option
            throw UserError("configuration error - config file error: option '" + key->option +
                                "' doesn't exist in section '" + key->section() + "'",
                            ExitCode::config);
          }
          std::string prefix;
          if (show_origin) {
            for (auto l : {config::Level::local, config::Level::repo, config::Level::global, config::Level::system})
              if ((!level || *level == l) && cfg.get(l, name)) {
                prefix = platform::relative_path(cfg.file_path(l), ctx.cwd) + "\t";
                break;
              }
          }
          ctx.console.out(prefix + *v);
          return 0;
        }
        auto lvl = level.value_or(config::Level::repo);
        if ((lvl == config::Level::repo || lvl == config::Level::local) && cfg.dvc_dir().empty())
          throw UserError("configuration error - config file error: Not inside a DVC repo", ExitCode::config);
        auto stored = cfg.path_for_storage(lvl, value, ctx.cwd);
        static const char* path_options[] = {"dir", "url", "keyfile", "credentialpath", "configpath", "cert_path",
                                             "key_path", "gdrive_user_credentials_file",
                                             "gdrive_service_account_json_file_path", "startup_script", "setup_script"};
        bool is_path = std::find(std::begin(path_options), std::end(path_options), key->option) != std::end(path_options);
        if (key->kind == "core") is_path = false;
        check(cfg.set(lvl, name, is_path && stored ? *stored : value));
        return 0;
      };
    });
  }
  // ---- remote
  auto* remote = app.add_subcommand("remote", "Set up and manage data remotes.");
  remote->require_subcommand(1);
  {
    static LevelFlags lv;
    static std::string name, url;
    static bool make_default = false, force = false;
    auto* sub = remote->add_subcommand("add", "Add a new data remote.");
    add_level_flags(sub, lv);
    sub->add_option("name", name, "Name of the remote")->required();
    sub->add_option("url", url, "Remote location.")->required();
    sub->add_flag("-d,--default", make_default, "Set as default remote.");
    sub->add_flag("-f,--force", force, "Force overwriting existing configs");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto lvl = lv.level().value_or(config::Level::repo);
        auto cfg = load(ctx, lvl == config::Level::repo || lvl == config::Level::local);
        std::string n = to_lower(name);
        auto names = cfg.remote_names(lvl);
        if (std::find(names.begin(), names.end(), n) != names.end()) {
          if (!force)
            throw UserError("configuration error - config file error: remote '" + name +
                                "' already exists. Use `-f|--force` to overwrite it.",
                            ExitCode::config);
          check(cfg.remove_remote(lvl, n));
        }
        auto stored = cfg.path_for_storage(lvl, url, ctx.cwd);
        if (!stored) config_error(stored.error());
        check(cfg.set(lvl, "remote." + n + ".url", *stored));
        if (make_default) {
          ctx.console.out("Setting '" + n + "' as a default remote.");
          check(cfg.set(lvl, "core.remote", n));
        }
        return 0;
      };
    });
  }
  {
    static LevelFlags lv;
    static std::string name;
    static bool unset = false;
    auto* sub = remote->add_subcommand("default", "Set/unset the default data remote.");
    add_level_flags(sub, lv);
    sub->add_option("name", name, "Name of the remote");
    sub->add_flag("-u,--unset", unset, "Unset default remote.");
    sub->callback([&action, sub] {
      bool has_name = sub->count("name") > 0;
      action = [has_name](Context& ctx) {
        auto level = lv.level();
        auto lvl = level.value_or(config::Level::repo);
        auto cfg = load(ctx, !level || lvl == config::Level::repo || lvl == config::Level::local);
        if (unset) {
          check(cfg.unset(lvl, "core.remote"));
          return 0;
        }
        if (!has_name) {
          auto v = level ? cfg.get(*level, "core.remote") : cfg.get("core.remote");
          if (!v) {
            ctx.console.out("No default remote set");
            return 1;
          }
          ctx.console.out(*v);
          return 0;
        }
        auto names = cfg.remote_names();
        std::string n = to_lower(name);
        if (std::find(names.begin(), names.end(), n) == names.end())
          throw UserError("configuration error - config file error: default remote must be present in remote list.",
                          ExitCode::config);
        check(cfg.set(lvl, "core.remote", n));
        return 0;
      };
    });
  }
  {
    static LevelFlags lv;
    static std::string name, option, value;
    static bool unset = false;
    auto* sub = remote->add_subcommand("modify", "Modify the configuration of a data remote.");
    add_level_flags(sub, lv);
    sub->add_option("name", name, "Name of the remote")->required();
    sub->add_option("option", option, "Name of the option to modify.")->required();
    sub->add_option("value", value, "(optional) Value of the option.");
    sub->add_flag("-u,--unset", unset, "Unset option.");
    sub->callback([&action, sub] {
      bool has_value = sub->count("value") > 0;
      action = [has_value](Context& ctx) {
        auto lvl = lv.level().value_or(config::Level::repo);
        auto cfg = load(ctx, lvl == config::Level::repo || lvl == config::Level::local);
        std::string n = to_lower(name);
        auto names = cfg.remote_names();
        if (std::find(names.begin(), names.end(), n) == names.end())
          throw UserError("configuration error - config file error: remote '" + name + "' doesn't exist.",
                          ExitCode::config);
        std::string key = "remote." + n + "." + to_lower(option);
        if (unset) {
          check(cfg.unset(lvl, key));
          return 0;
        }
        if (!has_value) throw UserError("value argument is required (or use --unset)", ExitCode::bad_arguments);
        std::string v = value;
        std::string o = to_lower(option);
        if (o == "url" || o == "keyfile" || o == "credentialpath" || o == "configpath" || o == "cert_path" || o == "key_path") {
          auto stored = cfg.path_for_storage(lvl, value, ctx.cwd);
          if (stored) v = *stored;
        }
        check(cfg.set(lvl, key, v));
        return 0;
      };
    });
  }
  {
    static LevelFlags lv;
    auto* sub = remote->add_subcommand("list", "List all available data remotes.");
    add_level_flags(sub, lv);
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto level = lv.level();
        auto cfg = load(ctx, false);
        auto names = level ? cfg.remote_names(*level) : cfg.remote_names();
        auto def = level ? cfg.get(*level, "core.remote") : cfg.get("core.remote");
        for (auto& n : names) {
          // DVC prints the url as its loader resolved it: a local path joined to the config
          // file's folder, not normalized.
          auto url = level ? cfg.get(*level, "remote." + n + ".url", config::PathValues::joined)
                           : cfg.get("remote." + n + ".url", config::PathValues::joined);
          ctx.console.out(expand_tabs(n + "\t" + url.value_or("") + (def && to_lower(*def) == n ? "\t(default)" : "")));
        }
        return 0;
      };
    });
  }
  {
    static LevelFlags lv;
    static std::string name;
    auto* sub = remote->add_subcommand("remove", "Remove a data remote.");
    add_level_flags(sub, lv);
    sub->add_option("name", name, "Name of the remote to remove.")->required();
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto lvl = lv.level().value_or(config::Level::repo);
        auto cfg = load(ctx, lvl == config::Level::repo || lvl == config::Level::local);
        std::string n = to_lower(name);
        if (auto r = cfg.remove_remote(lvl, n); !r)
          throw UserError("configuration error - config file error: remote '" + name + "' doesn't exist.", ExitCode::config);
        for (auto l : {config::Level::system, config::Level::global, config::Level::repo, config::Level::local}) {
          auto d = cfg.get(l, "core.remote");
          if (d && to_lower(*d) == n) check(cfg.unset(l, "core.remote"));
        }
        return 0;
      };
    });
  }
  {
    static LevelFlags lv;
    static std::string name, new_name;
    auto* sub = remote->add_subcommand("rename", "Rename a DVC remote");
    add_level_flags(sub, lv);
    sub->add_option("name", name, "Remote to be renamed")->required();
    sub->add_option("new", new_name, "New name of the remote")->required();
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto lvl = lv.level().value_or(config::Level::repo);
        auto cfg = load(ctx, lvl == config::Level::repo || lvl == config::Level::local);
        std::string from = to_lower(name), to = to_lower(new_name);
        auto existing = cfg.remote_names(lvl);
        if (std::find(existing.begin(), existing.end(), to) != existing.end())
          throw UserError("configuration error - config file error: Rename failed. Remote name '" + new_name +
                              "' already exists.",
                          ExitCode::config);
        check(cfg.rename_remote(lvl, from, to));
        for (auto l : {config::Level::system, config::Level::global, config::Level::repo, config::Level::local}) {
          auto d = cfg.get(l, "core.remote");
          if (d && to_lower(*d) == from) check(cfg.set(l, "core.remote", to));
        }
        return 0;
      };
    });
  }
  // ---- cache dir / migrate
  auto* cache = app.add_subcommand("cache", "Manage cache settings.");
  cache->require_subcommand(1);
  {
    static LevelFlags lv;
    static bool unset = false;
    static std::string value;
    auto* sub = cache->add_subcommand("dir", "Configure cache directory location.");
    add_level_flags(sub, lv);
    sub->add_flag("-u,--unset", unset, "Unset option.");
    sub->add_option("value", value, "Path to cache directory.");
    sub->callback([&action, sub] {
      bool has_value = sub->count("value") > 0;
      action = [has_value](Context& ctx) {
        auto level = lv.level();
        auto lvl = level.value_or(config::Level::repo);
        auto cfg = load(ctx, true);
        if (unset) {
          check(cfg.unset(lvl, "cache.dir"));
          return 0;
        }
        if (!has_value) {
          ctx.console.out(cfg.cache_dir());
          return 0;
        }
        auto stored = cfg.path_for_storage(lvl, value, ctx.cwd);
        if (!stored) config_error(stored.error());
        check(cfg.set(lvl, "cache.dir", *stored));
        return 0;
      };
    });
  }
  {
    static bool dvc_files = false, dry = false;
    auto* sub = cache->add_subcommand("migrate", "Migrate cached files to the DVC 3.0 cache location.");
    sub->add_flag("--dvc-files", dvc_files, "Migrate entries in all existing DVC files in the repository to the DVC 3.0 format.");
    sub->add_flag("--dry", dry, "Only print actions which would be taken without actually migrating any data.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        for (auto& l : api::cache_migrate(*repo, dvc_files, dry)) ctx.console.out(l);
        ctx.git_hint(*repo);
        return 0;
      };
    });
  }
  register_cache_verify(*cache, action);  // cmd_fsck.cpp
}

}  // namespace dvx::cli
