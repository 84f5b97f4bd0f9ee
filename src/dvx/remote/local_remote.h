// A remote that is a directory on a local or mounted file system. Objects are stored read-only
// (0444), written to a temp file beside the destination and renamed into place (or, in a
// batch, staged in a hidden folder that is renamed into place whole).
// Thread-safety: safe for concurrent use.
#pragma once

#include <mutex>
#include <unordered_set>

#include "dvx/remote/remote.h"

namespace dvx::remote {

class LocalRemote final : public Remote {
 public:
  explicit LocalRemote(std::string root) : m_root(std::move(root)) {}
  std::string describe() const override { return m_root; }
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<SmallRead> get_small(const std::string& key, size_t limit, std::string& out) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;
  // Objects into prefix folders the remote does not have yet are staged and published one
  // folder per rename (odb::BulkWriter); other keys go through put().
  std::unique_ptr<Batch> batch() const override;

 private:
  std::string m_root;
  // Folders known to exist (so each is created once per command, not stat'ed per object).
  mutable std::mutex m_dirs_mutex;
  mutable std::unordered_set<std::string> m_dirs;
};

}  // namespace dvx::remote
