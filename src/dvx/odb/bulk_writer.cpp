#include "dvx/odb/bulk_writer.h"

#include <chrono>

#include "dvx/platform/files.h"

namespace dvx::odb {

namespace fsx = dvx::platform;

namespace {

// Staging trees of killed processes are removed once they are this old (a live one is never
// that old: it exists for the duration of one command's hashing).
constexpr int64_t k_stale_staging_ns = int64_t(24) * 3600 * 1'000'000'000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

BulkWriter::BulkWriter(const ObjectDb& db) : m_db(db), m_files(db.root() + "/files") {
  auto entries = fsx::list_dir(m_files);
  if (!entries) return;
  for (auto& e : *entries) {
    if (e.type != fsx::FileType::directory || !fsx::is_temp_name(e.name)) continue;
    std::string p = m_files + "/" + e.name;
    if (now_ns() - fsx::lstat_path(p).mtime_ns > k_stale_staging_ns) (void)fsx::remove_all(p);
  }
}

BulkWriter::~BulkWriter() {
  if (!m_staging.empty()) (void)fsx::remove_all(m_staging);
}

std::string BulkWriter::staged_dir(size_t slot) const {
  static const char* hex = "0123456789abcdef";
  size_t p = slot % 256;
  return m_staging + (slot < 256 ? "/md5/" : "/legacy/") + hex[p >> 4] + hex[p & 15];
}

int BulkWriter::decide(size_t slot, const ObjectId& id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  int state = m_slots[slot].load(std::memory_order_relaxed);
  if (state != k_unknown) return state;
  state = k_direct;
  if (fsx::lstat_path(fsx::parent_dir(m_db.path_of(id))).type != fsx::FileType::directory) {
    if (m_staging.empty()) {
      if (auto r = fsx::make_dirs(m_files, m_db.dir_mode()); r) {
        std::string s = fsx::temp_path_beside(m_files + "/x");
        if (fsx::make_dirs(s, m_db.dir_mode())) m_staging = s;
      }
    }
    if (!m_staging.empty() && fsx::make_dirs(staged_dir(slot), m_db.dir_mode())) {
      state = k_staged;
      m_dirty = true;
    }
  }
  m_slots[slot].store(state, std::memory_order_release);
  return state;
}

Status BulkWriter::add(std::string_view bytes, const ObjectId& id) {
  size_t slot = prefix_slot(id);
  int state = m_slots[slot].load(std::memory_order_acquire);
  if (state == k_unknown) state = decide(slot, id);
  if (state == k_direct) return m_db.add_bytes(bytes, id);
  auto r = fsx::create_file(staged_dir(slot) + "/" + id.oid.substr(2), bytes, 0444);
  if (!r && r.error().code == ErrorCode::conflict) return {};  // the same content twice
  return r;
}

Status BulkWriter::commit() {
  if (!m_dirty) return {};
  Status first;
  for (size_t slot = 0; slot < m_slots.size(); ++slot) {
    if (m_slots[slot].load(std::memory_order_relaxed) != k_staged) continue;
    std::string from = staged_dir(slot);
    static const char* hex = "0123456789abcdef";
    std::string prefix{hex[(slot % 256) >> 4], hex[slot % 16]};
    std::string to = (slot < 256 ? m_files + "/md5/" : m_db.root() + "/") + prefix;
    (void)fsx::make_dirs(fsx::parent_dir(to), m_db.dir_mode());
    if (fsx::rename_path(from, to)) continue;  // the whole prefix folder at once
    // The prefix folder appeared meanwhile (or could not be replaced): one object at a time.
    (void)fsx::make_dirs(to, m_db.dir_mode());
    auto entries = fsx::list_dir(from);
    if (!entries) {
      if (first) first = std::unexpected(entries.error());
      continue;
    }
    for (auto& e : *entries)
      if (auto r = fsx::rename_path(from + "/" + e.name, to + "/" + e.name); !r && first) first = r;
  }
  (void)fsx::remove_all(m_staging);
  m_staging.clear();
  for (auto& s : m_slots) s.store(k_unknown, std::memory_order_relaxed);
  m_dirty = false;
  return first;
}

}  // namespace dvx::odb
