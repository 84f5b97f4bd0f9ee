#include "dvx/formats/py_json.h"

#include <gtest/gtest.h>

#include <cmath>

namespace dvx::formats {
namespace {

using Json = nlohmann::ordered_json;

TEST(PyJson, SeparatorsAndOrder) {
  Json v = Json::object();
  v["z"] = 1;
  v["a"] = Json::array({1, "x", nullptr, true, false});
  v["m"] = Json::object();
  v["l"] = Json::array();
  EXPECT_EQ(py_json_dumps(v), R"({"z": 1, "a": [1, "x", null, true, false], "m": {}, "l": []})");
  EXPECT_EQ(py_json_dumps(v, true), R"({"a": [1, "x", null, true, false], "l": [], "m": {}, "z": 1})");
}

TEST(PyJson, SortKeysAtEveryLevelByCodePoint) {
  Json v = Json::object();
  v["b"] = Json::object({{"y", 1}, {"x", 2}});
  v["\xc3\xa9"] = 1;
  v["Z"] = 2;
  v["a"] = Json::array({Json::object({{"k2", 1}, {"k1", 2}})});
  EXPECT_EQ(py_json_dumps(v, true),
            R"({"Z": 2, "a": [{"k1": 2, "k2": 1}], "b": {"x": 2, "y": 1}, "\u00e9": 1})");
}

TEST(PyJson, EnsureAsciiEscapes) {
  Json v = std::string("q\"b\\s/\n\r\t\b\f\x01\x7f na\xc3\xafve \xe2\x80\x94 \xf0\x9f\x98\x80");
  EXPECT_EQ(py_json_dumps(v),
            R"("q\"b\\s/\n\r\t\b\f\u0001\u007f na\u00efve \u2014 \ud83d\ude00")");
  // An undecodable byte is written as Python's surrogateescape code point.
  EXPECT_EQ(py_json_dumps(Json(std::string("a\xff"))), R"("a\udcff")");
}

TEST(PyJson, Numbers) {
  Json v = Json::array({1.0, 0.1, 1e-07, 1e20, -2.5, 0.15000000000000002, 42, -7,
                        static_cast<uint64_t>(18446744073709551615ull), std::nan(""), HUGE_VAL,
                        -HUGE_VAL});
  EXPECT_EQ(py_json_dumps(v),
            "[1.0, 0.1, 1e-07, 1e+20, -2.5, 0.15000000000000002, 42, -7, 18446744073709551615, "
            "NaN, Infinity, -Infinity]");
}

TEST(PyJson, Indent) {
  Json v = Json::object();
  v["a"] = Json::array({1, 2});
  v["b"] = Json::object({{"c", nullptr}});
  v["e"] = Json::array();
  EXPECT_EQ(py_json_dumps_indent(v),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": {\n    \"c\": null\n  },\n  \"e\": []\n}");
  EXPECT_EQ(py_json_dumps_indent(Json::object()), "{}");
}

// formats.md §2.6: the stage checksum input of the import example.
TEST(PyJson, StageChecksumVector) {
  Json d = Json::object();
  Json dep = Json::object();
  dep["path"] = "data/foo.txt";
  dep["repo"] = Json::object({{"url", "https://github.com/example/project"},
                              {"rev", "v1.0"},
                              {"rev_lock", "0123456789abcdef0123456789abcdef01234567"}});
  d["deps"] = Json::array({dep});
  d["outs"] = Json::array({Json::object(
      {{"md5", "b1946ac92492d2347c6235b4d2611184"}, {"hash", "md5"}, {"path", "foo.txt"}})});
  EXPECT_EQ(py_json_dumps(d, true),
            R"({"deps": [{"path": "data/foo.txt", "repo": {"rev": "v1.0", "rev_lock": "0123456789abcdef0123456789abcdef01234567", "url": "https://github.com/example/project"}}], "outs": [{"hash": "md5", "md5": "b1946ac92492d2347c6235b4d2611184", "path": "foo.txt"}]})");
}

}  // namespace
}  // namespace dvx::formats
