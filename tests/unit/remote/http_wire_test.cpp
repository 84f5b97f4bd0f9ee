// http::Wire, the plain-HTTP transport, against a scripted server on a real socket: body
// framing (Content-Length, chunked, end of connection), interim answers, HEAD, kept-alive
// connections (reused; one the server closed is replaced), the request bytes it sends, and
// failures (refused, timed out, cut short).
#include "dvx/remote/http_wire.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace dvx::remote::http {
namespace {

// Reads one request (head and Content-Length body) from `fd`; "" when the peer closed first.
std::string read_request(int fd) {
  std::string in;
  char buf[4096];
  size_t head_end = std::string::npos;
  while ((head_end = in.find("\r\n\r\n")) == std::string::npos) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return "";
    in.append(buf, static_cast<size_t>(n));
  }
  size_t length = 0;
  if (size_t p = in.find("Content-Length: "); p != std::string::npos && p < head_end)
    length = std::strtoul(in.c_str() + p + 16, nullptr, 10);
  while (in.size() < head_end + 4 + length) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  return in;
}

void write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// Accepts connections on 127.0.0.1 and hands each to `serve(fd, index)` on its own thread;
// records every request read with read_request through `requests`.
class ScriptedServer {
 public:
  using Serve = std::function<void(ScriptedServer&, int fd, int connection)>;
  explicit ScriptedServer(Serve serve) : m_serve(std::move(serve)) {
    m_listen = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(m_listen, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(m_listen, reinterpret_cast<sockaddr*>(&a), &len);
    m_port = ntohs(a.sin_port);
    ::listen(m_listen, 16);
    m_accept = std::thread([this] {
      for (int i = 0;; ++i) {
        int fd = ::accept(m_listen, nullptr, nullptr);
        if (fd < 0) return;
        m_connections = i + 1;
        std::lock_guard<std::mutex> lock(m_mutex);
        m_threads.emplace_back([this, fd, i] {
          m_serve(*this, fd, i);
          ::close(fd);
        });
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(m_listen, SHUT_RDWR);
    ::close(m_listen);
    m_accept.join();
    std::lock_guard<std::mutex> lock(m_mutex);
    for (auto& t : m_threads) t.join();
  }
  std::string url(std::string_view path) const { return "http://127.0.0.1:" + std::to_string(m_port) + std::string(path); }
  int connections() const { return m_connections; }
  std::string next_request(int fd) {
    std::string r = read_request(fd);
    if (!r.empty()) {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_requests.push_back(r);
    }
    return r;
  }
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_requests;
  }

 private:
  Serve m_serve;
  int m_listen = -1;
  int m_port = 0;
  std::atomic<int> m_connections{0};
  std::thread m_accept;
  std::mutex m_mutex;
  std::vector<std::thread> m_threads;
  std::vector<std::string> m_requests;
};

// Sends `req` to `url` over `wire`, the body collected through a sink.
Status send(Wire& wire, Request& req, const std::string& url, std::string& body, const Headers& headers = {}) {
  auto u = parse_plain_url(url);
  EXPECT_TRUE(u);
  if (req.what.empty()) req.what = req.method + " " + url;
  req.sink = [&](std::string_view b) {
    body.append(b);
    return true;
  };
  return wire.attempt(req, *u, headers);
}

// A GET of `url` over `wire`: the answer in `req`, its body in `body`.
struct Get {
  Request req;
  std::string body;
  Status st;
  Get(Wire& wire, const std::string& url, std::string what = "") {
    req.method = "GET";
    req.what = std::move(what);
    st = send(wire, req, url, body);
  }
};

TEST(PlainUrl, SplitsAuthorityHostPortAndTarget) {
  auto u = parse_plain_url("http://127.0.0.1:5056/bucket/a%20b?list-type=2&prefix=x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->authority, "127.0.0.1:5056");
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, "5056");
  EXPECT_EQ(u->target, "/bucket/a%20b?list-type=2&prefix=x");
  u = parse_plain_url("HTTP://example.com");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  u = parse_plain_url("http://[::1]:8080/x");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->authority, "[::1]:8080");
  EXPECT_EQ(u->target, "/x");
  EXPECT_FALSE(parse_plain_url("https://example.com/x"));
  EXPECT_FALSE(parse_plain_url("http://user:pw@example.com/x"));
  EXPECT_FALSE(parse_plain_url("http://example.com:8a/x"));
  EXPECT_FALSE(parse_plain_url("http:///x"));
}

TEST(Wire, ReadsContentLengthBodiesAndReusesTheConnection) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty())
      write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nETag: \"abc\"\r\n\r\nhello");
  });
  Wire wire(5, 5);
  for (int i = 0; i < 3; ++i) {
    Get got(wire, server.url("/k" + std::to_string(i)));
    auto& [req, body, st] = got;
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(req.status, 200);
    EXPECT_EQ(body, "hello");
    EXPECT_EQ(req.header("etag"), "\"abc\"");
    EXPECT_TRUE(req.delivered);
  }
  EXPECT_EQ(server.connections(), 1);
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_TRUE(reqs[2].starts_with("GET /k2 HTTP/1.1\r\n")) << reqs[2];
}

