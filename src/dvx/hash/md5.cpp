#include "dvx/hash/md5.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"
#include "dvx/hash/md5_kernels.h"

namespace dvx::hash {

namespace {

// OpenSSL 3 looks the algorithm up in its provider tables (under a lock) on every init with
// EVP_md5(); fetching it once keeps per-file hashing cheap.
const EVP_MD* md5_algorithm() {
  static const EVP_MD* md = [] {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
    if (EVP_MD* fetched = EVP_MD_fetch(nullptr, "MD5", nullptr)) return static_cast<const EVP_MD*>(fetched);
#endif
    return EVP_md5();
  }();
  return md;
}

}  // namespace

// MD5 of a stream with the scalar block function of md5_multi: OpenSSL 3 spends milliseconds
// initialising itself on the first digest, more than a no-op command's whole budget.
struct Md5Stream::Impl {
  uint32_t abcd[4] = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
  unsigned char buf[64];
  size_t buffered = 0;
  uint64_t total = 0;
};

Md5Stream::Md5Stream() : m_impl(std::make_unique<Impl>()) {}
Md5Stream::~Md5Stream() = default;
Md5Stream::Md5Stream(Md5Stream&&) noexcept = default;
Md5Stream& Md5Stream::operator=(Md5Stream&&) noexcept = default;

void Md5Stream::update(const void* data, size_t n) {
  Impl& s = *m_impl;
  auto* p = static_cast<const unsigned char*>(data);
  s.total += n;
  if (s.buffered) {
    size_t take = std::min(n, 64 - s.buffered);
    std::memcpy(s.buf + s.buffered, p, take);
    s.buffered += take;
    p += take;
    n -= take;
    if (s.buffered < 64) return;
    detail::md5_compress(s.abcd, s.buf, 1);
    s.buffered = 0;
  }
  if (n >= 64) {
    detail::md5_compress(s.abcd, p, n / 64);
    p += n / 64 * 64;
    n %= 64;
  }
  std::memcpy(s.buf, p, n);
  s.buffered = n;
}

std::string Md5Stream::hex_digest() {
  Impl& s = *m_impl;
  const uint64_t bits = s.total * 8;
  unsigned char pad[72] = {0x80};
  size_t padlen = (s.buffered < 56 ? 56 : 120) - s.buffered;
  for (int i = 0; i < 8; ++i) pad[padlen + i] = static_cast<unsigned char>(bits >> (8 * i));
  const uint64_t total = s.total;
  update(pad, padlen + 8);
  s.total = total;
  unsigned char md[16];
  for (int i = 0; i < 4; ++i)
    for (int k = 0; k < 4; ++k) md[4 * i + k] = static_cast<unsigned char>(s.abcd[i] >> (8 * k));
  return to_hex(md, 16);
}

std::string md5_hex_openssl(std::string_view bytes) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, md5_algorithm(), nullptr);
  EVP_DigestUpdate(ctx, bytes.data(), bytes.size());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx, md, &len);
  EVP_MD_CTX_free(ctx);
  return to_hex(md, len);
}

const char* algorithm_name(Algorithm alg) {
  return alg == Algorithm::md5 ? "md5" : "md5-dos2unix";
}

namespace {

// DVC's TEXT_CHARS: bytes(range(32, 127)) + b"\n\r\t\f\b".
struct TextTable {
  bool text[256] = {};
  constexpr TextTable() {
    for (int c = 32; c < 127; ++c) text[c] = true;
    for (unsigned char c : {'\n', '\r', '\t', '\f', '\b'}) text[c] = true;
  }
};
constexpr TextTable k_text_table;

// Compacts "\r\n" -> "\n" in place; returns the new length.
size_t dos2unix_inplace(char* p, size_t n) {
  char* hit = static_cast<char*>(std::memchr(p, '\r', n));
  if (!hit) return n;
  size_t w = static_cast<size_t>(hit - p);
  for (size_t r = w; r < n; ++r) {
    if (p[r] == '\r' && r + 1 < n && p[r + 1] == '\n') continue;  // drop the CR
    p[w++] = p[r];
  }
  return w;
}

// Feeds one legacy chunk (at most 1 MiB) to `md5`, converting it when it is text. May modify
// the bytes in place.
void feed_dos2unix_chunk(Md5Stream& md5, char* data, size_t n) {
  std::string_view probe(data, n < k_text_probe_size ? n : k_text_probe_size);
  if (is_text_block(probe)) n = dos2unix_inplace(data, n);
  md5.update(data, n);
}

char* thread_buffer() {
  thread_local std::unique_ptr<char[]> buf;
  if (!buf) buf.reset(new char[k_dos2unix_chunk_size]);
  return buf.get();
}


}  // namespace

