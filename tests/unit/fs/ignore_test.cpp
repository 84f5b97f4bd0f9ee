#include "dvx/fs/ignore.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <fstream>

#include "dvx/base/thread_pool.h"
#include "dvx/platform/files.h"

namespace dvx::fs {
namespace {

// Result of a single .dvcignore (at the root) for a path: "1" ignored, "0" re-included by a
// negation, "-" no pattern matched.
std::string eval(const std::string& content, const std::string& path, bool is_dir) {
  auto file = parse_ignore_file(content, ".dvcignore", 0);
  auto scope = IgnoreScope{}.with(file);
  auto segs = split_rel_path(path);
  auto m = scope.match(segs, is_dir);
  return m ? (m->ignored ? "1" : "0") : "-";
}
bool ign(const std::string& content, const std::string& path, bool is_dir = false) {
  return eval(content, path, is_dir) == "1";
}

// Expected values below were cross-checked against Python pathspec's GitWildMatchPattern with
// DVC's matching rule (match `path`, or `path + "/"` for folders).
TEST(IgnorePattern, BareNameMatchesAtAnyDepthAndBelow) {
  EXPECT_TRUE(ign("foo", "foo"));
  EXPECT_TRUE(ign("foo", "x/y/foo"));
  EXPECT_TRUE(ign("foo", "foo/bar/baz"));
  EXPECT_FALSE(ign("foo", "foobar"));
  EXPECT_FALSE(ign("foo", "bar"));
}

TEST(IgnorePattern, Anchoring) {
  EXPECT_TRUE(ign("/foo", "foo"));
  EXPECT_TRUE(ign("/foo", "foo/bar"));
  EXPECT_FALSE(ign("/foo", "x/foo"));
  // An inner slash anchors too.
  EXPECT_TRUE(ign("foo/bar", "foo/bar"));
  EXPECT_FALSE(ign("foo/bar", "x/foo/bar"));
  EXPECT_TRUE(ign("data/*.csv", "data/a.csv"));
  EXPECT_FALSE(ign("data/*.csv", "data/x/a.csv"));
  EXPECT_TRUE(ign("/*.txt", "a.txt"));
  EXPECT_FALSE(ign("/*.txt", "x/a.txt"));
  EXPECT_TRUE(ign("*.txt", "x/y/a.txt"));
}

TEST(IgnorePattern, DirectoryOnly) {
  EXPECT_FALSE(ign("foo/", "foo", false));
  EXPECT_TRUE(ign("foo/", "foo", true));
  EXPECT_TRUE(ign("foo/", "foo/bar", false));  // below an ignored folder
  EXPECT_TRUE(ign("foo/", "x/foo", true));
  EXPECT_FALSE(ign("/foo/", "x/foo", true));
  EXPECT_TRUE(ign("foo/*/", "foo/x", true));
  EXPECT_FALSE(ign("foo/*/", "foo/x", false));
  EXPECT_TRUE(ign("*/", "x", true));
  EXPECT_FALSE(ign("*/", "x", false));
  EXPECT_TRUE(ign("*/", "x/y", false));
}

TEST(IgnorePattern, DoubleStar) {
  EXPECT_TRUE(ign("**/foo", "foo"));
  EXPECT_TRUE(ign("**/foo", "a/b/foo"));
  EXPECT_TRUE(ign("**/foo/bar", "foo/bar"));
  EXPECT_TRUE(ign("**/foo/bar", "x/foo/bar"));
  EXPECT_FALSE(ign("foo/**", "foo", false));
  EXPECT_TRUE(ign("foo/**", "foo", true));
  EXPECT_TRUE(ign("foo/**", "foo/x/y"));
  EXPECT_TRUE(ign("a/**/b", "a/b"));
  EXPECT_TRUE(ign("a/**/b", "a/x/y/b"));
  EXPECT_FALSE(ign("a/**/b", "x/a/b"));
  EXPECT_TRUE(ign("a/**/b/**/c", "a/x/b/y/c"));
  EXPECT_TRUE(ign("data/**/*.csv", "data/a.csv"));
  EXPECT_TRUE(ign("data/**/*.csv", "data/x/y/a.csv"));
  EXPECT_TRUE(ign("**", "anything/at/all"));
  EXPECT_TRUE(ign("**/", "x", true));
  EXPECT_FALSE(ign("**/", "x", false));
  EXPECT_TRUE(ign("**/", "x/y", false));
}

TEST(IgnorePattern, Wildcards) {
  EXPECT_TRUE(ign("f?o", "fao"));
  EXPECT_FALSE(ign("f?o", "fo"));
  EXPECT_TRUE(ign("?.txt", "\xC3\xA9.txt"));  // '?' is one code point, not one byte
  EXPECT_TRUE(ign("f[a-c]o", "fbo"));
  EXPECT_FALSE(ign("f[a-c]o", "fdo"));
  EXPECT_TRUE(ign("f[!a-c]o", "fdo"));
  EXPECT_FALSE(ign("f[!a-c]o", "fao"));
  EXPECT_TRUE(ign("f[^a]o", "f^o"));  // pathspec: '^' is a literal member, not a negation
  EXPECT_TRUE(ign("f[^a]o", "fao"));
  EXPECT_FALSE(ign("f[^a]o", "fbo"));
  EXPECT_TRUE(ign("[]]x", "]x"));
  EXPECT_TRUE(ign("fo[o", "fo[o"));  // unclosed '[' is literal
  EXPECT_TRUE(ign("[\xC3\xA9]x", "\xC3\xA9x"));
  EXPECT_TRUE(ign("*o*o*", "oo"));
  EXPECT_TRUE(ign("foo*bar", "fooxbar"));
  EXPECT_TRUE(ign("foo*bar", "foobar"));
  EXPECT_FALSE(ign("*.c", "a.cpp"));
  EXPECT_TRUE(ign("*-index.txt", "cats-index.txt"));
}

TEST(IgnorePattern, Escapes) {
  EXPECT_TRUE(ign("\\#x", "#x"));
  EXPECT_TRUE(ign("\\!x", "!x"));
  EXPECT_TRUE(ign("a\\*b", "a*b"));
  EXPECT_FALSE(ign("a\\*b", "axb"));
  EXPECT_TRUE(ign("a\\?b", "a?b"));
  EXPECT_FALSE(ign("a\\?b", "axb"));
}

TEST(IgnorePattern, NegationLastMatchWins) {
  std::string rules = "*.txt\n!keep.txt\n";
  EXPECT_EQ(eval(rules, "a.txt", false), "1");
  EXPECT_EQ(eval(rules, "x/keep.txt", false), "0");
  EXPECT_EQ(eval(rules, "a.csv", false), "-");
  EXPECT_EQ(eval("!keep.txt\n*.txt\n", "keep.txt", false), "1");
  EXPECT_EQ(eval("*\n!*/\n", "x", true), "0");
  EXPECT_EQ(eval("*\n!*/\n", "x", false), "1");
  EXPECT_EQ(eval("*\n!*/\n", "x/y", false), "0");  // "!*/" matches any path below a folder
}

TEST(IgnorePattern, CommentsBlankAndWhitespace) {
  std::string rules = "# comment\n\n   \n  spaced  \r\n/\n";
  EXPECT_TRUE(ign(rules, "spaced"));
  EXPECT_FALSE(ign(rules, "# comment"));
  EXPECT_FALSE(ign(rules, "x"));  // "/" alone matches nothing
}

TEST(IgnorePattern, MalformedLinesReported) {
  auto f = parse_ignore_file("ok\na\\\n!\nz[z-a]\nlast\n", ".dvcignore", 0);
  ASSERT_TRUE(f->error);
  EXPECT_NE(f->error->message.find("line 2"), std::string::npos);
  ASSERT_EQ(f->rules.size(), 2u);
  EXPECT_EQ(f->rules[0].text, "ok");
  EXPECT_EQ(f->rules[1].text, "last");
  EXPECT_EQ(f->rules[1].line, 5);
}

TEST(IgnorePattern, Builtins) {
  auto scope = IgnoreScope{}.with(builtin_ignore_file());
  auto check = [&](const std::string& p, bool d) { return scope.is_ignored(split_rel_path(p), d); };
  EXPECT_TRUE(check(".git", true));
  EXPECT_TRUE(check(".git", false));
  EXPECT_TRUE(check(".git/HEAD", false));
  EXPECT_TRUE(check(".dvc", true));
  EXPECT_TRUE(check(".dvc/config", false));
  EXPECT_TRUE(check(".hg", true));
  EXPECT_TRUE(check("sub/.dvc", true));
  EXPECT_FALSE(check(".dvcignore", false));
  EXPECT_FALSE(check(".gitignore", false));
  EXPECT_FALSE(check(".dvc", false));
  auto m = scope.match(split_rel_path(".git"), true);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, "");
  EXPECT_EQ(m->line, 0);
}

class TempRepo {
 public:
  TempRepo() {
    char tmpl[] = "/tmp/dvx-ignore-test-XXXXXX";
    m_path = ::mkdtemp(tmpl);
  }
  ~TempRepo() { (void)platform::remove_all(m_path); }
  const std::string& path() const { return m_path; }
  void write(const std::string& rel, const std::string& bytes) const {
    std::string p = m_path + "/" + rel;
    (void)platform::make_dirs(platform::parent_dir(p));
    std::ofstream(p, std::ios::binary) << bytes;
  }

