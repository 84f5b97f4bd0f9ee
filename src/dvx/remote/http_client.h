// What the S3, Azure Blob and GCS remotes share: an HTTP client, over our own sockets for plain
// http:// (http_wire.h) and libcurl for the rest (curl_api.h: loaded
// with dlopen on the first request; easy handles pooled, connections kept alive; each request retried with backoff on transient failures:
// connection errors, timeouts, HTTP 5xx and 429), file bodies, downloads to a file or memory,
// and reading settings from options and the environment.
// Thread-safety: a Client may be used from many threads at once; a Request belongs to one.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/hash/md5.h"
#include "dvx/odb/object_db.h"
#include "dvx/platform/files.h"
#include "dvx/remote/remote.h"

namespace dvx::remote::http {

using Headers = std::vector<std::pair<std::string, std::string>>;
class Wire;

struct Request {
  std::string method;  // GET HEAD PUT POST DELETE
  std::string url;     // full URL, already encoded
  Headers headers;     // sent with every attempt
  std::string what;    // "PUT azure://container/key": for messages (never holds a secret)
  // Request body: in memory, or streamed by `read` (upload_size bytes; return 0 at the end).
  // `read` may set abort_error and return kAbort to stop the request without retry.
  std::optional<std::string> body;
  std::function<size_t(char*, size_t)> read;
  uint64_t upload_size = 0;
  std::function<void()> rewind;  // before every attempt
  // 2xx response body: to `sink` (false stops the transfer: not an error) or into `response`.
  std::function<bool(std::string_view)> sink;
  bool retry_after_data = true;  // false when what the sink received cannot be taken back
  // What a transient answer said (e.g. the service's error code), for the message when the
  // attempts run out; nullptr: the status alone.
  std::function<std::string(const Request&)> detail;
  // Results.
  long status = 0;
  std::string response;
  Headers response_headers;  // names lower-cased
  bool delivered = false;
  bool stopped = false;
  std::optional<Error> abort_error;

  std::optional<std::string> header(std::string_view name) const;  // lower-case name
};

// Returned by Request::read to abort the request (curl's CURL_READFUNC_ABORT).
extern const size_t kAbort;

struct Options {
  long connect_timeout = 60, read_timeout = 60;  // seconds (read: no byte for that long)
  bool ssl_verify = true;
  std::string ca_bundle;
  int attempts = 5;
  // curl's HTTP authentication: "" (none), "basic" or "digest", with user and password.
  std::string auth, user, password;
  std::string cert_path, key_path;  // TLS client certificate and key
  // Once no attempt of a request got an answer, later requests try once (a push of many objects
  // to a server that went away fails fast instead of retrying each), until one is answered.
  bool try_once_when_unreachable = false;
};

// Headers added to one attempt (signatures with the current date, bearer tokens); an error
// stops the request.
using Signer = std::function<Result<Headers>(const Request&)>;

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;
  // Sends the request, retried with backoff while the failure is transient. Returns an error
  // (network/timeout: retrying later may help) when no attempt got an answer or the last answer
  // was transient; any other HTTP answer is a success here, its status in `req.status`.
  Status perform(Request& req, const Signer& sign = nullptr) const;
  const Options& options() const { return m_o; }

 private:
  // One attempt over curl; an error when no answer came (network/timeout) or curl is missing (io).
  Status curl_attempt(Request& req, const Headers& headers) const;

  Options m_o;
  std::unique_ptr<Wire> m_wire;  // plain http:// (http_wire.h); null: curl for everything
  mutable std::atomic<bool> m_unreachable{false};
  mutable std::mutex m_pool_mutex;
  mutable std::vector<void*> m_pool;  // idle curl easy handles
};

// A local file sent as request bodies: whole and streamed (memory flat), or a range at a time.
class FileBody {
 public:
  static Result<std::unique_ptr<FileBody>> open(const std::string& path);
  ~FileBody();
  uint64_t size() const { return m_size; }
  // Makes `req` stream the whole file (rewound for every attempt). With `verify`, the bytes
  // are hashed as they are sent and the request is aborted before its last byte when they do
  // not hash to that object (req.abort_error: odb::corrupted), so nothing is published.
  // Returns that error at once for an empty file that does not match. Any request type with
  // upload_size, rewind, read and abort_error (the S3 and HTTP/WebDAV remotes have their own).
  template <class Req>
  Status attach(Req& req, const odb::ObjectId* verify) {
    req.upload_size = m_size;
    req.rewind = [this, verify] { restart(verify); };
    req.read = [this, &req, verify](char* buf, size_t n) -> size_t {
      auto got = read_next(buf, n, verify);
      if (got) return *got;
      req.abort_error = got.error();
      return kAbort;
    };
    if (m_size == 0 && verify) {
      restart(verify);
      if (auto wrong = mismatch(verify)) return std::unexpected(*wrong);
    }
    return {};
  }
  // Reads [offset, offset + len) into `buf` (an error when the file has shrunk).
  Status read_at(uint64_t offset, size_t len, std::string& buf) const;

