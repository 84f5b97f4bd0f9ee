#include "dvx/metrics/plots_render.h"

#include <algorithm>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include "dvx/formats/py_json.h"

namespace dvx::metrics {

namespace {

constexpr const char* k_index = "step";
constexpr const char* k_inferred_x = "dvc_inferred_x_value";
constexpr const char* k_inferred_y = "dvc_inferred_y_value";

// A Python exception raised while converting one revision's data (caught per revision by DVC).
struct ConvertError {
  std::string type, msg;
};

const Json* get(const Json& obj, const std::string& key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// Python truthiness of a JSON value.
bool truthy(const Json* v) {
  if (!v || v->is_null()) return false;
  if (v->is_boolean()) return v->get<bool>();
  if (v->is_number()) return v->get<double>() != 0;
  if (v->is_string() || v->is_array() || v->is_object()) return !v->empty();
  return true;
}

std::string py_type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "NoneType";
    case Json::value_t::boolean: return "bool";
    case Json::value_t::number_float: return "float";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "int";
    case Json::value_t::string: return "str";
    case Json::value_t::array: return "list";
    case Json::value_t::object: return "dict";
    default: return "object";
  }
}

// A field name as Python's str() shows it in messages.
std::string field_text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  return formats::py_json_dumps(v);
}

// _file_field(): (file, field) pairs of an axis definition {file: field-or-list}.
std::vector<std::pair<std::string, Json>> file_fields(const Json* axis) {
  std::vector<std::pair<std::string, Json>> out;
  if (!axis || !axis->is_object()) return out;
  for (auto& [file, val] : axis->items()) {
    if (val.is_string()) out.emplace_back(file, val);
    else if (val.is_array())
      for (auto& f : val) out.emplace_back(file, f);
  }
  return out;
}

// _lists(): the lists of a data blob (the blob itself, or lists found in nested objects).
void collect_lists(const Json& blob, std::vector<const Json*>& out) {
  if (blob.is_array()) {
    out.push_back(&blob);
    return;
  }
  if (!blob.is_object()) throw ConvertError{"AttributeError", "'" + py_type_name(blob) + "' object has no attribute 'values'"};
  for (auto& [k, v] : blob.items()) {
    if (v.is_object()) collect_lists(v, out);
    else if (v.is_array()) out.push_back(&v);
  }
}

bool all_objects(const Json& lst) {
  return std::all_of(lst.begin(), lst.end(), [](const Json& e) { return e.is_object(); });
}

// A list of a data file (_lists()) and, when every item is an object, its rows.
struct DataList {
  bool objects = false;
  const Datapoints* rows = nullptr;
};

// _lists() of a data file: a CSV file is one list of rows; the lists of a JSON/YAML document are
// found in it and their rows put in `owned`.
std::vector<DataList> data_lists(const PlotFileData& file, std::deque<Datapoints>& owned) {
  if (file.rows) return {DataList{true, &*file.rows}};
  std::vector<const Json*> lists;
  collect_lists(file.data, lists);
  std::vector<DataList> out;
  for (const Json* l : lists) {
    if (!all_objects(*l)) {
      out.push_back({});
      continue;
    }
    owned.push_back(Datapoints::from_json(*l));
    out.push_back({true, &owned.back()});
  }
  return out;
}

// _is_datapoints(): every item an object, all with the keys of the first.
bool is_datapoints(const DataList& lst) {
  if (!lst.objects) return false;
  if (lst.rows->empty()) throw ConvertError{"AttributeError", "'NoneType' object has no attribute 'keys'"};
  return lst.rows->keys_of_first_row_cover_all();
}

// get_datapoints(): the rows of every datapoint list of a file, merged index by index.
Datapoints get_datapoints(const PlotFileData& content) {
  std::deque<Datapoints> owned;
  Datapoints result;
  bool any = false;
  for (auto& lst : data_lists(content, owned)) {
    if (!is_datapoints(lst)) continue;
    if (!any) result = *lst.rows;
    else result.merge_rows(*lst.rows);
    any = true;
  }
  return result;
}

using FileData = std::vector<std::pair<std::string, const PlotFileData*>>;  // source -> parsed content

const PlotFileData* find_data(const FileData& data, const std::string& file) {
  for (auto& [f, d] : data)
    if (f == file) return d;
  return nullptr;
}

