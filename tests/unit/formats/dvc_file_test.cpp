#include "dvx/formats/dvc_file.h"

#include <gtest/gtest.h>

#include "fixture_util.h"

namespace dvx::formats {
namespace {

DvcFile must_parse(std::string_view text, const std::string& name = "x.dvc") {
  auto r = parse_dvc_file(text, name);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : DvcFile{};
}

std::string parse_error(std::string_view text, const std::string& name = "x.dvc") {
  auto r = parse_dvc_file(text, name);
  EXPECT_FALSE(r.has_value()) << text;
  return r ? "" : r.error().message;
}

TEST(DvcFile, ParsesFileEntry) {
  DvcFile f = must_parse(
      "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: foo.txt\n");
  ASSERT_EQ(f.outs.size(), 1u);
  const DvcOut& o = f.outs[0];
  EXPECT_EQ(o.md5, "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(o.size, 6);
  EXPECT_FALSE(o.nfiles);
  EXPECT_EQ(o.hash, "md5");
  EXPECT_EQ(o.path, "foo.txt");
  EXPECT_TRUE(o.cache);
  EXPECT_TRUE(o.push);
  EXPECT_FALSE(o.persist);
  EXPECT_FALSE(o.is_dir());
  EXPECT_FALSE(o.is_legacy());
  EXPECT_EQ(o.line, 2);
}

TEST(DvcFile, ParsesLegacyDirectoryEntry) {
  DvcFile f = must_parse(
      "outs:\n- md5: 00c1f7980e68502bac111a778b7f3f69.dir\n  size: 1549\n  nfiles: 5\n  path: data\n");
  const DvcOut& o = f.outs[0];
  EXPECT_TRUE(o.is_dir());
  EXPECT_TRUE(o.is_legacy());
  EXPECT_EQ(o.nfiles, 5);
  EXPECT_EQ(emit_dvc_file(f),
            "outs:\n- md5: 00c1f7980e68502bac111a778b7f3f69.dir\n  size: 1549\n  nfiles: 5\n  path: data\n");
}

TEST(DvcFile, ChecksumCoercion) {
  DvcFile f = must_parse("outs:\n- md5: B1946AC92492D2347C6235B4D2611184\n  path: a\n- md5: 12345\n  path: b\n- md5: ''\n  path: c\n- md5:\n  path: d\n");
  EXPECT_EQ(f.outs[0].md5, "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(f.outs[1].md5, "12345");
  EXPECT_FALSE(f.outs[2].md5);
  EXPECT_FALSE(f.outs[3].md5);
  EXPECT_EQ(parse_error("outs:\n- md5: ab\n  path: a\n"),
            "'x.dvc':2:8: validation failed: length of value must be at least 3, in outs -> 0 -> md5");
}

TEST(DvcFile, ValidationErrors) {
  EXPECT_EQ(parse_error("cmd: echo\nouts:\n- path: a\n", "./x.txt.dvc"),
            "'./x.txt.dvc':1:6: validation failed: extra keys not allowed, in cmd");
  EXPECT_EQ(parse_error("outs:\n- path: a\n  foo: 1\n"),
            "'x.dvc':3:8: validation failed: extra keys not allowed, in outs -> 0 -> foo");
  EXPECT_EQ(parse_error("outs:\n- md5: abcdef\n  size: 3\n"),
            "'x.dvc':2:3: validation failed: required key not provided, in outs -> 0 -> path");
  EXPECT_EQ(parse_error("outs:\n- path: a\n  size: big\n"),
            "'x.dvc':3:9: validation failed: expected int, in outs -> 0 -> size");
  EXPECT_EQ(parse_error("outs:\n- path: a\n  cache: 'no'\n"),
            "'x.dvc':3:10: validation failed: expected bool, in outs -> 0 -> cache");
  EXPECT_EQ(parse_error("outs: foo\n"), "'x.dvc':1:7: validation failed: expected a list, in outs");
  EXPECT_EQ(parse_error("outs:\n- foo\n"),
            "'x.dvc':2:3: validation failed: expected a dictionary, in outs -> 0");
  EXPECT_EQ(parse_error("- a\n"), "'x.dvc':1:1: validation failed: expected a dictionary");
  EXPECT_EQ(parse_error(""), "'x.dvc':1:1: validation failed: expected a dictionary");
  EXPECT_EQ(parse_error("outs:\n- path: a\n  path: b\n"), "'x.dvc':3:3: duplicate key 'path'");
  EXPECT_EQ(parse_error("deps:\n- md5: abc\nouts:\n- path: a\n"),
            "'x.dvc':2:3: validation failed: required key not provided, in deps -> 0 -> path");
  auto r = parse_dvc_file("outs: [\n", "bad.dvc");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::corruption);
  EXPECT_TRUE(r.error().message.starts_with("'bad.dvc':")) << r.error().message;
}

TEST(DvcFile, EmitNewFileKeyOrder) {
  DvcFile f;
  DvcOut o;
  o.path = "model.pkl";
  o.push = false;
  o.remote = "models-store";
  o.hash = "md5";
  o.size = 6;
  o.md5 = "b1946ac92492d2347c6235b4d2611184";
  o.extra.set("meta", yaml::Node::mapping()).set("owner", yaml::Node::str("ml-team"));
  yaml::Node labels = yaml::Node::sequence();
  labels.push_back(yaml::Node::str("cnn"));
  o.extra.set("labels", labels);
  o.extra.set("type", yaml::Node::str("model"));
  o.extra.set("desc", yaml::Node::str("trained model"));
  f.outs.push_back(o);
  std::string expect =
      "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: model.pkl\n"
      "  desc: trained model\n  type: model\n  labels:\n  - cnn\n  meta:\n    owner: ml-team\n"
      "  remote: models-store\n  push: false\n";
  EXPECT_EQ(emit_dvc_file(f), expect);
  // The same hand-written file parses and round-trips.
  DvcFile back = must_parse(expect);
  EXPECT_EQ(emit_dvc_file(back), expect);
  EXPECT_FALSE(back.outs[0].push);
  EXPECT_EQ(back.outs[0].remote, "models-store");

  DvcOut d;
  d.md5 = "5369cb520f35f5d77e793cf181884a27.dir";
  d.size = 12;
  d.nfiles = 2;
  d.isexec = false;
  d.hash = "md5";
  d.path = "data";
  d.cache = false;
  d.persist = true;
  DvcFile g;
  g.outs.push_back(d);
  EXPECT_EQ(emit_dvc_file(g),
            "outs:\n- md5: 5369cb520f35f5d77e793cf181884a27.dir\n  size: 12\n  nfiles: 2\n"
            "  hash: md5\n  path: data\n  cache: false\n  persist: true\n");
  EXPECT_TRUE(g.outs[0].is_dir());
}

TEST(DvcFile, ImportFileRoundTrip) {
  std::string text =
      "md5: 81b28005b935eb8fbca822234a7d574e\nfrozen: true\ndeps:\n- path: data/foo.txt\n  repo:\n"
      "    url: https://github.com/example/project\n    rev: v1.0\n"
      "    rev_lock: 0123456789abcdef0123456789abcdef01234567\nouts:\n"
      "- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: foo.txt\n";
  DvcFile f = must_parse(text);
  EXPECT_TRUE(f.frozen);
  EXPECT_EQ(f.md5, "81b28005b935eb8fbca822234a7d574e");
  ASSERT_EQ(f.deps.size(), 1u);
  EXPECT_EQ(f.deps[0].find("repo")->find("rev")->s, "v1.0");
  EXPECT_EQ(emit_dvc_file(f), text);
  EXPECT_EQ(update_dvc_file(f, f), text);
}

// formats.md §1/§2.4: a 2.x entry re-saved by 3.x gets `hash: md5` appended after path.
TEST(DvcFile, UpdateLegacyEntryAppendsHash) {
  DvcFile old = must_parse(
      "outs:\n- md5: d967459726a9efe87fbaf589c7218a59\n  size: 37\n  path: notes.txt\n");
  DvcFile upd = old;
  upd.outs[0].md5 = "5fb0817dd3d5802b05a7a2d7142b354e";
  upd.outs[0].hash = "md5";
  std::string text = update_dvc_file(old, upd);
  EXPECT_EQ(text,
            "outs:\n- md5: 5fb0817dd3d5802b05a7a2d7142b354e\n  size: 37\n  path: notes.txt\n"
            "  hash: md5\n");
  // A fresh file puts hash before path.
  EXPECT_EQ(emit_dvc_file(upd),
            "outs:\n- md5: 5fb0817dd3d5802b05a7a2d7142b354e\n  size: 37\n  hash: md5\n"
            "  path: notes.txt\n");

  // size removed, then re-added: it comes back at the end of the entry.
  DvcFile cur = must_parse(text);
  DvcFile nosize = cur;
  nosize.outs[0].size.reset();
  std::string t2 = update_dvc_file(cur, nosize);
  EXPECT_EQ(t2, "outs:\n- md5: 5fb0817dd3d5802b05a7a2d7142b354e\n  path: notes.txt\n  hash: md5\n");
  DvcFile cur2 = must_parse(t2);
  DvcFile withsize = cur2;
  withsize.outs[0].size = 40;
  EXPECT_EQ(update_dvc_file(cur2, withsize),
            "outs:\n- md5: 5fb0817dd3d5802b05a7a2d7142b354e\n  path: notes.txt\n  hash: md5\n"
            "  size: 40\n");
}

TEST(DvcFile, UpdateKeepsUserOrderAndUnchangedText) {
  std::string text =
      "# comment lines are not kept (yaml-cpp drops them)\nouts:\n- path: a.bin\n  hash: md5\n"
      "  md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\nmeta:\n  n: 1.50\n";
  DvcFile f = must_parse(text);
  DvcFile u = f;
  u.outs[0].size = 7;
  EXPECT_EQ(update_dvc_file(f, u),
            "outs:\n- path: a.bin\n  hash: md5\n  md5: b1946ac92492d2347c6235b4d2611184\n  size: 7\n"
            "meta:\n  n: 1.50\n");
  // A list whose length changed is replaced wholesale, in fresh order.
  DvcOut extra;
  extra.path = "b.bin";
  extra.md5 = "591785b794601e212b260e25925636fd";
  extra.hash = "md5";
  u.outs.push_back(extra);
  EXPECT_EQ(update_dvc_file(f, u),
            "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 7\n  hash: md5\n  path: a.bin\n"
            "- md5: 591785b794601e212b260e25925636fd\n  hash: md5\n  path: b.bin\nmeta:\n  n: 1.50\n");
}

// Every .dvc file of every fixture: parse -> emit is byte-identical, and so is a no-op update.
TEST(DvcFile, FixturesRoundTrip) {
  auto& fx = test::Fixtures::get();
  int count = 0, legacy = 0;
  for (const char* name : {"basic", "pipeline", "experiments", "legacy-remote"}) {
    auto root = fx.root(name);
    ASSERT_FALSE(root.empty());
    for (const auto& p : test::Fixtures::files(root, [](const std::filesystem::path& p) {
           return p.extension() == ".dvc" && p.string().find("/cache/") == std::string::npos;
         })) {
      std::string text = test::Fixtures::read(p);
      auto f = parse_dvc_file(text, p.filename().string());
      ASSERT_TRUE(f) << f.error().message;
      EXPECT_EQ(emit_dvc_file(*f), text) << p;
      EXPECT_EQ(update_dvc_file(*f, *f), text) << p;
      for (auto& o : f->outs) legacy += o.is_legacy();
      ++count;
    }
  }
  EXPECT_EQ(count, 8);
  EXPECT_EQ(legacy, 3);
  auto images = parse_dvc_file(test::Fixtures::read(fx.root("basic") / "repo/images.dvc"), "images.dvc");
  ASSERT_TRUE(images);
  EXPECT_TRUE(images->outs[0].is_dir());
  EXPECT_EQ(images->outs[0].nfiles, 10);
  EXPECT_EQ(images->outs[0].size, 7306);
}

}  // namespace
}  // namespace dvx::formats
