#include "dvx/pipeline/repro.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "dvx/base/strings.h"
#include "dvx/platform/files.h"
#include "dvx/platform/process.h"
#include "dvx/pipeline/run_cache.h"
#include "dvx/pipeline/status.h"

namespace dvx::pipeline {

namespace fsx = dvx::platform;
using Kind = workspace::OutputState::Kind;

namespace {

// A failure of one stage: the message after "failed to reproduce '<x>': ".
struct StageFailure {
  std::string message;
};
struct Interrupted {};
// A command stopped because another stage failed (parallel repro without -k).
struct Cancelled {};

// What a stage prints: streamed as it comes (one job), or kept and printed whole when the
// stage ends (parallel jobs), so that the output of stages never interleaves.
class Sink {
 public:
  enum class Kind { out, warn, error, raw };
  Sink(const ReproIo& io, bool buffered) : m_io(io), m_buffered(buffered) {}
  void out(const std::string& s) { add(Kind::out, s); }
  void warn(const std::string& s) { add(Kind::warn, s); }
  void raw(const std::string& s) { add(Kind::raw, s); }
  bool buffered() const { return m_buffered; }
  bool empty() const { return m_lines.empty() && !m_printed; }
  // Prints what was kept.
  void flush() {
    for (auto& [k, s] : m_lines) emit(k, s);
    m_lines.clear();
  }
  // Called before the first line of a stage is printed (the blank line between stages).
  std::function<void()> before_first;

