#include "dvx/hash/md5.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "dvx/base/strings.h"
#include "dvx/base/thread_pool.h"

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

struct Md5Stream::Impl {
  EVP_MD_CTX* ctx = nullptr;
  Impl() {
    ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md5_algorithm(), nullptr);
  }
  ~Impl() { EVP_MD_CTX_free(ctx); }
};

Md5Stream::Md5Stream() : m_impl(std::make_unique<Impl>()) {}
Md5Stream::~Md5Stream() = default;
Md5Stream::Md5Stream(Md5Stream&&) noexcept = default;
Md5Stream& Md5Stream::operator=(Md5Stream&&) noexcept = default;

void Md5Stream::update(const void* data, size_t n) {
  if (n > 0) EVP_DigestUpdate(m_impl->ctx, data, n);
}

std::string Md5Stream::hex_digest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(m_impl->ctx, md, &len);
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

class Fd {
 public:
  explicit Fd(int fd) : m_fd(fd) {}
  ~Fd() {
    if (m_fd >= 0) ::close(m_fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }

 private:
  int m_fd;
};

platform::FileStat to_file_stat(const struct stat& st) {
  platform::FileStat s;
  if (S_ISREG(st.st_mode)) s.type = platform::FileType::regular;
  else if (S_ISDIR(st.st_mode)) s.type = platform::FileType::directory;
  else s.type = platform::FileType::other;
  s.inode = st.st_ino;
  s.device = st.st_dev;
  s.size = st.st_size;
  s.mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t(st.st_ctim.tv_sec) * 1000000000 + st.st_ctim.tv_nsec;
  s.mode = st.st_mode & 07777;
  s.nlink = st.st_nlink;
  return s;
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
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return fail_errno("failed to open '" + path + "'", errno);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return fail_errno("failed to stat '" + path + "'", errno);
  if (!S_ISREG(st.st_mode))
    return fail(ErrorCode::invalid_argument, "failed to hash '" + path + "': not a regular file");
  // Small files gain nothing from the hint but would pay a system call each.
  if (st.st_size >= static_cast<off_t>(k_dos2unix_chunk_size))
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);

  FileDigest out;
  out.stat = to_file_stat(st);
  out.size = out.stat.size;
  out.isexec = (st.st_mode & S_IXUSR) != 0;

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

std::vector<Result<FileDigest>> hash_files(const std::vector<std::string>& paths, Algorithm alg,
                                           unsigned threads,
                                           const std::function<void(size_t)>& progress) {
  std::vector<Result<FileDigest>> results(paths.size(),
                                          fail(ErrorCode::cancelled, "not hashed"));
  std::atomic<size_t> done{0};
  parallel_for(paths.size(), threads == 0 ? 1 : threads, [&](size_t i) {
    results[i] = hash_file(paths[i], alg);
    size_t d = done.fetch_add(1, std::memory_order_relaxed) + 1;
    if (progress) progress(d);
  });
  return results;
}

}  // namespace dvx::hash
