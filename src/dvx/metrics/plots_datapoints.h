// The rows of a plot, DVC's list of dicts, kept flat: key names interned once, every value stored
// as its JSON text (json.dumps's compact form) in one arena, a row a run of (key, value) cells in
// one vector. A 10k-row CSV is a handful of allocations instead of one object per row and one
// string per value, and the rows are written out as JSON text directly (write_json), byte for
// byte what json.dumps writes for the same list of dicts.
// Rows keep Python's dict semantics: keys in insertion order, assigning an existing key keeps its
// place, a new key goes at the end.
// Thread-safety: a value type; const methods may be called from several threads at once.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace dvx::metrics {

using Json = nlohmann::ordered_json;

class Datapoints {
 public:
  using KeyId = std::uint32_t;
  struct Cell {
    KeyId key;
    std::uint32_t len;
    std::uint64_t off;  // the value's JSON text is arena[off, off + len)
  };

  Datapoints() = default;
  // The rows of a JSON list whose items are all objects (their values written by json.dumps).
  static Datapoints from_json(const Json& list_of_objects);

  size_t size() const { return m_row_start.size() - 1; }
  bool empty() const { return size() == 0; }

  // Key names. intern() adds a name not seen yet.
  KeyId intern(std::string_view name);
  std::optional<KeyId> find_key(std::string_view name) const;
  const std::string& key_name(KeyId id) const { return m_keys[id]; }

  // Building, row after row: begin_row(), then put() each key of the row.
  void begin_row();
  // In the last row: `key` gets the value `json_text` (kept in place when the row has it).
  void put(KeyId key, std::string_view json_text);
  // As put(), for a key the row does not have yet.
  void put_new(KeyId key, std::string_view json_text) { push_cell(key, add_text(json_text)); }
  // Arena access while building: the text appended by the caller since `start` becomes a value.
  std::string& arena() { return m_arena; }
  void put_new_from(KeyId key, size_t start) {
    m_cells.push_back({key, static_cast<std::uint32_t>(m_arena.size() - start), start});
    ++m_row_start.back();
  }

  // Reading.
  std::span<const Cell> row(size_t i) const {
    return {m_cells.data() + m_row_start[i], m_cells.data() + m_row_start[i + 1]};
  }
  std::string_view text(const Cell& c) const { return std::string_view(m_arena).substr(c.off, c.len); }
  const Cell* find(size_t row, KeyId key) const;
  bool row_has(size_t row, std::string_view name) const;
  bool any_row_has(std::string_view name) const;
  std::vector<std::string> row_keys(size_t row) const;
  // The value of `name` in a row when it is a JSON string.
  std::optional<std::string> string_at(size_t row, std::string_view name) const;
  // DVC's _is_datapoints() on rows: the keys of all rows together are those of the first row.
  bool keys_of_first_row_cover_all() const;

  // Whole-table edits, each Python's `for dp in rows: dp[name] = ...`:
  void set_each(std::string_view name, std::string_view json_text);  // one value for every row
  // Several keys set in order (as one set_each after the other), in one pass over the rows.
  void set_each(std::initializer_list<std::pair<std::string_view, std::string_view>> name_and_json_text);
  void set_index(std::string_view name);                              // row i gets i
  // Row i gets the `from` value of `src`'s row i, where that row has one. `src` may be *this.
  // Returns false (nothing changed) when `src` has a different number of rows.
  bool copy_field(std::string_view to, const Datapoints& src, std::string_view from);
  // Row i gets the value computed from row i (nullopt: unchanged).
  template <class F>
  void set_each_computed(std::string_view name, F&& json_text_of_row);
  void erase(std::string_view name) { erase({name}); }
  void erase(std::initializer_list<std::string_view> names);  // in one pass
  // `other`'s rows after these.
  void append(const Datapoints& other);
  void append(Datapoints&& other);
  // Rows merged index by index (get_datapoints(): later lists update the rows of earlier ones).
  void merge_rows(const Datapoints& other);

  // json.dumps(rows) in the compact form: "[{"k": v, ...}, ...]".
  void write_json(std::string& out) const;
  std::string json_text() const;

 private:
  std::uint64_t add_text(std::string_view json_text) {
    std::uint64_t off = m_arena.size();
    m_arena.append(json_text);
    return off;
  }
  void push_cell(KeyId key, std::uint64_t off) {
    m_cells.push_back({key, static_cast<std::uint32_t>(m_arena.size() - off), off});
    ++m_row_start.back();
  }
  // Rebuilds the cells: row i's `key` gets the value at `value(i)` (a cell), or keeps its own.
  template <class F>
  void rewrite(KeyId key, F&& value);

  std::vector<std::string> m_keys;
  std::vector<std::string> m_key_json;  // "\"name\": " as json.dumps writes it
  std::string m_arena;
  std::vector<Cell> m_cells;
  std::vector<std::uint32_t> m_row_start{0};
};

template <class F>
void Datapoints::rewrite(KeyId key, F&& value) {
  std::vector<Cell> cells;
  cells.reserve(m_cells.size() + size());
  std::vector<std::uint32_t> starts;
  starts.reserve(m_row_start.size());
  starts.push_back(0);
  for (size_t r = 0; r < size(); ++r) {
    std::optional<Cell> v = value(r);
    bool placed = false;
    for (auto& c : row(r)) {
      if (c.key == key && v) {
        cells.push_back(*v);
        placed = true;
      } else {
        cells.push_back(c);
      }
    }
    if (v && !placed) cells.push_back(*v);
    starts.push_back(static_cast<std::uint32_t>(cells.size()));
  }
  m_cells = std::move(cells);
  m_row_start = std::move(starts);
}

template <class F>
void Datapoints::set_each_computed(std::string_view name, F&& json_text_of_row) {
  KeyId key = intern(name);
  rewrite(key, [&](size_t r) -> std::optional<Cell> {
    std::optional<std::string> t = json_text_of_row(r);
    if (!t) return std::nullopt;
    std::uint64_t off = add_text(*t);
    return Cell{key, static_cast<std::uint32_t>(t->size()), off};
  });
}

}  // namespace dvx::metrics
