// Tests for dvx::scm::Git and the .gitignore upkeep. Each test builds a throwaway repository in
// its own temp dir with the git CLI (kept when the test fails).
#include "dvx/scm/git.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dvx/platform/files.h"

namespace dvx::scm {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const std::string& path, const std::string& bytes) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

class GitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "dvx-scm-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    m_root = *platform::real_path(tmpl);
    m_dir = m_root + "/repo";
    fs::create_directories(m_dir);
    // Keep the user's global/system git config (excludesFile, hooks, …) out of the tests.
    fs::create_directories(m_root + "/home");
    setenv("HOME", (m_root + "/home").c_str(), 1);
    setenv("XDG_CONFIG_HOME", (m_root + "/home/.config").c_str(), 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    git("init -q -b main");
    git("config user.name Test");
    git("config user.email test@example.com");
    git("config commit.gpgsign false");
  }

  void TearDown() override {
    if (HasFailure()) {
      std::fprintf(stderr, "kept test dir %s\n", m_root.c_str());
    } else {
      fs::remove_all(m_root);
    }
  }

  void git(const std::string& args) {
    std::string cmd = "git -C '" + m_dir + "' " + args + " >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }

  std::string git_out(const std::string& args) {
    std::string cmd = "git -C '" + m_dir + "' " + args + " 2>/dev/null";
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }

  void put(const std::string& rel, const std::string& bytes) { write(m_dir + "/" + rel, bytes); }
  std::string get(const std::string& rel) { return read_all(m_dir + "/" + rel); }
  bool exists(const std::string& rel) { return fs::exists(m_dir + "/" + rel); }

  void commit(const std::string& msg) {
    git("add -A");
    git("commit -q -m '" + msg + "'");
  }

  Git open() {
    auto g = Git::discover(m_dir);
    EXPECT_TRUE(g.has_value()) << g.error().message;
    EXPECT_TRUE(g->has_value());
    return std::move(**g);
  }

  std::string m_root;
  std::string m_dir;
};

TEST_F(GitTest, DiscoverFindsWorkTreeFromSubdirAndMissingPath) {
  put("sub/dir/file", "x");
  auto g = Git::discover(m_dir + "/sub/dir");
  ASSERT_TRUE(g.has_value());
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ((*g)->work_tree(), m_dir);
  EXPECT_EQ((*g)->git_dir(), m_dir + "/.git");
  EXPECT_EQ((*g)->common_dir(), m_dir + "/.git");
  auto missing = Git::discover(m_dir + "/sub/not/there");
  ASSERT_TRUE(missing.has_value());
  ASSERT_TRUE(missing->has_value());
  EXPECT_EQ((*missing)->work_tree(), m_dir);
}

TEST_F(GitTest, DiscoverOutsideAnyRepoIsNullopt) {
  std::string outside = m_root + "/outside";
  fs::create_directories(outside);
  // The temp dir might itself live in some repository; it is never ours.
  auto g = Git::discover(outside);
  ASSERT_TRUE(g.has_value());
  if (g->has_value()) {
    EXPECT_NE((*g)->work_tree(), m_dir);
  } else {
    SUCCEED();
  }
}

TEST_F(GitTest, InitRepoCreatesAnEmptyRepository) {
  std::string other = m_root + "/other";
  ASSERT_TRUE(Git::init_repo(other).has_value());
  EXPECT_TRUE(fs::is_directory(other + "/.git"));
  auto g = Git::discover(other);
  ASSERT_TRUE(g.has_value() && g->has_value());
  EXPECT_EQ((*g)->has_commits().value(), false);
}

TEST_F(GitTest, EmptyRepository) {
  Git g = open();
  EXPECT_EQ(g.has_commits().value(), false);
  auto head = g.resolve("HEAD");
  ASSERT_FALSE(head.has_value());
  EXPECT_EQ(head.error().code, ErrorCode::not_found);
  EXPECT_EQ(head.error().message, "unknown Git revision 'HEAD'");
  EXPECT_THAT(g.all_commits().value(), IsEmpty());
  EXPECT_THAT(g.branches().value(), IsEmpty());
  EXPECT_THAT(g.tags().value(), IsEmpty());
  EXPECT_EQ(g.is_tracked("anything").value(), false);
  EXPECT_EQ(g.has_changes().value(), false);
  EXPECT_FALSE(g.read_file_at("HEAD", "x").has_value());
}

