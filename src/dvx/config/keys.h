// The one table of DVC config keys (formats.md §9.3, §4.4): name, value type, default and doc
// for every section, including each remote URL scheme's options; and the checks of single
// values, with DVC's (voluptuous) wording.
// Thread-safety: immutable static data and pure functions.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dvx/formats/ini.h"

namespace dvx::config {

enum class ValueType {
  string,          // any single string
  lower,           // any string, compared lower-cased (core.remote, core.machine)
  boolean,         // true/false, case-insensitive
  positive_int,    // integer >= 1
  integer,         // any integer
  percent,         // integer 0..100
  non_negative_number,  // float >= 0
  number,          // any float
  cache_types,     // list (or comma separated string) of reflink/hardlink/symlink/copy
  choice,          // one of KeyInfo::choices, case-insensitive
  bool_or_string,  // ssl_verify: true/false or a CA bundle path
};

// URL schemes of remotes, as bits, for the keys a scheme accepts.
namespace scheme {
inline constexpr unsigned local = 1u << 0, s3 = 1u << 1, gs = 1u << 2, ssh = 1u << 3, hdfs = 1u << 4,
                          webhdfs = 1u << 5, azure = 1u << 6, oss = 1u << 7, gdrive = 1u << 8,
                          http = 1u << 9, webdav = 1u << 10, all = (1u << 11) - 1;
}

struct KeyInfo {
  std::string_view section;        // "core", "cache", ...; "remote"/"machine"/"db" for named sections
  std::string_view name;           // option name
  ValueType type = ValueType::string;
  std::string_view default_value;  // "" when DVC has none
  std::string_view doc;
  unsigned schemes = 0;            // remote options: the schemes accepting the key
  std::string_view choices;        // ValueType::choice: "a, b"
  bool is_path = false;            // stored relative to the config file's directory
};

// Every known key, in DVC's schema order.
std::span<const KeyInfo> key_table();

// The sections DVC knows, plain ones ("core", "cache", ...) and named kinds ("remote", ...).
bool is_known_section(std::string_view section);
bool is_named_kind(std::string_view kind);  // remote, machine, db

// The bit of a remote URL's scheme (scheme::local for paths and URLs without a host), or
// nullopt when DVC does not support it; `remote://` gives 0 (it accepts any option).
// `scheme_name` receives the scheme as parsed (lower-cased) for messages.
std::optional<unsigned> remote_scheme(std::string_view url, std::string* scheme_name = nullptr);

// The key for section/name; for remote options `scheme_bit` selects the scheme's key.
const KeyInfo* find_key(std::string_view section, std::string_view name, unsigned scheme_bit = scheme::all);

// Checks one value; the voluptuous message on failure ("expected true or false",
// "expected int", "value must be at least 1", "Unsupported cache type(s): foo", ...).
std::optional<std::string> check_value(const KeyInfo& key, const formats::IniOption& value);

// Python-like int() of a config string (surrounding blanks allowed).
std::optional<long long> parse_int(std::string_view s);
// DVC's Bool: "true"/"false" in any case.
std::optional<bool> parse_bool(std::string_view s);
// A cache.type value as the list of types (items of a configobj list, or split at commas).
std::vector<std::string> cache_type_list(const formats::IniOption& value);

}  // namespace dvx::config
