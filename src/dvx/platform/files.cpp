#include "dvx/platform/files.h"

#include "dvx/platform/durable.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <future>
#include <mutex>
#include <random>

namespace dvx::platform {

namespace {

FileStat from_stat(const struct stat& st) {
  FileStat s;
  if (S_ISREG(st.st_mode)) s.type = FileType::regular;
  else if (S_ISDIR(st.st_mode)) s.type = FileType::directory;
  else if (S_ISLNK(st.st_mode)) s.type = FileType::symlink;
  else s.type = FileType::other;
  s.inode = st.st_ino;
  s.device = st.st_dev;
  s.size = st.st_size;
  s.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  s.mode = st.st_mode & 07777;
  s.nlink = st.st_nlink;
  return s;
}

using Fd = UniqueFd;

Status write_all(int fd, const char* data, size_t n, const std::string& path) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail_errno("failed to write '" + path + "'", errno);
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return {};
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (m_fd >= 0) ::close(m_fd);
}

FileStat stat_fd(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return FileStat{};
  return from_stat(st);
}

FileStat lstat_path(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return FileStat{};
  return from_stat(st);
}

std::vector<FileStat> lstat_under(const std::string& dir, const std::vector<std::string>& rel_paths) {
  std::vector<FileStat> out(rel_paths.size());
  if (rel_paths.empty()) return out;
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_PATH);
  for (size_t i = 0; i < rel_paths.size(); ++i) {
    const std::string& rel = rel_paths[i];
    struct stat st;
    // An absolute or empty name is not relative to `dir`: looked up as lstat_path() would.
    bool relative = fd >= 0 && !rel.empty() && rel[0] != '/';
    int rc = relative ? ::fstatat(fd, rel.c_str(), &st, AT_SYMLINK_NOFOLLOW)
                      : ::lstat((rel.empty() ? dir : rel[0] == '/' ? rel : dir + "/" + rel).c_str(), &st);
    if (rc == 0) out[i] = from_stat(st);
  }
  if (fd >= 0) ::close(fd);
  return out;
}

FileStat stat_path(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return FileStat{};
  return from_stat(st);
}

Result<std::string> read_file(const std::string& path) { return read_file_prefix(path, SIZE_MAX); }

Result<std::string> read_file_prefix(const std::string& path, size_t limit) {
  // O_NONBLOCK: a FIFO put where a file was expected must not hang the command (no effect on
  // regular files).
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) return fail_errno("failed to read '" + path + "'", errno);
  std::string out;
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && st.st_size > 0)
    out.reserve(std::min(static_cast<size_t>(st.st_size), limit));
  char buf[65536];
  while (out.size() < limit) {
    ssize_t r = ::read(fd.get(), buf, std::min(sizeof buf, limit - out.size()));
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno("failed to read '" + path + "'", errno);
    }
    if (r == 0) break;
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

std::string temp_path_beside(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 rng(std::random_device{}() ^
                                   (uint64_t(::getpid()) << 32) ^
                                   uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string rnd;
  uint64_t r = rng() ^ (counter.fetch_add(1) * 0x9E3779B97F4A7C15ull);
  for (int i = 0; i < 22; ++i) {
    if (i == 10) r = rng();
    rnd += alphabet[r & 63];
    r >>= 6;
  }
  std::string dir = parent_dir(path);
  std::string prefix = dir.empty() ? "" : dir + "/";
  return prefix + "." + rnd + ".tmp";
}

bool is_temp_name(std::string_view name) {
  if (name.size() != 27 || name[0] != '.' || name.substr(23) != ".tmp") return false;
  for (char c : name.substr(1, 22))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')) return false;
  return true;
}

namespace {
// Creates `path` (which must not exist) with its final permissions (umask applied by open, so
// no fchmod) and writes bytes; removes it again on any error.
Status write_new(const std::string& path, std::string_view bytes, uint32_t mode, Durability durability,
                 bool publish_later = false) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777));
  if (fd.get() < 0) return fail_errno("failed to create '" + path + "'", errno);
  auto w = write_all(fd.get(), bytes.data(), bytes.size(), path);
  if (!w) {
    ::unlink(path.c_str());
    return w;
  }
  if (durability == Durability::fsync && ::fsync(fd.get()) != 0) {
    int e = errno;
    ::unlink(path.c_str());
    return fail_errno("failed to sync '" + path + "'", e);
  }
  if (publish_later) {
    note_written(fd.get());
  } else if (auto f = flush_written(fd.get(), path); !f) {
    ::unlink(path.c_str());
    return f;
  }
  return {};
}
}  // namespace