TEST(Wire, DecodesChunkedBodiesWithExtensionsAndTrailers) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty()) {
      write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nchun");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a chunk split across reads
      write_all(fd, "k\r\n1");
      write_all(fd, "0\r\n0123456789abcdef\r\n0\r\nX-Trailer: y\r\n\r\n");
    }
  });
  Wire wire(5, 5);
  for (int i = 0; i < 2; ++i) {
    Get got(wire, server.url("/c"));
    auto& [req, body, st] = got;
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(body, "chunk0123456789abcdef");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(Wire, AChunkLongerThanItsSizeIsAnError) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    s.next_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nchunk\r\n0\r\n\r\n");
  });
  Wire wire(5, 5);
  Get got(wire, server.url("/c"));
  auto& [req, body, st] = got;
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("a malformed chunk"), std::string::npos) << st.error().message;
}

TEST(Wire, ReadsABodyToTheEndOfTheConnectionAndSkipsInterimAnswers) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    s.next_request(fd);
    write_all(fd, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such ");
    write_all(fd, "key");
  });
  Wire wire(5, 5);
  Get got(wire, server.url("/missing"));
  auto& [req, body, st] = got;
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(req.status, 404);
  EXPECT_EQ(body, "");                   // not a 2xx: not for the sink
  EXPECT_EQ(req.response, "no such key");  // but kept for the error message
  EXPECT_FALSE(req.delivered);
}

TEST(Wire, HeadAnswersHaveNoBody) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty()) write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 123456\r\n\r\n");
  });
  Wire wire(5, 5);
  for (int i = 0; i < 2; ++i) {
    Request req;
    req.method = "HEAD";
    std::string body;
    auto st = send(wire, req, server.url("/h"), body);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(req.header("content-length"), "123456");
    EXPECT_EQ(body, "");
  }
  EXPECT_EQ(server.connections(), 1);
}

