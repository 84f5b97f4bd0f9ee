#include "dvx/formats/ini.h"

#include <gtest/gtest.h>

using dvx::formats::emit_ini;
using dvx::formats::ini_quote;
using dvx::formats::IniFile;
using dvx::formats::parse_ini;

namespace {

IniFile parse_ok(std::string_view text) {
  auto r = parse_ini(text, ".dvc/config");
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : IniFile{};
}

std::string parse_err(std::string_view text) {
  auto r = parse_ini(text, ".dvc/config");
  EXPECT_FALSE(r.has_value());
  return r ? "" : r.error().message;
}

}  // namespace

TEST(Ini, FixtureConfigRoundTripsByteForByte) {
  // .dvc/config of every compat fixture (written by DVC 3.64).
  const std::string text = "[core]\n    remote = local\n['remote \"local\"']\n    url = ../../remote\n";
  IniFile f = parse_ok(text);
  ASSERT_EQ(f.sections.size(), 2u);
  EXPECT_EQ(f.sections[0].name, "core");
  EXPECT_EQ(f.sections[0].line, 1);
  EXPECT_EQ(f.sections[1].name, "remote \"local\"");
  EXPECT_EQ(f.sections[1].options[0].key, "url");
  EXPECT_EQ(f.sections[1].options[0].value, "../../remote");
  EXPECT_EQ(f.sections[1].options[0].line, 4);
  EXPECT_EQ(emit_ini(f), text);
}

TEST(Ini, EmptyFile) {
  EXPECT_TRUE(parse_ok("").sections.empty());
  EXPECT_TRUE(parse_ok("\n\n# only a comment\n").sections.empty());
  EXPECT_EQ(emit_ini(IniFile{}), "");
}

TEST(Ini, HeaderForms) {
  IniFile f = parse_ok("[remote \"a\"]\nurl=1\n['remote \"b\"']\nurl=2\n[ core ] # c\nx=1\n[\"cache\"]\ndir=d\n");
  ASSERT_EQ(f.sections.size(), 4u);
  EXPECT_EQ(f.sections[0].name, "remote \"a\"");
  EXPECT_EQ(f.sections[1].name, "remote \"b\"");
  EXPECT_EQ(f.sections[2].name, "core");
  EXPECT_EQ(f.sections[3].name, "cache");
}

TEST(Ini, LowerCasesSectionsAndKeys) {
  IniFile f = parse_ok("[Core]\nRemote = MyRemote\n['Remote \"MyR\"']\nURL = X\n");
  EXPECT_EQ(f.sections[0].name, "core");
  EXPECT_EQ(f.sections[0].options[0].key, "remote");
  EXPECT_EQ(f.sections[0].options[0].value, "MyRemote");  // values keep their case
  EXPECT_EQ(f.sections[1].name, "remote \"myr\"");
  EXPECT_EQ(f.sections[1].options[0].key, "url");
}

TEST(Ini, ValuesQuotesListsComments) {
  IniFile f = parse_ok(
      "[core]\n"
      "a = local # comment\n"
      "b = \"reflink,copy\" # c\n"
      "c = 'single'\n"
      "d = reflink, copy\n"
      "e = one,\n"
      "f = ,\n"
      "g =\n"
      "h = a b c\n"
      "i = x#y\n"
      "j = a, \"b,c\" , d\n"
      "k = q\"x\n"
      "l = \"\"\"tri\"ple\"\"\"\n"
      "m = '''multi\n"
      "line'''\n"
      "  n=1\n");
  const auto& s = f.sections[0];
  auto val = [&](const char* k) { return s.find(k)->value; };
  EXPECT_EQ(val("a"), "local");
  EXPECT_EQ(val("b"), "reflink,copy");
  EXPECT_FALSE(s.find("b")->is_list);
  EXPECT_EQ(val("c"), "single");
  EXPECT_TRUE(s.find("d")->is_list);
  EXPECT_EQ(val("d"), "reflink, copy");
  EXPECT_EQ(s.find("d")->items, (std::vector<std::string>{"reflink", "copy"}));
  EXPECT_TRUE(s.find("e")->is_list);
  EXPECT_EQ(s.find("e")->items, (std::vector<std::string>{"one"}));
  EXPECT_TRUE(s.find("f")->is_list);
  EXPECT_TRUE(s.find("f")->items.empty());
  EXPECT_EQ(val("g"), "");
  EXPECT_EQ(val("h"), "a b c");
  EXPECT_EQ(val("i"), "x");
  EXPECT_EQ(s.find("j")->items, (std::vector<std::string>{"a", "b,c", "d"}));
  EXPECT_EQ(val("k"), "q\"x");
  EXPECT_EQ(val("l"), "tri\"ple");
  EXPECT_EQ(val("m"), "multi\nline");
  EXPECT_EQ(val("n"), "1");
  EXPECT_EQ(s.find("n")->line, 16);
}

