// `${...}` interpolation of dvc.yaml (formats.md §6.4): the variable context built from params
// files and `vars`, and the resolution of one value.
// Thread-safety: plain values and pure functions.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {

// Loads a vars/params file given as written in dvc.yaml (relative to the dvc.yaml's folder);
// returns nullopt-like error kind `not_found` when it does not exist.
using VarsLoader = std::function<Result<yaml::Node>(const std::string& rel_path)>;

// `parsing.bool` / `parsing.list` config for dict-to-flags expansion in `cmd`.
struct FlagStyle {
  bool bool_optional = false;  // parsing.bool = boolean_optional: false -> --no-k
  bool list_append = false;    // parsing.list = append: --k a --k b
};

class Context {
 public:
  // Merges `data` (a mapping) from source `src`; redefining a non-mapping key is an error
  // "cannot redefine '<key>' from '<src>' as it already exists in '<src0>'"; maps merge recursively.
  Status merge(const yaml::Node& data, const std::string& src);
  // Loads one `vars` item: a string "file[:k1,k2]" through `load`, or a literal mapping.
  Status load_vars_item(const yaml::Node& item, const VarsLoader& load);
  // Sets a variable unconditionally (item/key/value of generators).
  void set(const std::string& name, yaml::Node value);
  // The value of a dotted path with [index] segments; nullptr when undefined.
  const yaml::Node* lookup(std::string_view expr) const;
  const yaml::Node& data() const { return m_data; }

 private:
  yaml::Node m_data = yaml::Node::mapping();
  std::vector<std::pair<std::string, std::string>> m_sources;  // top-level key -> source
};

// Python's type name of a value ("int", "dict", "NoneType", ...), for DVC's messages.
const char* python_type_name(const yaml::Node& n);

// True when `s` contains an unescaped "${".
bool has_interpolation(std::string_view s);

// Resolves every string inside `value` (recursively). A string that is exactly one ${...}
// takes the referenced value's type; otherwise values are converted to text as DVC does.
// `in_cmd` allows mappings (expanded to --flags) in the text. Errors read as DVC's:
// "Could not find 'x'", "Cannot interpolate data of type 'dict'", with `where` (e.g.
// "stages.train.cmd") for the message "failed to parse '<where>' in '<file>':".
Result<yaml::Node> resolve(const yaml::Node& value, const Context& ctx, bool in_cmd,
                           const FlagStyle& flags = {});

}  // namespace dvx::formats
