// AVX2 kernel: 8 lanes, one 32-bit lane per message. Built with -mavx2 (see CMakeLists.txt);
// only called after md5_kernel_supported(Md5Kernel::avx2).
#include "dvx/hash/md5_kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>

namespace dvx::hash::detail {

namespace {

inline __attribute__((always_inline)) __m256i rotl(__m256i x, int s) {
  return _mm256_or_si256(_mm256_slli_epi32(x, s), _mm256_srli_epi32(x, 32 - s));
}

// Forms with the shortest dependency on b (the previous step's result).
#define DVX_F(b, c, d) _mm256_xor_si256(d, _mm256_and_si256(b, _mm256_xor_si256(c, d)))
#define DVX_G(b, c, d) _mm256_or_si256(_mm256_and_si256(b, d), _mm256_andnot_si256(d, c))
#define DVX_H(b, c, d) _mm256_xor_si256(b, _mm256_xor_si256(c, d))
#define DVX_I(b, c, d) _mm256_xor_si256(c, _mm256_or_si256(b, _mm256_xor_si256(d, ones)))

#define DVX_STEP(f, a, b, c, d, k, s, K)                                        \
  a = _mm256_add_epi32(a, _mm256_add_epi32(m[k], _mm256_set1_epi32(int(K))));   \
  a = _mm256_add_epi32(a, DVX_##f(b, c, d));                                    \
  a = _mm256_add_epi32(rotl(a, s), b);

// Transposes the 8x8 word matrix of 8 lanes' 32-byte half blocks: m[j] gets word j of each lane.
inline __attribute__((always_inline)) void transpose8(const unsigned char* const* p, size_t off,
                                                      __m256i* m) {
  __m256i r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p[i] + off));
  for (int g = 0; g < 2; ++g) {
    __m256i a0 = _mm256_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
    __m256i a1 = _mm256_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
    __m256i a2 = _mm256_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
    __m256i a3 = _mm256_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
    t[4 * g + 0] = _mm256_unpacklo_epi64(a0, a2);
    t[4 * g + 1] = _mm256_unpackhi_epi64(a0, a2);
    t[4 * g + 2] = _mm256_unpacklo_epi64(a1, a3);
    t[4 * g + 3] = _mm256_unpackhi_epi64(a1, a3);
  }
  for (int w = 0; w < 4; ++w) {
    m[w] = _mm256_permute2x128_si256(t[w], t[4 + w], 0x20);
    m[4 + w] = _mm256_permute2x128_si256(t[w], t[4 + w], 0x31);
  }
}

}  // namespace

void md5_blocks_avx2(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state));
  __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state + 8));
  __m256i c = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state + 16));
  __m256i d = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(state + 24));
  const __m256i ones = _mm256_set1_epi32(-1);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m256i m[16];
    transpose8(blocks, blk * 64, m);
    transpose8(blocks, blk * 64 + 32, m + 8);
    const __m256i a0 = a, b0 = b, c0 = c, d0 = d;
    DVX_MD5_STEPS(DVX_STEP)
    a = _mm256_add_epi32(a, a0);
    b = _mm256_add_epi32(b, b0);
    c = _mm256_add_epi32(c, c0);
    d = _mm256_add_epi32(d, d0);
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(state), a);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(state + 8), b);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(state + 16), c);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(state + 24), d);
}

}  // namespace dvx::hash::detail

#endif  // __AVX2__
