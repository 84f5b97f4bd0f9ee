#include "dvx/remote/http_wire.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "dvx/base/strings.h"

namespace dvx::remote::http {

namespace {

constexpr size_t k_max_head = 1 << 20;       // an answer's status line and headers
constexpr size_t k_recv_chunk = 256 * 1024;  // bytes asked of one recv
constexpr size_t k_send_chunk = 1 << 20;     // a streamed body, read and sent this much at a time

struct Failure {
  ErrorCode code;
  std::string text;
};

Failure sys_failure(const char* what, int err) {
  if (err == EAGAIN || err == EWOULDBLOCK || err == EINPROGRESS || err == ETIMEDOUT)
    return {ErrorCode::timeout, std::string(what) + ": timed out"};
  return {ErrorCode::network, std::string(what) + ": " + std::strerror(err)};
}

// The error of a request to `authority`, as Client::perform reports it.
Status wire_error(const Request& req, const std::string& authority, const Failure& f) {
  return std::unexpected(Error{f.code, req.what + ": " + f.text + " (http://" + authority + ")"});
}

// A non-negative number in `base` with nothing around it (strtoull alone also takes blanks, a
// sign and a 0x prefix).
std::optional<uint64_t> parse_number(std::string_view text, int base) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  uint64_t n = 0;
  for (char ch : text) {
    int d = ch >= '0' && ch <= '9' ? ch - '0' : base == 16 && ch >= 'a' && ch <= 'f' ? ch - 'a' + 10
            : base == 16 && ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
    if (d < 0) return std::nullopt;
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
  }
  return n;
}

void set_timeout(int fd, int option, long seconds) {
  timeval tv{};
  tv.tv_sec = seconds;
  ::setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

}  // namespace

std::optional<PlainUrl> parse_plain_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() < scheme.size() || to_lower(url.substr(0, scheme.size())) != scheme) return std::nullopt;
  url.remove_prefix(scheme.size());
  size_t end = url.find_first_of("/?#");
  std::string_view authority = url.substr(0, end);
  std::string_view rest = end == std::string_view::npos ? std::string_view() : url.substr(end);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  PlainUrl out;
  out.authority = std::string(authority);
  std::string_view host = authority, port;
  if (authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return std::nullopt;
  for (char c : port)
    if (c < '0' || c > '9') return std::nullopt;
  out.host = std::string(host);
  out.port = port.empty() ? "80" : std::string(port);
  out.target = rest.empty() ? "/" : (rest.front() == '?' ? "/" + std::string(rest) : std::string(rest));
  return out;
}

// An answer being read: bytes received and not yet consumed are buf[pos, end).
struct Wire::Conn {
  int fd;
  std::string& buf;  // the thread's receive buffer, kept between requests
  size_t pos = 0, end = 0;
  bool eof = false;

  explicit Conn(int f) : fd(f), buf(buffer()) {}
  static std::string& buffer() {
    thread_local std::string b;
    if (b.size() < k_recv_chunk) b.resize(k_recv_chunk);
    return b;
  }
  std::string_view pending() const { return {buf.data() + pos, end - pos}; }
  // Receives more bytes (compacting first); false with `err` set at a failure, false with
  // err == 0 at the end of the connection.
  bool fill(int& err) {
    if (pos > 0) {
      std::memmove(buf.data(), buf.data() + pos, end - pos);
      end -= pos;
      pos = 0;
    }
    if (end == buf.size()) buf.resize(buf.size() * 2);
    while (true) {
      ssize_t n = ::recv(fd, buf.data() + end, buf.size() - end, 0);
      if (n > 0) {
        end += static_cast<size_t>(n);
        return true;
      }
      if (n == 0) {
        eof = true;
        err = 0;
        return false;
      }
      if (errno == EINTR) continue;
      err = errno;
      return false;
    }
  }
};

Wire::~Wire() {
  for (auto& [_, fds] : m_idle)
    for (int fd : fds) ::close(fd);
}

