// Experiment refs: layout, parsing, dulwich's ref-name rules as DVC applies them, generated names,
// and lookups on a real temporary Git repository (commits made through scm::Git).
#include "dvx/experiments/refs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include <gtest/gtest.h>

#include "dvx/base/user_error.h"
#include "dvx/experiments/commit.h"

namespace dvx::experiments {
namespace {

const std::string k_base = "48ff4e33d7577dc520929fd54041c64621bb5b2c";

TEST(ExpRef, LayoutAndParse) {
  ExpRef r{k_base, "exp-a"};
  EXPECT_EQ(r.str(), "refs/exps/48/ff4e33d7577dc520929fd54041c64621bb5b2c/exp-a");
  auto back = ExpRef::parse(r.str());
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, r);
  auto folder = ExpRef::parse("refs/exps/48/ff4e33d7577dc520929fd54041c64621bb5b2c");
  ASSERT_TRUE(folder);
  EXPECT_EQ(folder->name, "");
  EXPECT_FALSE(ExpRef::parse("refs/heads/main"));
  EXPECT_FALSE(ExpRef::parse("refs/exps/48"));
  EXPECT_FALSE(ExpRef::parse("refs/exps/48/ff/a/b"));
}

TEST(ExpRef, InternalRefs) {
  EXPECT_TRUE(is_internal_ref("refs/exps/exec/EXEC_HEAD"));
  EXPECT_TRUE(is_internal_ref("refs/exps/apply/stash"));
  EXPECT_TRUE(is_internal_ref("refs/exps/celery/stash"));
  EXPECT_TRUE(is_internal_ref("refs/exps/temp/head-x"));
  EXPECT_TRUE(is_internal_ref("refs/exps/stash"));
  EXPECT_FALSE(is_internal_ref(ExpRef{k_base, "a"}.str()));
}

TEST(ExpNames, RefFormatRules) {
  auto ok = [](const std::string& name) { return valid_ref_format(ExpRef{k_base, name}.str()); };
  EXPECT_TRUE(ok("exp-a"));
  EXPECT_TRUE(ok("UPPER_case.1"));
  EXPECT_TRUE(ok("a@b"));
  for (const char* bad : {"a b", "a~1", "a^", "a:b", "a?", "a*", "a[", "x.lock", ".hidden", "a..b", "end.",
                          "a@{1}", "back\\slash", "tab\t", "del\x7f"})
    EXPECT_FALSE(ok(bad)) << bad;
  EXPECT_FALSE(valid_ref_format("noslash"));
  EXPECT_FALSE(valid_ref_format("refs/heads/"));
}

TEST(ExpNames, CheckExpNameMessage) {
  check_exp_name(ExpRef{k_base, "fine"});
  try {
    check_exp_name(ExpRef{k_base, "a/b"});  // valid as a ref, but DVC forbids '/'
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_STREQ(e.what(),
                 "Invalid exp name a/b, the exp name must follow rules in https://git-scm.com/docs/git-check-ref-format");
    EXPECT_EQ(e.code(), ExitCode::error);
  }
  EXPECT_THROW(check_exp_name(ExpRef{k_base, "a b"}), UserError);
}

TEST(ExpNames, WordListsAreDvcs) {
  const auto& adjs = name_adjectives();
  const auto& nouns = name_nouns();
  EXPECT_EQ(adjs.size(), 885u);
  EXPECT_EQ(nouns.size(), 901u);
  EXPECT_EQ(adjs.front(), "about");
  EXPECT_EQ(adjs.back(), "zonal");
  EXPECT_EQ(nouns.front(), "abac");
  EXPECT_EQ(nouns.back(), "zoon");
  // names DVC generated in the recorded fixtures come from these lists
  for (auto [a, n] : {std::pair{"vapid", "ices"}, std::pair{"tarot", "teat"}}) {
    EXPECT_NE(std::find(adjs.begin(), adjs.end(), a), adjs.end()) << a;
    EXPECT_NE(std::find(nouns.begin(), nouns.end(), n), nouns.end()) << n;
  }
}

TEST(ExpNames, GeneratedNamesAreAdjectiveNoun) {
  std::mt19937_64 rng(42);
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    std::string name = gen_random_name(rng);
    auto dash = name.find('-');
    ASSERT_NE(dash, std::string::npos) << name;
    std::string adj = name.substr(0, dash), noun = name.substr(dash + 1);
    EXPECT_NE(std::find(name_adjectives().begin(), name_adjectives().end(), adj), name_adjectives().end()) << name;
    EXPECT_NE(std::find(name_nouns().begin(), name_nouns().end(), noun), name_nouns().end()) << name;
    EXPECT_TRUE(valid_ref_format(ExpRef{k_base, name}.str())) << name;
    seen.insert(name);
  }
  EXPECT_GT(seen.size(), 150u);  // random, not one name
}

