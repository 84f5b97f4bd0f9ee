#include "dvx/hash/md5.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>

#include "dvx/platform/files.h"

namespace dvx::hash {
namespace {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/dvx-hash-test-XXXXXX";
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

TEST(Md5, Rfc1321Vectors) {
  EXPECT_EQ(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(md5_hex("a"), "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(md5_hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(md5_hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(md5_hex("abcdefghijklmnopqrstuvwxyz"), "c3fcd3d76192e4007dfb496cca67e13b");
  EXPECT_EQ(md5_hex("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"),
            "d174ab98d277d9f5a5611c2c9f419d9f");
  EXPECT_EQ(md5_hex("1234567890123456789012345678901234567890123456789012345678901234567890"
                    "1234567890"),
            "57edf4a22be3c955ac49da2e2107b67a");
  EXPECT_EQ(md5_hex("hello\n"), "b1946ac92492d2347c6235b4d2611184");
}

TEST(Md5, StreamingEqualsOneShot) {
  std::string data(3 * 1000 * 1000 + 7, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = char(i * 7 + 3);
  Md5Stream s;
  for (size_t i = 0; i < data.size(); i += 12345) s.update(data.data() + i, std::min<size_t>(12345, data.size() - i));
  EXPECT_EQ(s.hex_digest(), md5_hex(data));
}

TEST(Dos2Unix, SpecVector) {
  std::string v = "line1\r\nline2\r\n";
  EXPECT_EQ(digest_hex(v, Algorithm::md5), "c6242222cf6ccdb15a43e0e5b1a08810");
  EXPECT_EQ(digest_hex(v, Algorithm::md5_dos2unix), "4fcc82a88ee38e0aa16c17f512c685c9");
  EXPECT_EQ(digest_hex(v, Algorithm::md5_dos2unix), md5_hex("line1\nline2\n"));
  TempDir t;
  auto p = t.write("v.txt", v);
  auto d3 = hash_file(p, Algorithm::md5);
  auto d2 = hash_file(p, Algorithm::md5_dos2unix);
  ASSERT_TRUE(d3 && d2);
  EXPECT_EQ(d3->md5, "c6242222cf6ccdb15a43e0e5b1a08810");
  EXPECT_EQ(d2->md5, "4fcc82a88ee38e0aa16c17f512c685c9");
  EXPECT_EQ(d2->size, 14);
}

TEST(Dos2Unix, TextDetection) {
  EXPECT_TRUE(is_text_block(""));
  EXPECT_TRUE(is_text_block("plain text\r\n\t\f\b"));
  EXPECT_FALSE(is_text_block(std::string("ab\0cd", 5)));
  // 3 of 10 bytes non-text: exactly 30% is still text; 4 of 10 is binary.
  EXPECT_TRUE(is_text_block("abcdefg\x80\x81\x82"));
  EXPECT_FALSE(is_text_block("abcdef\x80\x81\x82\x83"));
  // Only lone CR or LF: nothing to convert.
  EXPECT_EQ(dos2unix("a\rb\nc\r"), "a\rb\nc\r");
  EXPECT_EQ(dos2unix("\r\n\r\r\n"), "\n\r\n");
}

TEST(Dos2Unix, BinaryChunkNotConverted) {
  std::string bin = std::string("\0\r\n", 3) + "abc\r\n";
  EXPECT_EQ(digest_hex(bin, Algorithm::md5_dos2unix), md5_hex(bin));
  std::string mostly_high(100, '\xC3');
  mostly_high += "\r\n";
  EXPECT_EQ(digest_hex(mostly_high, Algorithm::md5_dos2unix), md5_hex(mostly_high));
}

TEST(Dos2Unix, OnlyFirst512BytesDecide) {
  // A NUL after byte 512 does not make the chunk binary.
  std::string s(600, 'a');
  s[550] = '\0';
  s += "\r\n";
  std::string expect = s.substr(0, s.size() - 2) + "\n";
  EXPECT_EQ(digest_hex(s, Algorithm::md5_dos2unix), md5_hex(expect));
}

TEST(Dos2Unix, ChunksDecidedIndependently) {
  const size_t mib = k_dos2unix_chunk_size;
  // Chunk 1 binary (starts with NUL) keeps its CRLF, chunk 2 text gets converted.
  std::string c1(mib, 'a');
  c1[0] = '\0';
  c1[10] = '\r';
  c1[11] = '\n';
  std::string c2 = "tail\r\nend\r\n";
  std::string expect = c1 + "tail\nend\n";
  EXPECT_EQ(digest_hex(c1 + c2, Algorithm::md5_dos2unix), md5_hex(expect));
  TempDir t;
  auto p = t.write("mixed.bin", c1 + c2);
  auto d = hash_file(p, Algorithm::md5_dos2unix);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->md5, md5_hex(expect));
  EXPECT_EQ(d->size, int64_t(c1.size() + c2.size()));
}

TEST(Dos2Unix, CrlfSplitAcrossChunkBoundaryNotConverted) {
  const size_t mib = k_dos2unix_chunk_size;
  std::string data(mib - 1, 'a');
  data += "\r\nx\r\n";  // '\r' is the last byte of chunk 1, '\n' the first of chunk 2
  std::string expect(mib - 1, 'a');
  expect += "\r\nx\n";
  EXPECT_EQ(digest_hex(data, Algorithm::md5_dos2unix), md5_hex(expect));
  // Independent of how the stream is fed.
  DigestStream s(Algorithm::md5_dos2unix);
  for (size_t i = 0; i < data.size(); i += 4097) s.update(data.data() + i, std::min<size_t>(4097, data.size() - i));
  EXPECT_EQ(s.hex_digest(), md5_hex(expect));
  TempDir t;
  auto p = t.write("split.txt", data);
  auto d = hash_file(p, Algorithm::md5_dos2unix);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->md5, md5_hex(expect));
}

TEST(HashFile, FollowsSymlinksAndReportsExec) {
  TempDir t;
  auto p = t.write("target.txt", "target\n");
  ::chmod(p.c_str(), 0755);
  std::string link = t.path() + "/link";
  ASSERT_EQ(::symlink("target.txt", link.c_str()), 0);
  auto d = hash_file(link, Algorithm::md5);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->md5, "80fb1dd0b20823f1d83e10d25840e2e4");
  EXPECT_EQ(d->size, 7);
  EXPECT_TRUE(d->isexec);
  EXPECT_EQ(d->stat.type, platform::FileType::regular);
  ::chmod(p.c_str(), 0644);
  EXPECT_FALSE(hash_file(link, Algorithm::md5)->isexec);
}

TEST(HashFile, Errors) {
  TempDir t;
  auto missing = hash_file(t.path() + "/nope", Algorithm::md5);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::not_found);
  auto dir = hash_file(t.path(), Algorithm::md5);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, ErrorCode::invalid_argument);
  auto empty = hash_file(t.write("empty", ""), Algorithm::md5_dos2unix);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->md5, "d41d8cd98f00b204e9800998ecf8427e");
}

