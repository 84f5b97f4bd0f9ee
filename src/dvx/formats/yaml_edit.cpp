#include "dvx/formats/yaml_edit.h"

#include <algorithm>
#include <map>

namespace dvx::formats {

using yaml::Node;
using Kind = yaml::Node::Kind;

namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view line = text.substr(pos, nl - pos);
    if (line.ends_with('\r')) line.remove_suffix(1);  // ruamel writes "\n" line ends
    out.push_back(line);
    pos = nl + 1;
  }
  return out;
}

size_t indent_of(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == ' ') ++i;
  return i;
}

// A blank line or a comment-only line.
bool is_trivia(std::string_view line) {
  size_t i = line.find_first_not_of(" \t\r");
  return i == std::string_view::npos || line[i] == '#';
}

// `orig` is `emitted` itself or `emitted` followed by an end-of-line comment.
bool line_matches(std::string_view orig, std::string_view emitted) {
  if (!orig.starts_with(emitted)) return false;
  std::string_view rest = orig.substr(emitted.size());
  if (rest.empty()) return true;
  size_t i = rest.find_first_not_of(" \t");
  return i != 0 && i != std::string_view::npos && rest[i] == '#';
}

// Where the end-of-line comment of a line starts ('#' after a blank, outside quotes), or npos.
size_t comment_start(std::string_view line) {
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '#' && i > 0 && (line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return i;
    }
  }
  return std::string_view::npos;
}

// `emitted` (re-emitted lines of a changed entry) with the end-of-line comment of the entry's
// original key line kept on its first line, as ruamel keeps it: at its column when the new text
// fits before it, else after one space.
std::string with_key_line_comment(std::string emitted, std::string_view orig_key_line) {
  size_t c = comment_start(orig_key_line);
  if (c == std::string_view::npos) return emitted;
  size_t nl = emitted.find('\n');
  if (nl == std::string::npos) nl = emitted.size();
  std::string first = emitted.substr(0, nl);
  if (comment_start(first) != std::string::npos) return emitted;
  first += first.size() < c ? std::string(c - first.size(), ' ') : std::string(" ");
  first += orig_key_line.substr(c);
  return first + emitted.substr(nl);
}

// The lines ruamel writes for `key: value` nested under the mapping keys `path`.
std::string emit_chunk(const std::vector<std::string>& path, const std::string& key, const Node& value) {
  Node inner = Node::mapping();
  inner.set(key, value);
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    Node outer = Node::mapping();
    outer.set(*it, std::move(inner));
    inner = std::move(outer);
  }
  std::string text = yaml::emit(inner);
  size_t pos = 0;
  for (size_t i = 0; i < path.size(); ++i) pos = text.find('\n', pos) + 1;
  return text.substr(pos);
}

void append_lines(std::string& out, const std::vector<std::string_view>& lines, size_t b, size_t e) {
  for (size_t i = b; i < e; ++i) {
    out += lines[i];
    out += '\n';
  }
}

struct Renderer {
  const std::vector<std::string_view>& lines;
  SequenceEdits sequences = SequenceEdits::replaced;

  // The lines that start the items of a block sequence (at the indent of its first item).
  static std::vector<size_t> item_starts(const std::vector<std::string_view>& ls, size_t b, size_t e) {
    std::vector<size_t> out;
    size_t indent = std::string_view::npos;
    for (size_t i = b; i < e; ++i) {
      if (is_trivia(ls[i])) continue;
      size_t ind = indent_of(ls[i]);
      if (indent == std::string_view::npos) indent = ind;
      if (ind == indent && ls[i].substr(ind).starts_with("-")) out.push_back(i);
    }
    return out;
  }