 private:
  std::string m_path;
};

TEST(IgnoreRules, NestedFilesAndSources) {
  TempRepo r;
  r.write(".dvcignore", "# top\n*.log\n/build/\n");
  r.write("sub/.dvcignore", "!keep.log\n/local.txt\ntmp/\n");
  r.write("sub/deeper/.dvcignore", "*.txt\n");
  auto rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(rules) << rules.error().message;

  auto m = rules->match("a/b.log", false);
  ASSERT_TRUE(m);
  EXPECT_TRUE(m->ignored);
  EXPECT_EQ(m->source, ".dvcignore");
  EXPECT_EQ(m->line, 2);
  EXPECT_EQ(m->pattern, "*.log");

  EXPECT_TRUE(rules->is_ignored("build", true));
  EXPECT_TRUE(rules->is_ignored("build/x.o", false));
  EXPECT_FALSE(rules->is_ignored("sub/build", true));

  m = rules->match("sub/keep.log", false);
  ASSERT_TRUE(m);
  EXPECT_FALSE(m->ignored);
  EXPECT_EQ(m->source, "sub/.dvcignore");
  EXPECT_EQ(m->line, 1);
  EXPECT_EQ(m->pattern, "!keep.log");
  EXPECT_TRUE(rules->is_ignored("sub/other.log", false));
  EXPECT_TRUE(rules->is_ignored("keep.log", false));  // the sub negation does not reach the root

  // Anchored to the folder of the .dvcignore that holds the pattern.
  EXPECT_TRUE(rules->is_ignored("sub/local.txt", false));
  EXPECT_FALSE(rules->is_ignored("local.txt", false));
  EXPECT_FALSE(rules->is_ignored("sub/x/local.txt", false));
  EXPECT_TRUE(rules->is_ignored("sub/x/tmp", true));
  EXPECT_FALSE(rules->is_ignored("tmp", true));

  m = rules->match("sub/deeper/a.txt", false);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->source, "sub/deeper/.dvcignore");
  EXPECT_FALSE(rules->is_ignored("sub/a.txt", false));
  EXPECT_FALSE(rules->match("sub", true));
  EXPECT_FALSE(rules->match("", true));
  EXPECT_TRUE(rules->is_ignored(".git", true));
  EXPECT_TRUE(rules->is_ignored("./x.log", false));