// VegaConverter._infer_x_y().
Json infer_x_y(const std::string& plot_id, const FileData& data, const Json& props) {
  const Json* x = get(props, "x");
  const Json* y = get(props, "y");
  Json inferred = Json::object();
  if (x && x->is_string()) {
    Json xs = Json::object();
    if (y && y->is_object()) {
      for (auto& [file, fields] : y->items()) {
        if (fields.is_array()) {
          Json rep = Json::array();
          for (size_t i = 0; i < fields.size(); ++i) rep.push_back(*x);
          xs[file] = std::move(rep);
        } else {
          xs[file] = *x;
        }
      }
    } else {
      xs[plot_id] = *x;
    }
    inferred["x"] = std::move(xs);
  }
  if (!y || y->is_null()) {
    Json inferred_y = nullptr;
    if (const PlotFileData* content = find_data(data, plot_id)) {
      std::deque<Datapoints> owned;
      for (auto& lst : data_lists(*content, owned)) {
        if (!lst.objects) continue;
        if (lst.rows->empty()) throw ConvertError{"AttributeError", "'NoneType' object has no attribute 'keys'"};
        auto first = lst.rows->row(0);
        if (first.empty()) throw ConvertError{"TypeError", "'NoneType' object is not subscriptable"};
        inferred_y = Json::object({{plot_id, lst.rows->key_name(first.back().key)}});  // the last key
        break;
      }
    }
    inferred["y"] = std::move(inferred_y);
  } else if (!y->is_object()) {
    inferred["y"] = Json::object({{plot_id, *y}});
  }
  return inferred;
}

// The one field an axis definition names, or `many` when it names several.
Json single_field(const Json* axis, const char* many) {
  std::set<std::string> fields;
  Json one;
  for (auto& [f, field] : file_fields(axis)) {
    fields.insert(formats::py_json_dumps(field));
    one = field;
  }
  return fields.size() == 1 ? one : Json(many);
}

Json infer_y_label(const Json& props) {
  if (const Json* l = get(props, "y_label"); l && !l->is_null()) return *l;
  const Json* y = get(props, "y");
  if (y && y->is_string()) return *y;
  if (y && y->is_array()) return "y";
  if (!y || !y->is_object()) return nullptr;
  return single_field(y, "y");
}

Json infer_x_label(const Json& props) {
  if (const Json* l = get(props, "x_label"); l && !l->is_null()) return *l;
  const Json* x = get(props, "x");
  if (!x || !x->is_object()) return k_index;
  return single_field(x, "x");
}

using FileDatapoints = std::vector<std::pair<std::string, Datapoints>>;

const Datapoints* find_dps(const FileDatapoints& f2d, const std::string& file) {
  for (auto& [f, d] : f2d)
    if (f == file) return &d;
  return nullptr;
}

void verify_field(const FileDatapoints& f2d, const std::string& file, const Json& field) {
  const auto* dps = find_dps(f2d, file);
  if (!dps) return;
  if (dps->empty()) throw ConvertError{"TypeError", "argument of type 'NoneType' is not iterable"};
  if (!field.is_string() || !dps->row_has(0, field.get_ref<const std::string&>())) {
    std::string found;
    for (auto& k : dps->row_keys(0)) found += (found.empty() ? "" : ", ") + k;
    throw ConvertError{"FieldNotFoundError",
                       "Could not find provided field ('" + field_text(field) + "') in data fields ('" + found + "')."};
  }
}

std::string short_file(const std::string& file, size_t prefix) {
  std::string s = file.substr(std::min(prefix, file.size()));
  size_t b = s.find_first_not_of("/\\");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of("/\\");
  return s.substr(b, e - b + 1);
}

void update_from_field(Datapoints& target, const std::string& field, const Datapoints* source,
                       const std::string& source_field) {
  if (!target.copy_field(field, source ? *source : target, source_field)) throw std::out_of_range("length");
}

std::string json_string(const std::string& s) {
  std::string out;
  formats::py_json_append_string(out, s);
  return out;
}

struct Flat {
  Datapoints datapoints;
  Json properties;
};

