// Test helper shared by the unit tests of platform, odb, workspace, transfer, remote and repo:
// a fresh temp dir per test, removed when the test passed and kept (path printed) when it failed,
// plus small file helpers that use plain POSIX calls (not the code under test).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "dvx/platform/files.h"

namespace dvx::testing {

class TempDir {
 public:
  explicit TempDir(const char* prefix = "dvx-unit") {
    std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    char* made = ::mkdtemp(buf.data());
    if (made) m_path = made;
  }
  ~TempDir() {
    if (m_path.empty()) return;
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "[test] kept temp dir %s\n", m_path.c_str());
      return;
    }
    (void)platform::remove_all(m_path);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string operator/(const std::string& rel) const { return m_path + "/" + rel; }

 private:
  std::string m_path;
};

inline void write_file(const std::string& path, const std::string& bytes, mode_t mode = 0644) {
  std::string parent = platform::parent_dir(path);
  if (!parent.empty()) (void)platform::make_dirs(parent);
  ::chmod(path.c_str(), 0644);  // may be a read-only leftover
  {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << bytes;
  }
  ::chmod(path.c_str(), mode);
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

inline mode_t mode_of(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

inline ino_t inode_of(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_ino;
}

// Every entry name (files, dirs, links) below `dir`, relative, sorted; "" prefix for top level.
inline std::vector<std::string> tree(const std::string& dir, const std::string& rel = "") {
  std::vector<std::string> out;
  auto entries = platform::list_dir(rel.empty() ? dir : dir + "/" + rel);
  if (!entries) return out;
  for (auto& e : *entries) {
    std::string r = rel.empty() ? e.name : rel + "/" + e.name;
    out.push_back(r);
    if (e.type == platform::FileType::directory) {
      auto sub = tree(dir, r);
      out.insert(out.end(), sub.begin(), sub.end());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Names that look like temp files written beside a destination (".<random>.tmp").
inline std::vector<std::string> temp_files(const std::string& dir) {
  std::vector<std::string> out;
  for (auto& r : tree(dir)) {
    std::string base = platform::base_name(r);
    if (base.size() > 5 && base[0] == '.' && base.ends_with(".tmp")) out.push_back(r);
  }
  return out;
}

// Whether the file system holding `dir` can reflink (FICLONE): false on ext4, true on btrfs/xfs.
inline bool reflink_supported(const std::string& dir) {
  std::string a = dir + "/.reflink-probe-src", b = dir + "/.reflink-probe-dst";
  write_file(a, "probe");
  bool ok = static_cast<bool>(platform::reflink_file(a, b));
  ::unlink(a.c_str());
  ::unlink(b.c_str());
  return ok;
}

}  // namespace dvx::testing
