// `dvc exp run -S/--set-param` as a pure library (behaviour.md §14, cli.md "exp run"): the Hydra
// override grammar as DVC uses it (parse, sweeps expanded for `--queue`), applying overrides to a
// params document with Hydra/OmegaConf's rules and DVC's error messages, and the new text of a
// params file in YAML, JSON, TOML or Python laid out as DVC writes it. No I/O.
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::experiments {

// What an override does: `key=v` set (the key must exist), `+key=v` add (it must not, unless its
// value is null or the new value a list/dict), `++key=v` add or replace, `~key[=v]` delete.
enum class OverrideOp { set, add, force_add, remove };

// One parsed override (without its `file:` prefix).
struct Override {
  OverrideOp op = OverrideOp::set;
  std::string key;                  // dotted key ("train.epochs"; a number indexes a list)
  std::optional<yaml::Node> value;  // the typed value; absent for `~key` and for sweeps
  // Sweep elements (`a,b`, `choice(a,b)`, `range(1,4)`), each as Hydra writes it back ("0.1",
  // "a\ b": strings with Hydra's special characters escaped, bools True/False).
  std::vector<std::string> sweep;
  std::string value_string;         // the value as Hydra writes it back (quoted strings as written)
  std::string key_element;          // the key with its prefix, as Hydra names it ("+new", "~old")
  std::string value_text;           // the value as written, trimmed ("" for `~key`)
  std::string input;                // the whole override text
};

// Parses one override (`file:` already split off). Errors (ErrorCode::invalid_argument) carry
// Hydra's parser message, as DVC prints it after "unexpected error - ", then "\nSee
// https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details": "no viable alternative
// at input '['", "Error parsing override 'lr'\nmissing EQUAL at '<EOF>'", "Error parsing override
// 'lr=x]'\nextraneous input ']' expecting <EOF>", "LexerNoViableAltException: lr=#".
Result<Override> parse_override(std::string_view text);

// DVC's to_path_overrides: each `-S` argument grouped by the params file it names (`file:` before
// the first '=' , else "params.yaml"), files in order of first appearance, overrides in order.
std::vector<std::pair<std::string, std::vector<std::string>>> group_by_file(const std::vector<std::string>& args);

// DVC's get_hydra_sweeps for `--queue`: every combination of the sweep values (BasicSweeper
// order: the last key varies fastest; a key given twice keeps its first place and last value),
// each as the overrides of one experiment grouped by file. A run without sweeps is one set.
Result<std::vector<std::vector<std::pair<std::string, std::vector<std::string>>>>> expand_sweeps(
    const std::vector<std::string>& args);

// Applies overrides to a params document as Hydra does on DVC's struct-mode OmegaConf copy.
// Errors (ErrorCode::invalid_argument) read as DVC prints them after "ERROR: ", e.g.
// "Invalid `--set-param` value: Could not override 'lr'.\nTo append to your config use +lr=0.5:
// Key 'lr' is not in struct\n    full_key: lr\n    object_type=dict". A sweep cannot be applied:
// "Sweep overrides can't be used without `--queue`".
Status apply_overrides(yaml::Node& doc, const std::vector<Override>& overrides);

// DVC's merge_dicts + remove_missing_keys of the overridden copy into the loaded document:
// mappings merged key by key (order, flow style kept; new keys appended; vanished keys removed),
// every other value replaced by a fresh one (source text, flow style and quoting forgotten).
yaml::Node merge_into(const yaml::Node& original, const yaml::Node& updated);

// The new text of params file `filename` after `overrides` (strings as given to `-S`, without the
// `file:` prefix), as DVC 3.64 writes it: YAML round-tripped keeping comments
// (formats::render_round_trip), JSON by json.dump (one line, no newline at the end), TOML
// round-tripped like tomlkit, Python by DVC's line substitution of changed values. `text` is empty
// for a file that does not exist yet. Errors: parse errors of the file or of
// an override, apply_overrides() errors, values a format cannot hold (null in TOML), a key added
// to a Python file (DVC fails with an unexpected KeyError: the message is "'<key>'").
Result<std::string> rewrite_params(std::string_view text, const std::string& filename,
                                   const std::vector<std::string>& overrides);

}  // namespace dvx::experiments