  // A one-line item at index i keeps the end-of-line comment the original item i had (ruamel
  // keeps it with the index when apply_diff replaces the item). `text` is the re-emitted entry,
  // its key line first; the original items are in lines [b, e).
  std::string with_item_comments(std::string text, size_t b, size_t e) const {
    auto out_lines = split_lines(text);
    auto orig_items = item_starts(lines, b, e);
    auto new_items = item_starts(out_lines, 1, out_lines.size());
    if (orig_items.size() != new_items.size()) return text;
    auto one_line = [](const std::vector<std::string_view>& ls, const std::vector<size_t>& items, size_t k,
                       size_t end) {
      size_t next = k + 1 < items.size() ? items[k + 1] : end;
      for (size_t i = items[k] + 1; i < next; ++i)
        if (!is_trivia(ls[i])) return false;
      return true;
    };
    std::vector<std::string> rewritten(out_lines.begin(), out_lines.end());
    bool changed = false;
    for (size_t k = 0; k < orig_items.size(); ++k) {
      std::string_view o = lines[orig_items[k]];
      if (comment_start(o) == std::string_view::npos || !one_line(lines, orig_items, k, e) ||
          !one_line(out_lines, new_items, k, out_lines.size()))
        continue;
      rewritten[new_items[k]] = with_key_line_comment(rewritten[new_items[k]], o);
      changed = true;
    }
    if (!changed) return text;
    std::string joined;
    for (auto& l : rewritten) {
      joined += l;
      joined += '\n';
    }
    return joined;
  }

  // The entries of a block mapping whose key lines are at `indent` within lines [b, e); false when
  // the text does not have the shape of `orig`. Like ruamel, comments and blank lines after an
  // entry stay with the deepest last value before them: new keys are appended after them.
  bool entries(std::string& out, size_t b, size_t e, size_t indent, const Node& orig, const Node& upd,
               std::vector<std::string>& path) {
    std::vector<size_t> keys;
    for (size_t i = b; i < e; ++i) {
      std::string_view l = lines[i];
      if (is_trivia(l)) continue;
      size_t ind = indent_of(l);
      if (ind < indent) return false;
      if (ind > indent) {
        if (keys.empty()) return false;  // content before the first key
        continue;
      }
      std::string_view rest = l.substr(ind);
      if (rest.starts_with("---") || rest.starts_with("...")) return false;
      if (rest == "-" || rest.starts_with("- ")) {  // a sequence under the previous key
        if (keys.empty()) return false;
        continue;
      }
      keys.push_back(i);
    }
    if (keys.size() != orig.map.size()) return false;
    std::string body;
    append_lines(body, lines, b, keys.empty() ? e : keys[0]);
    std::map<std::string_view, size_t> index;
    for (size_t j = 0; j < keys.size(); ++j) index[orig.map[j].first] = j;
    for (const auto& [k, v] : upd.map) {
      auto it = index.find(k);
      if (it == index.end()) {
        body += emit_chunk(path, k, v);
        continue;
      }
      size_t j = it->second;
      entry(body, keys[j], j + 1 < keys.size() ? keys[j + 1] : e, indent, k, orig.map[j].second, v, path);
    }
    out += body;
    return true;
  }

  // One entry `key: value` whose text is lines [b, e) with its key at `indent`.
  void entry(std::string& out, size_t b, size_t e, size_t indent, const std::string& key, const Node& orig,
             const Node& upd, std::vector<std::string>& path) {
    size_t content_end = e;
    while (content_end > b + 1 && is_trivia(lines[content_end - 1])) --content_end;
    bool block_map = [&](const Node& n) { return n.is_mapping() && !n.flow && !n.map.empty(); }(orig) &&
                     upd.is_mapping() && !upd.flow && !upd.map.empty();
    if (block_map) {
      std::string head = yaml::quote_scalar(key) + ":";
      std::string_view kl = lines[b].substr(std::min(indent, lines[b].size()));
      size_t child = 0;
      for (size_t i = b + 1; i < content_end && !child; ++i)
        if (!is_trivia(lines[i])) child = indent_of(lines[i]);
      if (line_matches(kl, head) && child > indent) {
        std::string body(lines[b]);
        body += '\n';
        path.push_back(key);
        bool ok = entries(body, b + 1, e, child, orig, upd, path);
        path.pop_back();
        if (ok) {
          out += body;
          return;
        }
      }
    }
    // A leaf (or a mapping of another shape): keep the text when it is what ruamel writes.
    std::string emitted = emit_chunk(path, key, upd);
    auto want = split_lines(emitted);
    size_t w = 0;
    bool same = true;
    for (size_t i = b; i < content_end && same; ++i) {
      if (is_trivia(lines[i]) && i != b) continue;
      same = w < want.size() && line_matches(lines[i], want[w]);
      ++w;
    }
    if (same && w == want.size()) {
      append_lines(out, lines, b, e);
    } else {
      std::string text = with_key_line_comment(std::move(emitted), lines[b]);
      // A block sequence changed item by item (apply_diff: same length) keeps the comment lines
      // before its first item: ruamel attaches them to that position, not to the item replaced.
      if (sequences == SequenceEdits::item_by_item && orig.is_sequence() && upd.is_sequence() && !orig.flow &&
          !orig.seq.empty() && orig.seq.size() == upd.seq.size()) {
        text = with_item_comments(std::move(text), b + 1, content_end);
        std::string lead;
        for (size_t i = b + 1; i < content_end && is_trivia(lines[i]); ++i) {
          lead += lines[i];
          lead += '\n';
        }
        size_t nl = text.find('\n');
        if (!lead.empty() && nl != std::string::npos) text.insert(nl + 1, lead);
      }
      out += text;
      append_lines(out, lines, content_end, e);
    }
  }
};

