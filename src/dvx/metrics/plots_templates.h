// Vega-Lite plot templates (dvc-render's vega_templates): the built-in templates byte for byte
// as `dvc plots templates` prints them, DVC's template lookup (`.dvc/plots/`, a path, a built-in
// name) and the anchor operations used to fill them ("<DVC_METRIC_X>" and friends).
// Thread-safety: pure functions; the built-in table is immutable.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvx/base/result.h"

namespace dvx::metrics {

using Json = nlohmann::ordered_json;

// One built-in template: its name and its text as json.dumps() writes it (no final newline).
struct BuiltinTemplate {
  std::string_view name;
  std::string_view text;
};

// The built-in templates in DVC's listing order (simple, linear, confusion, ...).
const std::vector<BuiltinTemplate>& builtin_templates();
// The text of a built-in template, nullopt for an unknown name.
std::optional<std::string_view> builtin_template_text(std::string_view name);

// A template ready to be filled.
struct PlotTemplate {
  std::string name;  // the name or path it was asked by
  Json content;      // a JSON object
};

// DVC's get_template(): `name` (default "linear") is looked up as `<templates_dir>/<name>`, then
// with its suffix replaced by ".json", then as a path relative to `cwd`, then as a built-in name.
// Errors: "Template '<name>' not found." (not_found); a file that is not JSON or not a JSON object
// (corruption, "unable to read template '<path>': ...").
Result<PlotTemplate> load_template(const std::optional<std::string>& name, const std::string& templates_dir,
                                   const std::string& cwd);

// "<DVC_METRIC_" + upper-cased name + ">".
std::string anchor_text(std::string_view name);
// dvc-render's find_value(): whether a string equal to `anchor` appears as an object value, or
// as an element of a list held by an object (nested lists are not searched).
bool has_anchor(const Json& content, std::string_view anchor);
// dvc-render's dict_replace_value(): object values equal to `anchor` become `value`; object
// string values containing it get it replaced when `value` is a string; list elements equal to
// it become `value`. Recurses through objects and lists.
void fill_anchor(Json& content, std::string_view anchor, const Json& value);
// The same, moving `value` into its first place (large data arrays are not copied).
void fill_anchor(Json& content, std::string_view anchor, Json&& value);
// dvc-render's escape_special_characters(): '.', '[' and ']' preceded by a backslash.
std::string escape_field(std::string_view field);

}  // namespace dvx::metrics
