// DVC-compatible content hashing (formats.md §3.1, §3.2): plain MD5 (3.x, hash name "md5") and
// the legacy 2.x "md5-dos2unix" (1 MiB chunks, per-chunk text detection, CRLF->LF inside a chunk),
// for byte strings, streams, single files and many files in parallel.
// Thread-safety: free functions are safe to call concurrently; a Md5Stream / DigestStream object
// must be used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/hash/md5_multi.h"
#include "dvx/platform/files.h"

namespace dvx::hash {

// md5: 3.x raw MD5 of the exact bytes. md5_dos2unix: 2.x legacy algorithm (§3.2).
enum class Algorithm { md5, md5_dos2unix };

// The DVC hash name of an algorithm ("md5" / "md5-dos2unix").
const char* algorithm_name(Algorithm alg);

// Size of the chunks the legacy algorithm decides text/binary for (exactly 1 MiB).
inline constexpr size_t k_dos2unix_chunk_size = size_t(1) << 20;
// Bytes at the start of a chunk that the text/binary decision looks at.
inline constexpr size_t k_text_probe_size = 512;

// Raw incremental MD5 (OpenSSL EVP). hex_digest() finishes the stream; call it once.
class Md5Stream {
 public:
  Md5Stream();
  ~Md5Stream();
  Md5Stream(Md5Stream&&) noexcept;
  Md5Stream& operator=(Md5Stream&&) noexcept;
  Md5Stream(const Md5Stream&) = delete;
  Md5Stream& operator=(const Md5Stream&) = delete;

  void update(const void* data, size_t n);
  // Lower-case hex digest (32 chars) of everything fed so far.
  std::string hex_digest();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

// True when `block` counts as text under DVC's rule (empty: text; a NUL: binary; otherwise text
// when at most 30% of the bytes are outside printable ASCII and \n \r \t \f \b).
bool is_text_block(std::string_view block);

// Replaces every "\r\n" in `chunk` by "\n" (the dos2unix conversion of one chunk).
std::string dos2unix(std::string_view chunk);

// Incremental hashing with either algorithm. For md5_dos2unix the input is re-chunked into
// exactly 1 MiB chunks internally, so the digest does not depend on how update() is called.
class DigestStream {
 public:
  explicit DigestStream(Algorithm alg);
  void update(const void* data, size_t n);
  std::string hex_digest();

 private:
  void flush_chunk(const char* data, size_t n);
  Algorithm m_alg;
  Md5Stream m_md5;
  std::string m_pending;  // md5_dos2unix: bytes of the current, not yet complete chunk
};

// Hex MD5 of a byte string (3.x algorithm).
std::string md5_hex(std::string_view bytes);
// The same through OpenSSL (the `openssl` kernel of md5_multi, for comparisons).
std::string md5_hex_openssl(std::string_view bytes);
// Hex digest of a byte string with the given algorithm.
std::string digest_hex(std::string_view bytes, Algorithm alg);

struct FileDigest {
  std::string md5;       // hex digest (no ".dir" suffix)
  int64_t size = 0;      // st_size of the file that was read (symlinks followed)
  bool isexec = false;   // owner execute bit
  platform::FileStat stat;  // fstat of the opened file, taken before reading (for the state db)
};

// Copies src to dst (platform::copy_file_observed: dst must not exist) and hashes the bytes
// copied with `alg` on the way, so checking a copy costs no second read. Returns the digest;
// on error dst is removed.
Result<std::string> copy_file_hashed(const std::string& src, const std::string& dst, uint32_t mode, Algorithm alg);

// Hashes one file (symlinks followed) by streaming it through a 1 MiB per-thread buffer.
// Errors: not_found, permission, io; invalid_argument when the path is not a regular file.
Result<FileDigest> hash_file(const std::string& path, Algorithm alg);

// Hashes many files on up to `threads` threads (no process per file); results[i] belongs to
// paths[i] whatever the thread count. progress(done_count) is called after each file from any
// thread (concurrently), done_count being the number of files finished so far; it may be null.
// Each thread keeps the lanes of the multi-buffer kernel (md5_multi.h) busy with that many files
// at once, reading each in pieces of k_lane_piece_size bytes (memory: threads x lanes x piece);
// digests, sizes and errors are the same as hash_file's.
std::vector<Result<FileDigest>> hash_files(const std::vector<std::string>& paths, Algorithm alg,
                                           unsigned threads,
                                           const std::function<void(size_t)>& progress = {});
// The same with an explicit kernel (Md5Kernel::openssl: one hash_file per file).
std::vector<Result<FileDigest>> hash_files(const std::vector<std::string>& paths, Algorithm alg,
                                           unsigned threads,
                                           const std::function<void(size_t)>& progress,
                                           Md5Kernel kernel);

// Bytes hash_files reads per lane at a time; divides k_dos2unix_chunk_size so a legacy chunk
// always starts at the beginning of a piece.
inline constexpr size_t k_lane_piece_size = size_t(256) << 10;

}  // namespace dvx::hash
