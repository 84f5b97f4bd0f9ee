#include "dvx/scm/git.h"
#include "dvx/scm/git_impl.h"

#include <git2.h>

#include "dvx/scm/git_impl.h"

#include <algorithm>
#include <unordered_set>
#include <unordered_map>
#include <cstring>

#include "dvx/base/strings.h"
#include "dvx/platform/files.h"

namespace dvx::scm {
using namespace detail;
namespace {

bool is_dvc_file_name(std::string_view path) {
  size_t slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return path.ends_with(".dvc") || name == "dvc.yaml" || name == "dvc.lock";
}

}  // namespace


Git::Git(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Git::Git(Git&&) noexcept = default;
Git& Git::operator=(Git&&) noexcept = default;
Git::~Git() = default;

Result<std::optional<Git>> Git::discover(const std::string& path) {
  ensure_libgit2();
  std::string start = platform::absolute_path(path);
  while (!platform::lstat_path(start).exists() && start != "/") start = platform::parent_dir(start);

  BufGuard found;
  int rc = git_repository_discover(&found.buf, start.c_str(), 0, nullptr);
  if (rc == GIT_ENOTFOUND) return std::optional<Git>();
  if (rc < 0) return fail_git("failed to look for a git repository above '" + start + "'", rc);

  git_repository* raw = nullptr;
  rc = git_repository_open(&raw, found.buf.ptr);
  if (rc < 0) return fail_git(std::string("failed to open git repository '") + found.buf.ptr + "'", rc);
  auto impl = std::make_unique<Impl>();
  impl->repo.reset(raw);
  const char* wd = git_repository_workdir(raw);
  if (wd == nullptr) return std::optional<Git>();  // bare: no work tree contains the path
  impl->work_tree = strip_trailing_slash(wd);
  impl->git_dir = strip_trailing_slash(git_repository_path(raw));
  impl->common_dir = strip_trailing_slash(git_repository_commondir(raw));
  return std::optional<Git>(Git(std::move(impl)));
}

Status Git::init_repo(const std::string& path) {
  ensure_libgit2();
  git_repository* raw = nullptr;
  int rc = git_repository_init(&raw, path.c_str(), 0);
  if (rc < 0) return fail_git("failed to initialise git repository '" + path + "'", rc);
  git_repository_free(raw);
  return {};
}

std::string Git::work_tree() const { return m_impl->work_tree; }
std::string Git::git_dir() const { return m_impl->git_dir; }
std::string Git::common_dir() const { return m_impl->common_dir; }

Result<bool> Git::is_tracked(const std::string& rel_path) const {
  auto idx = m_impl->index();
  if (!idx) return std::unexpected(idx.error());
  std::string rel = clean_rel(rel_path);
  if (rel.empty()) return git_index_entrycount(*idx) > 0;
  if (git_index_get_bypath(*idx, rel.c_str(), 0) != nullptr) return true;
  // A directory is tracked when an entry lies below it; entries are sorted by path, so the first
  // entry at or after "<dir>/" tells.
  std::string prefix = rel + "/";
  size_t pos = 0;
  if (git_index_find_prefix(&pos, *idx, prefix.c_str()) == 0) return true;
  // A conflicted (stage > 0) file is still tracked.
  const git_index_entry* e = git_index_get_bypath(*idx, rel.c_str(), 1);
  if (e == nullptr) e = git_index_get_bypath(*idx, rel.c_str(), 2);
  if (e == nullptr) e = git_index_get_bypath(*idx, rel.c_str(), 3);
  return e != nullptr;
}

Result<bool> Git::is_ignored(const std::string& rel_path) const {
  std::string rel = clean_rel(rel_path);
  if (rel.empty()) return false;
  if (rel_escapes(rel)) return fail(ErrorCode::invalid_argument, "path '" + rel_path + "' is outside the git work tree");
  // libgit2 caches parsed ignore files and only re-checks them by stamp; flushing makes a
  // .gitignore written a moment ago (same size and mtime granule) visible for certain.
  refresh_ignores();
  int ignored = 0;
  int rc = git_ignore_path_is_ignored(&ignored, m_impl->repo.get(), rel.c_str());
  if (rc < 0) return fail_git("failed to check whether '" + rel + "' is ignored by git", rc);
  return ignored != 0;
}

void Git::refresh_ignores() const {
  git_attr_cache_flush(m_impl->repo.get());
  git_error_clear();
}

Status Git::add(const std::vector<std::string>& rel_paths) {
  auto idx_r = m_impl->index();
  if (!idx_r) return std::unexpected(idx_r.error());
  git_index* idx = *idx_r;
  for (const std::string& given : rel_paths) {
    std::string rel = clean_rel(given);
    if (rel_escapes(rel)) return fail(ErrorCode::invalid_argument, "path '" + given + "' is outside the git work tree");
    std::string abs = rel.empty() ? m_impl->work_tree : m_impl->work_tree + "/" + rel;
    platform::FileStat st = platform::lstat_path(abs);
    int rc = 0;
    if (st.type == platform::FileType::directory) {
      // Pathspec matching is disabled so a directory name is taken literally (prefix match).
      // The whole work tree when rel is empty.
      char* specs[] = {rel.data()};
      git_strarray arr{specs, rel.empty() ? 0u : 1u};
      rc = git_index_add_all(idx, &arr, GIT_INDEX_ADD_DISABLE_PATHSPEC_MATCH, nullptr, nullptr);
      if (rc >= 0) rc = git_index_update_all(idx, &arr, nullptr, nullptr);  // drop deleted files below
    } else if (st.exists()) {
      rc = git_index_add_bypath(idx, rel.c_str());
    } else {
      rc = git_index_remove_bypath(idx, rel.c_str());
      if (rc >= 0) rc = git_index_remove_directory(idx, rel.c_str(), 0);
    }
    if (rc < 0) return fail_git("failed to add '" + rel + "' to the git index", rc);
  }
  int rc = git_index_write(idx);
  if (rc < 0) return fail_git("failed to write the git index", rc);
  return {};
}

Result<std::string> Git::resolve(const std::string& rev) const {
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, m_impl->repo.get(), rev.c_str());
  ObjectPtr obj(raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC || rc == GIT_EUNBORNBRANCH || rc == GIT_EAMBIGUOUS) {
    git_error_clear();
    return fail(rc == GIT_EAMBIGUOUS ? ErrorCode::invalid_argument : ErrorCode::not_found,
                "unknown Git revision '" + rev + "'");
  }
  if (rc < 0) return fail_git("failed to resolve Git revision '" + rev + "'", rc);
  git_object* peeled_raw = nullptr;
  rc = git_object_peel(&peeled_raw, obj.get(), GIT_OBJECT_COMMIT);
  ObjectPtr peeled(peeled_raw);
  if (rc < 0) {
    git_error_clear();
    return fail(ErrorCode::not_found, "unknown Git revision '" + rev + "'");
  }
  return oid_hex(git_object_id(peeled.get()));
}

Result<bool> Git::has_commits() const {
  int rc = git_repository_head_unborn(m_impl->repo.get());
  if (rc < 0) return fail_git("failed to read git HEAD", rc);
  return rc == 0;
}

Result<TreePtr> Git::Impl::tree_of(const std::string& rev) const {
  git_object* raw = nullptr;
  int rc = git_revparse_single(&raw, repo.get(), rev.c_str());
  ObjectPtr obj(raw);
  if (rc < 0) {
    git_error_clear();
    return fail(ErrorCode::not_found, "unknown Git revision '" + rev + "'");
  }
  git_object* tree_raw = nullptr;
  rc = git_object_peel(&tree_raw, obj.get(), GIT_OBJECT_TREE);
  if (rc < 0) {
    git_error_clear();
    return fail(ErrorCode::not_found, "unknown Git revision '" + rev + "'");
  }
  return TreePtr(reinterpret_cast<git_tree*>(tree_raw));
}

Result<std::optional<std::string>> Git::read_file_at(const std::string& commit,
                                                     const std::string& rel_path) const {
  auto tree = m_impl->tree_of(commit);
  if (!tree) return std::unexpected(tree.error());
  std::string rel = clean_rel(rel_path);
  if (rel.empty() || rel_escapes(rel)) return std::optional<std::string>();
  git_tree_entry* entry_raw = nullptr;
  int rc = git_tree_entry_bypath(&entry_raw, tree->get(), rel.c_str());
  TreeEntryPtr entry(entry_raw);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<std::string>();
  }
  if (rc < 0) return fail_git("failed to look up '" + rel + "' at " + commit, rc);
  if (git_tree_entry_type(entry.get()) != GIT_OBJECT_BLOB) return std::optional<std::string>();
  git_blob* blob_raw = nullptr;
  rc = git_blob_lookup(&blob_raw, m_impl->repo.get(), git_tree_entry_id(entry.get()));
  BlobPtr blob(blob_raw);
  if (rc < 0) return fail_git("failed to read '" + rel + "' at " + commit, rc);
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob.get()));
  auto size = static_cast<size_t>(git_blob_rawsize(blob.get()));
  return std::optional<std::string>(std::string(data, size));
}