TEST_F(GitTest, IsTrackedFilesAndDirectories) {
  put("a.txt", "a");
  put("dir/sub/b.txt", "b");
  put("dirx", "not a dir");
  put("untracked/c.txt", "c");
  git("add a.txt dir dirx");
  Git g = open();
  EXPECT_TRUE(g.is_tracked("a.txt").value());
  EXPECT_TRUE(g.is_tracked("dir").value());
  EXPECT_TRUE(g.is_tracked("dir/").value());
  EXPECT_TRUE(g.is_tracked("./dir/sub").value());
  EXPECT_TRUE(g.is_tracked("dir/sub/b.txt").value());
  EXPECT_TRUE(g.is_tracked("dirx").value());
  EXPECT_FALSE(g.is_tracked("di").value());
  EXPECT_FALSE(g.is_tracked("untracked").value());
  EXPECT_FALSE(g.is_tracked("untracked/c.txt").value());
  EXPECT_FALSE(g.is_tracked("dir/sub/b").value());
  EXPECT_TRUE(g.is_tracked("").value());
  // The index is re-read when the git CLI changes it behind our back.
  git("rm -q --cached a.txt");
  EXPECT_FALSE(g.is_tracked("a.txt").value());
  git("add untracked");
  EXPECT_TRUE(g.is_tracked("untracked").value());
}

TEST_F(GitTest, IsIgnoredFollowsAllRuleSources) {
  put(".gitignore", "*.log\n/build\n");
  put("sub/.gitignore", "local.txt\n");
  put(".git/info/exclude", "excluded.bin\n");
  put("build/out.o", "o");
  put("sub/local.txt", "x");
  Git g = open();
  EXPECT_TRUE(g.is_ignored("x.log").value());
  EXPECT_TRUE(g.is_ignored("deep/er/x.log").value());
  EXPECT_TRUE(g.is_ignored("build").value());
  EXPECT_TRUE(g.is_ignored("build/out.o").value());  // inside an ignored directory
  EXPECT_TRUE(g.is_ignored("sub/local.txt").value());
  EXPECT_FALSE(g.is_ignored("local.txt").value());
  EXPECT_TRUE(g.is_ignored("excluded.bin").value());
  EXPECT_FALSE(g.is_ignored("data.csv").value());
  EXPECT_FALSE(g.is_ignored("sub/build").value());

  // core.excludesFile
  put("../global-ignore", "global.*\n");
  git("config core.excludesFile '" + m_root + "/global-ignore'");
  Git g2 = open();
  EXPECT_TRUE(g2.is_ignored("global.txt").value());
}

TEST_F(GitTest, IsIgnoredSeesChangedIgnoreFilesOnSameObject) {
  Git g = open();
  EXPECT_FALSE(g.is_ignored("data.csv").value());
  put(".gitignore", "/data.csv\n");
  EXPECT_TRUE(g.is_ignored("data.csv").value());
  // Same size, rewritten at once: still seen.
  put(".gitignore", "/data.csx\n");
  EXPECT_FALSE(g.is_ignored("data.csv").value());
  fs::remove(m_dir + "/.gitignore");
  put("sub/.gitignore", "/x\n");
  EXPECT_TRUE(g.is_ignored("sub/x").value());
  fs::remove(m_dir + "/sub/.gitignore");
  EXPECT_FALSE(g.is_ignored("sub/x").value());
}

