// The experiment queue's files (queue.h).
#include "dvx/experiments/queue.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <random>
#include <thread>

namespace dvx::experiments {

using json = nlohmann::json;

namespace {

const char* kind_name(TaskKind k) { return k == TaskKind::temp ? "temp" : "queue"; }

std::optional<TaskStatus> parse_status(const std::string& s) {
  if (s == "queued") return TaskStatus::queued;
  if (s == "running") return TaskStatus::running;
  if (s == "success") return TaskStatus::success;
  if (s == "failed") return TaskStatus::failed;
  return std::nullopt;
}

bool is_hex_id(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) && !std::isupper(static_cast<unsigned char>(c)); });
}

json to_json(const QueueTask& t) {
  json j = json::object();
  j["id"] = t.id;
  j["name"] = t.name;
  j["baseline"] = t.baseline;
  j["head"] = t.head;
  j["created"] = t.created;
  j["seq"] = t.seq;
  j["kind"] = kind_name(t.kind);
  j["status"] = status_json(t.status);
  j["pid"] = t.pid ? json(*t.pid) : json(nullptr);
  j["returncode"] = t.returncode ? json(*t.returncode) : json(nullptr);
  j["root"] = t.root;
  j["exp_ref"] = t.exp_ref;
  j["exp_commit"] = t.exp_commit;
  j["args"] = t.args;
  return j;
}

