#include "dvx/remote/curl_api.h"
#include "dvx/remote/http_client.h"
#include "dvx/remote/http_wire.h"

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <cstring>
#include <ctime>
#include <random>
#include <thread>

#include "dvx/base/strings.h"
#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"

namespace dvx::remote::http {

const size_t kAbort = CURL_READFUNC_ABORT;

namespace {


size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Request*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.starts_with("HTTP/")) {
    size_t sp = line.find(' ');
    r->status = sp == std::string_view::npos ? 0 : std::strtol(std::string(line.substr(sp + 1, 3)).c_str(), nullptr, 10);
    r->response_headers.clear();
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    r->response_headers.emplace_back(to_lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
  }
  return size * n;
}

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Request*>(user);
  std::string_view bytes(data, size * n);
  if (r->status >= 200 && r->status < 300 && r->sink) {
    r->delivered = true;
    if (!r->sink(bytes)) {
      r->stopped = true;
      return 0;  // stops the transfer
    }
  } else {
    r->response.append(bytes);
  }
  return size * n;
}

struct Body {
  Request* req;
  size_t pos = 0;  // in req->body
};

size_t on_read(char* buf, size_t size, size_t n, void* user) {
  auto* b = static_cast<Body*>(user);
  if (b->req->body) {
    const std::string& d = *b->req->body;
    size_t k = std::min(size * n, d.size() - b->pos);
    std::memcpy(buf, d.data() + b->pos, k);
    b->pos += k;
    return k;
  }
  return b->req->read(buf, size * n);
}

// Request bodies from this size on are sent through a larger curl buffer.
constexpr uint64_t k_large_body = 1u << 20;

int on_seek(void* user, curl_off_t offset, int origin) {
  auto* b = static_cast<Body*>(user);
  if (offset != 0 || origin != SEEK_SET) return CURL_SEEKFUNC_CANTSEEK;
  if (b->req->body) {
    b->pos = 0;
    return CURL_SEEKFUNC_OK;
  }
  if (!b->req->rewind) return CURL_SEEKFUNC_CANTSEEK;
  b->req->rewind();
  return CURL_SEEKFUNC_OK;
}

}  // namespace

std::optional<std::string> Request::header(std::string_view name) const {
  for (auto& [k, v] : response_headers)
    if (k == name) return v;
  return std::nullopt;
}

bool transient_status(long status) { return status >= 500 || status == 429 || status == 408; }

std::string http_date() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
                tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

Result<std::unique_ptr<FileBody>> FileBody::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return fail_errno("cannot open '" + path + "'", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(ErrorCode::not_found, "cannot upload '" + path + "': not a file");
  }
  return std::unique_ptr<FileBody>(new FileBody(path, fd, static_cast<uint64_t>(st.st_size)));
}

FileBody::~FileBody() { ::close(m_fd); }

void FileBody::restart(const odb::ObjectId* verify) {
  m_sent = 0;
  if (verify) m_digest.emplace(odb::content_algorithm(*verify));
}

std::optional<Error> FileBody::mismatch(const odb::ObjectId* verify) {
  if (!verify) return std::nullopt;
  std::string d = m_digest->hex_digest();
  if (d == odb::content_digest(*verify)) return std::nullopt;
  return odb::corrupted(m_path, *verify, d);
}

Result<size_t> FileBody::read_next(char* buf, size_t n, const odb::ObjectId* verify) {
  size_t want = static_cast<size_t>(std::min<uint64_t>(n, m_size - m_sent));
  if (want == 0) return size_t(0);
  ssize_t r = ::pread(m_fd, buf, want, static_cast<off_t>(m_sent));
  if (r < 0) return std::unexpected(errno_error("cannot read '" + m_path + "'", errno));
  if (r == 0) return fail(ErrorCode::io, "'" + m_path + "' shrank while it was uploaded");
  if (m_digest) m_digest->update(buf, static_cast<size_t>(r));
  m_sent += static_cast<uint64_t>(r);
  if (m_sent == m_size)
    if (auto wrong = mismatch(verify)) return std::unexpected(*wrong);
  return static_cast<size_t>(r);
}

