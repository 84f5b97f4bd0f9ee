// Git writes for experiments: references, commits built from the work tree, index resets and
// writing a commit's files into the work tree (git.h, "commits and references").
#include <git2.h>

#include <algorithm>
#include <cstdlib>

#include "dvx/platform/files.h"
#include "dvx/scm/git.h"
#include "dvx/scm/git_impl.h"

namespace dvx::scm {
using namespace detail;
namespace {

Result<git_oid> parse_oid(const std::string& hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstr(&oid, hex.c_str()) < 0) {
    git_error_clear();
    return fail(ErrorCode::invalid_argument, "invalid Git object id '" + hex + "'");
  }
  return oid;
}

// The commit a reference ends at, or nullopt when it does not peel to one.
std::optional<std::string> peeled_commit(git_reference* ref) {
  git_object* raw = nullptr;
  int rc = git_reference_peel(&raw, ref, GIT_OBJECT_COMMIT);
  ObjectPtr obj(raw);
  if (rc < 0) {
    git_error_clear();
    return std::nullopt;
  }
  return oid_hex(git_object_id(obj.get()));
}

// Author/committer as `git commit` takes them from the config; dulwich (DVC) falls back to the
// login name when the config has none.
Result<SignaturePtr> default_signature(git_repository* repo) {
  git_signature* raw = nullptr;
  int rc = git_signature_default(&raw, repo);
  if (rc == 0) return SignaturePtr(raw);
  git_error_clear();
  const char* user = std::getenv("USER");
  std::string name = user != nullptr && *user != '\0' ? user : "dvx";
  rc = git_signature_now(&raw, name.c_str(), (name + "@localhost").c_str());
  if (rc < 0) return fail_git("failed to make a Git signature", rc);
  return SignaturePtr(raw);
}

}  // namespace

Result<std::optional<std::string>> Git::ref_target(const std::string& ref) const {
  git_reference* raw = nullptr;
  int rc = git_reference_lookup(&raw, m_impl->repo.get(), ref.c_str());
  RefPtr r(raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    git_error_clear();
    return std::optional<std::string>();
  }
  if (rc < 0) return fail_git("failed to read Git reference '" + ref + "'", rc);
  return peeled_commit(r.get());
}

Status Git::set_ref(const std::string& ref, const std::string& id, const std::string& log_message) {
  auto oid = parse_oid(id);
  if (!oid) return std::unexpected(oid.error());
  git_reference* raw = nullptr;
  int rc = git_reference_create(&raw, m_impl->repo.get(), ref.c_str(), &*oid, 1,
                                log_message.empty() ? nullptr : log_message.c_str());
  RefPtr r(raw);
  if (rc < 0) return fail_git("failed to set Git reference '" + ref + "'", rc);
  return {};
}

Status Git::delete_ref(const std::string& ref) {
  git_reference* raw = nullptr;
  int rc = git_reference_lookup(&raw, m_impl->repo.get(), ref.c_str());
  RefPtr r(raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    git_error_clear();
    return {};
  }
  if (rc < 0) return fail_git("failed to read Git reference '" + ref + "'", rc);
  rc = git_reference_delete(r.get());
  if (rc < 0) return fail_git("failed to delete Git reference '" + ref + "'", rc);
  return {};
}

Result<bool> Git::is_ancestor(const std::string& ancestor, const std::string& descendant) const {
  auto a = parse_oid(ancestor);
  if (!a) return std::unexpected(a.error());
  auto d = parse_oid(descendant);
  if (!d) return std::unexpected(d.error());
  if (git_oid_equal(&*a, &*d)) return true;
  int rc = git_graph_descendant_of(m_impl->repo.get(), &*d, &*a);
  if (rc < 0) return fail_git("failed to walk git history", rc);
  return rc == 1;
}

