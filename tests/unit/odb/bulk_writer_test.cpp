#include "dvx/odb/bulk_writer.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "../platform/test_temp_dir.h"
#include "dvx/base/thread_pool.h"
#include "dvx/hash/md5.h"

namespace dvx::odb {
namespace {

using dvx::testing::TempDir;
using dvx::testing::exists;
using dvx::testing::mode_of;
namespace tu = dvx::testing;

struct Obj {
  std::string bytes;
  ObjectId id;
};

std::vector<Obj> make_objects(size_t n, const std::string& salt = "") {
  std::vector<Obj> out;
  for (size_t i = 0; i < n; ++i) {
    std::string b = "object " + salt + std::to_string(i) + "\n";
    out.push_back({b, ObjectId{hash::md5_hex(b), Layout::v3}});
  }
  return out;
}

// An object whose oid starts with the same two hex digits as `like`.
Obj same_prefix_as(const ObjectId& like, const std::string& salt) {
  for (size_t i = 0;; ++i) {
    auto o = make_objects(1, salt + std::to_string(i));
    if (o[0].id.oid.compare(0, 2, like.oid, 0, 2) == 0) return o[0];
  }
}

// Every entry below <cache>/files other than md5/: what a commit must not leave behind.
std::vector<std::string> leftovers(const std::string& cache) {
  std::vector<std::string> out;
  for (auto& r : tu::tree(cache + "/files"))
    if (r != "md5" && !r.starts_with("md5/")) out.push_back(r);
  return out;
}

TEST(BulkWriter, StagedObjectsAppearOnlyAtCommit) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto objs = make_objects(600);  // every prefix folder, most of them several times
  BulkWriter w(db);
  parallel_for(objs.size(), 4, [&](size_t i) { ASSERT_TRUE(w.add(objs[i].bytes, objs[i].id)); });
  ASSERT_TRUE(w.add(objs[0].bytes, objs[0].id));  // the same object twice is fine
  for (auto& o : objs) EXPECT_FALSE(db.exists(o.id)) << "visible before commit: " << o.id.oid;
  ASSERT_TRUE(w.commit());
  for (auto& o : objs) {
    ASSERT_TRUE(db.exists(o.id)) << o.id.oid;
    EXPECT_EQ(tu::read_file(db.path_of(o.id)), o.bytes);
    EXPECT_EQ(mode_of(db.path_of(o.id)), 0444u);
    EXPECT_TRUE(db.exists_valid(o.id, Verify::yes));
  }
  EXPECT_EQ(leftovers(t / "cache"), std::vector<std::string>{});
  auto listed = db.list(Layout::v3);
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->size(), objs.size());
}

TEST(BulkWriter, ExistingPrefixFoldersAreWrittenDirectly) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto first = make_objects(1);
  ASSERT_TRUE(db.add_bytes(first[0].bytes, first[0].id));
  // A second object with the same prefix goes straight into the existing folder.
  Obj second = same_prefix_as(first[0].id, "p");
  BulkWriter w(db);
  ASSERT_TRUE(w.add(second.bytes, second.id));
  EXPECT_TRUE(db.exists(second.id));  // not staged: visible at once
  ASSERT_TRUE(w.commit());
  EXPECT_TRUE(db.exists_valid(first[0].id, Verify::yes));
  EXPECT_TRUE(db.exists_valid(second.id, Verify::yes));
}

TEST(BulkWriter, PrefixFolderCreatedMeanwhileGetsObjectsOneByOne) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto objs = make_objects(300);
  BulkWriter w(db);
  for (auto& o : objs) ASSERT_TRUE(w.add(o.bytes, o.id));
  // Another writer creates one of the staged prefix folders (with an object of its own).
  Obj other = same_prefix_as(objs[0].id, "other");
  ASSERT_FALSE(exists(platform::parent_dir(db.path_of(other.id))));  // still staged
  ASSERT_TRUE(db.add_bytes(other.bytes, other.id));
  ASSERT_TRUE(w.commit());
  EXPECT_TRUE(db.exists_valid(other.id, Verify::yes));
  for (auto& o : objs) EXPECT_TRUE(db.exists_valid(o.id, Verify::yes)) << o.id.oid;
  EXPECT_EQ(leftovers(t / "cache"), std::vector<std::string>{});
}

TEST(BulkWriter, UsableAgainAfterCommit) {
  TempDir t;
  ObjectDb db(t / "cache");
  BulkWriter w(db);
  auto a = make_objects(50, "a"), b = make_objects(50, "b");
  for (auto& o : a) ASSERT_TRUE(w.add(o.bytes, o.id));
  ASSERT_TRUE(w.commit());
  for (auto& o : b) ASSERT_TRUE(w.add(o.bytes, o.id));
  ASSERT_TRUE(w.commit());
  for (auto& o : a) EXPECT_TRUE(db.exists_valid(o.id, Verify::yes));
  for (auto& o : b) EXPECT_TRUE(db.exists_valid(o.id, Verify::yes));
  EXPECT_EQ(leftovers(t / "cache"), std::vector<std::string>{});
}

TEST(BulkWriter, UncommittedObjectsVanishWithTheWriter) {
  TempDir t;
  ObjectDb db(t / "cache");
  auto objs = make_objects(20);
  {
    BulkWriter w(db);
    for (auto& o : objs) ASSERT_TRUE(w.add(o.bytes, o.id));
  }  // e.g. the command failed before publishing
  for (auto& o : objs) EXPECT_FALSE(db.exists(o.id));
  EXPECT_EQ(leftovers(t / "cache"), std::vector<std::string>{});
}

