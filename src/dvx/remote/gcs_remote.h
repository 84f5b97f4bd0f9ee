// A Google Cloud Storage remote: `gs://bucket/prefix`, objects under `<prefix>/files/md5/…`
// exactly as the local remote lays them out, through the GCS JSON API over libcurl
// (http_client.h) at `endpointurl` (else $STORAGE_EMULATOR_HOST, else
// https://storage.googleapis.com):
//   exists = GET object metadata; put = one `uploadType=media` POST streamed from the file, or
//   from `DVX_GCS_RESUMABLE_THRESHOLD` bytes (default 8 MiB) a resumable upload in chunks of
//   `DVX_GCS_CHUNK_SIZE` (rounded to 256 KiB; nothing is visible before the last chunk);
//   get = `alt=media` GET streamed to the file; list = objects.list with prefix, page by page
//   (pageToken); remove = DELETE.
// Credentials: OAuth2 from a service-account key file (a JWT signed RS256 and exchanged at the
// file's token_uri) or a gcloud `authorized_user` file (refresh token), from `credentialpath`,
// else $GOOGLE_APPLICATION_CREDENTIALS, else gcloud's application_default_credentials.json;
// the access token is cached and renewed a minute before it expires (or on a 401).
// `allow_anonymous_login` sends requests without a token (public buckets).
// Messages name the request and the object, never a key or a token.
// Thread-safety: safe for concurrent use (a pool of connections; the token behind a mutex).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/remote/http_client.h"
#include "dvx/remote/remote.h"

namespace dvx::remote {

namespace gcs {

struct Credentials {
  enum class Kind { anonymous, service_account, authorized_user } kind = Kind::anonymous;
  std::string origin;  // the file they came from (for messages)
  std::string client_email, private_key, private_key_id;  // service_account
  std::string client_id, client_secret, refresh_token;     // authorized_user
  std::string token_uri = "https://oauth2.googleapis.com/token";
};

struct Settings {
  std::string bucket;
  std::string prefix;    // without leading or trailing '/'; "" at the bucket's root
  std::string endpoint;  // scheme://host[:port][/path] (no trailing '/')
  Credentials credentials;
  http::Options http;
  uint64_t resumable_threshold = 8ull << 20;
  uint64_t chunk_size = 8ull << 20;  // a multiple of 256 KiB
  int list_page = 1000;
};

// The settings of a `gs://` URL with the remote's options and the environment (`env` looks a
// variable up). Errors say which setting is missing or wrong, never a secret.
Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env);
// A service-account key file or gcloud authorized-user file (JSON).
Result<Credentials> parse_credentials(std::string_view json, const std::string& origin);

// The signed JWT (RS256) a service account exchanges for an access token: header {alg, typ,
// kid}, claims {iss, scope, aud = token_uri, iat = now, exp = now + 3600}.
Result<std::string> service_account_jwt(const Credentials& c, int64_t now, std::string_view scope);
inline constexpr std::string_view kScope = "https://www.googleapis.com/auth/devstorage.read_write";

// One objects.list page: names and the next page token.
struct ListPage {
  std::vector<std::string> names;
  std::optional<std::string> next_token;
};
Result<ListPage> parse_list_page(std::string_view json);

}  // namespace gcs

class GcsRemote final : public Remote {
 public:
  explicit GcsRemote(gcs::Settings settings);
  std::string describe() const override;
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<SmallRead> get_small(const std::string& key, size_t limit, std::string& out) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;

 private:
  std::string object_name(const std::string& key) const;  // "prefix/key"
  std::string object_url(const std::string& key, const std::string& query) const;
  std::string where(const std::string& key) const;  // "gs://bucket/prefix/key"
  // Sends with a bearer token; a 401 renews the token and sends once more.
  Status perform(http::Request& req) const;
  Result<std::string> access_token(bool renew) const;
  Error http_error(const http::Request& req) const;
  Status put_resumable(const std::string& local_path, const std::string& key, uint64_t size,
                       const odb::ObjectId* verify) const;
  // A 404 does not say whether the object or the bucket is missing: the bucket is checked
  // once per remote.
  Status check_bucket() const;

  gcs::Settings m_s;
  http::Client m_client;
  mutable std::mutex m_token_mutex;
  mutable std::string m_token;
  mutable std::chrono::steady_clock::time_point m_token_expiry{};
  mutable std::once_flag m_bucket_once;
  mutable Status m_bucket_status;
};

}  // namespace dvx::remote
