#include "dvx/formats/yaml.h"

#include <gtest/gtest.h>

#include <cmath>

#include "dvx/formats/py_float.h"
#include "fixture_util.h"

namespace dvx::yaml {
namespace {

using formats::py_float_repr;

Node must_parse(std::string_view text) {
  auto r = parse(text, "t.yaml");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : Node{};
}

TEST(PyFloat, Repr) {
  EXPECT_EQ(py_float_repr(0.1), "0.1");
  EXPECT_EQ(py_float_repr(3.0), "3.0");
  EXPECT_EQ(py_float_repr(1e-07), "1e-07");
  EXPECT_EQ(py_float_repr(1e20), "1e+20");
  EXPECT_EQ(py_float_repr(1.5e300), "1.5e+300");
  EXPECT_EQ(py_float_repr(1e16), "1e+16");
  EXPECT_EQ(py_float_repr(1e15), "1000000000000000.0");
  EXPECT_EQ(py_float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(py_float_repr(0.0001), "0.0001");
  EXPECT_EQ(py_float_repr(0.00001), "1e-05");
  EXPECT_EQ(py_float_repr(0.15000000000000002), "0.15000000000000002");
  EXPECT_EQ(py_float_repr(-2.5), "-2.5");
  EXPECT_EQ(py_float_repr(0.0), "0.0");
  EXPECT_EQ(py_float_repr(-0.0), "-0.0");
  EXPECT_EQ(py_float_repr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(py_float_repr(5e-324), "5e-324");
  EXPECT_EQ(float_text(HUGE_VAL), ".inf");
  EXPECT_EQ(float_text(-HUGE_VAL), "-.inf");
  EXPECT_EQ(float_text(std::nan("")), ".nan");
  EXPECT_EQ(float_text(0.25), "0.25");
}

TEST(YamlParse, CoreSchema) {
  Node d = must_parse(
      "a: yes\nb: no\nc: on\nd: off\ne: true\nf: True\ng: TRUE\nh: ~\ni: null\nj: Null\n"
      "k: 1e3\nl: .5\nm: 0x10\nn: 0o10\no: 010\np: 1_000\nq: .inf\nr: -.inf\ns: .NaN\n"
      "t: '123'\nu: \"true\"\nv:\nw: 2001-01-01\nx: 1.0.0\ny: -3\nz: NaN\n");
  ASSERT_TRUE(d.is_mapping());
  auto k = [&](const char* key) { return *d.find(key); };
  EXPECT_EQ(k("a").kind, Node::Kind::string);
  EXPECT_EQ(k("a").s, "yes");
  EXPECT_EQ(k("d").s, "off");
  EXPECT_EQ(k("e").kind, Node::Kind::boolean);
  EXPECT_TRUE(k("f").b);
  EXPECT_TRUE(k("g").b);
  EXPECT_TRUE(k("h").is_null());
  EXPECT_TRUE(k("i").is_null());
  EXPECT_TRUE(k("j").is_null());
  EXPECT_EQ(k("k").kind, Node::Kind::floating);
  EXPECT_EQ(k("k").f, 1000.0);
  EXPECT_EQ(k("l").f, 0.5);
  EXPECT_EQ(k("m").i, 16);
  EXPECT_EQ(k("n").i, 8);
  EXPECT_EQ(k("o").i, 10);
  EXPECT_EQ(k("p").i, 1000);
  EXPECT_TRUE(std::isinf(k("q").f));
  EXPECT_LT(k("r").f, 0);
  EXPECT_TRUE(std::isnan(k("s").f));
  EXPECT_EQ(k("t").kind, Node::Kind::string);
  EXPECT_EQ(k("u").kind, Node::Kind::string);
  EXPECT_TRUE(k("v").is_null());
  EXPECT_EQ(k("w").kind, Node::Kind::string);
  EXPECT_TRUE(k("w").timestamp);
  EXPECT_EQ(k("x").s, "1.0.0");
  EXPECT_EQ(k("y").i, -3);
  EXPECT_EQ(k("z").kind, Node::Kind::string);
}

TEST(YamlParse, OrderAndPositions) {
  Node d = must_parse("z: 1\na:\n  - x\n  - y: 2\nm: {q: 1}\n");
  ASSERT_EQ(d.map.size(), 3u);
  EXPECT_EQ(d.map[0].first, "z");
  EXPECT_EQ(d.map[1].first, "a");
  EXPECT_EQ(d.map[2].first, "m");
  const Node& a = *d.find("a");
  ASSERT_TRUE(a.is_sequence());
  EXPECT_EQ(a.seq[0].line, 3);
  EXPECT_EQ(a.seq[0].column, 5);
  EXPECT_EQ(a.seq[1].find("y")->line, 4);
  EXPECT_TRUE(d.find("m")->flow);
}

TEST(YamlParse, EmptyDocumentIsNull) {
  EXPECT_TRUE(must_parse("").is_null());
  EXPECT_TRUE(must_parse("# just a comment\n").is_null());
}

TEST(YamlParse, Errors) {
  auto dup = parse("a: 1\nb: 2\na: 3\n", "x.yaml");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "'x.yaml':3:1: duplicate key 'a'");
  auto bad = parse("a: [1, 2\n", "x.yaml");
  ASSERT_FALSE(bad);
  EXPECT_TRUE(bad.error().message.starts_with("'x.yaml':")) << bad.error().message;
  auto two = parse("a: 1\n---\nb: 2\n", "x.yaml");
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().message.find("single document"), std::string::npos);
}

TEST(YamlParse, Aliases) {
  Node d = must_parse("a: &x {k: v}\nb: *x\n");
  EXPECT_EQ(d.find("b")->find("k")->s, "v");
}

// formats.md §1, every row of the quoting table.
TEST(YamlEmit, QuotingTable) {
  for (const char* s : {"2.0", "123", "1e3", "0x1F", "0o17", "0123", "+1", ".5", "1_000", "0b101",
                        ".nan", ".inf", "true", "True", "null", "~", "2001-01-01"})
    EXPECT_EQ(quote_scalar(s), std::string("'") + s + "'") << s;
  for (const char* s : {"yes", "no", "on", "off", "NaN"}) EXPECT_EQ(quote_scalar(s), s);
  for (const char* s : {"a: b", "a #b", "x:", "#x", "- x", "? x", "*x", "&x", "!x", "@x", "`x", "%x",
                        "{x}", "[x]", "|x", ">x", " lead", "trail ", ""})
    EXPECT_EQ(quote_scalar(s), std::string("'") + s + "'") << s;
  for (const char* s : {"a:b", "a#b", "-x", "?x", "x,y", "x'y", "=x", "data/file.csv", "C:\\path",
                        "1.0.0", "\xc3\xa9"})
    EXPECT_EQ(quote_scalar(s), s) << s;
  EXPECT_EQ(quote_scalar("'q'"), "\"'q'\"");
  EXPECT_EQ(quote_scalar("\"d\""), "'\"d\"'");
  EXPECT_EQ(quote_scalar("a\tb"), "\"a\\tb\"");
  EXPECT_EQ(quote_scalar("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(quote_scalar("a\x01"), "\"a\\x01\"");
  EXPECT_EQ(quote_scalar("it's: x"), "\"it's: x\"");
  EXPECT_EQ(quote_scalar("#a'b"), "\"#a'b\"");
  EXPECT_EQ(quote_scalar("- a b"), "'- a b'");
}

TEST(YamlEmit, Scalars) {
  Node d = Node::mapping();
  d.set("n", Node::null());
  d.set("t", Node::boolean(true));
  d.set("i", Node::integer(-42));
  d.set("f", Node::floating(1e-07));
  d.set("g", Node::floating(3.0));
  d.set("inf", Node::floating(HUGE_VAL));
  d.set("s", Node::str("na\xc3\xafve caf\xc3\xa9"));
  d.set("q", Node::str("2.0"));
  d.set("em", Node::mapping());
  d.set("el", Node::sequence());
  Node l = Node::sequence();
  l.push_back(Node::null());
  l.push_back(Node::str("x"));
  d.set("l", l);
  EXPECT_EQ(emit(d),
            "n:\nt: true\ni: -42\nf: 1e-07\ng: 3.0\ninf: .inf\ns: na\xc3\xafve caf\xc3\xa9\nq: '2.0'\n"
            "em: {}\nel: []\nl:\n-\n- x\n");
}

TEST(YamlEmit, BlockLayout) {
  Node d = must_parse(
      "outs:\n- md5: abc\n  size: 6\n  labels:\n  - cnn\n  meta:\n    owner: ml\n- path: b\n"
      "nested:\n- - a\n  - b\n- - c\ntop:\n  k: [1, 2]\n");
  EXPECT_EQ(emit(d),
            "outs:\n- md5: abc\n  size: 6\n  labels:\n  - cnn\n  meta:\n    owner: ml\n- path: b\n"
            "nested:\n- - a\n  - b\n- - c\ntop:\n  k: [1, 2]\n");
}

TEST(YamlEmit, FoldingLongPlainScalars) {
  Node d = Node::mapping();
  Node stages = Node::mapping();
  Node st = Node::mapping();
  st.set("cmd", Node::str("echo aaaaaaaaaa bbbbbbbbbbbb cccccccccccc dddddddddddd eeeeeeeeeeee "
                          "ffffffffffff gggggggggggg hhhhhhhhh > long.txt"));
  stages.set("long", st);
  d.set("stages", stages);
  EXPECT_EQ(emit(d),
            "stages:\n  long:\n    cmd: echo aaaaaaaaaa bbbbbbbbbbbb cccccccccccc dddddddddddd "
            "eeeeeeeeeeee ffffffffffff\n      gggggggggggg hhhhhhhhh > long.txt\n");
  // Reading folds back with single spaces.
  Node back = must_parse(emit(d));
  EXPECT_EQ(back.find("stages")->find("long")->find("cmd")->s, st.find("cmd")->s);
  // Keys are never folded; a sequence item continues 2 columns after its dash.
  Node l = Node::sequence();
  std::string words;
  for (int k = 0; k < 20; ++k) words += "word" + std::to_string(k) + " ";
  words += "end";
  l.push_back(Node::str(words));
  std::string out = emit(l);
  EXPECT_EQ(out,
            "- word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n"
            "  word13 word14 word15 word16 word17 word18 word19 end\n");
  EXPECT_EQ(must_parse(out).seq[0].s, words);
}

TEST(YamlEmit, FoldingQuotedScalars) {
  Node d = Node::mapping();
  std::string s = "#";
  for (int k = 0; k < 20; ++k) s += " word" + std::to_string(k);
  d.set("k", Node::str(s));
  std::string out = emit(d);
  EXPECT_EQ(out,
            "k: '# word0 word1 word2 word3 word4 word5 word6 word7 word8 word9 word10 word11 word12\n"
            "  word13 word14 word15 word16 word17 word18 word19'\n");
  EXPECT_EQ(must_parse(out).find("k")->s, s);
  std::string t = "tab\t";
  for (int k = 0; k < 20; ++k) t += " word" + std::to_string(k);
  d.set("k", Node::str(t));
  out = emit(d);
  EXPECT_EQ(must_parse(out).find("k")->s, t) << out;
}

TEST(YamlEmit, RoundTripKeepsNumberText) {
  Node d = must_parse("a: 0x1F\nb: 1_000\nc: 1.50\nd: 1e3\ne: 010\n");
  EXPECT_EQ(emit(d), "a: 0x1F\nb: 1_000\nc: 1.50\nd: 1e3\ne: 10\n");
  d.find("c")->f = 2.5;  // changed value: canonical form
  EXPECT_NE(emit(d).find("c: 2.5\n"), std::string::npos);
}

TEST(YamlApplyDiff, KeepsOrderAppendsAndRemoves) {
  Node target = must_parse("outs:\n- md5: aaa\n  size: 1\n  path: x\n");
  Node src = must_parse("outs:\n- md5: bbb\n  hash: md5\n  path: x\n  size: 2\n");
  apply_diff(src, target);
  EXPECT_EQ(emit(target), "outs:\n- md5: bbb\n  size: 2\n  path: x\n  hash: md5\n");
}

// The dvc.lock files and run-cache entries written by DVC re-emit byte for byte.
TEST(YamlFixtures, LockFilesAndRunCacheRoundTrip) {
  auto& fx = test::Fixtures::get();
  int count = 0;
  for (const char* name : {"basic", "pipeline", "experiments", "legacy-remote"}) {
    auto root = fx.root(name);
    ASSERT_FALSE(root.empty()) << name;
    auto files = test::Fixtures::files(root, [](const std::filesystem::path& p) {
      return p.filename() == "dvc.lock" || p.extension() == ".dvc" ||
             p.string().find("/cache/runs/") != std::string::npos;
    });
    for (const auto& p : files) {
      std::string text = test::Fixtures::read(p);
      auto doc = parse(text, p.filename().string());
      ASSERT_TRUE(doc) << doc.error().message;
      EXPECT_EQ(emit(*doc), text) << p;
      ++count;
    }
  }
  EXPECT_GE(count, 10);
}

TEST(YamlFixtures, FoldedCmdInPipelineLock) {
  auto root = test::Fixtures::get().root("pipeline");
  std::string text = test::Fixtures::read(root / "repo" / "dvc.lock");
  auto doc = parse(text, "dvc.lock");
  ASSERT_TRUE(doc);
  const Node* cmd = doc->find("stages")->find("prepare")->find("cmd");
  EXPECT_EQ(cmd->s,
            "python3 src/prepare.py data/raw.csv data/prepared --split 0.25 --seed 20240102 "
            "--shuffle true");
  EXPECT_EQ(cmd->line, 4);
  // Rebuilt from plain values (no source text kept), the lock file is still identical.
  Node rebuilt = *doc;
  std::function<void(Node&)> strip = [&](Node& n) {
    if (n.kind == Node::Kind::integer || n.kind == Node::Kind::floating) n.s.clear();
    n.line = n.column = 0;
    for (auto& c : n.seq) strip(c);
    for (auto& [k, v] : n.map) strip(v);
  };
  strip(rebuilt);
  EXPECT_EQ(emit(rebuilt), text);
}

// params.yaml rewritten by ruamel in `dvc exp run -S` (experiments fixture): identical apart from
// the leading comment, which this reader does not keep.
TEST(YamlFixtures, RuamelRewrittenParamsFile) {
  auto root = test::Fixtures::get().root("experiments");
  std::string text = test::Fixtures::read(root / "repo" / "params.yaml");
  ASSERT_TRUE(text.starts_with("#"));
  std::string body = text.substr(text.find('\n') + 1);
  auto doc = parse(text, "params.yaml");
  ASSERT_TRUE(doc);
  EXPECT_EQ(emit(*doc), body);
}

TEST(YamlEmit, FoldingCountsCodePointsNotBytes) {
  // 12 two-byte characters per word: byte counting would fold much earlier.
  std::string word;
  for (int k = 0; k < 12; ++k) word += "\xc3\xa9";
  std::string v;
  for (int k = 0; k < 8; ++k) v += (k ? " " : "") + word;
  Node d = Node::mapping();
  d.set("k", Node::str(v));
  // After 6 words the column is 80, not beyond 80, so the 7th word still goes on the first line.
  std::string line1 = "k:";
  for (int k = 0; k < 7; ++k) line1 += " " + word;
  EXPECT_EQ(emit(d), line1 + "\n  " + word + "\n");
}

TEST(YamlEmit, KeysAreQuotedLikeValues) {
  Node d = Node::mapping();
  d.set("2.0", Node::integer(1));
  d.set("a: b", Node::integer(2));
  d.set("report@txt", Node::integer(3));
  d.set("", Node::integer(4));
  EXPECT_EQ(emit(d), "'2.0': 1\n'a: b': 2\nreport@txt: 3\n'': 4\n");
  Node back = must_parse(emit(d));
  EXPECT_EQ(back.map[0].first, "2.0");
  EXPECT_EQ(back.map[3].first, "");
}

}  // namespace
}  // namespace dvx::yaml

TEST(YamlEmit, FlowMappingEntriesOneSpaceApart) {
  auto d = dvx::yaml::parse("opt: {name: adam, beta: 0.9, c: [1, 2]}\n", "f.yaml");
  ASSERT_TRUE(d);
  EXPECT_EQ(dvx::yaml::emit(*d), "opt: {name: adam, beta: 0.9, c: [1, 2]}\n");
}
