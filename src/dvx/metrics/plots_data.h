// Plot data files (formats.md §8): CSV/TSV as Python's csv.DictReader reads them (all values
// strings), JSON/YAML/TOML through the params readers, images passed through as bytes, and the
// exception DVC would record for a file it cannot read (its Python type name and message, as
// `plots show --json` reports them).
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/formats/yaml.h"
#include "dvx/metrics/error_entry.h"
#include "dvx/metrics/plots_datapoints.h"
#include "dvx/metrics/plots_templates.h"

namespace dvx::metrics {

// What a plot source holds after reading.
struct PlotFileData {
  enum class Kind { none, data, image, error };
  Kind kind = Kind::none;  // none: the file parsed to nothing (empty CSV, empty list)
  Json data;               // kind == data, JSON/YAML/TOML/Python: the parsed document
  std::optional<Datapoints> rows;  // kind == data, CSV/TSV: the document, a list of rows
  std::string image;       // kind == image: the file's bytes
  ErrorEntry error;         // kind == error
};

// Image extensions dvc-render passes through (case-sensitive, as DVC compares them).
bool is_image_path(std::string_view path);

// DVC's plots parse(): chooses the reader by the (case-sensitive) extension of `path`: images;
// .csv/.tsv (`header`: first row names the columns, else "0", "1", ... counted on the first row
// split at commas, as DVC does); .json/.toml/.py; .yaml/.yml; anything else is a
// PlotMetricTypeError. `bytes` is the file content.
PlotFileData parse_plot_file(std::string_view path, std::string_view bytes, bool header);

// csv.DictReader over `text` (newlines already universal): rows as dicts of strings; a short
// row gets nulls for the missing columns, a long one its extra values as a list under "null".
Datapoints parse_delimited(std::string_view text, char delimiter, bool header);

// The data of a YAML document model as JSON values (timestamps as their text).
Json node_to_json(const yaml::Node& n);

// os.path.commonpath() of '/'-separated relative paths (whole components; "" when none).
std::string posix_common_path(const std::vector<std::string>& paths);

}  // namespace dvx::metrics