Status write_file_atomic(const std::string& path, std::string_view bytes, uint32_t mode,
                         Durability durability) {
  std::string tmp = temp_path_beside(path);
  if (auto r = write_new(tmp, bytes, mode, durability); !r) return r;
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail_errno("failed to write '" + path + "'", e);
  }
  return {};
}

Status create_file(const std::string& path, std::string_view bytes, uint32_t mode) {
  return write_new(path, bytes, mode, Durability::none, /*publish_later=*/true);
}

Status make_dirs(const std::string& path, uint32_t mode) {
  if (path.empty()) return {};
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return {};
    return fail(ErrorCode::conflict, "'" + path + "' exists and is not a directory");
  }
  std::string parent = parent_dir(path);
  if (!parent.empty() && parent != path) {
    auto r = make_dirs(parent, mode);
    if (!r) return r;
  }
  if (::mkdir(path.c_str(), mode) != 0 && errno != EEXIST)
    return fail_errno("failed to create directory '" + path + "'", errno);
  return {};
}

Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    return fail_errno("failed to remove '" + path + "'", errno);
  return {};
}

Status remove_all(const std::string& path) {
  FileStat st = lstat_path(path);
  if (!st.exists()) return {};
  if (st.type != FileType::directory) return remove_file(path);
  auto entries = list_dir(path);
  if (!entries) return std::unexpected(entries.error());
  for (auto& e : *entries) {
    std::string child = path + "/" + e.name;
    if (e.type == FileType::directory) {
      auto r = remove_all(child);
      if (!r) return r;
    } else {
      // Read-only files inside writable directories can be unlinked; directories may need +w.
      if (::unlink(child.c_str()) != 0 && errno != ENOENT) {
        if (errno == EISDIR || errno == EPERM) {
          auto r = remove_all(child);
          if (!r) return r;
        } else {
          return fail_errno("failed to remove '" + child + "'", errno);
        }
      }
    }
  }
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) {
    ::chmod(path.c_str(), 0700);
    if (::rmdir(path.c_str()) != 0 && errno != ENOENT)
      return fail_errno("failed to remove '" + path + "'", errno);
  }
  return {};
}

Status rename_path(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return fail_errno("failed to rename '" + from + "' to '" + to + "'", errno);
  return {};
}

Status chmod_path(const std::string& path, uint32_t mode) {
  if (::chmod(path.c_str(), mode) != 0) return fail_errno("failed to chmod '" + path + "'", errno);
  return {};
}

void remove_empty_dirs_up(const std::string& dir, const std::string& stop) {
  std::string d = dir;
  while (!d.empty() && d != stop && is_within(d, stop)) {
    if (::rmdir(d.c_str()) != 0) break;
    d = parent_dir(d);
  }
}

const char* link_type_name(LinkType t) {
  switch (t) {
    case LinkType::reflink: return "reflink";
    case LinkType::hardlink: return "hardlink";
    case LinkType::symlink: return "symlink";
    case LinkType::copy: return "copy";
  }
  return "copy";
}

std::optional<LinkType> parse_link_type(std::string_view name) {
  if (name == "reflink") return LinkType::reflink;
  if (name == "hardlink") return LinkType::hardlink;
  if (name == "symlink") return LinkType::symlink;
  if (name == "copy") return LinkType::copy;
  return std::nullopt;
}