int Wire::take_idle(const std::string& authority) {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_idle.find(authority);
  if (it == m_idle.end() || it->second.empty()) return -1;
  int fd = it->second.back();
  it->second.pop_back();
  return fd;
}

void Wire::keep_idle(const std::string& authority, int fd) {
  std::lock_guard<std::mutex> lock(m_mutex);
  m_idle[authority].push_back(fd);
}

Result<Wire::Addresses> Wire::addresses_of(const PlainUrl& url) {
  {
    std::lock_guard<std::mutex> lock(m_mutex);
    if (auto it = m_resolved.find(url.authority); it != m_resolved.end()) return it->second;
  }
  Addresses addresses;
  sockaddr_storage numeric{};
  auto port = static_cast<uint16_t>(std::atoi(url.port.c_str()));
  if (auto* v4 = reinterpret_cast<sockaddr_in*>(&numeric); ::inet_pton(AF_INET, url.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    addresses.emplace_back(numeric, socklen_t(sizeof(sockaddr_in)));
  } else if (auto* v6 = reinterpret_cast<sockaddr_in6*>(&numeric);
             ::inet_pton(AF_INET6, url.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    addresses.emplace_back(numeric, socklen_t(sizeof(sockaddr_in6)));
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(url.host.c_str(), url.port.c_str(), &hints, &found); rc != 0)
      return fail(ErrorCode::network, "cannot resolve host '" + url.host + "': " + ::gai_strerror(rc));
    for (addrinfo* a = found; a; a = a->ai_next) {
      sockaddr_storage one{};
      std::memcpy(&one, a->ai_addr, a->ai_addrlen);
      addresses.emplace_back(one, a->ai_addrlen);
    }
    ::freeaddrinfo(found);
  }
  std::lock_guard<std::mutex> lock(m_mutex);
  m_resolved[url.authority] = addresses;
  return addresses;
}

Result<int> Wire::connect_to(const PlainUrl& url) {
  auto addresses = addresses_of(url);
  if (!addresses) return std::unexpected(addresses.error());
  Failure last{ErrorCode::network, "cannot connect"};
  for (auto& [addr, len] : *addresses) {
    int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return fail_errno("cannot create a socket", errno);
    // A blocking connect waits at most the send timeout (Linux), then fails with EINPROGRESS.
    set_timeout(fd, SO_SNDTIMEO, m_connect_timeout);
    int rc;
    do rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), len);
    while (rc != 0 && errno == EINTR);
    if (rc == 0) {
      if (m_read_timeout != m_connect_timeout) set_timeout(fd, SO_SNDTIMEO, m_read_timeout);
      set_timeout(fd, SO_RCVTIMEO, m_read_timeout);
      return fd;
    }
    last = sys_failure(("cannot connect to " + url.authority).c_str(), errno);
    ::close(fd);
  }
  return std::unexpected(Error{last.code, last.text});
}

Status Wire::attempt(Request& req, const PlainUrl& url, const Headers& headers) {
  bool has_body = req.body || req.read;
  uint64_t body_size = req.body ? req.body->size() : req.upload_size;
  std::string head;
  head.reserve(256 + url.target.size());
  head.append(req.method).append(" ").append(url.target).append(" HTTP/1.1\r\n");
  bool has_host = false;
  for (auto& [k, v] : headers) {
    // As curl sends them: an empty value sends no header; a Host header replaces the URL's.
    if (v.empty()) continue;
    has_host = has_host || to_lower(k) == "host";
    head.append(k).append(": ").append(v).append("\r\n");
  }
  if (!has_host) head.append("Host: ").append(url.authority).append("\r\n");
  if (has_body || req.method == "PUT") head.append("Content-Length: ").append(std::to_string(has_body ? body_size : 0)).append("\r\n");
  head.append("\r\n");

  for (int round = 0;; ++round) {
    int fd = round == 0 ? take_idle(url.authority) : -1;
    bool reused = fd >= 0;
    if (!reused) {
      auto c = connect_to(url);
      if (!c) return std::unexpected(Error{c.error().code, req.what + ": " + c.error().message});
      fd = *c;
    }
    bool reusable = false, answered = false;
    Status st = exchange(req, url, head, fd, reusable, answered);
    if (st && reusable) keep_idle(url.authority, fd);
    else ::close(fd);
    // A kept-alive connection the server had closed: the request never reached it.
    if (!st && reused && !answered && !req.abort_error) {
      if (req.rewind) req.rewind();
      continue;
    }
    return st;
  }
}

