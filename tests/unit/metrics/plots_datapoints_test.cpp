// Differential tests of the flat rows (Datapoints) against the tree of JSON values they replace:
// the same generated rows and edits, written by Datapoints::write_json and by py_json_dumps over
// nlohmann objects, must give the same bytes; and raw JSON text laid out with an indent must
// equal py_json_dumps_indent of the same values.
#include "dvx/metrics/plots_datapoints.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "dvx/formats/py_json.h"

namespace dvx::metrics {
namespace {

using formats::py_json_dumps;

// Random values: strings with escapes, control characters, multi-byte UTF-8 (including
// characters outside the BMP) and stray bytes; floats of every magnitude (NaN, infinities,
// -0.0, subnormals); integers; booleans; null; small nested lists and objects.
class Gen {
 public:
  explicit Gen(unsigned seed) : m_rng(seed) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(m_rng); }

  std::string str() {
    static const std::vector<std::string> pieces = {
        "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\r", "\t", "\b", "\f", "\x01", "\x1f", "\x7f",
        "\xc3\xa9", "\xe2\x80\x94", "\xe6\x97\xa5", "\xf0\x9f\x98\x80", "\xed\x9f\xbf", "\xff", "\xc3", "::",
        "step", "loss", "<DVC_METRIC_DATA>", ",", "{", "}", "[", "]", ":"};
    std::string s;
    int n = pick(6);
    for (int i = 0; i < n; ++i) s += pieces[static_cast<size_t>(pick(static_cast<int>(pieces.size())))];
    return s;
  }

  double num() {
    switch (pick(8)) {
      case 0: return std::nan("");
      case 1: return pick(2) ? HUGE_VAL : -HUGE_VAL;
      case 2: return -0.0;
      case 3: return std::numeric_limits<double>::denorm_min() * (1 + pick(1000));
      case 4: return std::ldexp(std::uniform_real_distribution<double>(-1, 1)(m_rng), pick(2000) - 1000);
      case 5: return static_cast<double>(pick(100000)) / 1000.0;
      case 6: return 1e16 * (1 + pick(9));
      default: return std::uniform_real_distribution<double>(-1e6, 1e6)(m_rng);
    }
  }

  Json value(int depth = 0) {
    switch (pick(depth < 2 ? 9 : 7)) {
      case 0: return nullptr;
      case 1: return pick(2) == 1;
      case 2: return static_cast<int64_t>(std::uniform_int_distribution<int64_t>(INT64_MIN, INT64_MAX)(m_rng));
      case 3: return static_cast<uint64_t>(UINT64_MAX - static_cast<uint64_t>(pick(5)));
      case 4: case 5: return num();
      case 6: return str();
      case 7: {
        Json a = Json::array();
        for (int i = pick(4); i > 0; --i) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        Json o = Json::object();
        for (int i = pick(4); i > 0; --i) o[str()] = value(depth + 1);
        return o;
      }
    }
  }

  // A list of objects whose keys come from a small pool (so rows share, miss and reorder keys).
  Json rows(int n) {
    static const std::vector<std::string> keys = {"step", "loss", "acc", "\xc3\xa9t\xc3\xa9", "a\"b", "rev", "filename", "field", "x"};
    Json list = Json::array();
    for (int r = 0; r < n; ++r) {
      Json o = Json::object();
      for (int k = pick(5); k > 0; --k) o[keys[static_cast<size_t>(pick(static_cast<int>(keys.size())))]] = value();
      list.push_back(o);
    }
    return list;
  }

 private:
  std::mt19937 m_rng;
};

// The reference: Python's `for dp in rows: dp[name] = ...` on a list of objects.
void ref_set_each(Json& rows, const std::string& name, const Json& v) {
  for (auto& dp : rows) dp[name] = v;
}

TEST(PlotsDatapoints, WritesWhatJsonDumpsWritesForGeneratedRows) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    Gen g(seed);
    Json rows = g.rows(g.pick(8));
    auto d = Datapoints::from_json(rows);
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "seed " << seed;
    ASSERT_EQ(d.size(), rows.size());
  }
}