 private:
  const ReproIo& m_io;
  bool m_buffered;
  bool m_printed = false;
  std::vector<std::pair<Kind, std::string>> m_lines;
  void add(Kind k, const std::string& s) {
    if (m_buffered) {
      m_lines.emplace_back(k, s);
      return;
    }
    emit(k, s);
  }
  void emit(Kind k, const std::string& s) {
    if (!m_printed && before_first && k != Kind::warn) before_first();
    if (k != Kind::warn) m_printed = true;
    switch (k) {
      case Kind::out: m_io.out(s); break;
      case Kind::warn: m_io.warn(s); break;
      case Kind::error: m_io.error(s); break;
      case Kind::raw:
        if (!s.empty()) {
          std::fwrite(s.data(), 1, s.size(), stdout);
          std::fflush(stdout);
        }
        break;
    }
  }
};

const std::vector<size_t> k_none;

// Upstream edges as planning sees them: a frozen stage's own upstream is not considered.
const std::vector<size_t>& planned_up(const Index& index, size_t i) {
  return index.stage(i).frozen ? k_none : index.upstream(i);
}

// Depth-first post-order from `roots` through upstream edges (restricted to `within` when set).
void post_order(const Index& index, const std::vector<size_t>& roots, const std::vector<char>* within,
                std::vector<char>& seen, std::vector<size_t>& out) {
  for (size_t r : roots) {
    if (seen[r] || (within && !(*within)[r])) continue;
    std::vector<std::pair<size_t, size_t>> stack{{r, 0}};
    seen[r] = 1;
    while (!stack.empty()) {
      auto& [v, k] = stack.back();
      const auto& ups = planned_up(index, v);
      if (k < ups.size()) {
        size_t w = ups[k++];
        if (!seen[w] && (!within || (*within)[w])) {
          seen[w] = 1;
          stack.emplace_back(w, 0);
        }
      } else {
        out.push_back(v);
        stack.pop_back();
      }
    }
  }
}

std::string stage_env_name(const Stage& st) {
  return st.file_rel == "dvc.yaml" ? st.name : st.file_rel + ":" + st.name;
}

}  // namespace

std::vector<size_t> plan(const Index& index, const ReproOptions& opts) {
  repo::Repo& repo = index.repo();
  size_t n = index.stages().size();
  std::vector<size_t> targets;
  if (opts.targets.empty()) {
    targets = index.default_targets();
    if (targets.empty() && !opts.all_pipelines) {
      std::string yaml = repo.cwd() + "/dvc.yaml";
      if (fsx::lstat_path(yaml).type == fsx::FileType::missing) throw UserError("'" + repo.display(yaml) + "' does not exist");
    }
  } else {
    for (auto& t : opts.targets) {
      std::string abs = repo.absolute(t);
      if (opts.recursive && fsx::stat_path(abs).type == fsx::FileType::directory) {
        for (size_t i = 0; i < n; ++i) {
          std::string f = repo.root() + "/" + index.stage(i).file_rel;
          if (fsx::is_within(f, abs)) targets.push_back(i);
        }
        continue;
      }
      for (size_t i : index.resolve(t, opts.glob)) targets.push_back(i);
    }
  }
  {
    std::vector<char> dup(n, 0);
    std::vector<size_t> uniq;
    for (size_t t : targets)
      if (!dup[t]) {
        dup[t] = 1;
        uniq.push_back(t);
      }
    targets.swap(uniq);
  }
  std::vector<char> seen(n, 0);
  std::vector<size_t> out;
  if (opts.all_pipelines) {
    std::vector<size_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    post_order(index, all, nullptr, seen, out);
    return out;
  }
  if (opts.single_item) return targets;
  if (opts.pipeline || opts.downstream) {
    // The stages to include: whole connected pipelines, or the targets and their descendants.
    std::vector<char> within(n, 0);
    std::vector<size_t> stack(targets.begin(), targets.end());
    for (size_t t : targets) within[t] = 1;
    while (!stack.empty()) {
      size_t v = stack.back();
      stack.pop_back();
      auto visit = [&](size_t w) {
        if (!within[w]) {
          within[w] = 1;
          stack.push_back(w);
        }
      };
      for (size_t w : index.downstream(v))
        if (!index.stage(w).frozen) visit(w);
      if (opts.pipeline)
        for (size_t w : planned_up(index, v)) visit(w);
    }
    std::vector<size_t> all(n);
    for (size_t i = 0; i < n; ++i) all[i] = i;
    post_order(index, all, &within, seen, out);
    return out;
  }
  post_order(index, targets, nullptr, seen, out);
  return out;
}

namespace {

// Run-cache entries are written by a thread of their own: nothing later in the run reads them
// (a stage's key names its own outputs, so no other stage of the run can hit its entry), and
// each costs two folders and a file, which would otherwise sit between one stage's end and the
// next one's start. A kill loses at most entries not yet written (each is written atomically);
// a failed write is reported as a warning when the run ends.
class RunCacheWriter {
 public:
  explicit RunCacheWriter(const RunCache& rc) : m_rc(rc) {}
  ~RunCacheWriter() { finish(); }
  void save(formats::LockStage entry) {
    std::lock_guard<std::mutex> l(m_mutex);
    m_queue.push_back(std::move(entry));
    if (!m_thread.joinable()) m_thread = std::thread([this] { loop(); });
    m_cv.notify_one();
  }
  // Waits for every queued entry; returns the errors of failed writes.
  std::vector<std::string> finish() {
    {
      std::lock_guard<std::mutex> l(m_mutex);
      m_done = true;
      m_cv.notify_one();
    }
    if (m_thread.joinable()) m_thread.join();
    return std::exchange(m_errors, {});
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> l(m_mutex);
    while (true) {
      m_cv.wait(l, [&] { return m_done || !m_queue.empty(); });
      if (m_queue.empty()) return;
      auto entry = std::move(m_queue.front());
      m_queue.pop_front();
      l.unlock();
      try {
        m_rc.save(entry);
      } catch (const UserError& e) {
        l.lock();
        m_errors.push_back(e.what());
        continue;
      }
      l.lock();
    }
  }
  const RunCache& m_rc;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::deque<formats::LockStage> m_queue;
  std::vector<std::string> m_errors;
  bool m_done = false;
  std::thread m_thread;
};

class Engine {
 public:
  Engine(Index& index, const ReproOptions& opts, const ReproIo& io)
      : m_index(index), m_repo(index.repo()), m_opts(opts), m_io(io), m_checker(index), m_rc(m_repo) {}

