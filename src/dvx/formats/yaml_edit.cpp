#include "dvx/formats/yaml_edit.h"

#include <functional>

#include "dvx/base/strings.h"
#include "dvx/formats/dvc_yaml.h"

namespace dvx::formats {

using yaml::Node;

namespace {

struct Lines {
  std::vector<std::string> v;
  bool final_newline = true;

  explicit Lines(std::string_view text) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos) {
        v.emplace_back(text.substr(pos));
        final_newline = false;
        break;
      }
      v.emplace_back(text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  std::string text() const {
    std::string out;
    for (auto& l : v) out += l + "\n";
    return out;
  }
};

size_t indent_of(const std::string& l) {
  size_t i = 0;
  while (i < l.size() && l[i] == ' ') ++i;
  return i;
}
bool blank_or_comment(const std::string& l) {
  size_t i = indent_of(l);
  return i == l.size() || l[i] == '#' || l[i] == '\r';
}

// The key of a "key: ..." line (quotes removed), or nullopt.
std::optional<std::string> key_of(const std::string& l) {
  size_t i = indent_of(l);
  if (i >= l.size() || l[i] == '-' || l[i] == '#') return std::nullopt;
  if (l[i] == '\'' || l[i] == '"') {
    char q = l[i];
    size_t e = l.find(q, i + 1);
    if (e == std::string::npos || e + 1 >= l.size() || l[e + 1] != ':') return std::nullopt;
    return l.substr(i + 1, e - i - 1);
  }
  size_t c = l.find(':', i);
  while (c != std::string::npos && c + 1 < l.size() && l[c + 1] != ' ') c = l.find(':', c + 1);
  if (c == std::string::npos) return std::nullopt;
  return l.substr(i, c - i);
}

// Where the block-style `stages:` mapping and each stage's lines are.
struct Layout {
  bool found = false;       // a top-level "stages:" line with the mapping below it
  size_t header = 0;        // its line
  size_t end = 0;           // first line after the block (next top-level key or EOF)
  size_t child_indent = 2;  // indentation of the stage keys
  struct StageLines {
    std::string name;
    size_t begin, end;  // [key line, next stage key or block end)
  };
  std::vector<StageLines> stages;

  const StageLines* find(const std::string& name) const {
    for (auto& s : stages)
      if (s.name == name) return &s;
    return nullptr;
  }
};

Layout layout_of(const Lines& lines) {
  Layout lay;
  const auto& v = lines.v;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i].rfind("stages:", 0) != 0) continue;
    std::string rest(trim(std::string_view(v[i]).substr(7)));
    if (!rest.empty() && rest[0] != '#') return lay;  // flow style or a scalar: not editable here
    lay.found = true;
    lay.header = i;
    lay.end = v.size();
    for (size_t j = i + 1; j < v.size(); ++j)
      if (!blank_or_comment(v[j]) && indent_of(v[j]) == 0) {
        lay.end = j;
        break;
      }
    for (size_t j = i + 1; j < lay.end; ++j)
      if (!blank_or_comment(v[j])) {
        lay.child_indent = indent_of(v[j]);
        break;
      }
    for (size_t j = i + 1; j < lay.end; ++j) {
      if (blank_or_comment(v[j]) || indent_of(v[j]) != lay.child_indent) continue;
      auto k = key_of(v[j]);
      if (!k) continue;
      if (!lay.stages.empty()) lay.stages.back().end = j;
      lay.stages.push_back({*k, j, lay.end});
    }
    return lay;
  }
  return lay;
}

// The last line of [begin, end) holding content (not blank, not a column-0 comment), + 1.
size_t content_end(const Lines& lines, size_t begin, size_t end) {
  size_t e = end;
  while (e > begin && (blank_or_comment(lines.v[e - 1]))) --e;
  return e;
}

// The lines of one stage as emitted under `stages:` with the given indentation of stage keys.
std::vector<std::string> stage_lines(const std::string& name, const Node& def, size_t child_indent) {
  Node doc = Node::mapping();
  Node stages = Node::mapping();
  stages.set(name, def);
  doc.set("stages", std::move(stages));
  Lines emitted(yaml::emit(doc));
  std::vector<std::string> out;
  for (size_t i = 1; i < emitted.v.size(); ++i) {
    std::string l = emitted.v[i];
    size_t ind = indent_of(l);
    if (child_indent != 2 && ind > 0) l = std::string(ind / 2 * child_indent + ind % 2, ' ') + l.substr(ind);
    out.push_back(l);
  }
  return out;
}

Result<Node> parse_doc(std::string_view text, const std::string& filename) {
  auto doc = yaml::parse(text, filename);
  if (!doc) return std::unexpected(doc.error());
  if (doc->is_null()) return Node::mapping();
  if (!doc->is_mapping()) return fail(ErrorCode::corruption, "'" + filename + "' is invalid: expected a dictionary");
  return std::move(*doc);
}

bool uses_interpolation(const Node& n) {
  if (n.is_string()) return n.s.find("${") != std::string::npos;
  for (auto& e : n.seq)
    if (uses_interpolation(e)) return true;
  for (auto& [k, v] : n.map)
    if (k.find("${") != std::string::npos || uses_interpolation(v)) return true;
  return false;
}

