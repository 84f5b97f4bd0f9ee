// `dvc dag` output: the ASCII drawing (DVC's dagascii.py over grandalf's Sugiyama layout, ported
// step for step so that the same graph gives the same bytes), `--dot` (networkx + pydot) and
// `--mermaid` / `--md`.
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace dvx::cli {

// DVC's stage graph (or outputs graph with --outs): an edge goes from a stage to a stage it
// depends on. Layout and output order follow the order given here, so:
//  * nodes in DVC's graph order (the order the index adds them);
//  * edges in networkx's `G.edges()` order: grouped by `dependent` in node order, within a group
//    in insertion order. Duplicate edges are ignored (the first one counts).
// The graph must be acyclic (DVC refuses cyclic graphs before drawing).
struct DagGraph {
  std::vector<std::string> nodes;
  struct Edge {
    size_t dependent = 0, dependency = 0;  // indices into nodes
  };
  std::vector<Edge> edges;
};

// Weakly connected components ("pipelines") in networkx's order: by their first node in node
// order; nodes and edges keep the graph's order. (DVC iterates the nodes of a component holding
// less than half of the graph in set order, which varies between runs; here it is node order.)
std::vector<DagGraph> split_pipelines(const DagGraph& g);

// The ASCII drawing of one connected pipeline (dagascii.draw): lines joined by '\n', no final
// newline; every line padded to the canvas width. Empty string for an empty or cyclic graph.
std::string draw_pipeline_ascii(const DagGraph& pipeline);

// What `dvc dag` prints: every pipeline drawn, joined by '\n', then passed through rich's
// rendering at `console_width` columns (80 when stdout is not a terminal; the terminal width or
// $COLUMNS otherwise): trailing spaces past the width are cut, nothing is wrapped. Ends with '\n'.
std::string render_ascii(const DagGraph& g, size_t console_width = 80);

// What `dvc dag --dot` prints (networkx write_dot of the reversed graph, pydot format), ending
// with "}\n\n".
std::string render_dot(const DagGraph& g);

// What `dvc dag --mermaid` (markdown=false) or `--md` prints, ending with '\n'.
std::string render_mermaid(const DagGraph& g, bool markdown);

// rich's per-line treatment of printed text (Text.rstrip_end): a line longer than `width`
// characters loses trailing whitespace down to `width`. Exposed for tests.
std::string crop_trailing_spaces(std::string_view text, size_t width);

}  // namespace dvx::cli
