#include "dvx/metrics/plots_templates.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

namespace dvx::metrics {

namespace {

const std::vector<BuiltinTemplate> k_builtins = {
#include "dvx/metrics/plots_builtin_templates.inc"
};

bool is_file_or_dir(const std::filesystem::path& p) {
  std::error_code ec;
  return std::filesystem::exists(p, ec);
}

Result<Json> read_json_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return fail(ErrorCode::io, "unable to read template '" + p.string() + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = Json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return fail(ErrorCode::corruption, "unable to read template '" + p.string() + "': invalid JSON");
  if (!j.is_object())
    return fail(ErrorCode::corruption, "unable to read template '" + p.string() + "': not a JSON object");
  return j;
}

bool list_has(const Json& list, std::string_view anchor);

bool object_has(const Json& obj, std::string_view anchor) {
  for (auto& [k, v] : obj.items()) {
    if (v.is_object() && object_has(v, anchor)) return true;
    if (v.is_string() && v.get_ref<const std::string&>() == anchor) return true;
    if (v.is_array() && list_has(v, anchor)) return true;
  }
  return false;
}

bool list_has(const Json& list, std::string_view anchor) {
  for (auto& e : list) {
    if (e.is_object() && object_has(e, anchor)) return true;
    if (e.is_string() && e.get_ref<const std::string&>() == anchor) return true;
  }
  return false;
}

void replace_in_list(Json& list, std::string_view anchor, const Json& value, Json*& movable);

// `movable` (when given) is moved into the first place that takes the whole value; later places
// get copies of `value` (which then aliases the moved-into place).
void take(Json& slot, const Json& value, Json*& movable) {
  if (movable) {
    slot = std::move(*movable);
    movable = nullptr;
  } else {
    slot = value;
  }
}

void replace_in_object(Json& obj, std::string_view anchor, const Json& value, Json*& movable) {
  for (auto& [k, v] : obj.items()) {
    if (v.is_object()) {
      replace_in_object(v, anchor, value, movable);
    } else if (v.is_array()) {
      replace_in_list(v, anchor, value, movable);
    } else if (v.is_string()) {
      auto& s = v.get_ref<std::string&>();
      if (s == anchor) {
        take(v, value, movable);
      } else if (value.is_string() && s.find(anchor) != std::string::npos) {
        const auto& with = value.get_ref<const std::string&>();
        std::string out;
        size_t pos = 0;
        for (size_t hit; (hit = s.find(anchor, pos)) != std::string::npos; pos = hit + anchor.size()) {
          out.append(s, pos, hit - pos);
          out += with;
        }
        out.append(s, pos);
        s = std::move(out);
      }
    }
  }
}

void replace_in_list(Json& list, std::string_view anchor, const Json& value, Json*& movable) {
  for (auto& e : list) {
    if (e.is_array()) replace_in_list(e, anchor, value, movable);
    else if (e.is_object()) replace_in_object(e, anchor, value, movable);
    else if (e.is_string() && e.get_ref<const std::string&>() == anchor) take(e, value, movable);
  }
}

}  // namespace

const std::vector<BuiltinTemplate>& builtin_templates() { return k_builtins; }

std::optional<std::string_view> builtin_template_text(std::string_view name) {
  for (auto& t : k_builtins)
    if (t.name == name) return t.text;
  return std::nullopt;
}

Result<PlotTemplate> load_template(const std::optional<std::string>& name, const std::string& templates_dir,
                                   const std::string& cwd) {
  namespace fs = std::filesystem;
  std::string n = name.value_or("linear");
  std::optional<fs::path> found;
  if (!templates_dir.empty()) {
    fs::path p = fs::path(templates_dir) / n;
    if (is_file_or_dir(p)) found = p;
    else if (auto q = fs::path(p).replace_extension(".json"); is_file_or_dir(q)) found = q;
  }
  if (!found && !n.empty()) {
    fs::path p = fs::path(n).is_absolute() ? fs::path(n) : fs::path(cwd) / n;
    if (is_file_or_dir(p)) found = p;
  }
  if (found) {
    auto j = read_json_file(*found);
    if (!j) return std::unexpected(j.error());
    return PlotTemplate{n, std::move(*j)};
  }
  if (auto text = builtin_template_text(n)) return PlotTemplate{n, Json::parse(*text)};
  return fail(ErrorCode::not_found, "Template '" + n + "' not found.");
}

std::string anchor_text(std::string_view name) {
  std::string s = "<DVC_METRIC_";
  for (char c : name) s += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  s += '>';
  return s;
}

bool has_anchor(const Json& content, std::string_view anchor) {
  if (content.is_object()) return object_has(content, anchor);
  return content.is_string() && content.get_ref<const std::string&>() == anchor;
}

void fill_anchor(Json& content, std::string_view anchor, const Json& value) {
  Json* none = nullptr;
  if (content.is_object()) replace_in_object(content, anchor, value, none);
}

void fill_anchor(Json& content, std::string_view anchor, Json&& value) {
  // The first place takes the value itself; a copy is kept only when the anchor appears again.
  Json keep = std::move(value);
  Json* movable = &keep;
  if (!content.is_object()) return;
  Json copy_source;
  // Count the places first so that a single place (the usual data anchor) costs no copy.
  size_t places = 0;
  std::function<void(const Json&)> count = [&](const Json& j) {
    if (j.is_object()) {
      for (auto& [k, v] : j.items())
        if (v.is_string() && v.get_ref<const std::string&>() == anchor) ++places;
        else if (v.is_structured()) count(v);
    } else if (j.is_array()) {
      for (auto& e : j)
        if (e.is_string() && e.get_ref<const std::string&>() == anchor) ++places;
        else if (e.is_structured()) count(e);
    }
  };
  count(content);
  if (places > 1) copy_source = keep;
  replace_in_object(content, anchor, places > 1 ? copy_source : keep, movable);
}

std::string escape_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (char c : field) {
    if (c == '.' || c == '[' || c == ']') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace dvx::metrics
