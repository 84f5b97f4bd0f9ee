#include "dvx/metrics/plots_render.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "fixtures.h"

#include "dvx/formats/py_json.h"

namespace dvx::metrics {
namespace {

using test::read_fixture;

RenderOptions options() { return RenderOptions{"/tmp/dvx-plots-test-out", "", "/"}; }

RevisionPlots rev_with(const std::string& rev, const std::string& config, const std::string& id, Json def,
                       const std::string& file, const std::string& text) {
  RevisionPlots r;
  r.rev = rev;
  r.definitions.push_back(ConfigPlots{config, {{id, std::move(def)}}});
  r.sources[file] = parse_plot_file(file, text, true);
  return r;
}

const char* k_loss = "epoch,loss,accuracy\n1,0.593155,0.633333\n2,0.584611,0.633333\n3,0.577576,0.633333\n"
                     "4,0.572144,0.633333\n5,0.567601,0.616667\n";

// A stage plot output with x/y: `plots show --json` of the pipeline fixture, byte for byte.
TEST(PlotsRender, StageOutputJsonMatchesDvc) {
  std::vector<RevisionPlots> revs{
      rev_with("workspace", "", "plots/loss.csv", Json::parse(R"({"x": "epoch", "y": "loss"})"), "plots/loss.csv", k_loss)};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  EXPECT_TRUE(warnings.empty());
  auto j = plots_json(renderers, revs, options(), false);
  EXPECT_EQ(formats::py_json_dumps(j) + "\n", read_fixture("outputs/pipeline.plots-show.json"));
}

const char* k_spec_head = R"({"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": )";

// cli.md §6.9: `plots diff HEAD --split --json` keeps the anchors and lists their values apart.
TEST(PlotsRender, SplitJsonShape) {
  Json def = Json::parse(R"({"x": "epoch", "y": {"train.csv": "loss"}})");
  std::vector<RevisionPlots> revs{rev_with("workspace", "dvc.yaml", "loss", def, "train.csv", "epoch,loss\n1,0.8\n2,0.4\n"),
                                  rev_with("HEAD", "dvc.yaml", "loss", def, "train.csv", "epoch,loss\n1,0.9\n2,0.5\n")};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  std::string out = formats::py_json_dumps(plots_json(renderers, revs, options(), true));
  EXPECT_EQ(out.size(), 2725u);
  EXPECT_TRUE(out.starts_with(R"({"data": {"loss": [{"type": "vega", "revisions": ["workspace", "HEAD"], "content": )"
                              R"({"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "data": {"values": "<DVC_METRIC_DATA>"}, )"
                              R"("title": {"text": "<DVC_METRIC_TITLE>", "anchor": "middle"}, "width": "<DVC_METRIC_PLOT_WIDTH>")"))
      << out;
  EXPECT_NE(out.find(R"("anchor_definitions": {"<DVC_METRIC_COLOR>": {"field": "rev", "scale": {"domain": ["workspace", "HEAD"], )"
                     R"("range": ["#945dd6", "#13adc7"]}}, "<DVC_METRIC_ZOOM_AND_PAN>": {"name": "grid", "select": "interval", )"
                     R"("bind": "scales"}, "<DVC_METRIC_PLOT_HEIGHT>": 300, "<DVC_METRIC_PLOT_WIDTH>": 300, )"
                     R"("<DVC_METRIC_TITLE>": "loss", "<DVC_METRIC_X_LABEL>": "epoch", "<DVC_METRIC_Y_LABEL>": "loss", )"
                     R"("<DVC_METRIC_DATA>": [{"epoch": "1", "loss": "0.8", "rev": "workspace"}, {"epoch": "2", "loss": "0.4", )"
                     R"("rev": "workspace"}, {"epoch": "1", "loss": "0.9", "rev": "HEAD"}, {"epoch": "2", "loss": "0.5", "rev": "HEAD"}]}}]}})"),
            std::string::npos)
      << out;
}

// A plain file plot: `step` index, y = the last column, title = the path.
TEST(PlotsRender, PlainFileInfersStepAndLastColumn) {
  std::vector<RevisionPlots> revs{rev_with("workspace", "", "t.csv", Json::object(), "t.csv", "epoch,loss,acc\n1,2,3\n")};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  ASSERT_EQ(renderers.size(), 1u);
  Json spec = filled_spec(renderers[0], options());
  EXPECT_EQ(formats::py_json_dumps(spec["data"]), R"({"values": [{"epoch": "1", "loss": "2", "acc": "3", "step": 0, "rev": "workspace"}]})");
  EXPECT_EQ(spec["title"]["text"], "t.csv");
  EXPECT_EQ(spec["encoding"]["x"]["field"], "step");
  EXPECT_EQ(spec["layer"][0]["encoding"]["y"]["field"], "acc");
}

// Several y fields: the synthetic y field, a "field" key per datapoint and a strokeDash scale.
TEST(PlotsRender, SeveralYFields) {
  Json def = Json::parse(R"({"x": "epoch", "y": {"t.csv": ["loss", "acc"]}})");
  std::vector<RevisionPlots> revs{rev_with("workspace", "dvc.yaml", "both", def, "t.csv", "epoch,loss,acc\n1,2,3\n")};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  Json spec = filled_spec(renderers[0], options());
  EXPECT_EQ(formats::py_json_dumps(spec["data"]["values"]),
            R"([{"epoch": "1", "loss": "2", "acc": "3", "dvc_inferred_y_value": "2", "rev": "workspace", "field": "loss"}, )"
            R"({"epoch": "1", "loss": "2", "acc": "3", "dvc_inferred_y_value": "3", "rev": "workspace", "field": "acc"}])");
  EXPECT_EQ(formats::py_json_dumps(spec["encoding"]["strokeDash"]),
            R"({"field": "field", "scale": {"domain": ["acc", "loss"], "range": [[1, 0], [8, 8]]}, )"
            R"("legend": {"symbolFillColor": "transparent", "symbolStrokeColor": "grey"}})");
  EXPECT_EQ(spec["layer"][0]["encoding"]["y"]["title"], "y");
}

// A missing field is a per-revision error with DVC's message and a lower-cased warning.
TEST(PlotsRender, MissingFieldIsARevisionError) {
  Json def = Json::parse(R"({"x": "nope", "y": "loss"})");
  std::vector<RevisionPlots> revs{rev_with("workspace", "", "t.csv", def, "t.csv", "epoch,loss\n1,2\n")};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_EQ(warnings[0], "In 'workspace', could not find provided field ('nope') in data fields ('epoch, loss').");
  auto j = plots_json(renderers, revs, options(), false);
  EXPECT_EQ(formats::py_json_dumps(j),
            R"({"errors": [{"name": "t.csv", "rev": "workspace", "type": "FieldNotFoundError", "msg": )"
            R"("Could not find provided field ('nope') in data fields ('epoch, loss')."}], "data": {"t.csv": []}})");
}

TEST(PlotsRender, SourceErrorsListed) {
  RevisionPlots r;
  r.rev = "workspace";
  r.definitions.push_back(ConfigPlots{"", {{"missing.csv", Json::object()}}});
  PlotFileData e;
  e.kind = PlotFileData::Kind::error;
  e.error = file_not_found("missing.csv");
  r.sources["missing.csv"] = e;
  std::vector<RevisionPlots> revs{r};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  EXPECT_EQ(formats::py_json_dumps(plots_json(renderers, revs, options(), false)),
            R"({"errors": [{"name": "missing.csv", "rev": "workspace", "source": "missing.csv", "type": "FileNotFoundError", )"
            R"("msg": "[Errno 2] No such file or directory: 'missing.csv'"}], "data": {"missing.csv": []}})");
}

TEST(PlotsRender, HtmlIds) {
  EXPECT_EQ(html_id("dvc.yaml::train.csv"), "dvc_yaml__train_csv");
  EXPECT_EQ(html_id("a b/c"), "a_b_c");
}

TEST(PlotsRender, PageWithCdnScripts) {
  std::vector<RevisionPlots> revs{
      rev_with("workspace", "", "plots/loss.csv", Json::parse(R"({"x": "epoch", "y": "loss"})"), "plots/loss.csv", k_loss)};
  std::vector<std::string> warnings;
  auto renderers = match_renderers(revs, options(), warnings);
  std::string page = render_page(renderers, options(), std::nullopt, "/tmp", PageScripts{});
  EXPECT_EQ(page, read_fixture("outputs/pipeline.plots-show.index.html"));
  PageScripts offline{true, "var vega=1; '</script>'", "var vl=1;", "var ve=1;"};
  std::string off = render_page(renderers, options(), std::nullopt, "/tmp", offline);
  EXPECT_EQ(off.find("<script src="), std::string::npos);
  EXPECT_NE(off.find("var vega=1; '<\\/script>'"), std::string::npos);
  EXPECT_THROW(render_page(renderers, options(), std::string("no placeholder"), "/tmp", PageScripts{}), PlotsRenderError);
}

}  // namespace
}  // namespace dvx::metrics