Result<std::string> Git::workspace_tree(const std::vector<std::string>& paths, bool force_paths,
                                        Tracked tracked) const {
  auto idx_r = m_impl->index();
  if (!idx_r) return std::unexpected(idx_r.error());
  git_index* idx = *idx_r;
  // The repository's index object is changed in memory only and re-read from disk at the end,
  // so the index file stays as it was.
  auto build = [&]() -> Result<std::string> {
    int rc = tracked == Tracked::update ? git_index_update_all(idx, nullptr, nullptr, nullptr)
             : tracked == Tracked::none ? git_index_clear(idx)
                                        : 0;
    if (rc < 0) return fail_git("failed to update the git index", rc);
    refresh_ignores();
    for (const std::string& given : paths) {
      std::string rel = clean_rel(given);
      if (rel.empty() || rel_escapes(rel)) continue;
      std::string abs = m_impl->work_tree + "/" + rel;
      platform::FileStat st = platform::lstat_path(abs);
      if (st.type == platform::FileType::directory) {
        char* specs[] = {rel.data()};
        git_strarray arr{specs, 1};
        unsigned flags = GIT_INDEX_ADD_DISABLE_PATHSPEC_MATCH | (force_paths ? unsigned{GIT_INDEX_ADD_FORCE} : 0u);
        rc = git_index_add_all(idx, &arr, flags, nullptr, nullptr);
        if (rc >= 0) rc = git_index_update_all(idx, &arr, nullptr, nullptr);
      } else if (st.exists()) {
        if (!force_paths && git_index_get_bypath(idx, rel.c_str(), 0) == nullptr) {
          int ignored = 0;
          rc = git_ignore_path_is_ignored(&ignored, m_impl->repo.get(), rel.c_str());
          if (rc < 0) return fail_git("failed to check whether '" + rel + "' is ignored by git", rc);
          if (ignored != 0) continue;
        }
        rc = git_index_add_bypath(idx, rel.c_str());
      } else {
        rc = git_index_remove_bypath(idx, rel.c_str());
        if (rc >= 0) rc = git_index_remove_directory(idx, rel.c_str(), 0);
      }
      if (rc < 0) return fail_git("failed to add '" + rel + "' to the git index", rc);
    }
    git_oid tree;
    rc = git_index_write_tree(&tree, idx);
    if (rc < 0) return fail_git("failed to write a git tree", rc);
    return oid_hex(&tree);
  };
  auto result = build();
  int rc = git_index_read(idx, 1);
  if (rc < 0 && result) return fail_git("failed to read the git index", rc);
  return result;
}

Result<std::string> Git::overlay_tree(const std::string& tree,
                                      const std::vector<std::pair<std::string, std::string>>& files) const {
  auto tree_oid = parse_oid(tree);
  if (!tree_oid) return std::unexpected(tree_oid.error());
  git_tree* tree_raw = nullptr;
  int rc = git_tree_lookup(&tree_raw, m_impl->repo.get(), &*tree_oid);
  TreePtr base(tree_raw);
  if (rc < 0) return fail_git("failed to read git tree " + tree, rc);
  // An in-memory index: the repository's index file is never involved.
  git_index* idx_raw = nullptr;
  rc = git_index_new(&idx_raw);
  IndexPtr idx(idx_raw);
  if (rc < 0) return fail_git("failed to create an in-memory git index", rc);
  rc = git_index_read_tree(idx.get(), base.get());
  if (rc < 0) return fail_git("failed to read git tree " + tree, rc);
  for (auto& [given, content] : files) {
    std::string rel = clean_rel(given);
    if (rel.empty() || rel_escapes(rel)) return fail(ErrorCode::invalid_argument, "invalid path '" + given + "'");
    git_index_entry entry{};
    entry.path = rel.c_str();
    entry.mode = GIT_FILEMODE_BLOB;
    if (const git_index_entry* old = git_index_get_bypath(idx.get(), rel.c_str(), 0);
        old != nullptr && old->mode == GIT_FILEMODE_BLOB_EXECUTABLE)
      entry.mode = GIT_FILEMODE_BLOB_EXECUTABLE;
    rc = git_blob_create_from_buffer(&entry.id, m_impl->repo.get(), content.data(), content.size());
    if (rc < 0) return fail_git("failed to write '" + rel + "' as a git blob", rc);
    rc = git_index_add(idx.get(), &entry);
    if (rc < 0) return fail_git("failed to add '" + rel + "' to a git tree", rc);
  }
  git_oid out;
  rc = git_index_write_tree_to(&out, idx.get(), m_impl->repo.get());
  if (rc < 0) return fail_git("failed to write a git tree", rc);
  return oid_hex(&out);
}

Result<std::string> Git::create_commit(const std::string& tree, const std::vector<std::string>& parents,
                                       const std::string& message) {
  auto tree_oid = parse_oid(tree);
  if (!tree_oid) return std::unexpected(tree_oid.error());
  git_tree* tree_raw = nullptr;
  int rc = git_tree_lookup(&tree_raw, m_impl->repo.get(), &*tree_oid);
  TreePtr tree_obj(tree_raw);
  if (rc < 0) return fail_git("failed to read git tree " + tree, rc);
  std::vector<CommitPtr> parent_objs;
  std::vector<const git_commit*> parent_ptrs;
  for (const std::string& p : parents) {
    auto oid = parse_oid(p);
    if (!oid) return std::unexpected(oid.error());
    git_commit* raw = nullptr;
    rc = git_commit_lookup(&raw, m_impl->repo.get(), &*oid);
    parent_objs.emplace_back(raw);
    if (rc < 0) return fail_git("failed to read commit " + p, rc);
    parent_ptrs.push_back(raw);
  }
  auto sig = default_signature(m_impl->repo.get());
  if (!sig) return std::unexpected(sig.error());
  git_oid out;
  rc = git_commit_create(&out, m_impl->repo.get(), nullptr, sig->get(), sig->get(), nullptr, message.c_str(),
                         tree_obj.get(), parent_ptrs.size(), parent_ptrs.data());
  if (rc < 0) return fail_git("failed to create a git commit", rc);
  return oid_hex(&out);
}