TEST(ExpHash, NoStagesIsHashOfEmptyDict) {
  EXPECT_EQ(exp_hash({}), "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
}

// ---- on a Git repository ----------------------------------------------------------------------

class ExpRefsGit : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::filesystem::temp_directory_path() /
            ("dvx-exprefs-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(m_dir);
    std::filesystem::create_directories(m_dir);
    ASSERT_TRUE(scm::Git::init_repo(m_dir.string()));
    auto g = scm::Git::discover(m_dir.string());
    ASSERT_TRUE(g && *g);
    m_git.emplace(std::move(**g));
    ASSERT_TRUE(m_git->config_set("user.name", "T"));
    ASSERT_TRUE(m_git->config_set("user.email", "t@example.invalid"));
    write("a.txt", "one\n");
    ASSERT_TRUE(m_git->add({"a.txt"}));
    auto tree = m_git->workspace_tree({}, false);
    ASSERT_TRUE(tree);
    auto c = m_git->create_commit(*tree, {}, "base");
    ASSERT_TRUE(c);
    m_base = *c;
  }
  void TearDown() override { std::filesystem::remove_all(m_dir); }

  void write(const std::string& rel, const std::string& text) {
    std::ofstream(m_dir / rel, std::ios::binary) << text;
  }
  std::string commit_exp(const std::string& baseline, const std::string& name) {
    ExpCommit c;
    c.ref = ExpRef{baseline, name};
    c.exp_hash = "h";
    return commit_experiment(*m_git, c);
  }

  std::filesystem::path m_dir;
  std::optional<scm::Git> m_git;
  std::string m_base;
};

TEST_F(ExpRefsGit, CommitListResolve) {
  write("a.txt", "two\n");
  std::string a = commit_exp(m_base, "exp-a");
  auto info = m_git->commit_info(a);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->parents, std::vector<std::string>{m_base});
  EXPECT_EQ(info->message, "dvc: commit experiment h");
  auto blob = m_git->read_file_at(a, "a.txt");
  ASSERT_TRUE(blob && *blob);
  EXPECT_EQ(**blob, "two\n");
  ASSERT_TRUE(m_git->set_ref(std::string(k_exec_head), m_base));  // internal: never listed
  auto all = list_exp_refs(*m_git);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].ref.name, "exp-a");
  EXPECT_EQ((*all)[0].commit, a);
  auto found = resolve_names(*m_git, {"exp-a", "nope", ExpRef{m_base, "exp-a"}.str()}, m_base);
  ASSERT_TRUE(found["exp-a"]);
  EXPECT_EQ(found["exp-a"]->commit, a);
  EXPECT_FALSE(found["nope"]);
  EXPECT_TRUE((found[ExpRef{m_base, "exp-a"}.str()].has_value()));
  auto containing = exp_refs_containing(*m_git, m_base);
  ASSERT_TRUE(containing);
  EXPECT_EQ(containing->size(), 1u);
}

TEST_F(ExpRefsGit, SameTreeIsReusedDifferentTreeConflicts) {
  write("a.txt", "two\n");
  std::string a = commit_exp(m_base, "dup");
  EXPECT_EQ(commit_exp(m_base, "dup"), a);  // nothing differs: the old commit stays
  write("a.txt", "three\n");
  try {
    commit_exp(m_base, "dup");
    FAIL() << "no conflict";
  } catch (const UserError& e) {
    EXPECT_NE(std::string(e.what()).find("existing experiment '" + ExpRef{m_base, "dup"}.str() + "'"), std::string::npos);
  }
}

TEST_F(ExpRefsGit, AmbiguousNameAcrossBaselines) {
  write("a.txt", "x\n");
  std::string first = commit_exp(m_base, "same");
  // a second baseline: the experiment commit itself
  std::string second = commit_exp(first, "same");
  auto here = resolve_names(*m_git, {"same"}, first);
  ASSERT_TRUE(here["same"]);
  EXPECT_EQ(here["same"]->commit, second);
  try {
    resolve_names(*m_git, {"same"}, "0000000000000000000000000000000000000000");
    FAIL() << "not ambiguous";
  } catch (const UserError& e) {
    std::string msg = e.what();
    EXPECT_TRUE(msg.starts_with("Ambiguous name 'same' refers to multiple experiments. Use one of the following "
                                "full refnames instead:\n\n\trefs/exps/"))
        << msg;
  }
}

}  // namespace
}  // namespace dvx::experiments