TEST(PlotsDatapoints, EditsMatchDictSemantics) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    Gen g(seed);
    int n = 1 + g.pick(6);
    Json rows = g.rows(n);
    Json other = g.rows(n);
    auto d = Datapoints::from_json(rows);
    auto o = Datapoints::from_json(other);

    Json v = g.value();
    ref_set_each(rows, "rev", v);
    d.set_each("rev", py_json_dumps(v));
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "set_each, seed " << seed;

    for (size_t i = 0; i < rows.size(); ++i) rows[i]["step"] = i;
    d.set_index("step");
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "set_index, seed " << seed;

    // several keys in one pass: as one assignment after the other
    Json a = g.value(), b = g.value();
    ref_set_each(rows, "field", a);
    ref_set_each(rows, "rev", b);
    ref_set_each(rows, "filename", a);
    d.set_each({{"field", py_json_dumps(a)}, {"rev", py_json_dumps(b)}, {"filename", py_json_dumps(a)}});
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "set_each of several, seed " << seed;

    // copy_field from another table and from itself (update_from_field).
    for (size_t i = 0; i < rows.size(); ++i)
      if (other[i].contains("loss")) rows[i]["x"] = other[i]["loss"];
    ASSERT_TRUE(d.copy_field("x", o, "loss"));
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "copy_field, seed " << seed;
    for (size_t i = 0; i < rows.size(); ++i)
      if (rows[i].contains("acc")) rows[i]["dvc_inferred_y_value"] = Json(rows[i]["acc"]);
    ASSERT_TRUE(d.copy_field("dvc_inferred_y_value", d, "acc"));
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "copy_field self, seed " << seed;
    EXPECT_FALSE(d.copy_field("x", Datapoints(), "loss"));  // lengths differ

    for (auto& dp : rows) dp.erase("acc");
    d.erase("acc");
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "erase, seed " << seed;
    for (auto& dp : rows) {
      dp.erase("field");
      dp.erase("nope");
      dp.erase("filename");
    }
    d.erase({"field", "nope", "filename"});
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "erase of several, seed " << seed;

    // merge_rows: later rows update earlier ones index by index (lists of other lengths too).
    Json more = g.rows(g.pick(2 * n + 1));
    for (size_t i = 0; i < more.size(); ++i) {
      if (i >= rows.size()) rows.push_back(Json::object());
      for (auto& [k, val] : more[i].items()) rows[i][k] = val;
    }
    d.merge_rows(Datapoints::from_json(more));
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "merge_rows, seed " << seed;

    for (auto& dp : other) rows.push_back(dp);
    d.append(o);
    ASSERT_EQ(d.json_text(), py_json_dumps(rows)) << "append, seed " << seed;

    bool any = false;
    for (auto& dp : rows) any = any || dp.contains("filename");
    EXPECT_EQ(d.any_row_has("filename"), any);
  }
}

TEST(PlotsDatapoints, PutKeepsThePlaceOfARepeatedKey) {
  Datapoints d;
  d.begin_row();
  auto a = d.intern("a"), b = d.intern("b");
  d.put(a, "\"1\"");
  d.put(b, "\"2\"");
  d.put(a, "\"3\"");
  EXPECT_EQ(d.json_text(), R"([{"a": "3", "b": "2"}])");
  EXPECT_EQ(d.string_at(0, "a"), "3");
  EXPECT_FALSE(d.string_at(0, "c"));
}

TEST(PlotsDatapoints, StringValuesReadBack) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    Gen g(seed);
    std::string s = g.str();
    std::string text;
    formats::py_json_append_string(text, s);
    Datapoints d = Datapoints::from_json(Json::parse("[{}]"));
    d.set_each("rev", text);
    ASSERT_EQ(d.string_at(0, "rev"), s) << text;
  }
}

TEST(PlotsDatapoints, FirstRowKeysCoverAll) {
  EXPECT_TRUE(Datapoints::from_json(Json::parse(R"([{"a": 1, "b": 2}, {"b": 3, "a": 4}, {"a": 5}])"))
                  .keys_of_first_row_cover_all());
  EXPECT_FALSE(Datapoints::from_json(Json::parse(R"([{"a": 1}, {"a": 2, "b": 3}])")).keys_of_first_row_cover_all());
}

TEST(PyJsonRaw, DumpsVerbatimAndIndentsLikeTheValues) {
  for (unsigned seed = 1; seed <= 300; ++seed) {
    Gen g(seed);
    Json v = g.value();
    Json doc = Json::object({{"values", formats::py_json_raw(py_json_dumps(v))}, {"k", Json::array({1, "x"})}});
    Json same = Json::object({{"values", v}, {"k", Json::array({1, "x"})}});
    ASSERT_EQ(py_json_dumps(doc), py_json_dumps(same)) << "seed " << seed;
    ASSERT_EQ(formats::py_json_dumps_indent(doc), formats::py_json_dumps_indent(same)) << "seed " << seed;
    Json rows = g.rows(g.pick(4));
    Json nested = Json::array({Json::object({{"data", formats::py_json_raw(Datapoints::from_json(rows).json_text())}})});
    Json nested_same = Json::array({Json::object({{"data", rows}})});
    ASSERT_EQ(formats::py_json_dumps_indent(nested, 4), formats::py_json_dumps_indent(nested_same, 4)) << "seed " << seed;
  }
}

}  // namespace
}  // namespace dvx::metrics