Status Git::reset_index(const std::string& commit) {
  auto tree = m_impl->tree_of(commit);
  if (!tree) return std::unexpected(tree.error());
  auto idx_r = m_impl->index();
  if (!idx_r) return std::unexpected(idx_r.error());
  int rc = git_index_read_tree(*idx_r, tree->get());
  if (rc < 0) return fail_git("failed to reset the git index", rc);
  rc = git_index_write(*idx_r);
  if (rc < 0) return fail_git("failed to write the git index", rc);
  return {};
}

Result<std::vector<std::string>> Git::write_tree_files(const std::string& commit) {
  auto tree = m_impl->tree_of(commit);
  if (!tree) return std::unexpected(tree.error());
  struct Item {
    std::string path;
    git_oid id;
    git_filemode_t mode;
  };
  std::vector<Item> items;
  auto cb = [](const char* root, const git_tree_entry* entry, void* payload) -> int {
    git_object_t type = git_tree_entry_type(entry);
    if (type != GIT_OBJECT_BLOB) return 0;  // folders are walked into; submodules are skipped
    static_cast<std::vector<Item>*>(payload)->push_back(
        Item{std::string(root) + git_tree_entry_name(entry), *git_tree_entry_id(entry), git_tree_entry_filemode(entry)});
    return 0;
  };
  int rc = git_tree_walk(tree->get(), GIT_TREEWALK_PRE, cb, &items);
  if (rc < 0) return fail_git("failed to list files at " + commit, rc);
  for (const Item& item : items) {
    size_t start = 0;
    for (;;) {
      size_t end = item.path.find('/', start);
      std::string_view part(item.path.data() + start, (end == std::string::npos ? item.path.size() : end) - start);
      if (part.empty() || part == "." || part == ".." || part == ".git")
        return fail(ErrorCode::invalid_argument, "refusing to write '" + item.path + "' of " + commit +
                                                     ": the path leaves the work tree or enters .git");
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  std::vector<std::string> written;
  for (const Item& item : items) {
    // Never write through a symlink or over a file standing where a folder of the tree is.
    std::string abs = m_impl->work_tree + "/" + item.path;
    for (size_t pos = item.path.find('/'); pos != std::string::npos; pos = item.path.find('/', pos + 1)) {
      std::string dir = m_impl->work_tree + "/" + item.path.substr(0, pos);
      auto st = platform::lstat_path(dir);
      if (st.type == platform::FileType::missing) break;
      if (st.type != platform::FileType::directory)
        return fail(ErrorCode::conflict, "cannot write '" + item.path + "': '" + item.path.substr(0, pos) + "' is not a folder");
    }
    git_blob* blob_raw = nullptr;
    rc = git_blob_lookup(&blob_raw, m_impl->repo.get(), &item.id);
    BlobPtr blob(blob_raw);
    if (rc < 0) return fail_git("failed to read '" + item.path + "' at " + commit, rc);
    std::string_view data(static_cast<const char*>(git_blob_rawcontent(blob.get())),
                          static_cast<size_t>(git_blob_rawsize(blob.get())));
    if (auto s = platform::make_dirs(platform::parent_dir(abs)); !s) return std::unexpected(s.error());
    auto st = platform::lstat_path(abs);
    if (st.type == platform::FileType::directory)
      return fail(ErrorCode::conflict, "cannot write '" + item.path + "': a folder is in the way");
    if (item.mode == GIT_FILEMODE_LINK) {
      if (st.exists())
        if (auto s = platform::remove_file(abs); !s) return std::unexpected(s.error());
      if (auto s = platform::symlink_file(std::string(data), abs); !s) return std::unexpected(s.error());
    } else {
      uint32_t mode = item.mode == GIT_FILEMODE_BLOB_EXECUTABLE ? 0755 : 0644;
      if (auto s = platform::write_file_atomic(abs, data, mode); !s) return std::unexpected(s.error());
    }
    written.push_back(item.path);
  }
  std::sort(written.begin(), written.end());
  return written;
}

}  // namespace dvx::scm
