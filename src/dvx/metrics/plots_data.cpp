#include "dvx/metrics/plots_data.h"

#include <algorithm>

#include "dvx/formats/params.h"
#include "dvx/formats/py_json.h"
#include "dvx/formats/unicode.h"

namespace dvx::metrics {

namespace {

std::string_view extension(std::string_view path) {
  // os.path.splitext: the last dot of the last component, not a leading dot.
  size_t slash = path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path : path.substr(slash + 1);
  size_t lead = 0;
  while (lead < base.size() && base[lead] == '.') ++lead;
  size_t dot = base.rfind('.');
  if (dot == std::string_view::npos || dot < lead) return {};
  return base.substr(dot);
}

// Python's universal newlines: "\r\n" and lone "\r" read as "\n".
std::string universal_newlines(std::string_view s) {
  if (s.find('\r') == std::string_view::npos) return std::string(s);
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The fields of one row, unquoted, as ranges of one buffer (reused from row to row).
struct Row {
  std::string buf;
  std::vector<std::pair<size_t, size_t>> fields;  // (start, length) in buf
  size_t size() const { return fields.size(); }
  std::string_view operator[](size_t i) const { return std::string_view(buf).substr(fields[i].first, fields[i].second); }
};

// One row of Python's csv reader (excel dialect, given delimiter) starting at `pos`; returns false
// at the end of the text. An empty line gives an empty row.
bool read_row(std::string_view text, size_t& pos, char delim, Row& row) {
  row.buf.clear();
  row.fields.clear();
  const size_t n = text.size();
  if (pos >= n) return false;
  size_t field_start = 0;
  auto push = [&] {
    row.fields.emplace_back(field_start, row.buf.size() - field_start);
    field_start = row.buf.size();
  };
  bool quoted = false, in_quotes = false, field_started = false;
  while (pos < n) {
    char c = text[pos];
    if (in_quotes) {
      size_t q = text.find('"', pos);
      if (q == std::string_view::npos) {
        row.buf.append(text.substr(pos));
        pos = n;
        break;
      }
      row.buf.append(text.substr(pos, q - pos));
      pos = q;
      if (pos + 1 < n && text[pos + 1] == '"') {
        row.buf += '"';
        pos += 2;
        continue;
      }
      in_quotes = false;
      ++pos;
      continue;
    }
    if (c == '\n') {
      ++pos;
      if (field_started || !row.fields.empty()) push();
      return true;
    }
    if (c == delim) {
      push();
      quoted = false;
      field_started = true;  // a delimiter means a field follows, even an empty one
      ++pos;
      continue;
    }
    if (c == '"' && row.buf.size() == field_start && !quoted) {
      quoted = in_quotes = true;
      field_started = true;
      ++pos;
      continue;
    }
    // A run of plain characters (a quote here is one of them).
    size_t j = pos + 1;
    while (j < n && text[j] != '\n' && text[j] != delim && text[j] != '"') ++j;
    row.buf.append(text.substr(pos, j - pos));
    field_started = true;
    pos = j;
  }
  if (field_started || !row.fields.empty() || in_quotes) push();
  return true;
}

PlotFileData error_data(std::string type, std::string msg) {
  PlotFileData d;
  d.kind = PlotFileData::Kind::error;
  d.error = {std::move(type), std::move(msg)};
  return d;
}

}  // namespace

bool is_image_path(std::string_view path) {
  auto ext = extension(path);
  return ext == ".jpg" || ext == ".jpeg" || ext == ".gif" || ext == ".png" || ext == ".svg";
}

Datapoints parse_delimited(std::string_view text, char delimiter, bool header) {
  Datapoints rows;
  std::vector<Datapoints::KeyId> names;
  Row row;
  size_t pos = 0;
  if (header) {
    if (!read_row(text, pos, delimiter, row)) return rows;
    for (size_t i = 0; i < row.size(); ++i) names.push_back(rows.intern(row[i]));
  } else {
    size_t p0 = 0;
    if (read_row(text, p0, ',', row))
      for (size_t i = 0; i < row.size(); ++i) names.push_back(rows.intern(std::to_string(i)));
  }
  std::vector<Datapoints::KeyId> sorted = names;
  std::sort(sorted.begin(), sorted.end());
  bool distinct = std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end();
  std::string value, extra;
  while (read_row(text, pos, delimiter, row)) {
    if (row.size() == 0) continue;
    rows.begin_row();
    size_t n = std::min(names.size(), row.size());
    for (size_t i = 0; i < n; ++i) {
      if (distinct) {  // the value's JSON text goes straight into the arena
        size_t start = rows.arena().size();
        formats::py_json_append_string(rows.arena(), row[i]);
        rows.put_new_from(names[i], start);
      } else {  // a repeated column name: the later value replaces the earlier one in place
        value.clear();
        formats::py_json_append_string(value, row[i]);
        rows.put(names[i], value);
      }
    }
    if (row.size() > names.size()) {
      extra = "[";
      for (size_t i = names.size(); i < row.size(); ++i) {
        if (i > names.size()) extra += ", ";
        formats::py_json_append_string(extra, row[i]);
      }
      extra += ']';
      rows.put(rows.intern("null"), extra);
    } else {  // restval: None for the names past the row's end (a repeated name too)
      for (size_t i = row.size(); i < names.size(); ++i)
        if (distinct) rows.put_new(names[i], "null");
        else rows.put(names[i], "null");
    }
  }
  return rows;
}

Json node_to_json(const yaml::Node& n) {
  using K = yaml::Node::Kind;
  switch (n.kind) {
    case K::null: return nullptr;
    case K::boolean: return n.b;
    case K::integer: return n.i;
    case K::floating: return n.f;
    case K::string: return n.s;
    case K::sequence: {
      Json a = Json::array();
      for (auto& e : n.seq) a.push_back(node_to_json(e));
      return a;
    }
    case K::mapping: {
      Json o = Json::object();
      for (auto& [k, v] : n.map) o[k] = node_to_json(v);
      return o;
    }
  }
  return nullptr;
}

// os.path.commonpath() of relative '/'-separated paths.
std::string posix_common_path(const std::vector<std::string>& paths) {
  auto split = [](const std::string& p) {
    std::vector<std::string> parts;
    size_t s = 0;
    while (s <= p.size()) {
      size_t e = p.find('/', s);
      if (e == std::string::npos) e = p.size();
      std::string part = p.substr(s, e - s);
      if (!part.empty() && part != ".") parts.push_back(part);
      s = e + 1;
    }
    return parts;
  };
  std::vector<std::string> common = split(paths.front());
  for (size_t i = 1; i < paths.size(); ++i) {
    auto parts = split(paths[i]);
    size_t n = 0;
    while (n < common.size() && n < parts.size() && common[n] == parts[n]) ++n;
    common.resize(n);
  }
  std::string out;
  for (auto& c : common) out += (out.empty() ? "" : "/") + c;
  return out;
}

PlotFileData parse_plot_file(std::string_view path, std::string_view bytes, bool header) {
  PlotFileData out;
  if (is_image_path(path)) {
    out.kind = PlotFileData::Kind::image;
    out.image = std::string(bytes);
    return out;
  }
  auto ext = extension(path);
  std::string p(path);
  bool sv = ext == ".csv" || ext == ".tsv";
  formats::ParamsFormat format = formats::ParamsFormat::yaml;
  if (ext == ".json") format = formats::ParamsFormat::json;
  else if (ext == ".toml") format = formats::ParamsFormat::toml;
  else if (ext == ".py") format = formats::ParamsFormat::python;
  else if (!sv && ext != ".yaml" && ext != ".yml")
    return error_data("PlotMetricTypeError",
                      "'" + p + "' - file type error\nOnly JSON, YAML, CSV and TSV formats are supported.");
  if (!formats::is_valid_utf8(bytes)) return error_data("EncodingError", "unable to read: '" + p + "', is not valid utf8");
  std::string text = universal_newlines(bytes);
  if (sv) {
    if (!header && text.empty())
      return error_data("TypeError", "object of type 'NoneType' has no len()");
    out.rows = parse_delimited(text, ext == ".tsv" ? '\t' : ',', header);
    if (out.rows->empty()) return PlotFileData{};
    out.kind = PlotFileData::Kind::data;
    return out;
  } else {
    auto doc = formats::parse_params(text, p, format);
    if (!doc) {
      static const char* kinds[] = {"YAML", "JSON", "TOML", "Python"};
      std::string kind = kinds[static_cast<int>(format)];
      const std::string& m = doc.error().message;
      if (m.find("is not valid utf-8") != std::string::npos)
        return error_data("EncodingError", "unable to read: '" + p + "', is not valid utf8");
      return error_data(kind + "FileCorruptedError", "unable to read: '" + p + "', " + kind + " file structure is corrupted");
    }
    out.data = node_to_json(*doc);
  }
  // error_handler keeps only truthy results: an empty list or mapping is "no data".
  if ((out.data.is_array() || out.data.is_object()) && out.data.empty()) return PlotFileData{};
  if (out.data.is_null() || (out.data.is_string() && out.data.get_ref<const std::string&>().empty()) ||
      (out.data.is_boolean() && !out.data.get<bool>()) || (out.data.is_number() && out.data.get<double>() == 0))
    return PlotFileData{};
  out.kind = PlotFileData::Kind::data;
  return out;
}

}  // namespace dvx::metrics
