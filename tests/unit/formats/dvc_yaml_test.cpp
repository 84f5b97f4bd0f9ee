#include "dvx/formats/dvc_yaml.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "dvx/formats/params.h"
#include "fixture_util.h"

namespace dvx::formats {
namespace {

namespace fs = std::filesystem;
using test::Fixtures;
using yaml::Node;

// Reads vars/params files from `dir` (not_found when absent), like the repo's loader.
VarsLoader dir_loader(const fs::path& dir) {
  return [dir](const std::string& rel) -> Result<Node> {
    fs::path p = dir / rel;
    if (!fs::is_regular_file(p)) return fail(ErrorCode::not_found, "'" + rel + "' does not exist");
    return parse_params(Fixtures::read(p), rel, params_format(rel));
  };
}

// Loader over in-memory files.
VarsLoader map_loader(std::map<std::string, std::string> files) {
  return [files](const std::string& rel) -> Result<Node> {
    auto it = files.find(rel);
    if (it == files.end()) return fail(ErrorCode::not_found, "'" + rel + "' does not exist");
    return parse_params(it->second, rel, params_format(rel));
  };
}

Result<DvcYaml> parse(std::string_view text, std::map<std::string, std::string> files = {}) {
  return parse_dvc_yaml(text, "./dvc.yaml", map_loader(std::move(files)));
}

std::string error_of(std::string_view text, std::map<std::string, std::string> files = {}) {
  auto r = parse(text, std::move(files));
  return r ? std::string("<parsed>") : r.error().message;
}

std::string golden(const std::string& name) {
  return Fixtures::read(fs::path(DVX_FIXTURES_DIR) / "outputs" / name);
}

// First column of `dvc stage list`.
std::vector<std::string> stage_list_names(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    std::string line = text.substr(start, nl - start);
    if (!line.empty()) out.push_back(line.substr(0, line.find(' ')));
    start = nl + 1;
  }
  return out;
}

std::vector<std::string> names(const DvcYaml& y) {
  std::vector<std::string> out;
  for (const auto& s : y.stages) out.push_back(s.name);
  return out;
}

// Every stage's cmd equals the one DVC wrote to dvc.lock.
void expect_cmds_match_lock(const DvcYaml& y, const std::string& lock_text) {
  auto lock = yaml::parse(lock_text, "dvc.lock");
  ASSERT_TRUE(lock) << lock.error().message;
  const Node* stages = lock->find("stages");
  ASSERT_NE(stages, nullptr);
  ASSERT_EQ(stages->map.size(), y.stages.size());
  for (const auto& s : y.stages) {
    const Node* entry = stages->find(s.name);
    ASSERT_NE(entry, nullptr) << s.name;
    const Node* cmd = entry->find("cmd");
    ASSERT_NE(cmd, nullptr);
    EXPECT_TRUE(yaml::equal(*cmd, s.cmd)) << s.name << ": " << s.cmd_text() << " != " << cmd->s;
    EXPECT_EQ(s.cmd_text(), cmd->s);
  }
}

const StageDef* find_stage(const DvcYaml& y, const std::string& name) {
  for (const auto& s : y.stages)
    if (s.name == name) return &s;
  return nullptr;
}

TEST(DvcYaml, PipelineFixtureParsesAsDvcResolvedIt) {
  fs::path repo = Fixtures::get().root("pipeline") / "repo";
  ASSERT_TRUE(fs::exists(repo / "dvc.yaml"));
  auto y = parse_dvc_yaml(Fixtures::read(repo / "dvc.yaml"), "./dvc.yaml", dir_loader(repo));
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(names(*y), stage_list_names(golden("pipeline.stage-list.txt")));
  expect_cmds_match_lock(*y, Fixtures::read(repo / "dvc.lock"));

  const StageDef* prepare = find_stage(*y, "prepare");
  ASSERT_NE(prepare, nullptr);
  EXPECT_EQ(prepare->deps, (std::vector<std::string>{"src/prepare.py", "data/raw.csv"}));
  ASSERT_EQ(prepare->params.size(), 1u);
  EXPECT_EQ(prepare->params[0].file, "params.yaml");
  EXPECT_EQ(prepare->params[0].keys,
            (std::vector<std::string>{"prepare.split", "prepare.seed", "prepare.shuffle"}));
  ASSERT_EQ(prepare->outs.size(), 1u);
  EXPECT_EQ(prepare->outs[0].path, "data/prepared");
  EXPECT_EQ(prepare->line, 6);

  const StageDef* train = find_stage(*y, "train");
  ASSERT_NE(train, nullptr);
  ASSERT_EQ(train->params.size(), 2u);
  EXPECT_EQ(train->params[1].file, "params2.json");
  EXPECT_EQ(train->params[1].keys, (std::vector<std::string>{"batch_size", "augment.flip"}));
  ASSERT_EQ(train->outs.size(), 3u);
  EXPECT_EQ(train->outs[1].kind, StageOut::Kind::metric);
  EXPECT_FALSE(train->outs[1].cache);
  EXPECT_EQ(train->outs[2].kind, StageOut::Kind::plot);
  EXPECT_EQ(train->outs[2].path, "plots/loss.csv");
  ASSERT_TRUE(train->outs[2].options.is_mapping());
  EXPECT_EQ(train->outs[2].options.find("x")->s, "epoch");

  const StageDef* report = find_stage(*y, "report@md");
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->group, "report");
  EXPECT_EQ(report->outs[0].path, "reports/summary.md");
}

