#include "dvx/metrics/plots_datapoints.h"

#include <algorithm>

#include "dvx/formats/py_json.h"
#include "dvx/formats/py_json_read.h"

namespace dvx::metrics {

Datapoints Datapoints::from_json(const Json& list) {
  Datapoints d;
  for (auto& item : list) {
    d.begin_row();
    for (auto it = item.begin(); it != item.end(); ++it) {
      size_t start = d.m_arena.size();
      formats::py_json_append(d.m_arena, it.value());
      d.put_new_from(d.intern(it.key()), start);  // an object's keys are distinct
    }
  }
  return d;
}

Datapoints::KeyId Datapoints::intern(std::string_view name) {
  if (auto id = find_key(name)) return *id;
  m_keys.emplace_back(name);
  std::string j;
  formats::py_json_append_string(j, name);
  j += ": ";
  m_key_json.push_back(std::move(j));
  return static_cast<KeyId>(m_keys.size() - 1);
}

std::optional<Datapoints::KeyId> Datapoints::find_key(std::string_view name) const {
  for (size_t i = 0; i < m_keys.size(); ++i)
    if (m_keys[i] == name) return static_cast<KeyId>(i);
  return std::nullopt;
}

void Datapoints::begin_row() { m_row_start.push_back(m_row_start.back()); }

void Datapoints::put(KeyId key, std::string_view json_text) {
  size_t first = m_row_start[m_row_start.size() - 2];
  for (size_t i = first; i < m_cells.size(); ++i)
    if (m_cells[i].key == key) {
      std::uint64_t off = add_text(json_text);
      m_cells[i].off = off;
      m_cells[i].len = static_cast<std::uint32_t>(json_text.size());
      return;
    }
  put_new(key, json_text);
}

const Datapoints::Cell* Datapoints::find(size_t r, KeyId key) const {
  for (auto& c : row(r))
    if (c.key == key) return &c;
  return nullptr;
}

bool Datapoints::row_has(size_t r, std::string_view name) const {
  auto key = find_key(name);
  return key && find(r, *key);
}

bool Datapoints::any_row_has(std::string_view name) const {
  auto key = find_key(name);
  if (!key) return false;
  for (auto& c : m_cells)
    if (c.key == *key) return true;
  return false;
}

std::vector<std::string> Datapoints::row_keys(size_t r) const {
  std::vector<std::string> out;
  for (auto& c : row(r)) out.push_back(m_keys[c.key]);
  return out;
}

std::optional<std::string> Datapoints::string_at(size_t r, std::string_view name) const {
  auto key = find_key(name);
  const Cell* c = key ? find(r, *key) : nullptr;
  if (!c || c->len == 0 || text(*c).front() != '"') return std::nullopt;
  std::string out;
  size_t pos = 0;
  if (!formats::py_json_read_string(text(*c), pos, out)) return std::nullopt;
  return out;
}

bool Datapoints::keys_of_first_row_cover_all() const {
  if (empty()) return true;
  std::vector<bool> in_first(m_keys.size(), false);
  for (auto& c : row(0)) in_first[c.key] = true;
  return std::all_of(m_cells.begin(), m_cells.end(), [&](const Cell& c) { return in_first[c.key]; });
}

void Datapoints::set_each(std::string_view name, std::string_view json_text) { set_each({{name, json_text}}); }

void Datapoints::set_each(std::initializer_list<std::pair<std::string_view, std::string_view>> values) {
  std::vector<Cell> set;
  for (auto& [name, text] : values) {
    KeyId key = intern(name);
    std::uint64_t off = add_text(text);
    set.push_back({key, static_cast<std::uint32_t>(text.size()), off});
  }
  std::vector<Cell> cells;
  cells.reserve(m_cells.size() + size() * set.size());
  std::vector<std::uint32_t> starts;
  starts.reserve(m_row_start.size());
  starts.push_back(0);
  std::vector<bool> placed(set.size());
  for (size_t r = 0; r < size(); ++r) {
    std::fill(placed.begin(), placed.end(), false);
    size_t first = cells.size();
    for (auto& c : row(r)) cells.push_back(c);
    for (size_t k = 0; k < set.size(); ++k) {
      bool found = false;
      for (size_t i = first; i < cells.size() && !found; ++i)
        if (cells[i].key == set[k].key) {
          cells[i] = set[k];
          found = true;
        }
      if (!found) cells.push_back(set[k]);
    }
    starts.push_back(static_cast<std::uint32_t>(cells.size()));
  }
  m_cells = std::move(cells);
  m_row_start = std::move(starts);
}

void Datapoints::set_index(std::string_view name) {
  set_each_computed(name, [](size_t r) { return std::optional<std::string>(std::to_string(r)); });
}

bool Datapoints::copy_field(std::string_view to, const Datapoints& src, std::string_view from) {
  if (src.size() != size()) return false;
  auto from_key = src.find_key(from);
  if (!from_key) return true;
  KeyId key = intern(to);
  if (&src == this) {
    rewrite(key, [&](size_t r) -> std::optional<Cell> {
      const Cell* c = find(r, *from_key);
      if (!c) return std::nullopt;
      return Cell{key, c->len, c->off};
    });
    return true;
  }
  rewrite(key, [&](size_t r) -> std::optional<Cell> {
    const Cell* c = src.find(r, *from_key);
    if (!c) return std::nullopt;
    std::uint64_t off = add_text(src.text(*c));
    return Cell{key, c->len, off};
  });
  return true;
}

void Datapoints::erase(std::initializer_list<std::string_view> names) {
  std::vector<bool> gone(m_keys.size(), false);
  bool any = false;
  for (auto name : names)
    if (auto key = find_key(name)) any = gone[*key] = true;
  if (!any) return;
  std::vector<Cell> cells;
  cells.reserve(m_cells.size());
  std::vector<std::uint32_t> starts;
  starts.reserve(m_row_start.size());
  starts.push_back(0);
  for (size_t r = 0; r < size(); ++r) {
    for (auto& c : row(r))
      if (!gone[c.key]) cells.push_back(c);
    starts.push_back(static_cast<std::uint32_t>(cells.size()));
  }
  m_cells = std::move(cells);
  m_row_start = std::move(starts);
}

void Datapoints::append(Datapoints&& other) {
  if (empty() && m_keys.empty()) *this = std::move(other);
  else append(other);
}

void Datapoints::append(const Datapoints& other) {
  if (empty() && m_keys.empty()) {
    *this = other;
    return;
  }
  std::vector<KeyId> remap;
  remap.reserve(other.m_keys.size());
  for (auto& k : other.m_keys) remap.push_back(intern(k));
  std::uint64_t shift = m_arena.size();
  m_arena += other.m_arena;
  std::uint32_t base = static_cast<std::uint32_t>(m_cells.size());
  m_cells.reserve(m_cells.size() + other.m_cells.size());
  for (auto& c : other.m_cells) m_cells.push_back({remap[c.key], c.len, c.off + shift});
  m_row_start.reserve(m_row_start.size() + other.size());
  for (size_t r = 1; r < other.m_row_start.size(); ++r) m_row_start.push_back(base + other.m_row_start[r]);
}

void Datapoints::merge_rows(const Datapoints& other) {
  std::vector<KeyId> remap;
  for (auto& k : other.m_keys) remap.push_back(intern(k));
  std::uint64_t shift = m_arena.size();
  m_arena += other.m_arena;
  size_t rows = std::max(size(), other.size());
  std::vector<Cell> cells;
  std::vector<std::uint32_t> starts{0};
  for (size_t r = 0; r < rows; ++r) {
    size_t first = cells.size();
    if (r < size())
      for (auto& c : row(r)) cells.push_back(c);
    if (r < other.size()) {
      for (auto& c : other.row(r)) {
        Cell v{remap[c.key], c.len, c.off + shift};
        auto it = std::find_if(cells.begin() + static_cast<std::ptrdiff_t>(first), cells.end(),
                               [&](const Cell& e) { return e.key == v.key; });
        if (it != cells.end()) *it = v;
        else cells.push_back(v);
      }
    }
    starts.push_back(static_cast<std::uint32_t>(cells.size()));
  }
  m_cells = std::move(cells);
  m_row_start = std::move(starts);
}

void Datapoints::write_json(std::string& out) const {
  if (empty()) {
    out += "[]";
    return;
  }
  // Reserve the exact size: brackets, separators, keys and values.
  size_t need = 2 + 2 * (size() - 1);
  for (size_t r = 0; r < size(); ++r) {
    auto cells = row(r);
    need += 2 + (cells.empty() ? 0 : 2 * (cells.size() - 1));
    for (auto& c : cells) need += m_key_json[c.key].size() + c.len;
  }
  out.reserve(out.size() + need);
  out += '[';
  for (size_t r = 0; r < size(); ++r) {
    if (r) out += ", ";
    out += '{';
    bool first = true;
    for (auto& c : row(r)) {
      if (!first) out += ", ";
      first = false;
      out += m_key_json[c.key];
      out.append(m_arena, c.off, c.len);
    }
    out += '}';
  }
  out += ']';
}

std::string Datapoints::json_text() const {
  std::string out;
  write_json(out);
  return out;
}

}  // namespace dvx::metrics