Status copy_file(const std::string& src, const std::string& dst, uint32_t mode) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return fail_errno("failed to open '" + src + "'", errno);
  // Created with its final mode: no fchmod when the umask doesn't interfere.
  Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777));
  if (out.get() < 0) return fail_errno("failed to create '" + dst + "'", errno);
  bool fallback = false;
  while (true) {
    ssize_t n = ::copy_file_range(in.get(), nullptr, out.get(), nullptr, size_t(1) << 30, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP) {
        fallback = true;
        break;
      }
      int e = errno;
      ::unlink(dst.c_str());
      return fail_errno("failed to copy '" + src + "'", e);
    }
    if (n == 0) break;
  }
  if (fallback) {
    ::lseek(in.get(), 0, SEEK_SET);
    ::ftruncate(out.get(), 0);
    ::lseek(out.get(), 0, SEEK_SET);
    static thread_local std::vector<char> buf(1 << 20);
    while (true) {
      ssize_t r = ::read(in.get(), buf.data(), buf.size());
      if (r < 0) {
        if (errno == EINTR) continue;
        int e = errno;
        ::unlink(dst.c_str());
        return fail_errno("failed to read '" + src + "'", e);
      }
      if (r == 0) break;
      auto w = write_all(out.get(), buf.data(), static_cast<size_t>(r), dst);
      if (!w) {
        ::unlink(dst.c_str());
        return w;
      }
    }
  }
  if ((mode & ~current_umask()) != mode) ::fchmod(out.get(), mode);
  if (auto f = flush_written(out.get(), dst); !f) {
    ::unlink(dst.c_str());
    return f;
  }
  return {};
}

Result<bool> read_file_upto(const std::string& path, size_t limit, std::string& out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));  // never waits on a FIFO
  if (fd.get() < 0) return fail_errno("failed to read '" + path + "'", errno);
  // Sized by fstat (plus one byte to notice growth): growing the buffer zero-fills it, and
  // zero-filling `limit` bytes for every small file would cost more than reading it.
  FileStat st = stat_fd(fd.get());
  if (st.size > static_cast<int64_t>(limit)) return false;
  out.resize(static_cast<size_t>(std::max<int64_t>(st.size, 0)) + 1);
  size_t have = 0;
  while (have < out.size()) {
    ssize_t r = ::read(fd.get(), out.data() + have, out.size() - have);
    if (r < 0) {
      if (errno == EINTR) continue;
      return fail_errno("failed to read '" + path + "'", errno);
    }
    if (r == 0) break;
    have += static_cast<size_t>(r);
  }
  if (have > static_cast<size_t>(std::max<int64_t>(st.size, 0)))
    return fail(ErrorCode::conflict, "'" + path + "' changed while it was read");
  out.resize(have);
  return true;
}