// VegaConverter.flat_datapoints().
Flat flat_vega(const std::string& plot_id, const FileData& data, const Json& props_in, const std::string& rev) {
  Json inferred = infer_x_y(plot_id, data, props_in);
  FileDatapoints f2d;
  for (auto& [file, content] : data) f2d.emplace_back(file, get_datapoints(*content));
  Json properties = props_in;
  for (auto& [k, v] : inferred.items()) properties[k] = v;
  properties["y_label"] = infer_y_label(properties);
  properties["x_label"] = infer_x_label(properties);

  Json update = Json::object();
  std::vector<std::pair<std::string, std::string>> xs;
  if (const Json* x = get(properties, "x"); x && x->is_object()) {
    for (auto& [file, field] : file_fields(x)) {
      verify_field(f2d, file, field);
      xs.emplace_back(file, field_text(field));
    }
  }
  std::optional<std::string> x_file;
  std::string x_field = k_index;
  if (!xs.empty()) std::tie(x_file, x_field) = std::pair<std::optional<std::string>, std::string>(xs[0].first, xs[0].second);
  std::set<std::string> x_fields;
  for (auto& [f, fl] : xs) x_fields.insert(fl);
  bool multiple_x = xs.size() > 1 && x_fields.size() > 1;
  update["x"] = multiple_x ? std::string(k_inferred_x) : x_field;

  std::vector<std::pair<std::string, std::string>> ys;
  if (const Json* y = get(properties, "y"); y && !y->is_null()) {
    for (auto& [file, field] : file_fields(y)) {
      verify_field(f2d, file, field);
      ys.emplace_back(file, field_text(field));
    }
  }
  if (xs.size() > 1 && xs.size() != ys.size())
    throw ConvertError{"DvcException", "Cannot have different number of x and y data sources. Found " +
                                           std::to_string(xs.size()) + " x and " + std::to_string(ys.size()) +
                                           " y data sources."};
  std::set<std::string> y_files_set, y_fields_set;
  std::vector<std::string> y_files;
  for (auto& [f, fl] : ys) {
    if (y_files_set.insert(f).second) y_files.push_back(f);
    y_fields_set.insert(fl);
  }
  bool inferred_y = y_fields_set.size() > 1;
  if (inferred_y) update["y"] = k_inferred_y;
  else if (y_fields_set.empty()) update["y"] = nullptr;
  else update["y"] = ys.front().second;
  size_t prefix = y_files.size() > 1 ? posix_common_path(y_files).size() : 0;
  Json anchors = Json::array();
  for (auto& [f, fl] : ys) anchors.push_back(Json::object({{"filename", short_file(f, prefix)}, {"field", fl}}));
  update["anchors_y_definitions"] = std::move(anchors);

  Flat out;
  for (size_t i = 0; i < ys.size(); ++i) {
    auto& [y_file, y_field] = ys[i];
    if (xs.size() > 1) std::tie(x_file, x_field) = std::pair<std::optional<std::string>, std::string>(xs[i].first, xs[i].second);
    // The rows of the y file: moved out when no later series reads that file (x or y), else copied.
    bool reused = false;
    for (size_t j = i + 1; j < ys.size(); ++j)
      reused = reused || ys[j].first == y_file || (j < xs.size() && xs[j].first == y_file);
    if (xs.size() == 1 && i + 1 < ys.size() && xs[0].first == y_file) reused = true;
    Datapoints dps;
    bool moved = false;
    for (auto& [f, d] : f2d)
      if (f == y_file) {
        if (reused) dps = d;
        else {
          dps = std::move(d);
          moved = true;
        }
        break;
      }
    if (inferred_y) update_from_field(dps, k_inferred_y, nullptr, y_field);
    if (x_field == k_index && !x_file) {
      dps.set_index(k_index);
    } else {
      static const Datapoints none;
      // x from the same file: the rows themselves hold it (their x values are the file's).
      const auto* xsrc = moved && *x_file == y_file ? &dps : find_dps(f2d, *x_file);
      try {
        update_from_field(dps, multiple_x ? std::string(k_inferred_x) : x_field, xsrc ? xsrc : &none, x_field);
      } catch (const std::out_of_range&) {
        throw ConvertError{"DvcException", "Cannot join '" + x_field + "' from '" + *x_file + "' and '" + y_field +
                                               "' from '" + y_file + "'. They have to have same length."};
      }
    }
    dps.set_each({{"rev", json_string(rev)},
                  {"filename", json_string(short_file(y_file, prefix))},
                  {"field", json_string(y_field)}});
    out.datapoints.append(std::move(dps));
  }
  if (out.datapoints.empty()) return Flat{{}, Json::object()};
  for (auto& [k, v] : update.items()) properties[k] = v;
  out.properties = std::move(properties);
  return out;
}

