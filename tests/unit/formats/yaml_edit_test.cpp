#include "dvx/formats/yaml_edit.h"

#include <gtest/gtest.h>

#include "fixture_util.h"

namespace dvx::formats {
namespace {

using yaml::Node;

std::string output(const std::string& name) {
  return test::Fixtures::read(std::string(DVX_FIXTURES_DIR) + "/outputs/" + name);
}

// dvc.yaml of the pipeline2 fixture: written by `dvc freeze export` over pipeline2_src.dvc.yaml.
std::string pipeline2_dvc_yaml() {
  auto root = test::Fixtures::get().root("pipeline2");
  EXPECT_FALSE(root.empty());
  return test::Fixtures::read(root / "repo" / "dvc.yaml");
}

std::string must(const Result<std::string>& r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : "";
}

// The commands of scripts/record_scratch.sh ("stage-add.N").
StageAddSpec stage_add_1() {
  StageAddSpec s;
  s.name = "prepare";
  s.deps = {"data.csv", "src/prep.py"};
  s.params = {"lr,train.epochs"};
  s.outs = {"prepared.csv"};
  s.metrics = {"metrics.json"};
  s.command = {"python3 src/prep.py data.csv prepared.csv"};
  return s;
}

StageAddSpec stage_add_2() {
  StageAddSpec s;
  s.name = "plot";
  s.deps = {"prepared.csv"};
  s.plots = {"loss.csv"};
  s.outs_no_cache = {"summary.txt"};
  s.always_changed = true;
  s.command = {"python3 src/plot.py prepared.csv"};
  return s;
}

StageAddSpec stage_add_3() {
  StageAddSpec s;
  s.name = "sub";
  s.wdir = "sub";
  s.desc = "Copies in.txt (runs in sub/)";
  s.deps = {"in.txt"};
  s.outs = {"out.txt"};
  s.command = {"cp in.txt out.txt"};
  return s;
}

StageAddSpec stage_add_4() {
  StageAddSpec s;
  s.force = true;
  s.name = "prepare";
  s.deps = {"data.csv"};
  s.params = {"params.toml:data.rows", "lr"};
  s.outs_persist = {"state.bin"};
  s.metrics_no_cache = {"scores.json"};
  s.plots_no_cache = {"curve.csv"};
  s.command = {"python3 src/prep.py"};
  return s;
}

TEST(YamlEdit, StageAddReproducesRecordedFiles) {
  std::string text = must(add_stage("", "dvc.yaml", stage_add_1()));
  EXPECT_EQ(text, output("stage-add.1.dvc.yaml"));
  text = must(add_stage(text, "dvc.yaml", stage_add_2()));
  EXPECT_EQ(text, output("stage-add.2.dvc.yaml"));
  text = must(add_stage(text, "dvc.yaml", stage_add_3()));
  EXPECT_EQ(text, output("stage-add.3.dvc.yaml"));
  text = must(add_stage(text, "dvc.yaml", stage_add_4()));
  EXPECT_EQ(text, output("stage-add.4.dvc.yaml"));

  StageAddSpec five;
  five.name = "prepare";
  five.deps = {"data.csv"};
  five.command = {"true"};
  auto r = add_stage(text, "dvc.yaml", five);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::conflict);
  EXPECT_EQ("ERROR: " + r.error().message + "\n", output("stage-add.5.txt.stderr"));
}

TEST(YamlEdit, JoinCommand) {
  EXPECT_EQ(join_command({"python3 src/prep.py data.csv"}), "python3 src/prep.py data.csv");
  EXPECT_EQ(join_command({"echo", "foo bar", "", "say \"hi there\"", "x"}),
            "echo \"foo bar\" \"\" say \"hi there\" x");
  EXPECT_EQ(join_command({""}), "");
  EXPECT_EQ(join_command({}), "");
}

TEST(YamlEdit, StageAddNodeOrderAndParams) {
  StageAddSpec s;
  s.name = "x";
  s.command = {"run"};
  s.deps = {"b", "a"};
  s.params = {"z,y", "cfg.json:", "cfg.json:k", "other.yaml:b,a", "x", "params.yaml:w"};
  s.outs = {"o2"};
  s.outs_persist_no_cache = {"o1"};
  s.desc = "d";
  s.wdir = ".";
  EXPECT_EQ(yaml::emit(stage_add_node(s)),
            "desc: d\ncmd: run\ndeps:\n- a\n- b\nparams:\n- w\n- x\n- y\n- z\n- cfg.json:\n  - k\n"
            "- other.yaml:\n  - a\n  - b\nouts:\n- o1:\n    cache: false\n    persist: true\n- o2\n");
  StageAddSpec whole;
  whole.command = {"run"};
  whole.params = {"params.toml:"};
  EXPECT_EQ(yaml::emit(stage_add_node(whole)), "cmd: run\nparams:\n- params.toml:\n");
}

TEST(YamlEdit, UnfreezeReproducesRecordedFile) {
  std::string frozen = pipeline2_dvc_yaml();
  EXPECT_EQ(must(remove_stage_key(frozen, "dvc.yaml", "export", "frozen")),
            output("pipeline2.unfreeze.dvc.yaml"));
}

TEST(YamlEdit, FreezeRewritesInRuamelLayoutKeepingBlankLines) {
  // `dvc freeze export` on the hand-written file (other indentation) produced the fixture's file.
  std::string src = test::Fixtures::read(std::string(DVX_FIXTURES_DIR) + "/pipeline2_src.dvc.yaml");
  EXPECT_EQ(must(set_stage_key(src, "dvc.yaml", "export", "frozen", Node::boolean(true))),
            pipeline2_dvc_yaml());
  // And freezing the unfrozen file again gives it back.
  EXPECT_EQ(must(set_stage_key(output("pipeline2.unfreeze.dvc.yaml"), "dvc.yaml", "export", "frozen",
                               Node::boolean(true))),
            pipeline2_dvc_yaml());
  // Freezing a frozen stage changes nothing.
  EXPECT_EQ(must(set_stage_key(pipeline2_dvc_yaml(), "dvc.yaml", "export", "frozen", Node::boolean(true))),
            pipeline2_dvc_yaml());
}

TEST(YamlEdit, ParametrizedStagesCannotBeDumped) {
  std::string text = pipeline2_dvc_yaml();
  auto r = set_stage_key(text, "dvc.yaml", "train", "frozen", Node::boolean(true));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ("ERROR: failed to freeze 'train' - " + r.error().message + "\n",
            output("pipeline2.freeze.parametrized.txt.stderr"));
  r = set_stage_key(text, "dvc.yaml", "shard@linear-a", "frozen", Node::boolean(true));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "cannot dump a parametrized stage: 'shard@linear-a'");
  auto rm = remove_stage(text, "dvc.yaml", "shard");
  ASSERT_FALSE(rm.has_value());
  EXPECT_EQ(rm.error().message, "cannot remove a parametrized stage: 'shard'");
  r = set_stage_key(text, "dvc.yaml", "nope", "frozen", Node::boolean(true));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::not_found);
  EXPECT_EQ(r.error().message, "Stage 'nope' not found inside 'dvc.yaml' file");

  auto def = yaml::parse("cmd: echo hi\ndeps:\n- a\n", "x");
  ASSERT_TRUE(def);
  EXPECT_FALSE(stage_is_parametrized(*def));
  def = yaml::parse("cmd: echo ${x}\n", "x");
  EXPECT_TRUE(stage_is_parametrized(*def));
  def = yaml::parse("foreach: [a]\ndo:\n  cmd: echo\n", "x");
  EXPECT_TRUE(stage_is_parametrized(*def));
}

