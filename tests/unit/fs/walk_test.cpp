#include "dvx/fs/walk.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "dvx/platform/files.h"

namespace dvx::fs {
namespace {

class TempRepo {
 public:
  TempRepo() {
    char tmpl[] = "/tmp/dvx-walk-test-XXXXXX";
    m_path = ::mkdtemp(tmpl);
  }
  ~TempRepo() { (void)platform::remove_all(m_path); }
  const std::string& path() const { return m_path; }
  std::string abs(const std::string& rel) const { return m_path + "/" + rel; }
  void write(const std::string& rel, const std::string& bytes) const {
    (void)platform::make_dirs(platform::parent_dir(abs(rel)));
    std::ofstream(abs(rel), std::ios::binary) << bytes;
  }
  void mkdir(const std::string& rel) const { (void)platform::make_dirs(abs(rel)); }
  void symlink(const std::string& target, const std::string& rel) const {
    ASSERT_EQ(::symlink(target.c_str(), abs(rel).c_str()), 0);
  }

 private:
  std::string m_path;
};

std::vector<std::string> names(const std::vector<WalkEntry>& entries) {
  std::vector<std::string> out;
  for (auto& e : entries) out.push_back(e.rel_path);
  return out;
}

Result<std::vector<WalkEntry>> walk(const TempRepo& r, const std::string& rel_dir,
                                    unsigned threads = 4,
                                    NestedIgnoreFiles nested = NestedIgnoreFiles::error) {
  auto rules = IgnoreRules::load(r.path());
  if (!rules) return std::unexpected(rules.error());
  return walk_dir(r.abs(rel_dir), r.path(), *rules, threads, nested);
}

TEST(WalkDir, SymlinksAndEmptyDirs) {
  TempRepo r;
  r.write("data/a.txt", "hello\n");
  r.write("file.txt", "target\n");
  r.write("other/x.txt", "x");
  r.mkdir("data/empty/deeper");
  r.symlink("../file.txt", "data/f");
  r.symlink("../other", "data/sub");
  r.symlink("nowhere", "data/dangling");
  ASSERT_EQ(::mkfifo(r.abs("data/fifo").c_str(), 0644), 0);
  auto w = walk(r, "data");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(names(*w), (std::vector<std::string>{"a.txt", "dangling", "f"}));
  EXPECT_EQ((*w)[0].stat.size, 6);
  EXPECT_EQ((*w)[1].stat.type, platform::FileType::missing);
  EXPECT_EQ((*w)[2].stat.type, platform::FileType::regular);  // the target's stat
  EXPECT_EQ((*w)[2].stat.size, 7);
  EXPECT_EQ((*w)[2].stat.inode, platform::stat_path(r.abs("file.txt")).inode);
}

TEST(WalkDir, EmptyDirectory) {
  TempRepo r;
  r.mkdir("data/a/b");
  auto w = walk(r, "data");
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->empty());
}

TEST(WalkDir, SortedByBytes) {
  TempRepo r;
  for (const char* n : {"cats/cat-001.bin", "cats-index.txt", "B.txt", "Z.txt", "a-b.txt", "a.txt",
                        "a/b.txt", "\xC3\xA9.txt", "e\xCC\x81.txt"})
    r.write(std::string("d/") + n, "x");
  auto w = walk(r, "d");
  ASSERT_TRUE(w);
  EXPECT_EQ(names(*w), (std::vector<std::string>{"B.txt", "Z.txt", "a-b.txt", "a.txt", "a/b.txt",
                                                 "cats-index.txt", "cats/cat-001.bin",
                                                 "e\xCC\x81.txt", "\xC3\xA9.txt"}));
}

TEST(WalkDir, IgnoreRulesApply) {
  TempRepo r;
  r.write(".dvcignore", "*.tmp\ndata/build/\n!data/keep.tmp\n");
  r.write("data/a.txt", "a");
  r.write("data/x.tmp", "x");
  r.write("data/keep.tmp", "k");
  r.write("data/build/out.o", "o");
  r.write("data/sub/build/out.o", "o");  // "data/build/" is anchored
  r.write("data/sub/y.tmp", "y");
  r.write("data/.git/HEAD", "ref");     // built-in patterns apply at any depth
  auto w = walk(r, "data");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(names(*w), (std::vector<std::string>{"a.txt", "keep.tmp", "sub/build/out.o"}));
}

TEST(WalkDir, NestedDvcignoreIsAnError) {
  TempRepo r;
  r.write("data/a.txt", "a");
  r.write("data/sub/.dvcignore", "a.txt\n");
  auto w = walk(r, "data");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message,
            ".dvcignore file should not be in collected dir path: '" + r.abs("data/sub") + "'");
  r.write("data/.dvcignore", "");
  w = walk(r, "data");
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().message,
            ".dvcignore file should not be in collected dir path: '" + r.abs("data") + "'");
}

