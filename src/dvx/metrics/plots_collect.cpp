#include "dvx/metrics/plots_collect.h"

#include <algorithm>
#include <map>
#include <regex>
#include <variant>

#include "dvx/base/user_error.h"
#include "dvx/platform/files.h"

namespace dvx::metrics {

namespace fsx = dvx::platform;

namespace {

// ---- definitions -----------------------------------------------------------------------------

// dpath.merge(): objects merge key by key, anything else is replaced.
void deep_merge(Json& dst, const Json& src) {
  if (!dst.is_object() || !src.is_object()) {
    dst = src;
    return;
  }
  for (auto& [k, v] : src.items()) {
    auto it = dst.find(k);
    if (it == dst.end()) dst[k] = v;
    else deep_merge(*it, v);
  }
}

Json merged(Json a, const Json& b) {
  if (!a.is_object()) a = Json::object();
  for (auto& [k, v] : b.items()) a[k] = v;
  return a;
}

class Definitions {
 public:
  ConfigPlots& config(const std::string& file) {
    for (auto& c : m_configs)
      if (c.config_file == file) return c;
    m_configs.push_back(ConfigPlots{file, {}});
    return m_configs.back();
  }
  void add(const std::string& file, const std::string& id, const Json& props) {
    auto& c = config(file);
    for (auto& [pid, p] : c.plots)
      if (pid == id) {
        deep_merge(p, props);
        return;
      }
    c.plots.emplace_back(id, props);
  }
  bool empty() const { return m_configs.empty(); }
  std::vector<ConfigPlots> take() { return std::move(m_configs); }

