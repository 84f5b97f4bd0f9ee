#include "dvx/hash/md5_multi.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "dvx/base/strings.h"
#include "dvx/hash/md5.h"
#include "dvx/hash/md5_kernels.h"

namespace dvx::hash {

namespace detail {

namespace {

inline uint32_t rotl(uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

inline uint32_t load_le32(const unsigned char* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}

#define DVX_F(b, c, d) (d ^ (b & (c ^ d)))
#define DVX_G(b, c, d) ((b & d) | (c & ~d))
#define DVX_H(b, c, d) (b ^ c ^ d)
#define DVX_I(b, c, d) (c ^ (b | ~d))
#define DVX_STEP(f, a, b, c, d, k, s, K) a = b + rotl(a + DVX_##f(b, c, d) + m[k] + K, s);

// RFC 1321 compression of one block into (a, b, c, d).
void compress(uint32_t& sa, uint32_t& sb, uint32_t& sc, uint32_t& sd, const unsigned char* block) {
  uint32_t m[16];
  for (int i = 0; i < 16; ++i) m[i] = load_le32(block + 4 * i);
  uint32_t a = sa, b = sb, c = sc, d = sd;
  DVX_MD5_STEPS(DVX_STEP)
  sa += a;
  sb += b;
  sc += c;
  sd += d;
}

#undef DVX_F
#undef DVX_G
#undef DVX_H
#undef DVX_I
#undef DVX_STEP

}  // namespace

void md5_compress(uint32_t abcd[4], const unsigned char* p, size_t nblocks) {
  for (size_t blk = 0; blk < nblocks; ++blk, p += 64) compress(abcd[0], abcd[1], abcd[2], abcd[3], p);
}

void md5_blocks_scalar(uint32_t* state, const unsigned char* const* blocks, size_t nblocks) {
  constexpr size_t G = k_scalar_group;
  for (size_t lane = 0; lane < G; ++lane) {
    const unsigned char* p = blocks[lane];
    if (!p) continue;
    for (size_t blk = 0; blk < nblocks; ++blk, p += 64)
      compress(state[lane], state[G + lane], state[2 * G + lane], state[3 * G + lane], p);
  }
}

}  // namespace detail

namespace {

using BlocksFn = void (*)(uint32_t*, const unsigned char* const*, size_t);

bool cpu_has(Md5Kernel kernel) {
#if defined(__x86_64__)
  switch (kernel) {
    case Md5Kernel::avx2: return __builtin_cpu_supports("avx2");
    case Md5Kernel::avx512: return __builtin_cpu_supports("avx512f");
    default: return true;
  }
#else
  return kernel == Md5Kernel::scalar || kernel == Md5Kernel::openssl;
#endif
}

Md5Kernel widest_kernel() {
  if (cpu_has(Md5Kernel::avx512)) return Md5Kernel::avx512;
  if (cpu_has(Md5Kernel::avx2)) return Md5Kernel::avx2;
  return Md5Kernel::scalar;
}

// How a kernel's lanes are laid out, and its block functions for one group and for all groups.
struct KernelShape {
  size_t group;   // lanes per register set
  size_t groups;  // register sets hashed together
  BlocksFn one_group;
  BlocksFn all_groups;
};

KernelShape kernel_shape(Md5Kernel kernel) {
  switch (kernel) {
#if defined(__x86_64__)
    case Md5Kernel::avx2:
      return {detail::k_avx2_group, 2, detail::md5_blocks_avx2, detail::md5_blocks_avx2_x2};
    case Md5Kernel::avx512:
      return {detail::k_avx512_group, 2, detail::md5_blocks_avx512, detail::md5_blocks_avx512_x2};
#endif
    default:
      return {detail::k_scalar_group, 1, detail::md5_blocks_scalar, detail::md5_blocks_scalar};
  }
}

constexpr uint32_t k_init[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
constexpr size_t k_max_lanes = 2 * detail::k_avx512_group;

// Per-lane progress through one message. The lane hashes whole blocks straight from the
// source's pieces; bytes that do not fill a block wait in `carry`, which also holds the
// padding blocks at the end.
struct Lane {
  Md5Source* src = nullptr;
  const unsigned char* seg = nullptr;  // next block to hash
  size_t seg_blocks = 0;               // blocks left at seg
  const unsigned char* piece = nullptr;  // bytes of the current piece not yet in a block
  size_t piece_len = 0;
  uint64_t total = 0;  // message length so far
  size_t carry_len = 0;
  bool last = false;    // the source gave its last piece
  bool padded = false;  // the padding blocks were queued
  alignas(64) unsigned char carry[128];

  void start(Md5Source* s) {
    src = s;
    seg = piece = nullptr;
    seg_blocks = piece_len = carry_len = 0;
    total = 0;
    last = padded = false;
  }
};

}  // namespace

const char* md5_kernel_name(Md5Kernel kernel) {
  switch (kernel) {
    case Md5Kernel::scalar: return "scalar";
    case Md5Kernel::avx2: return "avx2";
    case Md5Kernel::avx512: return "avx512";
    case Md5Kernel::openssl: return "openssl";
  }
  return "?";
}

std::optional<Md5Kernel> parse_md5_kernel(std::string_view name) {
  for (Md5Kernel k : {Md5Kernel::scalar, Md5Kernel::avx2, Md5Kernel::avx512, Md5Kernel::openssl})
    if (name == md5_kernel_name(k)) return k;
  return std::nullopt;
}

bool md5_kernel_supported(Md5Kernel kernel) { return cpu_has(kernel); }

size_t md5_kernel_lanes(Md5Kernel kernel) {
  if (kernel == Md5Kernel::openssl) return 1;
  KernelShape shape = kernel_shape(kernel);
  return shape.group * shape.groups;
}

Md5Kernel choose_md5_kernel(const char* env_value) {
  if (env_value) {
    auto k = parse_md5_kernel(env_value);
    if (k && md5_kernel_supported(*k)) return *k;
  }
  return widest_kernel();
}

Md5Kernel default_md5_kernel() {
  static const Md5Kernel chosen = choose_md5_kernel(std::getenv("DVX_MD5_KERNEL"));
  return chosen;
}

Md5Multi::Md5Multi(Md5Kernel kernel) : m_kernel(kernel) {
  if (kernel == Md5Kernel::openssl || !md5_kernel_supported(kernel)) m_kernel = widest_kernel();
  m_lanes = md5_kernel_lanes(m_kernel);
}

void Md5Multi::run(const std::function<Md5Source*()>& next_source) {
  const size_t L = m_lanes;
  const KernelShape shape = kernel_shape(m_kernel);
  const size_t G = shape.group;
  const bool scalar = m_kernel == Md5Kernel::scalar;
  alignas(64) uint32_t state[4 * k_max_lanes];
  Lane lanes[k_max_lanes];
  bool active[k_max_lanes] = {};

  // Word w (A, B, C, D) of lane i's state.
  auto word = [&](size_t i, size_t w) -> uint32_t& { return state[(i / G) * 4 * G + w * G + i % G]; };
  auto reset_state = [&](size_t i) {
    for (size_t w = 0; w < 4; ++w) word(i, w) = k_init[w];
  };

  // Queues the lane's next run of blocks; when its message is done, reports the digest and
  // takes the next source. Returns false when the lane has nothing left to do.
  auto refill = [&](size_t i) -> bool {
    Lane& ln = lanes[i];
    while (true) {
      if (ln.piece_len > 0) {
        if (ln.carry_len > 0 || ln.piece_len < 64) {
          size_t take = std::min(64 - ln.carry_len, ln.piece_len);
          std::memcpy(ln.carry + ln.carry_len, ln.piece, take);
          ln.carry_len += take;
          ln.piece += take;
          ln.piece_len -= take;
          if (ln.carry_len == 64) {
            ln.carry_len = 0;
            ln.seg = ln.carry;
            ln.seg_blocks = 1;
            return true;
          }
          continue;
        }
        size_t nb = ln.piece_len / 64;
        ln.seg = ln.piece;
        ln.seg_blocks = nb;
        ln.piece += nb * 64;
        ln.piece_len -= nb * 64;
        return true;
      }
      if (!ln.last) {
        Md5Source::Piece p = ln.src->next();
        ln.piece = static_cast<const unsigned char*>(p.data);
        ln.piece_len = p.size;
        ln.total += p.size;
        ln.last = p.last;
        continue;
      }
      if (!ln.padded) {
        // 0x80, zeros up to 8 bytes before a block end, then the bit length (little-endian).
        size_t n = ln.carry_len;
        size_t end = n < 56 ? 64 : 128;
        ln.carry[n] = 0x80;
        std::memset(ln.carry + n + 1, 0, end - 8 - n - 1);
        uint64_t bits = ln.total * 8;
        for (int b = 0; b < 8; ++b) ln.carry[end - 8 + b] = static_cast<unsigned char>(bits >> (8 * b));
        ln.seg = ln.carry;
        ln.seg_blocks = end / 64;
        ln.padded = true;
        return true;
      }
      unsigned char digest[16];
      for (size_t w = 0; w < 4; ++w) {
        uint32_t v = word(i, w);
        for (int b = 0; b < 4; ++b) digest[4 * w + b] = static_cast<unsigned char>(v >> (8 * b));
      }
      ln.src->finish(digest);
      Md5Source* next = next_source();
      if (!next) {
        ln.src = nullptr;
        return false;
      }
      ln.start(next);
      reset_state(i);
    }
  };

  for (size_t i = 0; i < L; ++i) {
    Md5Source* s = next_source();
    if (!s) break;
    lanes[i].start(s);
    reset_state(i);
    active[i] = refill(i);
  }

  const unsigned char* ptrs[k_max_lanes];
  while (true) {
    size_t n = SIZE_MAX;
    size_t count = 0;
    size_t last_active = 0;
    unsigned group_mask = 0;
    for (size_t i = 0; i < L; ++i) {
      if (!active[i]) continue;
      n = std::min(n, lanes[i].seg_blocks);
      ++count;
      last_active = i;
      group_mask |= 1u << (i / G);
    }
    if (count == 0) break;
    if (count == 1) {
      // A lone message (typically the tail of a big file) runs faster through the scalar code
      // than through one lane of a SIMD kernel, whose step latency is higher.
      uint32_t abcd[4];
      for (size_t w = 0; w < 4; ++w) abcd[w] = word(last_active, w);
      detail::md5_compress(abcd, lanes[last_active].seg, n);
      for (size_t w = 0; w < 4; ++w) word(last_active, w) = abcd[w];
    } else {
      // Idle SIMD lanes re-hash an active lane's blocks into their own (ignored) state: cheaper
      // than masking, and always readable. The scalar kernel skips them.
      const unsigned char* any = lanes[last_active].seg;
      for (size_t i = 0; i < L; ++i) ptrs[i] = active[i] ? lanes[i].seg : (scalar ? nullptr : any);
      if (shape.groups > 1 && (group_mask & (group_mask - 1)) == 0) {
        size_t g = static_cast<size_t>(__builtin_ctz(group_mask));
        shape.one_group(state + 4 * G * g, ptrs + G * g, n);
      } else {
        shape.all_groups(state, ptrs, n);
      }
    }
    for (size_t i = 0; i < L; ++i) {
      if (!active[i]) continue;
      Lane& ln = lanes[i];
      ln.seg += n * 64;
      ln.seg_blocks -= n;
      if (ln.seg_blocks == 0) active[i] = refill(i);
    }
  }
}

namespace {

// One in-memory message; a finished source puts its slot back on the free list, right before
// the engine asks for the lane's next message.
class MessageSource final : public Md5Source {
 public:
  std::string_view msg;
  std::string* out = nullptr;
  std::vector<MessageSource*>* free_list = nullptr;

