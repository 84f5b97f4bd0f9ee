// Multi-buffer MD5: many independent messages hashed at once, one message per 32-bit SIMD lane.
// AVX-512F hashes 2 x 16 lanes and AVX2 2 x 8 lanes: two interleaved register sets, because one
// set is bound by the latency of MD5's step chain (measured: 1.3x faster with AVX-512, 1.7x with
// AVX2); the portable scalar kernel has 4 lanes. MD5 itself is sequential, so the speed-up comes
// only from hashing several messages side by side; a message left alone in the lanes continues
// in scalar code, about as fast as OpenSSL's single stream.
// The kernel is picked at run time from the CPU's features; DVX_MD5_KERNEL=scalar|avx2|avx512|
// openssl forces one (an unsupported choice falls back to the widest supported kernel).
// Thread-safety: free functions are safe to call concurrently; an Md5Multi object must be used
// by one thread at a time (use one per thread).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dvx::hash {

// scalar: portable C++, 4 lanes; avx2: 16 lanes; avx512: 32 lanes; openssl: no lanes, one
// OpenSSL EVP stream per message (the reference and the path for forced single-stream hashing).
enum class Md5Kernel { scalar, avx2, avx512, openssl };

// "scalar" / "avx2" / "avx512" / "openssl".
const char* md5_kernel_name(Md5Kernel kernel);
// The kernel called `name`, or nullopt for an unknown name.
std::optional<Md5Kernel> parse_md5_kernel(std::string_view name);
// True when the kernel was compiled in and the CPU (and OS) support its instructions.
bool md5_kernel_supported(Md5Kernel kernel);
// Messages a kernel hashes at once (1 for openssl).
size_t md5_kernel_lanes(Md5Kernel kernel);
// The kernel an environment value selects: the one it names when supported, otherwise (null,
// unknown or unsupported) the widest supported SIMD kernel.
Md5Kernel choose_md5_kernel(const char* env_value);
// choose_md5_kernel(getenv("DVX_MD5_KERNEL")), evaluated once per process.
Md5Kernel default_md5_kernel();

// One message hashed in a lane of Md5Multi; the engine pulls the message's bytes piece by piece.
class Md5Source {
 public:
  struct Piece {
    const void* data = nullptr;
    size_t size = 0;
    bool last = false;  // no bytes follow this piece
  };
  virtual ~Md5Source() = default;
  // The next bytes of the message (any size, 0 included). They must stay readable until the
  // next call to next() or finish() on this source.
  virtual Piece next() = 0;
  // Called once, after the piece marked last, with the raw 16-byte digest.
  virtual void finish(const unsigned char digest[16]) = 0;
};

// Feeds messages into the lanes of one kernel: a lane that finishes its message takes the next
// one at once, so messages of very different sizes keep every lane busy until the work runs out.
class Md5Multi {
 public:
  // `kernel` must be scalar, avx2 or avx512 and supported; otherwise the widest supported
  // SIMD kernel is used.
  explicit Md5Multi(Md5Kernel kernel = default_md5_kernel());
  Md5Kernel kernel() const { return m_kernel; }
  size_t lanes() const { return m_lanes; }

  // Hashes sources until `next_source` returns null and all lanes are drained. next_source is
  // called (on this thread) whenever a lane is free; each source gets next() calls until a
  // piece is marked last, then one finish(). Sources may be reused after finish().
  void run(const std::function<Md5Source*()>& next_source);

 private:
  Md5Kernel m_kernel;
  size_t m_lanes;
};

// Lower-case hex MD5 of each message, hashed side by side with `kernel` (default: the
// run-time choice). results[i] belongs to messages[i].
std::vector<std::string> md5_many(const std::vector<std::string_view>& messages);
std::vector<std::string> md5_many(const std::vector<std::string_view>& messages, Md5Kernel kernel);

}  // namespace dvx::hash
