#include "dvx/metrics/format.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "dvx/metrics/show.h"

namespace dvx::metrics {
namespace {

using yaml::Node;

std::string recorded(const std::string& name) {
  std::ifstream in(std::string(DVX_FIXTURES_DIR) + "/outputs/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Node parse(const std::string& text) {
  auto r = yaml::parse(text, "x.yaml");
  EXPECT_TRUE(r.has_value());
  return r ? *r : Node();
}

TEST(PyRound, MatchesPythonRound) {
  EXPECT_EQ(format_cell(Node::floating(0.123456789), {CellFormat::Kind::round_decimals, 5}), "0.12346");
  EXPECT_EQ(format_cell(Node::floating(12345.678912), {CellFormat::Kind::round_decimals, 5}), "12345.67891");
  EXPECT_EQ(format_cell(Node::floating(123456789.123), {CellFormat::Kind::round_decimals, 5}), "123456789.123");
  EXPECT_EQ(format_cell(Node::floating(123456789.123), {CellFormat::Kind::round_decimals, 2}), "123456789.12");
  EXPECT_EQ(format_cell(Node::floating(0.776543211), {CellFormat::Kind::round_decimals, 5}), "0.77654");
  // round(2.675, 2) == 2.67 in Python (the double is below 2.675); round(0.5) ties to even
  EXPECT_EQ(py_round(2.675, 2), 2.67);
  EXPECT_EQ(py_round(0.125, 2), 0.12);
  EXPECT_EQ(py_round(-0.01666600000000007, 5), -0.01667);
  EXPECT_EQ(format_cell(Node::floating(0.0), {CellFormat::Kind::round_decimals, 5}), "0.0");
  EXPECT_EQ(format_cell(Node::floating(1e-07), {CellFormat::Kind::round_decimals, 10}), "1e-07");
  EXPECT_EQ(format_cell(Node::integer(7), {CellFormat::Kind::round_decimals, 5}), "7");
  EXPECT_EQ(format_cell(Node::boolean(true), {CellFormat::Kind::round_decimals, 5}), "True");
}

TEST(PyFormatG, SignificantDigits) {
  EXPECT_EQ(py_format_g(0.9666666666666667, 5), "0.96667");
  EXPECT_EQ(py_format_g(12345.678912, 5), "12346");
  EXPECT_EQ(py_format_g(123456789.123, 5), "1.2346e+08");
  EXPECT_EQ(py_format_g(1.2345678e-05, 5), "1.2346e-05");
  EXPECT_EQ(py_format_g(0.37037033999999996, 2), "0.37");
}

TEST(PyStr, ValuesAsPythonPrintsThem) {
  EXPECT_EQ(py_str(parse("[x1, x2, x3]")), "['x1', 'x2', 'x3']");
  EXPECT_EQ(py_str(parse("[16, 8]")), "[16, 8]");
  EXPECT_EQ(py_str(parse("[1.0, true, null, {a: b}]")), "[1.0, True, None, {'a': 'b'}]");
  EXPECT_EQ(py_str(parse("\"it's\"")), "it's");
  EXPECT_EQ(py_repr(parse("\"it's\"")), "\"it's\"");
  EXPECT_EQ(py_str(Node::floating(0.1)), "0.1");
  EXPECT_EQ(py_str(Node::floating(1e16)), "1e+16");
}

TEST(Subtract, PythonArithmetic) {
  auto d = subtract(Node::floating(0.616667), Node::floating(0.633333));
  EXPECT_EQ(py_str(d), "-0.01666600000000007");
  EXPECT_EQ(py_str(subtract(Node::boolean(false), Node::boolean(true))), "-1");
  EXPECT_EQ(py_str(subtract(Node::integer(8), Node::integer(7))), "1");
  EXPECT_EQ(py_str(subtract(Node::floating(2.5), Node::integer(2))), "0.5");
}

TEST(Flatten, DottedKeysInOrder) {
  auto doc = parse("b: {y: 1, x: {deep: 2}}\na: 3\ne: {}\n");
  auto flat = flatten(doc);
  ASSERT_EQ(flat.size(), 3u);
  EXPECT_EQ(flat[0].first, "b.y");
  EXPECT_EQ(flat[1].first, "b.x.deep");
  EXPECT_EQ(flat[2].first, "a");
}

TEST(Tables, PlainAndMarkdownLayout) {
  Table t{{"Path", "acc"}, {{"metrics.json", "0.9"}}};
  EXPECT_EQ(render_plain(t), "Path          acc\nmetrics.json  0.9\n");
  EXPECT_EQ(render_markdown(t), "| Path         | acc   |\n|--------------|-------|\n| metrics.json | 0.9   |\n\n");
  EXPECT_EQ(render_plain(Table{{"Path"}, {}}), "");
  EXPECT_EQ(render_markdown(Table{{"Path", "Metric"}, {}}), "| Path   | Metric   |\n|--------|----------|\n\n");
  // East Asian wide characters take two cells
  EXPECT_EQ(render_plain(Table{{"精度", "x"}, {{"1", "2"}}}), "精度    x\n1       2\n");
  EXPECT_EQ(render_csv(Table{{"a", "b"}, {{"[1, 2]", "x,\"y\""}}}), "a,b\r\n\"[1, 2]\",\"x,\"\"y\"\"\"\r\n");
}

RevisionResult revision(const std::string& name, const std::string& path, const std::string& yaml_text) {
  RevisionResult r;
  r.name = name;
  r.files.push_back({path, parse(yaml_text), std::nullopt});
  return r;
}

TEST(Recorded, MetricsShowPipeline) {
  auto r = revision("", "metrics.json",
                    R"({"epochs": 5, "test": {"accuracy": 0.8, "loss": 0.486231}, "train": {"accuracy": 0.616667, "loss": 0.567601}})");
  std::vector<RevisionResult> revs{r};
  auto t = show_table(revs, false, 5);
  EXPECT_EQ(render_plain(t), recorded("pipeline.metrics-show.txt"));
  EXPECT_EQ(render_markdown(t), recorded("pipeline.metrics-show.md"));
  std::string json = show_json(revs).dump();
  EXPECT_EQ(nlohmann::json::parse(json), nlohmann::json::parse(recorded("pipeline.metrics-show.json")));
}

TEST(Recorded, MetricsDiffPipeline) {
  auto old_r = revision("HEAD~1", "metrics.json",
                        R"({"epochs": 5, "test": {"accuracy": 0.8, "loss": 0.467791}, "train": {"accuracy": 0.633333, "loss": 0.58081}})");
  auto new_r = revision("workspace", "metrics.json",
                        R"({"epochs": 5, "test": {"accuracy": 0.8, "loss": 0.486231}, "train": {"accuracy": 0.616667, "loss": 0.567601}})");
  auto d = diff(&old_r, &new_r, false);
  EXPECT_EQ(nlohmann::json::parse(diff_json(d).dump()), nlohmann::json::parse(recorded("pipeline.metrics-diff.json")));
  EXPECT_EQ(render_plain(diff_table(d, "Metric", "HEAD~1", "workspace", false, true,
                                    {CellFormat::Kind::round_decimals, 5})),
            recorded("pipeline.metrics-diff.txt"));
  EXPECT_EQ(render_markdown(diff_table(d, "Metric", "HEAD~1", "workspace", false, true,
                                       {CellFormat::Kind::round_decimals, 3})),
            recorded("pipeline.metrics-diff.precision3.md"));
}

TEST(Recorded, ParamsDiffAllKeepsTypes) {
  auto old_r = revision("HEAD~1", "params.yaml", "train: {lr: 0.01, layers: [16, 8], flag: true, n: 5}\n");
  auto new_r = revision("workspace", "params.yaml", "train: {lr: 0.05, layers: [16, 8], flag: true, n: 5}\n");
  auto j = diff_json(diff(&old_r, &new_r, true));
  EXPECT_EQ(j.dump(), R"({"params.yaml":{"train.lr":{"old":0.01,"new":0.05,"diff":0.04},"train.layers":{"old":"[16, 8]","new":"[16, 8]"},"train.flag":{"old":true,"new":true,"diff":0},"train.n":{"old":5,"new":5,"diff":0}}})");
  auto changed = diff_json(diff(&old_r, &new_r, false));
  EXPECT_EQ(changed, nlohmann::ordered_json::parse(recorded("pipeline.params-diff.json")));
  EXPECT_EQ(render_plain(diff_table(diff(&old_r, &new_r, false), "Param", "HEAD~1", "workspace", false, false, {})),
            recorded("pipeline.params-diff.txt"));
  EXPECT_EQ(render_markdown(diff_table(diff(&old_r, &new_r, false), "Param", "HEAD~1", "workspace", false, false, {})),
            recorded("pipeline.params-diff.md"));
}

}  // namespace
}  // namespace dvx::metrics

namespace dvx::metrics {
namespace {

// The cells of a recorded `exp show --md` table (the same cells as the box table).
Table table_of_markdown(const std::string& md) {
  Table t;
  std::istringstream in(md);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    if (n++ == 1) continue;  // the |---| rule
    std::vector<std::string> cells;
    size_t start = 1;
    for (size_t p; (p = line.find(" |", start)) != std::string::npos; start = p + 2) {
      std::string c = line.substr(start, p - start);
      while (!c.empty() && c.front() == ' ') c.erase(0, 1);
      while (!c.empty() && c.back() == ' ') c.pop_back();
      cells.push_back(c);
    }
    if (t.headers.empty()) t.headers = cells;
    else t.rows.push_back(cells);
  }
  return t;
}

// Experiment, Created; 5 metrics; 15 params; 8 deps (experiments fixture).
std::vector<BoxColumn> experiments_columns() {
  std::vector<BoxColumn> cols;
  cols.push_back({BoxColumn::Justify::left, false, true});
  cols.push_back({BoxColumn::Justify::left, false, false});
  for (int i = 0; i < 5; ++i) cols.push_back({BoxColumn::Justify::right, i != 0, true});
  for (int i = 0; i < 15; ++i) cols.push_back({BoxColumn::Justify::left, i != 0, false});
  for (int i = 0; i < 8; ++i) cols.push_back({BoxColumn::Justify::left, i != 0, false});
  return cols;
}

// The example of cli.md §6.8: acc the only metric; lr, epochs params (epochs collapsible);
// train.sh the only dep.
Table small_table() {
  return Table{{"Experiment", "Created", "acc", "lr", "epochs", "train.sh"},
               {{"workspace", "-", "0.8", "0.2", "5", "a9cae3da72c0e560c94eefaddaa65046"},
                {"master", "11:18 AM", "0.9", "0.1", "5", "a9cae3da72c0e560c94eefaddaa65046"},
                {"└── 0b0e05c [fast]", "11:18 AM", "0.8", "0.2", "5", "a9cae3da72c0e560c94eefaddaa65046"}}};
}

std::vector<BoxColumn> small_columns() {
  return {{BoxColumn::Justify::left, false, true},  {BoxColumn::Justify::left, false, false},
          {BoxColumn::Justify::right, false, true}, {BoxColumn::Justify::left, false, false},
          {BoxColumn::Justify::left, true, false},  {BoxColumn::Justify::left, false, false}};
}

TEST(RenderBox, CollapsesColumnsToFitTheConsoleAsDvcDoes) {
  Table t = table_of_markdown(recorded("experiments.exp-show.md"));
  ASSERT_EQ(t.headers.size(), 30u);
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(render_box(t, experiments_columns(), 160), recorded("experiments.exp-show.txt"));
}

TEST(RenderBox, NaturalWidthWhenItFits) {
  Table t = small_table();
  std::vector<BoxColumn> cols = small_columns();
  std::string rule = " " + [] {
    std::string s;
    for (int i = 0; i < 87; ++i) s += "─";
    return s;
  }() + " \n";
  // cli.md §6.8, natural width
  EXPECT_EQ(render_box(t, cols, 1024),
            rule + "  Experiment           Created    acc   lr    epochs   train.sh                          \n" + rule +
                "  workspace            -          0.8   0.2   5        a9cae3da72c0e560c94eefaddaa65046  \n"
                "  master               11:18 AM   0.9   0.1   5        a9cae3da72c0e560c94eefaddaa65046  \n"
                "  └── 0b0e05c [fast]   11:18 AM   0.8   0.2   5        a9cae3da72c0e560c94eefaddaa65046  \n" +
                rule);
}

TEST(RenderBox, EightyColumnsCollapseAndTruncate) {
  Table t = small_table();
  std::vector<BoxColumn> cols = small_columns();
  std::string out = render_box(t, cols, 80);
  std::string rule;
  for (int i = 0; i < 78; ++i) rule += "─";
  // cli.md §6.8: `epochs` collapsed away, the dep truncated
  EXPECT_EQ(out, " " + rule + " \n" +
                     "  Experiment           Created    acc   lr     train.sh                         \n" + " " + rule +
                     " \n" +
                     "  workspace            -          0.8   0.2    a9cae3da72c0e560c94eefaddaa650…  \n"
                     "  master               11:18 AM   0.9   0.1    a9cae3da72c0e560c94eefaddaa650…  \n"
                     "  └── 0b0e05c [fast]   11:18 AM   0.8   0.2    a9cae3da72c0e560c94eefaddaa650…  \n" +
                     " " + rule + " \n");
}

}  // namespace
}  // namespace dvx::metrics

namespace dvx::metrics {
namespace {

TEST(FormatCell, SignificantDigitsAsDvcFormatsFields) {
  CellFormat g5{CellFormat::Kind::significant, 5};
  EXPECT_EQ(format_cell(Node::floating(0.9666666666666667), g5), "0.96667");
  EXPECT_EQ(format_cell(Node::floating(123456789.123), g5), "1.2346e+08");
  EXPECT_EQ(format_cell(Node::floating(1.2345678e-05), g5), "1.2346e-05");
  EXPECT_EQ(format_cell(Node::integer(7), g5), "7");
  EXPECT_EQ(format_cell(Node::boolean(true), g5), "True");
  // floats inside lists become strings first (str(['0.1', 2]))
  auto list = Node::sequence();
  list.seq.push_back(Node::floating(0.123456789));
  list.seq.push_back(Node::integer(2));
  EXPECT_EQ(format_cell(list, g5), "['0.12346', 2]");
}

}  // namespace
}  // namespace dvx::metrics
