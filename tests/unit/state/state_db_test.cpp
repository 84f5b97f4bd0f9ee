#include "dvx/state/state_db.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "dvx/platform/files.h"

namespace dvx::state {
namespace {

using hash::Algorithm;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dvx-state-test-XXXXXX";
    m_path = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)platform::remove_all(m_path); }
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A key of a file last modified `age_s` seconds ago.
StatKey old_key(uint64_t inode, int64_t size, int64_t age_s = 100) {
  int64_t t = now_ns() - age_s * 1'000'000'000;
  return StatKey{inode, size, t, t + 5};
}

TEST(StateDb, HitAndMiss) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/sub/dir/state.db");
  ASSERT_TRUE(db) << db.error().message;
  StatKey k = old_key(42, 6);
  ASSERT_TRUE(db->store({"/repo/a"}, {k}, {"b1946ac92492d2347c6235b4d2611184"}, Algorithm::md5));
  auto r = db->lookup({"/repo/a", "/repo/b"}, {k, k}, Algorithm::md5);
  ASSERT_EQ(r.size(), 2u);
  ASSERT_TRUE(r[0]);
  EXPECT_EQ(*r[0], "b1946ac92492d2347c6235b4d2611184");
  EXPECT_FALSE(r[1]);
  // Keyed by algorithm too.
  EXPECT_FALSE(db->lookup({"/repo/a"}, {k}, Algorithm::md5_dos2unix)[0]);
  ASSERT_TRUE(db->store({"/repo/a"}, {k}, {"0123456789abcdef0123456789abcdef"},
                        Algorithm::md5_dos2unix));
  EXPECT_EQ(*db->lookup({"/repo/a"}, {k}, Algorithm::md5_dos2unix)[0],
            "0123456789abcdef0123456789abcdef");
  EXPECT_EQ(*db->lookup({"/repo/a"}, {k}, Algorithm::md5)[0], "b1946ac92492d2347c6235b4d2611184");
  // Survives reopening.
  std::string path = db->path();
  auto db2 = StateDb::open(path);
  ASSERT_TRUE(db2);
  EXPECT_EQ(*db2->lookup({"/repo/a"}, {k}, Algorithm::md5)[0], "b1946ac92492d2347c6235b4d2611184");
  // remove forgets all algorithms.
  ASSERT_TRUE(db2->remove({"/repo/a"}));
  EXPECT_FALSE(db2->lookup({"/repo/a"}, {k}, Algorithm::md5)[0]);
  EXPECT_FALSE(db2->lookup({"/repo/a"}, {k}, Algorithm::md5_dos2unix)[0]);
}

TEST(StateDb, ChangedKeyInvalidates) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  StatKey k = old_key(7, 100);
  ASSERT_TRUE(db->store({"/f"}, {k}, {"aa"}, Algorithm::md5));
  StatKey size = k, mtime = k, inode = k, ctime = k;
  size.size += 1;
  mtime.mtime_ns += 1;
  inode.inode += 1;
  ctime.ctime_ns += 1;
  auto r = db->lookup({"/f", "/f", "/f", "/f", "/f"}, {k, size, mtime, inode, ctime}, Algorithm::md5);
  EXPECT_TRUE(r[0]);
  EXPECT_FALSE(r[1]);
  EXPECT_FALSE(r[2]);
  EXPECT_FALSE(r[3]);
  EXPECT_FALSE(r[4]);
  // Storing again replaces the entry.
  ASSERT_TRUE(db->store({"/f"}, {size}, {"bb"}, Algorithm::md5));
  EXPECT_FALSE(db->lookup({"/f"}, {k}, Algorithm::md5)[0]);
  EXPECT_EQ(*db->lookup({"/f"}, {size}, Algorithm::md5)[0], "bb");
}

