#include "dvx/repo/rwlock.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../platform/test_temp_dir.h"
#include "dvx/platform/files.h"

namespace dvx::repo {
namespace {

using dvx::testing::TempDir;
namespace fsx = dvx::platform;

// A PID that no longer exists: a child that has exited and been reaped.
long dead_pid() {
  pid_t p = ::fork();
  if (p == 0) ::_exit(0);
  ::waitpid(p, nullptr, 0);
  return p;
}

class RwLockTest : public ::testing::Test {
 protected:
  TempDir tmp;
  std::vector<std::string> warnings;
  std::string live = std::to_string(::getppid());  // the test runner's parent: alive
  void claims(const std::string& json) { ASSERT_TRUE(fsx::write_file_atomic(tmp.path() + "/rwlock", json)); }
  Status check(bool write, std::vector<std::string> paths) {
    return check_rwlock(tmp.path(), LockScope{write, std::move(paths)},
                        [this](const std::string& w) { warnings.push_back(w); });
  }
};

TEST_F(RwLockTest, NoFileMeansNoClaims) { EXPECT_TRUE(check(true, {})); }

TEST_F(RwLockTest, WriterBlocksOverlappingPathsOnly) {
  claims(R"({"write": {"/r/data": {"pid": )" + live + R"(, "cmd": "dvc repro"}}})");
  for (auto p : {"/r/data", "/r/data/sub/file", "/r"}) {
    auto s = check(false, {p});
    ASSERT_FALSE(s) << p;
    EXPECT_EQ(s.error().code, ErrorCode::conflict);
    EXPECT_NE(s.error().message.find("'/r/data' is busy, it is being blocked by:\n  (PID " + live + "): dvc repro\n"),
              std::string::npos)
        << s.error().message;
  }
  EXPECT_TRUE(check(true, {"/r/database"}));  // a name prefix is not a path prefix
  EXPECT_TRUE(check(true, {"/r/other"}));
  EXPECT_FALSE(check(true, {}));  // the whole repository overlaps everything
}

TEST_F(RwLockTest, ReadersBlockWritersNotReaders) {
  claims(R"({"read": {"/r/in": [{"pid": )" + live + R"(, "cmd": "dvc repro"}]}})");
  EXPECT_TRUE(check(false, {"/r/in"}));
  EXPECT_FALSE(check(true, {"/r/in"}));
}

TEST_F(RwLockTest, OwnClaimsNeverBlock) {
  claims(R"({"write": {"/r/data": {"pid": )" + std::to_string(::getpid()) + R"(, "cmd": "x"}}})");
  EXPECT_TRUE(check(true, {"/r/data"}));
}

TEST_F(RwLockTest, DeadClaimsAreRemovedWithAWarning) {
  long dead = dead_pid();
  claims(R"({"read": {"/r/a": [{"pid": )" + std::to_string(dead) + R"(, "cmd": "dvc status"}, {"pid": )" + live +
         R"(, "cmd": "dvc x"}]}, "write": {"/r/b": {"pid": )" + std::to_string(dead) + R"(, "cmd": "dvc repro"}}})");
  ASSERT_TRUE(check(true, {"/r/b"}));
  EXPECT_EQ(warnings.size(), 2u);
  auto left = fsx::read_file(tmp.path() + "/rwlock");
  ASSERT_TRUE(left);
  EXPECT_EQ(*left, R"({"read": {"/r/a": [{"pid": )" + live + R"(, "cmd": "dvc x"}]}})");
}

TEST_F(RwLockTest, CorruptedAndMisshapenFilesAreErrors) {
  claims("{\"read\": ");
  auto s = check(true, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("JSON structure is corrupted"), std::string::npos);
  for (auto bad : {R"([1])", R"({"write": []})", R"({"write": {"/a": {"pid": "1", "cmd": "x"}}})",
                   R"({"read": {"/a": {"pid": 1, "cmd": "x"}}})"}) {
    claims(bad);
    auto r = check(true, {});
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("format error"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace dvx::repo