TEST(DvcYaml, Pipeline2FixtureMatrixVarsAndParamsFormats) {
  fs::path repo = Fixtures::get().root("pipeline2") / "repo";
  ASSERT_TRUE(fs::exists(repo / "dvc.yaml"));
  auto y = parse_dvc_yaml(Fixtures::read(repo / "dvc.yaml"), "./dvc.yaml", dir_loader(repo));
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(names(*y), stage_list_names(golden("pipeline2.stage-list.txt")));
  expect_cmds_match_lock(*y, golden("pipeline2.dvc.lock"));

  const StageDef* shard = find_stage(*y, "shard@tree-b");
  ASSERT_NE(shard, nullptr);
  EXPECT_EQ(shard->group, "shard");
  ASSERT_EQ(shard->outs.size(), 1u);
  EXPECT_EQ(shard->outs[0].path, "out/shard-tree-b.txt");

  const StageDef* generate = find_stage(*y, "generate");
  ASSERT_NE(generate, nullptr);
  ASSERT_EQ(generate->params.size(), 1u);
  EXPECT_EQ(generate->params[0].file, "params.toml");
  EXPECT_EQ(generate->params[0].keys, (std::vector<std::string>{"data"}));

  const StageDef* train = find_stage(*y, "train");
  ASSERT_NE(train, nullptr);
  ASSERT_EQ(train->params.size(), 3u);
  EXPECT_EQ(train->params[0].file, "params.yaml");
  EXPECT_EQ(train->params[0].keys, (std::vector<std::string>{"train"}));
  EXPECT_EQ(train->params[1].file, "params.json");
  EXPECT_EQ(train->params[2].file, "params.py");
  EXPECT_EQ(train->params[2].keys, (std::vector<std::string>{"SEED", "Eval.window"}));
  ASSERT_EQ(train->outs.size(), 5u);
  EXPECT_EQ(train->outs[1].path, "logs/history.txt");
  EXPECT_TRUE(train->outs[1].persist);
  EXPECT_TRUE(train->outs[1].cache);
  EXPECT_EQ(train->outs[2].kind, StageOut::Kind::metric);
  EXPECT_EQ(train->outs[3].kind, StageOut::Kind::plot);
  EXPECT_FALSE(train->outs[4].cache);

  const StageDef* stamp = find_stage(*y, "stamp");
  ASSERT_NE(stamp, nullptr);
  EXPECT_TRUE(stamp->always_changed);
  EXPECT_FALSE(stamp->frozen);

  ASSERT_TRUE(y->plots.is_sequence());
  ASSERT_EQ(y->plots.seq.size(), 2u);
  ASSERT_NE(y->plots.seq[0].find("plots/loss.csv"), nullptr);
  EXPECT_EQ(y->plots.seq[0].find("plots/loss.csv")->find("title")->s, "Loss");
  ASSERT_NE(y->plots.seq[1].find("accuracy"), nullptr);
  EXPECT_EQ(y->plots.seq[1].find("accuracy")->find("y")->find("plots/acc.json")->s, "acc");
  EXPECT_TRUE(y->doc.find("vars"));
}