Result<FileStat> copy_file_observed(const std::string& src, const std::string& dst, uint32_t mode,
                                    const ByteObserver& observe) {
  constexpr size_t k_in_memory = size_t(1) << 20;
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return fail_errno("failed to open '" + src + "'", errno);
  FileStat before = stat_fd(in.get());
  auto changed = [&]() { return Error{ErrorCode::conflict, "'" + src + "' changed while it was read"}; };
  auto read_some = [&](char* buf, size_t n) -> Result<size_t> {
    while (true) {
      ssize_t r = ::read(in.get(), buf, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) return fail_errno("failed to read '" + src + "'", errno);
    }
  };
  thread_local std::vector<char> buf(k_in_memory + 1);
  if (before.size >= 0 && static_cast<size_t>(before.size) <= k_in_memory) {
    // One read into memory, then the observer and the write both use those bytes.
    size_t have = 0;
    while (have < buf.size()) {
      auto r = read_some(buf.data() + have, buf.size() - have);
      if (!r) return std::unexpected(r.error());
      if (*r == 0) break;
      have += *r;
    }
    if (have != static_cast<size_t>(before.size)) return std::unexpected(changed());
    Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode & 0777));
    if (out.get() < 0) return fail_errno("failed to create '" + dst + "'", errno);
    if (auto w = write_all(out.get(), buf.data(), have, dst); !w) {
      ::unlink(dst.c_str());
      return std::unexpected(w.error());
    }
    if ((mode & ~current_umask()) != mode) ::fchmod(out.get(), mode);
    if (auto f = flush_written(out.get(), dst); !f) {
      ::unlink(dst.c_str());
      return std::unexpected(f.error());
    }
    observe(std::string_view(buf.data(), have));
  } else {
    // The kernel copies while this thread reads the same pages for the observer.
    auto copy = std::async(std::launch::async, [&] { return copy_file(src, dst, mode); });
    int64_t seen = 0;
    std::optional<Error> read_error;
    while (true) {
      auto r = read_some(buf.data(), k_in_memory);
      if (!r) {
        read_error = r.error();
        break;
      }
      if (*r == 0) break;
      seen += static_cast<int64_t>(*r);
      observe(std::string_view(buf.data(), *r));
    }
    auto copied = copy.get();
    if (!copied) return std::unexpected(copied.error());  // copy_file removed what it made
    if (read_error || seen != before.size) {
      ::unlink(dst.c_str());
      return std::unexpected(read_error ? *read_error : changed());
    }
  }
  FileStat after = stat_fd(in.get());
  if (after.size != before.size || after.mtime_ns != before.mtime_ns || after.ctime_ns != before.ctime_ns) {
    ::unlink(dst.c_str());
    return std::unexpected(changed());
  }
  return before;
}

bool link_unsupported(LinkType t, int err) {
  if (t == LinkType::copy) return false;
  if (err == EOPNOTSUPP || err == ENOTSUP || err == ENOSYS || err == EXDEV) return true;
  switch (t) {
    // FICLONE: EINVAL/ENOTTY from a file system without clone support, EPERM from some.
    case LinkType::reflink: return err == EINVAL || err == ENOTTY || err == EPERM;
    // link(2): EPERM where the file system has no hardlinks, EMLINK at the link count limit.
    case LinkType::hardlink: return err == EPERM || err == EMLINK;
    case LinkType::symlink: return err == EPERM;
    case LinkType::copy: return false;
  }
  return false;
}

Result<bool> try_link(LinkType t, const std::string& src, const std::string& dst) {
  int err = 0;
  if (t == LinkType::reflink) {
    Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (in.get() < 0) return fail_errno("failed to open '" + src + "'", errno);
    Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (out.get() < 0) return fail_errno("failed to create '" + dst + "'", errno);
    if (::ioctl(out.get(), FICLONE, in.get()) == 0) return true;
    err = errno;
    ::unlink(dst.c_str());
  } else if (t == LinkType::hardlink) {
    if (::link(src.c_str(), dst.c_str()) == 0) return true;
    err = errno;
  } else if (t == LinkType::symlink) {
    if (::symlink(src.c_str(), dst.c_str()) == 0) return true;
    err = errno;
  } else {
    return fail(ErrorCode::invalid_argument, "try_link: a copy is not a link");
  }
  if (link_unsupported(t, err)) return false;
  return fail_errno("failed to " + std::string(link_type_name(t)) + " '" + src + "' to '" + dst + "'", err);
}

