#include "dvx/odb/bulk_writer.h"

#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"

namespace dvx::odb {

namespace fsx = dvx::platform;

BulkWriter::BulkWriter(const ObjectDb& db) : m_db(db), m_files(db.root() + "/files") {
  for (const std::string& parent : {m_files, db.root()}) {
    auto entries = fsx::list_dir(parent);
    if (!entries) continue;
    for (auto& e : *entries) {
      if (e.type != fsx::FileType::directory || !fsx::is_temp_name(e.name)) continue;
      (void)remove_if_abandoned(parent + "/" + e.name);
    }
  }
}

BulkWriter::~BulkWriter() {
  for (auto& s : m_staging)
    if (!s.empty()) (void)fsx::remove_all(s);
  // m_locks are released after the trees are gone.
}

std::string BulkWriter::staged_dir(size_t slot) const {
  static const char* hex = "0123456789abcdef";
  size_t p = slot % 256;
  return m_staging[slot < 256 ? 0 : 1] + "/" + hex[p >> 4] + hex[p & 15];
}

int BulkWriter::decide(size_t slot, const ObjectId& id) {
  std::lock_guard<std::mutex> lock(m_mutex);
  int state = m_slots[slot].load(std::memory_order_relaxed);
  if (state != k_unknown) return state;
  state = k_direct;
  if (fsx::lstat_path(fsx::parent_dir(m_db.path_of(id))).type != fsx::FileType::directory) {
    size_t k = slot < 256 ? 0 : 1;
    std::string& root = m_staging[k];
    if (root.empty()) {
      std::string parent = k == 0 ? m_files : m_db.root();
      if (auto r = fsx::make_dirs(parent, m_db.dir_mode()); r) {
        std::string s = fsx::temp_path_beside(parent + "/x");
        if (fsx::make_dirs(s, m_db.dir_mode())) {
          root = s;
          m_locks[k] = claim_staging_tree(s);
          m_behind.start(s);
        }
      }
    }
    if (!root.empty() && fsx::make_dirs(staged_dir(slot), m_db.dir_mode())) {
      state = k_staged;
      m_dirty = true;
    }
  }
  m_slots[slot].store(state, std::memory_order_release);
  return state;
}

Status BulkWriter::add(std::string_view bytes, const ObjectId& id, bool* written) {
  auto staged = staged_path(id);
  if (!staged) return m_db.add_bytes(bytes, id, written);
  // Staged: the prefix folder did not exist, so the object is new (or staged twice, the same).
  if (written) *written = true;
  auto r = fsx::create_file(*staged, bytes, 0444);
  if (!r && r.error().code == ErrorCode::conflict) return {};  // the same content twice
  return r;
}

Status BulkWriter::add_file(const std::string& src, const ObjectId& id, Verify verify) {
  auto staged = staged_path(id);
  if (verify == Verify::no && !staged) return m_db.add_file(src, id, {fsx::LinkType::copy});
  if (!staged && m_db.exists(id)) return {};
  std::string dst = staged ? *staged : m_db.temp_path_for(id);
  auto r = verify == Verify::yes ? copy_verified(src, dst, 0444, id) : fsx::copy_file(src, dst, 0444);
  if (!r && staged && r.error().code == ErrorCode::conflict) return {};  // the same content twice
  if (!r || staged) return r;
  return m_db.adopt(dst, id);
}

std::optional<std::string> BulkWriter::staged_path(const ObjectId& id) {
  size_t slot = prefix_slot(id);
  int state = m_slots[slot].load(std::memory_order_acquire);
  if (state == k_unknown) state = decide(slot, id);
  if (state == k_direct) return std::nullopt;
  return staged_dir(slot) + "/" + id.oid.substr(2);
}

Status BulkWriter::commit() {
  if (!m_dirty) return {};
  // Staged files were created without writing each out (fsx::create_file): one sync of the
  // file system writes them all before any is published. If it fails, nothing is.
  m_behind.stop();
  Status first;
  for (size_t k = 0; k < 2 && first; ++k)
    if (!m_staging[k].empty()) first = fsx::write_out_now(m_staging[k]);
  for (size_t slot = 0; first && slot < m_slots.size(); ++slot) {
    if (m_slots[slot].load(std::memory_order_relaxed) != k_staged) continue;
    std::string from = staged_dir(slot);
    static const char* hex = "0123456789abcdef";
    std::string prefix{hex[(slot % 256) >> 4], hex[slot % 16]};
    std::string to = (slot < 256 ? m_files + "/md5/" : m_db.root() + "/") + prefix;
    // Nothing was stored there (e.g. every upload failed verification): publish no folder.
    if (auto entries = fsx::list_dir(from); entries && entries->empty()) continue;
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
  for (size_t k = 0; k < 2; ++k) {
    if (!m_staging[k].empty()) (void)fsx::remove_all(m_staging[k]);
    m_staging[k].clear();
    m_locks[k] = {};
  }
  for (auto& s : m_slots) s.store(k_unknown, std::memory_order_relaxed);
  m_dirty = false;
  return first;
}

}  // namespace dvx::odb