TEST_F(GitTest, IgnoreOutputWritesFixtureStyleBytes) {
  put("data.csv", "1,2\n");
  put("images/a.png", "png");
  put("models/model.pkl", "pkl");
  Git g = open();
  auto r1 = ignore_output(g, "data.csv");
  ASSERT_TRUE(r1.has_value()) << r1.error().message;
  EXPECT_EQ(*r1, std::optional<std::string>(".gitignore"));
  auto r2 = ignore_output(g, "images");
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(*r2, std::optional<std::string>(".gitignore"));
  auto r3 = ignore_output(g, "models/model.pkl");
  ASSERT_TRUE(r3.has_value());
  EXPECT_EQ(*r3, std::optional<std::string>("models/.gitignore"));
  EXPECT_EQ(get(".gitignore"), "/data.csv\n/images\n");
  EXPECT_EQ(get("models/.gitignore"), "/model.pkl\n");
  struct stat st{};
  ASSERT_EQ(::stat((m_dir + "/.gitignore").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);

  // The same Git object now sees the new rules; a second call changes nothing.
  EXPECT_TRUE(g.is_ignored("data.csv").value());
  EXPECT_TRUE(g.is_ignored("images/a.png").value());
  auto again = ignore_output(g, "data.csv");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, std::nullopt);
  EXPECT_EQ(get(".gitignore"), "/data.csv\n/images\n");
  // git itself agrees.
  EXPECT_EQ(git_out("check-ignore data.csv images/a.png models/model.pkl"),
            "data.csv\nimages/a.png\nmodels/model.pkl");
}

TEST_F(GitTest, IgnoreOutputsInOneBatchEqualsOneByOne) {
  put(".gitignore", "/already\n");
  put("out/a.txt", "a");
  put("out/b.txt", "b");
  put("dir/x/y.txt", "y");
  Git g = open();
  // "dir/x/y.txt" is inside "dir/x", given an entry earlier in the batch; "already" is ignored
  // by an existing line; "out/a.txt" twice gets one line.
  auto r = ignore_outputs(g, {"out/a.txt", "already", "dir/x", "out/b.txt", "dir/x/y.txt", "out/a.txt", "top"});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(*r, (std::vector<std::string>{"out/.gitignore", "dir/.gitignore", ".gitignore"}));
  EXPECT_EQ(get("out/.gitignore"), "/a.txt\n/b.txt\n");
  EXPECT_EQ(get("dir/.gitignore"), "/x\n");
  EXPECT_FALSE(fs::exists(m_dir + "/dir/x/.gitignore"));
  EXPECT_EQ(get(".gitignore"), "/already\n/top\n");
  EXPECT_TRUE(g.is_ignored("out/b.txt").value());
  EXPECT_EQ(git_out("check-ignore out/a.txt out/b.txt dir/x/y.txt top"), "out/a.txt\nout/b.txt\ndir/x/y.txt\ntop");
  auto again = ignore_outputs(g, {"out/a.txt", "dir/x", "top"});
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again->empty());
}

