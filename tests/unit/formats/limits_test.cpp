// Hostile documents: alias bombs, deep nesting and long flow collections end in a clear error
// naming the file and the line, within the limits of formats/limits.h.
#include "dvx/formats/limits.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "dvx/formats/ini.h"
#include "dvx/formats/manifest.h"
#include "dvx/formats/yaml.h"

namespace dvx::formats {
namespace {

// "Billion laughs": level i is a list of 9 aliases of level i-1; 9^levels strings once expanded.
std::string laughs(int levels) {
  std::string doc = "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n";
  for (int i = 1; i < levels; ++i) {
    doc += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int k = 0; k < 9; ++k) doc += (k ? ", *a" : "*a") + std::to_string(i - 1);
    doc += "]\n";
  }
  return doc;
}

TEST(ParseBudget, CountsAndNamesTheLimit) {
  ParseBudget b(ParseLimits{10, 3, 100, 1000});
  EXPECT_TRUE(b.charge(10, 100));
  EXPECT_FALSE(b.charge(1, 0));
  EXPECT_EQ(b.reason(), "document too large: more than 10 nodes once aliases are expanded");
  ParseBudget d(ParseLimits{10, 3, 100, 1000});
  EXPECT_TRUE(d.enter(3));
  EXPECT_FALSE(d.enter(4));
  EXPECT_EQ(d.reason(), "document nested too deeply: more than 3 levels");
  ParseBudget s(ParseLimits{10, 3, 100, 1000});
  EXPECT_FALSE(s.charge(1, 101));
  EXPECT_FALSE(s.input(5));  // stays failed
}

TEST(YamlLimits, BillionLaughsStopsEarly) {
  auto start = std::chrono::steady_clock::now();
  auto r = yaml::parse(laughs(9), "bomb.dvc");
  ASSERT_FALSE(r);
  // Level 5 (line 6: 9^6 nodes, and as many again for its anchor's copy) is the first past a
  // million.
  EXPECT_EQ(r.error().message,
            "'bomb.dvc':6:5: document too large: more than 1000000 nodes once aliases are expanded");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(YamlLimits, AliasesWithinTheLimitsExpand) {
  auto r = yaml::parse(laughs(3), "ok.yaml");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->find("a2")->seq.size(), 9u);
  EXPECT_EQ(r->find("a2")->seq[8].seq[8].seq[8].s, "lol");
}

TEST(YamlLimits, NodesCountedExactlyWithAliases) {
  // root map 1 + key 1 + list 1 + 3 scalars = 6, anchor copy 4, key 1, alias 4 = 15.
  const char* doc = "a: &x [1, 2, 3]\nb: *x\n";
  EXPECT_TRUE(yaml::parse(doc, "t.yaml", ParseLimits{15, 64, 1 << 20, 1 << 20}));
  auto r = yaml::parse(doc, "t.yaml", ParseLimits{14, 64, 1 << 20, 1 << 20});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "'t.yaml':2:4: document too large: more than 14 nodes once aliases are expanded");
}

TEST(YamlLimits, ExpandedBytesCounted) {
  std::string big(1000, 'x');
  std::string doc = "a: &x " + big + "\nb: [*x, *x, *x]\n";
  EXPECT_TRUE(yaml::parse(doc, "t.yaml", ParseLimits{100, 64, 5100, 1 << 20}));
  auto r = yaml::parse(doc, "t.yaml", ParseLimits{100, 64, 4000, 1 << 20});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("'t.yaml':2:"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("bytes of text once aliases are expanded"), std::string::npos);
}

TEST(YamlLimits, DepthSixtyFourIsTheLimit) {
  std::string ok = std::string(63, '[') + std::string(63, ']');
  EXPECT_TRUE(yaml::parse("a: " + ok + "\n", "t.yaml"));  // the mapping is level 1
  std::string deep = std::string(64, '[') + std::string(64, ']');
  auto r = yaml::parse("a: " + deep + "\n", "t.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "'t.yaml':1:67: document nested too deeply: more than 64 levels");
  // Block nesting too.
  std::string block;
  for (int i = 0; i < 100; ++i) block += std::string(i, ' ') + "k:\n";
  auto b = yaml::parse(block, "b.yaml");
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().message, "'b.yaml':65:65: document nested too deeply: more than 64 levels");
}

