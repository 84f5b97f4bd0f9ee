// dvc.yaml edits against the bytes DVC 3.64 wrote (stage add 1-4, unfreeze), comments kept,
// stage removal, and the parametrized-stage refusal.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dvx/formats/yaml_edit.h"

namespace dvx::formats {
namespace {

std::string golden(const std::string& name) {
  std::ifstream f(std::string(DVX_FIXTURES_DIR) + "/outputs/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

StageAddSpec add1() {
  StageAddSpec s;
  s.name = "prepare";
  s.deps = {"data.csv", "src/prep.py"};
  s.params = {"lr,train.epochs"};
  s.outs = {"prepared.csv"};
  s.metrics = {"metrics.json"};
  s.cmd = "python3 src/prep.py data.csv prepared.csv";
  return s;
}

TEST(YamlEdit, StageAddWritesDvcsBytes) {
  auto t1 = add_stage("", "dvc.yaml", add1());
  ASSERT_TRUE(t1) << t1.error().message;
  EXPECT_EQ(*t1, golden("stage-add.1.dvc.yaml"));

  StageAddSpec s2;
  s2.name = "plot";
  s2.deps = {"prepared.csv"};
  s2.plots = {"loss.csv"};
  s2.outs_no_cache = {"summary.txt"};
  s2.always_changed = true;
  s2.cmd = "python3 src/plot.py prepared.csv";
  auto t2 = add_stage(*t1, "dvc.yaml", s2);
  ASSERT_TRUE(t2) << t2.error().message;
  EXPECT_EQ(*t2, golden("stage-add.2.dvc.yaml"));

  StageAddSpec s3;
  s3.name = "sub";
  s3.wdir = "sub";
  s3.desc = "Copies in.txt (runs in sub/)";
  s3.deps = {"in.txt"};
  s3.outs = {"out.txt"};
  s3.cmd = "cp in.txt out.txt";
  auto t3 = add_stage(*t2, "dvc.yaml", s3);
  ASSERT_TRUE(t3) << t3.error().message;
  EXPECT_EQ(*t3, golden("stage-add.3.dvc.yaml"));

  StageAddSpec s4;
  s4.force = true;
  s4.name = "prepare";
  s4.deps = {"data.csv"};
  s4.params = {"params.toml:data.rows", "lr"};
  s4.outs_persist = {"state.bin"};
  s4.metrics_no_cache = {"scores.json"};
  s4.plots_no_cache = {"curve.csv"};
  s4.cmd = "python3 src/prep.py";
  auto t4 = add_stage(*t3, "dvc.yaml", s4);
  ASSERT_TRUE(t4) << t4.error().message;
  EXPECT_EQ(*t4, golden("stage-add.4.dvc.yaml"));

  s4.force = false;
  auto t5 = add_stage(*t4, "dvc.yaml", s4);
  ASSERT_FALSE(t5);
  EXPECT_EQ(t5.error().message, "Stage 'prepare' already exists in 'dvc.yaml'. Use '--force' to overwrite.");
}

TEST(YamlEdit, CommentsAndBlankLinesStay) {
  std::string text =
      "# the pipeline\nstages:\n  a:  # first\n    cmd: echo a > a.txt\n    outs:\n    - a.txt\n\n"
      "# plots below\nplots:\n- a.txt\n";
  StageAddSpec s;
  s.name = "b";
  s.cmd = "cp a.txt b.txt";
  s.deps = {"a.txt"};
  auto t = add_stage(text, "dvc.yaml", s);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(*t,
            "# the pipeline\nstages:\n  a:  # first\n    cmd: echo a > a.txt\n    outs:\n    - a.txt\n"
            "  b:\n    cmd: cp a.txt b.txt\n    deps:\n    - a.txt\n\n# plots below\nplots:\n- a.txt\n");
  auto f = set_stage_frozen(*t, "dvc.yaml", "a", true);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_NE(f->find("    - a.txt\n    frozen: true\n  b:"), std::string::npos) << *f;
  auto u = set_stage_frozen(*f, "dvc.yaml", "a", false);
  ASSERT_TRUE(u);
  EXPECT_EQ(*u, *t);
  bool none_left = true;
  auto r = remove_stage(*t, "dvc.yaml", "a", &none_left);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(none_left);
  EXPECT_EQ(*r, "# the pipeline\nstages:\n  b:\n    cmd: cp a.txt b.txt\n    deps:\n    - a.txt\n\n# plots below\nplots:\n- a.txt\n");
  r = remove_stage(*r, "dvc.yaml", "b", &none_left);
  ASSERT_TRUE(r);
  EXPECT_TRUE(none_left);
}

TEST(YamlEdit, UnfreezeAsDvcDid) {
  // The fixture's dvc.yaml had `frozen: true` after a blank line in stage `export`.
  std::string after = golden("pipeline2.unfreeze.dvc.yaml");
  size_t at = after.find("    - out/export.txt\n\n");
  ASSERT_NE(at, std::string::npos);
  std::string before = after;
  before.insert(at + std::string("    - out/export.txt\n\n").size(), "    frozen: true\n");
  auto u = set_stage_frozen(before, "dvc.yaml", "export", false);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(*u, after);
}

TEST(YamlEdit, ParametrizedStagesAreRefused) {
  std::string text = "stages:\n  train:\n    cmd: python train.py ${lr}\n  fe:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n";
  auto f = set_stage_frozen(text, "dvc.yaml", "train", true);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().message, "cannot dump a parametrized stage: 'train'");
  bool none = false;
  auto r = remove_stage(text, "dvc.yaml", "fe@a", &none);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "cannot remove a parametrized stage: 'fe@a'");
}

}  // namespace
}  // namespace dvx::formats