TEST(DvcYaml, BadYamlReportsDvcSyntaxError) {
  std::string text =
      "stages:\n  bad:\n    cmd: echo hi > out.txt\n      deps:\n      - in.txt\n    outs:\n      - "
      "out.txt\n";
  std::string want = golden("errors.bad-yaml.repro.txt.stderr");
  ASSERT_TRUE(want.ends_with("\n"));
  want.pop_back();
  EXPECT_EQ(error_of(text), want);
}

TEST(DvcYaml, DuplicateKeyInRuamelWords) {
  std::string pad = std::string(80, ' ');
  EXPECT_EQ(error_of("stages:\n  s:\n    cmd: Echo A\n    cmd: echo b\n"),
            "'./dvc.yaml' is invalid.\n\n"
            "While constructing a mapping, in line 3, column 5\n"
            "  3 \u2502   cmd: Echo A" +
                pad.substr(0, 61) +
                "\n\n"
                "Found duplicate key \"cmd\" with value \"echo b\" (original value: \"echo a\"), in line 4, "
                "column 5\n"
                "  4 \u2502   cmd: echo b" +
                pad.substr(0, 61));
}

TEST(DvcYaml, UndefinedVariableReportsWhere) {
  std::string text =
      "stages:\n  train:\n    cmd: echo ${undefined_var} > out.txt\n    outs:\n      - out.txt\n";
  std::string want = golden("errors.undefined-var.repro.txt.stderr");
  ASSERT_TRUE(want.starts_with("ERROR: "));
  want = want.substr(7);
  want.pop_back();
  EXPECT_EQ(error_of(text, {{"params.yaml", "lr: 0.1\n"}}), want);
  EXPECT_EQ(error_of("stages:\n  t:\n    cmd: echo hi\n    outs:\n      - ${nope}/x\n"),
            "failed to parse 'stages.t.outs' in 'dvc.yaml': Could not find 'nope'");
  EXPECT_EQ(
      parse_dvc_yaml("stages:\n  t:\n    cmd: echo ${x}\n", "sub/dvc.yaml", map_loader({})).error().message,
      "failed to parse 'stages.t.cmd' in 'sub/dvc.yaml': Could not find 'x'");
}

TEST(DvcYaml, ExtraKeyIsAValidationError) {
  std::string text = "stages:\n  x:\n    cmd: echo\n    foo: bar\n";
  std::string msg = error_of(text);
  EXPECT_EQ(msg,
            "'./dvc.yaml' validation failed.\n"
            "\n"
            "extra keys not allowed, in stages -> x -> foo, line 4, column 5\n"
            "  3 \u2502   cmd: echo" +
                std::string(63, ' ') +
                "\n"
                "  4 \u2502   foo: bar" +
                std::string(64, ' ') +
                "\n"
                "  5 " +
                std::string(76, ' '));
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\nfoo: 1\n")
                .find("extra keys not allowed, in foo, line 4, column 1"),
            std::string::npos);
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    outs:\n      - a:\n          kache: false\n")
                .find("extra keys not allowed, in stages -> x -> outs -> 0 -> a -> kache, line 6"),
            std::string::npos);
  // Generators take only foreach and do.
  EXPECT_NE(error_of("stages:\n  g:\n    foreach: [a]\n    do:\n      cmd: echo\n    cmd: x\n")
                .find("extra keys not allowed, in stages -> g -> cmd"),
            std::string::npos);
}