Result<std::vector<std::string>> Git::list_dvc_files_at(const std::string& commit) const {
  auto tree = m_impl->tree_of(commit);
  if (!tree) return std::unexpected(tree.error());
  std::vector<std::string> out;
  auto cb = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
    std::string path = std::string(root) + git_tree_entry_name(entry);
    if (is_dvc_file_name(path)) static_cast<std::vector<std::string>*>(payload)->push_back(std::move(path));
    return 0;
  };
  int rc = git_tree_walk(tree->get(), GIT_TREEWALK_PRE, cb, &out);
  if (rc < 0) return fail_git("failed to list files at " + commit, rc);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::optional<std::vector<std::string>>> Git::list_files_at(const std::string& commit,
                                                                  const std::string& dir_rel) const {
  auto tree = m_impl->tree_of(commit);
  if (!tree) return std::unexpected(tree.error());
  std::string rel = clean_rel(dir_rel);
  if (rel_escapes(rel)) return std::optional<std::vector<std::string>>();
  TreePtr sub;
  git_tree* walk_root = tree->get();
  if (!rel.empty()) {
    git_tree_entry* entry_raw = nullptr;
    int rc = git_tree_entry_bypath(&entry_raw, tree->get(), rel.c_str());
    TreeEntryPtr entry(entry_raw);
    if (rc == GIT_ENOTFOUND) {
      git_error_clear();
      return std::optional<std::vector<std::string>>();
    }
    if (rc < 0) return fail_git("failed to look up '" + rel + "' at " + commit, rc);
    if (git_tree_entry_type(entry.get()) != GIT_OBJECT_TREE) return std::optional<std::vector<std::string>>();
    git_tree* sub_raw = nullptr;
    rc = git_tree_lookup(&sub_raw, m_impl->repo.get(), git_tree_entry_id(entry.get()));
    sub = TreePtr(sub_raw);
    if (rc < 0) return fail_git("failed to read '" + rel + "' at " + commit, rc);
    walk_root = sub.get();
  }
  struct Walk {
    std::string prefix;
    std::vector<std::string> files;
  } walk{rel.empty() ? std::string() : rel + "/", {}};
  auto cb = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) return 0;
    auto* w = static_cast<Walk*>(payload);
    w->files.push_back(w->prefix + root + git_tree_entry_name(entry));
    return 0;
  };
  int rc = git_tree_walk(walk_root, GIT_TREEWALK_PRE, cb, &walk);
  if (rc < 0) return fail_git("failed to list files at " + commit, rc);
  std::sort(walk.files.begin(), walk.files.end());
  return std::optional<std::vector<std::string>>(std::move(walk.files));
}