bool is_text_block(std::string_view block) {
  if (block.empty()) return true;
  if (block.find('\0') != std::string_view::npos) return false;
  size_t nontext = 0;
  for (unsigned char c : block) nontext += k_text_table.text[c] ? 0 : 1;
  // float(nontext) / len <= 0.30, computed exactly.
  return nontext * 10 <= block.size() * 3;
}

std::string dos2unix(std::string_view chunk) {
  std::string out(chunk);
  out.resize(dos2unix_inplace(out.data(), out.size()));
  return out;
}

DigestStream::DigestStream(Algorithm alg) : m_alg(alg) {}

void DigestStream::flush_chunk(const char* data, size_t n) {
  std::string copy(data, n);
  feed_dos2unix_chunk(m_md5, copy.data(), copy.size());
}

void DigestStream::update(const void* data, size_t n) {
  if (m_alg == Algorithm::md5) {
    m_md5.update(data, n);
    return;
  }
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (m_pending.empty() && n >= k_dos2unix_chunk_size) {
      flush_chunk(p, k_dos2unix_chunk_size);
      p += k_dos2unix_chunk_size;
      n -= k_dos2unix_chunk_size;
      continue;
    }
    size_t take = std::min(n, k_dos2unix_chunk_size - m_pending.size());
    m_pending.append(p, take);
    p += take;
    n -= take;
    if (m_pending.size() == k_dos2unix_chunk_size) {
      feed_dos2unix_chunk(m_md5, m_pending.data(), m_pending.size());
      m_pending.clear();
    }
  }
}

std::string DigestStream::hex_digest() {
  if (m_alg == Algorithm::md5_dos2unix && !m_pending.empty()) {
    feed_dos2unix_chunk(m_md5, m_pending.data(), m_pending.size());
    m_pending.clear();
  }
  return m_md5.hex_digest();
}

std::string md5_hex(std::string_view bytes) {
  Md5Stream s;
  s.update(bytes.data(), bytes.size());
  return s.hex_digest();
}

std::string digest_hex(std::string_view bytes, Algorithm alg) {
  DigestStream s(alg);
  s.update(bytes.data(), bytes.size());
  return s.hex_digest();
}

Result<FileDigest> hash_file(const std::string& path, Algorithm alg) {
  platform::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail_errno("failed to open '" + path + "'", errno);
  platform::FileStat st = platform::stat_fd(fd.get());
  if (!st.exists()) return fail_errno("failed to stat '" + path + "'", errno);
  if (st.type != platform::FileType::regular)
    return fail(ErrorCode::invalid_argument, "failed to hash '" + path + "': not a regular file");
  // Small files gain nothing from the hint but would pay a system call each.
  if (st.size >= static_cast<int64_t>(k_dos2unix_chunk_size))
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  FileDigest out;
  out.stat = st;
  out.size = st.size;
  out.isexec = st.is_exec();

  char* buf = thread_buffer();
  Md5Stream md5;
  int64_t total = 0;
  while (true) {
    // Fill a whole chunk: the legacy algorithm's chunk boundaries must not depend on how
    // read(2) splits the file.
    size_t have = 0;
    bool eof = false;
    while (have < k_dos2unix_chunk_size) {
      size_t want = k_dos2unix_chunk_size - have;
      ssize_t r = ::read(fd.get(), buf + have, want);
      if (r < 0) {
        if (errno == EINTR) continue;
        return fail_errno("failed to read '" + path + "'", errno);
      }
      if (r == 0) {
        eof = true;
        break;
      }
      have += static_cast<size_t>(r);
      total += r;
      // A short read that reaches the size fstat reported is the end of a regular file: saves
      // one read(2) per small file.
      if (static_cast<size_t>(r) < want && total == out.size) {
        eof = true;
        break;
      }
    }
    if (have > 0) {
      if (alg == Algorithm::md5) md5.update(buf, have);
      else feed_dos2unix_chunk(md5, buf, have);
    }
    if (eof) break;
  }
  out.md5 = md5.hex_digest();
  return out;
}

