// Edits of a dvc.yaml text that keep everything else as written (comments, blank lines, key
// order, quoting), as DVC's round-trip writer does: adding or replacing a stage (`stage add`,
// `run`), setting or removing `frozen` (`freeze`/`unfreeze`), removing a stage (`remove`).
// Edits work on the lines of the block-style document; a document they cannot edit in place
// (flow-style `stages`) is re-written whole from its parsed form.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// What `dvc stage add` was given (cli.md "stage add").
struct StageAddSpec {
  std::string name;
  std::string cmd;
  std::vector<std::string> deps;
  std::vector<std::string> params;  // each -p value: "k1,k2" or "file:k1,k2" or "file:"
  std::vector<std::string> outs, outs_no_cache, outs_persist, outs_persist_no_cache;
  std::vector<std::string> metrics, metrics_no_cache, plots, plots_no_cache;
  std::optional<std::string> wdir, desc;
  bool always_changed = false;
  bool force = false;
};

// The stage mapping `stage add` writes, in DVC's key order (desc, cmd, wdir, deps, params,
// outs, metrics, plots, always_changed).
yaml::Node stage_add_node(const StageAddSpec& spec);

// The dvc.yaml text with the stage added at the end of `stages` (or, with force, replacing the
// stage where it is). `existing` is empty when there is no file. Errors: the stage exists
// ("Stage '<n>' already exists in '<file>'. Use '--force' to overwrite.").
Result<std::string> add_stage(std::string_view existing, const std::string& filename, const StageAddSpec& spec);

// Sets (`frozen` true) or removes (false) the `frozen` key of a stage. A stage written with
// `${...}`, `foreach` or `matrix` cannot be edited: "cannot dump a parametrized stage: '<n>'".
Result<std::string> set_stage_frozen(std::string_view text, const std::string& filename, const std::string& stage,
                                     bool frozen);

// Removes a stage; `no_stages_left` tells whether `stages` is now empty.
Result<std::string> remove_stage(std::string_view text, const std::string& filename, const std::string& stage,
                                 bool* no_stages_left);

}  // namespace dvx::formats
