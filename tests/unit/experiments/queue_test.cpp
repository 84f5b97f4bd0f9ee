// The experiment queue's files: tasks kept in queueing order, a running task whose process let go
// of its run lock read as failed (a crashed worker never leaves a task running forever), lookups
// by name or id prefix, the worker registry (live = lock held) and stop requests.
#include "dvx/experiments/queue.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>

#include "dvx/platform/files.h"

namespace dvx::experiments {
namespace {

namespace fs = std::filesystem;

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dvx-queue-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    m_root = tmpl;
  }
  void TearDown() override {
    if (!HasFailure()) fs::remove_all(m_root);
  }
  static std::string id(char c) { return std::string(40, c); }
  QueueTask task(char c, const std::string& name, uint64_t seq) {
    QueueTask t;
    t.id = id(c);
    t.name = name;
    t.baseline = id('0');
    t.seq = seq;
    return t;
  }
  std::string m_root;
};

TEST_F(QueueTest, TasksRoundTripInQueueOrder) {
  Queue q(m_root);
  auto lock = q.lock();
  ASSERT_TRUE(lock) << lock.error().message;
  EXPECT_EQ(*q.next_seq(), 1u);
  QueueTask b = task('b', "second", 2);
  b.args["targets"] = {"train"};
  b.kind = TaskKind::temp;
  ASSERT_TRUE(q.save(b));
  ASSERT_TRUE(q.save(task('a', "first", 1)));
  EXPECT_EQ(*q.next_seq(), 3u);
  auto all = q.tasks();
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "first");
  EXPECT_EQ((*all)[1].name, "second");
  EXPECT_EQ((*all)[1].kind, TaskKind::temp);
  EXPECT_EQ((*all)[1].args["targets"][0], "train");
  EXPECT_EQ((*all)[0].status, TaskStatus::queued);
  // a foreign or broken file in the folder is skipped, not fatal
  ASSERT_TRUE(platform::write_file_atomic(m_root + "/exps/queue/tasks/" + id('c') + ".json", "{not json"));
  EXPECT_EQ(q.tasks()->size(), 2u);
  ASSERT_TRUE(q.erase(id('a')));
  EXPECT_EQ(q.tasks()->size(), 1u);
  QueueTask bad = task('a', "bad", 9);
  bad.id = "../../escape";
  EXPECT_FALSE(q.save(bad));
  EXPECT_FALSE(q.erase("../x"));
}

TEST_F(QueueTest, RunningTaskWithoutItsProcessReadsAsFailed) {
  Queue q(m_root);
  QueueTask t = task('a', "run", 1);
  t.status = TaskStatus::running;
  ASSERT_TRUE(q.save(t));
  {
    auto held = q.hold_run(t.id);
    ASSERT_TRUE(held);
    EXPECT_TRUE(q.run_held(t.id));
    auto all = q.tasks();
    EXPECT_EQ((*all)[0].status, TaskStatus::running);
    EXPECT_FALSE((*all)[0].dead);
  }
  EXPECT_FALSE(q.run_held(t.id));
  auto all = q.tasks();
  EXPECT_EQ((*all)[0].status, TaskStatus::failed);
  EXPECT_TRUE((*all)[0].dead);

  // a lock held by another process counts; it ends when that process dies
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto l = q.hold_run(t.id);
    if (!l) _exit(1);
    pause();
    _exit(0);
  }
  for (int i = 0; i < 200 && !q.run_held(t.id); ++i) usleep(10000);
  EXPECT_TRUE(q.run_held(t.id));
  EXPECT_EQ((*q.tasks())[0].status, TaskStatus::running);
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  EXPECT_FALSE(q.run_held(t.id));
  EXPECT_EQ((*q.tasks())[0].status, TaskStatus::failed);
}

TEST_F(QueueTest, LockExcludesOtherHolders) {
  Queue q(m_root);
  auto first = q.lock();
  ASSERT_TRUE(first);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Queue other(m_root);
    auto l = other.lock(100);
    _exit(l ? 0 : 3);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 3);
}

TEST_F(QueueTest, MatchByNameThenIdPrefix) {
  std::vector<QueueTask> all{task('a', "alpha", 1), task('b', "beta", 2)};
  EXPECT_EQ(Queue::match(all, "beta")->id, id('b'));
  EXPECT_EQ(Queue::match(all, "aaaa")->name, "alpha");
  EXPECT_EQ(Queue::match(all, "AAAA")->name, "alpha");
  EXPECT_EQ(Queue::match(all, "gamma"), nullptr);
  EXPECT_EQ(Queue::match(all, "cc"), nullptr);
  // a name wins over an id prefix
  std::vector<QueueTask> tricky{task('a', "x", 1), task('b', "aa", 2)};
  EXPECT_EQ(Queue::match(tricky, "aa")->id, id('b'));
}

TEST_F(QueueTest, WorkerRegistryAndStop) {
  Queue q(m_root);
  EXPECT_TRUE(q.workers().empty());
  auto w = q.register_worker();
  ASSERT_TRUE(w) << w.error().message;
  auto& [file, lock] = *w;
  auto live = q.workers();
  ASSERT_EQ(live.size(), 1u);
  EXPECT_EQ(live[0].file, file);
  EXPECT_EQ(live[0].task, "");
  ASSERT_TRUE(Queue::note_worker_task(lock.fd(), id('a')));
  EXPECT_EQ(q.workers()[0].task, id('a'));
  ASSERT_TRUE(Queue::note_worker_task(lock.fd(), ""));
  EXPECT_EQ(q.workers()[0].task, "");
  EXPECT_FALSE(q.stop_requested(file));
  ASSERT_TRUE(q.request_stop());
  EXPECT_TRUE(q.stop_requested(file));
  lock = platform::FileLock();  // the worker is gone
  EXPECT_TRUE(q.workers().empty());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_FALSE(q.stop_requested(file));
}

}  // namespace
}  // namespace dvx::experiments