Result<std::optional<std::string>> Git::current_branch() const {
  git_reference* raw = nullptr;
  int rc = git_reference_lookup(&raw, m_impl->repo.get(), "HEAD");
  RefPtr head(raw);
  if (rc < 0) return fail_git("failed to read git HEAD", rc);
  if (git_reference_type(head.get()) != GIT_REFERENCE_SYMBOLIC) return std::optional<std::string>();
  std::string target = git_reference_symbolic_target(head.get());
  if (!target.starts_with("refs/heads/")) return std::optional<std::string>();
  return std::optional<std::string>(target.substr(11));
}

Result<std::vector<std::string>> Git::branches() const {
  git_branch_iterator* it_raw = nullptr;
  int rc = git_branch_iterator_new(&it_raw, m_impl->repo.get(), GIT_BRANCH_LOCAL);
  BranchIterPtr it(it_raw);
  if (rc < 0) return fail_git("failed to list git branches", rc);
  std::vector<std::string> out;
  for (;;) {
    git_reference* ref_raw = nullptr;
    git_branch_t type;
    rc = git_branch_next(&ref_raw, &type, it.get());
    RefPtr ref(ref_raw);
    if (rc == GIT_ITEROVER) break;
    if (rc < 0) return fail_git("failed to list git branches", rc);
    const char* name = nullptr;
    if (git_branch_name(&name, ref.get()) == 0 && name != nullptr) out.emplace_back(name);
  }
  git_error_clear();
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Git::tags() const {
  StrArrayGuard names;
  int rc = git_tag_list(&names.arr, m_impl->repo.get());
  if (rc < 0) return fail_git("failed to list git tags", rc);
  std::vector<std::string> out(names.arr.strings, names.arr.strings + names.arr.count);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<std::string>> Git::all_commits() const {
  auto has = has_commits();
  if (!has) return std::unexpected(has.error());
  git_revwalk* walk_raw = nullptr;
  int rc = git_revwalk_new(&walk_raw, m_impl->repo.get());
  RevwalkPtr walk(walk_raw);
  if (rc < 0) return fail_git("failed to walk git history", rc);
  git_revwalk_sorting(walk.get(), GIT_SORT_TIME);
  if (*has) {
    rc = git_revwalk_push_head(walk.get());
    if (rc < 0) return fail_git("failed to walk git history", rc);
  }
  // Globs skip refs that do not peel to a commit (tags of blobs, for instance).
  for (const char* glob : {"refs/heads/*", "refs/tags/*", "refs/remotes/*"}) {
    rc = git_revwalk_push_glob(walk.get(), glob);
    if (rc < 0) return fail_git("failed to walk git history", rc);
  }
  std::vector<std::string> out;
  git_oid oid;
  while ((rc = git_revwalk_next(&oid, walk.get())) == 0) out.push_back(oid_hex(&oid));
  if (rc != GIT_ITEROVER) return fail_git("failed to walk git history", rc);
  git_error_clear();
  return out;
}

namespace {

Result<StatusListPtr> status_list(git_repository* repo, unsigned int flags, git_status_show_t show) {
  git_status_options opts = GIT_STATUS_OPTIONS_INIT;
  opts.show = show;
  opts.flags = flags;
  git_status_list* raw = nullptr;
  int rc = git_status_list_new(&raw, repo, &opts);
  StatusListPtr list(raw);
  if (rc < 0) return fail_git("failed to read git status", rc);
  return list;
}

}  // namespace

Result<std::vector<std::string>> Git::untracked_files() const {
  auto list = status_list(m_impl->repo.get(),
                          GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS,
                          GIT_STATUS_SHOW_WORKDIR_ONLY);
  if (!list) return std::unexpected(list.error());
  std::vector<std::string> out;
  size_t n = git_status_list_entrycount(list->get());
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list->get(), i);
    if ((e->status & GIT_STATUS_WT_NEW) == 0 || e->index_to_workdir == nullptr) continue;
    const char* p = e->index_to_workdir->new_file.path;
    if (p != nullptr) out.emplace_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<bool> Git::has_changes(Untracked untracked) const {
  unsigned int flags = untracked == Untracked::include ? static_cast<unsigned int>(GIT_STATUS_OPT_INCLUDE_UNTRACKED) : 0u;
  auto list = status_list(m_impl->repo.get(), flags, GIT_STATUS_SHOW_INDEX_AND_WORKDIR);
  if (!list) return std::unexpected(list.error());
  size_t n = git_status_list_entrycount(list->get());
  for (size_t i = 0; i < n; ++i) {
    const git_status_entry* e = git_status_byindex(list->get(), i);
    if (e->status != GIT_STATUS_CURRENT && (e->status & GIT_STATUS_IGNORED) == 0) return true;
  }
  return false;
}

Result<std::optional<std::string>> Git::config_get(const std::string& key) const {
  git_config* cfg_raw = nullptr;
  // A fresh snapshot: the repository's cached config would miss changes made by `git config`.
  int rc = git_repository_config_snapshot(&cfg_raw, m_impl->repo.get());
  ConfigPtr cfg(cfg_raw);
  if (rc < 0) return fail_git("failed to read git config", rc);
  git_config_entry* entry_raw = nullptr;
  rc = git_config_get_entry(&entry_raw, cfg.get(), key.c_str());
  ConfigEntryPtr entry(entry_raw);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<std::string>();
  }
  if (rc < 0) return fail_git("failed to read git config key '" + key + "'", rc);
  return std::optional<std::string>(entry->value != nullptr ? entry->value : "");
}

Status Git::config_set(const std::string& key, const std::string& value) {
  git_config* cfg_raw = nullptr;
  int rc = git_repository_config(&cfg_raw, m_impl->repo.get());
  ConfigPtr cfg(cfg_raw);
  if (rc < 0) return fail_git("failed to open git config", rc);
  git_config* local_raw = nullptr;
  rc = git_config_open_level(&local_raw, cfg.get(), GIT_CONFIG_LEVEL_LOCAL);
  ConfigPtr local(local_raw);
  if (rc < 0) return fail_git("failed to open the repository git config", rc);
  rc = git_config_set_string(local.get(), key.c_str(), value.c_str());
  if (rc < 0) return fail_git("failed to set git config key '" + key + "'", rc);
  return {};
}

// ---------------------------------------------------------------------------------------------
// .gitignore upkeep (formats.md §10.2)

namespace {

// Lines of a file, each without its "\n" (a last line without "\n" is kept as is).
std::vector<std::string> split_lines_keep_ends(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

struct GitignoreTarget {
  std::string rel_gitignore;  // relative to the work tree
  std::string abs_gitignore;
  std::string basename;
};

Result<GitignoreTarget> gitignore_target(const std::string& work_tree, const std::string& output_rel_path) {
  std::string rel = clean_rel(output_rel_path);
  if (rel.empty() || rel_escapes(rel))
    return fail(ErrorCode::invalid_argument, "output '" + output_rel_path + "' is not inside the git work tree");
  size_t slash = rel.rfind('/');
  GitignoreTarget t;
  t.basename = slash == std::string::npos ? rel : rel.substr(slash + 1);
  t.rel_gitignore = slash == std::string::npos ? ".gitignore" : rel.substr(0, slash) + "/.gitignore";
  t.abs_gitignore = work_tree + "/" + t.rel_gitignore;
  return t;
}

}  // namespace

std::string gitignore_entry(const std::string& output_rel_path) {
  std::string rel = clean_rel(output_rel_path);
  size_t slash = rel.rfind('/');
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  std::string entry = "/";
  // DVC escapes [ ] ! * # ?; Git also reads a backslash as an escape and drops trailing spaces,
  // so those are escaped too (DVC writes them raw, and Git then ignores another name).
  size_t trailing = base.find_last_not_of(' ');
  trailing = trailing == std::string::npos ? 0 : trailing + 1;
  for (size_t i = 0; i < base.size(); ++i) {
    char c = base[i];
    if ((std::strchr("[]!*#?\\", c) != nullptr && c != '\0') || (c == ' ' && i >= trailing)) entry += '\\';
    entry += c;
  }
  return entry;
}

Status check_gitignore_name(const std::string& output_rel_path) {
  std::string rel = clean_rel(output_rel_path);
  size_t slash = rel.rfind('/');
  std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
  // Git splits .gitignore at newlines and drops a carriage return before one: no escape exists.
  if (base.find('\n') != std::string::npos || (!base.empty() && base.back() == '\r'))
    return fail(ErrorCode::invalid_argument,
                "cannot add '" + output_rel_path + "' to .gitignore: its name contains a newline " +
                    "(or ends with a carriage return), which a .gitignore line cannot hold; rename it");
  return {};
}

Result<std::vector<std::string>> ignore_outputs(const Git& git, const std::vector<std::string>& output_rel_paths) {
  struct File {
    std::string abs, rel, content;
    std::unordered_set<std::string> lines;  // its lines without "\n", for the duplicate check
    uint32_t mode = 0644;
    bool dirty = false;
  };
  std::vector<File> files;  // in the order first touched
  std::unordered_map<std::string, size_t> file_at;  // abs .gitignore -> index in files
  std::unordered_set<std::string> added;  // outputs given an entry here: they and their contents are ignored now
  auto covered = [&](const std::string& rel) {  // the path or one of its parents (O(depth), not O(batch))
    std::string c = clean_rel(rel);
    while (true) {
      if (added.count(c)) return true;
      size_t slash = c.rfind('/');
      if (slash == std::string::npos) return false;
      c.resize(slash);
    }
  };
  for (const std::string& output_rel_path : output_rel_paths) {
    auto target = gitignore_target(git.work_tree(), output_rel_path);
    if (!target) return std::unexpected(target.error());
    if (covered(output_rel_path)) continue;
    auto ignored = git.is_ignored(output_rel_path);
    if (!ignored) return std::unexpected(ignored.error());
    if (*ignored) continue;
    if (auto ok = check_gitignore_name(output_rel_path); !ok) return std::unexpected(ok.error());
    const std::string entry = gitignore_entry(output_rel_path);
    auto found = file_at.find(target->abs_gitignore);
    auto it = found == file_at.end() ? files.end() : files.begin() + static_cast<std::ptrdiff_t>(found->second);
    if (it == files.end()) {
      File f;
      f.abs = target->abs_gitignore;
      f.rel = target->rel_gitignore;
      platform::FileStat st = platform::stat_path(f.abs);
      if (st.exists()) {
        auto bytes = platform::read_file(f.abs);
        if (!bytes) return std::unexpected(bytes.error());
        f.content = std::move(*bytes);
        f.mode = st.mode & 07777;
        for (const std::string& line : split_lines_keep_ends(f.content))
          f.lines.insert(line.ends_with('\n') ? line.substr(0, line.size() - 1) : line);
      }
      file_at.emplace(f.abs, files.size());
      files.push_back(std::move(f));
      it = files.end() - 1;
    }
    if (it->lines.count(entry)) continue;
    if (!it->content.empty() && it->content.back() != '\n') it->content += '\n';
    it->content += entry;
    it->content += '\n';
    it->lines.insert(entry);
    it->dirty = true;
    added.insert(clean_rel(output_rel_path));
  }
  std::vector<std::string> changed;
  for (const File& f : files) {
    if (!f.dirty) continue;
    if (auto made = platform::make_dirs(platform::parent_dir(f.abs)); !made) return std::unexpected(made.error());
    if (auto w = platform::write_file_atomic(f.abs, f.content, f.mode); !w) return std::unexpected(w.error());
    changed.push_back(f.rel);
  }
  if (!changed.empty()) git.refresh_ignores();
  return changed;
}

Result<std::optional<std::string>> ignore_output(const Git& git, const std::string& output_rel_path) {
  auto changed = ignore_outputs(git, {output_rel_path});
  if (!changed) return std::unexpected(changed.error());
  if (changed->empty()) return std::optional<std::string>();
  return std::optional<std::string>(changed->front());
}

Result<std::optional<std::string>> unignore_output(const std::string& work_tree,
                                                   const std::string& output_rel_path) {
  auto target = gitignore_target(strip_trailing_slash(work_tree), output_rel_path);
  if (!target) return std::unexpected(target.error());
  platform::FileStat st = platform::stat_path(target->abs_gitignore);
  if (!st.exists()) return std::optional<std::string>();
  auto bytes = platform::read_file(target->abs_gitignore);
  if (!bytes) return std::unexpected(bytes.error());

  const std::string escaped = gitignore_entry(output_rel_path);
  const std::string raw = "/" + target->basename;
  std::vector<std::string> kept;
  bool removed = false;
  for (std::string& line : split_lines_keep_ends(*bytes)) {
    std::string_view stripped = trim(line);
    std::string_view no_eol = line;
    while (!no_eol.empty() && (no_eol.back() == '\n' || no_eol.back() == '\r')) no_eol.remove_suffix(1);
    if (stripped == escaped || stripped == raw || no_eol == escaped) {
      removed = true;
      continue;
    }
    kept.push_back(std::move(line));
  }
  if (!removed) return std::optional<std::string>();
  if (kept.empty()) {
    if (auto r = platform::remove_file(target->abs_gitignore); !r) return std::unexpected(r.error());
  } else {
    std::string content;
    for (const std::string& line : kept) content += line;
    if (auto w = platform::write_file_atomic(target->abs_gitignore, content, st.mode & 07777); !w)
      return std::unexpected(w.error());
  }
  return std::optional<std::string>(target->rel_gitignore);
}

}  // namespace dvx::scm