std::string py_repr(const std::string& s) {
  if (s.find('\'') != std::string::npos && s.find('"') == std::string::npos) return "\"" + s + "\"";
  return "'" + s + "'";
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string image_file_name(const std::string& rev, const std::string& filename) {
  std::string n = rev + "_" + filename;
  std::replace(n.begin(), n.end(), '/', '_');
  return n;
}

// ---- Vega template filling (VegaRenderer) ----------------------------------------------------

const std::vector<std::string> k_split_anchors = {"color", "data", "plot_height", "plot_width", "shape", "stroke_dash",
                                                  "title", "tooltip", "x_label", "y_label", "zoom_and_pan"};
const std::vector<std::string> k_optional_anchors = {"color", "column", "group_by_x", "group_by_y", "group_by",
                                                     "pivot_field", "plot_height", "plot_width", "row", "shape",
                                                     "stroke_dash", "tooltip", "zoom_and_pan"};

Json anchor_range(const std::string& name) {
  if (name == "stroke_dash") return Json::parse("[[1, 0], [8, 8], [8, 4], [4, 4], [4, 2], [2, 1], [1, 1]]");
  if (name == "color")
    return Json::array({"#945dd6", "#13adc7", "#f46837", "#48bb78", "#4299e1", "#ed8936", "#f56565"});
  if (name == "shape") return Json::array({"circle", "square", "triangle", "diamond"});
  return Json::array();
}

class Filler {
 public:
  Filler(Json content, bool split, const Json& props, std::vector<std::string> revs)
      : m_content(std::move(content)), m_split(split), m_props(props), m_revs(std::move(revs)) {}

  Json& content() { return m_content; }
  Json& split_content() { return m_split_content; }

  bool is_split(const std::string& name) const {
    return m_split && std::find(k_split_anchors.begin(), k_split_anchors.end(), name) != k_split_anchors.end();
  }
  void set_split(const std::string& name, const Json& value) { m_split_content[anchor_text(name)] = value; }
  void fill(const std::string& name, const Json& value) { fill_anchor(m_content, anchor_text(name), value); }

  void optional(std::vector<std::string>& optional_anchors, const std::string& name, const Json& value) {
    auto it = std::find(optional_anchors.begin(), optional_anchors.end(), name);
    if (it == optional_anchors.end()) return;
    optional_anchors.erase(it);
    if (is_split(name)) set_split(name, value);
    else fill(name, value);
  }

  void mapping(std::vector<std::string>& optional_anchors, const std::string& field, const std::string& name,
               const std::vector<std::string>& domain) {
    auto it = std::find(optional_anchors.begin(), optional_anchors.end(), name);
    if (it == optional_anchors.end()) return;
    optional_anchors.erase(it);
    Json full = anchor_range(name);
    Json range = Json::array();
    for (size_t i = 0; i < domain.size(); ++i)
      if (!full.empty()) range.push_back(full[i % full.size()]);
    Json enc = Json::object({{"field", field}, {"scale", Json::object({{"domain", domain}, {"range", range}})}});
    if (name != "color")
      enc["legend"] = Json::object({{"symbolFillColor", "transparent"}, {"symbolStrokeColor", "grey"}});
    if (is_split(name)) set_split(name, enc);
    else fill(name, enc);
  }

  Json prop(const char* key) const {
    const Json* v = get(m_props, key);
    return v ? *v : Json(nullptr);
  }

  void group_by(std::vector<std::string>& opt, const Json& by) {
    optional(opt, "group_by", by);
    Json bx = by, byy = by;
    bx.push_back(prop("x"));
    byy.push_back(prop("y"));
    optional(opt, "group_by_x", bx);
    optional(opt, "group_by_y", byy);
  }

  void tooltip(std::vector<std::string>& opt, const std::vector<std::string>& extra) {
    Json t = Json::array({Json::object({{"field", "rev"}}), Json::object({{"field", prop("x")}}),
                          Json::object({{"field", prop("y")}})});
    for (auto& f : extra) t.push_back(Json::object({{"field", f}}));
    optional(opt, "tooltip", t);
  }

  // _process_optional_anchors(): nullopt when the template has none.
  std::optional<std::vector<std::string>> optional_anchors() {
    std::vector<std::string> opt;
    for (auto& a : k_optional_anchors)
      if (has_anchor(m_content, anchor_text(a))) opt.push_back(a);
    if (opt.empty()) return std::nullopt;
    mapping(opt, "rev", "color", m_revs);
    optional(opt, "zoom_and_pan", Json::object({{"name", "grid"}, {"select", "interval"}, {"bind", "scales"}}));
    optional(opt, "plot_height", 300);
    optional(opt, "plot_width", 300);
    const Json* ydefs = get(m_props, "anchors_y_definitions");
    size_t n = ydefs && ydefs->is_array() ? ydefs->size() : 0;
    if (n <= 1) {
      group_by(opt, Json::array({"rev"}));
      optional(opt, "pivot_field", "datum.rev");
      tooltip(opt, {});
      for (auto& a : std::vector<std::string>(opt)) fill(a, Json::object());
      return std::vector<std::string>{};
    }
    // Several sources: which of filename/field vary, and the domain of their values.
    std::set<std::string> files, fields, both;
    for (auto& d : *ydefs) {
      std::string f = d.value("filename", ""), fl = d.value("field", "");
      files.insert(f);
      fields.insert(fl);
      both.insert(f + "::" + fl);
    }
    std::vector<std::string> varied;
    if (files.size() > 1) varied.push_back("filename");
    if (fields.size() > 1) varied.push_back("field");
    if (varied.empty()) throw PlotsRenderError("list index out of range");
    std::vector<std::string> domain;
    if (varied.size() == 2) domain.assign(both.begin(), both.end());
    else if (varied[0] == "filename") domain.assign(files.begin(), files.end());
    else domain.assign(fields.begin(), fields.end());
    std::string concat = varied.size() == 2 ? "filename::field" : varied[0];
    group_by(opt, Json::array({"rev", concat}));
    std::string pivot = "datum.rev";
    for (auto& k : varied) pivot += " + '::' + datum." + k;
    optional(opt, "pivot_field", pivot);
    optional(opt, "row", Json::object({{"field", concat}, {"sort", Json::array()}}));
    optional(opt, "column", Json::object({{"field", concat}, {"sort", Json::array()}}));
    tooltip(opt, {concat});
    mapping(opt, concat, "stroke_dash", domain);
    mapping(opt, concat, "shape", domain);
    return varied;
  }

 private:
  Json m_content;
  bool m_split;
  const Json& m_props;
  std::vector<std::string> m_revs;
  Json m_split_content = Json::object();
};

void check_field_exists(const Datapoints& dps, const Json& field) {
  if (!field.is_string()) return;
  const auto& f = field.get_ref<const std::string&>();
  if (dps.any_row_has(f)) return;
  throw PlotsRenderError("Field '" + f + "' does not exist in provided data.");
}

// _update_datapoints().
void update_datapoints(Datapoints& dps, const std::optional<std::vector<std::string>>& varied) {
  if (!varied) return;
  if (varied->size() == 2) {
    // The same few (filename, field) texts repeat over the rows: each pair is joined once.
    std::map<std::pair<std::string, std::string>, std::string> joined;
    auto key_filename = dps.find_key("filename"), key_field = dps.find_key("field");
    dps.set_each_computed("filename::field", [&](size_t r) {
      auto text_of = [&](std::optional<Datapoints::KeyId> key) {
        const Datapoints::Cell* c = key ? dps.find(r, *key) : nullptr;
        return c ? std::string(dps.text(*c)) : std::string();
      };
      auto& j = joined[{text_of(key_filename), text_of(key_field)}];
      if (j.empty())
        j = json_string(dps.string_at(r, "filename").value_or("") + "::" + dps.string_at(r, "field").value_or(""));
      return std::optional<std::string>(j);
    });
    dps.erase({"filename", "field"});
    return;
  }
  bool keep_filename = std::find(varied->begin(), varied->end(), "filename") != varied->end();
  bool keep_field = std::find(varied->begin(), varied->end(), "field") != varied->end();
  if (!keep_filename && !keep_field) dps.erase({"filename", "field"});
  else if (!keep_filename) dps.erase("filename");
  else if (!keep_field) dps.erase("field");
}

const char* k_vega_div_pre = "\n    <div id = \"";
const char* k_cdn_scripts =
    "\n    <script src=\"https://cdn.jsdelivr.net/npm/vega@5.20.2\"></script>\n"
    "    <script src=\"https://cdn.jsdelivr.net/npm/vega-lite@5.2.0\"></script>\n"
    "    <script src=\"https://cdn.jsdelivr.net/npm/vega-embed@6.18.2\"></script>\n    ";
const char* k_page =
    "<!DOCTYPE html>\n<html>\n<head>\n    {refresh_tag}\n    <title>DVC Plot</title>\n    {scripts}\n"
    "    <style>\n        table {\n            border-spacing: 15px;\n        }\n    </style>\n</head>\n"
    "<body>\n    {plot_divs}\n</body>\n</html>";

// A library inlined in a <script> element: "</script" inside it would end the element early.
std::string inline_script(const std::string& label, const std::string& js) {
  std::string safe;
  safe.reserve(js.size());
  for (size_t i = 0; i < js.size(); ++i) {
    if (js[i] == '<' && js.compare(i, 8, "</script") == 0) {
      safe += "<\\/script";
      i += 7;
    } else {
      safe += js[i];
    }
  }
  return "    <script>/* " + label + " */\n" + safe + "\n    </script>\n";
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  size_t pos = 0;
  while ((pos = s.find(from, pos)) != std::string::npos) {
    s.replace(pos, from.size(), to);
    pos += to.size();
  }
}

}  // namespace