Node* find_stages(Node& doc) {
  Node* s = doc.is_mapping() ? doc.find("stages") : nullptr;
  return s && s->is_mapping() ? s : nullptr;
}

bool has_interpolation(const Node& n) {
  switch (n.kind) {
    case Kind::string: return n.s.find("${") != std::string::npos;
    case Kind::sequence:
      return std::any_of(n.seq.begin(), n.seq.end(), [](const Node& c) { return has_interpolation(c); });
    case Kind::mapping:
      for (const auto& [k, v] : n.map)
        if (k.find("${") != std::string::npos || has_interpolation(v)) return true;
      return false;
    default: return false;
  }
}

// A schema error in the wording of parse_dvc_yaml().
Error not_a_dict(const std::string& filename, const std::string& where, const Node& at) {
  return Error{ErrorCode::corruption, "'" + filename + "' validation failed: expected a dictionary @ data" +
                                          where + " (line " + std::to_string(at.line) + ")"};
}

// The parsed document and the definition of `stage` for set/remove operations.
struct Located {
  Node doc;
  std::string key;  // the key of the stage under `stages`
};

Result<Located> locate_stage(std::string_view text, const std::string& filename, std::string_view stage,
                             std::string_view action) {
  auto doc = yaml::parse(text, filename);
  if (!doc) return std::unexpected(doc.error());
  Located out{std::move(*doc), std::string(stage)};
  Node* stages = find_stages(out.doc);
  const Node* def = stages ? stages->find(stage) : nullptr;
  if (!def && stages) {
    size_t at = stage.rfind('@');
    if (at != std::string_view::npos) {
      const Node* group = stages->find(stage.substr(0, at));
      if (group && group->is_mapping() && (group->find("foreach") || group->find("matrix")))
        return std::unexpected(parametrized_stage_error(action, stage));
    }
  }
  if (def && !def->is_mapping())
    return std::unexpected(not_a_dict(filename, "['stages']['" + std::string(stage) + "']", *def));
  if (!def)
    return fail(ErrorCode::not_found,
                "Stage '" + std::string(stage) + "' not found inside '" + filename + "' file");
  if (stage_is_parametrized(*def)) return std::unexpected(parametrized_stage_error(action, stage));
  return out;
}

std::vector<std::string> sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}


