// Test helper: extracts the golden fixture tarballs (tests/fixtures/*.tar.gz) into a temporary
// directory once per test binary and reads files from them.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace dvx::test {

class Fixtures {
 public:
  static Fixtures& get() {
    static Fixtures f;
    return f;
  }

  // Root of the extracted tarball `name` ("basic" -> <tmp>/basic), empty path on failure.
  std::filesystem::path root(const std::string& name) {
    std::lock_guard lock(m_mu);
    auto it = m_done.find(name);
    if (it != m_done.end()) return it->second;
    std::string tarball = std::string(DVX_FIXTURES_DIR) + "/" + name + ".tar.gz";
    std::string cmd = "tar -xzf '" + tarball + "' -C '" + m_dir.string() + "'";
    std::filesystem::path out;
    if (std::system(cmd.c_str()) == 0) out = m_dir / name;
    m_done[name] = out;
    return out;
  }

  // Every regular file under `dir` whose name satisfies `pred`, skipping .git.
  template <class Pred>
  static std::vector<std::filesystem::path> files(const std::filesystem::path& dir, Pred pred) {
    std::vector<std::filesystem::path> out;
    for (auto it = std::filesystem::recursive_directory_iterator(dir);
         it != std::filesystem::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && it->path().filename() == ".git") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file() && pred(it->path())) out.push_back(it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  static std::string read(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

 private:
  Fixtures() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "dvx-formats-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (char* d = mkdtemp(buf.data())) m_dir = d;
  }
  ~Fixtures() {
    std::error_code ec;
    if (!m_dir.empty()) std::filesystem::remove_all(m_dir, ec);
  }

  std::mutex m_mu;
  std::filesystem::path m_dir;
  std::map<std::string, std::filesystem::path> m_done;
};

}  // namespace dvx::test