TEST(YamlLimits, HugeFlowNestingFailsInBoundedWork) {
  // yaml-cpp keeps every token of a flow collection until it closes: without the read-ahead
  // bound these take gigabytes.
  for (std::string doc : {"outs: " + std::string(5'000'000, '['), "outs: [" + std::string(3'000'000, '1') + "]",
                          "outs: [[" + [] {
                            std::string s;
                            for (int i = 0; i < 1'000'000; ++i) s += "1,\n";
                            return s;
                          }() + "1]]"}) {
    auto r = yaml::parse(doc, "deep.dvc");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().message,
              "'deep.dvc':1:7: document too complex: a flow collection or scalar longer than 1048576 bytes");
  }
}

TEST(YamlLimits, InputSize) {
  auto r = yaml::parse(std::string(2000, '#'), "t.yaml", ParseLimits{100, 64, 1000, 1 << 20});
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "'t.yaml':1:1: file too large: more than 1000 bytes");
}

TEST(YamlLimits, SecondDocumentNotReadWhole) {
  auto r = yaml::parse("a: 1\n---\n" + std::string(5'000'000, '['), "t.yaml");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "'t.yaml':1:4: document too complex: a flow collection or scalar longer than 1048576 bytes");
  auto two = yaml::parse("a: 1\n---\nb: 2\n", "t.yaml");
  ASSERT_FALSE(two);
  EXPECT_NE(two.error().message.find("expected a single document"), std::string::npos);
}

TEST(IniLimits, DeepSectionOpenersFailFast) {
  auto start = std::chrono::steady_clock::now();
  std::string text = "[core]\n    a = 1\n" + std::string(1'000'000, '[') + "x" + std::string(1'000'000, ']') + "\n";
  auto r = parse_ini(text, ".dvc/config");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "config file error: '.dvc/config':3: document nested too deeply: more than 64 levels");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(IniLimits, LongSectionLinesStayLinear) {
  // Many candidate ends of the section name: each used to rescan the rest of the line.
  auto start = std::chrono::steady_clock::now();
  std::string line = "[a";
  for (int i = 0; i < 200'000; ++i) line += " ]";
  line += " x\n";
  auto r = parse_ini(line, "c");
  ASSERT_FALSE(r);
  std::string quoted = "['" + std::string(200'000, '\'') + "\n";
  EXPECT_FALSE(parse_ini(quoted, "c"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // The same rules as before on ordinary headers.
  auto ok = parse_ini("[ 'remote \"a\"' ] # c\n    url = x\n[core ]\n    b = 1\n", "c");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->sections[0].name, "remote \"a\"");
  EXPECT_EQ(ok->sections[1].name, "core");
}

TEST(IniLimits, ManyKeysLinearAndCounted) {
  std::string text = "[core]\n";
  for (int i = 0; i < 200'000; ++i) text += "    k" + std::to_string(i) + " = v\n";
  auto start = std::chrono::steady_clock::now();
  auto r = parse_ini(text, "c");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->sections[0].options.size(), 200'000u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  auto small = parse_ini(text, "c", ParseLimits{1000, 64, 64 << 20, 1 << 20});
  ASSERT_FALSE(small);
  EXPECT_EQ(small.error().message,
            "config file error: 'c':1001: document too large: more than 1000 nodes once aliases are expanded");
  // Duplicates are still found, and case-merging still keeps the first position.
  auto dup = parse_ini("[core]\n    a = 1\n    a = 2\n", "c");
  ASSERT_FALSE(dup);
  EXPECT_EQ(dup.error().message, "config file error: 'c':3: duplicate keyword name");
  auto merged = parse_ini("[core]\n    A = 1\n    b = 2\n    a = 3\n", "c");
  ASSERT_TRUE(merged);
  ASSERT_EQ(merged->sections[0].options.size(), 2u);
  EXPECT_EQ(merged->sections[0].options[0].value, "3");
}

TEST(ManifestLimits, DeepValueIsAClearError) {
  std::string deep = "[{\"md5\": \"a\", \"relpath\": \"b\", \"x\": " + std::string(1'000'000, '[');
  auto r = decode_manifest(deep, "x.dir");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "'x.dir':1:98: invalid directory manifest: nested more than 64 levels deep");
  std::string ok = "[{\"md5\": \"a\", \"relpath\": \"b\", \"x\": " + std::string(62, '[') + std::string(62, ']') + "}]";
  EXPECT_TRUE(decode_manifest(ok, "x.dir"));
}

}  // namespace
}  // namespace dvx::formats