TEST(StateDb, RacyEntryNotTrusted) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  int64_t now = now_ns();
  StatKey fresh{1, 10, now, now};                                  // modified "just now"
  StatKey fresh_ctime{2, 10, now - 100'000'000'000, now};          // chmod-ed just now
  StatKey future{3, 10, now + 3600'000'000'000, now - 1'000'000'000'000};  // clock skew
  StatKey edge{4, 10, now - k_racy_window_ns / 2, now - k_racy_window_ns / 2};
  StatKey safe = old_key(5, 10, 5);
  ASSERT_TRUE(db->store({"/a", "/b", "/c", "/d", "/e"}, {fresh, fresh_ctime, future, edge, safe},
                        {"1", "2", "3", "4", "5"}, Algorithm::md5));
  auto r = db->lookup({"/a", "/b", "/c", "/d", "/e"}, {fresh, fresh_ctime, future, edge, safe},
                      Algorithm::md5);
  EXPECT_FALSE(r[0]);
  EXPECT_FALSE(r[1]);
  EXPECT_FALSE(r[2]);
  EXPECT_FALSE(r[3]);
  ASSERT_TRUE(r[4]);
  EXPECT_EQ(*r[4], "5");
}

TEST(StateDb, RacyTrustAcceptsFreshEntriesButNotChangedOnes) {
  // Cache objects are recorded right after dvx writes them: Racy::trust accepts such entries
  // while the key is unchanged, and still rejects any other key.
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  int64_t now = now_ns();
  StatKey fresh{1, 10, now, now};
  ASSERT_TRUE(db->store({"/obj"}, {fresh}, {"1"}, Algorithm::md5));
  EXPECT_FALSE(db->lookup({"/obj"}, {fresh}, Algorithm::md5)[0]);
  auto r = db->lookup({"/obj"}, {fresh}, Algorithm::md5, Racy::trust);
  ASSERT_TRUE(r[0]);
  EXPECT_EQ(*r[0], "1");
  StatKey changed = fresh;
  changed.ctime_ns += 1;
  EXPECT_FALSE(db->lookup({"/obj"}, {changed}, Algorithm::md5, Racy::trust)[0]);
}

TEST(StateDb, RealFileBecomesTrustedWhenStoredLater) {
  TempDir t;
  std::string f = t.path() + "/file";
  std::ofstream(f) << "hello\n";
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  StatKey k = StatKey::from(platform::stat_path(f));
  ASSERT_TRUE(db->store({f}, {k}, {"b1946ac92492d2347c6235b4d2611184"}, Algorithm::md5));
  EXPECT_FALSE(db->lookup({f}, {k}, Algorithm::md5)[0]);  // just written: racy
  // Make the file old (mtime) — ctime is still "now", so it stays racy.
  struct timespec times[2] = {{1000, 0}, {1000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, f.c_str(), times, 0), 0);
  k = StatKey::from(platform::stat_path(f));
  ASSERT_TRUE(db->store({f}, {k}, {"b1946ac92492d2347c6235b4d2611184"}, Algorithm::md5));
  EXPECT_FALSE(db->lookup({f}, {k}, Algorithm::md5)[0]);
}

TEST(StateDb, StampTakenBeforeReadingNarrowsTheRacyWindow) {
  TempDir t;
  if (!platform::is_local_file_system(t.path())) GTEST_SKIP() << "network file system: coarse rule only";
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  const int64_t stamp = StateDb::read_stamp();
  const int64_t sec = 1'000'000'000;
  auto fine = [&](int64_t ns) { return ns % sec ? ns : ns + 1; };  // keep a sub-second part
  StatKey older{1, 10, fine(stamp - 2 * k_fine_window_ns), fine(stamp - 2 * k_fine_window_ns)};
  StatKey within{2, 10, fine(stamp - k_fine_window_ns / 2), fine(stamp - 2 * k_fine_window_ns)};
  StatKey ctime_within{3, 10, fine(stamp - 2 * k_fine_window_ns), fine(stamp - k_fine_window_ns / 2)};
  // Whole-second timestamps (a file system that keeps no more): the coarse window still applies.
  StatKey whole{4, 10, (stamp / sec) * sec, (stamp / sec) * sec};
  ASSERT_TRUE(db->store({"/a", "/b", "/c", "/d"}, {older, within, ctime_within, whole}, {"1", "2", "3", "4"},
                        Algorithm::md5, stamp));
  auto r = db->lookup({"/a", "/b", "/c", "/d"}, {older, within, ctime_within, whole}, Algorithm::md5);
  ASSERT_TRUE(r[0]);
  EXPECT_EQ(*r[0], "1");
  EXPECT_FALSE(r[1]);
  EXPECT_FALSE(r[2]);
  EXPECT_FALSE(r[3]);
  // Without a stamp the same entry falls under the coarse window.
  ASSERT_TRUE(db->store({"/a"}, {older}, {"1"}, Algorithm::md5));
  EXPECT_FALSE(db->lookup({"/a"}, {older}, Algorithm::md5)[0]);
}

TEST(StateDb, WriteAfterTheStampAlwaysChangesTheKey) {
  // The property the narrow window rests on: a file trusted under a stamp, then rewritten with
  // the same size right after it, no longer matches the stored key.
  TempDir t;
  if (!platform::is_local_file_system(t.path())) GTEST_SKIP() << "network file system: coarse rule only";
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  std::string f = t.path() + "/file";
  for (int round = 0; round < 10; ++round) {
    std::ofstream(f) << "hello\n";
    // Old enough for the narrow window (unless the file system keeps whole seconds only). The
    // stamp is the kernel's coarse clock, which can lag a fine-grained mtime by more than one
    // tick (7 ms measured on a 4 ms-tick VM): a margin of several ticks.
    ::usleep(static_cast<useconds_t>(k_fine_window_ns / 1000 + 40000));
    StatKey before = StatKey::from(platform::stat_path(f));
    const int64_t stamp = StateDb::read_stamp();
    ASSERT_TRUE(db->store({f}, {before}, {"b1946ac92492d2347c6235b4d2611184"}, Algorithm::md5, stamp));
    if (before.mtime_ns % 1'000'000'000 != 0) {
      EXPECT_TRUE(db->lookup({f}, {before}, Algorithm::md5)[0]) << "mtime " << before.mtime_ns << ", stamp " << stamp;
    }
    std::ofstream(f) << "jello\n";  // same size, at once
    StatKey after = StatKey::from(platform::stat_path(f));
    EXPECT_NE(after, before);
    EXPECT_FALSE(db->lookup({f}, {after}, Algorithm::md5)[0]);
  }
}

TEST(StateDb, LargeBatch) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  const size_t n = 100000;
  std::vector<std::string> paths;
  std::vector<StatKey> keys;
  std::vector<std::string> md5s;
  paths.reserve(n);
  int64_t base = now_ns() - 1000'000'000'000;
  for (size_t i = 0; i < n; ++i) {
    paths.push_back("/work/repo/data/dir" + std::to_string(i % 100) + "/file-" + std::to_string(i));
    keys.push_back(StatKey{i + 1, int64_t(i), base + int64_t(i), base + int64_t(i)});
    md5s.push_back(std::string(32, "0123456789abcdef"[i % 16]));
  }
  ASSERT_TRUE(db->store(paths, keys, md5s, Algorithm::md5));
  keys[17].size = -1;
  auto r = db->lookup(paths, keys, Algorithm::md5);
  ASSERT_EQ(r.size(), n);
  size_t hits = 0;
  for (size_t i = 0; i < n; ++i) {
    if (r[i]) {
      ++hits;
      ASSERT_EQ(*r[i], md5s[i]);
    }
  }
  EXPECT_EQ(hits, n - 1);
  EXPECT_FALSE(r[17]);
}

