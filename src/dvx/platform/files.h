// The only place that talks to the OS file system directly: stat, read/write, atomic writes,
// links, directory creation, file locks. Paths are std::string (UTF-8 bytes, '/' separated).
// Thread-safety: every function is safe to call concurrently on different paths.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"

namespace dvx::platform {

enum class FileType { missing, regular, directory, symlink, other };

struct FileStat {
  FileType type = FileType::missing;
  uint64_t inode = 0;
  uint64_t device = 0;
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  uint32_t mode = 0;  // permission bits (07777)
  uint64_t nlink = 0;
  bool exists() const { return type != FileType::missing; }
  bool is_exec() const { return (mode & 0100) != 0; }
};

// lstat(2)-like (does not follow a final symlink); type missing when the path does not exist.
FileStat lstat_path(const std::string& path);
// stat(2)-like (follows symlinks); type missing when the path or its target does not exist.
FileStat stat_path(const std::string& path);
// lstat_path() of many paths given relative to one folder `dir`: each lookup starts at the
// folder, opened once, instead of walking the whole path from "/" (a pipeline's deps and
// outputs, cache objects). Results in input order; type missing as lstat_path() says it.
// `dir` is resolved once: callers pass a folder that nothing renames meanwhile.
std::vector<FileStat> lstat_under(const std::string& dir, const std::vector<std::string>& rel_paths);

Result<std::string> read_file(const std::string& path);
// The first `limit` bytes of a file (all of it when shorter): untrusted files that a parser
// reads whole (.dvc, dvc.lock, config) are read with a limit one past the parser's size limit.
Result<std::string> read_file_prefix(const std::string& path, size_t limit);

enum class Durability { none, fsync };

// Writes bytes to a temp file in the same folder, then renames it over `path`: readers see the
// old or the new content, never a half. `mode` is applied before the rename.
Status write_file_atomic(const std::string& path, std::string_view bytes, uint32_t mode = 0644,
                         Durability durability = Durability::none);

// Creates a new file holding `bytes` (conflict when it exists; removed again on error). Not
// atomic by itself: for files in a private folder that is published whole (renamed into place),
// after platform::write_out_now() of that folder (durable.h: its data is not written out here).
Status create_file(const std::string& path, std::string_view bytes, uint32_t mode);

// A unique temp name next to `path`: ".<22 url-safe base64 chars>.tmp" (DVC's pattern too).
std::string temp_path_beside(const std::string& path);
// True for a file name made by temp_path_beside (e.g. left behind by a killed command).
bool is_temp_name(std::string_view name);

// mkdir -p with `mode` (umask applies).
Status make_dirs(const std::string& path, uint32_t mode = 0777);
// Removes a file or symlink; ok when absent.
Status remove_file(const std::string& path);
// rm -rf; ok when absent.
Status remove_all(const std::string& path);
Status rename_path(const std::string& from, const std::string& to);
Status chmod_path(const std::string& path, uint32_t mode);
// Removes `dir` and its parents up to (not including) `stop` while they are empty.
void remove_empty_dirs_up(const std::string& dir, const std::string& stop);

// How a workspace or cache file is created from another file.
enum class LinkType { reflink, hardlink, symlink, copy };
const char* link_type_name(LinkType t);
std::optional<LinkType> parse_link_type(std::string_view name);

// Copies src to dst (dst must not exist; use a temp name). Uses copy_file_range.
Status copy_file(const std::string& src, const std::string& dst, uint32_t mode);
// Reads the whole file into `out` if it is at most `limit` bytes (true), else leaves the
// content unspecified and returns false. conflict when the file grows while it is read.
Result<bool> read_file_upto(const std::string& path, size_t limit, std::string& out);

// Receives the bytes of a file in order, in pieces (e.g. to hash what is being copied).
using ByteObserver = std::function<void(std::string_view)>;
// Copies src to dst like copy_file and passes every byte of src, in order, to `observe`: a
// file up to 1 MiB is read once and written from memory; a larger one is copied by the kernel
// on a second thread while this thread reads the (then page-cached) source for `observe`, so
// the slower of the two sets the time. Returns src's stat taken before reading. conflict when
// src changed while it was read (dst is removed then, as on any error).
Result<FileStat> copy_file_observed(const std::string& src, const std::string& dst, uint32_t mode,
                                    const ByteObserver& observe);
// FICLONE clone; fails with invalid_argument/… when the file system cannot reflink.
Status reflink_file(const std::string& src, const std::string& dst);
Status hardlink_file(const std::string& src, const std::string& dst);
Status symlink_file(const std::string& target, const std::string& dst);

// True when errno `err`, returned by the system call that makes a link of type `t` (the
// FICLONE ioctl, link(2), symlink(2)), means "this kind of link can't be made here" (file
// system without reflink, another device, link count limit, …): the next cache type is tried
// then. Any other errno (ENOSPC, EIO, EACCES, …) is a real error. Never true for copy.
bool link_unsupported(LinkType t, int err);
// Makes `dst` (must not exist) from `src` with a reflink, hardlink or symlink (`src` is the
// symlink's target). false when the type is not supported here (link_unsupported; nothing is
// left at dst); an error for anything else (opening src, creating dst, real link errors).
Result<bool> try_link(LinkType t, const std::string& src, const std::string& dst);

// Owns an open file descriptor and closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : m_fd(fd) {}
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  UniqueFd(UniqueFd&& o) noexcept : m_fd(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  ~UniqueFd();
  int get() const { return m_fd; }
  // Gives up ownership without closing.
  int release() {
    int f = m_fd;
    m_fd = -1;
    return f;
  }

 private:
  int m_fd = -1;
};

// fstat(2) of an open descriptor; type missing when it fails.
FileStat stat_fd(int fd);

// Current umask (read without changing it permanently).
uint32_t current_umask();

// Lists a directory's entries (names only, no "." and ".."), unsorted.
struct DirEntry {
  std::string name;
  FileType type = FileType::other;  // d_type based; symlink not followed
};
Result<std::vector<DirEntry>> list_dir(const std::string& path);

// An exclusive, non-blocking flock(2) on a file, held while the object lives.
class FileLock {
 public:
  FileLock() = default;
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  FileLock(FileLock&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
  FileLock& operator=(FileLock&& o) noexcept;
  ~FileLock();
  // Tries once; conflict error when another process holds it.
  static Result<FileLock> try_acquire(const std::string& path);
  // The same on a directory (its own fd: nothing is created). Only meaningful where
  // is_local_file_system says so.
  static Result<FileLock> try_acquire_dir(const std::string& path);
  int fd() const { return m_fd; }

 private:
  // Takes the flock on an open fd (closed on failure).
  static Result<FileLock> lock_open_fd(int fd, const std::string& path);
  int m_fd = -1;
};

// False on network and cluster file systems (NFS, SMB/CIFS, FUSE, 9p, Ceph, Lustre, GFS2, AFS,
// ...), or when the file system cannot be told. There flock(2) may not exclude another process
// that uses the same folder (lock-based liveness checks must not be trusted), and files are
// stamped by a server's clock, not this kernel's.
bool is_local_file_system(const std::string& path);

// Absolute, lexically normalised path (no symlink resolution). `base` defaults to the CWD.
std::string absolute_path(const std::string& path, const std::string& base = "");
// Lexical normalisation: removes ".", resolves ".." where possible, collapses "//".
std::string normalize_path(const std::string& path);
// Relative path from `base` to `path` (both absolute, normalised).
std::string relative_path(const std::string& path, const std::string& base);
std::string current_dir();
std::string parent_dir(const std::string& path);
std::string base_name(const std::string& path);
std::string join_path(const std::string& a, const std::string& b);
// True when `path` equals `dir` or lies below it (both normalised).
bool is_within(const std::string& path, const std::string& dir);
// realpath(3); nullopt if it does not exist.
std::optional<std::string> real_path(const std::string& path);

}  // namespace dvx::platform

namespace dvx::platform {

// An open directory, to stat many of its entries without a path lookup per entry (fstatat):
// the fast path of tree walks. Move-only; closed on destruction.
class OpenDir {
 public:
  OpenDir() = default;
  OpenDir(const OpenDir&) = delete;
  OpenDir& operator=(const OpenDir&) = delete;
  OpenDir(OpenDir&& o) noexcept : m_fd(o.m_fd) { o.m_fd = -1; }
  OpenDir& operator=(OpenDir&& o) noexcept;
  ~OpenDir();
  static Result<OpenDir> open(const std::string& path);
  // stat(2) (follows symlinks) / lstat(2) of the entry `name`; type missing when absent.
  FileStat stat(const std::string& name) const;
  FileStat lstat(const std::string& name) const;

 private:
  int m_fd = -1;
};

}  // namespace dvx::platform
