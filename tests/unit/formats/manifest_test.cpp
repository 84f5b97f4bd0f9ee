#include "dvx/formats/manifest.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "fixture_util.h"

namespace dvx::formats {
namespace {

const std::string kX = "9dd4e461268c8034f5c8564e155c67a6";

TEST(Manifest, V1) {
  std::vector<ManifestEntry> e = {{"sub/b.txt", "591785b794601e212b260e25925636fd"},
                                  {"a.txt", "b1946ac92492d2347c6235b4d2611184"}};
  std::string m = encode_manifest(e);
  EXPECT_EQ(m,
            R"([{"md5": "b1946ac92492d2347c6235b4d2611184", "relpath": "a.txt"}, {"md5": "591785b794601e212b260e25925636fd", "relpath": "sub/b.txt"}])");
  EXPECT_EQ(m.size(), 134u);
}

TEST(Manifest, V2Empty) { EXPECT_EQ(encode_manifest({}), "[]"); }

TEST(Manifest, V3OrderingAndEscaping) {
  std::vector<ManifestEntry> e;
  for (const char* p : {"\xc3\xa9.txt", "a/b.txt", "a.txt", "a-b.txt", "Z.txt", "B.txt"})
    e.push_back({p, kX});
  EXPECT_EQ(encode_manifest(e),
            R"([{"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "B.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "Z.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "a-b.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "a.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "a/b.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "\u00e9.txt"}])");
}

TEST(Manifest, NfdAndNfcStayDistinct) {
  std::vector<ManifestEntry> e = {{"\xc3\xa9.txt", kX}, {"e\xcc\x81.txt", kX}};
  EXPECT_EQ(encode_manifest(e),
            R"([{"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "e\u0301.txt"}, {"md5": "9dd4e461268c8034f5c8564e155c67a6", "relpath": "\u00e9.txt"}])");
}

TEST(Manifest, DecodeAnyKeyOrderAndExtraKeys) {
  auto r = decode_manifest(
      R"( [ {"relpath": "b\u00e9\ud83d\ude00", "size": 3, "isexec": true, "md5": "abc", "x": {"y": [1, null, "z"]}},
          {"md5": "def", "relpath": "a\/c"} ] )",
      "m.dir");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].relpath, "b\xc3\xa9\xf0\x9f\x98\x80");
  EXPECT_EQ((*r)[0].md5, "abc");
  EXPECT_EQ((*r)[1].relpath, "a/c");
  auto e = decode_manifest("[]", "m.dir");
  ASSERT_TRUE(e);
  EXPECT_TRUE(e->empty());
}

TEST(Manifest, DecodeErrors) {
  auto check = [](std::string_view text, std::string_view expect) {
    auto r = decode_manifest(text, "x.dir");
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().message, expect);
    EXPECT_EQ(r.error().code, ErrorCode::corruption);
  };
  check("{}", "'x.dir':1:1: invalid directory manifest: expected a JSON list");
  check("[{\"md5\": \"a\"}]", "'x.dir':1:2: invalid directory manifest: entry without 'relpath'");
  check("[{\"md5\": 1, \"relpath\": \"a\"}]",
        "'x.dir':1:10: invalid directory manifest: expected a string value for 'md5'");
  check("[1]", "'x.dir':1:2: invalid directory manifest: expected an object in the list");
  check("[{\"md5\": \"a\", \"relpath\": \"b\"}] x",
        "'x.dir':1:32: invalid directory manifest: trailing data after the JSON list");
  check("[\n{\"md5\": \"a\", \"relpath\": \"b\"", "'x.dir':2:28: invalid directory manifest: expected ',' or '}'");
  check("", "'x.dir':1:1: invalid directory manifest: expected a JSON list");
}

TEST(Manifest, SurrogateEscapedBytesRoundTrip) {
  std::vector<ManifestEntry> e = {{"bad\xff", kX}};
  std::string m = encode_manifest(e);
  EXPECT_NE(m.find("bad\\udcff"), std::string::npos);
  auto back = decode_manifest(m, "m");
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)[0].relpath, "bad\xff");
}