TEST(BulkWriter, StaleStagingTreesOfKilledProcessesAreRemoved) {
  TempDir t;
  ObjectDb db(t / "cache");
  std::string old_tree = t / "cache/files/.AAAAAAAAAAAAAAAAAAAAAA.tmp";
  std::string new_tree = t / "cache/files/.BBBBBBBBBBBBBBBBBBBBBB.tmp";
  tu::write_file(old_tree + "/md5/ab/cdef", "x");
  tu::write_file(new_tree + "/md5/ab/cdef", "x");
  // Two days old: a killed process's; a fresh one may belong to a live writer.
  std::string cmd = "touch -d '2 days ago' '" + old_tree + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  BulkWriter w(db);
  EXPECT_FALSE(exists(old_tree));
  EXPECT_TRUE(exists(new_tree));
}

// The staging roots (".<random>.tmp" folders) below <cache>/files.
std::vector<std::string> staging_roots(const std::string& cache) {
  std::vector<std::string> out;
  auto entries = platform::list_dir(cache + "/files");
  if (!entries) return out;
  for (auto& e : *entries)
    if (platform::is_temp_name(e.name)) out.push_back(cache + "/files/" + e.name);
  return out;
}

void make_days_old(const std::string& path) {
  std::string cmd = "touch -d '2 days ago' '" + path + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
}

TEST(BulkWriter, StagingTreeOfARunningWriterIsNeverRemoved) {
  TempDir t;
  if (!platform::is_local_file_system(t.path())) GTEST_SKIP() << "flock not trusted here";
  ObjectDb db(t / "cache");
  auto objs = make_objects(40);
  BulkWriter w1(db);
  for (auto& o : objs) ASSERT_TRUE(w1.add(o.bytes, o.id));
  auto roots = staging_roots(t / "cache");
  ASSERT_EQ(roots.size(), 1u);
  make_days_old(roots[0]);  // even a day old: its writer holds the lock
  BulkWriter w2(db);        // another command on the same store cleans up
  EXPECT_FALSE(remove_if_abandoned(roots[0]));
  EXPECT_TRUE(exists(roots[0]));
  ASSERT_TRUE(w1.commit());
  for (auto& o : objs) EXPECT_TRUE(db.exists_valid(o.id, Verify::yes)) << o.id.oid;
}

TEST(BulkWriter, StagingTreeOfAnExitedWriterIsRemovedAtOnce) {
  TempDir t;
  if (!platform::is_local_file_system(t.path())) GTEST_SKIP() << "flock not trusted here";
  ObjectDb db(t / "cache");
  auto objs = make_objects(40);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {  // a writer killed mid-run: no destructor, the process just ends
    BulkWriter* w = new BulkWriter(db);
    for (auto& o : objs)
      if (!w->add(o.bytes, o.id)) ::_exit(1);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto roots = staging_roots(t / "cache");
  ASSERT_EQ(roots.size(), 1u);
  EXPECT_TRUE(exists(roots[0] + "/" + k_staging_lock_marker));
  BulkWriter w(db);  // fresh tree, but its writer is gone
  EXPECT_FALSE(exists(roots[0]));
  for (auto& o : objs) EXPECT_FALSE(db.exists(o.id));  // never published
}

TEST(BulkWriter, TreesThatCannotTellTheirWriterFallBackToTheAgeRule) {
  TempDir t;
  ObjectDb db(t / "cache");
  // No lock marker: written by a writer killed before it wrote the marker, or on a file
  // system where flock is not trusted. Unlocked, but it may still be a live writer's.
  std::string tree = t / "cache/files/.CCCCCCCCCCCCCCCCCCCCCC.tmp";
  tu::write_file(tree + "/ab/cdef", "x");
  EXPECT_FALSE(remove_if_abandoned(tree));
  EXPECT_TRUE(exists(tree));
  make_days_old(tree);
  EXPECT_TRUE(remove_if_abandoned(tree));
  EXPECT_FALSE(exists(tree));
  // Temp files the same way.
  std::string tmp = t / "cache/files/md5/ab/.DDDDDDDDDDDDDDDDDDDDDD.tmp";
  tu::write_file(tmp, "partial");
  EXPECT_FALSE(remove_if_abandoned(tmp));
  make_days_old(tmp);
  EXPECT_TRUE(remove_if_abandoned(tmp));
  EXPECT_FALSE(exists(tmp));
}

TEST(BulkWriter, MarkedTreeIsKeptWhileAnyoneHoldsItsLock) {
  TempDir t;
  std::string tree = t / "cache/files/.EEEEEEEEEEEEEEEEEEEEEE.tmp";
  ASSERT_TRUE(platform::make_dirs(tree));
  auto lock = claim_staging_tree(tree);
  ASSERT_GE(lock.fd(), 0);
  if (!exists(tree + "/" + k_staging_lock_marker)) GTEST_SKIP() << "flock not trusted here";
  make_days_old(tree);
  EXPECT_FALSE(remove_if_abandoned(tree));
  lock = {};
  EXPECT_TRUE(remove_if_abandoned(tree));
  EXPECT_FALSE(exists(tree));
}

}  // namespace
}  // namespace dvx::odb