TEST(DvcYaml, SchemaErrorsPointAtTheKey) {
  // A null or scalar value: the key's position; a collection: its own; a list item: the item.
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    foo:\n").find("-> foo, line 4, column 5\n"),
            std::string::npos);
  EXPECT_NE(
      error_of("stages:\n  x:\n    cmd: echo\n    foo:\n      bar: 1\n").find("-> foo, line 5, column 7\n"),
      std::string::npos);
  EXPECT_NE(
      error_of("stages:\n  x:\n    cmd: echo\n    frozen:\n      5\n").find("-> frozen, line 4, column 5\n"),
      std::string::npos);
  EXPECT_NE(error_of("stages:\n  x: {cmd: echo, foo: 1}\n").find("-> foo, line 2, column 18\n"),
            std::string::npos);
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    outs:\n    - a\n    - 5\n")
                .find("-> 1, line 6, column 7\n"),
            std::string::npos);
}

TEST(DvcYaml, LongSourceLinesWrapAtWordsLikeRich) {
  std::string text =
      "stages:\n  x:\n    cmd: python3 src/train.py data/features.csv model.pkl --lr 0.05 --epochs 5 "
      "--with-a-long-option\n    foo: 1\n";
  std::string msg = error_of(text);
  std::string first = "\u2502   cmd: python3 src/train.py data/features.csv model.pkl --lr 0.05 --epochs";
  std::string second = "5 --with-a-long-option";
  EXPECT_NE(msg.find("  3 " + first + "\n    " + second + std::string(76 - second.size(), ' ') + "\n  4 "),
            std::string::npos)
      << msg;
}

TEST(DvcYaml, SeveralSchemaErrorsAreCounted) {
  std::string msg = error_of("stages:\n  x:\n    cmd: echo\n    foo: 1\n    bar: 2\n");
  EXPECT_TRUE(msg.starts_with("'./dvc.yaml' validation failed: 2 errors.\n\n")) << msg;
  EXPECT_NE(msg.find("in stages -> x -> foo"), std::string::npos);
  EXPECT_NE(msg.find("in stages -> x -> bar"), std::string::npos);
}

TEST(DvcYaml, WrongTypesAreValidationErrors) {
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: 5\n").find("expected str, in stages -> x -> cmd, line 3"),
            std::string::npos);
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    frozen: yes\n")
                .find("expected bool, in stages -> x -> frozen"),
            std::string::npos);
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    deps: a.txt\n")
                .find("expected a list, in stages -> x -> deps"),
            std::string::npos);
  EXPECT_NE(error_of("stages:\n  x:\n    cmd: echo\n    deps:\n      - 1\n")
                .find("expected str, in stages -> x -> deps -> 0"),
            std::string::npos);
  EXPECT_EQ(error_of("stages:\n  x:\n    wdir: sub\n"),
            "'./dvc.yaml' validation failed: required key not provided @ data['stages']['x']['cmd']");
  EXPECT_EQ(error_of("- a\n"), "'./dvc.yaml' validation failed: expected a dictionary.");
  EXPECT_NE(error_of("stages: [a]\n").find("expected a dictionary, in stages"), std::string::npos);
  EXPECT_NE(error_of("vars: 3\nstages: {}\n").find("expected a list, in vars"), std::string::npos);
  EXPECT_NE(error_of("metrics: [1]\n").find("expected str, in metrics -> 0"), std::string::npos);
  EXPECT_EQ(error_of("artifacts:\n  m:\n    type: model\n"),
            "'./dvc.yaml' validation failed: required key not provided @ data['artifacts']['m']['path']");
  // A plot entry whose options are a list passes the schema; DVC then fails to load it.
  EXPECT_EQ(error_of("stages:\n  x:\n    cmd: echo\n    plots:\n      - p.csv: [{x: a}]\n"),
            "Expected dict for 'p.csv', got: 'list'");
}

