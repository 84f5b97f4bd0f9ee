// `exp run -S` overrides against the params files DVC 3.64 wrote (tests/fixtures/outputs/exp-set.*,
// experiments.exp-run-set.*, pipeline2.exp-run-set.*; inputs in tests/fixtures/exp_set/).
#include "dvx/experiments/set_params.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace dvx::experiments {
namespace {

std::string read(const std::string& rel) {
  std::ifstream f(std::string(DVX_FIXTURES_DIR) + "/" + rel, std::ios::binary);
  EXPECT_TRUE(f.good()) << rel;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The `-S` arguments of each recorded scratch case (record_scratch.sh), in its order.
const std::vector<std::pair<std::string, std::vector<std::string>>> k_scratch_cases = {
    {"1.lr-0-5", {"lr=0.5"}},
    {"2.train-epochs-7", {"train.epochs=7"}},
    {"3.new-key-1", {"+new_key=1"}},
    {"4.some-key", {"~some_key"}},
    {"5.list-1-2", {"list=[1,2]"}},
    {"6.lr-0-5-train-epochs-7-train-new-true", {"lr=0.5", "train.epochs=7", "+train.new=true"}},
};

void expect_scratch(const std::string& ext) {
  std::string file = "params." + ext;
  std::string input = read("exp_set/scratch/" + file);
  for (const auto& [name, overrides] : k_scratch_cases) {
    auto out = rewrite_params(input, file, overrides);
    ASSERT_TRUE(out) << name << ": " << out.error().message;
    EXPECT_EQ(*out, read("outputs/exp-set." + ext + "." + name + "." + file)) << ext << " " << name;
  }
}

TEST(SetParams, ScratchYamlMatchesDvc) { expect_scratch("yaml"); }
TEST(SetParams, ScratchJsonMatchesDvc) { expect_scratch("json"); }
TEST(SetParams, ScratchTomlMatchesDvc) { expect_scratch("toml"); }

TEST(SetParams, ExperimentsRepoMatchesDvc) {
  std::string input = read("exp_set/experiments/params.yaml");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"lr", "train.lr=0.5"},          {"nested", "train.epochs=7"}, {"add-key", "+new_key=1"},
      {"remove-key", "~train.layers"}, {"list", "train.layers=[1,2]"},
  };
  for (const auto& [name, o] : cases) {
    auto out = rewrite_params(input, "params.yaml", {o});
    ASSERT_TRUE(out) << name << ": " << out.error().message;
    EXPECT_EQ(*out, read("outputs/experiments.exp-run-set." + name + ".params.yaml")) << name;
  }
  auto json = rewrite_params(read("exp_set/experiments/params2.json"), "params2.json", {"threshold=3.5"});
  ASSERT_TRUE(json) << json.error().message;
  EXPECT_EQ(*json, read("outputs/experiments.exp-run-set.json.params2.json"));
}

TEST(SetParams, MissingKeyWithoutPlusIsDvcsError) {
  auto out = rewrite_params(read("exp_set/experiments/params.yaml"), "params.yaml", {"lr=0.5"});
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ("ERROR: " + out.error().message + "\n",
            read("outputs/experiments.exp-run-set.top-level-missing.params.yaml.stderr"));
  EXPECT_EQ(read("outputs/experiments.exp-run-set.top-level-missing.params.yaml"), "");
}

TEST(SetParams, PythonMatchesDvc) {
  auto out = rewrite_params(read("exp_set/pipeline2/params.py"), "params.py", {"SEED=8"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, read("outputs/pipeline2.exp-run-set.py.params.py"));
}

TEST(SetParams, GroupByFile) {
  auto g = group_by_file({"lr=1", "params.json:a=2", "+b.c=3", "params.json:x=a:b", "~k"});
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].first, "params.yaml");
  EXPECT_EQ(g[0].second, (std::vector<std::string>{"lr=1", "+b.c=3", "~k"}));
  EXPECT_EQ(g[1].first, "params.json");
  EXPECT_EQ(g[1].second, (std::vector<std::string>{"a=2", "x=a:b"}));
}