// dependency._merge_params + serialize._serialize_params_keys over the written `params` list.
Node params_keys_node(const Node& written) {
  std::vector<std::pair<std::string, std::vector<std::string>>> files;  // first-seen order
  std::vector<std::string> whole;
  auto slot = [&](const std::string& f) -> std::vector<std::string>& {
    for (auto& [name, keys] : files)
      if (name == f) return keys;
    return files.emplace_back(f, std::vector<std::string>{}).second;
  };
  for (const Node& item : written.seq)
    if (item.is_mapping())
      for (const auto& [file, keys] : item.map)
        if (keys.is_null() || (keys.is_sequence() && keys.seq.empty())) whole.push_back(file);
  auto is_whole = [&](const std::string& f) {
    return std::find(whole.begin(), whole.end(), f) != whole.end();
  };
  for (const Node& item : written.seq) {
    if (item.is_string()) {
      if (!is_whole("params.yaml")) slot("params.yaml").push_back(item.s);
      continue;
    }
    for (const auto& [file, keys] : item.map) {
      auto& list = slot(file);
      if (is_whole(file)) {
        list.clear();
        continue;
      }
      for (const Node& k : keys.seq)
        if (k.is_string()) list.push_back(k.s);
    }
  }
  std::stable_sort(files.begin(), files.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Node out = Node::sequence();
  std::vector<Node> defaults;
  for (auto& [file, keys] : files) {
    std::sort(keys.begin(), keys.end());
    if (!keys.empty() && file == "params.yaml") {
      for (const auto& k : keys) defaults.push_back(Node::str(k));
      continue;
    }
    Node entry = Node::mapping();
    if (keys.empty()) {
      entry.set(file, Node::null());
    } else {
      Node list = Node::sequence();
      for (const auto& k : keys) list.push_back(Node::str(k));
      entry.set(file, std::move(list));
    }
    out.push_back(std::move(entry));
  }
  out.seq.insert(out.seq.begin(), defaults.begin(), defaults.end());
  return out;
}

// serialize._serialize_out: the path, or {path: flags} with annotations, cache: false,
// persist: true, the plot properties, remote and push: false.
Node out_node(const std::string& path, const Node& opts, bool plot) {
  Node flags = Node::mapping();
  for (const char* k : {"desc", "type", "labels", "meta"})
    if (const Node* v = opts.find(k); v && yaml::truthy(*v)) flags.set(k, *v);
  const Node* cache = opts.find("cache");
  if (cache && cache->kind == Kind::boolean && !cache->b) flags.set("cache", Node::boolean(false));
  const Node* persist = opts.find("persist");
  if (persist && persist->kind == Kind::boolean && persist->b) flags.set("persist", Node::boolean(true));
  if (plot)
    for (const auto& [k, v] : opts.map)
      if (k == "x" || k == "y" || k == "x_label" || k == "y_label" || k == "title" || k == "template" ||
          k == "header")
        flags.set(k, v);
  if (const Node* v = opts.find("remote"); v && yaml::truthy(*v)) flags.set("remote", *v);
  const Node* push = opts.find("push");
  if (push && push->kind == Kind::boolean && !push->b) flags.set("push", Node::boolean(false));
  if (flags.map.empty()) return Node::str(path);
  Node e = Node::mapping();
  e.set(path, std::move(flags));
  return e;
}

// The entries of an outs/metrics/plots list sorted by path (as serialize._serialize_outs).
Node outs_node(const Node& written, bool plot) {
  std::vector<std::pair<std::string, Node>> items;
  for (const Node& item : written.seq) {
    if (item.is_string()) items.emplace_back(item.s, out_node(item.s, Node::mapping(), plot));
    else if (item.is_mapping())
      for (const auto& [path, opts] : item.map)
        items.emplace_back(path, out_node(path, opts.is_mapping() ? opts : Node::mapping(), plot));
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  Node out = Node::sequence();
  for (auto& it : items) out.push_back(std::move(it.second));
  return out;
}

}  // namespace

std::string render_round_trip(std::string_view original_text, const Node& original, const Node& updated,
                              SequenceEdits sequences) {
  if (!original.is_mapping() || original.flow || original.map.empty() || !updated.is_mapping())
    return yaml::emit(updated);
  auto lines = split_lines(original_text);
  Renderer r{lines, sequences};
  std::string out;
  std::vector<std::string> path;
  size_t e = lines.size();
  if (!r.entries(out, 0, e, 0, original, updated, path)) return yaml::emit(updated);
  return out;
}

Node pipeline_stage_node(const Node& def) {
  if (!def.is_mapping()) return def;
  Node m = Node::mapping();
  auto get = [&](const char* k) { return def.find(k); };
  if (const Node* v = get("desc"); v && yaml::truthy(*v)) m.set("desc", *v);
  if (const Node* v = get("cmd")) m.set("cmd", *v);
  if (const Node* v = get("wdir"); v && v->is_string()) {
    std::string w = v->s;
    while (w.starts_with("./")) w.erase(0, 2);
    while (w.size() > 1 && w.ends_with('/')) w.pop_back();
    if (!w.empty() && w != ".") m.set("wdir", Node::str(w));
  }
  if (const Node* v = get("deps"); v && v->is_sequence() && !v->seq.empty()) {
    bool strings = std::all_of(v->seq.begin(), v->seq.end(), [](const Node& n) { return n.is_string(); });
    Node deps = *v;
    if (strings)
      std::stable_sort(deps.seq.begin(), deps.seq.end(),
                       [](const Node& a, const Node& b) { return a.s < b.s; });
    m.set("deps", std::move(deps));
  }
  if (const Node* v = get("params"); v && v->is_sequence() && !v->seq.empty())
    m.set("params", params_keys_node(*v));
  for (const char* k : {"outs", "metrics", "plots"})
    if (const Node* v = get(k); v && v->is_sequence() && !v->seq.empty())
      m.set(k, outs_node(*v, std::string_view(k) == "plots"));
  for (const char* k : {"frozen", "always_changed"})
    if (const Node* v = get(k); v && yaml::truthy(*v)) m.set(k, Node::boolean(true));
  if (const Node* v = get("meta"); v && yaml::truthy(*v)) m.set("meta", *v);
  return m;
}

std::string join_command(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i) out += ' ';
    const std::string& w = words[i];
    if (words.size() < 2) out += w;
    else if (w.empty()) out += "\"\"";
    else if (w.find(' ') != std::string::npos && w.find('"') == std::string::npos) out += "\"" + w + "\"";
    else out += w;
  }
  return out;
}