namespace {

static_assert(k_dos2unix_chunk_size % k_lane_piece_size == 0);

// What all workers of one hash_files call share.
struct HashFilesJob {
  const std::vector<std::string>& paths;
  Algorithm alg;
  const std::function<void(size_t)>& progress;
  std::vector<Result<FileDigest>>& results;
  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};

  void report() {
    size_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
    if (progress) progress(d);
  }
};

// One file in a lane: reads it piece by piece into its own buffer and, for the legacy
// algorithm, converts each piece as hash_file's 1 MiB chunks would be converted.
class FileSource final : public Md5Source {
 public:
  FileSource(HashFilesJob& job, std::vector<FileSource*>& free_list)
      : m_job(job), m_free(free_list), m_buf(new char[k_lane_piece_size + 1]) {}
  ~FileSource() override { close_fd(); }

  // Takes over the opened file paths[index] (fd, fstat result).
  void start(size_t index, int fd, const platform::FileStat& st) {
    m_index = index;
    m_fd = fd;
    m_digest = FileDigest{};
    m_digest.stat = st;
    m_digest.size = st.size;
    m_digest.isexec = st.is_exec();
    m_total = 0;
    m_chunk_pos = 0;
    m_eof = m_failed = m_held_cr = m_text = false;
  }

  Piece next() override {
    if (m_eof) return {nullptr, 0, true};
    // Legacy chunks are exactly 1 MiB of the file: never read across a chunk end.
    size_t want = k_lane_piece_size;
    if (m_job.alg == Algorithm::md5_dos2unix) want = std::min(want, k_dos2unix_chunk_size - m_chunk_pos);
    char* data = m_buf.get() + 1;  // byte 0: room for a CR held back from the previous piece
    size_t have = 0;
    if (!fill(data, want, have)) {
      m_failed = true;
      m_eof = true;
      return {nullptr, 0, true};
    }
    if (m_job.alg == Algorithm::md5) return {data, have, m_eof};

    if (m_chunk_pos == 0) {
      std::string_view probe(data, std::min(have, k_text_probe_size));
      m_text = is_text_block(probe);
    }
    m_chunk_pos += have;
    bool chunk_end = m_eof || m_chunk_pos == k_dos2unix_chunk_size;
    if (m_chunk_pos == k_dos2unix_chunk_size) m_chunk_pos = 0;
    if (!m_text) return {data, have, m_eof};
    // A CR at the end of a piece pairs with an LF at the start of the next piece of the same
    // chunk, so it is held back and put in front of that piece.
    if (m_held_cr) {
      --data;
      data[0] = '\r';
      ++have;
      m_held_cr = false;
    }
    if (!chunk_end && have > 0 && data[have - 1] == '\r') {
      m_held_cr = true;
      --have;
    }
    have = dos2unix_inplace(data, have);
    return {data, have, m_eof};
  }

  void finish(const unsigned char digest[16]) override {
    close_fd();
    if (!m_failed) {
      m_digest.md5 = to_hex(digest, 16);
      m_job.results[m_index] = std::move(m_digest);
    }
    m_job.report();
    m_free.push_back(this);
  }

 private:
  // Reads until `want` bytes or the end of the file (as hash_file does); false on a read error,
  // which is stored as the file's result.
  bool fill(char* data, size_t want, size_t& have) {
    while (have < want) {
      ssize_t r = ::read(m_fd, data + have, want - have);
      if (r < 0) {
        if (errno == EINTR) continue;
        m_job.results[m_index] = fail_errno("failed to read '" + m_job.paths[m_index] + "'", errno);
        return false;
      }
      if (r == 0) {
        m_eof = true;
        break;
      }
      size_t asked = want - have;
      have += static_cast<size_t>(r);
      m_total += r;
      // A short read reaching the size fstat reported is the end of a regular file.
      if (static_cast<size_t>(r) < asked && m_total == m_digest.size) {
        m_eof = true;
        break;
      }
    }
    return true;
  }

  void close_fd() {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = -1;
  }