  ReproResult run(const std::vector<size_t>& order);
  // `commit` of one stage.
  void commit(size_t i);

 private:
  Index& m_index;
  repo::Repo& m_repo;
  const ReproOptions& m_opts;
  const ReproIo& m_io;
  Checker m_checker;
  RunCache m_rc;
  RunCacheWriter m_rc_writer{m_rc};
  std::mutex m_mutex;       // checks, saves, lock writes, printing
  std::atomic<bool> m_cancel{false};  // set on a failure without -k: running commands are stopped
  bool m_need_blank = false;
  std::set<size_t> m_forced;  // --force-downstream
  std::set<size_t> m_new_entries;  // stages whose dvc.lock entry this run created
  // dvc.lock files changed in memory but not yet written. A file is written at once when it was
  // not written in the last 200 ms, else with a later stage or at the end: hundreds of quick
  // stages don't rewrite a growing file hundreds of times (quadratic). What a kill could lose
  // is only entries of stages whose outputs are in the cache and the run-cache already.
  std::set<std::string> m_dirty_locks, m_generated;
  std::vector<std::string> m_pending_ignores;  // cached outputs whose .gitignore entry is due
  std::chrono::steady_clock::time_point m_last_lock_write{};
  void flush_locks(bool force);
  // Writes the pending .gitignore lines now when one of them belongs in a .gitignore that a
  // dep of stage i is or contains: DVC writes them as it saves each stage, so a stage whose
  // dep is the outputs' folder hashes that folder with them.
  void flush_ignores_inside_deps(size_t i);
  // With parallel jobs new entries are appended in finishing order; this puts them in plan
  // order (entries that existed stay where they are), so every run writes the same file.
  void order_new_entries(const std::vector<size_t>& order);