TEST(Manifest, FixtureObjects) {
  auto& fx = test::Fixtures::get();
  auto basic = fx.root("basic");
  std::string bytes = test::Fixtures::read(
      basic / "repo/.dvc/cache/files/md5/dd/6f68369deb5237f3a9ba36faa3a568.dir");
  EXPECT_EQ(bytes.size(), 759u);
  EXPECT_EQ(bytes,
            R"([{"md5": "dec4c8ebe24d260bb81240918780b431", "relpath": "README.md"}, {"md5": "93ed860f08363dee668a57da7ece99f6", "relpath": "cats-index.txt"}, {"md5": "ac9ab9e669cf6191bd9c06bac92d0f4a", "relpath": "cats/cat-001.bin"}, {"md5": "4160c4df46f84e95f13a422c718cc876", "relpath": "cats/cat-002.bin"}, {"md5": "a775daabdb44c57a65eaadeef4edfe51", "relpath": "crlf.txt"}, {"md5": "9011658ec4c21be2879c0674722916eb", "relpath": "dogs/file with space.txt"}, {"md5": "c729118f5f1d35c2f0c53d25f45be91b", "relpath": "dogs/nested/deeper/deepest/leaf.txt"}, {"md5": "d41d8cd98f00b204e9800998ecf8427e", "relpath": "empty.txt"}, {"md5": "37d2c0d45f1e7a1ebf994375bda65041", "relpath": "na\u00efve.txt"}, {"md5": "5adf8430635c2740a928c5f4a1fa9cc5", "relpath": "scripts/run.sh"}])");
  auto entries = decode_manifest(bytes, "images.dir");
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 10u);
  EXPECT_EQ((*entries)[8].relpath, "na\xc3\xafve.txt");
  // Re-encoding from a shuffled list gives the same bytes.
  auto shuffled = *entries;
  std::reverse(shuffled.begin(), shuffled.end());
  EXPECT_EQ(encode_manifest(shuffled), bytes);

  // Every .dir object in every fixture cache re-encodes byte for byte.
  int count = 0;
  for (const char* name : {"basic", "pipeline", "experiments", "legacy-remote"}) {
    auto root = fx.root(name);
    for (const auto& p : test::Fixtures::files(root, [](const std::filesystem::path& p) {
           return p.extension() == ".dir";
         })) {
      std::string b = test::Fixtures::read(p);
      auto d = decode_manifest(b, p.string());
      ASSERT_TRUE(d) << d.error().message;
      EXPECT_EQ(encode_manifest(*d), b) << p;
      ++count;
    }
  }
  EXPECT_GE(count, 4);
}

TEST(Manifest, MillionEntriesFast) {
  std::vector<ManifestEntry> e;
  const int n = 1000000;
  e.reserve(n);
  for (int k = n - 1; k >= 0; --k) {
    char rel[64];
    std::snprintf(rel, sizeof rel, "dir%03d/file-%07d.bin", k % 997, k);
    e.push_back({rel, "0123456789abcdef0123456789abcdef"});
  }
  auto t0 = std::chrono::steady_clock::now();
  std::string m = encode_manifest(std::move(e));
  auto t1 = std::chrono::steady_clock::now();
  auto back = decode_manifest(m, "big.dir");
  auto t2 = std::chrono::steady_clock::now();
  ASSERT_TRUE(back);
  ASSERT_EQ(back->size(), static_cast<size_t>(n));
  EXPECT_TRUE(std::is_sorted(back->begin(), back->end(),
                             [](auto& a, auto& b) { return a.relpath < b.relpath; }));
  auto ms = [](auto a, auto b) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
  };
  // Generous bounds (shared 2-core machine, debug-ish builds); quadratic code would take minutes.
  EXPECT_LT(ms(t0, t1), 10000);
  EXPECT_LT(ms(t1, t2), 10000);
  RecordProperty("encode_ms", static_cast<int>(ms(t0, t1)));
  RecordProperty("decode_ms", static_cast<int>(ms(t1, t2)));
}

}  // namespace
}  // namespace dvx::formats
