// The stage graph and the repro plan on small projects written into a temp folder:
// ancestors in post-order, -s, --downstream, -p/-P, frozen stages cutting their upstream,
// DVC's graph errors, and the run-cache key of the spec's test vector.
#include <gtest/gtest.h>

#include <algorithm>

#include "../platform/test_temp_dir.h"
#include "dvx/hash/sha256.h"
#include "dvx/pipeline/index.h"
#include "dvx/pipeline/repro.h"
#include "dvx/pipeline/run_cache.h"

namespace dvx::pipeline {
namespace {

using dvx::testing::TempDir;
namespace tu = dvx::testing;

struct Project {
  TempDir dir;
  std::unique_ptr<repo::Repo> repo;
  std::unique_ptr<Index> index;
  explicit Project(const std::string& dvc_yaml) {
    tu::write_file(dir / ".dvc/config", "[core]\n    no_scm = true\n");
    tu::write_file(dir / "dvc.yaml", dvc_yaml);
    repo = repo::Repo::open(dir.path());
    index = Index::load(*repo);
  }
  std::vector<std::string> names(const std::vector<size_t>& ids) const {
    std::vector<std::string> out;
    for (size_t i : ids) out.push_back(index->stage(i).name);
    return out;
  }
  std::vector<std::string> plan_of(ReproOptions o) const { return names(plan(*index, o)); }
};

// a -> b -> d, a -> c -> d, e alone; d is listed first in the file.
const char* k_diamond = R"(stages:
  d:
    cmd: cat b.txt c.txt > d.txt
    deps: [b.txt, c.txt]
    outs: [d.txt]
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cp a.txt c.txt
    deps: [a.txt]
    outs: [c.txt]
  e:
    cmd: echo e > e.txt
    outs: [e.txt]
)";

TEST(Plan, AncestorsComeFirstInPostOrder) {
  Project p(k_diamond);
  ReproOptions o;
  o.targets = {"d"};
  EXPECT_EQ(p.plan_of(o), (std::vector<std::string>{"a", "b", "c", "d"}));
  o.targets = {"c"};
  EXPECT_EQ(p.plan_of(o), (std::vector<std::string>{"a", "c"}));
}

TEST(Plan, NoTargetsMeansEveryStageOfTheCwdDvcYaml) {
  Project p(k_diamond);
  auto plan = p.plan_of({});
  EXPECT_EQ(plan.size(), 5u);
  // each stage after all its ancestors
  auto pos = [&](const std::string& n) { return std::find(plan.begin(), plan.end(), n) - plan.begin(); };
  EXPECT_LT(pos("a"), pos("b"));
  EXPECT_LT(pos("a"), pos("c"));
  EXPECT_LT(pos("b"), pos("d"));
  EXPECT_LT(pos("c"), pos("d"));
}

TEST(Plan, SingleItemDownstreamAndPipelines) {
  Project p(k_diamond);
  ReproOptions o;
  o.targets = {"d"};
  o.single_item = true;
  EXPECT_EQ(p.plan_of(o), (std::vector<std::string>{"d"}));
  o = {};
  o.targets = {"b"};
  o.downstream = true;
  EXPECT_EQ(p.plan_of(o), (std::vector<std::string>{"b", "d"}));
  o = {};
  o.targets = {"b"};
  o.pipeline = true;  // the whole connected pipeline, not e
  auto plan = p.plan_of(o);
  std::sort(plan.begin(), plan.end());
  EXPECT_EQ(plan, (std::vector<std::string>{"a", "b", "c", "d"}));
  o = {};
  o.all_pipelines = true;
  EXPECT_EQ(p.plan_of(o).size(), 5u);
}

TEST(Plan, FrozenStageCutsItsUpstream) {
  Project p(R"(stages:
  a:
    cmd: echo a > a.txt
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
    frozen: true
)");
  ReproOptions o;
  o.targets = {"b"};
  EXPECT_EQ(p.plan_of(o), (std::vector<std::string>{"b"}));
}

TEST(Plan, UnknownTargetsAreDvcErrors) {
  Project p(k_diamond);
  ReproOptions o;
  o.targets = {"nope"};
  try {
    p.plan_of(o);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "Stage 'nope' not found inside 'dvc.yaml' file");
  }
  o.targets = {"dvc.yaml:nope"};
  try {
    p.plan_of(o);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_EQ(std::string(e.what()), "Stage 'nope' not found inside 'dvc.yaml' file");
  }
}

