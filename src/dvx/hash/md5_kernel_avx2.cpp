// AVX2 kernels: 8 lanes per register set, one 32-bit lane per message; the x2 form runs two
// independent register sets (16 lanes) interleaved, because one set is bound by the latency of
// the MD5 step chain. Built with -mavx2 (see CMakeLists.txt); only called after
// md5_kernel_supported(Md5Kernel::avx2).
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

// As in the AVX-512 kernel: a + M[k] + K first, kept out of the dependency chain by the asm.
#define DVX_STEP(f, a, b, c, d, k, s, K)                                              \
  _Pragma("GCC unroll 2") for (int x = 0; x < N; ++x) {                               \
    a[x] = _mm256_add_epi32(a[x], _mm256_add_epi32(m[x][k], _mm256_set1_epi32(int(K)))); \
    __asm__("" : "+x"(a[x]));                                                         \
  }                                                                                   \
  _Pragma("GCC unroll 2") for (int x = 0; x < N; ++x) {                               \
    a[x] = _mm256_add_epi32(a[x], DVX_##f(b[x], c[x], d[x]));                         \
    a[x] = _mm256_add_epi32(rotl(a[x], s), b[x]);                                     \
  }

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

inline __attribute__((always_inline)) __m256i load(const uint32_t* p) {
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
}
inline __attribute__((always_inline)) void store(uint32_t* p, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), v);
}

// N register sets of 8 lanes; set x uses state + 32x and blocks[8x .. 8x+7].
template <int N>
inline __attribute__((always_inline)) void blocks_sets(uint32_t* state,
                                                       const unsigned char* const* blocks,
                                                       size_t nblocks) {
  __m256i a[N], b[N], c[N], d[N];
  for (int x = 0; x < N; ++x) {
    a[x] = load(state + 32 * x);
    b[x] = load(state + 32 * x + 8);
    c[x] = load(state + 32 * x + 16);
    d[x] = load(state + 32 * x + 24);
  }
  const __m256i ones = _mm256_set1_epi32(-1);
  for (size_t blk = 0; blk < nblocks; ++blk) {
    __m256i m[N][16];
    __m256i a0[N], b0[N], c0[N], d0[N];
    for (int x = 0; x < N; ++x) {
      transpose8(blocks + 8 * x, blk * 64, m[x]);
      transpose8(blocks + 8 * x, blk * 64 + 32, m[x] + 8);
      a0[x] = a[x];
      b0[x] = b[x];
      c0[x] = c[x];
      d0[x] = d[x];
    }
    DVX_MD5_STEPS(DVX_STEP)
    for (int x = 0; x < N; ++x) {
      a[x] = _mm256_add_epi32(a[x], a0[x]);
      b[x] = _mm256_add_epi32(b[x], b0[x]);
      c[x] = _mm256_add_epi32(c[x], c0[x]);
      d[x] = _mm256_add_epi32(d[x], d0[x]);
    }
  }
  for (int x = 0; x < N; ++x) {
    store(state + 32 * x, a[x]);
    store(state + 32 * x + 8, b[x]);
    store(state + 32 * x + 16, c[x]);
    store(state + 32 * x + 24, d[x]);
  }
}

}  // namespace

void md5_blocks_avx2(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  blocks_sets<1>(state, blocks, nblocks);
}

void md5_blocks_avx2_x2(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  blocks_sets<2>(state, blocks, nblocks);
}

}  // namespace dvx::hash::detail

#endif  // __AVX2__