const char* kCommented =
    "# Pipeline of the project\n"
    "stages:\n"
    "  # first stage\n"
    "  a:\n"
    "    cmd: echo a  # prints a\n"
    "    deps:\n"
    "    - x   # input\n"
    "    outs:\n"
    "    - y\n"
    "\n"
    "  # second stage\n"
    "  b:\n"
    "    cmd: echo b\n"
    "\n"
    "# plots below\n"
    "plots:\n"
    "- y\n";

// Comments and blank lines after an entry belong to the deepest last value before them (ruamel), so a
// key added to a stage or a stage added to `stages` comes after them (as in the recorded freeze).
TEST(YamlEdit, CommentsAndBlankLinesAreKept) {
  StageAddSpec s;
  s.name = "c";
  s.command = {"echo", "c c"};
  s.deps = {"y"};
  EXPECT_EQ(must(add_stage(kCommented, "dvc.yaml", s)),
            "# Pipeline of the project\n"
            "stages:\n"
            "  # first stage\n"
            "  a:\n"
            "    cmd: echo a  # prints a\n"
            "    deps:\n"
            "    - x   # input\n"
            "    outs:\n"
            "    - y\n"
            "\n"
            "  # second stage\n"
            "  b:\n"
            "    cmd: echo b\n"
            "\n"
            "# plots below\n"
            "  c:\n"
            "    cmd: echo \"c c\"\n"
            "    deps:\n"
            "    - y\n"
            "plots:\n"
            "- y\n");
  EXPECT_EQ(must(set_stage_key(kCommented, "dvc.yaml", "a", "frozen", Node::boolean(true))),
            "# Pipeline of the project\n"
            "stages:\n"
            "  # first stage\n"
            "  a:\n"
            "    cmd: echo a  # prints a\n"
            "    deps:\n"
            "    - x   # input\n"
            "    outs:\n"
            "    - y\n"
            "\n"
            "  # second stage\n"
            "    frozen: true\n"
            "  b:\n"
            "    cmd: echo b\n"
            "\n"
            "# plots below\n"
            "plots:\n"
            "- y\n");
}

