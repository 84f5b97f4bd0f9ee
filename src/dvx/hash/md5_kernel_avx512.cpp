// AVX-512F kernel: 16 lanes, one 32-bit lane per message. Built with -mavx512f (see
// CMakeLists.txt); only called after md5_kernel_supported(Md5Kernel::avx512).
#include "dvx/hash/md5_kernels.h"

#if defined(__AVX512F__)
// GCC 12 flags _mm512_undefined_epi32() inside its own intrinsics (a known false positive).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

namespace dvx::hash::detail {

namespace {

// Round functions as one vpternlogd each (truth tables over b=0xF0, c=0xCC, d=0xAA).
#define DVX_F(b, c, d) _mm512_ternarylogic_epi32(b, c, d, 0xCA)  // (b & c) | (~b & d)
#define DVX_G(b, c, d) _mm512_ternarylogic_epi32(b, c, d, 0xE4)  // (b & d) | (c & ~d)
#define DVX_H(b, c, d) _mm512_ternarylogic_epi32(b, c, d, 0x96)  // b ^ c ^ d
#define DVX_I(b, c, d) _mm512_ternarylogic_epi32(b, c, d, 0x39)  // c ^ (b | ~d)

// a + M[k] + K does not depend on the previous step, so it is added first, off the critical
// path (f -> add -> rotate -> add).
#define DVX_STEP(f, a, b, c, d, k, s, K)                                              \
  a = _mm512_add_epi32(a, _mm512_add_epi32(m[k], _mm512_set1_epi32(int(K))));         \
  a = _mm512_add_epi32(a, DVX_##f(b, c, d));                                          \
  a = _mm512_add_epi32(_mm512_rol_epi32(a, s), b);

// Loads block `blk` of every lane and transposes the 16x16 word matrix, so m[j] holds word j
// of all 16 lanes.
inline __attribute__((always_inline)) void load_transposed(const unsigned char* const* p,
                                                           size_t off, __m512i* m) {
  __m512i r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_loadu_si512(p[i] + off);
  // 32-bit interleave of row pairs, then 64-bit interleave of pair pairs: t[4g+w] holds, in
  // 128-bit lane k, word 4k+w of rows 4g..4g+3.
  for (int g = 0; g < 4; ++g) {
    __m512i a0 = _mm512_unpacklo_epi32(r[4 * g], r[4 * g + 1]);
    __m512i a1 = _mm512_unpackhi_epi32(r[4 * g], r[4 * g + 1]);
    __m512i a2 = _mm512_unpacklo_epi32(r[4 * g + 2], r[4 * g + 3]);
    __m512i a3 = _mm512_unpackhi_epi32(r[4 * g + 2], r[4 * g + 3]);
    t[4 * g + 0] = _mm512_unpacklo_epi64(a0, a2);
    t[4 * g + 1] = _mm512_unpackhi_epi64(a0, a2);
    t[4 * g + 2] = _mm512_unpacklo_epi64(a1, a3);
    t[4 * g + 3] = _mm512_unpackhi_epi64(a1, a3);
  }
  // 4x4 transpose of 128-bit lanes across the four row groups.
  for (int w = 0; w < 4; ++w) {
    __m512i e0 = _mm512_shuffle_i32x4(t[w], t[4 + w], 0x44);
    __m512i e1 = _mm512_shuffle_i32x4(t[w], t[4 + w], 0xEE);
    __m512i e2 = _mm512_shuffle_i32x4(t[8 + w], t[12 + w], 0x44);
    __m512i e3 = _mm512_shuffle_i32x4(t[8 + w], t[12 + w], 0xEE);
    m[w] = _mm512_shuffle_i32x4(e0, e2, 0x88);
    m[4 + w] = _mm512_shuffle_i32x4(e0, e2, 0xDD);
    m[8 + w] = _mm512_shuffle_i32x4(e1, e3, 0x88);
    m[12 + w] = _mm512_shuffle_i32x4(e1, e3, 0xDD);
  }
}

}  // namespace

void md5_blocks_avx512(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  __m512i a = _mm512_loadu_si512(state);
  __m512i b = _mm512_loadu_si512(state + 16);
  __m512i c = _mm512_loadu_si512(state + 32);
  __m512i d = _mm512_loadu_si512(state + 48);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m512i m[16];
    load_transposed(blocks, blk * 64, m);
    const __m512i a0 = a, b0 = b, c0 = c, d0 = d;
    DVX_MD5_STEPS(DVX_STEP)
    a = _mm512_add_epi32(a, a0);
    b = _mm512_add_epi32(b, b0);
    c = _mm512_add_epi32(c, c0);
    d = _mm512_add_epi32(d, d0);
  }
  _mm512_storeu_si512(state, a);
  _mm512_storeu_si512(state + 16, b);
  _mm512_storeu_si512(state + 32, c);
  _mm512_storeu_si512(state + 48, d);
}

}  // namespace dvx::hash::detail

#endif  // __AVX512F__