// infer_data_sources().
std::vector<std::string> plot_data_sources(const std::string& plot_id, const Json& config) {
  std::vector<std::string> sources;
  const Json* y = get(config, "y");
  if (y && y->is_object()) {
    for (auto& [k, v] : y->items()) sources.push_back(k);
  } else {
    sources.push_back(plot_id);
  }
  const Json* x = get(config, "x");
  if (x && x->is_object() && !x->empty()) sources.push_back(x->items().begin().key());
  std::vector<std::string> distinct;
  for (auto& s : sources)
    if (std::find(distinct.begin(), distinct.end(), s) == distinct.end()) distinct.push_back(s);
  return distinct;
}

std::string html_id(const std::string& name) {
  static const std::string special = "!@#$%^&*()[]{};,<>?\\/:.|`~=_+ ";
  std::string out = name;
  for (char& c : out)
    if (special.find(c) != std::string::npos) c = '_';
  return out;
}

std::vector<PlotRenderer> match_renderers(const std::vector<RevisionPlots>& revisions, const RenderOptions& options,
                                          std::vector<std::string>& warnings) {
  // group_definitions(): plot id -> (rev index, inner id, definition), in first-seen order.
  struct Entry {
    size_t rev;
    std::string inner_id;
    const Json* def;
  };
  std::vector<std::pair<std::string, std::vector<Entry>>> groups;
  auto group_of = [&](const std::string& id) -> std::vector<Entry>& {
    for (auto& [gid, g] : groups)
      if (gid == id) return g;
    groups.emplace_back(id, std::vector<Entry>{});
    return groups.back().second;
  };
  for (size_t r = 0; r < revisions.size(); ++r) {
    // group_definitions_by_id(): a plot id in several config files is prefixed with the file.
    std::vector<std::pair<std::string, std::vector<std::pair<std::string, const Json*>>>> by_id;
    for (auto& cfg : revisions[r].definitions) {
      for (auto& [id, def] : cfg.plots) {
        auto it = std::find_if(by_id.begin(), by_id.end(), [&](auto& p) { return p.first == id; });
        if (it == by_id.end()) {
          by_id.emplace_back(id, std::vector<std::pair<std::string, const Json*>>{});
          it = by_id.end() - 1;
        }
        auto c = std::find_if(it->second.begin(), it->second.end(), [&](auto& p) { return p.first == cfg.config_file; });
        if (c == it->second.end()) it->second.emplace_back(cfg.config_file, &def);
        else c->second = &def;
      }
    }
    for (auto& [id, configs] : by_id) {
      if (configs.size() == 1) {
        group_of(id).push_back({r, id, configs[0].second});
      } else {
        for (auto& [cfg, def] : configs) group_of(cfg.empty() ? id : cfg + "::" + id).push_back({r, id, def});
      }
    }
  }

  std::vector<PlotRenderer> renderers;
  for (auto& [plot_id, group] : groups) {
    // _squash_plots_properties(): the earliest revision's value of each property wins.
    Json props = Json::object();
    for (auto it = group.rbegin(); it != group.rend(); ++it)
      if (it->def->is_object())
        for (auto& [k, v] : it->def->items()) props[k] = v;
    props["out"] = options.out;
    props["template_dir"] = options.templates_dir;

    PlotRenderer r;
    Json first_props = Json::object();
    std::vector<std::string> revs;
    bool have_type = false;
    for (auto& e : group) {
      const RevisionPlots& rp = revisions[e.rev];
      auto sources = plot_data_sources(e.inner_id, *e.def);
      bool image = is_image_path(e.inner_id);
      r.type = image ? PlotRenderer::Type::image : PlotRenderer::Type::vega;
      have_type = true;
      r.name = image ? e.inner_id : plot_id;
      FileData data;
      std::vector<std::pair<std::string, ErrorEntry>> errs;
      for (auto& s : sources) {
        auto it = rp.sources.find(s);
        if (it == rp.sources.end()) continue;
        if (it->second.kind == PlotFileData::Kind::data) data.emplace_back(s, &it->second);
        else if (it->second.kind == PlotFileData::Kind::image && image && !it->second.image.empty())
          data.emplace_back(s, &it->second);
        else if (it->second.kind == PlotFileData::Kind::error) errs.emplace_back(s, it->second.error);
      }
      if (!errs.empty()) r.source_errors.emplace_back(rp.rev, std::move(errs));
      Datapoints dps;
      std::vector<ImagePoint> images;
      Json rev_props = Json::object();
      if (image) {
        for (auto& [file, unused] : data) {
          const std::string& bytes = rp.sources.at(file).image;
          namespace fs = std::filesystem;
          fs::path dir = fs::path(options.out);
          std::error_code ec;
          fs::create_directories(dir, ec);
          fs::path dest = dir / image_file_name(rp.rev, file);
          std::ofstream o(dest, std::ios::binary | std::ios::trunc);
          o.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
          if (!o) throw PlotsRenderError("[Errno 2] No such file or directory: '" + dest.string() + "'");
          images.push_back({rp.rev, file, dest.string()});
        }
        rev_props = props;
      } else {
        try {
          auto flat = flat_vega(e.inner_id, data, props, rp.rev);
          dps = std::move(flat.datapoints);
          rev_props = std::move(flat.properties);
        } catch (const ConvertError& ce) {
          warnings.push_back("In " + py_repr(rp.rev) + ", " + lower(ce.msg));
          r.definition_errors.emplace_back(rp.rev, ErrorEntry{ce.type, ce.msg});
          continue;
        }
      }
      if ((!dps.empty() || !images.empty()) && std::find(revs.begin(), revs.end(), rp.rev) == revs.end())
        revs.push_back(rp.rev);
      if (first_props.empty() && !rev_props.empty()) first_props = rev_props;
      r.datapoints.append(std::move(dps));
      for (auto& i : images) r.images.push_back(std::move(i));
    }
    if (!first_props.contains("title")) first_props["title"] = r.name;
    if (!revs.empty()) first_props["revs_with_datapoints"] = revs;
    r.properties = std::move(first_props);
    if (have_type) renderers.push_back(std::move(r));
  }
  return renderers;
}

