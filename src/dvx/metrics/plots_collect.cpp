#include "dvx/metrics/plots_collect.h"

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <regex>

#include "dvx/base/user_error.h"
#include "dvx/formats/dvc_lock.h"
#include "dvx/formats/params.h"
#include "dvx/pipeline/index.h"
#include "dvx/platform/files.h"
#include "dvx/scm/git.h"

namespace dvx::metrics {

namespace fsx = dvx::platform;

namespace {

// Files larger than this are not read as plot data or pipeline files (DVC has no limit; this
// keeps a stray multi-gigabyte file from exhausting memory).
constexpr size_t k_read_limit = size_t{1} << 31;

std::string dir_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

std::string join_norm(const std::string& dir, const std::string& path) {
  if (dir.empty() || (!path.empty() && path[0] == '/')) return fsx::normalize_path(path);
  return fsx::normalize_path(dir + "/" + path);
}

// dvc.yaml files ordered as DVC's index lists them: by folder, then walk order.
void sort_pipeline_files(std::vector<std::string>& files) {
  std::stable_sort(files.begin(), files.end(),
                   [](const std::string& a, const std::string& b) { return dir_of(a) < dir_of(b); });
}

// ---- the workspace ---------------------------------------------------------------------------

class WorkspaceFiles : public RevisionFiles {
 public:
  explicit WorkspaceFiles(repo::Repo& repo) : m_repo(repo) {}
  const std::string& name() const override { return m_name; }

  std::vector<std::pair<std::string, formats::DvcYaml>> pipelines() override {
    std::vector<std::string> files = m_repo.pipeline_files();
    sort_pipeline_files(files);
    std::vector<std::pair<std::string, formats::DvcYaml>> out;
    for (auto& f : files) out.emplace_back(f, pipeline::read_dvc_yaml(m_repo, f));
    return out;
  }

  Result<std::optional<std::string>> read(const std::string& rel) override {
    std::string abs = m_repo.root() + "/" + rel;
    auto st = fsx::stat_path(abs);
    if (st.type != fsx::FileType::regular) return std::optional<std::string>{};
    auto text = fsx::read_file_prefix(abs, k_read_limit);
    if (!text) return std::unexpected(text.error());
    return std::optional<std::string>(std::move(*text));
  }

  std::optional<std::vector<std::string>> list_dir(const std::string& rel) override {
    namespace fs = std::filesystem;
    fs::path abs = fs::path(m_repo.root()) / rel;
    std::error_code ec;
    if (rel.empty() || !fs::is_directory(abs, ec)) return std::nullopt;
    std::vector<std::string> files;
    for (auto it = fs::recursive_directory_iterator(abs, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (it->is_directory(ec) && (name == ".git" || name == ".dvc")) {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file(ec)) files.push_back(rel + "/" + it->path().lexically_relative(abs).string());
    }
    std::sort(files.begin(), files.end());
    return files;
  }

 private:
  repo::Repo& m_repo;
  std::string m_name = "workspace";
};

// ---- a Git revision --------------------------------------------------------------------------

class GitRevisionFiles : public RevisionFiles {
 public:
  GitRevisionFiles(repo::Repo& repo, std::string rev) : m_repo(repo), m_name(std::move(rev)) {
    m_git = repo.git();
    if (!m_git) throw UserError("unknown Git revision '" + m_name + "'");
    auto commit = m_git->resolve(m_name);
    if (!commit) throw UserError(commit.error().message);
    m_commit = *commit;
  }
  const std::string& name() const override { return m_name; }

  std::vector<std::pair<std::string, formats::DvcYaml>> pipelines() override {
    auto files = m_git->list_dvc_files_at(m_commit);
    if (!files) throw UserError(files.error().message);
    std::vector<std::string> yamls;
    for (auto& f : *files)
      if (fsx::base_name(f) == "dvc.yaml") yamls.push_back(f);
    sort_pipeline_files(yamls);
    std::vector<std::pair<std::string, formats::DvcYaml>> out;
    for (auto& rel : yamls) {
      auto text = git_read(rel);
      if (!text) continue;
      std::string dir = dir_of(rel);
      formats::VarsLoader loader = [&](const std::string& file) -> Result<yaml::Node> {
        std::string path = join_norm(dir, file);
        auto t = git_read(path);
        if (!t) return fail(ErrorCode::not_found, "'" + file + "' does not exist");
        return formats::parse_params(*t, path, formats::params_format(path));
      };
      auto parsed = formats::parse_dvc_yaml(*text, rel, loader);
      if (!parsed) throw UserError(parsed.error().message);
      // Outputs recorded in the dvc.lock beside it are read from the cache.
      std::string lock_rel = rel.substr(0, rel.size() - 4) + "lock";
      if (auto lock_text = git_read(lock_rel)) {
        if (auto lock = formats::DvcLock::parse(*lock_text, lock_rel)) {
          for (auto& st : parsed->stages) {
            auto entry = lock->stage(st.name);
            if (!entry) continue;
            std::string wdir = join_norm(dir, st.wdir);
            for (auto& o : entry->outs)
              if (o.md5 && !o.md5->ends_with(".dir"))
                m_cached[join_norm(wdir, o.path)] =
                    odb::ObjectId{*o.md5, o.hash ? odb::Layout::v3 : odb::Layout::legacy};
          }
        }
      }
      out.emplace_back(rel, std::move(*parsed));
    }
    return out;
  }