TEST_F(GitTest, IgnoreOutputAppendsNewlineWhenMissingAndKeepsMode) {
  put(".gitignore", "*.tmp");  // no trailing newline
  ::chmod((m_dir + "/.gitignore").c_str(), 0600);
  Git g = open();
  auto r = ignore_output(g, "data.csv");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(get(".gitignore"), "*.tmp\n/data.csv\n");
  struct stat st{};
  ASSERT_EQ(::stat((m_dir + "/.gitignore").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(GitTest, IgnoreOutputEscapesMetacharacters) {
  EXPECT_EQ(gitignore_entry("f[1]*.txt"), "/f\\[1\\]\\*.txt");
  EXPECT_EQ(gitignore_entry("d/#a!b?"), "/\\#a\\!b\\?");
  put("f[1]*.txt", "x");
  put("f1abc.txt", "y");
  Git g = open();
  auto r = ignore_output(g, "f[1]*.txt");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(get(".gitignore"), "/f\\[1\\]\\*.txt\n");
  EXPECT_TRUE(g.is_ignored("f[1]*.txt").value());
  EXPECT_FALSE(g.is_ignored("f1abc.txt").value());
}

TEST_F(GitTest, IgnoreOutputWritesNothingWhenAlreadyIgnored) {
  put(".gitignore", "/data\n");
  put("data/sub/file.bin", "x");
  Git g = open();
  auto r = ignore_output(g, "data/sub/file.bin");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, std::nullopt);
  EXPECT_FALSE(exists("data/sub/.gitignore"));
  EXPECT_EQ(get(".gitignore"), "/data\n");
}

TEST_F(GitTest, UnignoreOutputRemovesLineAndEmptyFile) {
  put("data.csv", "x");
  put("images/a", "x");
  Git g = open();
  ASSERT_TRUE(ignore_output(g, "data.csv").has_value());
  ASSERT_TRUE(ignore_output(g, "images").has_value());
  auto r1 = unignore_output(g.work_tree(), "data.csv");
  ASSERT_TRUE(r1.has_value());
  EXPECT_EQ(*r1, std::optional<std::string>(".gitignore"));
  EXPECT_EQ(get(".gitignore"), "/images\n");
  EXPECT_FALSE(g.is_ignored("data.csv").value());
  auto none = unignore_output(g.work_tree(), "data.csv");
  ASSERT_TRUE(none.has_value());
  EXPECT_EQ(*none, std::nullopt);
  auto r2 = unignore_output(g.work_tree(), "images");
  ASSERT_TRUE(r2.has_value());
  EXPECT_EQ(*r2, std::optional<std::string>(".gitignore"));
  EXPECT_FALSE(exists(".gitignore"));
  auto missing = unignore_output(g.work_tree(), "models/model.pkl");
  ASSERT_TRUE(missing.has_value());
  EXPECT_EQ(*missing, std::nullopt);
}

TEST_F(GitTest, UnignoreOutputStripsWhitespaceAndKeepsOtherLines) {
  put("sub/.gitignore", "# keep\n  /data.csv  \n*.tmp\n");
  auto r = unignore_output(m_dir, "sub/data.csv");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, std::optional<std::string>("sub/.gitignore"));
  EXPECT_EQ(get("sub/.gitignore"), "# keep\n*.tmp\n");
  put("f/.gitignore", "/f\\[1\\]\\*.txt\n");
  ASSERT_TRUE(unignore_output(m_dir, "f/f[1]*.txt").has_value());
  EXPECT_FALSE(exists("f/.gitignore"));
}

TEST_F(GitTest, RejectsPathsOutsideTheWorkTree) {
  Git g = open();
  EXPECT_FALSE(ignore_output(g, "../x").has_value());
  EXPECT_FALSE(unignore_output(m_dir, "../x").has_value());
  EXPECT_FALSE(g.is_ignored("../x").has_value());
}

TEST_F(GitTest, AddStagesFilesDirectoriesAndRemovals) {
  put("a.dvc", "outs: []\n");
  put("dir/x.txt", "x");
  put("dir/y.log", "y");
  put("dir/.gitignore", "*.log\n");
  put("gone.txt", "g");
  git("add gone.txt");
  fs::remove(m_dir + "/gone.txt");
  Git g = open();
  ASSERT_TRUE(g.add({"a.dvc", "dir", "gone.txt"}).has_value());
  EXPECT_EQ(git_out("diff --cached --name-status"),
            "A\ta.dvc\nA\tdir/.gitignore\nA\tdir/x.txt");
  // Staging a deleted, committed file records the deletion.
  commit("c1");
  fs::remove(m_dir + "/a.dvc");
  ASSERT_TRUE(g.add({"a.dvc"}).has_value());
  EXPECT_EQ(git_out("diff --cached --name-status"), "D\ta.dvc");
  // A file with pathspec metacharacters is taken literally.
  put("f[1].txt", "1");
  put("f1.txt", "1");
  ASSERT_TRUE(g.add({"f[1].txt"}).has_value());
  EXPECT_TRUE(g.is_tracked("f[1].txt").value());
  EXPECT_FALSE(g.is_tracked("f1.txt").value());
}

TEST_F(GitTest, RevisionsAndFilesAtCommits) {
  put("data.csv.dvc", "v1\n");
  put("dvc.yaml", "stages: {}\n");
  put("README", "r");
  commit("first");
  std::string first = git_out("rev-parse HEAD");
  put("data.csv.dvc", "v2\n");
  put("sub/dvc.lock", "lock\n");
  put("sub/deep/model.dvc", "m\n");
  put("sub/notdvc.yaml", "n\n");
  put("sub/x.dvcfile", "n\n");
  commit("second");
  std::string second = git_out("rev-parse HEAD");
  git("tag v1 " + first);
  git("tag -a -m annotated v2");
  git("branch other " + first);

  Git g = open();
  EXPECT_TRUE(g.has_commits().value());
  EXPECT_EQ(g.resolve("HEAD").value(), second);
  EXPECT_EQ(g.resolve("HEAD~1").value(), first);
  EXPECT_EQ(g.resolve("main").value(), second);
  EXPECT_EQ(g.resolve("other").value(), first);
  EXPECT_EQ(g.resolve("v1").value(), first);
  EXPECT_EQ(g.resolve("v2").value(), second);  // annotated tag peeled to its commit
  EXPECT_EQ(g.resolve(first.substr(0, 10)).value(), first);
  EXPECT_EQ(g.resolve(first).value(), first);
  auto bad = g.resolve("nope");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, ErrorCode::not_found);
  EXPECT_THAT(bad.error().message, ::testing::HasSubstr("'nope'"));
  EXPECT_FALSE(g.resolve("HEAD~5").has_value());

  EXPECT_EQ(g.read_file_at(first, "data.csv.dvc").value(), std::optional<std::string>("v1\n"));
  EXPECT_EQ(g.read_file_at(second, "data.csv.dvc").value(), std::optional<std::string>("v2\n"));
  EXPECT_EQ(g.read_file_at("HEAD", "sub/deep/model.dvc").value(), std::optional<std::string>("m\n"));
  EXPECT_EQ(g.read_file_at(first, "sub/dvc.lock").value(), std::nullopt);
  EXPECT_EQ(g.read_file_at("HEAD", "sub").value(), std::nullopt);  // a directory is not a file
  EXPECT_FALSE(g.read_file_at("nope", "x").has_value());

  EXPECT_THAT(g.list_dvc_files_at(first).value(), ElementsAre("data.csv.dvc", "dvc.yaml"));
  EXPECT_THAT(g.list_dvc_files_at("HEAD").value(),
              ElementsAre("data.csv.dvc", "dvc.yaml", "sub/deep/model.dvc", "sub/dvc.lock"));

  EXPECT_THAT(g.branches().value(), ElementsAre("main", "other"));
  EXPECT_THAT(g.tags().value(), ElementsAre("v1", "v2"));
  EXPECT_THAT(g.all_commits().value(), ::testing::UnorderedElementsAre(first, second));
}

