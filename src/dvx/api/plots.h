// `plots show`, `plots diff`, `plots modify` and `plots templates` (cli.md §6.9): plain options
// in, a plain result out; nothing here prints. The page and image files are written here.
// Thread-safety: one operation per Repo at a time.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dvx/metrics/plots_collect.h"
#include "dvx/repo/repo.h"

namespace dvx::api {

struct PlotsOptions {
  std::vector<std::string> targets;  // paths or plot ids as the user wrote them
  bool diff = false;                 // `plots diff`: `revisions` are compared (with DVC's defaults)
  std::vector<std::string> revisions;
  metrics::PlotProps props = metrics::PlotProps::object();  // -t/-x/-y/--title/--x-label/--y-label/--no-header
  std::string out;            // -o/--out ("" -> plots.out_dir -> dvc_plots)
  bool json = false, split = false, show_vega = false;
  std::string html_template;  // --html-template ("" -> plots.html_template)
  std::optional<bool> offline;  // --offline (nullopt -> plots.offline)
};

struct PlotsResult {
  std::vector<std::string> errors;    // ERROR lines (without the prefix), in DVC's order
  std::vector<std::string> warnings;  // WARNING lines ("In 'workspace', ...")
  std::optional<metrics::Json> json;  // --json: the document to print
  std::optional<metrics::Json> vega;  // --show-vega: the spec to print (absent: nothing)
  std::optional<std::string> page;    // the absolute path of the index.html written
  bool auto_open = false;             // plots.auto_open
};

// Collects the revisions, matches renderers and produces the requested output. Throws UserError
// for DVC's argument errors (exit 1) and metrics::PlotsRenderError for template/page errors.
PlotsResult plots_show(repo::Repo& repo, const PlotsOptions& options);

// Where vega.min.js, vega-lite.min.js and vega-embed.min.js for offline pages are looked for:
// only $DVX_VEGA_DIR when it is set, else ~/.local/share/dvx/vega, /usr/local/share/dvx/vega,
// /usr/share/dvx/vega (`./dev setup` installs them there).
std::vector<std::string> vega_search_path();

// `plots modify`: sets (and with `unset` removes) display properties of a stage's output in its
// dvc.yaml; an output that is not a plot yet moves to the stage's `plots`. Returns DVC's line
// "Modifying stage '<name>' in '<dvc.yaml>'". Errors as DVC's (exit 255): not an output, not a
// plot (with `unset`), unknown properties. The file is rewritten whole (comments are not kept).
std::string plots_modify(repo::Repo& repo, const std::string& target, const metrics::PlotProps& props,
                         const std::optional<std::vector<std::string>>& unset);

}  // namespace dvx::api