Status FileBody::read_at(uint64_t offset, size_t len, std::string& buf) const {
  // Sized without zero-filling first: the read overwrites it all (a part of a large file is
  // megabytes; clearing it cost as much CPU as sending it).
  int err = 0;
  size_t got = 0;
  buf.resize_and_overwrite(len, [&](char* p, size_t) {
    while (got < len) {
      ssize_t r = ::pread(m_fd, p + got, len - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        err = r < 0 ? errno : 0;
        break;
      }
      got += static_cast<size_t>(r);
    }
    return got;
  });
  if (got < len && err) return fail_errno("cannot read '" + m_path + "'", err);
  if (got < len) return fail(ErrorCode::io, "'" + m_path + "' shrank while it was uploaded");
  return {};
}

DownloadFile::DownloadFile(std::string path) : m_path(std::move(path)) {
  m_fd = ::open(m_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
  if (m_fd < 0) m_open_errno = errno;
}

DownloadFile::~DownloadFile() { (void)finish(false); }

Status DownloadFile::opened() const {
  if (m_fd < 0) return fail_errno("cannot create '" + m_path + "'", m_open_errno);
  return {};
}

Status DownloadFile::write(std::string_view bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t w = ::write(m_fd, bytes.data() + done, bytes.size() - done);
    if (w < 0) {
      if (errno == EINTR) continue;
      return fail_errno("cannot write '" + m_path + "'", errno);
    }
    done += static_cast<size_t>(w);
  }
  return {};
}

Status DownloadFile::finish(bool complete) {
  if (m_fd < 0) return {};
  Status st;
  if (complete) st = platform::flush_written(m_fd, m_path);  // durable.h
  int close_errno = ::close(m_fd) == 0 ? 0 : errno;
  m_fd = -1;
  if (st && complete && close_errno) st = fail_errno("cannot write '" + m_path + "'", close_errno);
  if (!complete || !st) (void)platform::remove_file(m_path);
  return st;
}

Status read_small(Request& req, size_t limit, std::string& out, bool& too_big,
                  const std::function<Status(Request&)>& send) {
  req.rewind = [&] {
    out.clear();
    too_big = false;
  };
  req.sink = [&](std::string_view bytes) {
    if (out.empty()) {
      if (auto len = req.header("content-length"); len && std::strtoull(len->c_str(), nullptr, 10) > limit) {
        too_big = true;
        return false;
      }
    }
    if (out.size() + bytes.size() > limit) {
      too_big = true;
      return false;
    }
    out.append(bytes);
    return true;
  };
  return send(req);
}

Status upload_parts(const FileBody& file, uint64_t part_size, int parallel, hash::DigestStream* digest,
                    const std::function<Status(size_t, std::string&)>& send) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<std::pair<size_t, std::string>> queue;  // parts read, not yet taken by a sender
  std::vector<std::string> spare;  // buffers of parts sent, for the next parts read
  bool reading_done = false;
  std::optional<Error> failure;
  auto sender = [&] {
    while (true) {
      std::pair<size_t, std::string> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return !queue.empty() || reading_done || failure; });
        if (failure || queue.empty()) return;
        job = std::move(queue.front());
        queue.pop_front();
        cv.notify_all();
      }
      if (auto st = send(job.first, job.second); !st) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failure) failure = st.error();
        cv.notify_all();
        return;
      }
      // A fresh part-sized buffer each time is fresh pages each time (glibc maps blocks
      // this large anew): the page faults cost more than the reading.
      if (job.second.capacity() >= part_size) {
        std::lock_guard<std::mutex> lock(mu);
        spare.push_back(std::move(job.second));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::max(1, parallel); ++i) threads.emplace_back(sender);
  uint64_t offset = 0;
  for (size_t index = 0; offset < file.size(); ++index) {
    size_t len = static_cast<size_t>(std::min(part_size, file.size() - offset));
    std::string buf;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!spare.empty()) {
        buf = std::move(spare.back());
        spare.pop_back();
      }
    }
    auto st = file.read_at(offset, len, buf);
    std::unique_lock<std::mutex> lock(mu);
    if (!st && !failure) failure = st.error();
    if (failure) break;
    lock.unlock();
    if (digest) digest->update(buf.data(), buf.size());
    lock.lock();
    cv.wait(lock, [&] { return queue.empty() || failure; });  // one part read ahead
    if (failure) break;
    queue.emplace_back(index, std::move(buf));
    cv.notify_all();
    offset += len;
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    reading_done = true;
    cv.notify_all();
  }
  for (auto& t : threads) t.join();
  if (failure) return std::unexpected(*failure);
  return {};
}

