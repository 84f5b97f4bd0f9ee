// Plot rendering as DVC does it (dvc/render and dvc-render): definitions of several revisions
// grouped by plot id, data files turned into Vega datapoints (x/y inference, several files and
// fields, the `step` index), templates filled (whole, or `--split` with the anchors kept apart),
// image plots copied, the `--json` entries and the HTML page.
// Thread-safety: pure functions over their arguments (image plots write files under `out`).
#pragma once

#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "dvx/metrics/plots_data.h"
#include "dvx/metrics/plots_templates.h"

namespace dvx::metrics {

// An error DVC does not catch (dvc-render's DvcRenderError: a missing field or template anchor, an
// unknown template, a bad HTML template); the CLI reports it as an unexpected error.
class PlotsRenderError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// One config file's plot definitions: plot id -> properties (x, y, template, title, ...), in order.
struct ConfigPlots {
  std::string config_file;  // "dvc.yaml", "sub/dvc.yaml"; "" for stage outputs and targets
  std::vector<std::pair<std::string, Json>> plots;
};

// What was collected for one revision (DVC's {"definitions": ..., "sources": ...}).
struct RevisionPlots {
  std::string rev;                            // "workspace", "HEAD", "HEAD~1", ...
  std::vector<ConfigPlots> definitions;       // by config file, in collection order
  std::optional<ErrorEntry> definitions_error;  // the whole collection failed
  std::map<std::string, PlotFileData> sources;  // data file -> its content or error
};

// infer_data_sources(): the files a definition reads (the keys of a `y` mapping and the file of an
// `x` mapping, else the plot id itself), without repeats.
std::vector<std::string> plot_data_sources(const std::string& plot_id, const Json& config);

// An image of an image plot, as dvc-render's datapoint {"rev", "filename", "src"}.
struct ImagePoint {
  std::string rev, filename, src;
};

// One plot to draw: DVC's renderer plus the errors match_defs_renderers() attached to it.
struct PlotRenderer {
  enum class Type { vega, image };
  Type type = Type::vega;
  std::string name;                // plot id ("loss", "dvc.yaml::train.csv", "img.png")
  Datapoints datapoints;           // vega: the data rows
  std::vector<ImagePoint> images;  // image: the images written under `out`
  Json properties = Json::object();  // x, y, labels, title, template, revs_with_datapoints, ...
  std::vector<std::pair<std::string, std::vector<std::pair<std::string, ErrorEntry>>>> source_errors;  // rev -> source -> error
  std::vector<std::pair<std::string, ErrorEntry>> definition_errors;  // rev -> error
};

struct RenderOptions {
  std::string out;            // where images are written (absolute or relative to cwd)
  std::string templates_dir;  // `.dvc/plots`
  std::string cwd;            // for template paths
};

// DVC's match_defs_renderers(): one renderer per plot id over all revisions (workspace first).
// Conversion problems of a revision become definition errors and a warning line in `warnings`
// ("In 'workspace', could not find provided field ...").
std::vector<PlotRenderer> match_renderers(const std::vector<RevisionPlots>& revisions, const RenderOptions& options,
                                          std::vector<std::string>& warnings);

// The revisions of a renderer that have data, in order.
std::vector<std::string> renderer_revisions(const PlotRenderer& r);

// The filled Vega-Lite spec (`--show-vega`, the HTML page); {} when there is no datapoint.
// The renderer's datapoints move into the spec (a renderer is filled once).
// With `split`, the anchors DVC splits stay in the spec and their values go to `anchor_definitions`.
Json filled_spec(PlotRenderer& r, const RenderOptions& options, bool split = false, Json* anchor_definitions = nullptr);

// `plots show --json` entries of one renderer (to_json()).
Json renderer_json(PlotRenderer& r, const RenderOptions& options, bool split);

// The whole `--json` document: {"errors": [...], "data": {...}} with empty parts left out.
Json plots_json(std::vector<PlotRenderer>& renderers, const std::vector<RevisionPlots>& revisions,
                const RenderOptions& options, bool split);

// The Vega `<script>` tags of the page: DVC's CDN tags, or the given library texts inlined.
struct PageScripts {
  bool offline = false;
  std::string vega, vega_lite, vega_embed;  // library sources when offline
};

// DVC's render_html(): the page text. `page_template` replaces DVC's page (it must contain
// "{plot_divs}"); `html_dir` is the folder of the page (image paths are made relative to it).
std::string render_page(std::vector<PlotRenderer>& renderers, const RenderOptions& options,
                        const std::optional<std::string>& page_template, const std::string& html_dir,
                        const PageScripts& scripts);

// dvc-render's remove_special_chars(): an HTML id from a plot name.
std::string html_id(const std::string& name);

}  // namespace dvx::metrics