TEST(DvcYaml, BadForeach) {
  EXPECT_EQ(error_of("vars:\n  - n: 5\nstages:\n  b:\n    foreach: ${n}\n    do:\n      cmd: echo ${item}\n"),
            "failed to resolve 'stages.b.foreach' in 'dvc.yaml': expected list/dictionary, got int");
  EXPECT_EQ(error_of("stages:\n  b:\n    foreach: abc\n    do:\n      cmd: echo ${item}\n"),
            "failed to resolve 'stages.b.foreach' in 'dvc.yaml': expected list/dictionary, got str");
  EXPECT_EQ(error_of("stages:\n  b:\n    foreach: ${missing}\n    do:\n      cmd: echo\n"),
            "failed to parse 'stages.b.foreach' in 'dvc.yaml': Could not find 'missing'");
  EXPECT_EQ(error_of("stages:\n  b:\n    foreach: [a]\n"),
            "'./dvc.yaml' validation failed: required key not provided @ data['stages']['b']['do']");
  EXPECT_EQ(error_of("stages:\n  b:\n    foreach: [a]\n    do:\n      cmd: echo ${item.x}\n"),
            "failed to parse 'stages.b@a.cmd' in 'dvc.yaml': Could not find 'item.x'");
}

TEST(DvcYaml, InterpolationNotAllowedInVars) {
  EXPECT_EQ(error_of("vars:\n  - x: ${y}\nstages: {}\n"),
            "failed to parse 'vars' in 'dvc.yaml': interpolating is not allowed");
  EXPECT_EQ(error_of("stages:\n  s:\n    vars:\n      - x: ${y}\n    cmd: echo\n"),
            "failed to parse 'stages.s.vars' in 'dvc.yaml': interpolating is not allowed");
}

TEST(DvcYaml, ForeachNaming) {
  auto y = parse(
      "vars:\n  - models: {a: 1, b: 2}\n"
      "stages:\n"
      "  build:\n    foreach: [us, eu]\n    do:\n      cmd: make ${item}\n      outs:\n        - "
      "out/${item}\n"
      "  dict:\n    foreach: ${models}\n    do:\n      cmd: run ${key} ${item}\n"
      "  rows:\n    foreach:\n      - {n: 1}\n      - {n: 2}\n    do:\n      cmd: row ${item.n}\n"
      "  nums:\n    foreach: [1, 2.5, true]\n    do:\n      cmd: n ${item}\n");
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(names(*y), (std::vector<std::string>{"build@us", "build@eu", "dict@a", "dict@b", "rows@0",
                                                 "rows@1", "nums@1", "nums@2.5", "nums@true"}));
  EXPECT_EQ(y->stages[0].cmd_text(), "make us");
  EXPECT_EQ(y->stages[1].outs[0].path, "out/eu");
  EXPECT_EQ(y->stages[3].cmd_text(), "run b 2");
  EXPECT_EQ(y->stages[5].cmd_text(), "row 2");
  EXPECT_EQ(y->stages[8].cmd_text(), "n true");
  for (const auto& s : y->stages) EXPECT_FALSE(s.group.empty());
}

TEST(DvcYaml, MatrixNaming) {
  auto y = parse(
      "stages:\n"
      "  mx:\n    matrix:\n      x: [1, 2]\n      y: [p, q]\n    cmd: echo ${item.x} ${item.y} ${key}\n"
      "  cx:\n    matrix:\n      cfg: [{a: 1}, {a: 2}]\n      lr: [0.1]\n    cmd: t ${item.cfg.a} "
      "${item.lr}\n");
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(names(*y),
            (std::vector<std::string>{"mx@1-p", "mx@1-q", "mx@2-p", "mx@2-q", "cx@cfg0-0.1", "cx@cfg1-0.1"}));
  EXPECT_EQ(y->stages[1].cmd_text(), "echo 1 q 1-q");
  EXPECT_EQ(y->stages[5].cmd_text(), "t 2 0.1");
  EXPECT_EQ(y->stages[0].group, "mx");
  EXPECT_EQ(y->stages[0].line, 2);
  EXPECT_EQ(y->stages[5].line, 7);
}

