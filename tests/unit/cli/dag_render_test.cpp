#include "cli/dag_render.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace dvx::cli {
namespace {

std::string golden(const std::string& name) {
  std::ifstream f(std::string(DVX_FIXTURES_DIR) + "/outputs/" + name, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Builds a graph from names; edges as (dependent, dependency) names in networkx edge order.
DagGraph graph(std::vector<std::string> nodes, std::vector<std::pair<std::string, std::string>> edges) {
  DagGraph g;
  g.nodes = nodes;
  auto idx = [&](const std::string& n) {
    return static_cast<size_t>(std::find(nodes.begin(), nodes.end(), n) - nodes.begin());
  };
  for (auto& [a, b] : edges) g.edges.push_back({idx(a), idx(b)});
  return g;
}

// tests/fixtures pipeline repo (dvc.yaml: prepare, featurize, train, report@{txt,md} and the
// data/raw.csv.dvc source), in DVC's node order.
DagGraph pipeline_stages() {
  return graph({"report@txt", "report@md", "featurize", "data/raw.csv.dvc", "prepare", "train"},
               {{"report@txt", "train"},
                {"report@md", "train"},
                {"featurize", "prepare"},
                {"prepare", "data/raw.csv.dvc"},
                {"train", "featurize"}});
}

DagGraph pipeline_outs() {
  return graph({"model.pkl", "reports/summary.txt", "data/raw.csv", "metrics.json", "reports/summary.md",
                "data/prepared", "data/features.csv", "plots/loss.csv"},
               {{"model.pkl", "data/features.csv"},
                {"reports/summary.txt", "metrics.json"},
                {"metrics.json", "data/features.csv"},
                {"reports/summary.md", "metrics.json"},
                {"data/prepared", "data/raw.csv"},
                {"data/features.csv", "data/prepared"},
                {"plots/loss.csv", "data/features.csv"}});
}

TEST(DagRender, AsciiStages) {
  EXPECT_EQ(render_ascii(pipeline_stages()), golden("pipeline.dag.txt"));
  EXPECT_EQ(render_ascii(pipeline_stages()), golden("pipeline.dag.full.txt"));
}

TEST(DagRender, AsciiOutsWiderThanConsole) {
  EXPECT_EQ(render_ascii(pipeline_outs()), golden("pipeline.dag.outs.txt"));
}

TEST(DagRender, AsciiPipeline2) {
  DagGraph g = graph({"generate", "shard@linear-a", "shard@linear-b", "shard@tree-a", "shard@tree-b", "train",
                      "stamp", "export"},
                     {{"shard@linear-a", "generate"},
                      {"shard@linear-b", "generate"},
                      {"shard@tree-a", "generate"},
                      {"shard@tree-b", "generate"},
                      {"train", "generate"},
                      {"stamp", "train"},
                      {"export", "train"}});
  EXPECT_EQ(render_ascii(g), golden("pipeline2.dag.txt"));
}

// Edges spanning several layers (dummy vertices, alignment): expected bytes from grandalf 0.8 and
// dvc/dagascii.py (the first one is dagascii's docstring example).
TEST(DagRender, LongEdgesAsGrandalf) {
  DagGraph doc = graph({"1", "2", "3", "4"}, {{"1", "2"}, {"2", "3"}, {"2", "4"}, {"1", "4"}});
  EXPECT_EQ(draw_pipeline_ascii(doc),
      "+---+     +---+  \n"
      "| 3 |     | 4 |  \n"
      "+---+    *+---+  \n"
      "  *    **   *    \n"
      "  *  **     *    \n"
      "  * *       *    \n"
      "+---+       *    \n"
      "| 2 |      *     \n"
      "+---+     *      \n"
      "     *    *      \n"
      "      *  *       \n"
      "       **        \n"
      "     +---+       \n"
      "     | 1 |       \n"
      "     +---+       ");
  DagGraph g = graph({"evaluate", "train", "prepare", "data.dvc", "report"},
                     {{"evaluate", "train"},
                      {"evaluate", "prepare"},
                      {"train", "prepare"},
                      {"prepare", "data.dvc"},
                      {"report", "evaluate"},
                      {"report", "data.dvc"}});
  EXPECT_EQ(draw_pipeline_ascii(g),
      "                  +----------+                \n"
      "                  | data.dvc |                \n"
      "                  +----------+***             \n"
      "                   **            ****         \n"
      "                 **                  ***      \n"
      "                *                       ***   \n"
      "        +---------+                        ** \n"
      "        | prepare |                         * \n"
      "        +---------+                         * \n"
      "         *         **                       * \n"
      "       **            *                      * \n"
      "      *               **                    * \n"
      "+-------+               *                   * \n"
      "| train |             **                    * \n"
      "+-------+            *                      * \n"
      "         *         **                       * \n"
      "          **     **                         * \n"
      "            *   *                           * \n"
      "        +----------+                       ** \n"
      "        | evaluate |                    ***   \n"
      "        +----------+                 ***      \n"
      "                   **            ****         \n"
      "                     **       ***             \n"
      "                       *    **                \n"
      "                   +--------+                 \n"
      "                   | report |                 \n"
      "                   +--------+                 ");
}

TEST(DagRender, Dot) {
  EXPECT_EQ(render_dot(pipeline_stages()), golden("pipeline.dag.dot"));
  EXPECT_EQ(render_dot(pipeline_outs()), golden("pipeline.dag.outs.dot"));
}

TEST(DagRender, Mermaid) {
  EXPECT_EQ(render_mermaid(pipeline_stages(), true), golden("pipeline.dag.md"));
  std::string md = golden("pipeline.dag.md");
  // Without the fence.
  EXPECT_EQ(render_mermaid(pipeline_stages(), false), md.substr(11, md.size() - 11 - 4));
}

TEST(DagRender, SplitPipelinesByFirstNode) {
  DagGraph g = graph({"c", "a", "b", "d"}, {{"b", "d"}, {"a", "c"}});
  auto ps = split_pipelines(g);
  ASSERT_EQ(ps.size(), 2u);
  EXPECT_EQ(ps[0].nodes, (std::vector<std::string>{"c", "a"}));
  ASSERT_EQ(ps[0].edges.size(), 1u);
  EXPECT_EQ(ps[0].edges[0].dependent, 1u);
  EXPECT_EQ(ps[0].edges[0].dependency, 0u);
  EXPECT_EQ(ps[1].nodes, (std::vector<std::string>{"b", "d"}));
  // Mermaid numbers nodes across pipelines, each pipeline sorted.
  EXPECT_EQ(render_mermaid(g, false),
            "flowchart TD\n\tnode1[\"a\"]\n\tnode2[\"c\"]\n\tnode2-->node1\n\tnode3[\"b\"]\n"
            "\tnode4[\"d\"]\n\tnode4-->node3\n");
}

TEST(DagRender, SingleNodeAndEmpty) {
  EXPECT_EQ(render_ascii(graph({"a"}, {})), "+---+  \n| a |  \n+---+  \n");
  EXPECT_EQ(render_ascii(DagGraph{}), "\n");
  EXPECT_EQ(render_dot(DagGraph{}), "strict digraph  {\n}\n\n");
}

TEST(DagRender, CycleDrawsNothing) {
  EXPECT_EQ(draw_pipeline_ascii(graph({"a", "b", "c"}, {{"a", "b"}, {"b", "a"}, {"c", "a"}})), "");
}

TEST(DagRender, CropTrailingSpaces) {
  EXPECT_EQ(crop_trailing_spaces("ab   \n" "abcdef  \n" "ab  ", 4), "ab  \nabcdef\nab  ");
  EXPECT_EQ(crop_trailing_spaces("a     ", 4), "a   ");
}

}  // namespace
}  // namespace dvx::cli
