// AVX-512F kernels: 16 lanes per register set, one 32-bit lane per message; the x2 form runs two
// independent register sets (32 lanes) interleaved, because one set is bound by the latency of
// the MD5 step chain and leaves execution units idle. Built with -mavx512f (see CMakeLists.txt);
// only called after md5_kernel_supported(Md5Kernel::avx512).
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

// a + M[k] + K does not depend on the previous step, so it is summed first, off the critical
// path, which is then f -> add -> rotate -> add. The empty asm keeps GCC from reassociating the
// sum into the chain (it otherwise adds M[k] after f: ~20% slower).
#define DVX_STEP(f, a, b, c, d, k, s, K)                                            \
  _Pragma("GCC unroll 2") for (int x = 0; x < N; ++x) {                             \
    a[x] = _mm512_add_epi32(a[x], _mm512_add_epi32(m[x][k], _mm512_set1_epi32(int(K)))); \
    __asm__("" : "+v"(a[x]));                                                       \
  }                                                                                 \
  _Pragma("GCC unroll 2") for (int x = 0; x < N; ++x) {                             \
    a[x] = _mm512_add_epi32(a[x], DVX_##f(b[x], c[x], d[x]));                       \
    a[x] = _mm512_add_epi32(_mm512_rol_epi32(a[x], s), b[x]);                       \
  }

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

// N register sets of 16 lanes; set x uses state + 64x and blocks[16x .. 16x+15].
template <int N>
inline __attribute__((always_inline)) void blocks_sets(uint32_t* state,
                                                       const unsigned char* const* blocks,
                                                       size_t nblocks) {
  __m512i a[N], b[N], c[N], d[N];
  for (int x = 0; x < N; ++x) {
    a[x] = _mm512_loadu_si512(state + 64 * x);
    b[x] = _mm512_loadu_si512(state + 64 * x + 16);
    c[x] = _mm512_loadu_si512(state + 64 * x + 32);
    d[x] = _mm512_loadu_si512(state + 64 * x + 48);
  }
  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m512i m[N][16];
    __m512i a0[N], b0[N], c0[N], d0[N];
    for (int x = 0; x < N; ++x) {
      load_transposed(blocks + 16 * x, blk * 64, m[x]);
      a0[x] = a[x];
      b0[x] = b[x];
      c0[x] = c[x];
      d0[x] = d[x];
    }
    DVX_MD5_STEPS(DVX_STEP)
    for (int x = 0; x < N; ++x) {
      a[x] = _mm512_add_epi32(a[x], a0[x]);
      b[x] = _mm512_add_epi32(b[x], b0[x]);
      c[x] = _mm512_add_epi32(c[x], c0[x]);
      d[x] = _mm512_add_epi32(d[x], d0[x]);
    }
  }
  for (int x = 0; x < N; ++x) {
    _mm512_storeu_si512(state + 64 * x, a[x]);
    _mm512_storeu_si512(state + 64 * x + 16, b[x]);
    _mm512_storeu_si512(state + 64 * x + 32, c[x]);
    _mm512_storeu_si512(state + 64 * x + 48, d[x]);
  }
}

}  // namespace

void md5_blocks_avx512(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  blocks_sets<1>(state, blocks, nblocks);
}

void md5_blocks_avx512_x2(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  blocks_sets<2>(state, blocks, nblocks);
}

}  // namespace dvx::hash::detail

#endif  // __AVX512F__