TEST(SetParams, TypedValues) {
  auto v = [](std::string_view t) {
    auto o = parse_override(t);
    EXPECT_TRUE(o) << t << (o ? "" : ": " + o.error().message);
    return o ? *o->value : yaml::Node::str("<error>");
  };
  EXPECT_EQ(v("a=1").kind, yaml::Node::Kind::integer);
  EXPECT_EQ(v("a=-1_000").i, -1000);
  EXPECT_EQ(v("a=1e-3").f, 0.001);
  EXPECT_EQ(v("a=.5").f, 0.5);
  EXPECT_EQ(v("a=5.").f, 5.0);
  EXPECT_EQ(v("a=inf").kind, yaml::Node::Kind::floating);
  EXPECT_EQ(v("a=True").kind, yaml::Node::Kind::boolean);
  EXPECT_TRUE(v("a=NULL").is_null());
  EXPECT_EQ(v("a=007").s, "007");
  EXPECT_EQ(v("a=2024-01-01").s, "2024-01-01");
  EXPECT_EQ(v("a='007'").s, "007");
  EXPECT_EQ(v("a=\"x, y\"").s, "x, y");
  EXPECT_EQ(v("a= hello world ").s, "hello world");
  EXPECT_EQ(v("a=").s, "");
  EXPECT_EQ(v("a=a\\,b").s, "a,b");
  EXPECT_EQ(v("a=/x/y.csv").s, "/x/y.csv");
  auto l = v("a=[1, 'b', [true], {k: 2}]");
  ASSERT_EQ(l.seq.size(), 4u);
  EXPECT_EQ(l.seq[1].s, "b");
  EXPECT_TRUE(l.seq[2].seq[0].b);
  EXPECT_EQ(l.seq[3].find("k")->i, 2);
  EXPECT_TRUE(v("a=[]").seq.empty());
  EXPECT_EQ(v("a={x: 1, y: [2]}").map.size(), 2u);
  EXPECT_EQ(v("a=int(2.7)").i, 2);
  EXPECT_EQ(v("a=str(5)").s, "5");
  EXPECT_EQ(v("a=float(1)").f, 1.0);
}

TEST(SetParams, Prefixes) {
  auto o = parse_override("++train.x=1");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->op, OverrideOp::force_add);
  EXPECT_EQ(o->key, "train.x");
  EXPECT_EQ(o->key_element, "++train.x");
  o = parse_override("+a=1");
  EXPECT_EQ(o->op, OverrideOp::add);
  o = parse_override("~a");
  EXPECT_EQ(o->op, OverrideOp::remove);
  EXPECT_FALSE(o->value);
  o = parse_override("~a=3");
  EXPECT_EQ(o->value->i, 3);
  o = parse_override("layers.0=3");
  ASSERT_TRUE(o);
  EXPECT_EQ(o->key, "layers.0");
}

TEST(SetParams, SyntaxErrors) {
  auto o = parse_override("lr=[");
  ASSERT_FALSE(o);
  EXPECT_EQ(o.error().message,
            "no viable alternative at input '['\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details");
  EXPECT_EQ(parse_override("lr").error().message,
            "Error parsing override 'lr'\nmissing EQUAL at '<EOF>'\n"
            "See https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details");
  EXPECT_EQ(parse_override("lr=x]").error().message,
            "Error parsing override 'lr=x]'\nextraneous input ']' expecting <EOF>\n"
            "See https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details");
  EXPECT_EQ(parse_override("lr=#").error().message,
            "LexerNoViableAltException: lr=#\nSee https://hydra.cc/docs/1.2/advanced/override_grammar/basic for details");
  EXPECT_FALSE(parse_override("a..b=1"));
  EXPECT_FALSE(parse_override("a='open"));
  EXPECT_FALSE(parse_override("a=nosuch(1)"));
}

