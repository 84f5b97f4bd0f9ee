// DVC's configuration: the four config files (system, global, repo, local), their merged view,
// validation against the key table (keys.h), edits that rewrite one file the way DVC does, and
// typed accessors with paths resolved (formats.md §9, §4.4).
//
// Errors: every failure that DVC reports as a ConfigError (exit code 251) comes back as
// ErrorCode::invalid_argument (syntax, unknown key, bad value, bad name) or
// ErrorCode::not_found (unset of an absent option, unknown remote); the message starts with
// "config file error: " like DVC's, and the CLI prints "ERROR: configuration error - <message>".
// File system failures are ErrorCode::io.
//
// Thread-safety: a Config is a value; const methods may run concurrently, edits need exclusive
// access. Edits of the same file by two processes are last-writer-wins (like DVC).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/ini.h"

namespace dvx::config {

// In the order they shadow each other: later levels win.
enum class Level { system, global, repo, local };
const char* level_name(Level level);  // "system", "global", "repo", "local"

enum class Validate { yes, no };

// How path-valued options (cache.dir, remote url, keyfile, ...) are returned by get()/list().
enum class PathValues {
  as_stored,  // the text in the file ("../../remote")
  resolved,   // absolute, relative to the file's directory; `~` expanded; URLs untouched. DVC's
              // `config` command prints this form (its loader resolves paths before printing).
  joined,     // the file's directory joined with a relative path, not normalized, exactly as
              // DVC's loader (os.path.join(abs_conf_dir, path)) gives it: `remote list` prints
              // `/repo/.dvc/../../remote`
};

// A parsed `dvc config` name: "section.option" or "remote.<name>.option" / "db.<name>.option".
struct KeyPath {
  std::string kind;    // "core", "cache", ..., "remote", "db"
  std::string name;    // the remote/db name, empty for plain sections
  std::string option;  // lower-cased
  std::string section() const;  // INI section name: `core` or `remote "name"`
};
// Lower-cases and splits; error (invalid_argument): "name argument should look like
// remote.name.option or db.name.option or section.option" (DVC: argparse error, exit 254).
Result<KeyPath> parse_key_path(const std::string& dotted);

class Config {
 public:
  // Loads all levels (missing files are empty). dvc_dir = "<root>/.dvc" or empty outside a
  // repo (then only system/global). With Validate::yes the merged view is checked like DVC's
  // loader does (`dvc config` itself loads with Validate::no so that a broken file can be fixed).
  // Global/system files: $DVC_GLOBAL_CONFIG_DIR or $XDG_CONFIG_HOME/dvc or ~/.config/dvc;
  // $DVC_SYSTEM_CONFIG_DIR or the first of $XDG_CONFIG_DIRS + /dvc (default /etc/xdg/dvc).
  static Result<Config> load(const std::string& dvc_dir, Validate validate = Validate::yes);

  // Merged value (local > repo > global > system), or nullopt. For a configobj list the raw
  // text ("reflink, copy"). Names as in `dvc config`: "core.remote", "remote.<name>.url".
  std::optional<std::string> get(const std::string& dotted, PathValues paths = PathValues::as_stored) const;
  std::optional<std::string> get(Level level, const std::string& dotted,
                                 PathValues paths = PathValues::as_stored) const;

  // Sets one option in the level's file: validates the name against the key table ("extra
  // keys not allowed @ data['core']['nonexist']") and the value, then the merged view of the
  // levels up to this one (as DVC does), then rewrites the file atomically in DVC's layout:
  // file order kept, new options appended, comments dropped. The value is stored as given
  // (use path_for_storage first for path options typed relative to the CWD).
  Status set(Level level, const std::string& dotted, const std::string& value);
  // Removes one option; not_found "config file error: section 'core' doesn't exist" /
  // "option 'x' doesn't exist in section 'core'" / "remote 'x' doesn't exist" like DVC.
  Status unset(Level level, const std::string& dotted);

  // Deletes the remote's section from the level (not_found when absent). Leaves core.remote.
  Status remove_remote(Level level, const std::string& name);
  // Renames the remote's section in the level (moved to the end of the remotes, like DVC).
  // Leaves core.remote alone. Errors: not_found when absent, conflict when `to` exists there.
  Status rename_remote(Level level, const std::string& from, const std::string& to);

