// `dvc.yaml` (formats.md §6): schema validation, `vars`/`${}` interpolation, `foreach`/`matrix`
// generators, and a typed view of every (generated) stage.
// Thread-safety: plain values and pure functions (files are read through the given loader).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/interpolate.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// One entry of a stage's outs/metrics/plots (entries of one kind naming the same path are merged,
// later options winning, as DVC does). `checkpoint` is accepted and ignored.
struct StageOut {
  enum class Kind { out, metric, plot };
  Kind kind = Kind::out;
  std::string path;  // as written (after interpolation), relative to the stage's wdir
  bool cache = true, persist = false, push = true;
  std::optional<std::string> remote, desc;
  yaml::Node options;  // the option mapping as written (null when the entry is a bare string)
};

// One `params` dependency file of a stage (one per file, in order of first mention; keys of a file
// also tracked as a whole are dropped).
struct StageParams {
  std::string file;               // relative to wdir ("params.yaml" for bare keys)
  std::vector<std::string> keys;  // dotted keys in written order; empty with whole_file
  bool whole_file = false;
};

// One stage after generators and interpolation were applied.
struct StageDef {
  std::string name;    // "train", "build@us", "mx@1-p"
  std::string group;   // generator name ("build"), empty for a plain stage
  yaml::Node cmd;      // string or sequence of strings, resolved (written to dvc.lock as is)
  std::string wdir = ".";  // relative to the dvc.yaml folder, as written
  std::vector<std::string> deps;        // as written, relative to wdir
  std::vector<StageParams> params;      // in written order (default file first as written)
  std::vector<StageOut> outs;           // outs, then metrics, then plots, in written order
  bool frozen = false, always_changed = false;
  std::optional<std::string> desc;
  int line = 0;  // line of the stage (or generator) key

  // Command lines to run, in order: each list item, or the lines of a string as Python's
  // str.splitlines() gives them (empty lines kept, no empty last line), as DVC runs them.
  std::vector<std::string> command_lines() const;
  // The command as one text (list items joined by "\n"), for messages and comparisons.
  std::string cmd_text() const;
};

// The whole file.
struct DvcYaml {
  std::vector<StageDef> stages;  // in file order, generated stages in generation order
  std::vector<std::string> params;   // top-level `params` (resolved)
  std::vector<std::string> metrics;  // top-level `metrics` (resolved)
  yaml::Node plots;      // top-level `plots` as written (resolved), null when absent
  yaml::Node artifacts;  // top-level `artifacts` (resolved), null when absent
  yaml::Node datasets;   // top-level `datasets` (resolved), null when absent
  // Warnings DVC logs while reading ("item is already specified, will be overwritten for stages
  // generated from 'x'", "Can't use 'a-' as artifact name (ID).").
  std::vector<std::string> warnings;
  yaml::Node doc;        // the parsed document (for round-trip edits)
};

// Parses, validates and resolves a dvc.yaml. `load` reads params/vars files relative to the
// dvc.yaml's folder (params.yaml is loaded automatically when it exists; a `not_found` error
// means absent). `filename` is the file as DVC names it ("./dvc.yaml", "sub/dvc.yaml").
// YAML syntax and schema errors carry DVC's whole pretty text (printed without "ERROR: "):
// "'<file>' is invalid.\n\n<What>, in line L, column C\n  L │ <source line>" and
// "'<file>' validation failed.\n\nextra keys not allowed, in stages -> x -> foo, line L, column C\n
// <numbered source lines L-1..L+1>" (source lines padded to 80 columns like rich). Resolution errors
// are one-line messages: "failed to parse 'stages.<name>.<field>' in 'dvc.yaml': Could not find 'x'".
Result<DvcYaml> parse_dvc_yaml(std::string_view text, const std::string& filename, const VarsLoader& load,
                               const FlagStyle& flags = {});

// True for the error texts of parse_dvc_yaml() that DVC prints whole, without "ERROR: " (YAML syntax
// errors and schema errors it can point at); false for those it logs as "ERROR: <message>"
// (e.g. "'./dvc.yaml' validation failed: required key not provided @ data['stages']['x']['cmd']").
bool is_pretty_error(std::string_view message);

// A YAML syntax error of one of DVC's files ("'<file>':L:C: what" from yaml::parse) in DVC's
// form: "'<file>' is invalid.\n\n<Problem>, in line L, column C\n<the line>".
Error yaml_syntax_error(const Error& parse_error, std::string_view text, const std::string& filename);
// The same for any yaml::parse error of a DVC file; a passed parse limit (alias bomb, depth,
// size) is reported in DVC's frame with the limit's own words.
Error yaml_file_error(const Error& parse_error, std::string_view text, const std::string& filename);

// How DVC names a file in these errors (strictyaml.make_relpath): the path from the current
// directory with "./" in front, unless it starts with ".." (or is absolute).
std::string dvc_error_path(const std::string& path_from_cwd);

// Stage names that `stage add` accepts: no ASCII punctuation other than '_' and '-'.
bool valid_stage_name(std::string_view name);

}  // namespace dvx::formats
