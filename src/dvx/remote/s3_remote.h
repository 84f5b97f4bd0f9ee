// An S3 (or S3-compatible) remote: `s3://bucket/prefix`, objects under `<prefix>/files/md5/…`
// exactly as the local remote lays them out. Requests are path-style
// (`<endpoint>/<bucket>/<key>`) against `endpointurl` (default https://s3.<region>.amazonaws.com),
// signed with SigV4 (s3_sign.h) and sent with libcurl, which is loaded with dlopen on the first
// request (like libgit2: commands that never touch S3 pay nothing for it).
//   exists = HEAD; put = PUT streamed from the file (multipart upload from
//   `DVX_S3_MULTIPART_THRESHOLD` bytes, default 8 MiB, parts of `DVX_S3_MULTIPART_CHUNKSIZE`);
//   get = GET streamed to the file; list = ListObjectsV2 page by page; remove = DELETE.
// Credentials: the remote's options (access_key_id/secret_access_key/session_token), else the
// environment (AWS_ACCESS_KEY_ID/…), else the profile (option `profile`, else AWS_PROFILE, else
// `default`) of the credentials file (`credentialpath`, AWS_SHARED_CREDENTIALS_FILE,
// ~/.aws/credentials) and of the config file (`configpath`, AWS_CONFIG_FILE, ~/.aws/config).
// Transient failures (connection errors, timeouts, HTTP 5xx, 429) are retried with backoff.
// Messages name the request and the object, never a secret.
// Thread-safety: safe for concurrent use (each request takes a curl handle from a pool).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/remote/http_client.h"
#include "dvx/remote/remote.h"

namespace dvx::remote {

namespace s3 {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  bool anonymous = false;  // allow_anonymous_login with no keys: requests are not signed
};

struct Settings {
  std::string bucket;
  std::string prefix;    // without leading or trailing '/'; "" at the bucket's root
  std::string endpoint;  // scheme://host[:port] (no trailing '/')
  std::string region = "us-east-1";
  Credentials credentials;
  bool ssl_verify = true;
  std::string ca_bundle;  // ssl_verify given as a path
  long connect_timeout = 60, read_timeout = 60;
  uint64_t multipart_threshold = 8ull << 20;
  uint64_t part_size = 8ull << 20;
  int attempts = 5;  // per request, with backoff between them
  std::vector<std::pair<std::string, std::string>> upload_headers;  // sse, acl, grants
};

// The settings of an `s3://` URL with the remote's options, the environment and the AWS files.
// `env` looks a variable up (getenv in production). Errors name the missing or wrong setting.
Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env);

// ListObjectsV2 response: keys (XML entities decoded), and the continuation token when truncated.
struct ListPage {
  std::vector<std::string> keys;
  std::optional<std::string> next_token;
};
ListPage parse_list_page(std::string_view xml);
// "<Code>: <Message>" of an S3 error body ("" when it has none).
std::string parse_error(std::string_view xml);
// The text of the first <tag>…</tag>, entities decoded.
std::optional<std::string> xml_text(std::string_view xml, std::string_view tag);

}  // namespace s3

class S3Remote final : public Remote {
 public:
  explicit S3Remote(s3::Settings settings);
  ~S3Remote() override;
  std::string describe() const override;
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<SmallRead> get_small(const std::string& key, size_t limit, std::string& out) const override;
  uint64_t small_put_limit() const override;
  Status put_small(const std::string& key, std::string& bytes) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;

  struct Call;  // one request (s3_remote.cpp)

 private:
  std::string bucket_path() const;                        // "/bucket", encoded
  std::string object_path(const std::string& key) const;  // "/bucket/prefix/key", encoded
  std::string where(const std::string& key) const;         // "s3://bucket/prefix/key"
  Status perform(Call& call) const;
  // One PUT of a whole object under `key`; `attach_body` gives the request its body.
  Status put_whole(const std::string& key, const std::function<Status(Call&)>& attach_body) const;
  Status put_multipart(const std::string& local_path, const std::string& key, uint64_t size,
                       const odb::ObjectId* verify) const;
  // A 404 from HEAD does not say whether the object or the bucket is missing: the bucket is
  // checked once per remote, so a missing bucket is an error rather than "absent".
  Status check_bucket() const;

  s3::Settings m_s;
  std::string m_host;  // Host header: host[:port]
  http::Client m_client;  // curl handles pooled (connections kept alive), retries
  mutable std::mutex m_key_mutex;
  mutable std::string m_key_day, m_key;  // the SigV4 signing key of m_key_day (under m_key_mutex)
  mutable std::once_flag m_bucket_once;
  mutable Status m_bucket_status;
};

}  // namespace dvx::remote