TEST_F(GitTest, AllCommitsIncludesCommitsOnlyOnOtherRefs) {
  put("a", "1");
  commit("base");
  git("checkout -q -b side");
  put("b", "2");
  commit("side");
  std::string side = git_out("rev-parse HEAD");
  git("checkout -q main");
  Git g = open();
  auto all = g.all_commits().value();
  EXPECT_EQ(all.size(), 2u);
  EXPECT_THAT(all, ::testing::Contains(side));
}

TEST_F(GitTest, UntrackedFilesAndChanges) {
  put("tracked.txt", "t");
  put(".gitignore", "/ignored\n");
  commit("c");
  Git g = open();
  EXPECT_THAT(g.untracked_files().value(), IsEmpty());
  EXPECT_FALSE(g.has_changes().value());

  put("ignored/x", "x");
  EXPECT_THAT(g.untracked_files().value(), IsEmpty());
  EXPECT_FALSE(g.has_changes().value());

  put("new/deep/file.txt", "n");
  put("b.txt", "b");
  EXPECT_THAT(g.untracked_files().value(), ElementsAre("b.txt", "new/deep/file.txt"));
  EXPECT_TRUE(g.has_changes().value());
  EXPECT_FALSE(g.has_changes(Untracked::exclude).value());

  put("tracked.txt", "changed");
  EXPECT_TRUE(g.has_changes(Untracked::exclude).value());
}

