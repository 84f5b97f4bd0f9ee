#include "dvx/experiments/show.h"

#include <gtest/gtest.h>

#include "dvx/experiments/exp_refs.h"

namespace dvx::experiments {
namespace {

yaml::Node parse(const std::string& text) {
  auto r = yaml::parse(text, "x.yaml");
  EXPECT_TRUE(r.has_value());
  return r ? *r : yaml::Node();
}

metrics::FileResult file(const std::string& path, const std::string& yaml_text) {
  return {path, parse(yaml_text), std::nullopt};
}

ExpState state(const std::string& rev, std::optional<std::string> name, const std::string& params,
               const std::string& mets, std::optional<int64_t> time = 1700000000) {
  ExpState st;
  st.rev = rev;
  st.name = std::move(name);
  ExpData d;
  d.rev = rev;
  d.time = time;
  d.params.push_back(file("params.yaml", params));
  if (!mets.empty()) d.metrics.push_back(file("metrics.json", mets));
  d.deps.push_back({"train.py", ExpDep{"abc", 3, std::nullopt}});
  st.data = std::move(d);
  return st;
}

std::string sha(char c) { return std::string(40, c); }

std::vector<ExpState> sample() {
  ExpState ws = state("workspace", std::nullopt, "lr: 0.3\nepochs: 5\n", "acc: 0.7\n", std::nullopt);
  ExpState base = state(sha('a'), "main", "lr: 0.1\nepochs: 5\n", "acc: 0.5\n");
  std::vector<ExpRange> exps;
  for (auto [c, name, lr, acc] : {std::tuple{'c', "third", "0.3", "0.7"}, std::tuple{'b', "second", "0.2", "0.9"},
                                  std::tuple{'d', "first", "0.4", "0.6"}}) {
    ExpRange r;
    r.name = name;
    r.revs.push_back(state(sha(c), name, std::string("lr: ") + lr + "\nepochs: 5\n", std::string("acc: ") + acc + "\n"));
    exps.push_back(std::move(r));
  }
  base.experiments = std::move(exps);
  return {ws, base};
}

std::vector<std::string> column(const ExpTable& t, const std::string& name) {
  size_t i = 0;
  while (i < t.table.headers.size() && t.table.headers[i] != name) ++i;
  std::vector<std::string> out;
  if (i == t.table.headers.size()) return out;
  for (auto& r : t.table.rows) out.push_back(r[i]);
  return out;
}

TEST(ParseExpRef, TakesApartDvcRefNames) {
  auto r = parse_listed_ref("refs/exps/48/ff4e33d7577dc520929fd54041c64621bb5b2c/exp-a");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->baseline, "48ff4e33d7577dc520929fd54041c64621bb5b2c");
  EXPECT_EQ(r->name, "exp-a");
  auto nameless = parse_listed_ref("refs/exps/48/ff4e33d7577dc520929fd54041c64621bb5b2c");
  ASSERT_TRUE(nameless);
  EXPECT_EQ(nameless->name, "");
  EXPECT_FALSE(parse_listed_ref("refs/exps/stash"));
  EXPECT_FALSE(parse_listed_ref("refs/exps/exec/EXEC_HEAD"));
  EXPECT_FALSE(parse_listed_ref("refs/exps/celery/failed"));
  EXPECT_FALSE(parse_listed_ref("refs/exps/48/ff/a/b"));
  EXPECT_FALSE(parse_listed_ref("refs/heads/48/ff/a"));
}

TEST(Tabulate, CsvColumnsRowsAndTypes) {
  TableOptions o;
  o.csv = true;
  auto t = tabulate(sample(), o);
  EXPECT_EQ(t.table.headers, (std::vector<std::string>{"Experiment", "rev", "typ", "Created", "parent", "acc", "lr",
                                                       "epochs", "train.py"}));
  EXPECT_EQ(column(t, "Experiment"), (std::vector<std::string>{"", "", "third", "second", "first"}));
  EXPECT_EQ(column(t, "rev"), (std::vector<std::string>{"workspace", "main", "ccccccc", "bbbbbbb", "ddddddd"}));
  EXPECT_EQ(column(t, "typ"),
            (std::vector<std::string>{"baseline", "baseline", "branch_commit", "branch_commit", "branch_base"}));
  EXPECT_EQ(column(t, "Created")[0], "");
  EXPECT_EQ(column(t, "Created")[1], local_time(1700000000));
  EXPECT_EQ(column(t, "train.py")[2], "abc");
}

TEST(Tabulate, TableMergesTheExperimentColumn) {
  TableOptions o;
  o.precision = 5;
  auto t = tabulate(sample(), o);
  EXPECT_EQ(t.table.headers.front(), "Experiment");
  EXPECT_EQ(t.table.headers[1], "Created");
  EXPECT_EQ(column(t, "Experiment"), (std::vector<std::string>{"workspace", "main", "├── ccccccc [third]",
                                                               "├── bbbbbbb [second]", "└── ddddddd [first]"}));
  EXPECT_EQ(column(t, "Created")[0], "-");
  EXPECT_EQ(t.kinds[2], ColumnKind::metric);
  EXPECT_EQ(t.collapsible, (std::vector<bool>{false, false, false, false, true, false}));
}

TEST(Tabulate, SortBy) {
  TableOptions o;
  o.csv = true;
  o.sort_by = "acc";
  EXPECT_EQ(column(tabulate(sample(), o), "Experiment"), (std::vector<std::string>{"", "", "first", "third", "second"}));
  o.sort_by = "params.yaml:lr";
  o.sort_desc = true;
  auto t = tabulate(sample(), o);
  EXPECT_EQ(column(t, "Experiment"), (std::vector<std::string>{"", "", "first", "third", "second"}));
  EXPECT_EQ(column(t, "typ").back(), "branch_base");
  o.sort_by = "nope";
  EXPECT_THROW(tabulate(sample(), o), UserError);
}

TEST(Tabulate, OnlyChangedKeepDrop) {
  TableOptions o;
  o.csv = true;
  o.only_changed = true;
  auto t = tabulate(sample(), o);
  EXPECT_EQ(t.table.headers, (std::vector<std::string>{"Experiment", "rev", "typ", "Created", "acc", "lr"}));
  o.keep = {"ep"};
  EXPECT_EQ(tabulate(sample(), o).table.headers,
            (std::vector<std::string>{"Experiment", "rev", "typ", "Created", "acc", "lr", "epochs"}));
  o = {};
  o.csv = true;
  o.drop = {"a", "train"};
  EXPECT_EQ(tabulate(sample(), o).table.headers,
            (std::vector<std::string>{"Experiment", "rev", "typ", "Created", "parent", "lr", "epochs"}));
}

TEST(Tabulate, SameKeyInTwoFilesIsQualified) {
  auto states = sample();
  states[0].data->params.push_back(file("other.yaml", "lr: 1\n"));
  TableOptions o;
  o.csv = true;
  auto t = tabulate(states, o);
  EXPECT_EQ(t.table.headers, (std::vector<std::string>{"Experiment", "rev", "typ", "Created", "parent", "acc",
                                                       "params.yaml:lr", "epochs", "other.yaml:lr", "train.py"}));
  EXPECT_EQ(column(t, "other.yaml:lr"), (std::vector<std::string>{"1", "", "", "", ""}));
}

TEST(Tabulate, FailedFileShowsBang) {
  auto states = sample();
  states[1].data->metrics[0] = {"metrics.json", std::nullopt, metrics::ErrorEntry{"FileNotFoundError", "x"}};
  TableOptions o;
  o.precision = 5;
  auto t = tabulate(states, o);
  EXPECT_EQ(column(t, "acc"), (std::vector<std::string>{"0.7", "!", "0.7", "0.9", "0.6"}));
}

TEST(ShowJson, ShapeOfAState) {
  auto states = sample();
  auto j = show_json(states);
  ASSERT_EQ(j.size(), 2u);
  EXPECT_EQ(j[0].dump(),
            R"({"rev":"workspace","name":null,"data":{"rev":"workspace","timestamp":null,"params":{"params.yaml":{"data":{"lr":0.3,"epochs":5}}},"metrics":{"metrics.json":{"data":{"acc":0.7}}},"deps":{"train.py":{"hash":"abc","size":3,"nfiles":null}},"outs":{},"meta":{}},"error":null,"experiments":null})");
  EXPECT_EQ(j[1]["experiments"][0]["name"], "third");
  EXPECT_TRUE(j[1]["experiments"][0]["executor"].is_null());
  ExpState broken;
  broken.rev = sha('e');
  broken.error = metrics::ErrorEntry{"DvcException", "bad"};
  EXPECT_EQ(show_json({broken})[0]["error"].dump(), R"({"msg":"bad","type":"DvcException"})");
}

}  // namespace
}  // namespace dvx::experiments