TEST(SetParams, Sweeps) {
  auto o = parse_override("lr=0.1,0.2");
  ASSERT_TRUE(o);
  EXPECT_FALSE(o->value);
  EXPECT_EQ(o->sweep, (std::vector<std::string>{"0.1", "0.2"}));
  o = parse_override("n=range(1,4)");
  EXPECT_EQ(o->sweep, (std::vector<std::string>{"1", "2", "3"}));
  o = parse_override("n=choice(a, 'b c')");
  EXPECT_EQ(o->sweep, (std::vector<std::string>{"a", "b\\ c"}));

  // As DVC 3.64 queued them: strings written back with Hydra's escapes.
  auto q = expand_sweeps({"params.toml:lr=0.1,0.2", "params.toml:name=choice('a b',c)",
                          "params.toml:train.epochs=range(1,3)"});
  ASSERT_TRUE(q) << q.error().message;
  ASSERT_EQ(q->size(), 8u);
  EXPECT_EQ((*q)[1][0].second, (std::vector<std::string>{"lr=0.1", "name=a\\ b", "train.epochs=2"}));
  EXPECT_EQ((*q)[6][0].second, (std::vector<std::string>{"lr=0.2", "name=c", "train.epochs=1"}));
  auto sets = expand_sweeps({"lr=0.1,0.2", "params.json:b=x", "e=range(1,3)"});
  ASSERT_TRUE(sets) << sets.error().message;
  ASSERT_EQ(sets->size(), 4u);
  EXPECT_EQ((*sets)[0][0].second, (std::vector<std::string>{"lr=0.1", "e=1"}));
  EXPECT_EQ((*sets)[1][0].second, (std::vector<std::string>{"lr=0.1", "e=2"}));
  EXPECT_EQ((*sets)[2][0].second, (std::vector<std::string>{"lr=0.2", "e=1"}));
  EXPECT_EQ((*sets)[3][1].first, "params.json");
  EXPECT_EQ((*sets)[3][1].second, (std::vector<std::string>{"b=x"}));
  auto one = expand_sweeps({"+a=1", "~b"});
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0][0].second, (std::vector<std::string>{"+a=1", "~b"}));
}

Status apply(yaml::Node& doc, std::vector<std::string> texts) {
  std::vector<Override> os;
  for (auto& t : texts) os.push_back(*parse_override(t));
  return apply_overrides(doc, os);
}

// Each as DVC 3.64 printed it after "ERROR: " (`dvc exp run -S ...` in a scratch repo).
TEST(SetParams, HydraErrors) {
  const auto doc = *yaml::parse("lr: 0.1\nn: null\ntrain:\n  epochs: 5\n  layers: [8, 4]\n", "params.yaml");
  auto error_of = [&](const std::string& text) {
    auto d = doc;
    auto st = apply(d, {text});
    EXPECT_FALSE(st) << text;
    return st ? std::string() : st.error().message;
  };
  const std::string p = "Invalid `--set-param` value: ";
  EXPECT_EQ(error_of("a.b=1"), p + "Could not override 'a.b'.\nTo append to your config use +a.b=1: "
                                   "Key 'a' is not in struct\n    full_key: a\n    object_type=dict");
  EXPECT_EQ(error_of("lr.x=1"), p + "Could not override 'lr.x'.\nTo append to your config use +lr.x=1: "
                                    "Key 'x' is not in struct\n    full_key: lr.x\n    object_type=dict");
  EXPECT_EQ(error_of("train.foo=1"), p + "Could not override 'train.foo'.\nTo append to your config use "
                                         "+train.foo=1: Key 'foo' is not in struct\n    full_key: train.foo\n"
                                         "    object_type=dict");
  EXPECT_EQ(error_of("=1"), p + "Could not override ''.\nTo append to your config use +=1: "
                                "Key '' is not in struct\n    full_key: \n    object_type=dict");
  EXPECT_EQ(error_of("~nokey"), p + "Could not delete from config. 'nokey' does not exist.");
  EXPECT_EQ(error_of("+lr=5"), p + "Could not append to config. An item is already at 'lr'.\n"
                                   "Either remove + prefix: 'lr=5'\nOr add a second + to add or override 'lr': '++lr=5'");
  EXPECT_EQ(error_of("~lr=0.2"), p + "Could not delete from config. The value of 'lr' is 0.1 and not 0.2.");
  EXPECT_EQ(error_of("train.layers.5=5"), p + "Error merging override train.layers.5=5: list index out of range");
  EXPECT_EQ(error_of("lr=1,2"), "Sweep overrides can't be used without `--queue`");
}

