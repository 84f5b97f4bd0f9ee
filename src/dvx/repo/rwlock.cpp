#include "dvx/repo/rwlock.h"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "dvx/formats/py_json.h"
#include "dvx/platform/files.h"

namespace dvx::repo {

namespace fsx = dvx::platform;

namespace {

bool overlaps(const std::string& a, const std::string& b) {
  return a == b || fsx::is_within(a, b) || fsx::is_within(b, a);
}

bool process_exists(long long pid) {
  if (pid <= 0 || pid > INT32_MAX) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

struct Claim {
  std::string path, cmd;
  long long pid = 0;
  bool write = false;
};

}  // namespace

Status check_rwlock(const std::string& tmp_dir, const LockScope& scope,
                    const std::function<void(const std::string&)>& warn) {
  const std::string file = tmp_dir + "/rwlock";
  if (fsx::stat_path(file).type == fsx::FileType::missing) return {};
  // The guard DVC takes around every edit of the file (retried like the repository lock).
  std::optional<fsx::FileLock> guard;
  for (int attempt = 0;; ++attempt) {
    auto l = fsx::FileLock::try_acquire(tmp_dir + "/rwlock.lock");
    if (l) {
      guard.emplace(std::move(*l));
      break;
    }
    if (l.error().code != ErrorCode::conflict || attempt >= 6) return std::unexpected(l.error());
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  auto text = fsx::read_file(file);
  if (!text) {
    if (text.error().code == ErrorCode::not_found) return {};
    return std::unexpected(text.error());
  }
  const std::string corrupted = "Unable to read RWLock-file '" + file + "'. JSON structure is corrupted";
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(*text, nullptr, false);
  if (doc.is_discarded()) return fail(ErrorCode::corruption, corrupted);
  if (!doc.is_object()) return fail(ErrorCode::corruption, "RWLock-file '" + file + "' format error.");

  // Read every claim; anything not shaped like DVC's schema is a format error (as DVC says).
  std::vector<Claim> claims;
  auto info = [&](const nlohmann::ordered_json& j, const std::string& path, bool write) -> bool {
    if (!j.is_object() || !j.contains("pid") || !j.contains("cmd") || !j["pid"].is_number_integer() ||
        !j["cmd"].is_string())
      return false;
    claims.push_back({path, j["cmd"].get<std::string>(), j["pid"].get<long long>(), write});
    return true;
  };
  for (auto& [mode, table] : doc.items()) {
    if (mode != "read" && mode != "write") continue;
    if (!table.is_object()) return fail(ErrorCode::corruption, "RWLock-file '" + file + "' format error.");
    for (auto& [path, v] : table.items()) {
      bool ok = true;
      if (mode == "write") {
        ok = info(v, path, true);
      } else if (v.is_array()) {
        for (auto& one : v) ok = ok && info(one, path, false);
      } else {
        ok = false;
      }
      if (!ok) return fail(ErrorCode::corruption, "RWLock-file '" + file + "' format error.");
    }
  }

  const long long self = ::getpid();
  std::vector<const Claim*> blockers;
  std::string blocked_path;
  bool stale = false;
  for (auto& c : claims) {
    if (c.pid == self) continue;
    if (!process_exists(c.pid)) {
      stale = true;
      continue;
    }
    if (!c.write && !scope.write) continue;  // readers never block readers
    bool hit = scope.paths.empty();
    for (auto& p : scope.paths) hit = hit || overlaps(p, c.path);
    if (!hit) continue;
    if (blocked_path.empty()) blocked_path = c.path;
    blockers.push_back(&c);
  }
  if (!blockers.empty()) {
    std::string msg = "'" + blocked_path + "' is busy, it is being blocked by:\n";
    for (auto* b : blockers) msg += "  (PID " + std::to_string(b->pid) + "): " + b->cmd + "\n";
    msg += "\nIf there are no processes with such PIDs, you can manually remove '" + file + "' and try again.";
    return fail(ErrorCode::conflict, msg);
  }
  if (!stale) return {};
  // DVC's auto-release: drop the claims of processes that are gone, with its warning.
  for (const char* mode : {"read", "write"}) {
    if (!doc.contains(mode)) continue;
    auto& table = doc[mode];
    for (auto it = table.begin(); it != table.end();) {
      auto dead = [&](const nlohmann::ordered_json& j) {
        long long pid = j["pid"].get<long long>();
        if (pid == self || process_exists(pid)) return false;
        if (warn)
          warn("Process '" + j["cmd"].get<std::string>() + "' with (Pid " + std::to_string(pid) +
               "), in RWLock-file '" + it.key() + "' had been killed. Auto removed it from the lock file.");
        return true;
      };
      if (it->is_array()) {
        auto& arr = *it;
        for (size_t i = arr.size(); i-- > 0;)
          if (dead(arr[i])) arr.erase(i);
        if (arr.empty()) {
          it = table.erase(it);
          continue;
        }
      } else if (dead(*it)) {
        it = table.erase(it);
        continue;
      }
      ++it;
    }
    if (table.empty()) doc.erase(mode);
  }
  return fsx::write_file_atomic(file, formats::py_json_dumps(doc));
}

}  // namespace dvx::repo