TEST(YamlEdit, AddStageToFileWithoutStages) {
  StageAddSpec s;
  s.name = "a";
  s.command = {"echo a"};
  EXPECT_EQ(must(add_stage("# only plots\nplots:\n- p.csv\n", "dvc.yaml", s)),
            "# only plots\nplots:\n- p.csv\nstages:\n  a:\n    cmd: echo a\n");
  EXPECT_EQ(must(add_stage("# nothing yet\n", "dvc.yaml", s)), "stages:\n  a:\n    cmd: echo a\n");
  auto r = add_stage("stages: [\n", "dvc.yaml", s);
  EXPECT_FALSE(r.has_value());
  r = add_stage("- a\n", "dvc.yaml", s);
  EXPECT_FALSE(r.has_value());
}

TEST(YamlEdit, SequencesReplacedOrEditedItemByItem) {
  std::string text = "deps:  # inputs\n# the list\n- z.py\n- a.py  # first\nouts:\n- m\n";
  auto orig = yaml::parse(text, "dvc.yaml");
  ASSERT_TRUE(orig);
  Node upd = *orig;
  std::swap(upd.find("deps")->seq[0], upd.find("deps")->seq[1]);
  // a list assigned anew (merge_dicts) loses the comments inside it
  EXPECT_EQ(render_round_trip(text, *orig, upd), "deps:  # inputs\n- a.py\n- z.py\nouts:\n- m\n");
  // apply_diff changes it item by item: the comments stay where they were
  EXPECT_EQ(render_round_trip(text, *orig, upd, SequenceEdits::item_by_item),
            "deps:  # inputs\n# the list\n- a.py\n- z.py  # first\nouts:\n- m\n");
  // a length change replaces the list either way
  upd.find("deps")->seq.pop_back();
  EXPECT_EQ(render_round_trip(text, *orig, upd, SequenceEdits::item_by_item), "deps:  # inputs\n- a.py\nouts:\n- m\n");
}

TEST(YamlEdit, RemoveStage) {
  auto r = remove_stage(kCommented, "dvc.yaml", "a");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->no_stages);
  EXPECT_EQ(r->text,
            "# Pipeline of the project\n"
            "stages:\n"
            "  # first stage\n"
            "  b:\n"
            "    cmd: echo b\n"
            "\n"
            "# plots below\n"
            "plots:\n"
            "- y\n");
  auto r2 = remove_stage(r->text, "dvc.yaml", "b");
  ASSERT_TRUE(r2.has_value());
  EXPECT_TRUE(r2->no_stages);

  // Removing a stage of the fixture keeps the others' text.
  std::string text = output("pipeline2.unfreeze.dvc.yaml");
  auto r3 = remove_stage(text, "dvc.yaml", "stamp");
  ASSERT_TRUE(r3.has_value()) << r3.error().message;
  size_t b = text.find("  stamp:\n"), e = text.find("  export:\n");
  EXPECT_EQ(r3->text, text.substr(0, b) + text.substr(e));
}

TEST(YamlEdit, RemoveStageKeyThatIsAbsentRewritesInDvcLayout) {
  std::string src = test::Fixtures::read(std::string(DVX_FIXTURES_DIR) + "/pipeline2_src.dvc.yaml");
  std::string out = must(remove_stage_key(src, "dvc.yaml", "export", "frozen"));
  EXPECT_EQ(out, output("pipeline2.unfreeze.dvc.yaml"));
}

}  // namespace
}  // namespace dvx::formats