Node stage_add_node(const StageAddSpec& spec) {
  Node m = Node::mapping();
  if (spec.desc && !spec.desc->empty()) m.set("desc", Node::str(*spec.desc));
  m.set("cmd", Node::str(join_command(spec.command)));
  if (!spec.wdir.empty() && spec.wdir != ".") m.set("wdir", Node::str(spec.wdir));
  if (!spec.deps.empty()) {
    Node deps = Node::sequence();
    for (const auto& d : sorted(spec.deps)) deps.push_back(Node::str(d));
    m.set("deps", std::move(deps));
  }
  // dvc.utils.cli_parse.parse_params: "[file:]k1,k2" -> {file: [k1, k2]} (file: params.yaml), merged
  // per file; then loaded and serialized like a written params list.
  if (!spec.params.empty()) {
    Node written = Node::sequence();
    for (const auto& p : spec.params) {
      size_t colon = p.rfind(':');
      std::string file = colon == std::string::npos ? "" : p.substr(0, colon);
      std::string list = colon == std::string::npos ? p : p.substr(colon + 1);
      if (file.empty()) file = "params.yaml";
      Node* keys = nullptr;
      for (Node& item : written.seq)
        if (item.map.front().first == file) keys = &item.map.front().second;
      if (!keys) {
        Node item = Node::mapping();
        item.set(file, Node::sequence());
        keys = &written.push_back(std::move(item)).map.front().second;
      }
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        if (comma > pos) keys->push_back(Node::str(list.substr(pos, comma - pos)));
        pos = comma + 1;
      }
    }
    m.set("params", params_keys_node(written));
  }
  struct Out {
    std::string path;
    bool cache, persist;
  };
  auto bucket = [&](const char* name, std::vector<Out> outs) {
    if (outs.empty()) return;
    std::stable_sort(outs.begin(), outs.end(), [](const Out& a, const Out& b) { return a.path < b.path; });
    Node list = Node::sequence();
    for (const auto& o : outs) {
      if (o.cache && !o.persist) {
        list.push_back(Node::str(o.path));
        continue;
      }
      Node flags = Node::mapping();
      if (!o.cache) flags.set("cache", Node::boolean(false));
      if (o.persist) flags.set("persist", Node::boolean(true));
      Node e = Node::mapping();
      e.set(o.path, std::move(flags));
      list.push_back(std::move(e));
    }
    m.set(name, std::move(list));
  };
  std::vector<Out> outs, metrics, plots;
  for (const auto& p : spec.outs) outs.push_back({p, true, false});
  for (const auto& p : spec.outs_no_cache) outs.push_back({p, false, false});
  for (const auto& p : spec.outs_persist) outs.push_back({p, true, true});
  for (const auto& p : spec.outs_persist_no_cache) outs.push_back({p, false, true});
  for (const auto& p : spec.metrics) metrics.push_back({p, true, false});
  for (const auto& p : spec.metrics_no_cache) metrics.push_back({p, false, false});
  for (const auto& p : spec.plots) plots.push_back({p, true, false});
  for (const auto& p : spec.plots_no_cache) plots.push_back({p, false, false});
  bucket("outs", std::move(outs));
  bucket("metrics", std::move(metrics));
  bucket("plots", std::move(plots));
  if (spec.always_changed) m.set("always_changed", Node::boolean(true));
  return m;
}