std::vector<std::string> renderer_revisions(const PlotRenderer& r) {
  std::vector<std::string> revs;
  if (const Json* v = get(r.properties, "revs_with_datapoints"); v && v->is_array() && !v->empty()) {
    for (auto& e : *v) revs.push_back(e.get<std::string>());
    return revs;
  }
  auto add = [&](const std::string& rev) {
    if (!rev.empty() && std::find(revs.begin(), revs.end(), rev) == revs.end()) revs.push_back(rev);
  };
  for (auto& i : r.images) add(i.rev);
  for (size_t k = 0; k < r.datapoints.size(); ++k) add(r.datapoints.string_at(k, "rev").value_or(""));
  return revs;
}

Json filled_spec(PlotRenderer& r, const RenderOptions& options, bool split, Json* anchor_definitions) {
  std::optional<std::string> tname;
  if (const Json* t = get(r.properties, "template"); t && t->is_string()) tname = t->get<std::string>();
  auto tpl = load_template(tname, options.templates_dir, options.cwd);
  if (!tpl) throw PlotsRenderError(tpl.error().message);
  if (r.datapoints.empty()) return Json::object();

  Json props = r.properties;
  if (const Json* x = get(props, "x"); truthy(x)) check_field_exists(r.datapoints, *x);
  if (const Json* y = get(props, "y"); truthy(y)) check_field_exists(r.datapoints, *y);
  if (!props.contains("title")) props["title"] = "";
  if (!props.contains("x_label")) props["x_label"] = props.contains("x") ? props["x"] : Json(nullptr);
  if (!props.contains("y_label")) props["y_label"] = props.contains("y") ? props["y"] : Json(nullptr);

  Filler f(std::move(tpl->content), split, props, renderer_revisions(r));
  auto varied = f.optional_anchors();
  update_datapoints(r.datapoints, varied);

  for (const char* name : {"title", "x", "y", "x_label", "y_label", "data"}) {
    std::string n = name;
    if (n == "data") {
      // The rows go into the spec as their JSON text, written once (a renderer is filled once).
      Json values = formats::py_json_raw(r.datapoints.json_text());
      r.datapoints = Datapoints();
      if (f.is_split(n)) {
        f.set_split(n, std::move(values));
        continue;
      }
      if (!has_anchor(f.content(), anchor_text(n)))
        throw PlotsRenderError("Template '" + tpl->name + "' is not using '" + anchor_text(n) + "' anchor");
      fill_anchor(f.content(), anchor_text(n), std::move(values));
      continue;
    }
    const Json* v = get(props, n);
    if (!v || v->is_null()) continue;
    if (f.is_split(n)) {
      f.set_split(n, *v);
      continue;
    }
    if ((n == "x" || n == "y") && v->is_string()) f.fill(n, escape_field(v->get<std::string>()));
    else f.fill(n, *v);
  }
  if (anchor_definitions) *anchor_definitions = std::move(f.split_content());
  return std::move(f.content());
}