  Piece next() override { return {msg.data(), msg.size(), true}; }
  void finish(const unsigned char digest[16]) override {
    *out = to_hex(digest, 16);
    free_list->push_back(this);
  }
};

}  // namespace

std::vector<std::string> md5_many(const std::vector<std::string_view>& messages) {
  return md5_many(messages, default_md5_kernel());
}

std::vector<std::string> md5_many(const std::vector<std::string_view>& messages, Md5Kernel kernel) {
  std::vector<std::string> out(messages.size());
  if (kernel == Md5Kernel::openssl) {
    for (size_t i = 0; i < messages.size(); ++i) out[i] = md5_hex_openssl(messages[i]);
    return out;
  }
  Md5Multi multi(kernel);
  std::vector<MessageSource> sources(multi.lanes());
  std::vector<MessageSource*> free_list;
  free_list.reserve(sources.size());
  for (auto& s : sources) {
    s.free_list = &free_list;
    free_list.push_back(&s);
  }
  size_t next = 0;
  multi.run([&]() -> Md5Source* {
    if (next == messages.size()) return nullptr;
    MessageSource* s = free_list.back();  // never empty: one source per lane
    free_list.pop_back();
    s->msg = messages[next];
    s->out = &out[next];
    ++next;
    return s;
  });
  return out;
}

}  // namespace dvx::hash