Status reflink_file(const std::string& src, const std::string& dst) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.get() < 0) return fail_errno("failed to open '" + src + "'", errno);
  Fd out(::open(dst.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (out.get() < 0) return fail_errno("failed to create '" + dst + "'", errno);
  if (::ioctl(out.get(), FICLONE, in.get()) != 0) {
    int e = errno;
    ::unlink(dst.c_str());
    return fail_errno("failed to reflink '" + src + "'", e);
  }
  return {};
}

Status hardlink_file(const std::string& src, const std::string& dst) {
  if (::link(src.c_str(), dst.c_str()) != 0)
    return fail_errno("failed to hardlink '" + src + "' to '" + dst + "'", errno);
  return {};
}

Status symlink_file(const std::string& target, const std::string& dst) {
  if (::symlink(target.c_str(), dst.c_str()) != 0)
    return fail_errno("failed to symlink '" + dst + "'", errno);
  return {};
}

uint32_t current_umask() {
  static std::once_flag once;
  static uint32_t value = 022;
  std::call_once(once, [] {
    mode_t m = ::umask(0);
    ::umask(m);
    value = m;
  });
  return value;
}

Result<std::vector<DirEntry>> list_dir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) return fail_errno("failed to list '" + path + "'", errno);
  std::vector<DirEntry> out;
  while (struct dirent* e = ::readdir(d)) {
    const char* n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    DirEntry de;
    de.name = n;
    switch (e->d_type) {
      case DT_REG: de.type = FileType::regular; break;
      case DT_DIR: de.type = FileType::directory; break;
      case DT_LNK: de.type = FileType::symlink; break;
      case DT_UNKNOWN: {
        FileStat st = lstat_path(path + "/" + de.name);
        de.type = st.type;
        break;
      }
      default: de.type = FileType::other;
    }
    out.push_back(std::move(de));
  }
  ::closedir(d);
  return out;
}

FileLock& FileLock::operator=(FileLock&& o) noexcept {
  if (this != &o) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = o.m_fd;
    o.m_fd = -1;
  }
  return *this;
}

FileLock::~FileLock() {
  if (m_fd >= 0) ::close(m_fd);
}

Result<FileLock> FileLock::lock_open_fd(int fd, const std::string& path) {
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    ::close(fd);
    if (e == EWOULDBLOCK) return fail(ErrorCode::conflict, "lock '" + path + "' is held by another process");
    return fail_errno("failed to lock '" + path + "'", e);
  }
  FileLock lock;
  lock.m_fd = fd;
  return lock;
}

Result<FileLock> FileLock::try_acquire(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return fail_errno("failed to open lock file '" + path + "'", errno);
  return lock_open_fd(fd, path);
}

Result<FileLock> FileLock::try_acquire_dir(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return fail_errno("failed to open folder '" + path + "'", errno);
  return lock_open_fd(fd, path);
}

bool is_local_file_system(const std::string& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return false;
  switch (static_cast<uint64_t>(static_cast<uint32_t>(fs.f_type))) {
    case 0x6969:      // NFS
    case 0x517B:      // SMB
    case 0xFF534D42:  // CIFS
    case 0xFE534D42:  // SMB2
    case 0x65735546:  // FUSE (sshfs, gcsfuse, s3fs, ...)
    case 0x01021997:  // 9p
    case 0x00C36400:  // Ceph
    case 0x0BD00BD0:  // Lustre
    case 0x01161970:  // GFS2
    case 0x5346414F:  // AFS
    case 0x6B414653:  // kAFS
    case 0x47504653:  // GPFS
    case 0x7461636F:  // OCFS2
    case 0x013111A8:  // IBRIX
    case 0x564C:      // NCP
    case 0x73757245:  // Coda
      return false;
    default:
      return true;
  }
}

std::string current_dir() {
  char buf[PATH_MAX];
  if (::getcwd(buf, sizeof buf)) return buf;
  return ".";
}