Json renderer_json(PlotRenderer& r, const RenderOptions& options, bool split) {
  Json out = Json::array();
  if (r.type == PlotRenderer::Type::vega) {
    if (r.datapoints.empty()) return out;
    auto revs = renderer_revisions(r);
    Json anchors;
    Json content = filled_spec(r, options, split, split ? &anchors : nullptr);
    Json e = Json::object({{"type", "vega"}, {"revisions", revs}, {"content", std::move(content)}});
    if (split) e["anchor_definitions"] = std::move(anchors);
    out.push_back(std::move(e));
    return out;
  }
  for (auto& i : r.images)
    out.push_back(Json::object({{"type", "image"}, {"revisions", Json::array({i.rev})}, {"url", i.src}}));
  return out;
}

Json plots_json(std::vector<PlotRenderer>& renderers, const std::vector<RevisionPlots>& revisions,
                const RenderOptions& options, bool split) {
  Json errors = Json::array();
  Json data = Json::object();
  for (auto& r : renderers) {
    data[r.name] = renderer_json(r, options, split);
    for (auto& [rev, per_src] : r.source_errors)
      for (auto& [src, e] : per_src)
        errors.push_back(Json::object({{"name", r.name}, {"rev", rev}, {"source", src}, {"type", e.type}, {"msg", e.msg}}));
    for (auto& [rev, e] : r.definition_errors)
      errors.push_back(Json::object({{"name", r.name}, {"rev", rev}, {"type", e.type}, {"msg", e.msg}}));
  }
  for (auto& rp : revisions)
    if (rp.definitions_error)
      errors.push_back(Json::object({{"rev", rp.rev}, {"type", rp.definitions_error->type}, {"msg", rp.definitions_error->msg}}));
  Json out = Json::object();
  if (!errors.empty()) out["errors"] = std::move(errors);
  if (!data.empty()) out["data"] = std::move(data);
  return out;
}