Status Wire::exchange(Request& req, const PlainUrl& url, const std::string& head, int fd, bool& reusable,
                      bool& answered) {
  auto failed = [&](const Failure& f) { return wire_error(req, url.authority, f); };
  // The request: its head and a body in memory in one sendmsg; a streamed body after it.
  auto send_all = [&](const char* a, size_t an, const char* b, size_t bn) -> std::optional<Failure> {
    while (an + bn > 0) {
      iovec iov[2];
      int count = 0;
      if (an) iov[count++] = {const_cast<char*>(a), an};
      if (bn) iov[count++] = {const_cast<char*>(b), bn};
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<size_t>(count);
      ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return sys_failure("cannot send the request", errno);
      }
      size_t sent = static_cast<size_t>(n);
      size_t from_a = std::min(sent, an);
      a += from_a;
      an -= from_a;
      sent -= from_a;
      b += sent;
      bn -= sent;
    }
    return std::nullopt;
  };
  if (req.body) {
    if (auto f = send_all(head.data(), head.size(), req.body->data(), req.body->size())) return failed(*f);
  } else if (req.read) {
    // A body sent in several writes: without Nagle's algorithm, so that a short last segment
    // does not wait for the acknowledgement of the one before (a request in one sendmsg needs
    // no such option: its segments go out at once).
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (auto f = send_all(head.data(), head.size(), nullptr, 0)) return failed(*f);
    std::string chunk(static_cast<size_t>(std::min<uint64_t>(req.upload_size, k_send_chunk)), '\0');
    uint64_t left = req.upload_size;
    while (left > 0) {
      size_t n = req.read(chunk.data(), static_cast<size_t>(std::min<uint64_t>(left, chunk.size())));
      if (n == kAbort) return std::unexpected(req.abort_error.value_or(Error{ErrorCode::io, req.what + ": aborted"}));
      if (n == 0) return failed({ErrorCode::io, "the body ended before its size"});
      if (auto f = send_all(chunk.data(), n, nullptr, 0)) return failed(*f);
      left -= n;
    }
  } else if (auto f = send_all(head.data(), head.size(), nullptr, 0)) {
    return failed(*f);
  }

  return read_answer(req, fd, url.authority, reusable, answered);
}

