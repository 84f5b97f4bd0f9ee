// The one formatter of params and metrics values (cli.md §6.3-6.5, §6.8): Python's str()/repr()
// of parsed values, round() and significant-digit formatting, dotted flattening, the JSON form of
// values, and the plain, Markdown and CSV tables DVC prints. Shared by `metrics`, `params` and
// `exp` commands.
// Thread-safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "dvx/formats/yaml.h"

namespace dvx::metrics {

// Python's str() of a parsed value: floats in repr form, True/False/None, strings as they are,
// lists and mappings as Python prints them ("[1, 'a']", "{'k': 0.5}").
std::string py_str(const yaml::Node& v);
// Python's repr() (strings quoted as Python quotes them).
std::string py_repr(const yaml::Node& v);

// Python's round(x, ndigits) for floats: the double nearest to x correctly rounded to
// `ndigits` decimals (ties to even on the exact binary value).
double py_round(double x, int ndigits);
// Python's format(x, ".<digits>g") (significant digits; exponent below 1e-4 or from 10^digits).
std::string py_format_g(double x, int digits);

// Number a value counts as in a difference (bools are 0/1), nullopt for other kinds.
bool is_number(const yaml::Node& v);
// new - old as Python computes it: int - int is an int, anything with a float a float.
yaml::Node subtract(const yaml::Node& new_v, const yaml::Node& old_v);

// Dotted keys of nested mappings in document order ("loss.train"); other values are leaves.
// Empty nested mappings produce no key. A non-mapping value is one leaf named "".
std::vector<std::pair<std::string, const yaml::Node*>> flatten(const yaml::Node& v);

// The JSON form of a value as DVC dumps it (floats keep their value, ints stay ints).
nlohmann::ordered_json to_json(const yaml::Node& v);

// How table cells write numbers.
struct CellFormat {
  enum class Kind { raw, round_decimals, significant };
  Kind kind = Kind::raw;
  int precision = 5;
};
// One table cell: str() of the value after rounding floats (also inside lists) per `fmt`.
std::string format_cell(const yaml::Node& v, const CellFormat& fmt);

// A table of text cells.
struct Table {
  std::vector<std::string> headers;
  std::vector<std::vector<std::string>> rows;
};

// DVC's plain layout: columns left-aligned, width max(header + 2, widest cell) (display width),
// joined by two spaces, trailing blanks stripped; nothing at all when there are no rows.
std::string render_plain(const Table& t);
// GitHub Markdown with the same widths: header, a "|---|" rule, rows, then an empty line
// (printed also without rows).
std::string render_markdown(const Table& t);
// Python csv.writer: minimal quoting, "\r\n" line ends, header first.
std::string render_csv(const Table& t);

// A column of the box-drawn table `exp show` prints.
struct BoxColumn {
  enum class Justify { left, right };
  Justify justify = Justify::left;
  bool collapse = false;  // may be collapsed to a "…" column when the table is too wide
  bool no_wrap = false;   // truncated with "…" rather than wrapped when too narrow
};
// rich's table with box.HORIZONTALS as DVC's `exp show` draws it (cli.md §6.8): a rule of "─"
// above and below the header and after the last row, cells padded by one space each side,
// columns separated by one space, every line starting and ending with one space. At natural
// width when that fits `max_width`; else collapsible columns are dropped from the right (a run
// of them shown as one "…" column), then rich's shrinking (wrapping, "…" truncation).
std::string render_box(const Table& t, const std::vector<BoxColumn>& columns, size_t max_width);

}  // namespace dvx::metrics