TEST(DvcYaml, ItemShadowingIsWarned) {
  auto y = parse("vars:\n  - item: 1\nstages:\n  b:\n    foreach: [a]\n    do:\n      cmd: echo ${item}\n");
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(y->stages[0].cmd_text(), "echo a");
  ASSERT_EQ(y->warnings.size(), 1u);
  EXPECT_EQ(y->warnings[0], "item is already specified, will be overwritten for stages generated from 'b'");
}

TEST(DvcYaml, StageFields) {
  auto y = parse(
      "stages:\n"
      "  s:\n"
      "    desc: first line\n"
      "    cmd:\n      - echo a\n      - echo ${n}\n"
      "    wdir: sub\n"
      "    frozen: true\n"
      "    meta: {anything: [1]}\n"
      "    params:\n      - lr\n      - other.yaml:\n      - cfg.json: [a, b.c]\n      - cfg.json: [d]\n"
      "    outs:\n      - o1\n      - o2:\n          cache: false\n          persist: true\n"
      "          remote: r\n          push: false\n          desc: an out\n          checkpoint: true\n"
      "  m:\n    cmd: |\n      one\n\n      two\n",
      {{"params.yaml", "n: 3\n"}});
  ASSERT_TRUE(y) << y.error().message;
  const StageDef& s = y->stages[0];
  EXPECT_EQ(s.desc, "first line");
  EXPECT_EQ(s.wdir, "sub");
  EXPECT_TRUE(s.frozen);
  EXPECT_EQ(s.command_lines(), (std::vector<std::string>{"echo a", "echo 3"}));
  EXPECT_EQ(s.cmd_text(), "echo a\necho 3");
  ASSERT_EQ(s.params.size(), 3u);
  EXPECT_EQ(s.params[0].file, "params.yaml");
  EXPECT_EQ(s.params[1].file, "other.yaml");
  EXPECT_TRUE(s.params[1].whole_file);
  EXPECT_EQ(s.params[2].keys, (std::vector<std::string>{"a", "b.c", "d"}));
  ASSERT_EQ(s.outs.size(), 2u);
  EXPECT_TRUE(s.outs[0].options.is_null());
  EXPECT_FALSE(s.outs[1].cache);
  EXPECT_TRUE(s.outs[1].persist);
  EXPECT_FALSE(s.outs[1].push);
  EXPECT_EQ(s.outs[1].remote, "r");
  EXPECT_EQ(s.outs[1].desc, "an out");
  EXPECT_EQ(y->stages[1].command_lines(), (std::vector<std::string>{"one", "", "two"}));
  EXPECT_EQ(y->stages[1].cmd_text(), "one\n\ntwo\n");
}

TEST(DvcYaml, MappingKeysAreInterpolatedToo) {
  auto y = parse(
      "vars:\n  - d: data\nstages:\n  s:\n    cmd: x\n    outs:\n      - ${d}/o.csv:\n          cache: "
      "false\n"
      "    params:\n      - ${d}.yaml: [k]\n");
  ASSERT_TRUE(y) << y.error().message;
  ASSERT_EQ(y->stages[0].outs.size(), 1u);
  EXPECT_EQ(y->stages[0].outs[0].path, "data/o.csv");
  EXPECT_FALSE(y->stages[0].outs[0].cache);
  EXPECT_EQ(y->stages[0].params[0].file, "data.yaml");
}