// The edited text must parse and hold what was meant; otherwise the whole document is written
// from its parsed form (comments lost, content right).
Result<std::string> checked(std::string text, const std::string& filename, const std::function<std::string()>& fallback,
                            const std::function<bool(const Node&)>& ok) {
  auto doc = yaml::parse(text, filename);
  if (doc && ok(*doc)) return text;
  return fallback();
}

}  // namespace

Node stage_add_node(const StageAddSpec& spec) {
  Node n = Node::mapping();
  if (spec.desc) n.set("desc", Node::str(*spec.desc));
  n.set("cmd", Node::str(spec.cmd));
  if (spec.wdir) n.set("wdir", Node::str(*spec.wdir));
  auto list = [](const std::vector<std::string>& v) {
    Node s = Node::sequence();
    for (auto& x : v) s.push_back(Node::str(x));
    return s;
  };
  if (!spec.deps.empty()) n.set("deps", list(spec.deps));
  if (!spec.params.empty()) {
    // Keys of params.yaml first (bare), then one {file: [keys]} per other file, in given order.
    std::vector<std::string> bare;
    std::vector<std::pair<std::string, std::vector<std::string>>> files;
    for (auto& p : spec.params) {
      std::string file, keys = p;
      size_t colon = p.rfind(':');
      if (colon != std::string::npos) {
        file = p.substr(0, colon);
        keys = p.substr(colon + 1);
      }
      std::vector<std::string> ks;
      for (auto& k : split(keys, ','))
        if (!k.empty()) ks.push_back(k);
      if (file.empty() || file == "params.yaml") {
        if (file.empty() || !ks.empty()) bare.insert(bare.end(), ks.begin(), ks.end());
        else files.emplace_back(file, ks);
        continue;
      }
      bool merged = false;
      for (auto& [f, existing] : files)
        if (f == file) {
          existing.insert(existing.end(), ks.begin(), ks.end());
          merged = true;
        }
      if (!merged) files.emplace_back(file, ks);
    }
    Node params = Node::sequence();
    for (auto& k : bare) params.push_back(Node::str(k));
    for (auto& [f, ks] : files) {
      Node m = Node::mapping();
      m.set(f, ks.empty() ? Node::null() : list(ks));
      params.push_back(std::move(m));
    }
    n.set("params", std::move(params));
  }
  auto out_entry = [](const std::string& path, bool cache, bool persist) {
    if (cache && !persist) return Node::str(path);
    Node flags = Node::mapping();
    if (!cache) flags.set("cache", Node::boolean(false));
    if (persist) flags.set("persist", Node::boolean(true));
    Node m = Node::mapping();
    m.set(path, std::move(flags));
    return m;
  };
  Node outs = Node::sequence();
  for (auto& o : spec.outs) outs.push_back(out_entry(o, true, false));
  for (auto& o : spec.outs_no_cache) outs.push_back(out_entry(o, false, false));
  for (auto& o : spec.outs_persist) outs.push_back(out_entry(o, true, true));
  for (auto& o : spec.outs_persist_no_cache) outs.push_back(out_entry(o, false, true));
  if (!outs.seq.empty()) n.set("outs", std::move(outs));
  Node metrics = Node::sequence();
  for (auto& o : spec.metrics) metrics.push_back(out_entry(o, true, false));
  for (auto& o : spec.metrics_no_cache) metrics.push_back(out_entry(o, false, false));
  if (!metrics.seq.empty()) n.set("metrics", std::move(metrics));
  Node plots = Node::sequence();
  for (auto& o : spec.plots) plots.push_back(out_entry(o, true, false));
  for (auto& o : spec.plots_no_cache) plots.push_back(out_entry(o, false, false));
  if (!plots.seq.empty()) n.set("plots", std::move(plots));
  if (spec.always_changed) n.set("always_changed", Node::boolean(true));
  return n;
}

