// Temporary work trees for queued and `--temp` experiments (executor.h).
#include "dvx/experiments/executor.h"

#include <stdlib.h>
#include <unistd.h>

#include "dvx/config/config.h"
#include "dvx/platform/files.h"

namespace dvx::experiments {

std::string queue_commit_message(const std::string& head, const std::string& baseline, const std::string& name) {
  return "dvc-exp:" + head + ":" + baseline + ":" + name;
}

Result<std::string> workspace_snapshot_tree(scm::Git& git) {
  auto untracked = git.untracked_files();
  if (!untracked) return std::unexpected(untracked.error());
  return git.workspace_tree(*untracked, false, scm::Git::Tracked::update);
}

Result<std::string> make_queue_commit(scm::Git& git, const std::string& tree,
                                      const std::vector<std::pair<std::string, std::string>>& files,
                                      const std::string& head, const std::string& baseline, const std::string& name) {
  std::string t = tree;
  if (!files.empty()) {
    auto overlaid = git.overlay_tree(tree, files);
    if (!overlaid) return std::unexpected(overlaid.error());
    t = *overlaid;
  }
  auto commit = git.create_commit(t, {head}, queue_commit_message(head, baseline, name));
  if (!commit) return std::unexpected(commit.error());
  if (auto s = git.set_ref(Queue::task_ref(*commit), *commit); !s) return std::unexpected(s.error());
  return *commit;
}

namespace {

// Copies a file, symlink or folder (recursively); never follows a symlink.
Status copy_path(const std::string& from, const std::string& to) {
  auto st = platform::lstat_path(from);
  switch (st.type) {
    case platform::FileType::missing:
      return fail(ErrorCode::not_found, "'" + from + "' does not exist");
    case platform::FileType::symlink: {
      char buf[4096];
      ssize_t n = ::readlink(from.c_str(), buf, sizeof buf);
      if (n < 0) return fail_errno("failed to read link '" + from + "'", errno);
      (void)platform::remove_file(to);
      return platform::symlink_file(std::string(buf, static_cast<size_t>(n)), to);
    }
    case platform::FileType::directory: {
      if (auto s = platform::make_dirs(to); !s) return s;
      auto entries = platform::list_dir(from);
      if (!entries) return std::unexpected(entries.error());
      for (auto& e : *entries)
        if (auto s = copy_path(from + "/" + e.name, to + "/" + e.name); !s) return s;
      return {};
    }
    default:
      if (auto s = platform::make_dirs(platform::parent_dir(to)); !s) return s;
      return platform::copy_file(from, to, st.mode & 07777);
  }
}

// Removes the folder unless release() was called.
class TempDirGuard {
 public:
  explicit TempDirGuard(std::string dir) : m_dir(std::move(dir)) {}
  TempDirGuard(const TempDirGuard&) = delete;
  TempDirGuard& operator=(const TempDirGuard&) = delete;
  ~TempDirGuard() {
    if (!m_dir.empty()) (void)platform::remove_all(m_dir);
  }
  std::string release() { return std::exchange(m_dir, std::string()); }

 private:
  std::string m_dir;
};

}  // namespace

Result<std::string> make_temp_workspace(const scm::Git& main_git, const std::string& exps_dir,
                                        const QueueTask& task, const std::string& cache_dir,
                                        const std::string& main_root, const std::vector<std::string>& copy_paths) {
  if (auto s = platform::make_dirs(exps_dir); !s) return std::unexpected(s.error());
  std::string templ = exps_dir + "/tmpXXXXXXXX";
  if (::mkdtemp(templ.data()) == nullptr) return fail_errno("failed to create a folder in '" + exps_dir + "'", errno);
  TempDirGuard guard(templ);
  const std::string& dir = templ;

  if (auto s = scm::Git::init_repo(dir); !s) return std::unexpected(s.error());
  std::string objects = main_git.common_dir() + "/objects";
  if (auto s = platform::write_file_atomic(dir + "/.git/objects/info/alternates", objects + "\n"); !s)
    return std::unexpected(s.error());
  // Detached at the baseline.
  if (auto s = platform::write_file_atomic(dir + "/.git/HEAD", task.baseline + "\n"); !s)
    return std::unexpected(s.error());
  {
    auto g = scm::Git::discover(dir);
    if (!g) return std::unexpected(g.error());
    if (!*g) return fail(ErrorCode::io, "the temporary Git repository '" + dir + "' cannot be opened");
    scm::Git& git = **g;
    // Git identity as in the repository (the experiment commit is authored as the user).
    for (const char* key : {"user.name", "user.email"})
      if (auto v = main_git.config_get(key); v && *v)
        if (auto s = git.config_set(key, **v); !s) return std::unexpected(s.error());
    if (auto s = git.reset_index(task.baseline); !s) return std::unexpected(s.error());
    auto written = git.write_tree_files(task.id);
    if (!written) return std::unexpected(written.error());
  }
  // DVC's TempDirExecutor: the run's cache is the repository's.
  std::string dvc_dir = dir + "/.dvc";
  if (!platform::lstat_path(dvc_dir).exists())
    return fail(ErrorCode::not_found, "the queued experiment holds no .dvc folder");
  if (auto s = platform::write_file_atomic(dvc_dir + "/config.local", "[cache]\n    dir = " + cache_dir + "\n"); !s)
    return std::unexpected(s.error());
  for (const std::string& rel : copy_paths) {
    std::string clean = platform::normalize_path(rel);
    if (clean.empty() || clean == "." || clean.starts_with("../") || clean == ".." || clean.starts_with("/"))
      return fail(ErrorCode::invalid_argument, "copy path '" + rel + "' is not inside the repository");
    if (auto s = copy_path(main_root + "/" + clean, dir + "/" + clean); !s) return std::unexpected(s.error());
  }
  return guard.release();
}

Status import_git_objects(const std::string& from_git_dir, const std::string& to_git_dir) {
  std::string from = from_git_dir + "/objects", to = to_git_dir + "/objects";
  auto fans = platform::list_dir(from);
  if (!fans) return std::unexpected(fans.error());
  for (auto& fan : *fans) {
    if (fan.name.size() != 2 || fan.type != platform::FileType::directory) continue;
    auto objs = platform::list_dir(from + "/" + fan.name);
    if (!objs) return std::unexpected(objs.error());
    for (auto& o : *objs) {
      if (o.name.size() != 38) continue;
      std::string dst = to + "/" + fan.name + "/" + o.name;
      if (platform::lstat_path(dst).exists()) continue;
      if (auto s = platform::make_dirs(to + "/" + fan.name); !s) return s;
      std::string tmp = platform::temp_path_beside(dst);
      if (auto s = platform::copy_file(from + "/" + fan.name + "/" + o.name, tmp, 0444); !s) {
        (void)platform::remove_file(tmp);
        return s;
      }
      if (auto s = platform::rename_path(tmp, dst); !s) {
        (void)platform::remove_file(tmp);
        return s;
      }
    }
  }
  return {};
}

}  // namespace dvx::experiments