TEST(HashFile, LegacyFixtureFiles) {
  TempDir t;
  std::string cmd = std::string("tar -xzf '") + DVX_FIXTURES_DIR + "/legacy-remote.tar.gz' -C '" +
                    t.path() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::string repo = t.path() + "/legacy-remote/repo";
  auto notes = hash_file(repo + "/notes.txt", Algorithm::md5_dos2unix);
  ASSERT_TRUE(notes) << notes.error().message;
  EXPECT_EQ(notes->md5, "d967459726a9efe87fbaf589c7218a59");
  EXPECT_EQ(notes->size, 37);
  auto notes3 = hash_file(repo + "/notes.txt", Algorithm::md5);
  EXPECT_EQ(notes3->md5, "5fb0817dd3d5802b05a7a2d7142b354e");
  auto blob = hash_file(repo + "/blob.bin", Algorithm::md5_dos2unix);
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->md5, "6ffb99d02d47d0865836ad9b82040591");
  EXPECT_EQ(blob->size, 2057);
  // The legacy cache names its objects by the dos2unix hash.
  auto b = hash_file(repo + "/data/b.txt", Algorithm::md5_dos2unix);
  EXPECT_EQ(b->md5, "e73ae91f6b750b8a482cf33edfc2b531");
}

TEST(HashFiles, ParallelEqualsSerial) {
  TempDir t;
  std::vector<std::string> paths;
  for (int i = 0; i < 200; ++i) {
    std::string content;
    for (int j = 0; j < i * 37; ++j) content += char('a' + (i + j) % 26);
    if (i % 3 == 0) content += "\r\n";
    if (i % 5 == 0) content.append(size_t(k_dos2unix_chunk_size / 8), char(i));
    paths.push_back(t.write("f" + std::to_string(i), content));
  }
  paths.push_back(t.path() + "/missing");
  for (Algorithm alg : {Algorithm::md5, Algorithm::md5_dos2unix}) {
    std::atomic<size_t> calls{0};
    std::atomic<size_t> max_done{0};
    auto serial = hash_files(paths, alg, 1);
    auto parallel = hash_files(paths, alg, 4, [&](size_t done) {
      ++calls;
      size_t m = max_done.load();
      while (done > m && !max_done.compare_exchange_weak(m, done)) {
      }
    });
    ASSERT_EQ(serial.size(), paths.size());
    ASSERT_EQ(parallel.size(), paths.size());
    EXPECT_EQ(calls.load(), paths.size());
    EXPECT_EQ(max_done.load(), paths.size());
    for (size_t i = 0; i + 1 < paths.size(); ++i) {
      ASSERT_TRUE(serial[i] && parallel[i]);
      EXPECT_EQ(serial[i]->md5, parallel[i]->md5);
      EXPECT_EQ(serial[i]->md5, hash_file(paths[i], alg)->md5);
    }
    EXPECT_FALSE(serial.back());
    EXPECT_FALSE(parallel.back());
  }
}

}  // namespace
}  // namespace dvx::hash