TEST(SetParams, HydraRules) {
  auto doc = *yaml::parse("lr: 0.1\nn: null\ntrain:\n  epochs: 5\n  layers: [8, 4]\n", "params.yaml");
  auto d = doc;
  ASSERT_TRUE(apply(d, {"+n=3", "++lr=1", "+a.b.c=x", "train.layers.0=5", "++train=5"}));
  EXPECT_EQ(yaml::emit(d), "lr: 1\nn: 3\ntrain: 5\na:\n  b:\n    c: x\n");
  d = doc;
  ASSERT_TRUE(apply(d, {"train.layers.1=7", "~train.epochs=5", "+train.layers=[1]"}));
  EXPECT_EQ(yaml::emit(d), "lr: 0.1\nn:\ntrain:\n  layers:\n  - 1\n");
}

TEST(SetParams, YamlLayoutAsSpecified) {
  // behaviour.md §14: comments and order kept, flow lists become block lists, quotes dropped.
  std::string in =
      "# top comment\nlr: 0.1   # learning rate\nseed: 42\nname: \"quoted\"\ntrain:\n  epochs: 10  # epochs comment\n"
      "  layers: [1, 2]   # flow list\n  opt: {name: adam, beta: 0.9}\nflags:\n- a\n- b\n";
  auto out = rewrite_params(in, "params.yaml", {"lr=0.2"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out,
            "# top comment\nlr: 0.2   # learning rate\nseed: 42\nname: quoted\ntrain:\n  epochs: 10  # epochs comment\n"
            "  layers:          # flow list\n  - 1\n  - 2\n  opt: {name: adam, beta: 0.9}\nflags:\n- a\n- b\n");
  out = rewrite_params(in, "params.yaml",
                       {"+newkey=5", "+train.sub=x", "~seed", "lr=1e-3", "name=null", "train.layers=[3,4]",
                        "train.epochs=abc", "+date=2024-01-01", "+t=true", "+q='007'"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out,
            "# top comment\nlr: 0.001 # learning rate\nname:\ntrain:\n  epochs: abc # epochs comment\n"
            "  layers:          # flow list\n  - 3\n  - 4\n  opt: {name: adam, beta: 0.9}\n  sub: x\nflags:\n- a\n- b\n"
            "newkey: 5\ndate: '2024-01-01'\nt: true\nq: '007'\n");
}

// As DVC 3.64 wrote them (scratch repo): comment lines stay where they were.
TEST(SetParams, YamlCommentsAroundEdits) {
  std::string in = "# top\nlr: 0.1  # c1\n# between\nseed: 42\ntrain:\n  epochs: 5 # e\n  # trailing train\nlast: x\n";
  auto out_of = [](const std::string& text, const std::string& o, const std::string& want) {
    auto out = rewrite_params(text, "params.yaml", {o});
    ASSERT_TRUE(out) << o << ": " << out.error().message;
    EXPECT_EQ(*out, want) << o;
  };
  auto expect = [&](const std::string& o, const std::string& want) { out_of(in, o, want); };
  expect("~seed", "# top\nlr: 0.1  # c1\n# between\ntrain:\n  epochs: 5 # e\n  # trailing train\nlast: x\n");
  expect("+opt={a: 1, b: [1, 2]}",
         in + "opt:\n  a: 1\n  b:\n  - 1\n  - 2\n");
  expect("~last", "# top\nlr: 0.1  # c1\n# between\nseed: 42\ntrain:\n  epochs: 5 # e\n  # trailing train\n");
  expect("+train.new=1",
         "# top\nlr: 0.1  # c1\n# between\nseed: 42\ntrain:\n  epochs: 5 # e\n  # trailing train\n  new: 1\nlast: x\n");
  out_of("train:\n  opt: {name: adam, beta: 0.9}  # o\n", "+train.opt.c=1",
         "train:\n  opt: {name: adam, beta: 0.9, c: 1} # o\n");
  expect("lr=0.123456789012",
         "# top\nlr: 0.123456789012 # c1\n# between\nseed: 42\ntrain:\n  epochs: 5 # e\n  # trailing train\nlast: x\n");
}

TEST(SetParams, JsonPrettyBecomesOneLine) {
  auto out = rewrite_params("{\n  \"alpha\": 1,\n  \"nested\": {\"x\": [1, 2], \"y\": \"s\"}\n}\n", "other.json",
                            {"alpha=2"});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "{\"alpha\": 2, \"nested\": {\"x\": [1, 2], \"y\": \"s\"}}");
}

TEST(SetParams, TomlEdits) {
  std::string in = "title = 'x'\ndepth = 3  # inline\narr = [\n  1,\n  2,\n]\n\n[a]\nb = 1\n\n[a.c]\nd = \"q\"\n";
  auto out = rewrite_params(in, "p.toml", {"depth=4", "arr=[5]", "a.c.d=r", "+a.e=2", "~a.b"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "title = \"x\"\ndepth = 4  # inline\narr = [5]\n\n[a]\ne = 2\n\n[a.c]\nd = \"r\"\n");
  EXPECT_FALSE(rewrite_params("a = 1\n", "p.toml", {"a=null"}));
  out = rewrite_params("a = 1", "p.toml", {"+b='x y'", "+t.k=[1]"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "a = 1\nb = \"x y\"\n\n[t]\nk = [1]");
  // DVC's _update_lines writes str() of the value over " = <str() of the old one>": a changed
  // string is not found on its line ("abc" is quoted there) and is left as it was.
  out = rewrite_params("SEED = 7\nNAME = \"abc\"\nFLAG = True\n", "p.py", {"NAME=xyz", "FLAG=false", "SEED=1.5"});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "SEED = 1.5\nNAME = \"abc\"\nFLAG = False\n");
  // As DVC 3.64 (tomlkit) writes them: a new sub-table after its parent, a removed table's blank line kept.
  std::string doc = "# c\nlr = 0.1  # learning rate\nname = \"x\"\n\n[train]\nepochs = 5\n";
  out = rewrite_params(doc, "params.toml", {"+train.sub.x=1"});
  EXPECT_EQ(*out, "# c\nlr = 0.1  # learning rate\nname = \"x\"\n\n[train]\nepochs = 5\n\n[train.sub]\nx = 1\n");
  out = rewrite_params(doc, "params.toml", {"+opt.lr=1"});
  EXPECT_EQ(*out, "# c\nlr = 0.1  # learning rate\nname = \"x\"\n\n[train]\nepochs = 5\n\n[opt]\nlr = 1\n");
  out = rewrite_params(doc, "params.toml", {"~train"});
  EXPECT_EQ(*out, "# c\nlr = 0.1  # learning rate\nname = \"x\"\n\n");
  doc = "# head\n\n[a]\nopt = {x = 1, y = \"s\"}\nb.c = 2\n";
  out = rewrite_params(doc, "params.toml", {"+top=1", "a.opt.x=2", "a.b.c=3"});
  EXPECT_EQ(*out, "# head\ntop = 1\n\n[a]\nopt = {x = 2, y = \"s\"}\nb.c = 3\n");
  out = rewrite_params(doc, "params.toml", {"+a.opt.z=1", "+a.opt.w=[1]"});
  EXPECT_EQ(*out, "# head\n\n[a]\nopt = {x = 1, y = \"s\",z = 1,w = [1]}\nb.c = 2\n");
  out = rewrite_params("", "new.toml", {"+a=1.5"});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "a = 1.5\n");
}

TEST(SetParams, MissingFileFailsLikeMissingKey) {
  auto out = rewrite_params("", "missing.yaml", {"a=1"});
  ASSERT_FALSE(out);
  EXPECT_NE(out.error().message.find("Could not override 'a'."), std::string::npos);
  out = rewrite_params("", "new.yaml", {"+a=1"});
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "a: 1\n");
}

}  // namespace
}  // namespace dvx::experiments