TEST(Ini, ErrorsCarryFileAndLine) {
  EXPECT_EQ(parse_err("[core]\n    remote = x\ngarbage\n"),
            "config file error: '.dvc/config':3: invalid line 'garbage' (matched as neither section nor keyword)");
  EXPECT_EQ(parse_err("[core\n"),
            "config file error: '.dvc/config':1: invalid line '[core' (matched as neither section nor keyword)");
  EXPECT_EQ(parse_err("[core]\nx = \"unterminated\n"), "config file error: '.dvc/config':2: parse error in value");
  EXPECT_EQ(parse_err("[core]\nx = \"a\" b\n"), "config file error: '.dvc/config':2: parse error in value");
  EXPECT_EQ(parse_err("[core]\n[core]\n"), "config file error: '.dvc/config':2: duplicate section name");
  EXPECT_EQ(parse_err("[core]\na=1\na=2\n"), "config file error: '.dvc/config':3: duplicate keyword name");
  EXPECT_EQ(parse_err("a=1\n"), "config file error: '.dvc/config':1: option 'a' is not in a section");
  EXPECT_EQ(parse_err("[core]\n[[sub]]\n"), "config file error: '.dvc/config':2: nested sections are not supported");
  EXPECT_EQ(parse_err("[core]]\n"), "config file error: '.dvc/config':1: cannot compute the section depth");
  EXPECT_EQ(parse_err("[core]\nx = '''never closed\nmore\n"),
            "config file error: '.dvc/config':2: parse error in multiline value");
  EXPECT_EQ(parse_err("[core]\nx = a,,b\n"), "config file error: '.dvc/config':2: parse error in value");
  EXPECT_EQ(parse_ini("x", "f").error().code, dvx::ErrorCode::invalid_argument);
}

TEST(Ini, CaseOnlyDuplicatesMergeLikeDvc) {
  IniFile f = parse_ok("[core]\nRemote = a\nremote = b\n");
  ASSERT_EQ(f.sections[0].options.size(), 1u);
  EXPECT_EQ(f.sections[0].options[0].value, "b");
}

TEST(Ini, CrLfAndBom) {
  IniFile f = parse_ok("\xEF\xBB\xBF[core]\r\n    remote = x\r\n");
  EXPECT_EQ(f.sections[0].options[0].value, "x");
}

// Expected strings below were produced by configobj 5.0.8 (ConfigObj(dict).write()).
TEST(Ini, QuotingMatchesConfigobj) {
  EXPECT_EQ(ini_quote("x,y"), "\"x,y\"");
  EXPECT_EQ(ini_quote(" lead"), "\" lead\"");
  EXPECT_EQ(ini_quote("tr "), "\"tr \"");
  EXPECT_EQ(ini_quote("has#hash"), "\"has#hash\"");
  EXPECT_EQ(ini_quote("q\"x"), "q\"x");
  EXPECT_EQ(ini_quote("q'x"), "q'x");
  EXPECT_EQ(ini_quote(""), "\"\"");
  EXPECT_EQ(ini_quote("a b"), "a b");
  EXPECT_EQ(ini_quote("both'\""), "'''both'\"'''");
  EXPECT_EQ(ini_quote("x\ty"), "x\ty");
  EXPECT_EQ(ini_quote("[x]"), "[x]");
  EXPECT_EQ(ini_quote("a=b"), "a=b");
  EXPECT_EQ(ini_quote("\"x\""), "'\"x\"'");
  EXPECT_EQ(ini_quote("remote \"x\"", false), "'remote \"x\"'");
  EXPECT_EQ(ini_quote("multi\nline"), "'''multi\nline'''");
  EXPECT_EQ(ini_quote("x\"\"\"y'"), "\"\"\"x\"\"\"y'\"\"\"");
}

TEST(Ini, EmitListsAndSkipsEmptySections) {
  IniFile f;
  f.sections.push_back({"empty", {}, 0});
  dvx::formats::IniSection core{"core", {}, 0};
  core.options.push_back({"k", "a, b", 0, true, {"a", "b"}});
  core.options.push_back({"l", "a,", 0, true, {"a"}});
  core.options.push_back({"m", ",", 0, true, {}});
  core.options.push_back({"n", "", 0, false, {}});
  f.sections.push_back(core);
  f.sections.push_back({"sec ws", {{"k k", "v", 0, false, {}}}, 0});
  EXPECT_EQ(emit_ini(f), "[core]\n    k = a, b\n    l = a,\n    m = ,\n    n = \"\"\n[sec ws]\n    k k = v\n");
}

TEST(Ini, ReparsesWhatItEmits) {
  const std::string text =
      "[core]\n    a = \"x,y\"\n    b = \" lead\"\n    c = \"has#hash\"\n    d = q\"x\n    e = q'x\n"
      "    f = \"\"\n    h = '''both'\"'''\n    k = a, b\n    l = a,\n    t = '''multi\nline'''\n";
  IniFile f = parse_ok(text);
  EXPECT_EQ(f.sections[0].find("h")->value, "both'\"");
  EXPECT_EQ(f.sections[0].find("t")->value, "multi\nline");
  EXPECT_EQ(emit_ini(f), text);
}