Status read_answer(Request& req, int fd, const std::string& authority, bool& reusable, bool& answered) {
  auto failed = [&](const Failure& f) { return wire_error(req, authority, f); };
  Wire::Conn c(fd);
  int err = 0;
  auto receive_failure = [&](const char* what) {
    return failed(err ? sys_failure(what, err) : Failure{ErrorCode::network, std::string(what) + ": the server closed the connection"});
  };
  // The head of the answer, skipping interim (1xx) answers.
  bool keep_alive = false;
  while (true) {
    size_t head_end;
    while ((head_end = c.pending().find("\r\n\r\n")) == std::string_view::npos) {
      if (c.end - c.pos > k_max_head) return failed({ErrorCode::network, "the answer's headers are too large"});
      if (!c.fill(err)) return receive_failure("no answer");
      answered = true;
    }
    std::string_view block = c.pending().substr(0, head_end);
    c.pos += head_end + 4;
    size_t eol = block.find("\r\n");
    std::string_view status_line = block.substr(0, eol);
    if (!status_line.starts_with("HTTP/") || status_line.size() < 12 || status_line[8] != ' ')
      return failed({ErrorCode::network, "not an HTTP answer"});
    long status = 0;
    for (char ch : status_line.substr(9, 3)) {
      if (ch < '0' || ch > '9') return failed({ErrorCode::network, "not an HTTP answer"});
      status = status * 10 + (ch - '0');
    }
    req.status = status;
    req.response_headers.clear();
    keep_alive = status_line.substr(5, 3) == "1.1";
    std::string_view rest = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    while (!rest.empty()) {
      size_t e = rest.find("\r\n");
      std::string_view line = rest.substr(0, e);
      rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      req.response_headers.emplace_back(to_lower(trim(line.substr(0, colon))), std::string(trim(line.substr(colon + 1))));
    }
    if (status >= 200) break;
  }
  std::optional<uint64_t> length;
  bool chunked = false;
  for (auto& [k, v] : req.response_headers) {
    if (k == "connection") {
      std::string l = to_lower(v);
      if (l.find("close") != std::string::npos) keep_alive = false;
    } else if (k == "content-length") {
      length = parse_number(v, 10);
      if (!length) return failed({ErrorCode::network, "a malformed Content-Length"});
    } else if (k == "transfer-encoding") {
      chunked = to_lower(v).find("chunked") != std::string::npos;
    }
  }
  bool no_body = req.method == "HEAD" || req.status == 204 || req.status == 304;
  bool to_sink = req.status >= 200 && req.status < 300 && req.sink;
  // Hands body bytes on; false when the sink stopped the transfer.
  auto deliver = [&](std::string_view bytes) {
    if (bytes.empty()) return true;
    if (to_sink) {
      req.delivered = true;
      if (!req.sink(bytes)) {
        req.stopped = true;
        return false;
      }
    } else {
      req.response.append(bytes);
    }
    return true;
  };
  // Hands the next `n` body bytes on; what to return when they cannot all be (cut short, or the
  // sink stopped), nullopt once they are.
  auto pass = [&](uint64_t n) -> std::optional<Status> {
    while (n > 0) {
      if (c.pending().empty() && !c.fill(err)) return receive_failure("the answer was cut short");
      size_t k = static_cast<size_t>(std::min<uint64_t>(n, c.pending().size()));
      std::string_view part = c.pending().substr(0, k);
      c.pos += k;
      n -= k;
      if (!deliver(part)) return Status{};
    }
    return std::nullopt;
  };
  if (no_body) {
    reusable = keep_alive;
    return {};
  }
  if (chunked) {
    while (true) {
      size_t eol;
      while ((eol = c.pending().find("\r\n")) == std::string_view::npos) {
        if (!c.fill(err)) return receive_failure("the answer was cut short");
      }
      std::string_view size_line = c.pending().substr(0, eol);
      auto chunk_size = parse_number(trim(size_line.substr(0, size_line.find(';'))), 16);
      if (!chunk_size) return failed({ErrorCode::network, "a malformed chunk size"});
      uint64_t size = *chunk_size;
      c.pos += eol + 2;
      if (size == 0) {
        // Trailers, up to the empty line.
        while (true) {
          while ((eol = c.pending().find("\r\n")) == std::string_view::npos)
            if (!c.fill(err)) return receive_failure("the answer was cut short");
          c.pos += eol + 2;
          if (eol == 0) break;
        }
        reusable = keep_alive && c.pending().empty();
        return {};
      }
      if (auto stop = pass(size)) return *stop;
      while (c.pending().size() < 2)
        if (!c.fill(err)) return receive_failure("the answer was cut short");
      if (!c.pending().starts_with("\r\n")) return failed({ErrorCode::network, "a malformed chunk"});
      c.pos += 2;
    }
  }
  if (length) {
    if (auto stop = pass(*length)) return *stop;
    reusable = keep_alive && c.pending().empty();
    return {};
  }
  // Neither: the body runs to the end of the connection.
  while (true) {
    std::string_view part = c.pending();
    c.pos = c.end;
    if (!deliver(part)) return {};
    if (!c.fill(err)) {
      if (c.eof) return {};
      return receive_failure("the answer was cut short");
    }
  }
}

}  // namespace dvx::remote::http
