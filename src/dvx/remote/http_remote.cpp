#include "dvx/remote/http_remote.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <deque>
#include <optional>
#include <random>

#include "dvx/base/strings.h"
#include "dvx/hash/md5.h"
#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"
#include "dvx/remote/s3_remote.h"
#include "dvx/remote/s3_sign.h"

namespace dvx::remote {

namespace fsx = dvx::platform;

namespace {

std::optional<std::string> opt_of(const RemoteOptions& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end()) return std::nullopt;
  return it->second;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string parent_of(const std::string& rel) {
  size_t slash = rel.rfind('/');
  return slash == std::string::npos ? "" : rel.substr(0, slash);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pure helpers.

namespace dav {

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int a = hex_value(s[i + 1]), b = hex_value(s[i + 2]);
      if (a >= 0 && b >= 0) {
        out.push_back(static_cast<char>(a * 16 + b));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string encode_path(std::string_view path) { return s3::uri_encode(path, false); }

std::vector<DavEntry> parse_multistatus(std::string_view xml) {
  // A small tag scanner: element names are compared without their namespace prefix.
  std::vector<DavEntry> out;
  std::optional<DavEntry> cur;
  size_t pos = 0;
  while ((pos = xml.find('<', pos)) != std::string_view::npos) {
    size_t end = xml.find('>', pos);
    if (end == std::string_view::npos) break;
    std::string_view tag = xml.substr(pos + 1, end - pos - 1);
    size_t text_start = end + 1;
    pos = end + 1;
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    bool closing = tag[0] == '/';
    if (closing) tag.remove_prefix(1);
    bool self_closing = !tag.empty() && tag.back() == '/';
    if (self_closing) tag.remove_suffix(1);
    std::string_view name = tag.substr(0, tag.find_first_of(" \t\r\n"));
    if (size_t colon = name.find(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
    if (name == "response") {
      if (!closing && !self_closing) {
        cur.emplace();
      } else if (closing && cur) {
        out.push_back(std::move(*cur));
        cur.reset();
      }
    } else if (name == "href" && cur) {
      if (!closing && !self_closing) {
        size_t close = xml.find('<', text_start);
        if (close == std::string_view::npos) break;
        // Entities decoded by the S3 XML helper, then percent-escapes.
        std::string raw = "<h>" + std::string(xml.substr(text_start, close - text_start)) + "</h>";
        std::string text = percent_decode(trim(s3::xml_text(raw, "h").value_or("")));
        if (size_t scheme = text.find("://"); scheme != std::string::npos) {
          size_t slash = text.find('/', scheme + 3);
          text = slash == std::string::npos ? "/" : text.substr(slash);
        }
        while (text.size() > 1 && text.back() == '/') text.pop_back();
        if (text == "/") text.clear();
        cur->path = std::move(text);
      }
    } else if (name == "collection" && cur && !closing) {
      cur->collection = true;
    }
  }
  return out;
}

Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options) {
  Settings s;
  size_t sep = url.find("://");
  if (sep == std::string::npos) return fail(ErrorCode::invalid_argument, "not an HTTP URL: " + url);
  std::string scheme = to_lower(url.substr(0, sep));
  std::string wire;
  if (scheme == "http" || scheme == "webdav") wire = "http";
  else if (scheme == "https" || scheme == "webdavs") wire = "https";
  else return fail(ErrorCode::invalid_argument, "not an HTTP URL: " + url);
  s.webdav = scheme.starts_with("webdav");
  std::string rest = url.substr(sep + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "" : rest.substr(slash);
  if (size_t q = path.find_first_of("?#"); q != std::string::npos) path.resize(q);
  std::string url_user;
  if (size_t at = authority.rfind('@'); at != std::string::npos) {
    std::string info = authority.substr(0, at);
    authority = authority.substr(at + 1);
    url_user = percent_decode(info.substr(0, info.find(':')));
    if (size_t colon = info.find(':'); colon != std::string::npos && !opt_of(options, "password"))
      s.password = percent_decode(info.substr(colon + 1));
  }
  if (authority.empty()) return fail(ErrorCode::invalid_argument, "no host in the remote URL " + scheme + "://" + rest.substr(rest.find('@') + 1));
  s.origin = wire + "://" + authority;
  s.root = percent_decode(path);
  while (!s.root.empty() && s.root.back() == '/') s.root.pop_back();
  s.display = scheme + "://" + authority + path;
  while (s.display.size() > scheme.size() + 3 + authority.size() && s.display.back() == '/') s.display.pop_back();

  s.user = opt_of(options, "user").value_or(url_user);
  if (auto p = opt_of(options, "password")) s.password = *p;
  s.custom_auth_header = opt_of(options, "custom_auth_header").value_or("");
  s.token = opt_of(options, "token").value_or("");
  if (auto a = opt_of(options, "auth")) {
    s.auth = to_lower(trim(*a));
    if (s.auth != "basic" && s.auth != "digest" && s.auth != "custom")
      return fail(ErrorCode::invalid_argument, "remote option 'auth' must be basic, digest or custom, not '" + *a + "'");
    if (s.auth == "custom" && s.custom_auth_header.empty())
      return fail(ErrorCode::invalid_argument, "remote option auth = custom needs 'custom_auth_header'");
  } else if (s.webdav) {
    if (!s.user.empty()) s.auth = "basic";
    else if (!s.custom_auth_header.empty()) s.auth = "custom";
  }
  if (auto m = opt_of(options, "method")) {
    std::string up;
    for (char c : std::string(trim(*m))) up.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    if (up != "POST" && up != "PUT")
      return fail(ErrorCode::invalid_argument, "remote option 'method' must be POST or PUT, not '" + *m + "'");
    s.method = up;
  }
  if (auto v = opt_of(options, "ssl_verify")) apply_ssl_verify(*v, s.ssl_verify, s.ca_bundle);
  s.cert_path = opt_of(options, "cert_path").value_or("");
  s.key_path = opt_of(options, "key_path").value_or("");
  auto seconds = [&](const char* key, long& out) -> Status {
    auto v = opt_of(options, key);
    if (!v) return {};
    char* end = nullptr;
    double d = std::strtod(v->c_str(), &end);
    if (end == v->c_str() || *end || d <= 0)
      return fail(ErrorCode::invalid_argument, std::string("remote option '") + key + "' must be a positive number of seconds");
    out = static_cast<long>(d + 0.999);
    return {};
  };
  if (auto r = seconds("timeout", s.read_timeout); !r) return std::unexpected(r.error());
  if (auto r = seconds("timeout", s.connect_timeout); !r) return std::unexpected(r.error());
  if (auto r = seconds("read_timeout", s.read_timeout); !r) return std::unexpected(r.error());
  if (auto r = seconds("connect_timeout", s.connect_timeout); !r) return std::unexpected(r.error());
  return s;
}

}  // namespace dav

// ---------------------------------------------------------------------------------------------
// Requests.

struct HttpRemote::Request : http::Request {};

namespace {

http::Options client_options(const dav::Settings& s) {
  http::Options o;
  o.connect_timeout = s.connect_timeout;
  o.read_timeout = s.read_timeout;
  o.ssl_verify = s.ssl_verify;
  o.ca_bundle = s.ca_bundle;
  o.attempts = s.attempts;
  if (s.auth == "basic" || s.auth == "digest") {
    o.auth = s.auth;
    o.user = s.user;
    o.password = s.password;
  }
  o.cert_path = s.cert_path;
  o.key_path = s.key_path;
  o.try_once_when_unreachable = true;
  return o;
}

}  // namespace

HttpRemote::HttpRemote(dav::Settings settings) : m_s(std::move(settings)), m_client(client_options(m_s)) {}

std::string HttpRemote::describe() const { return m_s.display; }

std::string HttpRemote::where(const std::string& rel) const {
  return rel.empty() ? m_s.display : m_s.display + "/" + rel;
}

std::string HttpRemote::url_of(const std::string& rel) const {
  std::string path = m_s.root + (rel.empty() ? "" : "/" + rel);
  return m_s.origin + dav::encode_path(path.empty() ? "/" : path);
}

Status HttpRemote::perform(Request& r) const {
  // Headers of every attempt that the request itself does not carry.
  auto extra = [&](const http::Request&) -> Result<http::Headers> {
    http::Headers h;
    if (!m_s.token.empty()) h.emplace_back("Authorization", "Bearer " + m_s.token);
    if (m_s.auth == "custom") h.emplace_back(m_s.custom_auth_header, m_s.password);
    if (r.read || r.body) h.emplace_back("Content-Type", "application/octet-stream");
    return h;
  };
  return m_client.perform(r, extra);
}

Error HttpRemote::status_error(const Request& r) const {
  if (r.status == 401 || r.status == 403) {
    std::string how = !m_s.token.empty()                                    ? "the token"
                      : m_s.auth == "custom"                                ? "the custom_auth_header and password"
                      : !m_s.auth.empty()                                   ? "the user and password"
                                                                            : "credentials (none are set)";
    return Error{ErrorCode::auth, "authentication failed for " + m_s.display + " (HTTP " + std::to_string(r.status) +
                                      " on " + r.method + "): check " + how +
                                      " with `dvx remote modify`"};
  }
  return Error{r.status == 404 ? ErrorCode::not_found : ErrorCode::io, r.what + ": HTTP " + std::to_string(r.status)};
}

Result<bool> HttpRemote::exists(const std::string& key) const {
  Request r;
  r.method = "HEAD";
  r.url = url_of(key);
  r.what = "HEAD " + where(key);
  if (auto p = perform(r); !p) return std::unexpected(p.error());
  if (r.status >= 200 && r.status < 300) return true;
  if (r.status == 404 || r.status == 410) return false;
  return std::unexpected(status_error(r));
}

Status HttpRemote::make_collections(const std::string& rel_dir) const {
  // The root first (a remote whose folder does not exist yet), then each level below it.
  std::vector<std::string> levels{""};
  for (auto& part : split(rel_dir, '/'))
    if (!part.empty()) levels.push_back(levels.back() + (levels.back().empty() ? "" : "/") + part);
  for (auto& cur : levels) {
    if (cur.empty() && m_s.root.empty()) continue;
    {
      std::lock_guard<std::mutex> lock(m_dirs_mutex);
      if (m_dirs.count(cur)) continue;
    }
    Request r;
    r.method = "MKCOL";
    r.url = url_of(cur) + "/";
    r.what = "MKCOL " + where(cur);
    if (auto p = perform(r); !p) return p;
    if (cur.empty() && r.status == 409) {  // the root's parent is missing too: make them all
      std::string path;
      for (auto& seg : split(m_s.root, '/')) {
        if (seg.empty()) continue;
        path += "/" + seg;
        Request a;
        a.method = "MKCOL";
        a.url = m_s.origin + dav::encode_path(path) + "/";
        a.what = "MKCOL " + m_s.origin + path;
        if (auto p = perform(a); !p) return p;
        if (a.status == 401 || a.status == 403) return std::unexpected(status_error(a));
      }
      r.status = 405;
    }
    // 201 created; 405 (or 301 redirect to the slash form) when it already exists.
    if (!(r.status >= 200 && r.status < 300) && r.status != 405 && r.status != 301)
      return std::unexpected(status_error(r));
    std::lock_guard<std::mutex> lock(m_dirs_mutex);
    m_dirs.insert(cur);
  }
  return {};
}

Status HttpRemote::upload(const std::string& local_path, const std::string& rel, const std::string& method,
                          const odb::ObjectId* verify, long& status) const {
  auto body = http::FileBody::open(local_path);
  if (!body) return std::unexpected(body.error());
  Request r;
  r.method = method;
  r.url = url_of(rel);
  r.what = method + " " + where(rel);
  if (auto a = (*body)->attach(r, verify); !a) return a;
  if (auto p = perform(r); !p) return p;
  status = r.status;
  if (r.status >= 200 && r.status < 300) return {};
  if (r.status == 409 && m_s.webdav) return {};  // a missing parent collection: the caller makes it
  return std::unexpected(status_error(r));
}

Status HttpRemote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  long status = 0;
  if (!m_s.webdav) return upload(local_path, key, m_s.method, verify, status);
  static std::atomic<uint64_t> counter{0};
  static const uint64_t salt = std::random_device{}();
  std::string dir = parent_of(key);
  std::string base = key.substr(dir.empty() ? 0 : dir.size() + 1);
  std::string tmp = (dir.empty() ? "" : dir + "/") + "." + base + ".dvxtmp." + std::to_string(::getpid()) + "." +
                    std::to_string(salt % 1000000) + "." + std::to_string(counter++);
  bool known;
  {
    std::lock_guard<std::mutex> lock(m_dirs_mutex);
    known = m_dirs.count(dir) > 0;
  }
  if (!known)
    if (auto m = make_collections(dir); !m) return m;
  if (auto u = upload(local_path, tmp, "PUT", verify, status); !u) {
    if (u.error().code == ErrorCode::corruption) {
      Request d;
      d.method = "DELETE";
      d.url = url_of(tmp);
      d.what = "DELETE " + where(tmp);
      (void)perform(d);
    }
    return u;
  }
  if (status == 409) {  // the collection was removed meanwhile
    {
      std::lock_guard<std::mutex> lock(m_dirs_mutex);
      m_dirs.clear();
    }
    if (auto m = make_collections(dir); !m) return m;
    if (auto u = upload(local_path, tmp, "PUT", verify, status); !u) return u;
    if (status == 409) return fail(ErrorCode::io, "PUT " + where(tmp) + ": HTTP 409 (conflict) after creating the collections");
  }
  Request mv;
  mv.method = "MOVE";
  mv.url = url_of(tmp);
  mv.what = "MOVE " + where(tmp) + " to " + where(key);
  mv.headers = {{"Destination", url_of(key)}, {"Overwrite", "T"}};
  auto p = perform(mv);
  if (p && mv.status >= 200 && mv.status < 300) return {};
  Request d;
  d.method = "DELETE";
  d.url = url_of(tmp);
  d.what = "DELETE " + where(tmp);
  (void)perform(d);
  if (!p) return p;
  // A retried MOVE whose first attempt moved the object finds no source: the object is there.
  if (mv.status == 404)
    if (auto e = exists(key); e && *e) return {};
  return std::unexpected(status_error(mv));
}

Result<bool> HttpRemote::get(const std::string& key, const std::string& local_path,
                             const platform::ByteObserver& observe) const {
  Request r;
  r.method = "GET";
  r.url = url_of(key);
  r.what = "GET " + where(key);
  auto p = http::download(r, local_path, observe, [&](Request& q) { return perform(q); },
                          [](long status) { return status >= 200 && status < 300; });
  if (!p) return std::unexpected(p.error());
  if (r.status == 404 || r.status == 410) return false;
  if (r.status < 200 || r.status >= 300) return std::unexpected(status_error(r));
  return true;
}

Result<std::vector<std::string>> HttpRemote::list(const std::string& prefix) const {
  if (!m_s.webdav)
    return fail(ErrorCode::invalid_argument,
                "cannot list " + m_s.display + ": plain HTTP remotes cannot be listed (objects are checked one by one)");
  std::string start = prefix;
  while (!start.empty() && start.back() == '/') start.pop_back();
  std::vector<std::string> out;
  std::deque<std::string> todo{start};
  const std::string root = m_s.root;
  while (!todo.empty()) {
    std::string dir = std::move(todo.front());
    todo.pop_front();
    Request r;
    r.method = "PROPFIND";
    r.url = url_of(dir) + "/";
    r.what = "PROPFIND " + where(dir);
    r.headers = {{"Depth", "1"}};
    std::string body;
    r.sink = [&](std::string_view bytes) {
      body.append(bytes);
      return true;
    };
    if (auto p = perform(r); !p) return std::unexpected(p.error());
    if (r.status == 404) {
      if (dir == start) return out;  // a missing prefix lists as empty
      continue;                      // removed while listed
    }
    if (r.status != 207 && r.status != 200) return std::unexpected(status_error(r));
    std::string self = root + (dir.empty() ? "" : "/" + dir);
    for (auto& e : dav::parse_multistatus(body)) {
      if (e.path == self || !e.path.starts_with(root + "/")) continue;
      std::string rel = e.path.substr(root.size() + 1);
      if (!dir.empty() && !rel.starts_with(dir + "/")) continue;
      if (e.collection) todo.push_back(rel);
      else out.push_back(rel);
    }
  }
  return out;
}

Status HttpRemote::remove(const std::string& key) const {
  Request r;
  r.method = "DELETE";
  r.url = url_of(key);
  r.what = "DELETE " + where(key);
  if (auto p = perform(r); !p) return p;
  if (r.status >= 200 && r.status < 300) return {};
  return std::unexpected(status_error(r));
}

}  // namespace dvx::remote
