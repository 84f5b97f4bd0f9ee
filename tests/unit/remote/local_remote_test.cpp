#include "dvx/remote/local_remote.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "../platform/test_temp_dir.h"

namespace dvx::remote {
namespace {

using dvx::testing::TempDir;
using dvx::testing::exists;
using dvx::testing::mode_of;
using dvx::testing::temp_files;
namespace tu = dvx::testing;

const std::string kKey = "files/md5/b1/946ac92492d2347c6235b4d2611184";

TEST(LocalRemote, PutGetExistsListRemove) {
  TempDir t{"dvx-remote-test"};
  LocalRemote r(t / "remote");
  EXPECT_EQ(r.describe(), t / "remote");
  tu::write_file(t / "src", "hello\n");
  auto e = r.exists(kKey);
  ASSERT_TRUE(e);
  EXPECT_FALSE(*e);
  ASSERT_TRUE(r.put(t / "src", kKey));
  EXPECT_EQ(tu::read_file(t / "remote/" + kKey), "hello\n");
  EXPECT_EQ(mode_of(t / "remote/" + kKey), 0444u);
  EXPECT_TRUE(*r.exists(kKey));
  // put over an existing (read-only) object replaces it atomically.
  tu::write_file(t / "src2", "hello\n");
  ASSERT_TRUE(r.put(t / "src2", kKey));

  auto got = r.get(kKey, t / "dl", {});
  ASSERT_TRUE(got);
  EXPECT_TRUE(*got);
  EXPECT_EQ(tu::read_file(t / "dl"), "hello\n");
  // With an observer, the observer sees exactly the bytes written.
  std::string seen;
  auto observed = r.get(kKey, t / "dl3", [&](std::string_view b) { seen += b; });
  ASSERT_TRUE(observed);
  EXPECT_TRUE(*observed);
  EXPECT_EQ(seen, "hello\n");
  EXPECT_EQ(tu::read_file(t / "dl3"), "hello\n");
  // Absent key: false, nothing created.
  auto absent = r.get("files/md5/00/0000000000000000000000000000ff", t / "dl2", {});
  ASSERT_TRUE(absent);
  EXPECT_FALSE(*absent);
  EXPECT_FALSE(exists(t / "dl2"));

  ASSERT_TRUE(r.put(t / "src", "ab/cdef"));
  tu::write_file(t / "remote/files/md5/b1/.partial.tmp", "x");
  auto all = r.list("");
  ASSERT_TRUE(all);
  std::sort(all->begin(), all->end());
  EXPECT_EQ(*all, (std::vector<std::string>{"ab/cdef", "files/md5/b1/.partial.tmp", kKey}));
  auto v3 = r.list("files/md5/");
  ASSERT_TRUE(v3);
  std::sort(v3->begin(), v3->end());
  EXPECT_EQ(*v3, (std::vector<std::string>{"files/md5/b1/.partial.tmp", kKey}));
  auto none = r.list("nothing/");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());

  ASSERT_TRUE(r.remove(kKey));
  EXPECT_FALSE(*r.exists(kKey));
  ASSERT_TRUE(r.remove(kKey));  // absent is fine
  (void)platform::remove_file(t / "remote/files/md5/b1/.partial.tmp");
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(LocalRemote, PutOfMissingSourceFailsCleanly) {
  TempDir t{"dvx-remote-test"};
  LocalRemote r(t / "remote");
  auto p = r.put(t / "missing", kKey);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::not_found);
  EXPECT_FALSE(*r.exists(kKey));
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(OpenRemote, Schemes) {
  auto local = open_remote("/some/dir", {});
  ASSERT_TRUE(local);
  EXPECT_EQ((*local)->describe(), "/some/dir");
  auto file = open_remote("file:///some/dir", {});
  ASSERT_TRUE(file);
  EXPECT_EQ((*file)->describe(), "/some/dir");
  auto other = open_remote("gopher://host/x", {});
  ASSERT_FALSE(other);
  EXPECT_EQ(other.error().code, ErrorCode::invalid_argument);
}

}  // namespace
}  // namespace dvx::remote