TEST(DvcYaml, CommandLinesSplitAsPython) {
  StageDef s;
  s.cmd = Node::str(
      "a\r\nb\rc\x0c"
      "d\xe2\x80\xa8"
      "e\n");
  EXPECT_EQ(s.command_lines(), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  s.cmd = Node::str("one");
  EXPECT_EQ(s.command_lines(), (std::vector<std::string>{"one"}));
  EXPECT_EQ(s.cmd_text(), "one");
}

TEST(DvcYaml, WholeFileParamsHideKeys) {
  auto y = parse(
      "stages:\n  s:\n    cmd: x\n    params:\n      - a\n      - params.yaml:\n      - o.json: [k]\n      - "
      "o.json: []\n");
  ASSERT_TRUE(y) << y.error().message;
  const auto& p = y->stages[0].params;
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].file, "params.yaml");
  EXPECT_TRUE(p[0].whole_file);
  EXPECT_TRUE(p[0].keys.empty());
  EXPECT_EQ(p[1].file, "o.json");
  EXPECT_TRUE(p[1].whole_file);
  EXPECT_TRUE(p[1].keys.empty());
}

TEST(DvcYaml, VarsFilesAndStageVars) {
  std::map<std::string, std::string> files = {
      {"params.yaml", "lr: 0.1\nmodel: {name: cnn}\n"},
      {"more.json", "{\"batch\": 32, \"other\": 1}"},
      {"sub/local.yaml", "depth: 4\n"},
  };
  auto y = parse(
      "vars:\n  - params.yaml\n  - more.json:batch\n  - out: res\n"
      "stages:\n"
      "  s:\n    cmd: t ${lr} ${model.name} ${batch} ${out}\n"
      "  t:\n    wdir: sub\n    vars:\n      - local.yaml\n      - extra: e\n    cmd: u ${depth} ${extra}\n",
      files);
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_EQ(y->stages[0].cmd_text(), "t 0.1 cnn 32 res");
  EXPECT_EQ(y->stages[1].cmd_text(), "u 4 e");
  // Stage vars stay local to their stage.
  EXPECT_EQ(error_of("stages:\n  a:\n    vars:\n      - v: 1\n    cmd: ${v}\n  b:\n    cmd: ${v}\n"),
            "failed to parse 'stages.b.cmd' in 'dvc.yaml': Could not find 'v'");
  EXPECT_EQ(
      error_of("vars:\n  - more.json:batch\n  - more.json\nstages: {}\n", files),
      "failed to parse 'vars' in 'dvc.yaml':\ncannot load 'more.json' as it's partially loaded already");
}

TEST(DvcYaml, TopLevelSections) {
  auto y = parse(
      "vars:\n  - d: reports\n"
      "params:\n  - ${d}/p.yaml\n"
      "metrics:\n  - ${d}/m.json\n  - other.json\n"
      "plots:\n  - ${d}/roc.json\n  - confusion:\n      template: confusion\n      x: actual\n"
      "      y:\n        eval/preds.csv: predicted\n  - img.png:\n"
      "artifacts:\n  clf:\n    path: ${d}/clf.pkl\n    type: model\n  bad-:\n    path: x\n"
      "  ${d}-model:\n    path: y\n"
      "datasets:\n  - name: ds\n    type: dvc\n    url: u\n");
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_TRUE(y->stages.empty());
  EXPECT_EQ(y->params, (std::vector<std::string>{"reports/p.yaml"}));
  EXPECT_EQ(y->metrics, (std::vector<std::string>{"reports/m.json", "other.json"}));
  ASSERT_EQ(y->plots.seq.size(), 3u);
  EXPECT_EQ(y->plots.seq[0].s, "reports/roc.json");
  EXPECT_EQ(y->plots.seq[1].find("confusion")->find("template")->s, "confusion");
  EXPECT_TRUE(y->plots.seq[2].find("img.png")->is_null());
  ASSERT_TRUE(y->artifacts.is_mapping());
  EXPECT_EQ(y->artifacts.find("clf")->find("path")->s, "reports/clf.pkl");
  ASSERT_NE(y->artifacts.find("reports-model"), nullptr);
  ASSERT_EQ(y->warnings.size(), 1u);
  EXPECT_EQ(y->warnings[0], "Can't use 'bad-' as artifact name (ID).");
  ASSERT_TRUE(y->datasets.is_sequence());
  EXPECT_EQ(y->datasets.seq[0].find("url")->s, "u");
  EXPECT_EQ(error_of("metrics:\n  - ${nope}\n"),
            "failed to parse 'metrics.0' in 'dvc.yaml': Could not find 'nope'");
  EXPECT_NE(error_of("plots:\n  - p:\n      x: 1\n").find("in plots -> 0 -> p -> x"), std::string::npos);
}