TEST(StateDb, CorruptFileRecreated) {
  TempDir t;
  std::string p = t.path() + "/state.db";
  {
    std::ofstream(p, std::ios::binary) << std::string(8192, 'g');  // not a database at all
  }
  auto db = StateDb::open(p);
  ASSERT_TRUE(db) << db.error().message;
  StatKey k = old_key(1, 1);
  ASSERT_TRUE(db->store({"/x"}, {k}, {"cafe"}, Algorithm::md5));
  EXPECT_EQ(*db->lookup({"/x"}, {k}, Algorithm::md5)[0], "cafe");
}

TEST(StateDb, CorruptedWhileOpenRecovers) {
  TempDir t;
  std::string p = t.path() + "/state.db";
  auto db = StateDb::open(p);
  ASSERT_TRUE(db);
  StatKey k = old_key(1, 1);
  ASSERT_TRUE(db->store({"/x"}, {k}, {"cafe"}, Algorithm::md5));
  for (const char* suffix : {"", "-wal"}) {
    std::ofstream(p + suffix, std::ios::binary | std::ios::trunc) << std::string(65536, '\x5a');
  }
  auto fresh = StateDb::open(p);
  ASSERT_TRUE(fresh) << fresh.error().message;
  EXPECT_FALSE(fresh->lookup({"/x"}, {k}, Algorithm::md5)[0]);
  ASSERT_TRUE(fresh->store({"/x"}, {k}, {"beef"}, Algorithm::md5));
  EXPECT_EQ(*fresh->lookup({"/x"}, {k}, Algorithm::md5)[0], "beef");
}

