// HTTP(S) and WebDAV remotes: `http://`, `https://` (plain HTTP, DVC's http remote) and
// `webdav://`, `webdavs://` (http:// and https:// on the wire). Objects are `<url>/files/md5/…`,
// the local remote's layout. One class with a mode:
//   WebDAV: exists = HEAD; put = PUT to a temporary name in the same collection, then MOVE
//   (Overwrite: T) to the final name, after MKCOL of the root and each parent collection not
//   yet known to exist (405 = exists; the known ones are remembered, forgotten on a 409);
//   get = GET streamed to the file;
//   list = PROPFIND Depth: 1, collection by collection; remove = DELETE.
//   Plain HTTP: exists = HEAD; put = the `method` option (POST by default, as DVC) straight to
//   the object's URL; get = GET; list is not possible (an error: callers query objects one by
//   one); remove = DELETE.
// Options (DVC's `remote modify` keys): auth (basic/digest/custom, plain HTTP), user, password,
// custom_auth_header (a header carrying the password), token (WebDAV bearer token), ssl_verify
// (bool or CA bundle path), cert_path/key_path, method, connect_timeout, read_timeout, timeout.
// A user in the URL (`webdav://user@host/…`) is used when the `user` option is not set.
// Transient failures (connection errors, timeouts, HTTP 5xx, 429) are retried with backoff
// (3 attempts). 401/403 is an `auth` error naming the URL; messages never hold the password.
// libcurl is loaded with dlopen on the first request; each thread keeps one curl easy handle
// (thread_local), so connections are reused. Thread-safety: safe for concurrent use.
#pragma once

#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/remote/http_client.h"
#include "dvx/remote/remote.h"

namespace dvx::remote {

namespace dav {

struct Settings {
  bool webdav = false;
  std::string display;    // the URL as given, without user information (messages, describe())
  std::string origin;     // http[s]://host[:port]
  std::string root;       // decoded path of the remote's root: "" or "/a/b" (no trailing '/')
  std::string auth;       // "", "basic", "digest", "custom" (WebDAV with a user: "basic")
  std::string user, password, custom_auth_header, token;
  std::string method = "POST";  // upload method of plain HTTP remotes
  bool ssl_verify = true;
  std::string ca_bundle, cert_path, key_path;
  long connect_timeout = 60, read_timeout = 60;
  int attempts = 3;
};

// Settings of an http(s):// or webdav(s):// URL with the remote's options. Errors name the
// wrong option.
Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options);

// "%41b%20c" -> "Ab c" (invalid escapes are kept as they are).
std::string percent_decode(std::string_view s);
// A decoded path with each segment percent-encoded ('/' kept): "/a b/ü" -> "/a%20b/%C3%BC".
std::string encode_path(std::string_view path);

// One <response> of a DAV multistatus: its href decoded to a path (scheme and host removed,
// no trailing '/'), and whether it is a collection.
struct DavEntry {
  std::string path;
  bool collection = false;
};
std::vector<DavEntry> parse_multistatus(std::string_view xml);

}  // namespace dav

class HttpRemote final : public Remote {
 public:
  explicit HttpRemote(dav::Settings settings);
  std::string describe() const override;
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;

  struct Request;  // one HTTP request (http_remote.cpp)

 private:
  std::string url_of(const std::string& rel) const;    // origin + encoded root/rel
  std::string where(const std::string& rel) const;     // display URL of rel
  Status perform(Request& r) const;
  Error status_error(const Request& r) const;
  Status make_collections(const std::string& rel_dir) const;  // MKCOL root/... down to rel_dir
  Status upload(const std::string& local_path, const std::string& rel, const std::string& method,
                const odb::ObjectId* verify, long& status) const;

  dav::Settings m_s;
  mutable std::mutex m_dirs_mutex;
  mutable std::set<std::string> m_dirs;  // collections known to exist (relative to the root)
  http::Client m_client;  // curl handles pooled, retries (3 attempts; one once unreachable)
};

}  // namespace dvx::remote
