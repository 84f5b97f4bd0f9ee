#include "dvx/platform/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <set>

#include "test_temp_dir.h"

namespace dvx::platform {
namespace {

using dvx::testing::TempDir;
using dvx::testing::exists;
using dvx::testing::inode_of;
using dvx::testing::mode_of;
using dvx::testing::temp_files;
using dvx::testing::tree;
namespace tu = dvx::testing;

// Runs `fn` in a forked child and returns its exit code (fn's return value).
template <class Fn>
int in_child(Fn fn) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(fn());
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

TEST(WriteFileAtomic, ContentModeAndNoTempLeft) {
  TempDir t;
  std::string p = t / "f.txt";
  ASSERT_TRUE(write_file_atomic(p, "hello\n", 0640));
  EXPECT_EQ(tu::read_file(p), "hello\n");
  EXPECT_EQ(mode_of(p), 0640 & ~current_umask());
  // Replace: new content, new mode, still no temp.
  ASSERT_TRUE(write_file_atomic(p, std::string(100000, 'x'), 0444, Durability::fsync));
  EXPECT_EQ(tu::read_file(p), std::string(100000, 'x'));
  EXPECT_EQ(mode_of(p), 0444u);
  ASSERT_TRUE(write_file_atomic(t / "empty", "", 0644));
  EXPECT_EQ(tu::read_file(t / "empty"), "");
  EXPECT_EQ(tree(t.path()), (std::vector<std::string>{"empty", "f.txt"}));
}

TEST(WriteFileAtomic, MissingFolderFailsCleanly) {
  TempDir t;
  auto r = write_file_atomic(t / "no/such/f", "x");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_TRUE(tree(t.path()).empty());
}

TEST(TempPathBeside, SameFolderHiddenUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string p = temp_path_beside("/x/y/obj");
    EXPECT_EQ(parent_dir(p), "/x/y");
    EXPECT_EQ(base_name(p)[0], '.');
    EXPECT_TRUE(p.ends_with(".tmp"));
    EXPECT_TRUE(seen.insert(p).second) << p;
  }
}

TEST(CopyFile, ContentModeAndExclusive) {
  TempDir t;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char(i * 31 % 251);
  tu::write_file(t / "src", big);
  ASSERT_TRUE(copy_file(t / "src", t / "dst", 0444));
  EXPECT_EQ(tu::read_file(t / "dst"), big);
  EXPECT_EQ(mode_of(t / "dst"), 0444u);
  EXPECT_NE(inode_of(t / "src"), inode_of(t / "dst"));
  // The destination must not exist (callers copy to a fresh temp name).
  auto again = copy_file(t / "src", t / "dst", 0644);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(tu::read_file(t / "dst"), big);
  // Empty file.
  tu::write_file(t / "empty", "");
  ASSERT_TRUE(copy_file(t / "empty", t / "empty2", 0600));
  EXPECT_EQ(tu::read_file(t / "empty2"), "");
  EXPECT_EQ(mode_of(t / "empty2"), 0600u);
  // Missing source: error, nothing created.
  auto missing = copy_file(t / "nope", t / "dst2", 0644);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_FALSE(exists(t / "dst2"));
}

TEST(ReadFileUpto, WholeFileUpToTheLimitElseFalse) {
  TempDir t;
  std::string buf = std::string(5000, 'z');  // a previous, longer content must not leak
  for (size_t size : {size_t(0), size_t(1), size_t(1000), size_t(4096)}) {
    std::string content(size, 'a');
    for (size_t i = 0; i < size; ++i) content[i] = char('a' + i % 26);
    tu::write_file(t / "f", content);
    auto r = read_file_upto(t / "f", 4096, buf);
    ASSERT_TRUE(r) << size;
    EXPECT_TRUE(*r) << size;
    EXPECT_EQ(buf, content) << size;
  }
  tu::write_file(t / "f", std::string(4097, 'b'));
  auto over = read_file_upto(t / "f", 4096, buf);
  ASSERT_TRUE(over);
  EXPECT_FALSE(*over);
  auto missing = read_file_upto(t / "nope", 4096, buf);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
}

TEST(CopyFileObserved, ObserverSeesExactlyTheBytesCopied) {
  // Sizes around the 1 MiB in-memory limit: both the one-read path and the overlapped
  // kernel-copy path.
  TempDir t;
  for (size_t size : {size_t(0), size_t(1), size_t(1) << 20, (size_t(1) << 20) + 1, (size_t(3) << 20) + 5}) {
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i) content[i] = char((i * 131 + size) % 253);
    std::string src = t / ("src" + std::to_string(size)), dst = t / ("dst" + std::to_string(size));
    tu::write_file(src, content);
    std::string seen;
    size_t calls = 0;
    auto st = copy_file_observed(src, dst, 0444, [&](std::string_view b) {
      seen += b;
      ++calls;
    });
    ASSERT_TRUE(st) << size << ": " << st.error().message;
    EXPECT_EQ(st->size, static_cast<int64_t>(size));
    EXPECT_EQ(st->inode, inode_of(src));
    EXPECT_TRUE(seen == content) << size;
    EXPECT_TRUE(tu::read_file(dst) == content) << size;
    EXPECT_EQ(mode_of(dst), 0444u);
    if (size > (size_t(1) << 20)) EXPECT_GT(calls, 1u) << "large files are observed in pieces";
  }
  // An existing destination is neither overwritten nor removed (both paths).
  tu::write_file(t / "keep", "keep");
  for (const char* src : {"src1", "src3145733"}) {
    auto again = copy_file_observed(t / src, t / "keep", 0644, [](std::string_view) {});
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().code, ErrorCode::conflict);
    EXPECT_EQ(tu::read_file(t / "keep"), "keep");
  }
  auto missing = copy_file_observed(t / "nope", t / "dst-missing", 0644, [](std::string_view) {});
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_FALSE(exists(t / "dst-missing"));
}

