// Private to src/dvx/scm: the libgit2 pieces git.cpp, git_refs.cpp and git_write.cpp share (RAII holders,
// error conversion, path helpers) and the definition of Git::Impl. Never included outside scm.
// Thread-safety: as Git (one thread per object).
#pragma once

#include <git2.h>

#include <memory>
#include <string>

#include "dvx/base/result.h"
#include "dvx/platform/files.h"
#include "dvx/scm/git.h"

namespace dvx::scm {
namespace detail {

// libgit2 must be initialised once per process before any call; it is never shut down because
// Git objects may outlive main's locals.
inline void ensure_libgit2() {
  static const int init_result = git_libgit2_init();
  (void)init_result;
}

// RAII holders for every libgit2 object type used here.
template <class T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* p) const {
    if (p != nullptr) Free(p);
  }
};
template <class T, void (*Free)(T*)>
using GitPtr = std::unique_ptr<T, GitDeleter<T, Free>>;

using RepoPtr = GitPtr<git_repository, git_repository_free>;
using IndexPtr = GitPtr<git_index, git_index_free>;
using ObjectPtr = GitPtr<git_object, git_object_free>;
using TreePtr = GitPtr<git_tree, git_tree_free>;
using TreeEntryPtr = GitPtr<git_tree_entry, git_tree_entry_free>;
using BlobPtr = GitPtr<git_blob, git_blob_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
using SignaturePtr = GitPtr<git_signature, git_signature_free>;
using RefIterPtr = GitPtr<git_reference_iterator, git_reference_iterator_free>;
using RefPtr = GitPtr<git_reference, git_reference_free>;
using BranchIterPtr = GitPtr<git_branch_iterator, git_branch_iterator_free>;
using RevwalkPtr = GitPtr<git_revwalk, git_revwalk_free>;
using StatusListPtr = GitPtr<git_status_list, git_status_list_free>;
using ConfigPtr = GitPtr<git_config, git_config_free>;
using ConfigEntryPtr = GitPtr<git_config_entry, git_config_entry_free>;

struct BufGuard {
  git_buf buf = GIT_BUF_INIT;
  BufGuard() = default;
  BufGuard(const BufGuard&) = delete;
  BufGuard& operator=(const BufGuard&) = delete;
  ~BufGuard() { git_buf_dispose(&buf); }
};

struct StrArrayGuard {
  git_strarray arr{nullptr, 0};
  StrArrayGuard() = default;
  StrArrayGuard(const StrArrayGuard&) = delete;
  StrArrayGuard& operator=(const StrArrayGuard&) = delete;
  ~StrArrayGuard() { git_strarray_dispose(&arr); }
};

inline ErrorCode code_for(int rc) {
  switch (rc) {
    case GIT_ENOTFOUND:
    case GIT_EUNBORNBRANCH:
      return ErrorCode::not_found;
    case GIT_ELOCKED:
    case GIT_ECONFLICT:
    case GIT_EMODIFIED:
      return ErrorCode::conflict;
    case GIT_EAMBIGUOUS:
    case GIT_EINVALIDSPEC:
    case GIT_EINVALID:
      return ErrorCode::invalid_argument;
    case GIT_EOWNER:
      return ErrorCode::permission;
    default:
      return ErrorCode::io;
  }
}

// "<what>: <libgit2 message>" for the failed call that returned `rc`.
inline Error make_git_error(const std::string& what, int rc) {
  const ::git_error* e = git_error_last();
  std::string msg = what;
  if (e != nullptr && e->message != nullptr && *e->message != '\0') {
    msg += ": ";
    msg += e->message;
  }
  return Error{code_for(rc), std::move(msg)};
}

inline std::unexpected<Error> fail_git(const std::string& what, int rc) {
  return std::unexpected<Error>(make_git_error(what, rc));
}

inline std::string strip_trailing_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// Work-tree relative path in the form libgit2 expects: '/'-separated, no "./", no trailing '/'.
inline std::string clean_rel(const std::string& rel_path) {
  std::string p = platform::normalize_path(rel_path);
  if (p == ".") return "";
  while (p.starts_with("./")) p.erase(0, 2);
  return strip_trailing_slash(p);
}

inline bool rel_escapes(const std::string& rel) {
  return rel == ".." || rel.starts_with("../") || rel.starts_with("/");
}

inline std::string oid_hex(const git_oid* oid) {
  char out[GIT_OID_HEXSZ + 1];
  git_oid_tostr(out, sizeof out, oid);
  return std::string(out);
}

}  // namespace detail

using namespace detail;

struct Git::Impl {
  using TreePtr = detail::TreePtr;
  using RepoPtr = detail::RepoPtr;
  RepoPtr repo;
  std::string work_tree;
  std::string git_dir;
  std::string common_dir;

  // The repository's index, re-read from disk if another process changed it.
  Result<git_index*> index() const {
    git_index* idx = nullptr;
    int rc = git_repository_index(&idx, repo.get());
    if (rc < 0) return detail::fail_git("failed to open the git index", rc);
    // git_repository_index hands out a new reference each time; the repository keeps its own.
    git_index_free(idx);
    rc = git_index_read(idx, 0);
    if (rc < 0) return detail::fail_git("failed to read the git index", rc);
    return idx;
  }

  // Peeled tree of a revision.
  Result<TreePtr> tree_of(const std::string& rev) const;
};

}  // namespace dvx::scm
