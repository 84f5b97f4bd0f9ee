#include "dvx/metrics/plots_templates.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "fixtures.h"

#include "dvx/formats/py_json.h"

namespace dvx::metrics {
namespace {

using test::read_fixture;

TEST(PlotsTemplates, BuiltinsInDvcOrder) {
  std::vector<std::string> names;
  for (auto& t : builtin_templates()) names.emplace_back(t.name);
  EXPECT_EQ(names, (std::vector<std::string>{"simple", "linear", "confusion", "confusion_normalized", "scatter",
                                             "scatter_jitter", "smooth", "bar_horizontal_sorted",
                                             "bar_horizontal"}));
}

// Each built-in is byte-equal to `dvc plots templates <name>` and survives a parse and
// json.dumps() round trip unchanged (the filled specs are written that way).
TEST(PlotsTemplates, BuiltinsByteEqualToDvc) {
  for (auto& t : builtin_templates()) {
    std::string recorded = read_fixture("plots/templates/" + std::string(t.name) + ".json");
    ASSERT_FALSE(recorded.empty()) << t.name;
    EXPECT_EQ(std::string(t.text) + "\n", recorded) << t.name;
    EXPECT_EQ(formats::py_json_dumps(Json::parse(t.text)), t.text) << t.name;
  }
}

TEST(PlotsTemplates, AnchorsFoundAndFilled) {
  auto t = load_template(std::nullopt, "", "/nonexistent");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->name, "linear");
  EXPECT_TRUE(has_anchor(t->content, anchor_text("x")));
  EXPECT_TRUE(has_anchor(t->content, anchor_text("zoom_and_pan")));  // inside a list
  EXPECT_FALSE(has_anchor(t->content, anchor_text("shape")));
  fill_anchor(t->content, anchor_text("x"), "epoch");
  EXPECT_FALSE(has_anchor(t->content, anchor_text("x")));
  EXPECT_EQ(t->content["encoding"]["x"]["field"], "epoch");
  EXPECT_EQ(t->content["layer"][3]["params"][0]["select"]["fields"][0], "epoch");
}

TEST(PlotsTemplates, SubstringReplacedOnlyInObjectsWithStrings) {
  Json c = Json::parse(R"({"a": "datum.<DVC_METRIC_X>", "b": ["pre <DVC_METRIC_X>", "<DVC_METRIC_X>"]})");
  fill_anchor(c, "<DVC_METRIC_X>", "f");
  EXPECT_EQ(formats::py_json_dumps(c), R"({"a": "datum.f", "b": ["pre <DVC_METRIC_X>", "f"]})");
  Json d = Json::parse(R"({"a": "x<DVC_METRIC_Y>", "b": "<DVC_METRIC_Y>"})");
  fill_anchor(d, "<DVC_METRIC_Y>", Json::array({1}));
  EXPECT_EQ(formats::py_json_dumps(d), R"({"a": "x<DVC_METRIC_Y>", "b": [1]})");
}

TEST(PlotsTemplates, EscapesFieldNames) { EXPECT_EQ(escape_field("a.b[0]"), "a\\.b\\[0\\]"); }

TEST(PlotsTemplates, CustomTemplateFromTemplatesDir) {
  auto dir = std::filesystem::temp_directory_path() / ("dvx_tpl_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "mine.json") << R"({"data": {"values": "<DVC_METRIC_DATA>"}})";
  std::ofstream(dir / "bad.json") << "[1, 2]";
  auto t = load_template("mine", dir.string(), "/");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_TRUE(has_anchor(t->content, "<DVC_METRIC_DATA>"));
  EXPECT_FALSE(load_template("bad", dir.string(), "/"));
  auto missing = load_template("nope", dir.string(), "/");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "Template 'nope' not found.");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace dvx::metrics
