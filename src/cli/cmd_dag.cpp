// `dag`: the pipeline graph as ASCII (DVC's drawing, byte for byte), DOT or Mermaid.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>

#include "app.h"
#include "dag_render.h"

namespace dvx::cli {

namespace {

// rich's console width: 80 when stdout is not a terminal, else $COLUMNS or the terminal's.
size_t console_width() {
  if (!::isatty(STDOUT_FILENO)) return 80;
  if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0) return static_cast<size_t>(std::atoi(c));
  struct winsize ws {};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

}  // namespace

void register_dag_command(CLI::App& app, Action& action) {
  struct Opts {
    bool dot = false, mermaid = false, md = false, full = false, outs = false;
    std::optional<std::string> target;
  };
  static Opts opts_storage;
  auto* opts = &opts_storage;
  auto* sub = app.add_subcommand("dag", "Visualize DVC project DAG.");
  sub->add_flag("--dot", opts->dot, "Print DAG with .dot format.");
  sub->add_flag("--mermaid", opts->mermaid, "Print DAG with mermaid format.");
  sub->add_flag("--md", opts->md, "Print DAG with mermaid format wrapped in Markdown block.");
  sub->add_flag("--full", opts->full, "Show full DAG that the target belongs too, instead of showing DAG consisting only of ancestors.");
  sub->add_flag("-o,--outs", opts->outs, "Print output files instead of stages.");
  sub->add_option("target", opts->target, "Stage name or output to show pipeline for.");
  sub->callback([&action, opts] {
    action = [opts](Context& ctx) {
      auto repo = ctx.open_repo();
      auto r = api::dag(*repo, opts->target, opts->full, opts->outs);
      DagGraph g;
      g.nodes = r.nodes;
      for (auto& [a, b] : r.edges) g.edges.push_back({a, b});
      std::string text;
      if (opts->dot) text = render_dot(g);
      else if (opts->mermaid || opts->md) text = render_mermaid(g, opts->md);
      else text = render_ascii(g, console_width());
      std::fwrite(text.data(), 1, text.size(), stdout);
      return 0;
    };
  });
}

}  // namespace dvx::cli