  // "section.option=value" lines of one level, or of every level in precedence order
  // (system, global, repo, local) when nullopt, each level in DVC's order: named remote
  // sections first (remote.<name>.<opt>), then machine, db, then the plain sections, options
  // in file order. Lists are shown as Python lists (['reflink', 'copy']).
  std::vector<std::pair<std::string, std::string>> list(std::optional<Level> level,
                                                        PathValues paths = PathValues::resolved) const;

  // Remote names of the merged view in order of first definition; or of one level.
  std::vector<std::string> remote_names() const;
  std::vector<std::string> remote_names(Level level) const;

  // The level's file; "" for repo/local outside a repo.
  std::string file_path(Level level) const;
  // Parsed content of one level (canonical section names), for tooling.
  const formats::IniFile& file(Level level) const;

  // Validates the merged view of all levels.
  Status validate() const;
  // Warnings found while validating (e.g. "'feature.x' config option is unsupported").
  const std::vector<std::string>& warnings() const { return m_warnings; }

  // A value typed relative to `cwd` made ready for storing at `level`: relative paths become
  // relative to the file's directory (`../remote` typed in <root> is stored as `../../remote`
  // in .dvc/config); absolute paths, `~` paths and URLs are kept as typed.
  Result<std::string> path_for_storage(Level level, const std::string& value_as_typed,
                                       const std::string& cwd) const;

  // Resolved typed accessors (the merged view; invalid values fall back to defaults when the
  // config was loaded without validation).
  std::string cache_dir() const;                 // absolute; default <dvc_dir>/cache ("" outside a repo)
  std::vector<std::string> cache_types() const;  // default {"reflink", "copy"}
  bool cache_shared_group() const;               // cache.shared = group
  bool cache_verify() const;
  bool autostage() const;
  // dvx only (DVC 3 refuses a config naming it): write data out before publishing it, with one
  // syncfs per command (platform/durable.h). DVX_FSYNC=0 turns it off without touching the config.
  bool fsync() const;
  bool no_scm() const;
  bool analytics() const;
  unsigned checksum_jobs() const;                // default max(1, min(4, cpus / 2))
  std::optional<std::string> default_remote() const;  // core.remote, lower-cased

  // A remote's url resolved: local paths absolute relative to the directory of the file that
  // defined them, `~` expanded, URLs untouched, remote://<base>/<sub> joined onto the base
  // remote's url. not_found "config file error: remote 'x' doesn't exist".
  Result<std::string> remote_url(const std::string& name) const;
  // A remote's option from the merged view (path options resolved); options missing on a
  // remote:// remote are taken from its base remote, like DVC.
  std::optional<std::string> remote_option(const std::string& name, const std::string& opt) const;
  // Every option of a remote but `url` (as remote_option gives them; lists as their text): what
  // a backend is opened with (credentials, endpoint, …).
  std::map<std::string, std::string> remote_options(const std::string& name) const;
  // Whether objects downloaded from the remote are re-hashed: dvx verifies unless the remote
  // says `verify = false` (DVC's option; DVC itself defaults to not verifying).
  bool remote_verify(const std::string& name) const;

  const std::string& dvc_dir() const { return m_dvc_dir; }

 private:
  struct LevelFile {
    std::string path;     // absolute; "" when the level is unavailable
    std::string display;  // for messages: relative to the CWD when below it
    formats::IniFile ini;
  };

  struct Found {
    const formats::IniOption* option = nullptr;
    int level = -1;
  };

  Found lookup(const std::string& section, const std::string& option, int max_level = 3) const;
  // normalize = false: DVC's loader form, the directory joined as is (`/r/.dvc/../../remote`).
  std::string resolve_path(int level, const std::string& value, bool normalize = true) const;
  std::string present(int level, const std::string& section, const formats::IniOption& o, PathValues paths) const;
  Status validate_levels(int max_level, const formats::IniFile* replacement, int replaced_level,
                         std::vector<std::string>* warnings) const;
  Status check_level_available(Level level) const;
  Status write_level(Level level, formats::IniFile ini);
  Result<std::string> remote_url_depth(const std::string& name, int depth) const;

  std::string m_dvc_dir;
  LevelFile m_levels[4];
  std::vector<std::string> m_warnings;
};

}  // namespace dvx::config