TEST_F(GitTest, ConfigGetAndSet) {
  Git g = open();
  EXPECT_EQ(g.config_get("merge.dvc.name").value(), std::nullopt);
  ASSERT_TRUE(g.config_set("merge.dvc.name", "DVC merge driver").has_value());
  ASSERT_TRUE(g.config_set("merge.dvc.driver",
                           "dvc git-hook merge-driver --ancestor %O --our %A --their %B ")
                  .has_value());
  EXPECT_EQ(g.config_get("merge.dvc.name").value(), std::optional<std::string>("DVC merge driver"));
  // The trailing space survives (git quotes the value).
  EXPECT_EQ(git_out("config merge.dvc.driver"),
            "dvc git-hook merge-driver --ancestor %O --our %A --their %B ");
  EXPECT_EQ(g.config_get("merge.dvc.driver").value(),
            std::optional<std::string>("dvc git-hook merge-driver --ancestor %O --our %A --their %B "));
  // Changes made by the git CLI are seen.
  git("config core.autocrlf input");
  EXPECT_EQ(g.config_get("core.autocrlf").value(), std::optional<std::string>("input"));
  EXPECT_EQ(g.config_get("user.name").value(), std::optional<std::string>("Test"));
}


// ---- git_write.cpp: trees of the work tree, commits, references --------------------------------

TEST_F(GitTest, WorkspaceTreeIsAddUpdateThenPathsAndLeavesTheIndexFile) {
  put("a.txt", "a\n");
  put("b.txt", "b\n");
  put(".gitignore", "*.log\n");
  commit("base");
  put("a.txt", "a2\n");
  fs::remove(m_dir + "/b.txt");
  put("s.txt", "staged\n");
  git("add s.txt");
  put("c.txt", "untracked\n");
  put("d.log", "ignored\n");
  put("e.txt", "left out\n");
  std::string status_before = git_out("status --porcelain");
  Git g = open();
  auto tree = g.workspace_tree({"c.txt", "d.log", "missing.txt"}, false);
  ASSERT_TRUE(tree) << tree.error().message;
  EXPECT_EQ(git_out("ls-tree -r --name-only " + *tree), ".gitignore\na.txt\nc.txt\ns.txt");
  EXPECT_EQ(git_out("cat-file -p " + *tree + ":a.txt"), "a2");
  EXPECT_EQ(git_out("status --porcelain"), status_before);
  auto forced = g.workspace_tree({"d.log"}, true);
  ASSERT_TRUE(forced);
  EXPECT_EQ(git_out("ls-tree -r --name-only " + *forced), ".gitignore\na.txt\nd.log\ns.txt");
  auto kept = g.workspace_tree({}, false, Git::Tracked::keep);  // the index as it is
  ASSERT_TRUE(kept);
  EXPECT_EQ(git_out("ls-tree -r --name-only " + *kept), ".gitignore\na.txt\nb.txt\ns.txt");
  EXPECT_EQ(git_out("cat-file -p " + *kept + ":a.txt"), "a");
}

