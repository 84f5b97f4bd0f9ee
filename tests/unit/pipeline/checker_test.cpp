// Checker: what prefetch() learns ahead (file hashes through the state db, cache presence of
// recorded outputs) never changes what check() says, stage by stage, against a Checker that
// learns everything lazily.
#include <gtest/gtest.h>

#include "../platform/test_temp_dir.h"
#include "dvx/hash/md5.h"
#include "dvx/pipeline/index.h"
#include "dvx/pipeline/status.h"

namespace dvx::pipeline {
namespace {

using dvx::testing::TempDir;
namespace tu = dvx::testing;

// copy@a..copy@d: in/X.txt -> out/X.txt; b and c produce the same bytes (one cache object).
struct Project {
  TempDir dir;
  std::string text_of(const std::string& item) const { return item == "c" ? "same\n" : item == "b" ? "same\n" : item + "\n"; }
  Project() {
    tu::write_file(dir / ".dvc/config", "[core]\n    no_scm = true\n");
    tu::write_file(dir / "dvc.yaml",
                   "stages:\n  copy:\n    foreach: [a, b, c, d]\n    do:\n      cmd: cp in/${item}.txt out/${item}.txt\n"
                   "      deps:\n      - in/${item}.txt\n      outs:\n      - out/${item}.txt\n");
    std::string lock = "schema: '2.0'\nstages:\n";
    for (std::string item : {"a", "b", "c", "d"}) {
      std::string in = "input " + item + "\n", out = text_of(item);
      tu::write_file(dir / ("in/" + item + ".txt"), in);
      tu::write_file(dir / ("out/" + item + ".txt"), out);
      std::string h = hash::md5_hex(out);
      tu::write_file(dir / (".dvc/cache/files/md5/" + h.substr(0, 2) + "/" + h.substr(2)), out, 0444);
      lock += "  copy@" + item + ":\n    cmd: cp in/" + item + ".txt out/" + item + ".txt\n    deps:\n    - path: in/" + item +
              ".txt\n      hash: md5\n      md5: " + hash::md5_hex(in) + "\n      size: " + std::to_string(in.size()) +
              "\n    outs:\n    - path: out/" + item + ".txt\n      hash: md5\n      md5: " + h + "\n      size: " +
              std::to_string(out.size()) + "\n";
    }
    tu::write_file(dir / "dvc.lock", lock);
  }
  std::string object_of(const std::string& item) const {
    std::string h = hash::md5_hex(text_of(item));
    return dir / (".dvc/cache/files/md5/" + h.substr(0, 2) + "/" + h.substr(2));
  }
};

std::string describe(const StageChanges& ch) {
  std::string s;
  for (auto& d : ch.deps) s += "dep " + d.path + " " + d.status + ";";
  for (auto& [p, st] : ch.outs) s += "out " + p + " " + st + ";";
  if (ch.command) s += "cmd;";
  if (ch.always) s += "always;";
  return s;
}

// Each stage's changes with a lazy Checker, one prefetched for hashes, and one prefetched for
// hashes and cache presence (as status does).
void expect_same_answers(Project& p, const std::vector<std::string>& want) {
  for (int mode = 0; mode < 3; ++mode) {
    auto repo = repo::Repo::open(p.dir.path());
    auto index = Index::load(*repo);
    std::vector<size_t> all;
    for (size_t i = 0; i < index->stages().size(); ++i) all.push_back(i);
    Checker checker(*index);
    if (mode > 0) checker.prefetch(all, mode == 2);
    std::vector<std::string> got;
    for (size_t i : all) got.push_back(index->stage(i).name + ": " + describe(checker.check(i)));
    EXPECT_EQ(got, want) << "mode " << mode;
  }
}

TEST(Checker, PrefetchedAnswersEqualLazyOnes) {
  Project p;
  expect_same_answers(p, {"copy@a: ", "copy@b: ", "copy@c: ", "copy@d: "});
  // The object b and c share goes: both are "not in cache" (one prefetched answer is not
  // reused for the other stage).
  ::chmod(p.object_of("b").c_str(), 0644);
  ASSERT_EQ(::unlink(p.object_of("b").c_str()), 0);
  expect_same_answers(p, {"copy@a: ", "copy@b: out out/b.txt not in cache;", "copy@c: out out/c.txt not in cache;",
                          "copy@d: "});
  // A dep changed, an output deleted, an output modified.
  tu::write_file(p.dir / "in/a.txt", "other\n");
  ASSERT_EQ(::unlink((p.dir / "out/d.txt").c_str()), 0);
  tu::write_file(p.dir / "out/c.txt", "changed\n");
  expect_same_answers(p, {"copy@a: dep in/a.txt modified;", "copy@b: out out/b.txt not in cache;",
                          "copy@c: out out/c.txt not in cache;", "copy@d: out out/d.txt deleted;"});
  tu::write_file(p.object_of("b"), "same\n", 0444);
  expect_same_answers(p, {"copy@a: dep in/a.txt modified;", "copy@b: ", "copy@c: out out/c.txt modified;",
                          "copy@d: out out/d.txt deleted;"});
}

}  // namespace
}  // namespace dvx::pipeline