std::optional<QueueTask> from_json(const json& j) {
  try {
    QueueTask t;
    t.id = j.at("id").get<std::string>();
    if (!is_hex_id(t.id)) return std::nullopt;
    t.name = j.value("name", "");
    t.baseline = j.value("baseline", "");
    t.head = j.value("head", "");
    t.created = j.value("created", int64_t{0});
    t.seq = j.value("seq", uint64_t{0});
    t.kind = j.value("kind", "queue") == "temp" ? TaskKind::temp : TaskKind::queue;
    auto st = parse_status(j.value("status", ""));
    if (!st) return std::nullopt;
    t.status = *st;
    if (j.contains("pid") && j["pid"].is_number_integer()) t.pid = j["pid"].get<int64_t>();
    if (j.contains("returncode") && j["returncode"].is_number_integer()) t.returncode = j["returncode"].get<int>();
    t.root = j.value("root", "");
    t.exp_ref = j.value("exp_ref", "");
    t.exp_commit = j.value("exp_commit", "");
    if (j.contains("args") && j["args"].is_object()) t.args = j["args"];
    return t;
  } catch (const json::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::string status_title(TaskStatus s) {
  switch (s) {
    case TaskStatus::queued: return "Queued";
    case TaskStatus::running: return "Running";
    case TaskStatus::success: return "Success";
    case TaskStatus::failed: return "Failed";
  }
  return "Unknown";
}

std::string status_json(TaskStatus s) {
  std::string t = status_title(s);
  t[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(t[0])));
  return t;
}

Queue::Queue(std::string tmp_dir) : m_tmp(std::move(tmp_dir)), m_dir(m_tmp + "/exps/queue") {}

std::string Queue::log_path(const std::string& id) const { return m_tmp + "/exps/run/" + id + "/" + id + ".out"; }

std::string Queue::task_ref(const std::string& id) { return "refs/exps/temp/queue/" + id; }

std::string Queue::task_path(const std::string& id) const { return m_dir + "/tasks/" + id + ".json"; }

Result<platform::FileLock> Queue::lock(int timeout_ms) const {
  if (auto s = platform::make_dirs(m_dir); !s) return std::unexpected(s.error());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    auto l = platform::FileLock::try_acquire(m_dir + "/lock");
    if (l || l.error().code != ErrorCode::conflict) return l;
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(ErrorCode::conflict, "the experiment queue is locked by another process ('" + m_dir + "/lock')");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Result<std::vector<QueueTask>> Queue::tasks() const {
  std::vector<QueueTask> out;
  std::string dir = m_dir + "/tasks";
  if (!platform::lstat_path(dir).exists()) return out;
  auto entries = platform::list_dir(dir);
  if (!entries) return std::unexpected(entries.error());
  for (auto& e : *entries) {
    if (!e.name.ends_with(".json") || platform::is_temp_name(e.name)) continue;
    auto text = platform::read_file(dir + "/" + e.name);
    if (!text) continue;  // removed meanwhile
    json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) continue;  // never half-written (atomic); a foreign file is skipped
    auto t = from_json(j);
    if (!t || e.name != t->id + ".json") continue;
    if (t->status == TaskStatus::running && !run_held(t->id)) {
      t->status = TaskStatus::failed;
      t->dead = true;
    }
    out.push_back(std::move(*t));
  }
  std::sort(out.begin(), out.end(), [](const QueueTask& a, const QueueTask& b) {
    return a.seq != b.seq ? a.seq < b.seq : a.id < b.id;
  });
  return out;
}

Result<std::optional<QueueTask>> Queue::find(const std::string& id) const {
  auto all = tasks();
  if (!all) return std::unexpected(all.error());
  for (auto& t : *all)
    if (t.id == id) return std::optional<QueueTask>(std::move(t));
  return std::optional<QueueTask>();
}

Status Queue::save(const QueueTask& task) const {
  if (!is_hex_id(task.id)) return fail(ErrorCode::invalid_argument, "invalid queue task id '" + task.id + "'");
  if (auto s = platform::make_dirs(m_dir + "/tasks"); !s) return s;
  return platform::write_file_atomic(task_path(task.id), to_json(task).dump(1) + "\n");
}

Status Queue::erase(const std::string& id) const {
  if (!is_hex_id(id)) return fail(ErrorCode::invalid_argument, "invalid queue task id '" + id + "'");
  if (auto s = platform::remove_file(task_path(id)); !s && s.error().code != ErrorCode::not_found) return s;
  (void)platform::remove_file(m_dir + "/tasks/" + id + ".run");
  (void)platform::remove_all(m_tmp + "/exps/run/" + id);
  return {};
}

Result<uint64_t> Queue::next_seq() const {
  auto all = tasks();
  if (!all) return std::unexpected(all.error());
  uint64_t n = 0;
  for (auto& t : *all) n = std::max(n, t.seq);
  return n + 1;
}

Result<platform::FileLock> Queue::hold_run(const std::string& id) const {
  if (auto s = platform::make_dirs(m_dir + "/tasks"); !s) return std::unexpected(s.error());
  return platform::FileLock::try_acquire(m_dir + "/tasks/" + id + ".run");
}

bool Queue::run_held(const std::string& id) const {
  std::string path = m_dir + "/tasks/" + id + ".run";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

const QueueTask* Queue::match(const std::vector<QueueTask>& among, const std::string& name) {
  for (auto& t : among)
    if (!t.name.empty() && t.name == name) return &t;
  bool hex = !name.empty() && name.size() <= 40 &&
             std::all_of(name.begin(), name.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
  if (!hex) return nullptr;
  std::string lower = name;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (auto& t : among)
    if (t.id.starts_with(lower)) return &t;
  return nullptr;
}

Result<std::pair<std::string, platform::FileLock>> Queue::register_worker() const {
  std::string dir = m_dir + "/workers";
  if (auto s = platform::make_dirs(dir); !s) return std::unexpected(s.error());
  std::random_device rd;
  for (int attempt = 0; attempt < 16; ++attempt) {
    std::string file = dir + "/w-" + std::to_string(::getpid()) + "-" + std::to_string(rd() % 1000000) + ".lock";
    if (platform::lstat_path(file).exists()) continue;
    auto l = platform::FileLock::try_acquire(file);
    if (!l) return std::unexpected(l.error());
    (void)platform::remove_file(file + ".stop");
    return std::pair<std::string, platform::FileLock>(file, std::move(*l));
  }
  return fail(ErrorCode::io, "could not create a worker registry file in '" + dir + "'");
}

std::vector<Queue::Worker> Queue::workers() const {
  std::vector<Worker> out;
  std::string dir = m_dir + "/workers";
  auto entries = platform::list_dir(dir);
  if (!entries) return out;
  for (auto& e : *entries) {
    if (!e.name.ends_with(".lock")) continue;
    std::string file = dir + "/" + e.name;
    int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd);
    if (!held) {
      (void)platform::remove_file(file);
      (void)platform::remove_file(file + ".stop");
      continue;
    }
    auto text = platform::read_file(file);
    std::string task = text ? *text : "";
    while (!task.empty() && (task.back() == '\n' || task.back() == ' ')) task.pop_back();
    out.push_back(Worker{file, task});
  }
  std::sort(out.begin(), out.end(), [](const Worker& a, const Worker& b) { return a.file < b.file; });
  return out;
}

Status Queue::note_worker_task(int lock_fd, const std::string& task) {
  std::string text = task.empty() ? "" : task + "\n";
  if (::ftruncate(lock_fd, 0) != 0 || ::pwrite(lock_fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
    return fail(ErrorCode::io, "failed to write the worker registry file");
  return {};
}

Status Queue::request_stop() const {
  for (auto& w : workers())
    if (auto s = platform::write_file_atomic(w.file + ".stop", ""); !s) return s;
  return {};
}

bool Queue::stop_requested(const std::string& worker_file) const {
  return platform::lstat_path(worker_file + ".stop").exists();
}

}  // namespace dvx::experiments
