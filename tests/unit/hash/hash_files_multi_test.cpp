// hash_files through every multi-buffer kernel against the serial OpenSSL path (hash_file), on
// real temp files whose sizes and CR/LF positions sit on the engine's piece (256 KiB) and the
// legacy algorithm's chunk (1 MiB) boundaries.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "dvx/hash/md5.h"
#include "dvx/hash/md5_multi.h"
#include "dvx/platform/files.h"

namespace dvx::hash {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dvx-hash-multi-test-XXXXXX";
    m_path = ::mkdtemp(tmpl);
  }
  ~TempDir() { (void)platform::remove_all(m_path); }
  const std::string& path() const { return m_path; }
  std::string write(const std::string& name, const std::string& bytes) const {
    std::string p = m_path + "/" + name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p;
  }

 private:
  std::string m_path;
};

constexpr size_t kPiece = k_lane_piece_size;
constexpr size_t kChunk = k_dos2unix_chunk_size;

std::string text(std::mt19937_64& rng, size_t n) {
  static const char alphabet[] = "abcdefghij klmnop\r\nqrstuvwxyz\n\r\t";
  std::string s(n, 'a');
  for (auto& c : s) c = alphabet[rng() % (sizeof(alphabet) - 1)];
  return s;
}

std::string binary(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

// Text of length n with "\r\n" placed so the CR is at byte `cr_at`.
std::string text_with_crlf_at(std::mt19937_64& rng, size_t n, size_t cr_at) {
  std::string s(n, 'x');
  for (size_t i = 0; i < n; i += 97) s[i] = '\n';
  s[cr_at] = '\r';
  if (cr_at + 1 < n) s[cr_at + 1] = '\n';
  (void)rng;
  return s;
}

class HashFilesKernel : public ::testing::TestWithParam<Md5Kernel> {
 protected:
  void SetUp() override {
    if (!md5_kernel_supported(GetParam()))
      GTEST_SKIP() << md5_kernel_name(GetParam()) << " not supported by this CPU";
  }
};

// A mixed set of files: every boundary case plus many small random ones.
std::vector<std::string> make_files(const TempDir& t) {
  std::mt19937_64 rng(42);
  std::vector<std::string> contents;
  for (size_t n : {size_t(0), size_t(1), size_t(55), size_t(56), size_t(63), size_t(64), size_t(65),
                   size_t(127), size_t(128), size_t(4095), kPiece - 1, kPiece, kPiece + 1, 2 * kPiece,
                   kChunk - 1, kChunk, kChunk + 1, kChunk + kPiece + 3})
    contents.push_back(binary(rng, n));
  for (size_t n : {size_t(2), size_t(511), size_t(512), size_t(513), kPiece, kChunk, kChunk + 7,
                   2 * kChunk + kPiece / 2})
    contents.push_back(text(rng, n));
  // CRLF straddling a piece boundary inside a chunk (converted) and a chunk boundary (not).
  for (size_t cr : {kPiece - 1, 2 * kPiece - 1, 3 * kPiece - 1, kChunk - 1, kChunk + kPiece - 1})
    contents.push_back(text_with_crlf_at(rng, kChunk + 2 * kPiece, cr));
  // "\r\r\n" across a piece boundary; a file ending in CR exactly on a piece boundary.
  {
    std::string s = text_with_crlf_at(rng, 2 * kPiece, kPiece - 1);
    s[kPiece - 2] = '\r';
    contents.push_back(s);
    std::string e(kPiece, 'y');
    e.back() = '\r';
    contents.push_back(e);
    std::string e2 = e + "\n";
    contents.push_back(e2);
  }
  // Binary first chunk (NUL up front) then a text chunk, and text then binary.
  {
    std::string c1 = text(rng, kChunk);
    c1[0] = '\0';
    contents.push_back(c1 + text(rng, kPiece + 5));
    contents.push_back(text(rng, kChunk) + std::string(600, '\0') + "\r\n");
  }
  for (int i = 0; i < 300; ++i) {
    size_t n = rng() % 20000;
    contents.push_back(i % 2 ? text(rng, n) : binary(rng, n));
  }
  std::vector<std::string> paths;
  for (size_t i = 0; i < contents.size(); ++i) paths.push_back(t.write("f" + std::to_string(i), contents[i]));
  return paths;
}

TEST_P(HashFilesKernel, EqualsSerialOpenssl) {
  TempDir t;
  std::vector<std::string> paths = make_files(t);
  ::chmod(paths[3].c_str(), 0755);
  // Errors in the middle of the list: a missing file and a directory.
  paths.insert(paths.begin() + 5, t.path() + "/missing");
  ::mkdir((t.path() + "/dir").c_str(), 0755);
  paths.insert(paths.begin() + 9, t.path() + "/dir");

  for (Algorithm alg : {Algorithm::md5, Algorithm::md5_dos2unix}) {
    std::vector<Result<FileDigest>> expect;
    for (const auto& p : paths) expect.push_back(hash_file(p, alg));
    for (unsigned threads : {1u, 3u}) {
      std::atomic<size_t> calls{0};
      std::atomic<size_t> max_done{0};
      auto got = hash_files(paths, alg, threads, [&](size_t done) {
        ++calls;
        size_t m = max_done.load();
        while (done > m && !max_done.compare_exchange_weak(m, done)) {
        }
      }, GetParam());
      ASSERT_EQ(got.size(), paths.size());
      EXPECT_EQ(calls.load(), paths.size());
      EXPECT_EQ(max_done.load(), paths.size());
      for (size_t i = 0; i < paths.size(); ++i) {
        SCOPED_TRACE(paths[i] + " " + algorithm_name(alg) + " threads " + std::to_string(threads));
        ASSERT_EQ(bool(got[i]), bool(expect[i]));
        if (!expect[i]) {
          EXPECT_EQ(got[i].error().code, expect[i].error().code);
          EXPECT_EQ(got[i].error().message, expect[i].error().message);
          continue;
        }
        EXPECT_EQ(got[i]->md5, expect[i]->md5);
        EXPECT_EQ(got[i]->size, expect[i]->size);
        EXPECT_EQ(got[i]->isexec, expect[i]->isexec);
        EXPECT_EQ(got[i]->stat.inode, expect[i]->stat.inode);
        EXPECT_EQ(got[i]->stat.mtime_ns, expect[i]->stat.mtime_ns);
      }
    }
  }
}

TEST_P(HashFilesKernel, PieceBoundaryCrlfIsConverted) {
  // The engine reads 256 KiB pieces, hash_file 1 MiB chunks: a CRLF split between two pieces of
  // one chunk must still become LF.
  TempDir t;
  std::mt19937_64 rng(7);
  std::string data = text_with_crlf_at(rng, kPiece + 10, kPiece - 1);
  std::string expect = data.substr(0, kPiece - 1) + data.substr(kPiece);
  auto p = t.write("split.txt", data);
  auto got = hash_files({p, p}, Algorithm::md5_dos2unix, 1, {}, GetParam());
  ASSERT_TRUE(got[0] && got[1]);
  EXPECT_EQ(got[0]->md5, md5_hex(expect));
  EXPECT_EQ(got[1]->md5, md5_hex(expect));
  EXPECT_EQ(got[0]->size, int64_t(data.size()));
}

TEST_P(HashFilesKernel, EmptyListAndSingleFile) {
  EXPECT_TRUE(hash_files({}, Algorithm::md5, 4, {}, GetParam()).empty());
  TempDir t;
  auto p = t.write("a", "hello\n");
  auto got = hash_files({p}, Algorithm::md5, 4, {}, GetParam());
  ASSERT_TRUE(got[0]);
  EXPECT_EQ(got[0]->md5, "b1946ac92492d2347c6235b4d2611184");
}

INSTANTIATE_TEST_SUITE_P(Kernels, HashFilesKernel,
                         ::testing::Values(Md5Kernel::openssl, Md5Kernel::scalar, Md5Kernel::avx2,
                                           Md5Kernel::avx512),
                         [](const auto& info) { return std::string(md5_kernel_name(info.param)); });

}  // namespace
}  // namespace dvx::hash