  auto scope = rules->scope_for("sub");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->files().size(), 3u);  // built-ins, root, sub
}

TEST(IgnoreRules, IgnoredDvcignoreIsNotRead) {
  TempRepo r;
  r.write(".dvcignore", "skipped/\n");
  r.write("skipped/.dvcignore", "!*\n");
  r.write("other/.dvcignore", "*\n");
  auto rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(rules);
  EXPECT_TRUE(rules->is_ignored("skipped/x", false));
  auto scope = rules->scope_for("skipped");
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->files().size(), 2u);
  EXPECT_TRUE(rules->is_ignored("other/x", false));
}

TEST(IgnoreRules, Errors) {
  TempRepo r;
  r.write(".dvcignore", "bad\\\n");
  auto rules = IgnoreRules::load(r.path());
  ASSERT_FALSE(rules);
  EXPECT_EQ(rules.error().code, ErrorCode::invalid_argument);

  TempRepo r2;
  r2.write("sub/.dvcignore", "ok\nz[z-a]\n");
  auto rules2 = IgnoreRules::load(r2.path());
  ASSERT_TRUE(rules2);
  EXPECT_TRUE(rules2->is_ignored("sub/ok", false));  // lenient matching skips the bad line
  EXPECT_FALSE(rules2->scope_for("sub/x"));          // but the scope reports it
  EXPECT_TRUE(rules2->scope_for("other"));
}

TEST(IgnoreRules, ConcurrentLazyLoading) {
  TempRepo r;
  r.write(".dvcignore", "*.a\n");
  for (int i = 0; i < 20; ++i) r.write("d" + std::to_string(i) + "/.dvcignore", "!x" + std::to_string(i) + ".a\n");
  std::vector<std::string> paths;
  for (int i = 0; i < 20; ++i)
    for (int j = 0; j < 20; ++j) paths.push_back("d" + std::to_string(i) + "/e/x" + std::to_string(j) + ".a");
  auto serial_rules = IgnoreRules::load(r.path());
  auto shared_rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(serial_rules && shared_rules);
  std::vector<char> serial(paths.size()), parallel(paths.size());
  for (size_t i = 0; i < paths.size(); ++i) serial[i] = serial_rules->is_ignored(paths[i], false);
  IgnoreRules copy = *shared_rules;  // copies share the cache
  parallel_for(paths.size(), 8, [&](size_t i) {
    parallel[i] = (i % 2 ? copy : *shared_rules).is_ignored(paths[i], false);
  });
  EXPECT_EQ(serial, parallel);
  EXPECT_FALSE(serial[3 * 20 + 3]);  // d3/e/x3.a re-included by d3/.dvcignore
  EXPECT_TRUE(serial[3 * 20 + 4]);
}

TEST(IgnoreRules, NoDvcignoreAtAll) {
  TempRepo r;
  auto rules = IgnoreRules::load(r.path());
  ASSERT_TRUE(rules);
  EXPECT_FALSE(rules->is_ignored("x", false));
  EXPECT_TRUE(rules->is_ignored(".dvc/cache", true));
  auto b = IgnoreRules::builtin_only(r.path());
  EXPECT_TRUE(b.is_ignored(".git", true));
}

}  // namespace
}  // namespace dvx::fs