std::string normalize_path(const std::string& path) {
  // One pass into one string (no vector of segments): it runs for every path of a pipeline's
  // stages and of a walk's outputs.
  if (path.empty()) return ".";
  const bool abs = path[0] == '/';
  std::string out;
  out.reserve(path.size() + 1);
  if (abs) out += '/';
  const size_t root = out.size();  // 1 for "/", else 0: never removed
  const size_t n = path.size();
  for (size_t i = 0; i <= n;) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = n;
    const size_t len = j - i;
    if (len == 0 || (len == 1 && path[i] == '.')) {
      // empty or "." segment: nothing
    } else if (len == 2 && path[i] == '.' && path[i + 1] == '.') {
      if (out.size() > root) {
        size_t slash = out.find_last_of('/');
        size_t seg = slash == std::string::npos || slash < root ? root : slash + 1;
        if (out.compare(seg, std::string::npos, "..") == 0) {
          out += "/..";  // a relative path's leading ".." stays
        } else {
          out.resize(seg > root ? seg - 1 : root);
        }
      } else if (!abs) {
        out += "..";
      }
    } else {
      if (out.size() > root) out += '/';
      out.append(path, i, len);
    }
    i = j + 1;
  }
  if (out.empty()) return ".";
  return out;
}

std::string absolute_path(const std::string& path, const std::string& base) {
  if (!path.empty() && path[0] == '/') return normalize_path(path);
  std::string b = base.empty() ? current_dir() : base;
  return normalize_path(b + "/" + path);
}

std::string relative_path(const std::string& path, const std::string& base) {
  std::string p = normalize_path(path), b = normalize_path(base);
  if (p == b) return ".";
  auto split_parts = [](const std::string& s) {
    std::vector<std::string> v;
    size_t i = 0;
    while (i < s.size()) {
      size_t j = s.find('/', i);
      if (j == std::string::npos) j = s.size();
      if (j > i) v.push_back(s.substr(i, j - i));
      i = j + 1;
    }
    return v;
  };
  auto pp = split_parts(p), bp = split_parts(b);
  size_t k = 0;
  while (k < pp.size() && k < bp.size() && pp[k] == bp[k]) ++k;
  std::string out;
  for (size_t i = k; i < bp.size(); ++i) out += out.empty() ? ".." : "/..";
  for (size_t i = k; i < pp.size(); ++i) out += (out.empty() ? "" : "/") + pp[i];
  return out.empty() ? "." : out;
}

std::string parent_dir(const std::string& path) {
  size_t pos = path.find_last_of('/');
  if (pos == std::string::npos) return "";
  if (pos == 0) return "/";
  return path.substr(0, pos);
}

std::string base_name(const std::string& path) {
  size_t pos = path.find_last_of('/');
  return pos == std::string::npos ? path : path.substr(pos + 1);
}

std::string join_path(const std::string& a, const std::string& b) {
  if (a.empty() || a == ".") return b;
  if (b.empty() || b == ".") return a;
  if (b[0] == '/') return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

bool is_within(const std::string& path, const std::string& dir) {
  if (dir == "/") return !path.empty() && path[0] == '/';
  if (path.size() < dir.size()) return false;
  if (path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

std::optional<std::string> real_path(const std::string& path) {
  char* r = ::realpath(path.c_str(), nullptr);
  if (!r) return std::nullopt;
  std::string out = r;
  std::free(r);
  return out;
}

}  // namespace dvx::platform

namespace dvx::platform {

OpenDir& OpenDir::operator=(OpenDir&& o) noexcept {
  if (this != &o) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = o.m_fd;
    o.m_fd = -1;
  }
  return *this;
}

OpenDir::~OpenDir() {
  if (m_fd >= 0) ::close(m_fd);
}

Result<OpenDir> OpenDir::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return fail_errno("failed to open directory '" + path + "'", errno);
  OpenDir d;
  d.m_fd = fd;
  return d;
}

FileStat OpenDir::stat(const std::string& name) const {
  struct stat st;
  if (::fstatat(m_fd, name.c_str(), &st, 0) != 0) return FileStat{};
  return from_stat(st);
}

FileStat OpenDir::lstat(const std::string& name) const {
  struct stat st;
  if (::fstatat(m_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return FileStat{};
  return from_stat(st);
}

}  // namespace dvx::platform