  HashFilesJob& m_job;
  std::vector<FileSource*>& m_free;
  std::unique_ptr<char[]> m_buf;
  size_t m_index = 0;
  int m_fd = -1;
  FileDigest m_digest;
  int64_t m_total = 0;
  size_t m_chunk_pos = 0;  // md5_dos2unix: offset inside the current 1 MiB chunk
  bool m_eof = false;
  bool m_failed = false;
  bool m_held_cr = false;
  bool m_text = false;  // md5_dos2unix: the current chunk is text
};

// Opens paths[i] for hashing; on failure stores the error as the file's result.
int open_for_hash(HashFilesJob& job, size_t i, platform::FileStat& st) {
  const std::string& path = job.paths[i];
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    job.results[i] = fail_errno("failed to open '" + path + "'", errno);
    return -1;
  }
  st = platform::stat_fd(fd);
  if (!st.exists()) {
    job.results[i] = fail_errno("failed to stat '" + path + "'", errno);
    ::close(fd);
    return -1;
  }
  if (st.type != platform::FileType::regular) {
    job.results[i] = fail(ErrorCode::invalid_argument, "failed to hash '" + path + "': not a regular file");
    ::close(fd);
    return -1;
  }
  if (st.size >= static_cast<int64_t>(k_dos2unix_chunk_size))
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return fd;
}

// One thread's share: its lanes take the next unclaimed file whenever they free up, with at most
// `max_files` files in flight so a short list is spread over all threads instead of filling the
// first thread's lanes.
void hash_files_worker(HashFilesJob& job, Md5Kernel kernel, size_t max_files) {
  Md5Multi multi(kernel);
  size_t slots = std::min(multi.lanes(), max_files);
  std::vector<FileSource*> free_list;
  std::vector<std::unique_ptr<FileSource>> sources;
  for (size_t i = 0; i < slots; ++i) {
    sources.push_back(std::make_unique<FileSource>(job, free_list));
    free_list.push_back(sources.back().get());
  }
  multi.run([&]() -> Md5Source* {
    if (free_list.empty()) return nullptr;  // this thread's share of lanes is busy
    while (true) {
      size_t i = job.next.fetch_add(1, std::memory_order_relaxed);
      if (i >= job.paths.size()) return nullptr;
      platform::FileStat st;
      int fd = open_for_hash(job, i, st);
      if (fd < 0) {
        job.report();
        continue;
      }
      FileSource* s = free_list.back();
      free_list.pop_back();
      s->start(i, fd, st);
      return s;
    }
  });
}

}  // namespace

std::vector<Result<FileDigest>> hash_files(const std::vector<std::string>& paths, Algorithm alg,
                                           unsigned threads,
                                           const std::function<void(size_t)>& progress) {
  return hash_files(paths, alg, threads, progress, default_md5_kernel());
}

std::vector<Result<FileDigest>> hash_files(const std::vector<std::string>& paths, Algorithm alg,
                                           unsigned threads,
                                           const std::function<void(size_t)>& progress,
                                           Md5Kernel kernel) {
  std::vector<Result<FileDigest>> results(paths.size(),
                                          fail(ErrorCode::cancelled, "not hashed"));
  if (threads == 0) threads = 1;
  if (kernel == Md5Kernel::openssl) {
    std::atomic<size_t> done{0};
    parallel_for(paths.size(), threads, [&](size_t i) {
      results[i] = hash_file(paths[i], alg);
      size_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
      if (progress) progress(d);
    });
    return results;
  }
  HashFilesJob job{paths, alg, progress, results};
  // One task per worker; each drains the shared file queue through its own lanes. A large file
  // stays in its lane: alongside other files it costs a share of a SIMD step, and once alone
  // the engine hashes it in scalar code at OpenSSL's single-stream speed (bench_md5
  // one_lane_16MiB), so a separate single-stream path would gain nothing.
  size_t workers = std::min<size_t>(threads, paths.size());
  size_t max_files = workers == 0 ? 1 : (paths.size() + workers - 1) / workers;
  parallel_for(workers, static_cast<unsigned>(workers),
               [&](size_t) { hash_files_worker(job, kernel, max_files); });
  return results;
}

Result<std::string> copy_file_hashed(const std::string& src, const std::string& dst, uint32_t mode, Algorithm alg) {
  DigestStream digest(alg);
  auto r = platform::copy_file_observed(src, dst, mode,
                                        [&](std::string_view b) { digest.update(b.data(), b.size()); });
  if (!r) return std::unexpected(r.error());
  return digest.hex_digest();
}

}  // namespace dvx::hash