Result<std::string> add_stage(std::string_view existing, const std::string& filename, const StageAddSpec& spec) {
  Node def = stage_add_node(spec);
  if (trim(existing).empty()) {
    Node doc = Node::mapping();
    Node stages = Node::mapping();
    stages.set(spec.name, def);
    doc.set("stages", std::move(stages));
    return yaml::emit(doc);
  }
  auto doc = parse_doc(existing, filename);
  if (!doc) return std::unexpected(doc.error());
  const Node* stages = doc->find("stages");
  if (stages && stages->find(spec.name) && !spec.force)
    return fail(ErrorCode::conflict,
                "Stage '" + spec.name + "' already exists in '" + filename + "'. Use '--force' to overwrite.");
  auto fallback = [&]() {
    Node d = *doc;
    Node* st = d.find("stages");
    if (!st || !st->is_mapping()) st = &d.set("stages", Node::mapping());
    st->set(spec.name, def);
    return yaml::emit(d);
  };
  auto ok = [&](const Node& d) {
    const Node* st = d.find("stages");
    const Node* s = st ? st->find(spec.name) : nullptr;
    return s && yaml::equal(*s, def);
  };
  Lines lines(existing);
  if (!lines.final_newline && !lines.v.empty()) lines.final_newline = true;
  Layout lay = layout_of(lines);
  if (!lay.found) {
    if (stages) return fallback();  // `stages` written some other way (flow style)
    lines.v.push_back("stages:");
    for (auto& l : stage_lines(spec.name, def, 2)) lines.v.push_back(l);
    return checked(lines.text(), filename, fallback, ok);
  }
  auto new_lines = stage_lines(spec.name, def, lay.child_indent);
  if (const auto* s = lay.find(spec.name)) {
    size_t e = content_end(lines, s->begin, s->end);
    lines.v.erase(lines.v.begin() + static_cast<long>(s->begin), lines.v.begin() + static_cast<long>(e));
    lines.v.insert(lines.v.begin() + static_cast<long>(s->begin), new_lines.begin(), new_lines.end());
  } else {
    size_t at = content_end(lines, lay.header + 1, lay.end);
    if (at <= lay.header) at = lay.header + 1;
    lines.v.insert(lines.v.begin() + static_cast<long>(at), new_lines.begin(), new_lines.end());
  }
  return checked(lines.text(), filename, fallback, ok);
}

Result<std::string> set_stage_frozen(std::string_view text, const std::string& filename, const std::string& stage,
                                     bool frozen) {
  auto doc = parse_doc(text, filename);
  if (!doc) return std::unexpected(doc.error());
  const Node* stages = doc->find("stages");
  const Node* def = stages ? stages->find(stage) : nullptr;
  if (!def) {
    std::string base = stage.substr(0, stage.find('@'));
    if (stages && stages->find(base)) return fail(ErrorCode::invalid_argument, "cannot dump a parametrized stage: '" + stage + "'");
    return fail(ErrorCode::not_found, "Stage '" + stage + "' not found inside '" + filename + "' file");
  }
  if (def->find("foreach") || def->find("matrix") || uses_interpolation(*def))
    return fail(ErrorCode::invalid_argument, "cannot dump a parametrized stage: '" + stage + "'");
  auto fallback = [&]() {
    Node d = *doc;
    Node* s = d.find("stages")->find(stage);
    if (frozen) s->set("frozen", Node::boolean(true));
    else s->erase("frozen");
    return yaml::emit(d);
  };
  auto ok = [&](const Node& d) {
    const Node* st = d.find("stages");
    const Node* s = st ? st->find(stage) : nullptr;
    if (!s) return false;
    const Node* f = s->find("frozen");
    return frozen ? (f && f->kind == Node::Kind::boolean && f->b) : !f;
  };
  Lines lines(text);
  Layout lay = layout_of(lines);
  const auto* s = lay.find(stage);
  if (!s) return fallback();
  size_t inner = 0;
  std::optional<size_t> frozen_line;
  for (size_t j = s->begin + 1; j < s->end; ++j) {
    if (blank_or_comment(lines.v[j])) continue;
    if (!inner) inner = indent_of(lines.v[j]);
    if (indent_of(lines.v[j]) == inner && key_of(lines.v[j]) == std::optional<std::string>("frozen")) frozen_line = j;
  }
  if (!inner) return fallback();
  if (frozen_line) {
    if (frozen) lines.v[*frozen_line] = std::string(inner, ' ') + "frozen: true";
    else lines.v.erase(lines.v.begin() + static_cast<long>(*frozen_line));
  } else if (frozen) {
    size_t at = content_end(lines, s->begin, s->end);
    lines.v.insert(lines.v.begin() + static_cast<long>(at), std::string(inner, ' ') + "frozen: true");
  } else {
    return std::string(text);
  }
  return checked(lines.text(), filename, fallback, ok);
}

Result<std::string> remove_stage(std::string_view text, const std::string& filename, const std::string& stage,
                                 bool* no_stages_left) {
  auto doc = parse_doc(text, filename);
  if (!doc) return std::unexpected(doc.error());
  const Node* stages = doc->find("stages");
  if (!stages || !stages->find(stage)) {
    std::string base = stage.substr(0, stage.find('@'));
    if (stages && stages->find(base)) return fail(ErrorCode::invalid_argument, "cannot remove a parametrized stage: '" + stage + "'");
    return fail(ErrorCode::not_found, "Stage '" + stage + "' not found inside '" + filename + "' file");
  }
  if (no_stages_left) *no_stages_left = stages->map.size() == 1;
  auto fallback = [&]() {
    Node d = *doc;
    d.find("stages")->erase(stage);
    return yaml::emit(d);
  };
  auto ok = [&](const Node& d) {
    const Node* st = d.find("stages");
    return !st || !st->find(stage);
  };
  Lines lines(text);
  Layout lay = layout_of(lines);
  const auto* s = lay.find(stage);
  if (!s) return fallback();
  size_t e = s->end;
  if (e == lay.end) e = content_end(lines, s->begin, s->end);
  lines.v.erase(lines.v.begin() + static_cast<long>(s->begin), lines.v.begin() + static_cast<long>(e));
  return checked(lines.text(), filename, fallback, ok);
}

}  // namespace dvx::formats