TEST(DvcYaml, InvalidUtf8) {
  EXPECT_EQ(error_of("stages:\n  s:\n    cmd: echo \xff\n"),
            "unable to read: 'dvc.yaml', is not valid utf-8");
  EXPECT_EQ(error_of("stages:\n  s:\n    cmd: echo \xed\xa0\x80\n"),
            "unable to read: 'dvc.yaml', is not valid utf-8");
  EXPECT_TRUE(parse("stages:\n  s:\n    cmd: echo \xc3\xa9 \xf0\x9f\x98\x80\n"));
}

TEST(DvcYaml, EmptyFileHasNoStages) {
  auto y = parse("");
  ASSERT_TRUE(y) << y.error().message;
  EXPECT_TRUE(y->stages.empty());
  EXPECT_TRUE(y->plots.is_null());
}

TEST(DvcYaml, AliasBombAndDeepNestingFailCleanly) {
  std::string bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  char prev = 'a';
  for (char c = 'b'; c <= 'p'; ++c, ++prev) {
    bomb += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 10; ++i) bomb += std::string(i ? ", *" : "*") + prev;
    bomb += "]\n";
  }
  bomb += "stages: {}\n";
  std::string msg = error_of(bomb);
  EXPECT_TRUE(msg.starts_with("'./dvc.yaml' is invalid.\n\n")) << msg;
  EXPECT_NE(msg.find(", in line "), std::string::npos) << msg;

  std::string deep =
      "stages:\n  s:\n    cmd: echo\n    meta: " + std::string(100000, '[') + std::string(100000, ']') + "\n";
  msg = error_of(deep);
  EXPECT_TRUE(msg.starts_with("'./dvc.yaml' is invalid.\n\n")) << msg.substr(0, 300);
}

TEST(DvcYaml, PrettyErrorsAreTold) {
  EXPECT_TRUE(is_pretty_error(error_of("a: b: c\n")));
  EXPECT_TRUE(is_pretty_error(error_of("stages:\n  x:\n    cmd: 5\n")));
  EXPECT_TRUE(is_pretty_error(error_of("- a\n")));
  EXPECT_FALSE(is_pretty_error(error_of("stages:\n  x:\n    wdir: sub\n")));
  EXPECT_FALSE(is_pretty_error(error_of("stages:\n  x:\n    cmd: ${nope}\n")));
}

TEST(DvcYaml, GeneratorExplosionFailsCleanly) {
  std::string text = "stages:\n  mx:\n    matrix:\n";
  for (char c = 'a'; c <= 'h'; ++c) text += std::string("      ") + c + ": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]\n";
  text += "    cmd: echo\n";
  EXPECT_EQ(error_of(text),
            "failed to parse 'stages.mx.matrix' in 'dvc.yaml': more than 100000 stages would be generated");
}

TEST(DvcYaml, StageNames) {
  EXPECT_TRUE(valid_stage_name("train"));
  EXPECT_TRUE(valid_stage_name("train_2-b"));
  EXPECT_FALSE(valid_stage_name("a.b"));
  EXPECT_FALSE(valid_stage_name("a@b"));
  EXPECT_FALSE(valid_stage_name("a/b"));
  EXPECT_FALSE(valid_stage_name("a:b"));
  EXPECT_FALSE(valid_stage_name(""));
}

}  // namespace
}  // namespace dvx::formats