TEST(StateDb, OpenHandleSurvivesCorruption) {
  TempDir t;
  std::string p = t.path() + "/state.db";
  auto db = StateDb::open(p);
  ASSERT_TRUE(db);
  StatKey k = old_key(1, 1);
  std::vector<std::string> paths;
  std::vector<StatKey> keys;
  std::vector<std::string> md5s;
  for (int i = 0; i < 5000; ++i) {
    paths.push_back("/p/" + std::to_string(i));
    keys.push_back(k);
    md5s.push_back("m");
  }
  ASSERT_TRUE(db->store(paths, keys, md5s, Algorithm::md5));
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::ofstream(p + suffix, std::ios::binary | std::ios::trunc) << std::string(65536, '\x5a');
  }
  // Whatever the handle sees now, it must not crash, must not return wrong data, and must be
  // usable again afterwards.
  auto r = db->lookup(paths, keys, Algorithm::md5);
  for (auto& v : r) {
    if (v) {
      EXPECT_EQ(*v, "m");
    }
  }
  (void)db->store({"/x"}, {k}, {"beef"}, Algorithm::md5);
  ASSERT_TRUE(db->store({"/x"}, {k}, {"beef"}, Algorithm::md5));
  EXPECT_EQ(*db->lookup({"/x"}, {k}, Algorithm::md5)[0], "beef");
}

TEST(StateDb, UnknownSchemaReplaced) {
  TempDir t;
  std::string p = t.path() + "/state.db";
  {
    auto db = StateDb::open(p);
    ASSERT_TRUE(db);
  }
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(p.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TABLE state; CREATE TABLE state (x); PRAGMA user_version=99",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto db = StateDb::open(p);
  ASSERT_TRUE(db);
  StatKey k = old_key(1, 1);
  ASSERT_TRUE(db->store({"/x"}, {k}, {"cafe"}, Algorithm::md5));
}

TEST(StateDb, MismatchedVectorsRejected) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db);
  auto r = db->store({"/a", "/b"}, {StatKey{}}, {"x", "y"}, Algorithm::md5);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
}

TEST(StateDb, UnwritableLocationFails) {
  auto db = StateDb::open("/proc/definitely/not/here/state.db");
  EXPECT_FALSE(db);
}

}  // namespace
// A sorted batch is answered by one range scan merged with the input: it must give exactly the
// point-query answers, with foreign rows interleaved in the range, other algorithms, changed
// keys, racy entries and misses; and the same when the input is not sorted (point queries).
TEST(StateDb, SortedBatchRangeScanMatchesPointLookups) {
  TempDir t;
  auto db = StateDb::open(t.path() + "/state.db");
  ASSERT_TRUE(db) << db.error().message;
  std::vector<std::string> paths, stored_paths, md5s;
  std::vector<StatKey> keys, stored_keys;
  for (int i = 0; i < 300; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "/repo/data/f%04d", i);
    paths.push_back(name);
    keys.push_back(old_key(static_cast<uint64_t>(i + 1), i));
    if (i % 3 == 0) continue;  // a miss
    stored_paths.push_back(name);
    StatKey k = keys.back();
    if (i % 7 == 0) k.size += 1;  // changed since stored
    if (i % 11 == 0) k.mtime_ns = now_ns();  // racy when stored
    stored_keys.push_back(k);
    char md5[33];
    std::snprintf(md5, sizeof md5, "%032x", i);
    md5s.push_back(md5);
  }
  // Foreign rows inside the range (another output's files) and another algorithm.
  for (const char* extra : {"/repo/data/f0001a", "/repo/data/f0150/x", "/repo/data/g"}) {
    stored_paths.push_back(extra);
    stored_keys.push_back(old_key(9999, 1));
    md5s.push_back("ffffffffffffffffffffffffffffffff");
  }
  ASSERT_TRUE(db->store(stored_paths, stored_keys, md5s, Algorithm::md5));
  ASSERT_TRUE(db->store({paths[1]}, {keys[1]}, {"0123456789abcdef0123456789abcdef"}, Algorithm::md5_dos2unix));
  auto batch = db->lookup(paths, keys, Algorithm::md5);
  ASSERT_EQ(batch.size(), paths.size());
  size_t hits = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto single = db->lookup({paths[i]}, {keys[i]}, Algorithm::md5);
    EXPECT_EQ(batch[i], single[0]) << paths[i];
    bool expect_hit = i % 3 != 0 && i % 7 != 0 && i % 11 != 0;
    EXPECT_EQ(batch[i].has_value(), expect_hit) << paths[i];
    hits += batch[i].has_value();
  }
  EXPECT_GT(hits, 100u);
  // Unsorted input takes the point-query path and agrees.
  std::vector<std::string> rev(paths.rbegin(), paths.rend());
  std::vector<StatKey> rev_keys(keys.rbegin(), keys.rend());
  auto reversed = db->lookup(rev, rev_keys, Algorithm::md5);
  for (size_t i = 0; i < paths.size(); ++i) EXPECT_EQ(reversed[paths.size() - 1 - i], batch[i]) << paths[i];
}

}  // namespace dvx::state
