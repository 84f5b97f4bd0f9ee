#include "dvx/platform/durable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>

#include "dvx/platform/files.h"

namespace dvx::platform {

namespace {

std::atomic<bool> g_durable{true};
std::mutex g_mutex;
std::map<dev_t, int>& written_devices() {  // device -> a dup'ed fd on it, for syncfs
  static std::map<dev_t, int> m;
  return m;
}
// Each thread remembers the last device it registered in this generation (sync_durable starts
// a new one), so the common case costs one fstat and no lock.
std::atomic<unsigned> g_generation{1};
thread_local dev_t t_last_dev = 0;
thread_local unsigned t_generation = 0;

Status errno_status(const std::string& what, int e) {
  return fail(ErrorCode::io, what + ": " + std::strerror(e));
}

void remember_device(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return;
  unsigned gen = g_generation.load(std::memory_order_acquire);
  if (st.st_dev == t_last_dev && gen == t_generation) return;
  std::lock_guard<std::mutex> l(g_mutex);
  auto& m = written_devices();
  t_last_dev = st.st_dev;
  t_generation = gen;
  if (m.count(st.st_dev)) return;
  int copy = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy >= 0) m.emplace(st.st_dev, copy);
}

}  // namespace

void set_durable(bool on) { g_durable.store(on, std::memory_order_relaxed); }
bool durable() { return g_durable.load(std::memory_order_relaxed); }

Status flush_written(int fd, const std::string& path) {
  if (!durable()) return {};
  remember_device(fd);
  if (::sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER) ==
      0)
    return {};
  // File systems without it (some FUSE and network ones) get a full data sync instead.
  if ((errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == ESPIPE) && ::fdatasync(fd) == 0)
    return {};
  if (errno == EINVAL || errno == EROFS) return {};  // nothing that can be synced (e.g. a pipe)
  return errno_status("failed to write '" + path + "' to disk", errno);
}

Status flush_path(const std::string& path) {
  if (!durable()) return {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return errno_status("failed to open '" + path + "'", errno);
  return flush_written(fd.get(), path);
}

Status sync_durable() {
  std::map<dev_t, int> devices;
  {
    std::lock_guard<std::mutex> l(g_mutex);
    devices.swap(written_devices());
    g_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  Status first;
  for (auto& [dev, fd] : devices) {
    if (::syncfs(fd) != 0 && first) first = errno_status("failed to sync the file system to disk", errno);
    ::close(fd);
  }
  return first;
}

}  // namespace dvx::platform
