// Experiments and Git remotes: selection (names, full refs, baselines, -A), pushing, fetching and
// deleting experiment refs between real temporary repositories (the remote named by its path), with
// scmrepo's up-to-date / diverged / success outcomes, and DVC's messages.
#include "dvx/experiments/remote.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "dvx/base/user_error.h"
#include "dvx/experiments/commit.h"

namespace dvx::experiments {
namespace {

TEST(ExpRemote, UnresolvedNamesMessages) {
  EXPECT_EQ(unresolved_names_message({"a"}), "'a' is not a valid experiment name");
  EXPECT_EQ(unresolved_names_message({"a", "b"}), "'a; b' are not valid experiment names");
  EXPECT_EQ(unresolved_names_message({"a", "b"}, "origin"), "Experiment 'a; b' does not exist in 'origin'");
}

// A repository with one commit on its branch (HEAD), in <tmp>/<test>/<name>.
struct TestRepo {
  std::filesystem::path dir;
  std::optional<scm::Git> git;
  std::string base;

  void open(const std::filesystem::path& d) {
    dir = d;
    std::filesystem::create_directories(dir);
    ASSERT_TRUE(scm::Git::init_repo(dir.string()));
    auto g = scm::Git::discover(dir.string());
    ASSERT_TRUE(g && *g);
    git.emplace(std::move(**g));
    ASSERT_TRUE(git->config_set("user.name", "T"));
    ASSERT_TRUE(git->config_set("user.email", "t@example.invalid"));
  }
  void write(const std::string& rel, const std::string& text) { std::ofstream(dir / rel, std::ios::binary) << text; }
  void make_base() {
    write("a.txt", "one\n");
    ASSERT_TRUE(git->add({"a.txt"}));
    auto tree = git->workspace_tree({}, false);
    ASSERT_TRUE(tree);
    auto c = git->create_commit(*tree, {}, "base");
    ASSERT_TRUE(c);
    base = *c;
    auto branch = git->current_branch();
    ASSERT_TRUE(branch && *branch);
    ASSERT_TRUE(git->set_ref("refs/heads/" + **branch, base));
  }
  // An experiment of `baseline` whose a.txt holds `text`.
  std::string exp(const std::string& baseline, const std::string& name, const std::string& text) {
    write("a.txt", text);
    ExpCommit c;
    c.ref = ExpRef{baseline, name};
    c.exp_hash = text;
    return commit_experiment(*git, c);
  }
  // A commit on `baseline` with a different a.txt, set as the experiment's ref (DVC would call
  // this another experiment of the same name).
  std::string other(const std::string& baseline, const std::string& name, const std::string& text) {
    write("a.txt", text);
    auto tree = git->workspace_tree({"a.txt"}, false);
    EXPECT_TRUE(tree);
    auto c = git->create_commit(*tree, {baseline}, "other");
    EXPECT_TRUE(c);
    EXPECT_TRUE(git->set_ref(ExpRef{baseline, name}.str(), *c));
    return *c;
  }
  std::optional<std::string> target(const std::string& baseline, const std::string& name) {
    auto t = git->ref_target(ExpRef{baseline, name}.str());
    EXPECT_TRUE(t);
    return *t;
  }
};

class ExpRemoteGit : public ::testing::Test {
 protected:
  void SetUp() override {
    m_root = std::filesystem::temp_directory_path() /
             ("dvx-expremote-" + std::to_string(::getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_root);
    local.open(m_root / "local");
    local.make_base();
    // libgit2 pushes to bare repositories only (over a path).
    url = (m_root / "remote.git").string();
    ASSERT_EQ(std::system(("git init -q --bare '" + url + "'").c_str()), 0);
    other.open(m_root / "other");
  }
  void TearDown() override { std::filesystem::remove_all(m_root); }

  std::vector<ExpRefEntry> local_all() {
    auto all = list_exp_refs(*local.git);
    EXPECT_TRUE(all);
    return *all;
  }

  std::filesystem::path m_root;
  // The commit the remote's experiment ref names (nullopt when it has none).
  std::optional<std::string> remote_target(const std::string& baseline, const std::string& name) {
    auto refs = local.git->remote_refs(url, ExpRef{baseline, name}.str());
    EXPECT_TRUE(refs);
    if (!refs || refs->empty()) return std::nullopt;
    return refs->front().commit;
  }

  TestRepo local, other;
  std::string url;
};

std::vector<std::string> names(const std::vector<ExpRefEntry>& v) {
  std::vector<std::string> out;
  for (auto& e : v) out.push_back(e.ref.name);
  return out;
}

TEST_F(ExpRemoteGit, SelectByNameRefBaselineAndAll) {
  std::string a = local.exp(local.base, "exp-a", "a\n");
  local.exp(local.base, "exp-b", "b\n");
  // An experiment of another baseline: not HEAD's, so only -A or its name select it.
  std::string c = local.exp(a, "exp-c", "c\n");
  auto all = local_all();
  ExpSelection sel;
  EXPECT_EQ(names(select_experiments(*local.git, all, sel)), (std::vector<std::string>{"exp-a", "exp-b"}));
  sel.all_commits = true;
  EXPECT_EQ(select_experiments(*local.git, all, sel).size(), 3u);
  sel = {};
  sel.names = {"exp-c", ExpRef{local.base, "exp-b"}.str(), "exp-c"};
  auto picked = select_experiments(*local.git, all, sel);
  ASSERT_EQ(picked.size(), 2u);
  EXPECT_LT(picked[0].ref.str(), picked[1].ref.str());  // sorted by ref, each once
  auto pc = std::find_if(picked.begin(), picked.end(), [](auto& e) { return e.ref.name == "exp-c"; });
  ASSERT_NE(pc, picked.end());
  EXPECT_EQ(pc->commit, c);
  sel.names = {"nope", "exp-a", "gone"};
  try {
    select_experiments(*local.git, all, sel);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "'nope; gone' are not valid experiment names");
  }
  try {
    select_experiments(*local.git, all, sel, "origin");
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "Experiment 'nope; gone' does not exist in 'origin'");
  }
  // --rev of the experiment commit a (baseline of exp-c).
  sel = {};
  sel.revs = {a};
  EXPECT_EQ(names(select_experiments(*local.git, all, sel)), std::vector<std::string>{"exp-c"});
  // The experiment's commits stop at its baseline.
  EXPECT_EQ(exp_commits(*local.git, picked), (std::vector<std::string>{picked[0].commit, picked[1].commit}));
  EXPECT_EQ(exp_commits(*local.git, {picked[0], picked[0]}).size(), 1u);
}

TEST_F(ExpRemoteGit, PushUpToDateDivergedForce) {
  std::string a = local.exp(local.base, "exp-a", "a\n");
  auto all = local_all();
  auto r = push_experiments(*local.git, url, all, false);
  EXPECT_EQ(names(r.success), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(remote_target(local.base, "exp-a"), a);
  auto listed = remote_exp_refs(*local.git, url);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0].commit, a);
  r = push_experiments(*local.git, url, all, false);
  EXPECT_EQ(names(r.up_to_date), std::vector<std::string>{"exp-a"});
  EXPECT_TRUE(r.success.empty());
  // The remote gets another experiment of that name: refused, then replaced with force.
  std::string theirs = local.other(local.base, "exp-a", "theirs\n");
  EXPECT_EQ(names(push_experiments(*local.git, url, all, true).success), std::vector<std::string>{"exp-a"});
  ASSERT_TRUE(local.git->set_ref(ExpRef{local.base, "exp-a"}.str(), a));
  r = push_experiments(*local.git, url, all, false);
  EXPECT_EQ(names(r.diverged), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(remote_target(local.base, "exp-a"), theirs);
  r = push_experiments(*local.git, url, all, true);
  EXPECT_EQ(names(r.success), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(remote_target(local.base, "exp-a"), a);
  // A later experiment on top of the pushed one is a fast-forward: no force needed.
  auto info = local.git->commit_info(a);
  ASSERT_TRUE(info);
  auto next = local.git->create_commit(info->tree, {a}, "next");
  ASSERT_TRUE(next);
  ASSERT_TRUE(local.git->set_ref(ExpRef{local.base, "exp-a"}.str(), *next));
  r = push_experiments(*local.git, url, local_all(), false);
  EXPECT_EQ(names(r.success), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(remote_target(local.base, "exp-a"), *next);
  remove_remote_experiments(*local.git, url, all);
  EXPECT_TRUE(remote_exp_refs(*local.git, url).empty());
}

TEST_F(ExpRemoteGit, PullIntoAnotherRepository) {
  std::string a = local.exp(local.base, "exp-a", "a\n");
  push_experiments(*local.git, url, local_all(), false);
  auto theirs = remote_exp_refs(*other.git, url);
  ASSERT_EQ(theirs.size(), 1u);
  auto r = pull_experiments(*other.git, url, theirs, false);
  EXPECT_EQ(names(r.success), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(other.target(local.base, "exp-a"), a);
  auto blob = other.git->read_file_at(a, "a.txt");  // the objects came along
  ASSERT_TRUE(blob && *blob);
  EXPECT_EQ(**blob, "a\n");
  EXPECT_EQ(names(pull_experiments(*other.git, url, theirs, false).up_to_date), std::vector<std::string>{"exp-a"});
  // Ours differs: kept unless forced.
  std::string ours = other.other(local.base, "exp-a", "ours\n");
  EXPECT_EQ(names(pull_experiments(*other.git, url, theirs, false).diverged), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(other.target(local.base, "exp-a"), ours);
  EXPECT_EQ(names(pull_experiments(*other.git, url, theirs, true).success), std::vector<std::string>{"exp-a"});
  EXPECT_EQ(other.target(local.base, "exp-a"), a);
}

TEST_F(ExpRemoteGit, InvalidRemote) {
  try {
    remote_exp_refs(*local.git, (m_root / "missing").string());
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "'" + (m_root / "missing").string() + "' is not a valid Git remote or URL");
  }
}

}  // namespace
}  // namespace dvx::experiments
