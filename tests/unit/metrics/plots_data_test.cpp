#include "dvx/metrics/plots_data.h"

#include <gtest/gtest.h>

#include "dvx/formats/py_json.h"

namespace dvx::metrics {
namespace {

std::string dumps(const Json& j) { return formats::py_json_dumps(j); }

TEST(PlotsData, CsvValuesStayStrings) {
  auto d = parse_plot_file("train.csv", "epoch,loss\n1,0.9\r\n2,0.5\n", true);
  ASSERT_EQ(d.kind, PlotFileData::Kind::data);
  ASSERT_TRUE(d.rows);
  EXPECT_EQ(d.rows->json_text(), R"([{"epoch": "1", "loss": "0.9"}, {"epoch": "2", "loss": "0.5"}])");
}

TEST(PlotsData, CsvQuotingBlankLinesShortAndLongRows) {
  auto j = parse_delimited("a,b\n\"x,1\",\"say \"\"hi\"\"\"\n\n3\n4,5,6\n", ',', true);
  EXPECT_EQ(j.json_text(), R"([{"a": "x,1", "b": "say \"hi\""}, {"a": "3", "b": null}, {"a": "4", "b": "5", "null": ["6"]}])");
  auto q = parse_delimited("a\n\"multi\nline\"\n", ',', true);
  EXPECT_EQ(q.json_text(), R"([{"a": "multi\nline"}])");
}

TEST(PlotsData, TsvAndNoHeader) {
  auto t = parse_plot_file("m.tsv", "x\ty\n1\t2\n", true);
  EXPECT_EQ(t.rows->json_text(), R"([{"x": "1", "y": "2"}])");
  auto n = parse_plot_file("m.csv", "1,2\n3,4\n", false);
  EXPECT_EQ(n.rows->json_text(), R"([{"0": "1", "1": "2"}, {"0": "3", "1": "4"}])");
  // DVC counts the columns of a header-less TSV on its first row split at commas.
  auto nt = parse_plot_file("m.tsv", "1\t2\n", false);
  EXPECT_EQ(nt.rows->json_text(), R"([{"0": "1", "null": ["2"]}])");
}

TEST(PlotsData, EmptyCsvIsNoData) {
  EXPECT_EQ(parse_plot_file("e.csv", "", true).kind, PlotFileData::Kind::none);
  EXPECT_EQ(parse_plot_file("e.csv", "a,b\n", true).kind, PlotFileData::Kind::none);
  EXPECT_EQ(parse_plot_file("e.json", "[]", true).kind, PlotFileData::Kind::none);
}

TEST(PlotsData, JsonAndYamlKeepTypes) {
  auto j = parse_plot_file("acc.json", R"([{"step": 1, "acc": 0.5, "ok": true}, {"step": 2, "acc": 0.0, "ok": null}])", true);
  ASSERT_EQ(j.kind, PlotFileData::Kind::data);
  EXPECT_EQ(dumps(j.data), R"([{"step": 1, "acc": 0.5, "ok": true}, {"step": 2, "acc": 0.0, "ok": null}])");
  auto y = parse_plot_file("p.yaml", "train:\n- {step: 1, loss: 1.5}\n- {step: 2, loss: '0.5'}\n", true);
  EXPECT_EQ(dumps(y.data), R"({"train": [{"step": 1, "loss": 1.5}, {"step": 2, "loss": "0.5"}]})");
}

TEST(PlotsData, MalformedFilesReportDvcExceptions) {
  auto bad = parse_plot_file("bad.json", "{\"a\": [1,", true);
  ASSERT_EQ(bad.kind, PlotFileData::Kind::error);
  EXPECT_EQ(bad.error.type, "JSONFileCorruptedError");
  EXPECT_EQ(bad.error.msg, "unable to read: 'bad.json', JSON file structure is corrupted");
  auto y = parse_plot_file("bad.yaml", "a: [1\n", true);
  EXPECT_EQ(y.error.type, "YAMLFileCorruptedError");
  auto ty = parse_plot_file("x.txt", "1", true);
  EXPECT_EQ(ty.error.type, "PlotMetricTypeError");
  EXPECT_EQ(ty.error.msg, "'x.txt' - file type error\nOnly JSON, YAML, CSV and TSV formats are supported.");
  auto enc = parse_plot_file("x.csv", "a\n\xff\n", true);
  EXPECT_EQ(enc.error.type, "EncodingError");
  EXPECT_EQ(enc.error.msg, "unable to read: 'x.csv', is not valid utf8");
  EXPECT_EQ(file_not_found("m.csv").msg, "[Errno 2] No such file or directory: 'm.csv'");
}

TEST(PlotsData, ImagesPassThrough) {
  auto i = parse_plot_file("dir/img.png", std::string("\x89PNG\0x", 6), true);
  ASSERT_EQ(i.kind, PlotFileData::Kind::image);
  EXPECT_EQ(i.image.size(), 6u);
  EXPECT_FALSE(is_image_path("img.PNG"));
}

}  // namespace
}  // namespace dvx::metrics