std::string render_page(std::vector<PlotRenderer>& renderers, const RenderOptions& options,
                        const std::optional<std::string>& page_template, const std::string& html_dir,
                        const PageScripts& scripts) {
  std::string page = page_template.value_or(k_page);
  if (page.find("{plot_divs}") == std::string::npos)
    throw PlotsRenderError("HTML template has to contain '{plot_divs}'.");
  // Vega plots first, then images by folder, step number and name (_order_image_per_step).
  std::vector<PlotRenderer*> order;
  for (auto& r : renderers) order.push_back(&r);
  auto key = [](const PlotRenderer* r) {
    namespace fs = std::filesystem;
    fs::path p(r->name);
    std::string stem = p.stem().string();
    bool digits = !stem.empty() && std::all_of(stem.begin(), stem.end(), [](char c) { return c >= '0' && c <= '9'; });
    long long num = digits ? std::stoll(stem.substr(0, 18)) : -1;
    return std::tuple(r->type == PlotRenderer::Type::image, p.parent_path().string(), num, p.filename().string());
  };
  std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) {
    if (a->type != PlotRenderer::Type::image && b->type != PlotRenderer::Type::image) return false;
    return key(a) < key(b);
  });

  std::string script_text;
  std::vector<std::string> elements;
  for (PlotRenderer* r : order) {
    if (r->type == PlotRenderer::Type::vega) {
      std::string s;
      if (scripts.offline) {
        s = "\n" + inline_script("vega@5.20.2", scripts.vega) + inline_script("vega-lite@5.2.0", scripts.vega_lite) +
            inline_script("vega-embed@6.18.2", scripts.vega_embed) + "    ";
      } else {
        s = k_cdn_scripts;
      }
      if (script_text.find(s) == std::string::npos) script_text += "\n" + s;
      std::string id = html_id(r->name);
      std::string partial = formats::py_json_dumps(filled_spec(*r, options));
      elements.push_back(std::string(k_vega_div_pre) + id + "\">\n        <script type = \"text/javascript\">\n" +
                         "            var spec = " + partial + ";\n            vegaEmbed('#" + id +
                         "', spec);\n        </script>\n    </div>\n    ");
    } else {
      std::string partial;
      for (auto& i : r->images) {
        std::string src = i.src;
        if (!src.starts_with("data:image;base64") && std::filesystem::path(src).is_absolute() && !html_dir.empty())
          src = std::filesystem::path(src).lexically_relative(html_dir).string();
        partial += "\n\n                <div\n                    style=\"border:1px dotted black;margin:2px;display:\n"
                   "                    inline-block;\n                    overflow:hidden;margin-left:8px;\">\n"
                   "                    <p>" +
                   i.rev + "</p>\n                    <img src=\"" + src +
                   "\">\n                </div>\n                ";
      }
      if (partial.empty()) {
        elements.emplace_back();
        continue;
      }
      partial = "<p>" + r->name + "</p>" + partial;
      elements.push_back("\n        <div\n            id=\"" + html_id(r->name) +
                         "\"\n            style=\"border:1px solid black;text-align:center;\n"
                         "            white-space: nowrap;overflow-y:hidden;\">\n            " +
                         partial + "\n        </div>");
    }
  }
  std::string divs;
  for (size_t i = 0; i < elements.size(); ++i) divs += (i ? "\n" : "") + elements[i];
  replace_all(page, "{scripts}", script_text);
  replace_all(page, "{plot_divs}", divs);
  replace_all(page, "{refresh_tag}", "");
  return page;
}

}  // namespace dvx::metrics