  Result<std::optional<std::string>> read(const std::string& rel) override {
    if (auto t = git_read(rel)) return t;
    auto it = m_cached.find(rel);
    if (it == m_cached.end()) return std::optional<std::string>{};
    auto st = fsx::stat_path(m_repo.cache().path_of(it->second));
    if (!st.exists()) return std::optional<std::string>{};
    auto text = fsx::read_file_prefix(m_repo.cache().path_of(it->second), k_read_limit);
    if (!text) return std::unexpected(text.error());
    return std::optional<std::string>(std::move(*text));
  }

  std::optional<std::vector<std::string>> list_dir(const std::string&) override { return std::nullopt; }

 private:
  std::optional<std::string> git_read(const std::string& rel) {
    auto r = m_git->read_file_at(m_commit, rel);
    if (!r || !*r) return std::nullopt;
    return std::move(**r);
  }

  repo::Repo& m_repo;
  std::string m_name, m_commit;
  scm::Git* m_git = nullptr;
  std::map<std::string, odb::ObjectId> m_cached;
};

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
std::vector<std::string> unpack(RevisionFiles& files, const std::string& path) {
  if (auto list = files.list_dir(path)) return *list;
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
      for (auto& [file, val] : old.items()) fresh[join_norm(config_dir, file)] = val;
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

std::unique_ptr<RevisionFiles> workspace_files(repo::Repo& repo) { return std::make_unique<WorkspaceFiles>(repo); }

std::unique_ptr<RevisionFiles> git_revision_files(repo::Repo& repo, const std::string& rev) {
  return std::make_unique<GitRevisionFiles>(repo, rev);
}

RevisionPlots collect_revision(RevisionFiles& files, const std::vector<std::string>& targets, const PlotProps& props) {
  RevisionPlots out;
  out.rev = files.name();
  Definitions defs;
  // Plot outputs of stages: path -> display properties (for the header option of the data file).
  std::vector<std::pair<std::string, Json>> plot_outs;
  try {
    std::vector<std::regex> regexes;
    for (auto& t : targets) {
      try {
        regexes.emplace_back(t, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw PlotError{"error", "bad target pattern '" + t + "'"};
      }
    }
    auto pipelines = files.pipelines();
    // _collect_pipeline_files(): top-level definitions of each dvc.yaml.
    for (auto& [rel, dvc_yaml] : pipelines) {
      if (dvc_yaml.plots.is_null()) continue;
      std::string dir = dir_of(rel);
      defs.config(rel);
      std::vector<std::pair<std::string, Json>> items;
      for (auto& elem : dvc_yaml.plots.seq) {
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
      for (auto& [id, def] : items) parents.push_back(join_norm(dir, id));
      for (auto& [id, def] : items) {
        Json plot_props = def.is_object() ? def : Json::object();
        const Json* y = plot_props.contains("y") ? &plot_props["y"] : nullptr;
        bool id_is_path = plot_props.empty() || !(y && y->is_object());
        if (!matches(regexes, rel, id)) continue;
        if (id_is_path) {
          std::string data_path = join_norm(dir, id);
          Json p = merged(plot_props, props);
          auto list = files.list_dir(data_path);
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
    for (auto& [rel, dvc_yaml] : pipelines) {
      for (auto& st : dvc_yaml.stages) {
        std::string wdir = join_norm(dir_of(rel), st.wdir);
        if (wdir == ".") wdir.clear();
        for (auto& o : st.outs) {
          if (o.kind != formats::StageOut::Kind::plot) continue;
          if (o.options.is_sequence()) throw PlotError{"DvcException", "Multiple plots per data file not supported."};
          std::string path = join_norm(wdir, o.path);
          Json oprops = plot_output_props(o);
          plot_outs.emplace_back(path, oprops);
          if (!matches(regexes, rel, path)) continue;
          Json p = merged(oprops, props);
          for (auto& f : unpack(files, path)) defs.add("", f, p);
        }
      }
    }
    // Files named as targets.
    for (auto& t : targets) {
      bool exists = false;
      if (!defs.empty()) {
        if (files.list_dir(t)) exists = true;
        else if (auto r = files.read(t); r && *r) exists = true;
      }
      if (defs.empty() || exists)
        for (auto& f : unpack(files, t)) defs.add("", f, props);
    }
  } catch (const PlotError& e) {
    out.definitions_error = e;
    return out;
  } catch (const UserError& e) {
    out.definitions_error = PlotError{"DvcException", e.what()};
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
    auto bytes = files.read(src);
    if (!bytes) {
      PlotFileData d;
      d.kind = PlotFileData::Kind::error;
      d.error = {"OSError", bytes.error().message};
      out.sources[src] = std::move(d);
      continue;
    }
    if (!*bytes) {
      PlotFileData d;
      d.kind = PlotFileData::Kind::error;
      d.error = files.list_dir(src) ? PlotError{"IsADirectoryError", "[Errno 21] Is a directory: '" + src + "'"}
                                    : file_not_found(src);
      out.sources[src] = std::move(d);
      continue;
    }
    out.sources[src] = parse_plot_file(src, **bytes, header);
  }
  return out;
}

}  // namespace dvx::metrics
