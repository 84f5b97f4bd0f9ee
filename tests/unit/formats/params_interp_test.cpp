// Params files in every format DVC reads (YAML, JSON, TOML, Python parsed without running it),
// dotted lookups, limits on hostile input, and `${}` interpolation with DVC's rules and words.
#include <gtest/gtest.h>

#include "dvx/formats/interpolate.h"
#include "dvx/formats/params.h"

namespace dvx::formats {
namespace {

using yaml::Node;

Node parse_ok(std::string_view text, ParamsFormat f) {
  auto r = parse_params(text, "p", f);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : Node::null();
}

TEST(Params, FormatByExtension) {
  EXPECT_EQ(params_format("a/params.JSON"), ParamsFormat::json);
  EXPECT_EQ(params_format("p.toml"), ParamsFormat::toml);
  EXPECT_EQ(params_format("p.py"), ParamsFormat::python);
  EXPECT_EQ(params_format("p.yml"), ParamsFormat::yaml);
  EXPECT_EQ(params_format("noext"), ParamsFormat::yaml);
}

TEST(Params, YamlJsonTomlGiveTheSameTree) {
  Node y = parse_ok("train:\n  lr: 0.1\n  epochs: 5\n  layers: [8, 4]\nname: x\nflag: true\n", ParamsFormat::yaml);
  Node j = parse_ok(R"({"train": {"lr": 0.1, "epochs": 5, "layers": [8, 4]}, "name": "x", "flag": true})",
                    ParamsFormat::json);
  Node t = parse_ok("name = \"x\"\nflag = true\n[train]\nlr = 0.1\nepochs = 5\nlayers = [8, 4]\n", ParamsFormat::toml);
  EXPECT_TRUE(yaml::equal(y, j));
  EXPECT_TRUE(yaml::equal(y, t));
  EXPECT_EQ(find_dotted(y, "train.epochs")->i, 5);
  EXPECT_EQ(find_dotted(j, "train.layers.1")->i, 4);
  EXPECT_EQ(find_dotted(t, "train.lr")->f, 0.1);
  EXPECT_EQ(find_dotted(y, "train.missing"), nullptr);
  EXPECT_EQ(find_dotted(y, "name.x"), nullptr);
  // JSON keeps the document's key order.
  EXPECT_EQ(j.map[0].first, "train");
  // Empty documents are empty mappings.
  EXPECT_TRUE(parse_ok("", ParamsFormat::yaml).is_mapping());
  EXPECT_TRUE(parse_ok("null", ParamsFormat::json).is_mapping());
}

// toml++ 3.3 reaches an unreachable point when it tests some non-ASCII characters for whitespace,
// which it does while reading any token to its end: such input is refused before toml++, and
// non-ASCII text where TOML allows it still reads.
TEST(Params, TomlNonAsciiOnlyWhereTomlAllowsIt) {
  Node t = parse_ok("x = \"caf\u00e9\"\na.\"\u042c\" = 1 # \u042c\n[t.\"\u00e9\"]\ny = { \"\u00fc\" = 2, b.\"\u00e0\" = 3 }\n"
                    "z = [\n  '\u0416',\n  \"\"\"\u0416\n\"\"\"\n]\n",
                    ParamsFormat::toml);
  EXPECT_EQ(find_dotted(t, "x")->s, "caf\u00e9");
  EXPECT_EQ(find_dotted(t, "a.\u042c")->i, 1);
  EXPECT_EQ(find_dotted(t, "t.\u00e9.y.\u00fc")->i, 2);
  EXPECT_EQ(find_dotted(t, "t.\u00e9.y.b.\u00e0")->i, 3);
  for (const char* bad : {"b =+++2.\"eee+++++:\u042c\n",  // found by the fuzzer: a quote inside a bad number
                          "b = 2.\"\u042c\"\n", "b = x\u042c\n", "b = \"open \u042c\n", "\u042c = 1\n",
                          "b = [1, 2.'\u042c']\n"}) {
    auto r = parse_params(bad, "p.toml", ParamsFormat::toml);
    ASSERT_FALSE(r) << bad;
    EXPECT_NE(r.error().message.find("p.toml"), std::string::npos) << r.error().message;
  }
}

TEST(Params, PythonIsParsedNeverRun) {
  Node p = parse_ok(
      "# comment\nimport os\nSEED = 7\nLR: float = 1e-3\nNAME = 'a' \"b\"\nON = True\nNONE = None\n"
      "X = os.getenv('HOME')\nLIST = [1, (2, 3), {'k': -4}]\n\nclass Eval:\n    window = 3\n"
      "    def __init__(self):\n        self.depth = 2\n        print('never')\n\nAFTER = 1\n",
      ParamsFormat::python);
  EXPECT_EQ(find_dotted(p, "SEED")->i, 7);
  EXPECT_EQ(find_dotted(p, "LR")->f, 1e-3);
  EXPECT_EQ(find_dotted(p, "NAME")->s, "ab");
  EXPECT_TRUE(find_dotted(p, "ON")->b);
  EXPECT_TRUE(find_dotted(p, "NONE")->is_null());
  EXPECT_EQ(find_dotted(p, "X"), nullptr);  // not a literal: ignored
  EXPECT_EQ(find_dotted(p, "LIST.1.0")->i, 2);
  EXPECT_EQ(find_dotted(p, "LIST.2.k")->i, -4);
  EXPECT_EQ(find_dotted(p, "Eval.window")->i, 3);
  EXPECT_EQ(find_dotted(p, "Eval.depth")->i, 2);
  EXPECT_EQ(find_dotted(p, "AFTER")->i, 1);
}

TEST(Params, BrokenAndHostileInputIsAClearError) {
  auto j = parse_params("{\"a\": [1, 2", "params.json", ParamsFormat::json);
  ASSERT_FALSE(j);
  EXPECT_NE(j.error().message.find("unable to read: 'params.json', JSON file structure is corrupted"), std::string::npos);
  auto t = parse_params("[a\nb = ", "params.toml", ParamsFormat::toml);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("TOML file structure is corrupted"), std::string::npos);
  EXPECT_NE(t.error().message.find("'params.toml':1:"), std::string::npos);
  auto y = parse_params("a: [1\n", "params.yaml", ParamsFormat::yaml);
  ASSERT_FALSE(y);
  EXPECT_NE(y.error().message.find("YAML file structure is corrupted"), std::string::npos);
  auto u = parse_params("a: \xff\n", "params.yaml", ParamsFormat::yaml);
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "unable to read: 'params.yaml', is not valid utf-8");
  std::string deep(200000, '[');
  for (auto f : {ParamsFormat::json, ParamsFormat::toml, ParamsFormat::python}) {
    std::string text = f == ParamsFormat::toml ? "a = " + deep : f == ParamsFormat::python ? "A = " + deep : deep;
    auto r = parse_params(text, "deep", f);
    if (f == ParamsFormat::python) {
      // Python: a non-literal is ignored, a too-deep literal is an error; either way no crash.
      if (r) EXPECT_EQ(find_dotted(*r, "A"), nullptr);
    } else {
      EXPECT_FALSE(r);
    }
  }
}

