#include "dvx/hash/md5_multi.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "dvx/base/strings.h"

namespace dvx::hash {
namespace {

// The reference: OpenSSL's EVP MD5, one message at a time.
std::string openssl_md5(std::string_view m) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(m.data(), m.size(), md, &len, EVP_md5(), nullptr);
  return to_hex(md, len);
}

std::string random_bytes(std::mt19937_64& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

const std::vector<Md5Kernel> k_simd_kernels = {Md5Kernel::scalar, Md5Kernel::avx2, Md5Kernel::avx512};

class Md5MultiKernel : public ::testing::TestWithParam<Md5Kernel> {
 protected:
  void SetUp() override {
    if (!md5_kernel_supported(GetParam()))
      GTEST_SKIP() << md5_kernel_name(GetParam()) << " not supported by this CPU";
  }
  size_t lanes() const { return md5_kernel_lanes(GetParam()); }

  // md5_many with the kernel under test equals OpenSSL for every message.
  void expect_matches(const std::vector<std::string>& msgs) {
    std::vector<std::string_view> views(msgs.begin(), msgs.end());
    auto got = md5_many(views, GetParam());
    ASSERT_EQ(got.size(), msgs.size());
    for (size_t i = 0; i < msgs.size(); ++i)
      ASSERT_EQ(got[i], openssl_md5(msgs[i])) << "message " << i << " of " << msgs.size()
                                              << ", length " << msgs[i].size();
  }
};

TEST_P(Md5MultiKernel, KnownVectors) {
  std::vector<std::string_view> v = {"", "a", "abc", "message digest", "abcdefghijklmnopqrstuvwxyz"};
  auto got = md5_many(v, GetParam());
  EXPECT_EQ(got[0], "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(got[1], "0cc175b9c0f1b6a831c399e269772661");
  EXPECT_EQ(got[2], "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(got[3], "f96b697d7cb7938d525a2f31aaf161d0");
  EXPECT_EQ(got[4], "c3fcd3d76192e4007dfb496cca67e13b");
}

TEST_P(Md5MultiKernel, PaddingBoundaryLengths) {
  std::mt19937_64 rng(1);
  std::vector<std::string> msgs;
  for (size_t n : {0, 1, 2, 55, 56, 57, 63, 64, 65, 119, 120, 121, 127, 128, 129, 183, 184, 191,
                   192, 193, 4095, 4096, 4097, 65535, 65536, 65537, (1 << 20) + 3})
    msgs.push_back(random_bytes(rng, n));
  expect_matches(msgs);  // all at once
  for (const auto& m : msgs) expect_matches({m});  // one lane busy, the others idle
}

TEST_P(Md5MultiKernel, EveryLaneFillCount) {
  std::mt19937_64 rng(2);
  for (size_t count = 1; count <= 2 * lanes() + 3; ++count) {
    std::vector<std::string> msgs;
    for (size_t i = 0; i < count; ++i) msgs.push_back(random_bytes(rng, rng() % 3000));
    expect_matches(msgs);
  }
}

TEST_P(Md5MultiKernel, LanesFinishingTogetherAndApart) {
  std::mt19937_64 rng(3);
  std::vector<std::string> same_len, staggered, identical;
  for (size_t i = 0; i < 3 * lanes(); ++i) {
    same_len.push_back(random_bytes(rng, 1000));
    staggered.push_back(random_bytes(rng, i * 64 + i));
  }
  std::string one = random_bytes(rng, 777);
  identical.assign(lanes(), one);
  expect_matches(same_len);
  expect_matches(staggered);
  expect_matches(identical);
  std::vector<std::string> reversed(staggered.rbegin(), staggered.rend());
  expect_matches(reversed);
}

TEST_P(Md5MultiKernel, OnlyUpperLanesLeft) {
  // The first half of the lanes finish at once and nothing refills them: the engine then hashes
  // the upper register set alone (or, down to one message, in scalar code).
  std::mt19937_64 rng(8);
  std::vector<std::string> msgs;
  for (size_t i = 0; i < lanes(); ++i) msgs.push_back(random_bytes(rng, i < lanes() / 2 ? 10 : 5000 + 64 * i));
  expect_matches(msgs);
  msgs.push_back(random_bytes(rng, 100000));  // one more: it refills lane 0 and outlives all
  expect_matches(msgs);
}

TEST_P(Md5MultiKernel, OneHugeAndManyTiny) {
  std::mt19937_64 rng(4);
  std::vector<std::string> msgs;
  msgs.push_back(random_bytes(rng, 3 * 1000 * 1000 + 17));
  for (int i = 0; i < 700; ++i) msgs.push_back(random_bytes(rng, rng() % 200));
  expect_matches(msgs);
  std::rotate(msgs.begin(), msgs.begin() + 350, msgs.end());  // the huge one arrives late
  expect_matches(msgs);
}

TEST_P(Md5MultiKernel, RandomLengthsUpToMegabytes) {
  std::mt19937_64 rng(5);
  std::vector<std::string> msgs;
  for (int i = 0; i < 40; ++i) {
    size_t n = (i % 4 == 0) ? rng() % (3 << 20) : rng() % 100000;
    msgs.push_back(random_bytes(rng, n));
  }
  expect_matches(msgs);
}

// A source that hands its message over in pieces of random sizes (empty ones included), so
// partial blocks have to be carried between pieces.
class PieceSource final : public Md5Source {
 public:
  PieceSource(std::string_view msg, uint64_t seed) : m_msg(msg), m_rng(seed) {}
  Piece next() override {
    size_t left = m_msg.size() - m_pos;
    size_t n = std::min<size_t>(left, m_rng() % 4 == 0 ? 0 : m_rng() % 300);
    if (m_rng() % 8 == 0) n = std::min<size_t>(left, m_rng() % 70000);
    Piece p{m_msg.data() + m_pos, n, m_pos + n == m_msg.size() && m_rng() % 3 != 0};
    m_pos += n;
    return p;
  }
  void finish(const unsigned char digest[16]) override {
    digest_hex = to_hex(digest, 16);
    ++finishes;
  }
  std::string digest_hex;
  int finishes = 0;

 private:
  std::string_view m_msg;
  size_t m_pos = 0;
  std::mt19937_64 m_rng;
};

TEST_P(Md5MultiKernel, StreamedPieces) {
  std::mt19937_64 rng(6);
  std::vector<std::string> msgs;
  for (int i = 0; i < 100; ++i) msgs.push_back(random_bytes(rng, rng() % 200000));
  std::vector<std::unique_ptr<PieceSource>> sources;
  for (size_t i = 0; i < msgs.size(); ++i) sources.push_back(std::make_unique<PieceSource>(msgs[i], i));
  Md5Multi multi(GetParam());
  EXPECT_EQ(multi.kernel(), GetParam());
  EXPECT_EQ(multi.lanes(), lanes());
  size_t next = 0;
  multi.run([&]() -> Md5Source* { return next < sources.size() ? sources[next++].get() : nullptr; });
  for (size_t i = 0; i < msgs.size(); ++i) {
    EXPECT_EQ(sources[i]->finishes, 1);
    EXPECT_EQ(sources[i]->digest_hex, openssl_md5(msgs[i])) << i;
  }
}

TEST_P(Md5MultiKernel, NoMessages) {
  EXPECT_TRUE(md5_many({}, GetParam()).empty());
  Md5Multi multi(GetParam());
  multi.run([] { return nullptr; });
}

INSTANTIATE_TEST_SUITE_P(Kernels, Md5MultiKernel,
                         ::testing::Values(Md5Kernel::scalar, Md5Kernel::avx2, Md5Kernel::avx512),
                         [](const auto& info) { return std::string(md5_kernel_name(info.param)); });

TEST(Md5KernelSelection, NamesAndSupport) {
  for (Md5Kernel k : {Md5Kernel::scalar, Md5Kernel::avx2, Md5Kernel::avx512, Md5Kernel::openssl})
    EXPECT_EQ(parse_md5_kernel(md5_kernel_name(k)), k);
  EXPECT_FALSE(parse_md5_kernel("sse9"));
  EXPECT_TRUE(md5_kernel_supported(Md5Kernel::scalar));
  EXPECT_TRUE(md5_kernel_supported(Md5Kernel::openssl));
  EXPECT_TRUE(md5_kernel_supported(default_md5_kernel()));
  EXPECT_EQ(md5_kernel_lanes(Md5Kernel::avx512), 32u);
  EXPECT_EQ(md5_kernel_lanes(Md5Kernel::avx2), 16u);
  // An unsupported or non-SIMD request falls back to a SIMD kernel the CPU has.
  Md5Multi fallback(Md5Kernel::openssl);
  EXPECT_NE(fallback.kernel(), Md5Kernel::openssl);
  EXPECT_TRUE(md5_kernel_supported(fallback.kernel()));
}

TEST(Md5KernelSelection, EnvironmentValue) {
  Md5Kernel widest = choose_md5_kernel(nullptr);
  EXPECT_NE(widest, Md5Kernel::openssl);
  EXPECT_TRUE(md5_kernel_supported(widest));
  if (md5_kernel_supported(Md5Kernel::avx512)) {
    EXPECT_EQ(widest, Md5Kernel::avx512);
  }
  EXPECT_EQ(choose_md5_kernel("scalar"), Md5Kernel::scalar);
  EXPECT_EQ(choose_md5_kernel("openssl"), Md5Kernel::openssl);
  EXPECT_EQ(choose_md5_kernel("bogus"), widest);
  EXPECT_EQ(choose_md5_kernel(""), widest);
  EXPECT_EQ(choose_md5_kernel("avx2"), md5_kernel_supported(Md5Kernel::avx2) ? Md5Kernel::avx2 : widest);
}

TEST(Md5KernelSelection, OpensslPathAgrees) {
  std::vector<std::string_view> v = {"", "abc", std::string_view("x\0y", 3)};
  auto got = md5_many(v, Md5Kernel::openssl);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], openssl_md5(v[i]));
  EXPECT_EQ(md5_many(v), got);  // default kernel
}

}  // namespace
}  // namespace dvx::hash
