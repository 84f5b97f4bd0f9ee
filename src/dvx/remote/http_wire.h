// Plain HTTP/1.1 over our own sockets: the transport Client::perform uses for `http://` URLs
// when nothing calls for curl (no proxy in the environment, no curl authentication, no client
// certificate, not a POST). A small-object transfer is a handful of system calls here (socket,
// connect, one sendmsg, the recvs, close) where curl spends about twice as many plus its
// per-request setup: measured on 5,000 GETs of 10 KB from moto, 160 µs of CPU per request
// against curl's 240 (bench/ has the end-to-end rows). https, proxies and the rest stay curl's.
//
// Connections are kept alive and reused (per host and port) unless the server closes them;
// a request that finds a reused connection closed before any answer byte is sent again once
// on a new connection. Response bodies are framed by Content-Length, chunked encoding, or the
// end of the connection.
// Thread-safety: a Wire may be used from many threads at once; a Request belongs to one.
#pragma once

#include <sys/socket.h>

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/remote/http_client.h"

namespace dvx::remote::http {

struct PlainUrl {
  std::string authority;  // "host:port" as written in the URL: the Host header
  std::string host;       // without brackets for an IPv6 literal
  std::string port;       // "80" when the URL has none
  std::string target;     // "/path?query" ("/" when empty)
};
// The parts of an `http://` URL; nullopt for any other scheme or a malformed authority.
std::optional<PlainUrl> parse_plain_url(std::string_view url);

// Reads the answer to `req` from the connected socket `fd` (where it goes: see Wire::attempt);
// `reusable`: the connection may carry another request; `answered`: some byte came. Any bytes
// are a value or an error, never a crash (tests/fuzz: http_answer).
Status read_answer(Request& req, int fd, const std::string& authority, bool& reusable, bool& answered);

class Wire {
 public:
  Wire(long connect_timeout, long read_timeout) : m_connect_timeout(connect_timeout), m_read_timeout(read_timeout) {}
  ~Wire();
  Wire(const Wire&) = delete;
  Wire& operator=(const Wire&) = delete;

  // One attempt of `req` (body from req.body or req.read, upload_size bytes) with `headers`,
  // with the contract of one curl attempt in Client::perform: the answer in req.status,
  // req.response_headers and the body to req.sink (2xx) or req.response; a sink that returns
  // false sets req.stopped. Returns a network/timeout error when no complete answer came.
  Status attempt(Request& req, const PlainUrl& url, const Headers& headers);

 private:
  friend Status read_answer(Request&, int, const std::string&, bool&, bool&);
  struct Conn;
  Result<int> connect_to(const PlainUrl& url);
  Status exchange(Request& req, const PlainUrl& url, const std::string& head, int fd, bool& reusable,
                  bool& answered);
  int take_idle(const std::string& authority);
  void keep_idle(const std::string& authority, int fd);
  using Addresses = std::vector<std::pair<sockaddr_storage, socklen_t>>;
  // The host's addresses: numeric ones parsed, names resolved once per Wire (a server that
  // closes every connection would otherwise cost a resolver call per request).
  Result<Addresses> addresses_of(const PlainUrl& url);

  long m_connect_timeout, m_read_timeout;
  std::mutex m_mutex;
  std::unordered_map<std::string, std::vector<int>> m_idle;  // authority -> idle sockets
  std::unordered_map<std::string, Addresses> m_resolved;     // authority -> addresses
};

}  // namespace dvx::remote::http