 private:
  std::vector<ConfigPlots> m_configs;
};

// _matches(): a target matches an id (or "<config>::<id>") as a regular expression at its start.
bool matches(const std::vector<std::regex>& targets, const std::string& config, const std::string& id) {
  if (targets.empty()) return true;
  std::string full = config.empty() ? id : config + "::" + id;
  for (auto& re : targets)
    if (std::regex_search(id, re, std::regex_constants::match_continuous) ||
        std::regex_search(full, re, std::regex_constants::match_continuous))
      return true;
  return false;
}

std::string common_path2(const std::string& a, const std::string& b) { return posix_common_path({a, b}); }

// unpack_if_dir(): a directory stands for each file below it.
std::vector<std::string> unpack(RevisionTree& tree, const std::string& path) {
  if (auto list = tree.list_dir(path)) return *list;
  return {path};
}

// _adjust_sources(): file keys of x/y mappings made relative to the repository.
Json adjust_sources(const Json& props, const std::string& config_dir) {
  Json out = props;
  for (const char* axis : {"x", "y"}) {
    auto it = out.find(axis);
    if (std::string(axis) == "x" && (it == out.end() || it->is_string())) continue;
    Json old = it == out.end() ? Json::object() : *it;
    if (it != out.end()) out.erase(it);
    Json fresh = Json::object();
    if (old.is_object())
      for (auto& [file, val] : old.items()) fresh[join_repo_path(config_dir, file)] = val;
    out[axis] = std::move(fresh);
  }
  return out;
}

}  // namespace

Json plot_output_props(const formats::StageOut& out) {
  Json props = Json::object();
  if (!out.options.is_mapping()) return props;
  for (const char* key : {"template", "x", "y", "x_label", "y_label", "title", "header"})
    if (const auto* v = out.options.find(key)) props[key] = node_to_json(*v);
  return props;
}

RevisionPlots collect_revision(RevisionTree& tree, const std::string& name, const std::vector<std::string>& targets,
                               const PlotProps& props) {
  RevisionPlots out;
  out.rev = name;
  Definitions defs;
  // Plot outputs of stages: path -> display properties (for the header option of the data file).
  std::vector<std::pair<std::string, Json>> plot_outs;
  try {
    std::vector<std::regex> regexes;
    for (auto& t : targets) {
      try {
        regexes.emplace_back(t, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw ErrorEntry{"error", "bad target pattern '" + t + "'"};
      }
    }
    // _collect_pipeline_files(): top-level definitions of each dvc.yaml.
    for (auto& pf : tree.pipelines()) {
      const std::string& rel = pf.rel;
      const std::string& dir = pf.dir;
      if (pf.yaml.plots.is_null()) continue;
      defs.config(rel);
      std::vector<std::pair<std::string, Json>> items;
      for (auto& elem : pf.yaml.plots.seq) {
        std::string id;
        Json def = nullptr;
        if (elem.is_string()) id = elem.s;
        else if (elem.is_mapping() && !elem.map.empty()) {
          id = elem.map.front().first;
          def = node_to_json(elem.map.front().second);
        } else {
          continue;
        }
        auto it = std::find_if(items.begin(), items.end(), [&](auto& p) { return p.first == id; });
        if (it == items.end()) items.emplace_back(id, std::move(def));
        else it->second = std::move(def);
      }
      std::vector<std::string> parents;
      for (auto& [id, def] : items) parents.push_back(join_repo_path(dir, id));
      for (auto& [id, def] : items) {
        Json plot_props = def.is_object() ? def : Json::object();
        const Json* y = plot_props.contains("y") ? &plot_props["y"] : nullptr;
        bool id_is_path = plot_props.empty() || !(y && y->is_object());
        if (!matches(regexes, rel, id)) continue;
        if (id_is_path) {
          std::string data_path = join_repo_path(dir, id);
          Json p = merged(plot_props, props);
          auto list = tree.list_dir(data_path);
          if (!list) {
            defs.add(rel, data_path, p);
            continue;
          }
          for (auto& f : *list) {
            // The most specific definition of a folder owns each file.
            std::string best;
            for (auto& parent : parents) {
              std::string c = common_path2(f, parent);
              if (c.size() > best.size()) best = c;
            }
            if (best == data_path) defs.add(rel, f, p);
          }
        } else {
          defs.add(rel, id, merged(adjust_sources(plot_props, dir), props));
        }
      }
    }
    // _collect_output_plots(): stage outputs under `plots:`.
    for (auto& po : plot_outputs(tree)) {
      if (po.def->options.is_sequence()) throw ErrorEntry{"DvcException", "Multiple plots per data file not supported."};
      Json oprops = plot_output_props(*po.def);
      plot_outs.emplace_back(po.rel, oprops);
      if (!matches(regexes, po.file->rel, po.rel)) continue;
      Json p = merged(oprops, props);
      for (auto& f : unpack(tree, po.rel)) defs.add("", f, p);
    }
    // Files named as targets.
    for (auto& t : targets) {
      bool exists = false;
      if (!defs.empty()) {
        if (tree.list_dir(t)) exists = true;
        else if (!std::holds_alternative<ErrorEntry>(tree.read(t))) exists = true;
      }
      if (defs.empty() || exists)
        for (auto& f : unpack(tree, t)) defs.add("", f, props);
    }
  } catch (const ErrorEntry& e) {
    out.definitions_error = e;
    return out;
  } catch (const UserError& e) {
    out.definitions_error = ErrorEntry{"DvcException", e.what()};
    return out;
  }
  out.definitions = defs.take();

  // _collect_data_sources(): each file once, with the header option of its plot output.
  std::vector<std::string> sources;
  for (auto& c : out.definitions)
    for (auto& [id, def] : c.plots)
      for (auto& s : plot_data_sources(id, def))
        if (std::find(sources.begin(), sources.end(), s) == sources.end()) sources.push_back(s);
  for (auto& src : sources) {
    Json p = Json::object();
    for (auto& [path, oprops] : plot_outs)
      if (src == path || src.starts_with(path + "/")) p = oprops;
    p = merged(p, props);
    bool header = !(p.contains("header") && p["header"].is_boolean() && !p["header"].get<bool>());
    auto bytes = tree.read(src);
    if (auto* err = std::get_if<ErrorEntry>(&bytes)) {
      PlotFileData d;
      d.kind = PlotFileData::Kind::error;
      d.error = tree.list_dir(src) ? ErrorEntry{"IsADirectoryError", "[Errno 21] Is a directory: '" + src + "'"}
                                   : ErrorEntry{err->type, err->msg};
      out.sources[src] = std::move(d);
      continue;
    }
    out.sources[src] = parse_plot_file(src, std::get<std::string>(bytes), header);
  }
  return out;
}

}  // namespace dvx::metrics