TEST(Wire, SendsHeadersAndBodiesAsCurlWould) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty()) write_all(fd, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n");
  });
  Wire wire(5, 5);
  std::string body;
  Request put;
  put.method = "PUT";
  put.body = std::string("0123456789");
  ASSERT_TRUE(send(wire, put, server.url("/a?x=1"), body, {{"x-amz-date", "D"}, {"Removed", ""}}));
  // A streamed body, read in pieces; the signer's Host header replaces the URL's.
  Request streamed;
  streamed.method = "PUT";
  std::string source(3 << 20, 'z');
  size_t at = 0;
  streamed.upload_size = source.size();
  streamed.read = [&](char* buf, size_t n) {
    size_t k = std::min<size_t>({n, source.size() - at, 100'000});
    std::memcpy(buf, source.data() + at, k);
    at += k;
    return k;
  };
  ASSERT_TRUE(send(wire, streamed, server.url("/b"), body, {{"host", "bucket.example"}}));
  Request del;
  del.method = "DELETE";
  ASSERT_TRUE(send(wire, del, server.url("/c"), body));
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  std::string port = server.url("").substr(std::string("http://127.0.0.1:").size());
  EXPECT_EQ(reqs[0], "PUT /a?x=1 HTTP/1.1\r\nx-amz-date: D\r\nHost: 127.0.0.1:" + port +
                         "\r\nContent-Length: 10\r\n\r\n0123456789");
  EXPECT_TRUE(reqs[1].starts_with("PUT /b HTTP/1.1\r\nhost: bucket.example\r\nContent-Length: 3145728\r\n\r\nzzz")) << reqs[1].substr(0, 100);
  EXPECT_EQ(reqs[1].size(), reqs[1].find("\r\n\r\n") + 4 + source.size());
  EXPECT_EQ(reqs[2], "DELETE /c HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
  EXPECT_EQ(put.status, 201);
}

TEST(Wire, ReplacesAKeptAliveConnectionTheServerClosed) {
  // Answers one request per connection without saying it closes.
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    if (s.next_request(fd).empty()) return;
    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  Wire wire(5, 5);
  for (int i = 0; i < 3; ++i) {
    Request req;
    req.method = "GET";
    std::string body;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the server's close arrives
    auto st = send(wire, req, server.url("/k"), body);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(body, "ok");
  }
  EXPECT_EQ(server.connections(), 3);
  EXPECT_EQ(server.requests().size(), 3u);
}

TEST(Wire, ABodyCutShortIsANetworkError) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    s.next_request(fd);
    write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly fifty");
  });
  Wire wire(5, 5);
  Get got(wire, server.url("/k"), "GET s3://b/k");
  auto& [req, body, st] = got;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::network);
  EXPECT_NE(st.error().message.find("GET s3://b/k: the answer was cut short"), std::string::npos) << st.error().message;
  EXPECT_TRUE(req.delivered);  // the caller decides whether a retry may follow delivered bytes
}

TEST(Wire, LengthsThatAreNotPlainNumbersAreErrors) {
  // strtoull would read "-1" as the largest length and "0x10" as 0: both are refused.
  for (std::string answer : {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc",
                             "HTTP/1.1 200 OK\r\nContent-Length: 0x10\r\n\r\nabc",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n"}) {
    ScriptedServer server([&](ScriptedServer& s, int fd, int) {
      s.next_request(fd);
      write_all(fd, answer);
    });
    Wire wire(5, 5);
    Get got(wire, server.url("/k"));
    ASSERT_FALSE(got.st) << answer;
    EXPECT_EQ(got.st.error().code, ErrorCode::network);
    EXPECT_NE(got.st.error().message.find("malformed"), std::string::npos) << got.st.error().message;
  }
}

TEST(Wire, ASinkThatStopsEndsTheTransferAndTheConnection) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty()) write_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef");
  });
  Wire wire(5, 5);
  for (int i = 0; i < 2; ++i) {
    Request req;
    req.method = "GET";
    req.what = "GET x";
    req.sink = [](std::string_view) { return false; };
    auto st = wire.attempt(req, *parse_plain_url(server.url("/k")), {});
    ASSERT_TRUE(st);
    EXPECT_TRUE(req.stopped);
  }
  EXPECT_EQ(server.connections(), 2);
}

TEST(Wire, NoAnswerWithinTheReadTimeoutIsATimeout) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    s.next_request(fd);
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  });
  Wire wire(5, 1);
  Get got(wire, server.url("/slow"));
  auto& [req, body, st] = got;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::timeout);
}

TEST(Wire, ARefusedConnectionNamesTheServer) {
  // A port that was just free: bound, then closed.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  std::string url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/k";
  Wire wire(5, 5);
  Get got(wire, url, "GET s3://b/k");
  auto& [req, body, st] = got;
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::network);
  EXPECT_NE(st.error().message.find("cannot connect to 127.0.0.1:"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("Connection refused"), std::string::npos) << st.error().message;
}

TEST(Wire, ResolvesHostNames) {
  ScriptedServer server([](ScriptedServer& s, int fd, int) {
    while (!s.next_request(fd).empty()) write_all(fd, "HTTP/1.1 204 No Content\r\n\r\n");
  });
  std::string url = server.url("/k");
  url.replace(url.find("127.0.0.1"), 9, "localhost");
  Wire wire(5, 5);
  for (int i = 0; i < 2; ++i) {  // the second from the addresses resolved by the first
    Request req;
    req.method = "DELETE";
    std::string body;
    auto st = send(wire, req, url, body);
    ASSERT_TRUE(st) << st.error().message;
    EXPECT_EQ(req.status, 204);
  }
}

}  // namespace
}  // namespace dvx::remote::http
