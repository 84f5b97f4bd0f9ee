#include "dvx/config/config.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <unordered_map>
#include <cctype>
#include <cstdlib>

#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"
#include "dvx/config/keys.h"
#include "dvx/platform/files.h"

namespace dvx::config {

namespace {

using formats::IniFile;
using formats::IniOption;
using formats::IniSection;

constexpr int kLevels = 4;

std::unexpected<Error> config_error(ErrorCode code, const std::string& what) {
  return fail(code, "config file error: " + what);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// A section name split like DVC's _parse_named: `^\s*(remote|machine|db)\s*"(.*)"\s*$`.
struct SectionName {
  std::string kind;  // "core" for plain sections, "remote"/"machine"/"db" for named ones
  std::string sub;   // name of a named section
  bool named = false;
};

SectionName split_section(const std::string& name) {
  std::string_view s = trim(name);
  for (std::string_view kind : {"remote", "machine", "db"}) {
    if (!s.starts_with(kind)) continue;
    std::string_view rest = s.substr(kind.size());
    size_t p = 0;
    while (p < rest.size() && std::isspace(static_cast<unsigned char>(rest[p]))) ++p;
    rest = rest.substr(p);
    if (rest.size() >= 2 && rest.front() == '"' && rest.back() == '"')
      return {std::string(kind), std::string(rest.substr(1, rest.size() - 2)), true};
  }
  return {name, "", false};
}

std::string named_section(std::string_view kind, std::string_view name) {
  return std::string(kind) + " \"" + std::string(name) + "\"";
}

// Python's re.match(r"\w+://", path).
bool looks_like_url(std::string_view v) {
  size_t i = 0;
  while (i < v.size() && (std::isalnum(static_cast<unsigned char>(v[i])) || v[i] == '_')) ++i;
  return i > 0 && v.substr(i).starts_with("://");
}

// os.path.expanduser.
std::string expand_user(const std::string& path) {
  if (path.empty() || path[0] != '~') return path;
  size_t slash = path.find('/');
  std::string user = path.substr(1, slash == std::string::npos ? std::string::npos : slash - 1);
  std::string home;
  if (user.empty()) {
    home = env("HOME");
    if (home.empty())
      if (const passwd* pw = getpwuid(getuid())) home = pw->pw_dir;
  } else if (const passwd* pw = getpwnam(user.c_str())) {
    home = pw->pw_dir;
  }
  if (home.empty()) return path;
  if (home.size() > 1 && home.back() == '/') home.pop_back();
  return home + (slash == std::string::npos ? "" : path.substr(slash));
}

bool is_path_key(const SectionName& sn, const std::string& key) {
  const KeyInfo* k = find_key(sn.kind, key);
  return k && k->is_path;
}

// Named remote/machine/db sections after the plain ones, as DVC's _pack_named writes them.
void order_sections_like_dvc(IniFile& ini) {
  auto rank = [](const IniSection& s) {
    SectionName sn = split_section(s.name);
    if (!sn.named) return 0;
    if (sn.kind == "remote") return 1;
    if (sn.kind == "machine") return 2;
    return 3;
  };
  std::stable_sort(ini.sections.begin(), ini.sections.end(),
                   [&](const IniSection& a, const IniSection& b) { return rank(a) < rank(b); });
}

// Canonical `remote "x"` names; a repeated named section replaces the earlier one's options.
void canonicalize(IniFile& ini) {
  std::vector<IniSection> out;
  std::unordered_map<std::string, size_t> index;  // a hostile file may have a million sections
  for (auto& s : ini.sections) {
    SectionName sn = split_section(s.name);
    if (sn.named) s.name = named_section(sn.kind, sn.sub);
    auto [it, added] = index.try_emplace(s.name, out.size());
    if (!added) {
      out[it->second].options = std::move(s.options);
    } else {
      out.push_back(std::move(s));
    }
  }
  ini.sections = std::move(out);
}

std::string data_path(const SectionName& sn) {
  if (sn.named) return "data['" + sn.kind + "']['" + sn.sub + "']";
  return "data['" + sn.kind + "']";
}

std::string python_list(const std::vector<std::string>& items) { return python_list_repr(items); }

}  // namespace

const char* level_name(Level level) {
  switch (level) {
    case Level::system: return "system";
    case Level::global: return "global";
    case Level::repo: return "repo";
    case Level::local: return "local";
  }
  return "?";
}

std::string KeyPath::section() const { return name.empty() ? kind : named_section(kind, name); }

Result<KeyPath> parse_key_path(const std::string& dotted) {
  auto bad = [] {
    return fail(ErrorCode::invalid_argument,
                "name argument should look like remote.name.option or db.name.option or section.option");
  };
  std::vector<std::string> parts = split(to_lower(dotted), '.');
  KeyPath kp;
  if (parts.size() == 3 && (parts[0] == "remote" || parts[0] == "db")) {
    kp = {parts[0], parts[1], parts[2]};
  } else if (parts.size() == 2 && !is_named_kind(parts[0])) {
    kp = {parts[0], "", parts[1]};
  } else {
    return bad();
  }
  if (kp.kind.empty() || kp.option.empty() || (parts.size() == 3 && kp.name.empty())) return bad();
  return kp;
}

Result<Config> Config::load(const std::string& dvc_dir, Validate validate) {
  Config c;
  std::string cwd = platform::current_dir();
  if (!dvc_dir.empty()) c.m_dvc_dir = platform::absolute_path(dvc_dir);

  std::string system_dir = env("DVC_SYSTEM_CONFIG_DIR");
  if (system_dir.empty()) {
    std::string dirs = env("XDG_CONFIG_DIRS");
    if (trim(dirs).empty()) dirs = "/etc/xdg";
    system_dir = expand_user(split(dirs, ':')[0]) + "/dvc";
  }
  std::string global_dir = env("DVC_GLOBAL_CONFIG_DIR");
  if (global_dir.empty()) {
    std::string home = env("XDG_CONFIG_HOME");
    if (trim(home).empty()) home = expand_user("~/.config");
    global_dir = home + "/dvc";
  }
  c.m_levels[0].path = platform::absolute_path(system_dir + "/config");
  c.m_levels[1].path = platform::absolute_path(global_dir + "/config");
  if (!c.m_dvc_dir.empty()) {
    c.m_levels[2].path = c.m_dvc_dir + "/config";
    c.m_levels[3].path = c.m_dvc_dir + "/config.local";
  }

  for (auto& lf : c.m_levels) {
    if (lf.path.empty()) continue;
    lf.display = platform::is_within(lf.path, cwd) ? platform::relative_path(lf.path, cwd) : lf.path;
    platform::FileStat st = platform::stat_path(lf.path);
    if (!st.exists()) continue;
    auto text = platform::read_file_prefix(lf.path, formats::k_parse_limits.max_bytes + 1);  // the parser refuses more
    if (!text) return std::unexpected(text.error());
    auto ini = formats::parse_ini(*text, lf.display);
    if (!ini) return std::unexpected(ini.error());
    lf.ini = std::move(*ini);
    canonicalize(lf.ini);
  }

  if (validate == Validate::yes) {
    if (auto st = c.validate_levels(kLevels - 1, nullptr, -1, &c.m_warnings); !st) return std::unexpected(st.error());
  }
  return c;
}

std::string Config::file_path(Level level) const { return m_levels[static_cast<int>(level)].path; }

const formats::IniFile& Config::file(Level level) const { return m_levels[static_cast<int>(level)].ini; }

Config::Found Config::lookup(const std::string& section, const std::string& option, int max_level) const {
  for (int l = max_level; l >= 0; --l) {
    const IniSection* s = m_levels[l].ini.find(section);
    if (!s) continue;
    if (const IniOption* o = s->find(option)) return {o, l};
  }
  return {};
}

std::string Config::resolve_path(int level, const std::string& value, bool normalize) const {
  if (looks_like_url(value)) return value;
  if (!value.empty() && value[0] == '/') return value;
  std::string expanded = expand_user(value);
  if (!expanded.empty() && expanded[0] == '/') return normalize ? platform::normalize_path(expanded) : expanded;
  std::string dir = platform::parent_dir(m_levels[level].path);
  return normalize ? platform::normalize_path(dir + "/" + value) : dir + "/" + value;
}

std::string Config::present(int level, const std::string& section, const IniOption& o, PathValues paths) const {
  if (o.is_list) return python_list(o.items);
  if (paths != PathValues::as_stored && is_path_key(split_section(section), o.key))
    return resolve_path(level, o.value, paths == PathValues::resolved);
  return o.value;
}

std::optional<std::string> Config::get(const std::string& dotted, PathValues paths) const {
  auto kp = parse_key_path(dotted);
  if (!kp) return std::nullopt;
  Found f = lookup(kp->section(), kp->option);
  if (!f.option) return std::nullopt;
  if (f.option->is_list) return f.option->value;
  return present(f.level, kp->section(), *f.option, paths);
}

std::optional<std::string> Config::get(Level level, const std::string& dotted, PathValues paths) const {
  auto kp = parse_key_path(dotted);
  if (!kp) return std::nullopt;
  int l = static_cast<int>(level);
  const IniSection* s = m_levels[l].ini.find(kp->section());
  const IniOption* o = s ? s->find(kp->option) : nullptr;
  if (!o) return std::nullopt;
  if (o->is_list) return o->value;
  return present(l, kp->section(), *o, paths);
}

Status Config::validate() const { return validate_levels(kLevels - 1, nullptr, -1, nullptr); }

Status Config::validate_levels(int max_level, const IniFile* replacement, int replaced_level,
                               std::vector<std::string>* warnings) const {
  // The merged view of levels 0..max_level, sections and options in first-seen order.
  IniFile merged;
  for (int l = 0; l <= max_level; ++l) {
    const IniFile& ini = (l == replaced_level && replacement) ? *replacement : m_levels[l].ini;
    for (const auto& s : ini.sections) {
      IniSection* m = merged.find(s.name);
      if (!m) {
        merged.sections.push_back(IniSection{s.name, {}, s.line});
        m = &merged.sections.back();
      }
      for (const auto& o : s.options) {
        if (IniOption* mo = m->find(o.key)) *mo = o;
        else m->options.push_back(o);
      }
    }
  }

  for (const auto& s : merged.sections) {
    SectionName sn = split_section(s.name);
    if (s.options.empty() && !(sn.named && sn.kind == "remote")) continue;
    const std::string where = data_path(sn);
    unsigned scheme_bit = scheme::all;
    if (sn.named && sn.kind == "remote") {
      const IniOption* url = s.find("url");
      if (!url) return config_error(ErrorCode::invalid_argument, "expected 'url' for dictionary value @ " + where);
      if (url->is_list)
        return config_error(ErrorCode::invalid_argument, "expected str for dictionary value @ " + where + "['url']");
      std::string sch;
      auto bit = remote_scheme(url->value, &sch);
      if (!bit)
        return config_error(ErrorCode::invalid_argument,
                            "Unsupported URL type " + sch + ":// for dictionary value @ " + where);
      if (*bit == 0) continue;  // remote://: any option of the referenced remote
      scheme_bit = *bit;
    } else if (!sn.named) {
      if (!is_known_section(sn.kind))
        return config_error(ErrorCode::invalid_argument, "extra keys not allowed @ " + where);
      if (is_named_kind(sn.kind))
        return config_error(ErrorCode::invalid_argument,
                            "expected a dictionary for dictionary value @ " + where + "['" + s.options[0].key + "']");
    }
    for (const auto& o : s.options) {
      const KeyInfo* key = find_key(sn.kind, o.key, scheme_bit);
      if (!key) {
        if (sn.kind == "feature") {
          if (warnings) warnings->push_back("'feature." + o.key + "' config option is unsupported");
          continue;
        }
        return config_error(ErrorCode::invalid_argument, "extra keys not allowed @ " + where + "['" + o.key + "']");
      }
      if (auto msg = check_value(*key, o))
        return config_error(ErrorCode::invalid_argument,
                            *msg + " for dictionary value @ " + where + "['" + o.key + "']");
    }
    if (sn.kind == "hydra" && s.find("config_dir") && s.find("config_module"))
      return config_error(ErrorCode::invalid_argument,
                          "two or more values in the same group of exclusion 'config_source' @ data['hydra']['config_module']");
  }
  return {};
}

Status Config::check_level_available(Level level) const {
  if (m_levels[static_cast<int>(level)].path.empty())
    return config_error(ErrorCode::invalid_argument, "Not inside a DVC repo");
  return {};
}

namespace {

std::string py_repr(const std::string& s) { return "'" + s + "'"; }

// The text `bytes` written for `ini` parses back to the same sections, keys and values.
Status check_reads_back(const IniFile& ini, const std::string& bytes, const std::string& file) {
  auto cannot = [&](const std::string& what) {
    return config_error(ErrorCode::invalid_argument,
                        what + " cannot be written to '" + file + "' so that it reads back the same" +
                            " (configobj cannot quote it); nothing was changed");
  };
  auto back = formats::parse_ini(bytes, file);
  std::vector<IniSection> expected;
  for (const auto& s : ini.sections)
    if (!s.options.empty()) expected.push_back(s);
  if (back) canonicalize(*back);
  for (size_t i = 0; i < expected.size(); ++i) {
    const IniSection& want = expected[i];
    SectionName sn = split_section(want.name);
    std::string label = sn.named ? sn.kind + " name " + py_repr(sn.sub) : "section " + py_repr(want.name);
    if (!back || i >= back->sections.size() || back->sections[i].name != want.name ||
        back->sections[i].options.size() != want.options.size()) {
      // Name the first option or section that does not survive.
      for (const auto& o : want.options) {
        IniFile one{{IniSection{want.name, {o}, 0}}};
        auto b = formats::parse_ini(formats::emit_ini(one), file);
        if (b) canonicalize(*b);
        if (!b || b->sections.size() != 1 || b->sections[0].name != want.name) return cannot(label);
        const auto& got = b->sections[0].options;
        if (got.size() != 1 || got[0].key != o.key || got[0].value != o.value)
          return cannot("value " + py_repr(o.value) + " of " + py_repr(o.key));
      }
      return cannot(label);
    }
    for (size_t k = 0; k < want.options.size(); ++k) {
      const IniOption& a = want.options[k];
      const IniOption& b = back->sections[i].options[k];
      if (a.key != b.key) return cannot("option name " + py_repr(a.key));
      if (a.is_list != b.is_list || (a.is_list ? a.items != b.items : a.value != b.value))
        return cannot("value " + py_repr(a.value) + " of " + py_repr(a.key));
    }
  }
  if (back && back->sections.size() != expected.size()) return cannot("the config");
  return {};
}

}  // namespace

Status Config::write_level(Level level, IniFile ini) {
  const int l = static_cast<int>(level);
  const std::string& path = m_levels[l].path;
  const std::string conf_dir = platform::parent_dir(path);
  std::erase_if(ini.sections, [](const IniSection& s) { return s.options.empty(); });
  order_sections_like_dvc(ini);
  // DVC resolves path options on load and makes them relative again on save, which normalises
  // every relative path of the file ("./a/../b" -> "b").
  for (auto& s : ini.sections) {
    SectionName sn = split_section(s.name);
    for (auto& o : s.options) {
      if (o.is_list || !is_path_key(sn, o.key)) continue;
      if (looks_like_url(o.value) || expand_user(o.value) != o.value) continue;
      if (!o.value.empty() && o.value[0] == '/') continue;
      o.value = platform::relative_path(platform::normalize_path(conf_dir + "/" + o.value), conf_dir);
    }
  }
  std::string bytes = formats::emit_ini(ini);
  if (bytes.empty()) bytes = "\n";  // configobj writes a lone newline for a config without sections
  // Some names and values cannot be quoted by configobj (a newline in a name, both quote kinds
  // and both triple quotes, ...): written, they would read back differently or break the file.
  // Refuse them, writing nothing, rather than corrupt the config.
  if (auto st = check_reads_back(ini, bytes, m_levels[l].display.empty() ? path : m_levels[l].display); !st)
    return st;

  if (auto st = platform::make_dirs(conf_dir); !st) return st;
  platform::FileStat existing = platform::stat_path(path);
  uint32_t mode = existing.exists() ? existing.mode : (0666 & ~platform::current_umask());
  if (auto st = platform::write_file_atomic(path, bytes, mode); !st) return st;
  m_levels[l].ini = std::move(ini);
  return {};
}

Status Config::set(Level level, const std::string& dotted, const std::string& value) {
  if (auto st = check_level_available(level); !st) return st;
  auto kp = parse_key_path(dotted);
  if (!kp) return std::unexpected(kp.error());
  const int l = static_cast<int>(level);
  IniFile edited = m_levels[l].ini;
  IniSection* sec = edited.find(kp->section());
  if (!sec) {
    edited.sections.push_back(IniSection{kp->section(), {}, 0});
    sec = &edited.sections.back();
  }
  if (IniOption* o = sec->find(kp->option)) {
    o->value = value;
    o->is_list = false;
    o->items.clear();
  } else {
    sec->options.push_back(IniOption{kp->option, value, 0, false, {}});
  }
  if (auto st = validate_levels(l, &edited, l, nullptr); !st) return st;
  return write_level(level, std::move(edited));
}

Status Config::unset(Level level, const std::string& dotted) {
  if (auto st = check_level_available(level); !st) return st;
  auto kp = parse_key_path(dotted);
  if (!kp) return std::unexpected(kp.error());
  const int l = static_cast<int>(level);
  IniFile edited = m_levels[l].ini;
  IniSection* sec = edited.find(kp->section());
  const std::string what = kp->name.empty() ? "section '" + kp->kind + "'" : kp->kind + " '" + kp->name + "'";
  // DVC pre-creates every plain section of its schema, so only unknown sections and remotes
  // can be missing.
  if (!sec && (!kp->name.empty() || !is_known_section(kp->kind)))
    return config_error(ErrorCode::not_found, what + " doesn't exist");
  if (!sec || !sec->find(kp->option))
    return config_error(ErrorCode::not_found, "option '" + kp->option + "' doesn't exist in " + what);
  std::erase_if(sec->options, [&](const IniOption& o) { return o.key == kp->option; });
  if (auto st = validate_levels(l, &edited, l, nullptr); !st) return st;
  return write_level(level, std::move(edited));
}

Status Config::remove_remote(Level level, const std::string& name) {
  if (auto st = check_level_available(level); !st) return st;
  const int l = static_cast<int>(level);
  const std::string section = named_section("remote", to_lower(name));
  IniFile edited = m_levels[l].ini;
  if (!edited.find(section)) return config_error(ErrorCode::not_found, "remote '" + to_lower(name) + "' doesn't exist");
  std::erase_if(edited.sections, [&](const IniSection& s) { return s.name == section; });
  if (auto st = validate_levels(l, &edited, l, nullptr); !st) return st;
  return write_level(level, std::move(edited));
}

Status Config::rename_remote(Level level, const std::string& from, const std::string& to) {
  if (auto st = check_level_available(level); !st) return st;
  const int l = static_cast<int>(level);
  const std::string from_section = named_section("remote", to_lower(from));
  const std::string to_section = named_section("remote", to_lower(to));
  IniFile edited = m_levels[l].ini;
  IniSection* sec = edited.find(from_section);
  if (!sec) return config_error(ErrorCode::not_found, "remote '" + to_lower(from) + "' doesn't exist");
  if (edited.find(to_section))
    return config_error(ErrorCode::conflict, "remote '" + to_lower(to) + "' already exists");
  IniSection moved = std::move(*sec);
  moved.name = to_section;
  std::erase_if(edited.sections, [&](const IniSection& s) { return s.name == from_section; });
  edited.sections.push_back(std::move(moved));
  if (auto st = validate_levels(l, &edited, l, nullptr); !st) return st;
  return write_level(level, std::move(edited));
}

std::vector<std::pair<std::string, std::string>> Config::list(std::optional<Level> level, PathValues paths) const {
  std::vector<std::pair<std::string, std::string>> out;
  for (int l = 0; l < kLevels; ++l) {
    if (level && static_cast<int>(*level) != l) continue;
    if (m_levels[l].path.empty()) continue;
    // DVC's loaded dict: {"remote": {...}, "machine": {...}, "db": {...}, <plain sections>}.
    for (int pass = 0; pass < 4; ++pass) {
      for (const auto& s : m_levels[l].ini.sections) {
        SectionName sn = split_section(s.name);
        int rank = !sn.named ? 3 : sn.kind == "remote" ? 0 : sn.kind == "machine" ? 1 : 2;
        if (rank != pass) continue;
        std::string prefix = sn.named ? sn.kind + "." + sn.sub + "." : sn.kind + ".";
        for (const auto& o : s.options) out.emplace_back(prefix + o.key, present(l, s.name, o, paths));
      }
    }
  }
  return out;
}

std::vector<std::string> Config::remote_names() const {
  std::vector<std::string> out;
  for (int l = 0; l < kLevels; ++l) {
    for (const auto& n : remote_names(static_cast<Level>(l)))
      if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  return out;
}

std::vector<std::string> Config::remote_names(Level level) const {
  std::vector<std::string> out;
  for (const auto& s : m_levels[static_cast<int>(level)].ini.sections) {
    SectionName sn = split_section(s.name);
    if (sn.named && sn.kind == "remote") out.push_back(sn.sub);
  }
  return out;
}

Result<std::string> Config::path_for_storage(Level level, const std::string& value, const std::string& cwd) const {
  if (auto st = check_level_available(level); !st) return std::unexpected(st.error());
  if (looks_like_url(value) || expand_user(value) != value) return value;
  if (!value.empty() && value[0] == '/') return value;
  const std::string conf_dir = platform::parent_dir(m_levels[static_cast<int>(level)].path);
  return platform::relative_path(platform::absolute_path(value, cwd), conf_dir);
}

std::string Config::cache_dir() const {
  Found f = lookup("cache", "dir");
  if (f.option && !f.option->is_list) return resolve_path(f.level, f.option->value);
  return m_dvc_dir.empty() ? std::string() : m_dvc_dir + "/cache";
}

std::vector<std::string> Config::cache_types() const {
  Found f = lookup("cache", "type");
  std::vector<std::string> out;
  if (f.option) {
    for (auto& t : cache_type_list(*f.option))
      if (platform::parse_link_type(t)) out.push_back(t);
  }
  if (out.empty()) out = {"reflink", "copy"};
  return out;
}

bool Config::cache_shared_group() const {
  Found f = lookup("cache", "shared");
  return f.option && !f.option->is_list && to_lower(f.option->value) == "group";
}

namespace {
bool bool_or(const formats::IniOption* o, bool dflt) {
  if (!o || o->is_list) return dflt;
  return parse_bool(o->value).value_or(dflt);
}
}  // namespace

bool Config::cache_verify() const { return bool_or(lookup("cache", "verify").option, false); }

bool Config::remote_verify(const std::string& name) const {
  auto v = remote_option(name, "verify");
  return v ? parse_bool(*v).value_or(true) : true;
}
bool Config::autostage() const { return bool_or(lookup("core", "autostage").option, false); }
// Off by default: power-loss durability costs ~1.4x on a 100k-file add (README, "Durability").
bool Config::fsync() const { return bool_or(lookup("core", "fsync").option, false); }
bool Config::no_scm() const { return bool_or(lookup("core", "no_scm").option, false); }
bool Config::analytics() const { return bool_or(lookup("core", "analytics").option, true); }

unsigned Config::checksum_jobs() const {
  Found f = lookup("core", "checksum_jobs");
  if (f.option && !f.option->is_list) {
    if (auto n = parse_int(f.option->value); n && *n >= 1) return static_cast<unsigned>(*n);
  }
  return std::max(1u, std::min(4u, hardware_threads() / 2));
}

std::optional<std::string> Config::default_remote() const {
  Found f = lookup("core", "remote");
  if (!f.option || f.option->is_list) return std::nullopt;
  return to_lower(f.option->value);
}

Result<std::string> Config::remote_url(const std::string& name) const { return remote_url_depth(name, 0); }

Result<std::string> Config::remote_url_depth(const std::string& raw_name, int depth) const {
  const std::string name = to_lower(raw_name);
  const std::string section = named_section("remote", name);
  bool exists = false;
  for (const auto& lf : m_levels)
    if (lf.ini.find(section)) exists = true;
  if (!exists) return config_error(ErrorCode::not_found, "remote '" + name + "' doesn't exist");
  if (depth > 16) return config_error(ErrorCode::invalid_argument, "remote '" + name + "' refers to itself");
  Found f = lookup(section, "url");
  if (!f.option || f.option->is_list)
    return config_error(ErrorCode::invalid_argument, "expected 'url' for dictionary value @ data['remote']['" + name + "']");
  const std::string& url = f.option->value;
  if (to_lower(url).starts_with("remote://")) {
    std::string rest = url.substr(9);
    size_t slash = rest.find('/');
    std::string base_name = rest.substr(0, slash);
    std::string sub = slash == std::string::npos ? "" : rest.substr(slash);
    while (!sub.empty() && sub[0] == '/') sub.erase(0, 1);
    auto base = remote_url_depth(base_name, depth + 1);
    if (!base) return base;
    if (sub.empty()) return *base;
    return (base->ends_with("/") ? *base : *base + "/") + sub;
  }
  return resolve_path(f.level, url);
}

std::optional<std::string> Config::remote_option(const std::string& raw_name, const std::string& raw_opt) const {
  std::string name = to_lower(raw_name);
  const std::string opt = to_lower(raw_opt);
  for (int depth = 0; depth < 16; ++depth) {
    const std::string section = named_section("remote", name);
    Found f = lookup(section, opt);
    if (f.option) {
      if (opt == "url") {
        auto url = remote_url(name);
        if (url) return *url;
      }
      return present(f.level, section, *f.option, PathValues::resolved);
    }
    Found u = lookup(section, "url");
    if (!u.option || u.option->is_list || !to_lower(u.option->value).starts_with("remote://")) return std::nullopt;
    std::string rest = u.option->value.substr(9);
    name = to_lower(rest.substr(0, rest.find('/')));
  }
  return std::nullopt;
}

std::map<std::string, std::string> Config::remote_options(const std::string& raw_name) const {
  std::map<std::string, std::string> out;
  std::string name = to_lower(raw_name);
  std::vector<std::string> keys;
  for (int depth = 0; depth < 16; ++depth) {  // this remote, then the bases of remote:// URLs
    const std::string section = named_section("remote", name);
    for (const auto& lf : m_levels)
      if (auto* sec = lf.ini.find(section))
        for (auto& o : sec->options)
          if (o.key != "url") keys.push_back(o.key);
    Found u = lookup(section, "url");
    if (!u.option || u.option->is_list || !to_lower(u.option->value).starts_with("remote://")) break;
    std::string rest = u.option->value.substr(9);
    name = to_lower(rest.substr(0, rest.find('/')));
  }
  for (auto& k : keys)
    if (!out.count(k))
      if (auto v = remote_option(raw_name, k)) out[k] = *v;
  return out;
}

}  // namespace dvx::config