TEST(Graph, CycleDuplicateAndOverlapErrors) {
  {
    Project p(R"(stages:
  a:
    cmd: cp b.txt a.txt
    deps: [b.txt]
    outs: [a.txt]
  b:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
)");
    try {
      p.index->check();
      FAIL() << "no cycle error";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()), "Same item(s) are defined as both a dependency and an output in stages: a, b.");
    }
  }
  {
    Project p(R"(stages:
  one:
    cmd: echo 1 > same.txt
    outs: [same.txt]
  two:
    cmd: echo 2 > same.txt
    outs: [same.txt]
)");
    try {
      p.index->check();
      FAIL() << "no duplicate error";
    } catch (const UserError& e) {
      EXPECT_EQ(std::string(e.what()),
                "output 'same.txt' is specified in:\n\t- one\n\t- two\nUse `dvc remove` with any of the above targets "
                "to stop tracking the overlapping output.");
    }
  }
  {
    Project p(R"(stages:
  whole:
    cmd: mkdir -p dir
    outs: [dir]
  part:
    cmd: echo b > dir/b.txt
    outs: [dir/b.txt]
)");
    EXPECT_THROW(p.index->check(), UserError);
  }
}

TEST(Graph, DepInsideOrContainingAnOutputIsAnEdge) {
  Project p(R"(stages:
  make:
    cmd: mkdir -p out && echo x > out/x.txt
    outs: [out]
  inside:
    cmd: cat out/x.txt > y.txt
    deps: [out/x.txt]
    outs: [y.txt]
  parent:
    cmd: ls . > z.txt
    deps: [out]
    outs: [z.txt]
)");
  ASSERT_EQ(p.index->upstream(1).size(), 1u);
  EXPECT_EQ(p.index->upstream(1)[0], 0u);
  ASSERT_EQ(p.index->upstream(2).size(), 1u);
  EXPECT_EQ(p.index->downstream(0).size(), 2u);
}

TEST(RunCache, KeyAndValueOfTheSpecTestVector) {
  formats::LockStage e;
  e.cmd = yaml::Node::str("cat in.txt > out.txt");
  formats::LockEntry dep;
  dep.path = "in.txt";
  dep.hash = "md5";
  dep.md5 = "b1946ac92492d2347c6235b4d2611184";
  dep.size = 6;
  e.deps.push_back(dep);
  formats::LockEntry out = dep;
  out.path = "out.txt";
  e.outs.push_back(out);
  EXPECT_EQ(RunCache::key_of(e), "29c60bcf2bf53231458a4b60426b1cd488c480006b0afb1eca21f99654a548de");
  EXPECT_EQ(RunCache::value_of(e), "0cc0226015a89b6974dcb00112dc50bced237823fd1d5453ce2625f4905b1444");
}

TEST(RunCache, SavedEntryIsFoundAndATamperedOneIsDropped) {
  Project p(k_diamond);
  RunCache rc(*p.repo);
  formats::LockStage e;
  e.cmd = yaml::Node::str("cp a.txt b.txt");
  formats::LockEntry dep{"a.txt", "md5", "60b725f10c9c85c70d97880dfe8191b3", 2, std::nullopt, false};
  e.deps.push_back(dep);
  formats::LockEntry out{"b.txt", "md5", "60b725f10c9c85c70d97880dfe8191b3", 2, std::nullopt, false};
  e.outs.push_back(out);
  rc.save(e);
  formats::LockStage key = e;
  key.outs = {formats::LockEntry{"b.txt"}};
  std::vector<std::string> warnings;
  auto warn = [&](const std::string& w) { warnings.push_back(w); };
  auto found = rc.lookup(key, warn);
  ASSERT_TRUE(found);
  ASSERT_EQ(found->outs.size(), 1u);
  EXPECT_EQ(*found->outs[0].md5, "60b725f10c9c85c70d97880dfe8191b3");
  auto files = rc.list();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0], RunCache::key_of(e).substr(0, 2) + "/" + RunCache::key_of(e) + "/" + RunCache::value_of(e));
  // An entry whose content does not match its name is removed with a warning.
  std::string path = rc.dir() + "/" + files[0];
  ::chmod(path.c_str(), 0644);
  tu::write_file(path, "cmd: cp a.txt b.txt\nouts:\n- path: b.txt\n  hash: md5\n  md5: 00000000000000000000000000000000\n");
  EXPECT_FALSE(rc.lookup(key, warn));
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("corrupted cache file"), std::string::npos);
  EXPECT_TRUE(rc.list().empty());
}

}  // namespace
}  // namespace dvx::pipeline
