// `plots show`, `plots diff`, `plots modify`, `plots templates` (cli.md §6.9).
#include "app.h"
#include "dvx/api/plots.h"
#include "dvx/metrics/plots_templates.h"
#include "dvx/platform/process.h"

namespace dvx::cli {

namespace {

struct PropsFlags {
  std::string tmpl, x, y, title, x_label, y_label;
  bool no_header = false;
  // The properties given, in DVC's PLOT_PROPS order (the order `plots modify` writes new ones in).
  metrics::PlotProps props() const {
    metrics::PlotProps p = metrics::PlotProps::object();
    auto set = [&](const char* k, const std::string& v) {
      if (!v.empty()) p[k] = v;
    };
    set("template", tmpl);
    set("x", x);
    set("y", y);
    set("x_label", x_label);
    set("y_label", y_label);
    set("title", title);
    if (no_header) p["header"] = false;
    return p;
  }
};

void add_props_flags(CLI::App* sub, PropsFlags& f) {
  // nargs="?" in DVC: `-t` alone is accepted and means no template.
  sub->add_option("-t,--template", f.tmpl,
                  "Special JSON or HTML schema file to inject with the data. See https://man.dvc.org/plots#plot-templates")
      ->expected(0, 1);
  sub->add_option("-x", f.x, "Field name for X axis.");
  sub->add_option("-y", f.y, "Field name for Y axis.");
  sub->add_flag("--no-header", f.no_header, "Provided CSV or TSV datafile does not have a header.");
  sub->add_option("--title", f.title, "Plot title.");
  sub->add_option("--x-label", f.x_label, "X axis label");
  sub->add_option("--y-label", f.y_label, "Y axis label");
}

struct UiFlags {
  std::string out, html_template;
  bool show_vega = false, json = false, split = false, open = false, offline = false;
};

void add_ui_flags(CLI::App* sub, UiFlags& f) {
  sub->add_option("-o,--out", f.out, "Directory to save plots to.");
  sub->add_flag("--show-vega", f.show_vega, "Show output in Vega format.");
  sub->add_flag("--json", f.json)->group("");
  sub->add_flag("--split", f.split)->group("");
  sub->add_flag("--open", f.open, "Open plot file directly in the browser.");
  sub->add_option("--html-template", f.html_template, "Custom HTML template for VEGA visualization.");
  sub->add_flag("--offline", f.offline,
                "Inline Vega, Vega-Lite and vega-embed in the page so that it renders without network "
                "(or config plots.offline).");
}

// Path.as_uri(): "file://" + the path with bytes outside [A-Za-z0-9_.~/-] percent-encoded.
std::string file_uri(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = "file://";
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '_' || c == '.' || c == '~' || c == '-' || c == '/') out += static_cast<char>(c);
    else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// webbrowser.open(): $BROWSER, else xdg-open, started in the background.
bool open_browser(const std::string& url) {
  std::string quoted = "'";
  for (char c : url) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  quoted += "'";
  std::string cmd = "b=\"${BROWSER:-xdg-open}\"; command -v \"${b%% *}\" >/dev/null 2>&1 || exit 1; "
                    "($b " + quoted + " >/dev/null 2>&1 &)";
  auto r = platform::run_shell(cmd, {});
  return r && r->exit_code == 0;
}

int run_plots(Context& ctx, api::PlotsOptions opts, const UiFlags& ui) {
  opts.out = ui.out;
  opts.json = ui.json;
  opts.split = ui.split;
  opts.show_vega = ui.show_vega;
  opts.html_template = ui.html_template;
  if (ui.offline) opts.offline = true;
  auto repo = ctx.open_repo();
  auto r = api::plots_show(*repo, opts);
  for (auto& e : r.errors) ctx.console.plain_err(e);
  for (auto& w : r.warnings) ctx.console.warn(w);
  if (r.json) {
    ctx.console.out_always(json_text(ctx, *r.json));
    return 0;
  }
  if (r.vega) {
    ctx.console.out_always(json_text(ctx, *r.vega));
    return 0;
  }
  if (!r.page) return 0;
  std::string uri = file_uri(*r.page);
  ctx.console.out(uri);
  if (ui.open || r.auto_open) {
    if (!r.auto_open) ctx.console.out("To enable auto opening, you can run:\n\n\tdvc config plots.auto_open true");
    if (!open_browser(uri)) {
      ctx.console.plain_err("Failed to open " + uri + ". Please try opening it manually.");
      return 1;
    }
  }
  return 0;
}

}  // namespace

void register_plots_commands(CLI::App& app, Action& action) {
  auto* plots = app.add_subcommand("plots", "Commands to visualize and compare plot data.");
  plots->require_subcommand(1);
  {
    static PropsFlags props;
    static UiFlags ui;
    static std::vector<std::string> targets;
    auto* sub = plots->add_subcommand("show", "Generate plots from target files or from `plots` definitions in `dvc.yaml`.");
    sub->add_option("targets", targets, "Plots files or plot IDs from `dvc.yaml` to visualize. Shows all plots by default.");
    add_props_flags(sub, props);
    add_ui_flags(sub, ui);
    sub->callback([&action] {
      action = [](Context& ctx) {
        api::PlotsOptions o;
        o.targets = targets;
        o.props = props.props();
        return run_plots(ctx, std::move(o), ui);
      };
    });
  }
  {
    static PropsFlags props;
    static UiFlags ui;
    static std::vector<std::string> targets, revisions;
    static bool experiment = false;
    auto* sub = plots->add_subcommand("diff", "Show multiple versions of a plot by overlaying them in a single image.");
    sub->add_option("--targets", targets,
                    "Specific plots to visualize. Accepts any file path or plot name from `dvc.yaml` file. Shows all "
                    "tracked plots by default.")
        ->expected(0, -1);  // nargs="*": `--targets` alone means every plot
    sub->add_flag("-e,--experiment", experiment)->group("");
    sub->add_option("revisions", revisions, "Git commits to plot from");
    add_props_flags(sub, props);
    add_ui_flags(sub, ui);
    sub->callback([&action] {
      action = [](Context& ctx) {
        api::PlotsOptions o;
        o.diff = true;
        for (auto& t : targets)  // `--targets` with no value leaves an empty entry
          if (!t.empty()) o.targets.push_back(t);
        o.revisions = revisions;
        o.props = props.props();
        return run_plots(ctx, std::move(o), ui);
      };
    });
  }
  {
    static PropsFlags props;
    static std::vector<std::string> unset;
    static std::string target;
    auto* sub = plots->add_subcommand(
        "modify", "Modify display properties of data-series plots defined in stages (has no effect on image plots).");
    sub->add_option("target", target, "Plots file to set properties for (defined at the stage level).")->required();
    add_props_flags(sub, props);
    auto* unset_opt = sub->add_option("--unset", unset, "Unset one or more display properties.")->expected(0, -1);
    sub->callback([&action, unset_opt] {
      action = [unset_opt](Context& ctx) {
        auto repo = ctx.open_repo();
        ctx.lock(*repo, ExitCode::error);
        std::optional<std::vector<std::string>> u;
        if (unset_opt->count() > 0) u = unset;
        ctx.console.out(api::plots_modify(*repo, target, props.props(), u));
        return 0;
      };
    });
  }
  {
    static std::string name;
    auto* sub = plots->add_subcommand("templates", "List built-in plots templates or show JSON specification for one.");
    sub->add_option("template", name, "Template for which to show JSON specification. List all template names by default.");
    sub->callback([&action] {
      action = [](Context& ctx) {
        auto repo = ctx.open_repo();
        if (!name.empty()) {
          auto text = metrics::builtin_template_text(name);
          if (!text) throw UserError("Unexpected template: " + name + ".", ExitCode::failure);
          ctx.console.out(json_text(ctx, metrics::Json::parse(*text)));
          return 0;
        }
        for (auto& t : metrics::builtin_templates()) ctx.console.out(std::string(t.name));
        return 0;
      };
    });
  }
}

}  // namespace dvx::cli