 private:
  void restart(const odb::ObjectId* verify);
  // The next bytes of the body (0 at its end); an error when the file cannot be read, has shrunk,
  // or (at its last byte) does not hash to `verify`.
  Result<size_t> read_next(char* buf, size_t n, const odb::ObjectId* verify);
  std::optional<Error> mismatch(const odb::ObjectId* verify);
  FileBody(std::string path, int fd, uint64_t size) : m_path(std::move(path)), m_fd(fd), m_size(size) {}
  std::string m_path;
  int m_fd;
  uint64_t m_size;
  uint64_t m_sent = 0;
  std::optional<hash::DigestStream> m_digest;
};

// A new file (created 0444; it must not exist) that a download writes. finish(true) writes it
// out (durable.h) and closes it; finish(false), a failure there, or destruction unfinished
// remove it.
class DownloadFile {
 public:
  explicit DownloadFile(std::string path);
  DownloadFile(const DownloadFile&) = delete;
  DownloadFile& operator=(const DownloadFile&) = delete;
  ~DownloadFile();
  Status opened() const;
  Status write(std::string_view bytes);
  Status finish(bool complete);

 private:
  std::string m_path;
  int m_fd = -1;
  int m_open_errno = 0;
};

inline bool status_is_200(long status) { return status == 200; }

// Sends `req` (with `send`) streaming its body into `local_path` (see DownloadFile) and to
// `observe`; the file is kept only when `success(req.status)` and it was fully written. The
// caller reads req.status (200: downloaded, 404: absent, else an error). Any request type with
// status, sink, retry_after_data and abort_error (the S3 and HTTP/WebDAV remotes have their own).
template <class Req, class Send>
Status download(Req& req, const std::string& local_path, const platform::ByteObserver& observe, Send&& send,
                bool (*success)(long) = status_is_200) {
  DownloadFile file(local_path);
  if (auto o = file.opened(); !o) return o;
  req.retry_after_data = false;
  req.sink = [&](std::string_view bytes) {
    if (auto w = file.write(bytes); !w) {
      req.abort_error = w.error();
      return false;
    }
    if (observe) observe(bytes);
    return true;
  };
  Status st = send(req);
  Status finished = file.finish(st && success(req.status));
  if (!st) return st;
  return finished;
}
// Sends `req` reading a 2xx body into `out` unless it is larger than `limit` (then `too_big`
// and the transfer stops early: by Content-Length when the answer has one).
Status read_small(Request& req, size_t limit, std::string& out, bool& too_big,
                  const std::function<Status(Request&)>& send);

// A cloud remote's settings: its `remote modify` options and the environment (`env` looks a
// variable up: getenv in production); empty values count as unset.
class SettingsReader {
 public:
  using Env = std::function<std::optional<std::string>(const char*)>;
  SettingsReader(const RemoteOptions& options, Env env) : m_options(options), m_env(std::move(env)) {}
  std::optional<std::string> option(const char* key) const;
  std::optional<std::string> env(const char* key) const;
  bool flag(const char* key) const;  // the option is true / 1 / yes
  // A positive integer from `value`, else `fallback`.
  template <class T>
  static T number(const std::optional<std::string>& value, T fallback) {
    if (!value) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(value->c_str(), &end, 10);
    if (end == value->c_str() || *end || n == 0) return fallback;
    return static_cast<T>(n);
  }

 private:
  const RemoteOptions& m_options;
  Env m_env;
};

// "bucket/some/prefix/" (a URL after its scheme) -> {"bucket", "some/prefix"}.
std::pair<std::string, std::string> split_location(std::string_view rest);

// Reads `file` in parts of `part_size` bytes, in order (each fed to `digest` when set), and
// hands them to `send(index, bytes)` on up to `parallel` threads at once; memory is bounded by
// parallel + 2 parts (one read ahead, one being read). `send` may leave the part's buffer in
// `bytes` for a later part to be read into. Stops at the first error (reading or sending) and returns it.
Status upload_parts(const FileBody& file, uint64_t part_size, int parallel, hash::DigestStream* digest,
                    const std::function<Status(size_t, std::string&)>& send);

bool transient_status(long status);
// RFC 1123 date of now, as HTTP headers write it ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string http_date();

}  // namespace dvx::remote::http
