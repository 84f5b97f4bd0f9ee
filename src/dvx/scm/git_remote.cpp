// Talking to Git remotes (a configured remote's name or a URL: file://, a path, git://, ssh,
// https): listing their references, pushing and fetching references by full name with scmrepo's
// up-to-date / diverged / success outcome, and deleting references there. `exp push`/`exp pull`,
// `exp list <git_remote>` and `exp remove -g` are built on these.
#include <algorithm>

#include "dvx/scm/git.h"
#include "dvx/scm/git_impl.h"

namespace dvx::scm {

namespace {

using RemotePtr = GitPtr<git_remote, git_remote_free>;

std::unexpected<Error> invalid_remote(const std::string& remote) {
  git_error_clear();
  return std::unexpected<Error>(Error{ErrorCode::invalid_argument, "'" + remote + "' is not a valid Git remote or URL"});
}

// The remote by configured name, else an anonymous remote for the URL.
Result<RemotePtr> open_remote(git_repository* repo, const std::string& remote) {
  git_remote* raw = nullptr;
  int rc = git_remote_lookup(&raw, repo, remote.c_str());
  if (rc == 0) return RemotePtr(raw);
  git_error_clear();
  raw = nullptr;
  rc = git_remote_create_anonymous(&raw, repo, remote.c_str());
  if (rc < 0) return invalid_remote(remote);
  return RemotePtr(raw);
}

// Connected for `direction`; the advertised references (full name -> id) read at once.
Result<std::map<std::string, std::string>> connect_and_list(git_remote* remote, git_direction direction,
                                                            const std::string& name) {
  git_remote_callbacks callbacks;
  git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
  int rc = git_remote_connect(remote, direction, &callbacks, nullptr, nullptr);
  if (rc < 0) {
    const ::git_error* e = git_error_last();
    std::string why = e != nullptr && e->message != nullptr ? e->message : "";
    // A remote that is not a repository at all reads as DVC's InvalidRemote.
    if (rc == GIT_ENOTFOUND || why.find("could not find repository") != std::string::npos ||
        why.find("not a git repository") != std::string::npos || why.find("unsupported URL") != std::string::npos ||
        why.find("failed to resolve path") != std::string::npos)
      return invalid_remote(name);
    return fail_git("failed to connect to Git remote '" + name + "'", rc);
  }
  const git_remote_head** heads = nullptr;
  size_t n = 0;
  rc = git_remote_ls(&heads, &n, remote);
  if (rc < 0) return fail_git("failed to list the references of '" + name + "'", rc);
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < n; ++i) out[heads[i]->name] = oid_hex(&heads[i]->oid);
  return out;
}

struct StrArray {
  std::vector<std::string> strings;
  std::vector<char*> ptrs;
  git_strarray arr{nullptr, 0};
  explicit StrArray(std::vector<std::string> s) : strings(std::move(s)) {
    for (auto& x : strings) ptrs.push_back(x.data());
    arr.strings = ptrs.data();
    arr.count = ptrs.size();
  }
};

// Pushes the refspecs; a reference the remote refused fails with its reason.
Status push_specs(git_remote* remote, const std::vector<std::string>& specs, const std::string& name) {
  if (specs.empty()) return {};
  StrArray arr(specs);
  git_push_options opts;
  git_push_options_init(&opts, GIT_PUSH_OPTIONS_VERSION);
  std::string refused;
  opts.callbacks.payload = &refused;
  opts.callbacks.push_update_reference = [](const char* ref, const char* status, void* data) -> int {
    if (status != nullptr) {
      auto* out = static_cast<std::string*>(data);
      if (out->empty()) *out = std::string(ref) + " (" + status + ")";
    }
    return 0;
  };
  int rc = git_remote_push(remote, &arr.arr, &opts);
  if (rc < 0) return fail_git("failed to push to Git remote '" + name + "'", rc);
  if (!refused.empty())
    return std::unexpected(Error{ErrorCode::conflict, "Git remote '" + name + "' refused " + refused});
  return {};
}

bool known_commit(git_repository* repo, const std::string& id) {
  git_oid oid;
  if (git_oid_fromstr(&oid, id.c_str()) < 0) {
    git_error_clear();
    return false;
  }
  git_commit* raw = nullptr;
  int rc = git_commit_lookup(&raw, repo, &oid);
  CommitPtr c(raw);
  if (rc < 0) git_error_clear();
  return rc == 0;
}

}  // namespace

