// The INI dialect of DVC's config files: the subset of Python's configobj that DVC reads and
// writes (formats.md §9.2). Pure parse/emit, no I/O.
//
// Reading follows configobj 5 (what DVC uses): `[section]` headers, optionally quoted
// (`['remote "x"']` and `[remote "x"]` give the same name `remote "x"`); `key = value` lines;
// values may be single-, double- or triple-quoted; an unquoted value with a comma is a list;
// `#` starts a comment (also after a value, and anywhere in an unquoted value). Section names
// and keys are lower-cased, as DVC does after loading. Nested `[[sub]]` sections and options
// outside a section are rejected (DVC's schema never accepts them).
//
// Writing reproduces configobj's bytes as DVC produces them: no comments, sections in the
// given order, options indented by four spaces, `key = value`, configobj's quoting rules.
//
// Thread-safety: pure functions on values.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/limits.h"

namespace dvx::formats {

struct IniOption {
  std::string key;    // lower-cased
  std::string value;  // unquoted string; for a list the raw text without its comment ("a, b")
  int line = 0;       // 1-based line of the key (0 for options made in memory)
  bool is_list = false;            // the value was an unquoted comma list (`a,b`, `a,`, `,`)
  std::vector<std::string> items;  // the list's unquoted items when is_list
};

struct IniSection {
  std::string name;  // header text without brackets and outer quotes, lower-cased: `core`, `remote "x"`
  std::vector<IniOption> options;
  int line = 0;

  // The option with that key, or nullptr.
  const IniOption* find(std::string_view key) const;
  IniOption* find(std::string_view key);
};

struct IniFile {
  std::vector<IniSection> sections;

  const IniSection* find(std::string_view name) const;
  IniSection* find(std::string_view name);
};

// Parses a config file's text. `filename` is only used in messages. Errors (invalid_argument):
// "config file error: '<filename>':<line>: <what>", e.g. "invalid line 'x' (matched as neither
// section nor keyword)", "parse error in value", "duplicate section name".
// Two headers or keys that differ only in case are merged like DVC's lower-casing does: the
// later value wins at the earlier position.
// Work is bounded by k_parse_limits (input bytes, options, `[[[` openers): past a limit the error
// names the line.
Result<IniFile> parse_ini(std::string_view text, const std::string& filename);
// The same with other limits (tests).
Result<IniFile> parse_ini(std::string_view text, const std::string& filename, const ParseLimits& limits);

// configobj's bytes for the file. Sections without options are skipped; an empty result is ""
// (note: configobj itself writes "\n" for a config without sections; config::Config handles
// that when it rewrites a file).
std::string emit_ini(const IniFile& f);

// How configobj writes one scalar value (`multiline` true) or a key/section name (false):
// unquoted when safe, else "..." or '...', or triple quotes when both quote kinds or a newline
// occur.
std::string ini_quote(std::string_view value, bool multiline = true);

}  // namespace dvx::formats