std::optional<std::string> SettingsReader::option(const char* key) const {
  auto it = m_options.find(key);
  if (it == m_options.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::optional<std::string> SettingsReader::env(const char* key) const {
  auto v = m_env(key);
  if (v && !v->empty()) return v;
  return std::nullopt;
}

bool SettingsReader::flag(const char* key) const {
  auto v = option(key);
  return v && option_bool(*v) == true;
}

std::pair<std::string, std::string> split_location(std::string_view rest) {
  size_t slash = rest.find('/');
  std::string bucket(rest.substr(0, slash));
  std::string_view p = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
  while (!p.empty() && p.front() == '/') p.remove_prefix(1);
  while (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return {bucket, std::string(p)};
}

Client::Client(Options options) : m_o(std::move(options)) {
  // curl's proxy variables for http:// URLs, and curl's own authentication and client
  // certificates, leave those requests to curl.
  auto set = [](const char* name) {
    const char* v = std::getenv(name);
    return v && *v;
  };
  const char* forced = std::getenv("DVX_HTTP_TRANSPORT");
  bool curl_only = (forced && std::string_view(forced) == "curl") || set("http_proxy") || set("all_proxy") ||
                   set("ALL_PROXY") || !m_o.auth.empty() || !m_o.cert_path.empty() || !m_o.key_path.empty();
  if (!curl_only) m_wire = std::make_unique<Wire>(m_o.connect_timeout, m_o.read_timeout);
}

Client::~Client() {
  if (m_pool.empty()) return;
  auto api = curl_api();
  if (!api) return;
  for (void* h : m_pool) (*api)->easy_cleanup(static_cast<CURL*>(h));
}

Status Client::perform(Request& req, const Signer& sign) const {
  std::optional<PlainUrl> plain;
  if (m_wire && req.method != "POST") plain = parse_plain_url(req.url);
  std::optional<Error> last;
  static thread_local std::mt19937 rng(std::random_device{}());
  int attempts = m_o.try_once_when_unreachable && m_unreachable.load() ? 1 : std::max(1, m_o.attempts);
  for (int attempt = 0; attempt < attempts; ++attempt) {
    if (attempt > 0) {
      long ms = std::min(3000L, 200L << (attempt - 1));
      ms = ms / 2 + static_cast<long>(rng() % static_cast<unsigned>(ms / 2 + 1));
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    if (req.rewind) req.rewind();
    req.status = 0;
    req.response.clear();
    req.response_headers.clear();
    req.delivered = req.stopped = false;
    req.abort_error.reset();

    Headers headers = req.headers;
    if (sign) {
      auto extra = sign(req);
      if (!extra) return std::unexpected(extra.error());
      headers.insert(headers.end(), extra->begin(), extra->end());
    }
    Status sent = plain ? m_wire->attempt(req, *plain, headers) : curl_attempt(req, headers);
    if (req.abort_error) return std::unexpected(*req.abort_error);
    if (req.stopped) return {};
    if (!sent) {
      if (sent.error().code == ErrorCode::io) return sent;  // not the network: e.g. no libcurl
      last = sent.error();
      if (req.delivered && !req.retry_after_data) return std::unexpected(*last);
      continue;
    }
    m_unreachable = false;
    if (transient_status(req.status)) {
      std::string detail = req.detail ? req.detail(req) : "";
      last = Error{ErrorCode::network,
                   req.what + ": HTTP " + std::to_string(req.status) + (detail.empty() ? "" : " (" + detail + ")")};
      continue;
    }
    return {};
  }
  if (last && req.status == 0) m_unreachable = true;
  if (last && attempts > 1) last->message += " (after " + std::to_string(attempts) + " attempts)";
  return std::unexpected(last.value_or(Error{ErrorCode::io, req.what + ": failed"}));
}

Status Client::curl_attempt(Request& req, const Headers& headers) const {
  auto api_r = curl_api();
  if (!api_r) return std::unexpected(api_r.error());
  const CurlApi& api = **api_r;
  CURL* h = nullptr;
  {
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    if (!m_pool.empty()) {
      h = static_cast<CURL*>(m_pool.back());
      m_pool.pop_back();
    }
  }
  if (h) api.easy_reset(h);
  else h = api.easy_init();
  if (!h) return fail(ErrorCode::io, req.what + ": cannot create a curl handle");

  curl_slist* list = nullptr;
  for (auto& [k, v] : headers) list = api.slist_append(list, (k + ": " + v).c_str());
  list = api.slist_append(list, "Expect:");
  api.easy_setopt(h, CURLOPT_URL, req.url.c_str());
  api.easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
  api.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  api.easy_setopt(h, CURLOPT_HTTPHEADER, list);
  api.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, m_o.connect_timeout);
  api.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
  api.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, m_o.read_timeout);
  api.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, m_o.ssl_verify ? 1L : 0L);
  api.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, m_o.ssl_verify ? 2L : 0L);
  if (!m_o.ca_bundle.empty()) api.easy_setopt(h, CURLOPT_CAINFO, m_o.ca_bundle.c_str());
  if (!m_o.cert_path.empty()) api.easy_setopt(h, CURLOPT_SSLCERT, m_o.cert_path.c_str());
  if (!m_o.key_path.empty()) api.easy_setopt(h, CURLOPT_SSLKEY, m_o.key_path.c_str());
  if (m_o.auth == "basic" || m_o.auth == "digest") {
    api.easy_setopt(h, CURLOPT_HTTPAUTH, m_o.auth == "basic" ? CURLAUTH_BASIC : CURLAUTH_DIGEST);
    api.easy_setopt(h, CURLOPT_USERNAME, m_o.user.c_str());
    api.easy_setopt(h, CURLOPT_PASSWORD, m_o.password.c_str());
  }
  api.easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
  api.easy_setopt(h, CURLOPT_HEADERDATA, &req);
  api.easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_write);
  api.easy_setopt(h, CURLOPT_WRITEDATA, &req);
  Body body{&req};
  bool has_body = req.body || req.read;
  uint64_t body_size = req.body ? req.body->size() : req.upload_size;
  if (req.method == "HEAD") {
    api.easy_setopt(h, CURLOPT_NOBODY, 1L);
  } else if (req.method == "PUT" || (req.method == "POST" && has_body)) {
    if (req.method == "PUT") {
      api.easy_setopt(h, CURLOPT_UPLOAD, 1L);
      api.easy_setopt(h, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
    } else {
      api.easy_setopt(h, CURLOPT_POST, 1L);
      api.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
    }
    // A large body in 64 KB sends (curl's default) cost a 1 GiB upload 16k send() calls and
    // twice as many polls; 1 MiB at a time (only for such bodies: the buffer stays with the
    // pooled handle until its next reset).
    if (body_size >= k_large_body)
      api.easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, static_cast<long>(k_large_body));
    api.easy_setopt(h, CURLOPT_READFUNCTION, &on_read);
    api.easy_setopt(h, CURLOPT_READDATA, &body);
    // curl rewinds the body to send it again (digest authentication answers the first try
    // with a 401).
    api.easy_setopt(h, CURLOPT_SEEKFUNCTION, &on_seek);
    api.easy_setopt(h, CURLOPT_SEEKDATA, &body);
  } else if (req.method == "POST") {
    api.easy_setopt(h, CURLOPT_POST, 1L);
    api.easy_setopt(h, CURLOPT_POSTFIELDS, "");
  } else if (req.method != "GET") {
    api.easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
  }
  CURLcode rc = api.easy_perform(h);
  api.slist_free_all(list);
  {
    std::lock_guard<std::mutex> lock(m_pool_mutex);
    m_pool.push_back(h);
  }
  if (rc == CURLE_OK || req.abort_error || req.stopped) return {};
  std::string host = req.url.substr(0, req.url.find('/', req.url.find("://") + 3));
  return std::unexpected(Error{rc == CURLE_OPERATION_TIMEDOUT ? ErrorCode::timeout : ErrorCode::network,
                               req.what + ": " + api.easy_strerror(rc) + " (" + host + ")"});
}

}  // namespace dvx::remote::http
