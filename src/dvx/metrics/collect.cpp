#include "dvx/metrics/collect.h"

#include <algorithm>
#include <set>
#include <unordered_set>

#include "dvx/fs/walk.h"
#include "dvx/pipeline/index.h"
#include "dvx/platform/files.h"
#include "dvx/remote/remote.h"
#include "dvx/transfer/transfer.h"

namespace dvx::metrics {

namespace fsx = dvx::platform;

namespace {

constexpr size_t k_read_limit = 64u << 20;

// normpath of a '/'-joined repo-relative path ("a/./b/../c" -> "a/c"; "" for the root).

class WorkspaceTree final : public RevisionTree {
 public:
  explicit WorkspaceTree(repo::Repo& repo) : RevisionTree(repo, std::nullopt) {}

 protected:
  std::optional<std::string> read_tree_file(const std::string& rel) override {
    std::string abs = repo().root() + "/" + rel;
    if (fsx::stat_path(abs).type != fsx::FileType::regular) return std::nullopt;
    auto text = fsx::read_file_prefix(abs, k_read_limit);
    if (!text) return std::nullopt;
    return std::move(*text);
  }
  std::optional<std::vector<std::string>> list_tree_dir(const std::string& rel) override {
    std::string abs = rel.empty() ? repo().root() : repo().root() + "/" + rel;
    if (fsx::stat_path(abs).type != fsx::FileType::directory) return std::nullopt;
    auto entries = fs::walk_dir(abs, repo().root(), repo().ignore(), 1, fs::NestedIgnoreFiles::apply);
    std::vector<std::string> out;
    if (!entries) return out;
    for (auto& e : *entries)
      if (e.stat.type == fsx::FileType::regular) out.push_back(rel.empty() ? e.rel_path : rel + "/" + e.rel_path);
    std::sort(out.begin(), out.end());
    return out;
  }
  std::vector<std::string> pipeline_file_names() override { return repo().pipeline_files(); }
  std::vector<TrackedOutput> load_outputs() override {
    std::vector<TrackedOutput> out;
    for (auto& st : repo().stages())
      for (auto& o : st.outs)
        if (auto id = o.recorded()) out.push_back({o.rel_path, *id});
    return out;
  }
};

class CommitTree final : public RevisionTree {
 public:
  CommitTree(repo::Repo& repo, const std::string& commit) : RevisionTree(repo, commit) {
    auto* git = repo.git();
    m_git = git;
    if (git) {
      std::string p = fsx::relative_path(repo.root(), git->work_tree());
      m_prefix = p == "." ? "" : p + "/";
    }
  }

 protected:
  std::optional<std::string> read_tree_file(const std::string& rel) override {
    if (!m_git) return std::nullopt;
    auto r = m_git->read_file_at(*commit(), m_prefix + rel);
    if (!r) throw UserError(r.error().message);
    return std::move(*r);
  }
  std::optional<std::vector<std::string>> list_tree_dir(const std::string& rel) override {
    if (!m_git) return std::nullopt;
    std::string dir = m_prefix + rel;
    if (!dir.empty() && dir.back() == '/') dir.pop_back();
    auto r = m_git->list_files_at(*commit(), dir);
    if (!r) throw UserError(r.error().message);
    if (!*r) return std::nullopt;
    std::vector<std::string> out;
    for (auto& f : **r) out.push_back(f.substr(m_prefix.size()));
    return out;
  }
  std::vector<std::string> pipeline_file_names() override {
    std::vector<std::string> out;
    if (!m_git) return out;
    auto files = m_git->list_dvc_files_at(*commit());
    if (!files) throw UserError(files.error().message);
    for (auto& f : *files) {
      if (fsx::base_name(f) != "dvc.yaml" || !f.starts_with(m_prefix)) continue;
      out.push_back(f.substr(m_prefix.size()));
    }
    return out;
  }
  std::vector<TrackedOutput> load_outputs() override {
    std::vector<TrackedOutput> out;
    for (auto& st : repo::stages_at(repo(), *commit()))
      for (auto& o : st.outs)
        if (auto id = o.recorded()) out.push_back({o.rel_path, *id});
    return out;
  }

