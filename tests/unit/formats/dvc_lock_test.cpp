// DvcLock: entries looked up by name (an index kept beside the ordered document), replaced in
// place, appended, removed and reordered; the emitted file follows every edit.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "dvx/formats/dvc_lock.h"

namespace dvx::formats {
namespace {

LockStage entry(const std::string& cmd, const std::string& out, const std::string& md5) {
  LockStage st;
  st.cmd = yaml::Node::str(cmd);
  LockEntry o;
  o.path = out;
  o.hash = "md5";
  o.md5 = md5;
  o.size = 3;
  st.outs.push_back(o);
  return st;
}

std::string md5_of(int k) {
  std::string s = std::to_string(k);
  return std::string(32 - s.size(), 'a') + s;
}

const char* kText =
    "schema: '2.0'\n"
    "stages:\n"
    "  a:\n"
    "    cmd: echo a\n"
    "    outs:\n"
    "    - path: a.txt\n"
    "      hash: md5\n"
    "      md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1\n"
    "      size: 2\n"
    "  b:\n"
    "    cmd: echo b\n"
    "  c:\n"
    "    cmd: echo c\n";

TEST(DvcLock, LooksUpParsedEntriesByName) {
  auto lock = DvcLock::parse(kText, "dvc.lock");
  ASSERT_TRUE(lock) << lock.error().message;
  auto a = lock->stage("a");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->cmd.s, "echo a");
  ASSERT_EQ(a->outs.size(), 1u);
  EXPECT_EQ(*a->outs[0].md5, md5_of(1));
  EXPECT_EQ(lock->stage("c")->cmd.s, "echo c");
  EXPECT_FALSE(lock->stage("nope"));
  EXPECT_EQ(lock->emit(), kText);
}

TEST(DvcLock, SetReplacesInPlaceAndAppendsNewNames) {
  auto lock = DvcLock::parse(kText, "dvc.lock");
  ASSERT_TRUE(lock);
  lock->set_stage("b", entry("echo B", "b.txt", md5_of(2)));
  lock->set_stage("d", entry("echo d", "d.txt", md5_of(4)));
  EXPECT_EQ(lock->stage_names(), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(lock->stage("b")->cmd.s, "echo B");
  EXPECT_EQ(*lock->stage("d")->outs[0].md5, md5_of(4));
  // the text and a fresh parse of it agree with the lookups
  auto again = DvcLock::parse(lock->emit(), "dvc.lock");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stage("b")->cmd.s, "echo B");
  EXPECT_EQ(again->stage_names(), lock->stage_names());
}

TEST(DvcLock, RemovalKeepsOtherLookupsRight) {
  auto lock = DvcLock::parse(kText, "dvc.lock");
  ASSERT_TRUE(lock);
  EXPECT_TRUE(lock->remove_stage("a"));
  EXPECT_FALSE(lock->remove_stage("a"));
  EXPECT_FALSE(lock->stage("a"));
  EXPECT_EQ(lock->stage("c")->cmd.s, "echo c");
  lock->set_stage("c", entry("echo C", "c.txt", md5_of(3)));  // found at its new position
  lock->set_stage("a", entry("echo A", "a.txt", md5_of(1)));  // appended
  EXPECT_EQ(lock->stage_names(), (std::vector<std::string>{"b", "c", "a"}));
  auto again = DvcLock::parse(lock->emit(), "dvc.lock");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stage("c")->cmd.s, "echo C");
  EXPECT_EQ(again->stage("a")->cmd.s, "echo A");
}

TEST(DvcLock, MoveToEndReordersOnlyTheNamed) {
  auto lock = DvcLock::parse(kText, "dvc.lock");
  ASSERT_TRUE(lock);
  lock->set_stage("d", entry("echo d", "d.txt", md5_of(4)));
  lock->move_to_end({"c", "missing", "a"});
  EXPECT_EQ(lock->stage_names(), (std::vector<std::string>{"b", "d", "c", "a"}));
  lock->set_stage("a", entry("echo A", "a.txt", md5_of(1)));
  EXPECT_EQ(lock->stage_names(), (std::vector<std::string>{"b", "d", "c", "a"}));
  EXPECT_EQ(lock->stage("a")->cmd.s, "echo A");
  EXPECT_EQ(lock->stage("d")->cmd.s, "echo d");
}

TEST(DvcLock, ManyStagesRoundTrip) {
  auto lock = DvcLock::parse("", "dvc.lock");
  ASSERT_TRUE(lock);
  const int n = 3000;
  for (int k = 0; k < n; ++k) lock->set_stage("s" + std::to_string(k), entry("cp " + std::to_string(k), "o", md5_of(k)));
  for (int k = 0; k < n; k += 2) lock->set_stage("s" + std::to_string(k), entry("again", "o", md5_of(k + 1)));
  auto again = DvcLock::parse(lock->emit(), "dvc.lock");
  ASSERT_TRUE(again);
  for (int k = 0; k < n; ++k) {
    auto st = again->stage("s" + std::to_string(k));
    ASSERT_TRUE(st) << k;
    EXPECT_EQ(*st->outs[0].md5, md5_of(k % 2 ? k : k + 1)) << k;
    EXPECT_EQ(st->cmd.s, k % 2 ? "cp " + std::to_string(k) : "again");
  }
}

}  // namespace
}  // namespace dvx::formats
