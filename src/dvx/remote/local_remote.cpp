#include "dvx/remote/local_remote.h"

#include <functional>

#include "dvx/odb/bulk_writer.h"
#include "dvx/platform/files.h"

namespace dvx::remote {

namespace fsx = dvx::platform;

Result<bool> LocalRemote::exists(const std::string& key) const {
  return fsx::lstat_path(m_root + "/" + key).type == fsx::FileType::regular;
}

Status LocalRemote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  std::string dst = m_root + "/" + key;
  std::string dir = fsx::parent_dir(dst);
  bool known;
  {
    std::lock_guard<std::mutex> lock(m_dirs_mutex);
    known = m_dirs.count(dir) > 0;
  }
  if (!known) {
    if (auto r = fsx::make_dirs(dir); !r) return r;
    std::lock_guard<std::mutex> lock(m_dirs_mutex);
    m_dirs.insert(dir);
  }
  std::string tmp = fsx::temp_path_beside(dst);
  if (auto r = verify ? odb::copy_verified(local_path, tmp, 0444, *verify) : fsx::copy_file(local_path, tmp, 0444); !r)
    return r;
  if (auto r = fsx::rename_path(tmp, dst); !r) {
    (void)fsx::remove_file(tmp);
    return r;
  }
  return {};
}

Result<bool> LocalRemote::get(const std::string& key, const std::string& local_path,
                              const fsx::ByteObserver& observe) const {
  std::string src = m_root + "/" + key;
  if (fsx::stat_path(src).type != fsx::FileType::regular) return false;
  if (observe) {
    if (auto r = fsx::copy_file_observed(src, local_path, 0444, observe); !r) return std::unexpected(r.error());
  } else if (auto r = fsx::copy_file(src, local_path, 0444); !r) {
    return std::unexpected(r.error());
  }
  return true;
}

Result<Remote::SmallRead> LocalRemote::get_small(const std::string& key, size_t limit, std::string& out) const {
  auto r = fsx::read_file_upto(m_root + "/" + key, limit, out);
  if (!r) {
    if (r.error().code == ErrorCode::not_found) return SmallRead::absent;
    return std::unexpected(r.error());
  }
  return *r ? SmallRead::read : SmallRead::too_big;
}

Result<std::vector<std::string>> LocalRemote::list(const std::string& prefix) const {
  std::vector<std::string> out;
  std::function<void(const std::string&)> walk = [&](const std::string& rel) {
    auto entries = fsx::list_dir(rel.empty() ? m_root : m_root + "/" + rel);
    if (!entries) return;
    for (auto& e : *entries) {
      std::string child = rel.empty() ? e.name : rel + "/" + e.name;
      if (e.type == fsx::FileType::directory) walk(child);
      else if (e.type == fsx::FileType::regular) out.push_back(child);
    }
  };
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  walk(p);
  return out;
}

Status LocalRemote::remove(const std::string& key) const { return fsx::remove_file(m_root + "/" + key); }

namespace {

class LocalBatch final : public Remote::Batch {
 public:
  LocalBatch(const LocalRemote& remote, const std::string& root) : m_remote(remote), m_db(root), m_writer(m_db) {}
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) override {
    if (auto id = object_of(key); id && (!verify || *verify == *id))
      return m_writer.add_file(local_path, *id, verify ? odb::Verify::yes : odb::Verify::no);
    return m_remote.put(local_path, key, verify);
  }
  Status commit() override { return m_writer.commit(); }

 private:
  // "files/md5/ab/cd…" (3.x) or "ab/cd…" (2.x) as an object id; nullopt for other keys.
  static std::optional<odb::ObjectId> object_of(const std::string& key) {
    std::string_view k(key);
    odb::Layout layout = odb::Layout::legacy;
    if (k.starts_with("files/md5/")) {
      k.remove_prefix(10);
      layout = odb::Layout::v3;
    }
    if (k.size() < 4 || k[2] != '/') return std::nullopt;
    std::string oid = std::string(k.substr(0, 2)) + std::string(k.substr(3));
    if (!odb::valid_oid(oid)) return std::nullopt;
    return odb::ObjectId{oid, layout};
  }

  const LocalRemote& m_remote;
  odb::ObjectDb m_db;
  odb::BulkWriter m_writer;
};

}  // namespace

std::unique_ptr<Remote::Batch> LocalRemote::batch() const { return std::make_unique<LocalBatch>(*this, m_root); }

}  // namespace dvx::remote