Context context_of(const char* yaml_text) {
  Context c;
  auto doc = yaml::parse(yaml_text, "params.yaml");
  EXPECT_TRUE(doc);
  EXPECT_TRUE(c.merge(*doc, "params.yaml"));
  return c;
}

std::string text_of(const Result<Node>& r) { return r ? (r->is_string() ? r->s : "<" + std::string(Node::kind_name(r->kind)) + ">") : "ERR:" + r.error().message; }

TEST(Interpolate, TypesTextAndPaths) {
  Context c = context_of("lr: 0.1\nsmall: 1.0e-05\nn: 10\nok: true\nnone: null\nname: m\n"
                         "train: {layers: [8, 4], opt: {name: sgd}}\n");
  auto whole = resolve(Node::str("${n}"), c, false);
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->kind, Node::Kind::integer);  // a whole `${}` keeps the type
  auto list = resolve(Node::str("${train.layers}"), c, false);
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->is_sequence());
  EXPECT_EQ(text_of(resolve(Node::str("lr=${lr} s=${small} n=${n} ok=${ok} none=${none}"), c, false)),
            "lr=0.1 s=1e-05 n=10 ok=true none=None");
  EXPECT_EQ(text_of(resolve(Node::str("${train.layers[1]}-${train.opt.name}"), c, false)), "4-sgd");
  EXPECT_EQ(text_of(resolve(Node::str("keep \\${lr} and ${name}"), c, false)), "keep ${lr} and m");
  EXPECT_EQ(text_of(resolve(Node::str("x ${nope.deeper}"), c, false)), "ERR:Could not find 'nope.deeper'");
  EXPECT_EQ(text_of(resolve(Node::str("x ${train}"), c, false)), "ERR:Cannot interpolate data of type 'dict'");
  EXPECT_EQ(text_of(resolve(Node::str("x ${train.layers}"), c, false)), "ERR:Cannot interpolate data of type 'list'");
  // Nested values are resolved inside lists and mappings.
  Node seq = Node::sequence();
  seq.push_back(Node::str("out/${name}.txt"));
  auto r = resolve(seq, c, false);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->seq[0].s, "out/m.txt");
}

TEST(Interpolate, DictsBecomeFlagsInCmd) {
  Context c = context_of("args: {epochs: 5, name: 'a b', verbose: true, quiet: false, layers: [1, 2]}\n");
  EXPECT_EQ(text_of(resolve(Node::str("train ${args}"), c, true)),
            "train --epochs 5 --name 'a b' --verbose --layers 1 2");
  FlagStyle f;
  f.bool_optional = true;
  f.list_append = true;
  EXPECT_EQ(text_of(resolve(Node::str("train ${args}"), c, true, f)),
            "train --epochs 5 --name 'a b' --verbose --no-quiet --layers 1 --layers 2");
}

TEST(Interpolate, VarsFilesKeysAndRedefinition) {
  Context c = context_of("a: 1\nm: {x: 1}\n");
  VarsLoader load = [](const std::string& path) -> Result<Node> {
    if (path == "other.yaml") return *yaml::parse("b: 2\nc: 3\nm: {y: 2}\n", path);
    if (path == "clash.yaml") return *yaml::parse("a: 5\n", path);
    return fail(ErrorCode::not_found, "no such file");
  };
  ASSERT_TRUE(c.load_vars_item(Node::str("other.yaml:b,m"), load));
  EXPECT_EQ(c.lookup("b")->i, 2);
  EXPECT_EQ(c.lookup("c"), nullptr);     // not imported
  EXPECT_EQ(c.lookup("m.x")->i, 1);      // maps merge
  EXPECT_EQ(c.lookup("m.y")->i, 2);
  auto clash = c.load_vars_item(Node::str("clash.yaml"), load);
  ASSERT_FALSE(clash);
  EXPECT_EQ(clash.error().message, "cannot redefine 'a' from 'clash.yaml' as it already exists in 'params.yaml'");
  auto missing = c.load_vars_item(Node::str("gone.yaml"), load);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  EXPECT_TRUE(has_interpolation("a ${b}"));
  EXPECT_FALSE(has_interpolation("a \\${b}"));
  EXPECT_FALSE(has_interpolation("a $b"));
}

}  // namespace
}  // namespace dvx::formats