namespace dvx::formats {
namespace {

TEST(YamlEdit, FreezeDumpsTheStageAsDvcLoadsIt) {
  // DVC dumps the loaded stage (to_pipeline_file) over the written one: deps and outs sorted,
  // params merged and sorted, `wdir: .` and false flags dropped, frozen appended.
  const char* text =
      "stages:\n"
      "  s:\n"
      "    cmd: run\n"
      "    wdir: .\n"
      "    deps:\n"
      "    - b\n"
      "    - a\n"
      "    params:\n"
      "    - z\n"
      "    - other.yaml:\n"
      "      - b\n"
      "      - a\n"
      "    - y\n"
      "    outs:\n"
      "    - o2\n"
      "    - o1:\n"
      "        cache: true\n"
      "    always_changed: false\n";
  EXPECT_EQ(must(set_stage_key(text, "dvc.yaml", "s", "frozen", Node::boolean(true))),
            "stages:\n"
            "  s:\n"
            "    cmd: run\n"
            "    deps:\n"
            "    - a\n"
            "    - b\n"
            "    params:\n"
            "    - y\n"
            "    - z\n"
            "    - other.yaml:\n"
            "      - a\n"
            "      - b\n"
            "    outs:\n"
            "    - o1\n"
            "    - o2\n"
            "    frozen: true\n");
  auto def = yaml::parse("cmd: [a, b]\nwdir: ./sub/\nplots:\n- p.csv:\n    x: step\n    cache: false\n", "x");
  ASSERT_TRUE(def);
  EXPECT_EQ(yaml::emit(pipeline_stage_node(*def)),
            "cmd: [a, b]\nwdir: sub\nplots:\n- p.csv:\n    cache: false\n    x: step\n");
}

}  // namespace
}  // namespace dvx::formats

namespace dvx::formats {
namespace {

// Every edit of any prefix of a real file either fails cleanly or gives a text that reads back as
// the edited document.
TEST(YamlEdit, TruncatedAndGarbageInputs) {
  std::vector<std::string> texts = {pipeline2_dvc_yaml(), kCommented, output("stage-add.4.dvc.yaml")};
  StageAddSpec s = stage_add_1();
  s.name = "fresh";
  int ok = 0;
  for (const auto& full : texts) {
    for (size_t n = 0; n <= full.size(); n += 3) {
      std::string text = full.substr(0, n);
      auto before = yaml::parse(text, "dvc.yaml");
      auto added = add_stage(text, "dvc.yaml", s);
      if (added) {
        auto doc = yaml::parse(*added, "dvc.yaml");
        ASSERT_TRUE(doc) << text << "\n---\n" << *added;
        const Node* st = doc->find("stages") ? doc->find("stages")->find("fresh") : nullptr;
        ASSERT_TRUE(st) << *added;
        EXPECT_TRUE(yaml::equal(*st, stage_add_node(s))) << *added;
        ASSERT_TRUE(before);
        if (before->is_mapping())
          for (const auto& [k, v] : before->map) {
            if (k != "stages") {
              EXPECT_TRUE(yaml::equal(v, *doc->find(k))) << *added;
            }
          }
        ++ok;
      }
      for (const char* stage : {"export", "a", "prepare", "plot"}) {
        auto frozen = set_stage_key(text, "dvc.yaml", stage, "frozen", Node::boolean(true));
        if (frozen) {
          auto doc = yaml::parse(*frozen, "dvc.yaml");
          ASSERT_TRUE(doc) << *frozen;
          const Node* f = doc->find("stages")->find(stage)->find("frozen");
          ASSERT_TRUE(f) << *frozen;
          EXPECT_TRUE(f->b);
        }
        auto removed = remove_stage(text, "dvc.yaml", stage);
        if (removed) {
          auto doc = yaml::parse(removed->text, "dvc.yaml");
          ASSERT_TRUE(doc) << removed->text;
          EXPECT_FALSE(doc->find("stages")->find(stage));
        }
      }
    }
  }
  EXPECT_GT(ok, 50);
  for (std::string_view g : {"\x01\x02\xff", "stages: [\n", "{{{{", "stages:\n\t a:", "stages: 3\n",
                             "stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n"}) {
    EXPECT_FALSE(add_stage(g, "dvc.yaml", s).has_value()) << g;
    EXPECT_FALSE(set_stage_key(g, "dvc.yaml", "a", "frozen", Node::boolean(true)).has_value()) << g;
    EXPECT_FALSE(remove_stage(g, "dvc.yaml", "a").has_value()) << g;
  }
}

}  // namespace
}  // namespace dvx::formats

namespace dvx::formats {
namespace {

TEST(YamlEdit, CrlfFileIsWrittenWithNewlines) {
  EXPECT_EQ(must(remove_stage_key("# c\r\nstages:\r\n  a:\r\n    cmd: x\r\n    frozen: true\r\n\r\n",
                                  "dvc.yaml", "a", "frozen")),
            "# c\nstages:\n  a:\n    cmd: x\n");  // the blank line went with the removed key
}

}  // namespace
}  // namespace dvx::formats