  enum class Outcome { skipped, reproduced, failed, interrupted, cancelled, blocked };
  Outcome stage(size_t i, Sink& sink, std::unique_lock<std::mutex>& lock);
  void prepare_outs(const Stage& st, const std::optional<formats::LockStage>& entry, Sink& sink);
  bool restorable(const Stage& st, const formats::LockStage& entry);
  void checkout_outs(const Stage& st, const formats::LockStage& entry);
  void save(size_t i, formats::LockStage entry, Sink& sink);
  void write_entry(size_t i, const formats::LockStage& entry, Sink& sink);
  void run_commands(size_t i, Sink& sink, std::unique_lock<std::mutex>& lock);
};

bool Engine::restorable(const Stage& st, const formats::LockStage& entry) {
  if (entry.outs.size() != st.outs.size()) return false;
  for (auto& o : st.outs) {
    const formats::LockEntry* rec = nullptr;
    for (auto& e : entry.outs)
      if (e.path == o.written) rec = &e;
    if (!rec || !rec->md5) return false;
    if (m_repo.cache_state(odb::ObjectId{*rec->md5, rec->hash ? odb::Layout::v3 : odb::Layout::legacy}) !=
        repo::CacheState::complete)
      return false;
  }
  return true;
}

void Engine::checkout_outs(const Stage& st, const formats::LockStage& entry) {
  auto ctx = m_repo.context();
  ctx.dangling_absent = true;
  for (auto& o : st.outs) {
    for (auto& e : entry.outs) {
      if (e.path != o.written) continue;
      odb::ObjectId id{*e.md5, e.hash ? odb::Layout::v3 : odb::Layout::legacy};
      auto c = ctx;
      if (!o.def.cache) c.link_types = {fsx::LinkType::copy};  // uncached outputs are private copies
      auto r = workspace::checkout(c, o.abs, id, e.isexec ? std::optional<bool>(true) : std::nullopt,
                                   workspace::Force::yes, workspace::Relink::no);
      if (!r) throw StageFailure{r.error().message};
      if (r->missing_in_cache) throw StageFailure{"missing cache object for '" + m_repo.display(o.abs) + "'"};
      m_checker.forget(o.abs);
      if (o.def.cache) m_pending_ignores.push_back(o.rel);
    }
  }
}

// Before a stage runs its outputs are removed (persist ones unprotected). Content that the cache
// could not give back (an output edited by hand) is saved into the cache first.
void Engine::prepare_outs(const Stage& st, const std::optional<formats::LockStage>& entry, Sink& sink) {
  auto ctx = m_repo.context();
  for (auto& o : st.outs) {
    auto type = fsx::lstat_path(o.abs).type;
    if (type == fsx::FileType::missing) continue;
    auto dest = workspace::check_destination(ctx, o.abs);
    if (!dest) throw StageFailure{dest.error().message};
    if (o.def.persist) {
      if (auto r = workspace::unprotect(o.abs); !r) throw StageFailure{r.error().message};
      continue;
    }
    if (o.def.cache && type != fsx::FileType::symlink && *dest == workspace::Obstacle::none) {
      auto cur = m_checker.state_of(o.abs);
      if (cur.kind != Kind::missing &&
          m_repo.cache_state(odb::ObjectId{cur.oid, odb::Layout::v3}) != repo::CacheState::complete) {
        m_io.save_out(st, o, true);
        bool recorded = false;
        if (entry)
          for (auto& e : entry->outs)
            if (e.path == o.written && e.md5 && *e.md5 == cur.oid) recorded = true;
        if (!recorded)
          sink.warn("'" + m_repo.display(o.abs) + "' was changed since it was last saved; its content is kept in the cache as " +
                    cur.oid + " before the stage runs again.");
      }
    }
    if (auto r = fsx::remove_all(o.abs); !r) throw StageFailure{r.error().message};
    m_checker.forget(o.abs);
  }
}

void Engine::write_entry(size_t i, const formats::LockStage& entry, Sink& sink) {
  const Stage& st = m_index.stage(i);
  auto& lock = m_index.lock(st.lock_rel);
  auto old = lock.stage(st.name);
  if (old && yaml::emit(formats::lock_stage_to_node(*old)) == yaml::emit(formats::lock_stage_to_node(entry))) return;
  std::string shown = m_repo.display(m_repo.root() + "/" + st.lock_rel);
  if (!m_index.lock_exists(st.lock_rel) && m_generated.insert(st.lock_rel).second)
    sink.out("Generating lock file '" + shown + "'");
  if (!old) m_new_entries.insert(i);
  lock.set_stage(st.name, entry);
  m_dirty_locks.insert(st.lock_rel);
  flush_locks(false);
  sink.out("Updating lock file '" + shown + "'");
}

void Engine::flush_locks(bool force) {
  if (m_dirty_locks.empty() && m_pending_ignores.empty()) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - m_last_lock_write < std::chrono::milliseconds(200)) return;
  for (auto& rel : m_dirty_locks) m_index.write_lock(rel);
  m_dirty_locks.clear();
  // .gitignore entries go with the dvc.lock entries: one read and write of each .gitignore per
  // batch rather than per output
  if (!m_pending_ignores.empty() && m_io.gitignore) {
    m_io.gitignore(m_pending_ignores);
    for (auto& rel : m_pending_ignores)  // a folder state taken before is stale now
      m_checker.forget(fsx::parent_dir(m_repo.root() + "/" + rel) + "/.gitignore");
  }
  m_pending_ignores.clear();
  m_last_lock_write = now;
}

void Engine::flush_ignores_inside_deps(size_t i) {
  if (m_pending_ignores.empty()) return;
  const Stage& st = m_index.stage(i);
  for (auto& rel : m_pending_ignores) {
    std::string ignore_file = fsx::parent_dir(m_repo.root() + "/" + rel) + "/.gitignore";
    for (auto& d : st.deps)
      if (ignore_file == d.abs || (ignore_file.starts_with(d.abs) && ignore_file[d.abs.size()] == '/')) {
        flush_locks(true);
        return;
      }
  }
}

void Engine::save(size_t i, formats::LockStage entry, Sink& sink) {
  const Stage& st = m_index.stage(i);
  bool rc_save = !m_opts.no_commit && RunCache::can_save(st);
  entry.outs.clear();
  for (auto& o : st.outs) {
    m_checker.forget(o.abs);
    bool store = !m_opts.no_commit && (o.def.cache || rc_save);
    workspace::OutputState state;
    try {
      state = m_io.save_out(st, o, store);
    } catch (const UserError& e) {
      throw StageFailure{e.what()};
    }
    entry.outs.push_back(lock_entry_of(o.written, state));
    if (o.def.cache) m_pending_ignores.push_back(o.rel);
  }
  std::sort(entry.outs.begin(), entry.outs.end(), [](auto& a, auto& b) { return a.path < b.path; });
  std::sort(entry.deps.begin(), entry.deps.end(), [](auto& a, auto& b) { return a.path < b.path; });
  if (rc_save) m_rc_writer.save(entry);
  write_entry(i, entry, sink);
}

void Engine::run_commands(size_t i, Sink& sink, std::unique_lock<std::mutex>& lock) {
  const Stage& st = m_index.stage(i);
  platform::RunOptions ro;
  ro.cwd = st.wdir_abs;
  ro.env = {{"DVC_ROOT", m_repo.root()}, {"DVC_STAGE", stage_env_name(st)}};
  ro.cancel = &m_cancel;
  sink.out("Running stage '" + m_index.address(i) + "':");
  for (auto& line : st.def.command_lines()) {
    sink.out("> " + line);
    std::string capture;
    int fd = -1;
    if (sink.buffered()) {
      capture = fsx::temp_path_beside(m_repo.tmp_dir() + "/repro-output");
      (void)fsx::make_dirs(m_repo.tmp_dir());
      fd = ::open(capture.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      if (fd >= 0) ro.stdout_fd = ro.stderr_fd = fd;
    }
    if (!sink.buffered()) std::fflush(nullptr);  // our lines before the command's own output
    lock.unlock();
    auto r = platform::run_shell(line, ro);
    lock.lock();
    for (auto& o : st.outs) m_checker.forget(o.abs);  // whatever the command did to them
    if (fd >= 0) {
      ::close(fd);
      auto text = fsx::read_file(capture);
      if (text) sink.raw(*text);
      (void)fsx::remove_file(capture);
    }
    if (!r) throw StageFailure{r.error().message};
    if (r->interrupted || platform::interrupt_signal()) throw Interrupted{};
    if (r->cancelled) throw Cancelled{};
    if (r->exit_code != 0)
      throw StageFailure{"failed to run: " + line + ", exited with " + std::to_string(r->exit_code)};
  }
}

Engine::Outcome Engine::stage(size_t i, Sink& sink, std::unique_lock<std::mutex>& lock) {
  const Stage& st = m_index.stage(i);
  std::string addr = m_index.address(i);
  bool forced = m_opts.force || m_forced.count(i);
  if (st.is_dvc_file()) {
    auto ch = m_checker.check(i, m_opts.allow_missing);
    if (!ch.any() && !forced) {
      sink.out("'" + addr + "' didn't change, skipping");
      return Outcome::skipped;
    }
    if (m_opts.dry) return Outcome::reproduced;
    sink.out("Verifying data sources in stage: '" + addr + "'");
    try {
      m_io.commit_dvc(st);
    } catch (const UserError& e) {
      throw StageFailure{e.what()};
    }
    return Outcome::reproduced;
  }
  if (st.frozen) sink.warn("stage: '" + addr + "' is frozen. Its dependencies are not going to be reproduced.");
  flush_ignores_inside_deps(i);
  StageChanges ch;
  try {
    ch = m_checker.check(i, m_opts.allow_missing);
  } catch (const UserError& e) {
    throw StageFailure{e.what()};
  }
  bool changed = forced || ch.command || (!st.frozen && (ch.always || !ch.deps.empty())) || !ch.outs.empty();
  if (!changed) {
    sink.out("Stage '" + addr + "' didn't change, skipping");
    return Outcome::skipped;
  }
  if (m_opts.interactive && !m_io.confirm("Going to reproduce stage: '" + addr + "'. Are you sure you want to continue?"))
    throw UserError("reproduction aborted by the user");
  auto entry = m_index.lock_entry(i);
  formats::LockStage cur;
  cur.cmd = st.def.cmd;
  if (st.frozen) {
    if (m_opts.dry) return Outcome::reproduced;
    sink.out("Verifying outputs in frozen stage: '" + addr + "'");
    for (auto& o : st.outs)
      if (fsx::lstat_path(o.abs).type == fsx::FileType::missing)
        throw StageFailure{"missing data 'source': " + m_repo.display(o.abs)};
    try {
      m_checker.current_deps(i, cur);
    } catch (const UserError& e) {
      throw StageFailure{e.what()};
    }
    save(i, std::move(cur), sink);
    return Outcome::reproduced;
  }
  try {
    m_checker.current_deps(i, cur);  // a missing dep or params key fails before anything runs
  } catch (const UserError& e) {
    throw StageFailure{e.what()};
  }
  if (!forced) {
    // (a) the stage's own dvc.lock entry still describes its inputs: check its outputs out.
    if (entry && !ch.command && ch.deps.empty() && !st.always_changed && !st.is_callback() &&
        restorable(st, *entry)) {
      sink.out("Stage '" + addr + "' is cached - skipping run, checking out outputs");
      if (m_opts.dry) {
        // DVC's --dry prints the restore and the commands that would run.
      } else {
        prepare_outs(st, entry, sink);
        checkout_outs(st, *entry);
        return Outcome::reproduced;
      }
    } else if (!m_opts.no_run_cache && RunCache::can_restore(st)) {
      // (b) the run-cache has seen these inputs.
      formats::LockStage key = cur;
      if (m_opts.dry && entry) {
        // DVC's --dry does not hash the deps again: the run-cache is asked with the inputs
        // dvc.lock recorded (so a stage that ran before reads "is cached" before its commands).
        key.deps = entry->deps;
        key.params = entry->params;
      }
      for (auto& o : st.outs) key.outs.push_back(formats::LockEntry{o.written});
      auto found = m_rc.lookup(key, [&](const std::string& w) { sink.warn(w); });
      if (found && restorable(st, *found)) {
        sink.out("Stage '" + addr + "' is cached - skipping run, checking out outputs");
        if (!m_opts.dry) {
          prepare_outs(st, entry, sink);
          checkout_outs(st, *found);
          write_entry(i, *found, sink);
          return Outcome::reproduced;
        }
      }
    }
  }
  if (m_opts.dry) {
    sink.out("Running stage '" + addr + "':");
    for (auto& line : st.def.command_lines()) sink.out("> " + line);
    return Outcome::reproduced;
  }
  prepare_outs(st, entry, sink);
  run_commands(i, sink, lock);
  save(i, std::move(cur), sink);
  return Outcome::reproduced;
}

ReproResult Engine::run(const std::vector<size_t>& order) {
  platform::install_interrupt_handlers();
  m_checker.prefetch(order);
  ReproResult result;
  size_t n = order.size();
  std::vector<size_t> pos(m_index.stages().size(), SIZE_MAX);
  for (size_t k = 0; k < n; ++k) pos[order[k]] = k;
  // Planned upstream of each planned stage (by position).
  std::vector<std::vector<size_t>> ups(n);
  for (size_t k = 0; k < n; ++k)
    for (size_t u : planned_up(m_index, order[k]))
      if (pos[u] != SIZE_MAX && pos[u] != k) ups[k].push_back(pos[u]);
  enum class State { pending, running, done, failed, blocked };
  std::vector<State> state(n, State::pending);
  std::vector<std::string> failures;  // messages
  bool interrupted = false, stop = false;
  std::optional<UserError> fatal;
  unsigned jobs = std::max(1u, m_opts.jobs);
  bool buffered = jobs > 1;
  std::condition_variable cv;
  size_t running = 0;

  auto finish = [&](size_t k, Outcome oc, Sink& sink, const std::string& fail_msg) {
    // Called with m_mutex held.
    sink.before_first = [this] {
      if (m_need_blank) m_io.out("");
      m_need_blank = false;
    };
    if (buffered) sink.flush();
    std::string addr = m_index.address(order[k]);
    switch (oc) {
      case Outcome::skipped: state[k] = State::done; break;
      case Outcome::reproduced:
        state[k] = State::done;
        ++result.reproduced;
        result.reproduced_stages.push_back(order[k]);
        m_need_blank = true;
        if (m_opts.force_downstream)
          for (size_t d : m_index.downstream(order[k])) m_forced.insert(d);
        break;
      case Outcome::failed:
        m_need_blank = true;
        if (m_opts.ignore_errors) {
          // DVC: the failure is a warning and the stages below still run.
          m_io.warn(fail_msg + " (ignored)");
          state[k] = State::done;
          result.failed.push_back(addr);
        } else if (m_opts.keep_going) {
          state[k] = State::failed;
          result.failed.push_back(addr);
          m_io.warn(fail_msg);
          failures.push_back(addr);
          // The planned stages below it are skipped; DVC names them right away.
          std::vector<char> below(n, 0);
          std::vector<size_t> todo{k};
          std::vector<std::string> names;
          while (!todo.empty()) {
            size_t v = todo.back();
            todo.pop_back();
            for (size_t w = v + 1; w < n; ++w)
              if (!below[w] && std::find(ups[w].begin(), ups[w].end(), v) != ups[w].end()) {
                below[w] = 1;
                todo.push_back(w);
              }
          }
          for (size_t w = 0; w < n; ++w)
            if (below[w]) names.push_back("'" + m_index.address(order[w]) + "'");
          if (names.size() == 1) {
            m_io.warn("Stage " + names[0] + " will be skipped due to this failure");
          } else if (!names.empty()) {
            std::string last = names.back();
            names.pop_back();
            m_io.warn("Stages " + join(names, ", ") + " and " + last + " will be skipped due to this failure");
          }
        } else {
          state[k] = State::failed;
          result.failed.push_back(addr);
          fatal = UserError("failed to reproduce '" + addr + "': " + fail_msg);
          stop = true;
          m_cancel = true;  // the other running stages are stopped, not finished
        }
        break;
      case Outcome::cancelled:
        state[k] = State::failed;
        m_need_blank = true;
        m_io.warn("stage '" + addr + "' was stopped: another stage failed");
        break;
      case Outcome::interrupted:
        state[k] = State::failed;
        interrupted = true;
        stop = true;
        break;
      case Outcome::blocked: state[k] = State::blocked; break;
    }
  };

  auto work = [&](size_t k, std::unique_lock<std::mutex>& lock) {
    Sink sink(m_io, buffered);
    if (!buffered)
      sink.before_first = [this] {
        if (m_need_blank) m_io.out("");
        m_need_blank = false;
      };
    Outcome oc;
    std::string msg;
    try {
      oc = stage(order[k], sink, lock);
    } catch (const StageFailure& f) {
      oc = Outcome::failed;
      msg = f.message;
    } catch (const Interrupted&) {
      oc = Outcome::interrupted;
    } catch (const Cancelled&) {
      oc = Outcome::cancelled;
    } catch (const UserError& e) {
      // Not a stage failure (an aborted question, a broken lock file): stops everything.
      if (!fatal) fatal = e;
      stop = true;
      oc = Outcome::blocked;
    }
    finish(k, oc, sink, msg);
  };

  std::unique_lock<std::mutex> lock(m_mutex);
  std::vector<std::thread> threads;
  while (true) {
    if (platform::interrupt_signal()) {
      interrupted = true;
      stop = true;
    }
    // Start every ready stage (in plan order) while slots are free.
    bool any_pending = false;
    for (size_t k = 0; k < n && !stop; ++k) {
      if (state[k] != State::pending) continue;
      bool blocked = false, ready = true;
      for (size_t u : ups[k]) {
        if (state[u] == State::failed || state[u] == State::blocked) blocked = true;
        else if (state[u] != State::done) ready = false;
      }
      if (blocked) {
        state[k] = State::blocked;
        continue;
      }
      any_pending = true;
      if (!ready || running >= jobs) continue;
      state[k] = State::running;
      if (jobs == 1) {
        work(k, lock);
        continue;
      }
      ++running;
      threads.emplace_back([&, k] {
        std::unique_lock<std::mutex> l(m_mutex);
        work(k, l);
        --running;
        cv.notify_all();
      });
    }
    if (running == 0 && (stop || !any_pending)) break;
    if (running > 0) cv.wait(lock);
  }
  lock.unlock();
  for (auto& t : threads) t.join();
  flush_locks(true);  // every finished stage's entry, also after a failure or an interrupt
  for (auto& e : m_rc_writer.finish()) m_io.warn("failed to save a run-cache entry: " + e);
  if (jobs > 1) order_new_entries(order);
  if (interrupted || platform::interrupt_signal()) throw UserError("interrupted by the user", ExitCode::interrupted);
  if (fatal) throw *fatal;
  if (!failures.empty()) {
    if (failures.size() == 1) throw UserError("failed to reproduce '" + failures[0] + "'");
    std::vector<std::string> q;
    for (auto& f : failures) q.push_back("'" + f + "'");
    throw UserError("failed to reproduce stages: " + join(q, ", "));
  }
  return result;
}

}  // namespace

void Engine::order_new_entries(const std::vector<size_t>& order) {
  std::map<std::string, std::vector<size_t>> by_lock;
  for (size_t i : order)
    if (m_new_entries.count(i)) by_lock[m_index.stage(i).lock_rel].push_back(i);
  for (auto& [lock_rel, stages] : by_lock) {
    if (stages.size() < 2) continue;
    auto& lock = m_index.lock(lock_rel);
    std::vector<std::string> names;
    for (size_t i : stages) names.push_back(m_index.stage(i).name);
    std::string before = lock.emit();
    lock.move_to_end(names);
    if (lock.emit() != before) m_index.write_lock(lock_rel);
  }
}

void Engine::commit(size_t i) {
  Sink sink(m_io, false);
  formats::LockStage cur;
  cur.cmd = m_index.stage(i).def.cmd;
  try {
    m_checker.current_deps(i, cur);
    save(i, std::move(cur), sink);
    flush_locks(true);
    for (auto& e : m_rc_writer.finish()) throw UserError(e);
  } catch (const StageFailure& f) {
    throw UserError(f.message);
  }
}

void commit_stage(Index& index, size_t i, const ReproIo& io) {
  ReproOptions opts;
  Engine engine(index, opts, io);
  engine.commit(i);
}

ReproResult reproduce(Index& index, const ReproOptions& opts, const ReproIo& io) {
  index.check();
  auto order = plan(index, opts);
  Engine engine(index, opts, io);
  return engine.run(order);
}

}  // namespace dvx::pipeline
