// Edits of `dvc.yaml` text as DVC makes them (`stage add`, `run`, `freeze`/`unfreeze`, `remove`):
// DVC loads the file with ruamel's round-trip loader, changes the data and dumps it again, which
// keeps comments and blank lines, key order and flow collections but rewrites every value in
// ruamel's layout (formats.md §1). yaml::Node keeps no comments, so the new text is assembled from
// the old one: each block-mapping entry whose text already is what ruamel writes is kept with its
// comments; other entries are re-emitted (trailing comments and blank lines kept).
// Thread-safety: plain values and pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// Everything `dvc stage add` (and `dvc run`) accepts that ends up in dvc.yaml (cli.md "stage add").
struct StageAddSpec {
  std::string name;                  // -n
  std::vector<std::string> command;  // the positional words, joined by join_command()
  std::vector<std::string> deps;     // -d
  std::vector<std::string> params;   // -p, each "k1,k2", "file:k1,k2" or "file:" (whole file)
  std::vector<std::string> outs, outs_no_cache, outs_persist, outs_persist_no_cache;  // -o -O ...
  std::vector<std::string> metrics, metrics_no_cache;  // -m -M
  std::vector<std::string> plots, plots_no_cache;      // --plots --plots-no-cache
  std::string wdir;                  // -w, relative to the dvc.yaml folder; "" or "." = not written
  bool always_changed = false;       // --always-changed
  std::optional<std::string> desc;   // --desc
  bool force = false;                // -f
};

// The command text DVC stores for the positional words (dvc.utils.cli_parse.parse_cmd): one word
// as is; several words joined by spaces, each empty word written "" and each word holding a space
// but no '"' wrapped in double quotes.
std::string join_command(const std::vector<std::string>& words);

// The stage mapping DVC writes for `spec` (serialize.to_pipeline_file): keys desc, cmd, wdir,
// deps (sorted), params (default-file keys sorted first, then {file: keys} by file), outs,
// metrics, plots (each sorted by path, flags cache: false then persist: true), always_changed.
yaml::Node stage_add_node(const StageAddSpec& spec);

// The mapping DVC dumps for a stage loaded from its written definition `def` (to_pipeline_file of
// the loaded stage): desc, cmd, wdir (without "."), deps sorted, params merged and sorted as by
// stage_add_node(), outs/metrics/plots sorted by path with their flags, frozen, always_changed,
// meta. freeze/unfreeze apply it (with frozen set or removed) onto the definition.
yaml::Node pipeline_stage_node(const yaml::Node& def);

// The new text of a dvc.yaml (`existing_text` empty when there is no file) with the stage of
// `spec` added (appended under `stages:`, which is created when absent). An existing stage is an
// error without `force` ("Stage 'x' already exists in '<filename>'. Use '--force' to overwrite.",
// ErrorCode::conflict); with it the new stage is applied onto the old one (yaml::apply_diff).
Result<std::string> add_stage(std::string_view existing_text, const std::string& filename,
                              const StageAddSpec& spec);

// True when a stage definition is parametrized (foreach/matrix, or a value using ${...}): DVC
// refuses to dump or remove it ("cannot dump a parametrized stage: 'train'").
bool stage_is_parametrized(const yaml::Node& stage_def);

// The error DVC reports for a parametrized stage: "cannot <action> a parametrized stage: '<name>'"
// (`dvc freeze` prefixes it with "failed to freeze '<name>' - ").
Error parametrized_stage_error(std::string_view action, std::string_view stage);

// Sets `key` of stage `stage` to `value` (in place, or appended to the stage) the way DVC dumps a
// changed stage: pipeline_stage_node() of the definition with the key set, applied onto the
// definition with yaml::apply_diff (so unsorted deps get sorted): `dvc freeze` sets frozen: true.
// `stage` may name a generated stage ("build@a"). Errors: the stage is not in the file
// (ErrorCode::not_found, "Stage '<name>' not found inside '<filename>' file"), the stage is
// parametrized (parametrized_stage_error(), action "dump"), YAML syntax (yaml::parse).
Result<std::string> set_stage_key(std::string_view text, const std::string& filename, std::string_view stage,
                                  std::string_view key, const yaml::Node& value);
// Removes `key` of a stage (`dvc unfreeze` removes frozen); the file is rewritten also when the key
// was absent, as DVC does. Errors as set_stage_key().
Result<std::string> remove_stage_key(std::string_view text, const std::string& filename,
                                     std::string_view stage, std::string_view key);

struct RemovedStage {
  std::string text;        // the new file text
  bool no_stages = false;  // no stage is left: DVC deletes the file instead of writing `text`
};
// Removes a stage (`dvc remove`). Errors as set_stage_key() (action "remove").
Result<RemovedStage> remove_stage(std::string_view text, const std::string& filename, std::string_view stage);

// The text of `updated` laid out as DVC's round-trip dump of it over `original_text` (whose parsed
// document is `original`): unchanged entries already in ruamel's layout keep their text and
// comments, others are re-emitted, removed entries are cut (with the comments after them), new
// ones appended after the comments that follow the last entry of their mapping (ruamel attaches
// those to the deepest last value). A text it cannot map to `original` is re-emitted whole.
// How `updated`'s sequences came from `original`'s: replaced as wholes (a new list assigned, as
// DVC's merge_dicts does: their comments go), or, where the length is unchanged, item by item (as
// DVC's apply_diff does: comments before the first item and each one-line item's end-of-line
// comment stay at their index).
enum class SequenceEdits { replaced, item_by_item };
std::string render_round_trip(std::string_view original_text, const yaml::Node& original,
                              const yaml::Node& updated, SequenceEdits sequences = SequenceEdits::replaced);

}  // namespace dvx::formats