Result<std::string> add_stage(std::string_view existing_text, const std::string& filename,
                              const StageAddSpec& spec) {
  Node orig;
  if (!existing_text.empty()) {
    auto doc = yaml::parse(existing_text, filename);
    if (!doc) return std::unexpected(doc.error());
    orig = std::move(*doc);
  }
  if (!orig.is_null() && !orig.is_mapping()) return std::unexpected(not_a_dict(filename, "", orig));
  const Node* old_stages = orig.is_mapping() ? orig.find("stages") : nullptr;
  if (old_stages && !old_stages->is_null() && !old_stages->is_mapping())
    return std::unexpected(not_a_dict(filename, "['stages']", *old_stages));
  Node upd = orig.is_null() ? Node::mapping() : orig;
  Node* stages = find_stages(upd);
  if (!stages) stages = &upd.set("stages", Node::mapping());
  Node def = stage_add_node(spec);
  if (Node* old = stages->find(spec.name)) {
    if (!spec.force)
      return fail(ErrorCode::conflict, "Stage '" + spec.name + "' already exists in '" + filename +
                                           "'. Use '--force' to overwrite.");
    yaml::apply_diff(def, *old);
  } else {
    stages->set(spec.name, std::move(def));
  }
  return render_round_trip(existing_text, orig, upd);
}

bool stage_is_parametrized(const Node& stage_def) {
  if (stage_def.is_mapping() &&
      (stage_def.find("foreach") || stage_def.find("matrix") || stage_def.find("vars")))
    return true;
  return has_interpolation(stage_def);
}

Error parametrized_stage_error(std::string_view action, std::string_view stage) {
  return Error{ErrorCode::invalid_argument,
               "cannot " + std::string(action) + " a parametrized stage: '" + std::string(stage) + "'"};
}

Result<std::string> set_stage_key(std::string_view text, const std::string& filename, std::string_view stage,
                                  std::string_view key, const Node& value) {
  auto loc = locate_stage(text, filename, stage, "dump");
  if (!loc) return std::unexpected(loc.error());
  Node upd = loc->doc;
  Node* def = find_stages(upd)->find(loc->key);
  Node want = pipeline_stage_node(*def);
  want.set(key, value);
  yaml::apply_diff(want, *def);
  return render_round_trip(text, loc->doc, upd);
}

Result<std::string> remove_stage_key(std::string_view text, const std::string& filename,
                                     std::string_view stage, std::string_view key) {
  auto loc = locate_stage(text, filename, stage, "dump");
  if (!loc) return std::unexpected(loc.error());
  Node upd = loc->doc;
  Node* def = find_stages(upd)->find(loc->key);
  Node want = pipeline_stage_node(*def);
  want.erase(key);
  yaml::apply_diff(want, *def);
  return render_round_trip(text, loc->doc, upd);
}

Result<RemovedStage> remove_stage(std::string_view text, const std::string& filename,
                                  std::string_view stage) {
  auto loc = locate_stage(text, filename, stage, "remove");
  if (!loc) return std::unexpected(loc.error());
  Node upd = loc->doc;
  Node* stages = find_stages(upd);
  stages->erase(loc->key);
  RemovedStage out;
  out.no_stages = stages->map.empty();
  out.text = render_round_trip(text, loc->doc, upd);
  return out;
}

}  // namespace dvx::formats
