// Reading references and commits (the experiments' refs/exps/... namespace, branch and tag
// names for describing baselines, commit parents and times).
#include <algorithm>

#include "dvx/scm/git.h"
#include "dvx/scm/git_impl.h"

namespace dvx::scm {

namespace {
using RefIterPtr = GitPtr<git_reference_iterator, git_reference_iterator_free>;
using CommitPtr = GitPtr<git_commit, git_commit_free>;
}  // namespace

Result<std::vector<RefTarget>> Git::refs_under(const std::string& prefix) const {
  git_reference_iterator* it_raw = nullptr;
  int rc = git_reference_iterator_new(&it_raw, m_impl->repo.get());
  RefIterPtr it(it_raw);
  if (rc < 0) return fail_git("failed to list git references", rc);
  std::vector<RefTarget> out;
  for (;;) {
    const char* name = nullptr;
    rc = git_reference_next_name(&name, it.get());
    if (rc == GIT_ITEROVER) break;
    if (rc < 0) return fail_git("failed to list git references", rc);
    std::string ref = name;
    if (!ref.starts_with(prefix)) continue;
    RefTarget t{ref, "", ""};
    git_oid oid;
    git_object* obj_raw = nullptr;
    if (git_reference_name_to_id(&oid, m_impl->repo.get(), ref.c_str()) == 0 &&
        git_object_lookup(&obj_raw, m_impl->repo.get(), &oid, GIT_OBJECT_ANY) == 0) {
      ObjectPtr obj(obj_raw);
      t.target = oid_hex(&oid);
      git_object* peeled_raw = nullptr;
      if (git_object_peel(&peeled_raw, obj.get(), GIT_OBJECT_COMMIT) == 0) {
        ObjectPtr peeled(peeled_raw);
        t.commit = oid_hex(git_object_id(peeled.get()));
      }
    }
    git_error_clear();
    out.push_back(std::move(t));
  }
  git_error_clear();
  std::sort(out.begin(), out.end(), [](const RefTarget& a, const RefTarget& b) { return a.name < b.name; });
  return out;
}

Result<CommitInfo> Git::commit_info(const std::string& rev) const {
  auto id = resolve(rev);
  if (!id) return std::unexpected(id.error());
  git_oid oid;
  if (git_oid_fromstr(&oid, id->c_str()) < 0) {
    git_error_clear();
    return fail(ErrorCode::not_found, "unknown Git revision '" + rev + "'");
  }
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, m_impl->repo.get(), &oid);
  CommitPtr commit(raw);
  if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC) {
    git_error_clear();
    return fail(ErrorCode::not_found, "unknown Git revision '" + rev + "'");
  }
  if (rc < 0) return fail_git("failed to read commit '" + *id + "'", rc);
  CommitInfo info;
  info.id = *id;
  info.tree = oid_hex(git_commit_tree_id(commit.get()));
  unsigned n = git_commit_parentcount(commit.get());
  for (unsigned i = 0; i < n; ++i) info.parents.push_back(oid_hex(git_commit_parent_id(commit.get(), i)));
  info.time = static_cast<int64_t>(git_commit_time(commit.get()));
  if (const char* msg = git_commit_message_raw(commit.get())) info.message = msg;
  return info;
}

}  // namespace dvx::scm