TEST(ReflinkFile, FailsCleanlyWhereUnsupported) {
  TempDir t;
  tu::write_file(t / "src", "data\n");
  auto r = reflink_file(t / "src", t / "dst");
  if (r) {
    // A file system that can clone (btrfs, xfs): the clone has the content.
    EXPECT_EQ(tu::read_file(t / "dst"), "data\n");
    GTEST_SKIP() << "file system supports reflinks; failure path not exercised";
  }
  EXPECT_FALSE(r.error().message.empty());
  EXPECT_FALSE(exists(t / "dst"));
  EXPECT_EQ(tree(t.path()), std::vector<std::string>{"src"});
}

TEST(HardlinkFile, SharesInode) {
  TempDir t;
  tu::write_file(t / "src", "data\n");
  ASSERT_TRUE(hardlink_file(t / "src", t / "dst"));
  EXPECT_EQ(inode_of(t / "src"), inode_of(t / "dst"));
  EXPECT_EQ(lstat_path(t / "src").nlink, 2u);
  auto again = hardlink_file(t / "src", t / "dst");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
}

TEST(SymlinkFile, PointsToTarget) {
  TempDir t;
  tu::write_file(t / "src", "data\n");
  ASSERT_TRUE(symlink_file(t / "src", t / "dst"));
  EXPECT_EQ(lstat_path(t / "dst").type, FileType::symlink);
  EXPECT_EQ(stat_path(t / "dst").type, FileType::regular);
  char buf[4096];
  ssize_t n = ::readlink((t / "dst").c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, size_t(n)), t / "src");
  // Dangling: lstat sees the link, stat sees nothing.
  ASSERT_TRUE(symlink_file(t / "nowhere", t / "dangling"));
  EXPECT_EQ(lstat_path(t / "dangling").type, FileType::symlink);
  EXPECT_EQ(stat_path(t / "dangling").type, FileType::missing);
}

TEST(Stat, TypesAndModes) {
  TempDir t;
  tu::write_file(t / "x", "12345", 0755);
  auto s = lstat_path(t / "x");
  EXPECT_EQ(s.type, FileType::regular);
  EXPECT_EQ(s.size, 5);
  EXPECT_EQ(s.mode, 0755u);
  EXPECT_TRUE(s.is_exec());
  EXPECT_EQ(lstat_path(t.path()).type, FileType::directory);
  EXPECT_FALSE(lstat_path(t / "missing").exists());
}