TEST_F(GitTest, CommitsAndReferences) {
  put("a.txt", "a\n");
  commit("base");
  std::string head = git_out("rev-parse HEAD");
  Git g = open();
  put("a.txt", "changed\n");
  auto tree = g.workspace_tree({}, false);
  ASSERT_TRUE(tree);
  auto c = g.create_commit(*tree, {head}, "no newline");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(git_out("rev-parse " + *c + "^"), head);
  EXPECT_EQ(git_out("log -1 --format=%an/%ae " + *c), "Test/test@example.com");
  EXPECT_EQ(git_out("cat-file -p " + *c).substr(git_out("cat-file -p " + *c).size() - 11), "\nno newline");
  EXPECT_EQ(git_out("rev-parse HEAD"), head);  // nothing moved
  ASSERT_TRUE(g.set_ref("refs/exps/ab/cd/x", *c));
  ASSERT_TRUE(g.set_ref("refs/exps/ab/cd/y", head));
  ASSERT_TRUE(g.set_ref("refs/other", head));
  auto t = g.ref_target("refs/exps/ab/cd/x");
  ASSERT_TRUE(t && *t);
  EXPECT_EQ(**t, *c);
  auto refs = g.refs_under("refs/exps/");
  ASSERT_TRUE(refs);
  ASSERT_EQ(refs->size(), 2u);
  EXPECT_EQ((*refs)[0].name, "refs/exps/ab/cd/x");
  EXPECT_EQ((*refs)[0].commit, *c);
  EXPECT_EQ((*refs)[1].name, "refs/exps/ab/cd/y");
  EXPECT_EQ((*refs)[1].commit, head);
  EXPECT_TRUE(*g.is_ancestor(head, *c));
  EXPECT_FALSE(*g.is_ancestor(*c, head));
  auto info = g.commit_info(*c);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->tree, *tree);
  EXPECT_EQ(info->message, "no newline");
  ASSERT_TRUE(g.delete_ref("refs/exps/ab/cd/x"));
  ASSERT_TRUE(g.delete_ref("refs/exps/ab/cd/x"));  // absent: fine
  EXPECT_FALSE(*g.ref_target("refs/exps/ab/cd/x"));
}

TEST_F(GitTest, ResetIndexAndWriteTreeFiles) {
  put("a.txt", "a\n");
  put("sub/run.sh", "#!/bin/sh\n");
  ::chmod((m_dir + "/sub/run.sh").c_str(), 0755);
  commit("base");
  std::string base = git_out("rev-parse HEAD");
  put("a.txt", "mine\n");
  put("new.txt", "staged\n");
  git("add a.txt new.txt");
  Git g = open();
  ASSERT_TRUE(g.reset_index(base));
  EXPECT_EQ(git_out("diff --cached --name-only"), "");
  EXPECT_EQ(get("a.txt"), "mine\n");  // the work tree is not touched
  fs::remove_all(m_dir + "/sub");
  put("keep.txt", "untracked\n");
  auto written = g.write_tree_files(base);
  ASSERT_TRUE(written) << written.error().message;
  EXPECT_THAT(*written, ElementsAre("a.txt", "sub/run.sh"));
  EXPECT_EQ(get("a.txt"), "a\n");
  EXPECT_EQ(fs::status(m_dir + "/sub/run.sh").permissions() & fs::perms::owner_exec, fs::perms::owner_exec);
  EXPECT_EQ(get("keep.txt"), "untracked\n");
  EXPECT_EQ(get("new.txt"), "staged\n");
}

}  // namespace
}  // namespace dvx::scm

namespace dvx::scm {
namespace {

TEST_F(GitTest, RefsUnderAPrefixAndCommitInfo) {
  put("a", "1");
  commit("first");
  std::string first = git_out("rev-parse HEAD");
  put("a", "2");
  git("add -A");
  git("-c core.hooksPath=/dev/null commit -q -m 'second line one' -m 'body'");
  std::string second = git_out("rev-parse HEAD");
  std::string blob = git_out("hash-object -w a");
  git("update-ref refs/exps/ab/cdef/zeta " + second);
  git("update-ref refs/exps/ab/cdef/alpha " + first);
  git("update-ref refs/exps/ab/cdef/blob " + blob);
  git("tag -a -m annotated v1 " + first);
  git("symbolic-ref refs/exps/sym refs/heads/main");

  Git g = open();
  auto refs = g.refs_under("refs/exps/").value();
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0].name, "refs/exps/ab/cdef/alpha");
  EXPECT_EQ(refs[0].commit, first);
  EXPECT_EQ(refs[1].name, "refs/exps/ab/cdef/blob");
  EXPECT_EQ(refs[1].target, blob);
  EXPECT_EQ(refs[1].commit, "");
  EXPECT_EQ(refs[2].name, "refs/exps/ab/cdef/zeta");
  EXPECT_EQ(refs[3].name, "refs/exps/sym");
  EXPECT_EQ(refs[3].commit, second);
  auto tags = g.refs_under("refs/tags/").value();
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_NE(tags[0].target, first);  // the tag object
  EXPECT_EQ(tags[0].commit, first);  // peeled