Result<std::vector<RefTarget>> Git::remote_refs(const std::string& remote, const std::string& prefix) const {
  auto r = open_remote(m_impl->repo.get(), remote);
  if (!r) return std::unexpected(r.error());
  auto listed = connect_and_list(r->get(), GIT_DIRECTION_FETCH, remote);
  git_remote_disconnect(r->get());
  if (!listed) return std::unexpected(listed.error());
  std::vector<RefTarget> out;
  for (auto& [name, id] : *listed)
    if (name.starts_with(prefix) && !name.ends_with("^{}")) out.push_back({name, id, id});
  return out;  // std::map: sorted by name
}

Result<std::map<std::string, Git::SyncStatus>> Git::push_refs(const std::string& remote,
                                                              const std::vector<std::string>& refs, bool force) {
  auto r = open_remote(m_impl->repo.get(), remote);
  if (!r) return std::unexpected(r.error());
  auto theirs = connect_and_list(r->get(), GIT_DIRECTION_PUSH, remote);
  if (!theirs) return std::unexpected(theirs.error());
  std::map<std::string, SyncStatus> out;
  std::vector<std::string> specs;
  for (auto& ref : refs) {
    auto ours = ref_target(ref);
    if (!ours) return std::unexpected(ours.error());
    if (!*ours) return std::unexpected(Error{ErrorCode::not_found, "unknown Git reference '" + ref + "'"});
    auto it = theirs->find(ref);
    if (it != theirs->end()) {
      if (it->second == **ours) {
        out[ref] = SyncStatus::up_to_date;
        continue;
      }
      bool fast_forward = false;
      if (known_commit(m_impl->repo.get(), it->second)) {
        auto anc = is_ancestor(it->second, **ours);
        fast_forward = anc && *anc;
      }
      if (!fast_forward && !force) {
        out[ref] = SyncStatus::diverged;
        continue;
      }
    }
    specs.push_back((force ? "+" : "") + ref + ":" + ref);
    out[ref] = SyncStatus::success;
  }
  auto pushed = push_specs(r->get(), specs, remote);
  git_remote_disconnect(r->get());
  if (!pushed) return std::unexpected(pushed.error());
  return out;
}

Result<std::map<std::string, Git::SyncStatus>> Git::fetch_refs(const std::string& remote,
                                                               const std::vector<std::string>& refs, bool force) {
  auto r = open_remote(m_impl->repo.get(), remote);
  if (!r) return std::unexpected(r.error());
  auto theirs = connect_and_list(r->get(), GIT_DIRECTION_FETCH, remote);
  if (!theirs) return std::unexpected(theirs.error());
  std::vector<std::string> wanted;
  for (auto& ref : refs)
    if (theirs->count(ref)) wanted.push_back(ref + ":" + ref);
  if (!wanted.empty()) {
    StrArray arr(wanted);
    git_fetch_options opts;
    git_fetch_options_init(&opts, GIT_FETCH_OPTIONS_VERSION);
    opts.update_fetchhead = 0;
    // Only the objects: the references are set below, once their outcome is known.
    int rc = git_remote_download(r->get(), &arr.arr, &opts);
    if (rc < 0) {
      git_remote_disconnect(r->get());
      return fail_git("failed to fetch from Git remote '" + remote + "'", rc);
    }
  }
  git_remote_disconnect(r->get());
  std::map<std::string, SyncStatus> out;
  for (auto& ref : refs) {
    auto it = theirs->find(ref);
    if (it == theirs->end()) continue;
    auto ours = ref_target(ref);
    if (!ours) return std::unexpected(ours.error());
    if (*ours) {
      if (**ours == it->second) {
        out[ref] = SyncStatus::up_to_date;
        continue;
      }
      auto anc = is_ancestor(**ours, it->second);
      if (!(anc && *anc) && !force) {
        out[ref] = SyncStatus::diverged;
        continue;
      }
    }
    if (auto s = set_ref(ref, it->second); !s) return std::unexpected(s.error());
    out[ref] = SyncStatus::success;
  }
  return out;
}

Status Git::delete_remote_refs(const std::string& remote, const std::vector<std::string>& refs) {
  auto r = open_remote(m_impl->repo.get(), remote);
  if (!r) return std::unexpected(r.error());
  auto theirs = connect_and_list(r->get(), GIT_DIRECTION_PUSH, remote);
  if (!theirs) return std::unexpected(theirs.error());
  std::vector<std::string> specs;
  for (auto& ref : refs) specs.push_back(":" + ref);
  auto s = push_specs(r->get(), specs, remote);
  git_remote_disconnect(r->get());
  return s;
}

}  // namespace dvx::scm