// lstat_under answers as lstat_path of dir + "/" + rel, path by path, for every kind of entry.
TEST(Stat, LstatUnderMatchesLstatPath) {
  TempDir t;
  tu::write_file(t / "a/x", "12345", 0755);
  tu::write_file(t / "a/b/y", "1", 0644);
  ASSERT_EQ(::symlink("a/x", (t / "link").c_str()), 0);
  ASSERT_EQ(::symlink("nowhere", (t / "a/dangling").c_str()), 0);
  std::string outside = t / "a/x";  // absolute: looked up as it is
  std::vector<std::string> rels{"a/x", "a/b/y", "a", "link", "a/dangling", "missing", "a/missing/z", "", outside,
                                "link/x"};
  auto got = lstat_under(t.path(), rels);
  ASSERT_EQ(got.size(), rels.size());
  for (size_t i = 0; i < rels.size(); ++i) {
    std::string full = rels[i].empty() ? t.path() : rels[i][0] == '/' ? rels[i] : t / rels[i];
    FileStat want = lstat_path(full);
    EXPECT_EQ(got[i].type, want.type) << rels[i];
    EXPECT_EQ(got[i].size, want.size) << rels[i];
    EXPECT_EQ(got[i].inode, want.inode) << rels[i];
    EXPECT_EQ(got[i].mtime_ns, want.mtime_ns) << rels[i];
    EXPECT_EQ(got[i].mode, want.mode) << rels[i];
  }
  EXPECT_EQ(got[0].type, FileType::regular);
  EXPECT_EQ(got[3].type, FileType::symlink);  // a final symlink is not followed
  EXPECT_FALSE(got[5].exists());
  // A folder that does not exist: every path missing, no error.
  auto none = lstat_under(t / "nope", {"a/x", "y"});
  ASSERT_EQ(none.size(), 2u);
  EXPECT_FALSE(none[0].exists());
  EXPECT_FALSE(none[1].exists());
  EXPECT_TRUE(lstat_under(t.path(), {}).empty());
}

TEST(FileLock, ConflictFromAnotherProcessAndReleaseOnDestruction) {
  TempDir t;
  std::string p = t / "lock";
  {
    auto lock = FileLock::try_acquire(p);
    ASSERT_TRUE(lock) << lock.error().message;
    // 0: acquired, 1: conflict, 2: other error.
    int code = in_child([&] {
      auto l = FileLock::try_acquire(p);
      if (l) return 0;
      return l.error().code == ErrorCode::conflict ? 1 : 2;
    });
    EXPECT_EQ(code, 1);
  }
  int code = in_child([&] { return FileLock::try_acquire(p) ? 0 : 1; });
  EXPECT_EQ(code, 0);
  // Moving the lock keeps it held.
  auto a = FileLock::try_acquire(p);
  ASSERT_TRUE(a);
  FileLock moved = std::move(*a);
  EXPECT_EQ(a->fd(), -1);
  EXPECT_EQ(in_child([&] { return FileLock::try_acquire(p) ? 0 : 1; }), 1);
}