  auto info = g.commit_info(second).value();
  EXPECT_EQ(info.id, second);
  EXPECT_THAT(info.parents, ElementsAre(first));
  EXPECT_EQ(info.message, "second line one\n\nbody\n");
  EXPECT_GT(info.time, 1600000000);
  EXPECT_TRUE(g.commit_info(first).value().parents.empty());
  EXPECT_EQ(g.commit_info(blob).error().code, ErrorCode::not_found);
  EXPECT_EQ(g.commit_info("xyz").error().code, ErrorCode::not_found);
}

}  // namespace
}  // namespace dvx::scm

namespace dvx::scm {
namespace {

TEST_F(GitTest, OverlayTreeReplacesAndAddsFilesWithoutTouchingIndexOrWorkTree) {
  put("params.yaml", "lr: 0.1\n");
  put("run.sh", "#!/bin/sh\n");
  ::chmod((m_dir + "/run.sh").c_str(), 0755);
  commit("base");
  std::string base_tree = git_out("rev-parse HEAD^{tree}");
  std::string index_before = read_all(m_dir + "/.git/index");
  Git g = open();
  auto t = g.overlay_tree(base_tree, {{"params.yaml", "lr: 0.5\n"}, {"run.sh", "#!/bin/sh\necho\n"}, {"new/deep.txt", "x"}});
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_NE(*t, base_tree);
  EXPECT_EQ(git_out("cat-file -p " + *t + ":params.yaml"), "lr: 0.5");
  EXPECT_EQ(git_out("cat-file -p " + *t + ":new/deep.txt"), "x");
  // an executable stays executable, a new file is a plain one
  EXPECT_THAT(git_out("ls-tree " + *t + " run.sh"), ::testing::StartsWith("100755 "));
  EXPECT_THAT(git_out("ls-tree -r " + *t + " new/deep.txt"), ::testing::StartsWith("100644 "));
  EXPECT_EQ(get("params.yaml"), "lr: 0.1\n");
  EXPECT_EQ(read_all(m_dir + "/.git/index"), index_before);
  // paths that leave the tree are refused
  EXPECT_FALSE(g.overlay_tree(base_tree, {{"../evil", "x"}}));
  // nothing to overlay: the same tree
  auto same = g.overlay_tree(base_tree, {});
  ASSERT_TRUE(same);
  EXPECT_EQ(*same, base_tree);
}

TEST_F(GitTest, WriteTreeFilesRefusesATreeThatLeavesTheWorkTree) {
  put("a.txt", "a\n");
  commit("base");
  // A hand-made tree with a ".." folder (git's own checkout refuses such trees too).
  std::string blob = git_out("rev-parse HEAD:a.txt");
  auto sh = [](const std::string& cmd) {
    std::string out;
    FILE* p = popen(cmd.c_str(), "r");
    char buf[128];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  };
  std::string inner = sh("printf '100644 blob " + blob + "\\tescaped.txt\\n' | git -C '" + m_dir + "' mktree");
  std::string bad_tree = sh("printf '040000 tree " + inner + "\\t..\\n100644 blob " + blob + "\\ta.txt\\n' | git -C '" +
                            m_dir + "' mktree 2>/dev/null");
  if (bad_tree.size() != 40) GTEST_SKIP() << "git mktree refused the '..' entry";
  std::string commit_id = git_out("commit-tree " + bad_tree + " -m evil");
  ASSERT_EQ(commit_id.size(), 40u);
  Git g = open();
  auto written = g.write_tree_files(commit_id);
  ASSERT_FALSE(written);
  EXPECT_THAT(written.error().message, ::testing::HasSubstr("leaves the work tree"));
  EXPECT_FALSE(fs::exists(m_root + "/escaped.txt"));
  EXPECT_EQ(get("a.txt"), "a\n");
}

}  // namespace
}  // namespace dvx::scm
