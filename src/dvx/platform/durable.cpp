#include "dvx/platform/durable.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "dvx/platform/files.h"

namespace dvx::platform {

namespace {

constexpr long k_ext4_magic = 0xEF53;

std::atomic<bool> g_durable{false};  // Repo::open sets it from core.fsync / DVX_FSYNC
std::mutex g_mutex;

struct Device {
  int fd = -1;               // a dup'ed fd on the file system, for syncfs (-1 once synced)
  bool submit_only = false;  // see write_out_flags
};
std::map<dev_t, Device>& devices() {
  static std::map<dev_t, Device> m;
  return m;
}
// Each thread remembers the last device it looked up in this generation (sync_durable starts
// a new one), so the common case costs one fstat and no lock.
std::atomic<unsigned> g_generation{1};
thread_local dev_t t_last_dev = 0;
thread_local unsigned t_generation = 0;
thread_local bool t_last_submit_only = false;

Status errno_status(const std::string& what, int e) { return fail(ErrorCode::io, what + ": " + std::strerror(e)); }

// ext4 in its default data=ordered (or data=journal) mode writes a file's allocated data before
// it commits any later metadata change, such as the rename that publishes the file: there,
// submitting the write-out (allocating the blocks) is enough and the command does not wait for
// each file. Elsewhere (XFS, btrfs, ext4 data=writeback, ...) each write-out is waited for.
bool ordered_data(int fd, dev_t dev) {
  struct statfs fs;
  if (::fstatfs(fd, &fs) != 0 || fs.f_type != k_ext4_magic) return false;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  const std::string want = std::to_string(major(dev)) + ":" + std::to_string(minor(dev));
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, majmin;
    f >> id >> parent >> majmin;
    if (majmin != want) continue;
    return line.find("data=writeback") == std::string::npos;
  }
  return true;  // ext4's default
}

bool remember_device(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  unsigned gen = g_generation.load(std::memory_order_acquire);
  if (st.st_dev == t_last_dev && gen == t_generation) return t_last_submit_only;
  std::lock_guard<std::mutex> l(g_mutex);
  auto& d = devices()[st.st_dev];
  if (d.fd < 0) {
    d.fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    d.submit_only = ordered_data(fd, st.st_dev);
  }
  t_last_dev = st.st_dev;
  t_generation = gen;
  t_last_submit_only = d.submit_only;
  return d.submit_only;
}

}  // namespace

void set_durable(bool on) { g_durable.store(on, std::memory_order_relaxed); }
bool durable() { return g_durable.load(std::memory_order_relaxed); }

Status flush_written(int fd, const std::string& path) {
  if (!durable()) return {};
  bool submit_only = remember_device(fd);
  unsigned flags = submit_only ? SYNC_FILE_RANGE_WRITE
                               : SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;
  if (::sync_file_range(fd, 0, 0, flags) == 0) return {};
  // File systems without it (some FUSE and network ones) get a full data sync instead.
  if ((errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP || errno == ESPIPE) && ::fdatasync(fd) == 0)
    return {};
  if (errno == EINVAL || errno == EROFS) return {};  // nothing that can be synced (e.g. a pipe)
  return errno_status("failed to write '" + path + "' to disk", errno);
}

void note_written(int fd) {
  if (durable()) (void)remember_device(fd);
}

Status write_out_now(const std::string& path) {
  if (!durable()) return {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY));
  if (fd.get() < 0) return errno_status("failed to open '" + path + "'", errno);
  if (::syncfs(fd.get()) != 0) return errno_status("failed to write '" + path + "' to disk", errno);
  return {};
}

void WriteOutBehind::start(const std::string& path) {
  if (!durable() || m_thread.joinable()) return;
  m_fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (m_fd < 0) return;
  m_thread = std::thread([this] {
    std::unique_lock<std::mutex> l(m_mutex);
    while (!m_cv.wait_for(l, std::chrono::milliseconds(100), [this] { return m_stop; })) {
      l.unlock();
      (void)::syncfs(m_fd);
      l.lock();
    }
  });
}

void WriteOutBehind::stop() {
  if (m_thread.joinable()) {
    {
      std::lock_guard<std::mutex> l(m_mutex);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  if (m_fd >= 0) ::close(m_fd);
  m_fd = -1;
}

Status flush_path(const std::string& path) {
  if (!durable()) return {};
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (fd.get() < 0) return errno_status("failed to open '" + path + "'", errno);
  return flush_written(fd.get(), path);
}

Status sync_durable() {
  std::map<dev_t, Device> synced;
  {
    std::lock_guard<std::mutex> l(g_mutex);
    synced.swap(devices());
    g_generation.fetch_add(1, std::memory_order_acq_rel);
  }
  Status first;
  for (auto& [dev, d] : synced) {
    if (d.fd < 0) continue;
    if (::syncfs(d.fd) != 0 && first) first = errno_status("failed to sync the file system to disk", errno);
    ::close(d.fd);
  }
  return first;
}

}  // namespace dvx::platform