TEST(FileLock, UnopenableIsNotConflict) {
  auto r = FileLock::try_acquire("/nonexistent-dir-dvx/lock");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST(Paths, NormalizePath) {
  struct Case {
    const char* in;
    const char* out;
  } cases[] = {
      {"", "."},           {".", "."},         {"./", "."},          {"a/./b", "a/b"},
      {"a//b", "a/b"},     {"a/b/", "a/b"},    {"/", "/"},           {"//", "/"},
      {"/..", "/"},        {"/../a", "/a"},    {"/a/../..", "/"},    {"a/..", "."},
      {"a/../..", ".."},   {"../a/..", ".."},  {"../../a", "../../a"}, {"a/b/../../c", "c"},
      {"/a/b/./../c/", "/a/c"}, {"...", "..."}, {"a/.../b", "a/.../b"}, {"./.a", ".a"},
  };
  for (auto& c : cases) EXPECT_EQ(normalize_path(c.in), c.out) << "input '" << c.in << "'";
}

// Every path of up to 6 segments drawn from {"", ".", "..", "a", "bc", "..."}, absolute and
// relative, against a plain segment-stack model of the same rules.
TEST(Paths, NormalizePathMatchesSegmentModel) {
  const char* segs[] = {"", ".", "..", "a", "bc", "..."};
  auto model = [](const std::string& p) {
    bool abs = !p.empty() && p[0] == '/';
    std::vector<std::string> parts;
    size_t i = 0;
    while (i <= p.size()) {
      size_t j = p.find('/', i);
      if (j == std::string::npos) j = p.size();
      std::string seg = p.substr(i, j - i);
      if (seg == "..") {
        if (!parts.empty() && parts.back() != "..") parts.pop_back();
        else if (!abs) parts.push_back("..");
      } else if (!seg.empty() && seg != ".") {
        parts.push_back(seg);
      }
      i = j + 1;
    }
    std::string out = abs ? "/" : "";
    for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
    return out.empty() ? std::string(".") : out;
  };
  size_t checked = 0;
  for (int len = 1; len <= 6; ++len) {
    size_t combos = 1;
    for (int k = 0; k < len; ++k) combos *= 6;
    for (size_t c = 0; c < combos; ++c) {
      std::string p;
      size_t x = c;
      for (int k = 0; k < len; ++k, x /= 6) p += (k ? "/" : "") + std::string(segs[x % 6]);
      for (const std::string& q : {p, "/" + p}) {
        ASSERT_EQ(normalize_path(q), model(q)) << "input '" << q << "'";
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 100000u);
}

TEST(Paths, RelativePath) {
  EXPECT_EQ(relative_path("/a/b/c", "/a"), "b/c");
  EXPECT_EQ(relative_path("/a", "/a/b"), "..");
  EXPECT_EQ(relative_path("/a/x", "/a/b/c"), "../../x");
  EXPECT_EQ(relative_path("/a", "/a"), ".");
  EXPECT_EQ(relative_path("/a/", "/a"), ".");
  EXPECT_EQ(relative_path("/", "/a/b"), "../..");
  EXPECT_EQ(relative_path("/a", "/"), "a");
  EXPECT_EQ(relative_path("/ab", "/a"), "../ab");
  EXPECT_EQ(relative_path("/a/b/../c", "/a"), "c");
}

TEST(Paths, AbsoluteJoinParentBase) {
  EXPECT_EQ(absolute_path("x/../y", "/base/dir"), "/base/dir/y");
  EXPECT_EQ(absolute_path("../y", "/base/dir"), "/base/y");
  EXPECT_EQ(absolute_path("/abs/./p", "/base"), "/abs/p");
  EXPECT_EQ(absolute_path("../..", "/a"), "/");
  EXPECT_EQ(join_path("a", "b"), "a/b");
  EXPECT_EQ(join_path("a/", "b"), "a/b");
  EXPECT_EQ(join_path(".", "b"), "b");
  EXPECT_EQ(join_path("a", "/b"), "/b");
  EXPECT_EQ(parent_dir("/a/b"), "/a");
  EXPECT_EQ(parent_dir("/a"), "/");
  EXPECT_EQ(parent_dir("a"), "");
  EXPECT_EQ(base_name("/a/b.txt"), "b.txt");
  EXPECT_EQ(base_name("b.txt"), "b.txt");
}

TEST(Paths, IsWithin) {
  EXPECT_TRUE(is_within("/a/b", "/a"));
  EXPECT_TRUE(is_within("/a", "/a"));
  EXPECT_TRUE(is_within("/a/b/c", "/a/b"));
  EXPECT_FALSE(is_within("/ab", "/a"));
  EXPECT_FALSE(is_within("/a", "/a/b"));
  EXPECT_FALSE(is_within("/b", "/a"));
  EXPECT_TRUE(is_within("/a", "/"));
  EXPECT_TRUE(is_within("/", "/"));
  EXPECT_FALSE(is_within("", "/"));
  EXPECT_FALSE(is_within("a", "/"));
}

TEST(ListDir, NamesAndTypes) {
  TempDir t;
  tu::write_file(t / "f", "x");
  tu::write_file(t / ".hidden", "x");
  ASSERT_TRUE(make_dirs(t / "d/e"));
  ASSERT_EQ(::symlink("f", (t / "l").c_str()), 0);
  ASSERT_EQ(::mkfifo((t / "p").c_str(), 0644), 0);
  auto r = list_dir(t.path());
  ASSERT_TRUE(r);
  std::map<std::string, FileType> got;
  for (auto& e : *r) got[e.name] = e.type;
  std::map<std::string, FileType> want{{".hidden", FileType::regular}, {"d", FileType::directory},
                                       {"f", FileType::regular},       {"l", FileType::symlink},
                                       {"p", FileType::other}};
  EXPECT_EQ(got, want);
  auto missing = list_dir(t / "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto empty = list_dir(t / "d/e");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(Dirs, MakeDirsRemoveAllRemoveEmptyUp) {
  TempDir t;
  ASSERT_TRUE(make_dirs(t / "a/b/c"));
  ASSERT_TRUE(make_dirs(t / "a/b/c"));  // idempotent
  tu::write_file(t / "file", "x");
  auto clash = make_dirs(t / "file/sub");
  ASSERT_FALSE(clash);
  // Read-only files and a read-only dir are removed by remove_all.
  tu::write_file(t / "a/b/ro", "x", 0444);
  ASSERT_EQ(::chmod((t / "a/b/c").c_str(), 0555), 0);
  ASSERT_TRUE(remove_all(t / "a"));
  EXPECT_FALSE(exists(t / "a"));
  ASSERT_TRUE(remove_all(t / "a"));  // ok when absent
  ASSERT_TRUE(remove_file(t / "absent"));
  // remove_empty_dirs_up stops at a non-empty dir and at `stop`.
  ASSERT_TRUE(make_dirs(t / "s/x/y/z"));
  tu::write_file(t / "s/x/keep", "k");
  remove_empty_dirs_up(t / "s/x/y/z", t / "s");
  EXPECT_FALSE(exists(t / "s/x/y"));
  EXPECT_TRUE(exists(t / "s/x/keep"));
  ASSERT_TRUE(make_dirs(t / "s/only/deep"));
  remove_empty_dirs_up(t / "s/only/deep", t / "s");
  EXPECT_FALSE(exists(t / "s/only"));
  EXPECT_TRUE(exists(t / "s"));
  EXPECT_TRUE(temp_files(t.path()).empty());
}

TEST(LinkTypes, NamesRoundTrip) {
  for (auto lt : {LinkType::reflink, LinkType::hardlink, LinkType::symlink, LinkType::copy})
    EXPECT_EQ(parse_link_type(link_type_name(lt)), lt);
  EXPECT_FALSE(parse_link_type("Copy"));
  EXPECT_FALSE(parse_link_type(""));
}

TEST(LinkTypes, UnsupportedErrnoClassification) {
  // "Can't make this kind of link here": the next cache type is tried.
  for (auto lt : {LinkType::reflink, LinkType::hardlink, LinkType::symlink})
    for (int e : {EOPNOTSUPP, ENOTSUP, EXDEV, ENOSYS}) EXPECT_TRUE(link_unsupported(lt, e)) << link_type_name(lt) << e;
  EXPECT_TRUE(link_unsupported(LinkType::reflink, EINVAL));  // FICLONE on ext4
  EXPECT_TRUE(link_unsupported(LinkType::reflink, ENOTTY));
  EXPECT_TRUE(link_unsupported(LinkType::hardlink, EMLINK));  // link count limit
  EXPECT_TRUE(link_unsupported(LinkType::hardlink, EPERM));   // no hardlinks on this fs
  EXPECT_TRUE(link_unsupported(LinkType::symlink, EPERM));
  // Real errors: reported, never a reason to fall back to another type.
  for (auto lt : {LinkType::reflink, LinkType::hardlink, LinkType::symlink, LinkType::copy})
    for (int e : {ENOSPC, EIO, EACCES, ENOENT, EEXIST, EROFS, EDQUOT})
      EXPECT_FALSE(link_unsupported(lt, e)) << link_type_name(lt) << e;
  EXPECT_FALSE(link_unsupported(LinkType::hardlink, EINVAL));
  for (int e : {EOPNOTSUPP, EXDEV, EPERM}) EXPECT_FALSE(link_unsupported(LinkType::copy, e));
}

TEST(LinkTypes, TryLinkMakesOrSaysUnsupportedOrFails) {
  TempDir t;
  tu::write_file(t / "src", "data");
  auto hard = try_link(LinkType::hardlink, t / "src", t / "hard");
  ASSERT_TRUE(hard);
  EXPECT_TRUE(*hard);
  EXPECT_EQ(inode_of(t / "hard"), inode_of(t / "src"));
  auto sym = try_link(LinkType::symlink, t / "src", t / "sym");
  ASSERT_TRUE(sym);
  EXPECT_TRUE(*sym);
  EXPECT_EQ(lstat_path(t / "sym").type, FileType::symlink);
  // An existing destination is a real error, not "unsupported".
  auto again = try_link(LinkType::hardlink, t / "src", t / "hard");
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  auto missing = try_link(LinkType::reflink, t / "nothing", t / "r");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_FALSE(exists(t / "r"));
  if (!tu::reflink_supported(t.path())) {
    auto r = try_link(LinkType::reflink, t / "src", t / "ref");
    ASSERT_TRUE(r);
    EXPECT_FALSE(*r);
    EXPECT_FALSE(exists(t / "ref"));  // nothing left behind
  }
}

TEST(ReadFile, NeverWaitsOnAFifo) {
  // A FIFO where a file was expected reads as empty instead of blocking for a writer.
  TempDir t;
  ASSERT_EQ(::mkfifo((t / "fifo").c_str(), 0644), 0);
  auto whole = read_file(t / "fifo");
  ASSERT_TRUE(whole);
  EXPECT_EQ(*whole, "");
  std::string out;
  auto part = read_file_upto(t / "fifo", 100, out);
  ASSERT_TRUE(part);
  EXPECT_EQ(out, "");
}

}  // namespace
}  // namespace dvx::platform