TEST(WalkDir, NestedDvcignoreApplied) {
  TempRepo r;
  r.write(".dvcignore", "*.log\n");
  r.write("a.txt", "a");
  r.write("x.log", "x");
  r.write("sub/.dvcignore", "/a.txt\n!keep.log\n");
  r.write("sub/a.txt", "a");
  r.write("sub/b.txt", "b");
  r.write("sub/keep.log", "k");
  r.write("sub/deep/a.txt", "a");
  r.write(".dvc/config", "");
  r.write(".git/HEAD", "");
  auto w = walk(r, "", 2, NestedIgnoreFiles::apply);
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(names(*w), (std::vector<std::string>{".dvcignore", "a.txt", "sub/.dvcignore",
                                                 "sub/b.txt", "sub/deep/a.txt", "sub/keep.log"}));
}

TEST(WalkDir, IgnoredDvcignoreInsideIsFine) {
  TempRepo r;
  r.write(".dvcignore", "data/junk/\n");
  r.write("data/a.txt", "a");
  r.write("data/junk/.dvcignore", "*");
  auto w = walk(r, "data");
  ASSERT_TRUE(w) << w.error().message;
  EXPECT_EQ(names(*w), (std::vector<std::string>{"a.txt"}));
}

TEST(WalkDir, SkipsNestedRepos) {
  TempRepo r;
  r.write("data/a.txt", "a");
  r.write("data/subrepo/.dvc/config", "");
  r.write("data/subrepo/b.txt", "b");
  r.write("data/notrepo/.dvcx", "");
  auto w = walk(r, "data");
  ASSERT_TRUE(w);
  EXPECT_EQ(names(*w), (std::vector<std::string>{"a.txt", "notrepo/.dvcx"}));
}

TEST(WalkDir, OutsideRepoNoRules) {
  TempRepo r, other;
  r.write(".dvcignore", "*\n");
  other.write("d/a.txt", "a");
  auto rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(rules);
  auto w = walk_dir(other.abs("d"), r.path(), *rules, 2);
  ASSERT_TRUE(w);
  EXPECT_EQ(names(*w), (std::vector<std::string>{"a.txt"}));
}

TEST(WalkDir, Errors) {
  TempRepo r;
  r.write("f", "x");
  auto rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(rules);
  auto missing = walk_dir(r.abs("nope"), r.path(), *rules, 1);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto file = walk_dir(r.abs("f"), r.path(), *rules, 1);
  ASSERT_FALSE(file);
  EXPECT_EQ(file.error().code, ErrorCode::invalid_argument);
}

TEST(WalkDir, ParallelEqualsSerial) {
  TempRepo r;
  r.write(".dvcignore", "*.skip\n");
  for (int d = 0; d < 30; ++d) {
    for (int f = 0; f < 60; ++f) {
      std::string dir = "data/d" + std::to_string(d % 7) + "/e" + std::to_string(d);
      r.write(dir + "/f" + std::to_string(f) + (f % 10 == 0 ? ".skip" : ".bin"), std::string(size_t(f), 'x'));
    }
  }
  auto serial = walk(r, "data", 1);
  auto parallel = walk(r, "data", 8);
  ASSERT_TRUE(serial && parallel);
  EXPECT_EQ(serial->size(), 30u * 54u);
  ASSERT_EQ(names(*serial), names(*parallel));
  for (size_t i = 0; i < serial->size(); ++i) EXPECT_EQ((*serial)[i].stat.size, (*parallel)[i].stat.size);
  auto n = names(*parallel);
  EXPECT_TRUE(std::is_sorted(n.begin(), n.end()));
}

TEST(WalkDir, ParallelSortMatchesStdSort) {
  std::vector<WalkEntry> entries;
  for (int i = 0; i < 50000; ++i) {
    WalkEntry e;
    e.rel_path = std::to_string((i * 7919) % 50021) + (i % 3 ? "/x" : "-y");
    entries.push_back(e);
  }
  auto copy = entries;
  sort_walk_entries(entries, 5);
  std::sort(copy.begin(), copy.end(), [](auto& a, auto& b) { return a.rel_path < b.rel_path; });
  EXPECT_EQ(names(entries), names(copy));
}

}  // namespace
}  // namespace dvx::fs