 private:
  scm::Git* m_git = nullptr;
  std::string m_prefix;  // the repo root inside the Git work tree, "" or "sub/"
};

// Downloads objects from the default remote into the cache; false when there is no usable
// remote or something could not be fetched.
bool fetch_from_default_remote(repo::Repo& repo, const std::vector<odb::ObjectId>& ids) {
  auto name = repo.config().default_remote();
  if (!name) return false;
  auto url = repo.config().remote_url(*name);
  if (!url) return false;
  auto remote = remote::open_remote(*url, repo.config().remote_options(*name));
  if (!remote) return false;
  auto res = transfer::fetch(repo.cache(), **remote, ids, repo.jobs(), odb::Verify::yes);
  return res.missing.empty() && res.failed.empty();
}

}  // namespace

std::string join_repo_path(const std::string& dir, const std::string& path) {
  if (dir.empty() || (!path.empty() && path[0] == '/')) return fsx::normalize_path(path);
  return fsx::normalize_path(dir + "/" + path);
}

std::unique_ptr<RevisionTree> RevisionTree::workspace(repo::Repo& repo) {
  return std::make_unique<WorkspaceTree>(repo);
}

std::unique_ptr<RevisionTree> RevisionTree::at_commit(repo::Repo& repo, const std::string& commit) {
  return std::make_unique<CommitTree>(repo, commit);
}

const std::vector<TrackedOutput>& RevisionTree::outputs() {
  if (!m_outputs) m_outputs = load_outputs();
  return *m_outputs;
}

const std::vector<PipelineFile>& RevisionTree::pipelines() {
  if (m_pipelines) return *m_pipelines;
  std::vector<std::string> files = pipeline_file_names();
  // DVC's index order: a folder's dvc.yaml before its subfolders' (as pipeline::Index).
  std::stable_sort(files.begin(), files.end(), [](const std::string& a, const std::string& b) {
    return fsx::parent_dir("/" + a) < fsx::parent_dir("/" + b);
  });
  std::vector<PipelineFile> out;
  pipeline::TreeReader reader = [this](const std::string& rel) -> Result<std::string> {
    auto text = read_tree_file(rel);
    if (!text) return fail(ErrorCode::not_found, "'" + rel + "' does not exist");
    return std::move(*text);
  };
  for (auto& f : files) {
    PipelineFile pf;
    pf.rel = f;
    std::string parent = fsx::parent_dir("/" + f);
    pf.dir = parent == "/" ? "" : parent.substr(1);
    pf.yaml = commit() ? pipeline::read_dvc_yaml(repo(), f, reader) : pipeline::read_dvc_yaml(repo(), f);
    out.push_back(std::move(pf));
  }
  m_pipelines = std::move(out);
  return *m_pipelines;
}

std::optional<std::string> RevisionTree::read_object(const odb::ObjectId& id) {
  auto bytes = repo().cache().read(id);
  if (bytes) return std::move(*bytes);
  if (!fetch_from_default_remote(repo(), {id})) return std::nullopt;
  bytes = repo().cache().read(id);
  if (!bytes) return std::nullopt;
  return std::move(*bytes);
}

std::optional<odb::ObjectId> RevisionTree::tracked_object(const std::string& rel) {
  for (auto& o : outputs()) {
    if (o.rel == rel && !o.id.is_dir()) return o.id;
    if (o.id.is_dir() && fsx::is_within(rel, o.rel) && rel != o.rel) {
      auto manifest = repo().cache().read_manifest(o.id);
      if (!manifest) {
        if (!fetch_from_default_remote(repo(), {o.id})) return odb::ObjectId{"", o.id.layout};
        manifest = repo().cache().read_manifest(o.id);
        if (!manifest) return odb::ObjectId{"", o.id.layout};
      }
      std::string sub = rel.substr(o.rel.size() + 1);
      for (auto& e : *manifest)
        if (e.relpath == sub) return odb::ObjectId{e.md5, o.id.layout};
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::variant<std::string, ErrorEntry> RevisionTree::read(const std::string& rel) {
  if (auto text = read_tree_file(rel)) return std::move(*text);
  auto id = tracked_object(rel);
  if (!id) return file_not_found(rel);
  std::optional<std::string> bytes;
  if (!id->oid.empty()) bytes = read_object(*id);
  if (!bytes) return ErrorEntry{"FileNotFoundError", "[Errno 2] No storage files available: '" + rel + "'"};
  return std::move(*bytes);
}

std::optional<std::vector<std::string>> RevisionTree::list_dir(const std::string& rel) {
  auto listed = list_tree_dir(rel);
  std::set<std::string> files;
  if (listed) files.insert(listed->begin(), listed->end());
  bool is_dir = listed.has_value();
  for (auto& o : outputs()) {
    bool inside = rel.empty() || fsx::is_within(o.rel, rel);
    if (!inside) continue;
    if (!o.id.is_dir()) {
      if (o.rel == rel) continue;  // a file, not a folder
      files.insert(o.rel);
      is_dir = true;
      continue;
    }
    is_dir = true;
    auto manifest = repo().cache().read_manifest(o.id);
    if (!manifest && fetch_from_default_remote(repo(), {o.id})) manifest = repo().cache().read_manifest(o.id);
    if (manifest)
      for (auto& e : *manifest) files.insert(o.rel + "/" + e.relpath);
  }
  if (!is_dir) return std::nullopt;
  return std::vector<std::string>(files.begin(), files.end());
}

std::vector<std::string> RevisionTree::expand(const std::string& rel) {
  if (auto files = list_dir(rel)) return *files;
  return {rel};
}

// ---- which files --------------------------------------------------------------------------

namespace {

// Stage outputs of a kind, repo-relative, stages in index order.
template <typename F>
void for_each_stage_out(RevisionTree& tree, formats::StageOut::Kind kind, F&& f) {
  for (auto& pf : tree.pipelines())
    for (auto& st : pf.yaml.stages) {
      std::string wdir = join_repo_path(pf.dir, st.wdir.empty() ? "." : st.wdir);
      for (auto& o : st.outs)
        if (o.kind == kind) f(join_repo_path(wdir, o.path), o, pf);
    }
}

void push_unique(std::vector<std::string>& out, std::unordered_set<std::string>& seen, const std::string& p) {
  if (seen.insert(p).second) out.push_back(p);
}

}  // namespace

std::vector<std::string> metrics_files(RevisionTree& tree, const std::vector<std::string>& targets) {
  std::vector<std::string> paths;
  if (!targets.empty()) {
    paths = targets;
  } else {
    for_each_stage_out(tree, formats::StageOut::Kind::metric,
                       [&](const std::string& rel, const formats::StageOut&, const PipelineFile&) { paths.push_back(rel); });
    for (auto& pf : tree.pipelines())
      for (auto& m : pf.yaml.metrics) paths.push_back(join_repo_path(pf.dir, m));
  }
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (auto& p : paths)
    for (auto& f : tree.expand(p)) push_unique(out, seen, f);
  return out;
}

std::vector<ParamsFile> params_files(RevisionTree& tree, const std::vector<std::string>& targets, bool deps_only) {
  // DVC's _merge_params: files in order of first mention, keys appended; a file mentioned
  // whole anywhere is shown whole.
  std::vector<ParamsFile> merged;
  std::set<std::string> whole;
  auto mention = [&](const std::string& path, const std::vector<std::string>& keys) {
    if (keys.empty()) whole.insert(path);
    auto it = std::find_if(merged.begin(), merged.end(), [&](const ParamsFile& f) { return f.path == path; });
    if (it == merged.end()) {
      merged.push_back({path, keys});
      return;
    }
    it->keys.insert(it->keys.end(), keys.begin(), keys.end());
  };
  if (!targets.empty()) {
    for (auto& t : targets) mention(t, {});
  } else {
    for (auto& pf : tree.pipelines())
      for (auto& st : pf.yaml.stages) {
        std::string wdir = join_repo_path(pf.dir, st.wdir.empty() ? "." : st.wdir);
        for (auto& p : st.params) mention(join_repo_path(wdir, p.file), p.whole_file ? std::vector<std::string>{} : p.keys);
      }
    if (!deps_only) {
      for (auto& pf : tree.pipelines())
        for (auto& p : pf.yaml.params) mention(join_repo_path(pf.dir, p), {});
      if (!std::holds_alternative<ErrorEntry>(tree.read("params.yaml"))) mention("params.yaml", {});
    }
  }
  std::vector<ParamsFile> out;
  std::unordered_set<std::string> seen;
  for (auto& f : merged) {
    std::vector<std::string> keys;
    if (!whole.count(f.path)) {
      std::unordered_set<std::string> k;
      for (auto& key : f.keys)
        if (k.insert(key).second) keys.push_back(key);
    }
    for (auto& p : tree.expand(f.path))
      if (seen.insert(p).second) out.push_back({p, keys});
  }
  return out;
}

std::vector<PlotOutput> plot_outputs(RevisionTree& tree) {
  std::vector<PlotOutput> out;
  for_each_stage_out(tree, formats::StageOut::Kind::plot,
                     [&](const std::string& rel, const formats::StageOut& o, const PipelineFile& pf) {
                       out.push_back({rel, &o, &pf});
                     });
  return out;
}

// ---- which revisions ----------------------------------------------------------------------

std::optional<std::string> active_branch(repo::Repo& repo) {
  auto* git = repo.git();
  if (!git) return std::nullopt;
  auto b = git->current_branch();
  if (!b) return std::nullopt;
  return *b;
}

std::vector<Revision> select_revisions(repo::Repo& repo, const RevisionSelection& sel) {
  std::vector<Revision> out;
  if (sel.revs.empty() && !sel.all_branches && !sel.all_tags && !sel.all_commits) {
    out.push_back({"", std::nullopt});
    return out;
  }
  out.push_back({"workspace", std::nullopt});
  auto* git = repo.git();
  // (name as typed or listed, ref to resolve)
  std::vector<std::pair<std::string, std::string>> wanted;
  for (auto& r : sel.revs)
    if (r != "workspace") wanted.emplace_back(r, r);
  auto take = [&](Result<std::vector<std::string>> names, const std::string& ref_prefix) {
    if (!names) throw UserError(names.error().message);
    for (auto& n : *names) wanted.emplace_back(n, ref_prefix + n);
  };
  if (git && (sel.all_branches || sel.all_tags || sel.all_commits)) {
    if (sel.all_commits) {
      take(git->all_commits(), "");
    } else {
      if (sel.all_branches) take(git->branches(), "refs/heads/");
      if (sel.all_tags) take(git->tags(), "refs/tags/");
    }
  }
  if (!wanted.empty() && !git) throw UserError("unknown Git revision '" + wanted.front().first + "'");
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;  // commit -> names
  for (auto& [name, ref] : wanted) {
    auto c = git->resolve(ref);
    if (!c) {
      if (ref.starts_with("refs/tags/")) continue;  // a tag of a blob or tree: no commit
      throw UserError(c.error().message);
    }
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto& g) { return g.first == *c; });
    if (it == groups.end()) groups.push_back({*c, {name}});
    else it->second.push_back(name);
  }
  for (auto& [commit, names] : groups) {
    std::string joined;
    for (auto& n : names) joined += (joined.empty() ? "" : ",") + n;
    out.push_back({joined, commit});
  }
  return out;
}

std::unique_ptr<RevisionTree> open_revision(repo::Repo& repo, const Revision& rev) {
  if (rev.commit) return RevisionTree::at_commit(repo, *rev.commit);
  return RevisionTree::workspace(repo);
}

}  // namespace dvx::metrics
