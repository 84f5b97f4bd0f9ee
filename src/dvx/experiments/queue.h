// The experiment queue's state on disk (issue "Experiments", part 3; DVC's celery queue without
// Celery): one JSON file per task under <repo>/.dvc/tmp/exps/queue/tasks/, the output of each run
// in <repo>/.dvc/tmp/exps/run/<task>/<task>.out (DVC's place for it), workers registered under
// .../queue/workers/. A task is named by the id of its queue commit (the workspace as queued plus
// the -S overrides, a child of HEAD with DVC's stash message "dvc-exp:<head>:<baseline>:<name>"),
// which stays reachable through refs/exps/temp/queue/<id> (a namespace DVC's listings skip).
//
// Liveness is told by flock(2), never by a pid alone: the process running a task holds
// <task>.run, a worker holds its registry file. A task recorded as running whose run lock is free
// lost its process (killed, machine crashed): it reads as failed, and is stored as failed the
// next time the queue is changed. Every state file is replaced atomically.
// Thread-safety: a Queue holds only paths; concurrent processes are ordered by lock().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvx/base/result.h"
#include "dvx/platform/files.h"

namespace dvx::experiments {

enum class TaskStatus { queued, running, success, failed };
// "Queued", "Running", "Success", "Failed" (queue status); lower-case for exp show's JSON.
std::string status_title(TaskStatus s);
std::string status_json(TaskStatus s);

// Where a task runs: background workers take `queue` tasks; `temp` tasks (`exp run --temp`) are
// run by the command that made them.
enum class TaskKind { queue, temp };

struct QueueTask {
  std::string id;        // the queue commit (40 hex): DVC's stash rev, the task id
  std::string name;      // experiment name (chosen when queued)
  std::string baseline;  // commit the experiment derives from
  std::string head;      // HEAD when queued
  int64_t created = 0;   // the queue commit's time (seconds)
  uint64_t seq = 0;      // queueing order
  TaskKind kind = TaskKind::queue;
  TaskStatus status = TaskStatus::queued;
  std::optional<int64_t> pid;     // the process that runs it (leader of its process group)
  std::optional<int> returncode;  // when done
  std::string root;               // its temporary workspace while it runs
  std::string exp_ref, exp_commit;  // when it succeeded
  bool dead = false;  // read as failed because its process is gone (not yet stored)
  // How to run it: targets, repro flags, message, copy paths, force (the api layer's business).
  nlohmann::json args = nlohmann::json::object();
};

class Queue {
 public:
  // `tmp_dir`: the repository's .dvc/tmp.
  explicit Queue(std::string tmp_dir);

  std::string dir() const { return m_dir; }
  std::string log_path(const std::string& id) const;
  std::string exps_dir() const { return m_tmp + "/exps"; }
  // The ref keeping a task's queue commit alive.
  static std::string task_ref(const std::string& id);

  // Exclusive lock over the queue's files, waiting up to `timeout_ms` for another process.
  Result<platform::FileLock> lock(int timeout_ms = 10000) const;

  // Every task in queueing order (running ones whose process is gone read as failed, `dead`).
  Result<std::vector<QueueTask>> tasks() const;
  Result<std::optional<QueueTask>> find(const std::string& id) const;
  // Writes a task's file (atomic).
  Status save(const QueueTask& task) const;
  // Deletes a task's file and its output.
  Status erase(const std::string& id) const;
  // The next queueing number (call with lock() held).
  Result<uint64_t> next_seq() const;

  // Taken by the process that runs a task, held until it is done; the descriptor may be
  // inherited by a child process (which then keeps the task alive too).
  Result<platform::FileLock> hold_run(const std::string& id) const;
  // Whether some process holds the run lock of a task.
  bool run_held(const std::string& id) const;

  // DVC's match_queue_entry_by_name: a task named `name`, else (for a hex string) the first
  // whose id starts with it; among `among`.
  static const QueueTask* match(const std::vector<QueueTask>& among, const std::string& name);

  // Workers.
  struct Worker {
    std::string file;  // registry file
    std::string task;  // id of the task it runs ("" idle)
  };
  // A new registry file, locked by the caller; the lock (an inheritable descriptor) passes to the
  // worker process it starts.
  Result<std::pair<std::string, platform::FileLock>> register_worker() const;
  // Live workers (registry files whose lock is held); files of dead workers are removed.
  std::vector<Worker> workers() const;
  // A worker notes the task it runs ("" when idle) in its registry file (through its lock fd).
  static Status note_worker_task(int lock_fd, const std::string& task);
  // `queue stop`: asks every live worker to exit once its task is done.
  Status request_stop() const;
  bool stop_requested(const std::string& worker_file) const;

 private:
  std::string task_path(const std::string& id) const;
  std::string m_tmp, m_dir;
};

}  // namespace dvx::experiments
