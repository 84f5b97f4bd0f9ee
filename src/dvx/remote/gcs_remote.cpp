#include "dvx/remote/gcs_remote.h"

#include <cstdlib>
#include <ctime>
#include <nlohmann/json.hpp>

#include "dvx/base/base64.h"
#include "dvx/base/strings.h"
#include "dvx/hash/sha256.h"
#include "dvx/platform/files.h"
#include "dvx/remote/s3_sign.h"  // s3::uri_encode: the same percent-encoding

namespace dvx::remote {

namespace fsx = dvx::platform;
using json = nlohmann::json;

namespace gcs {

namespace {

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

}  // namespace

Result<Credentials> parse_credentials(std::string_view text, const std::string& origin) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return fail(ErrorCode::auth, "Google credentials file '" + origin + "' is not JSON");
  Credentials c;
  c.origin = origin;
  std::string type = str(j, "type");
  if (!str(j, "token_uri").empty()) c.token_uri = str(j, "token_uri");
  if (type == "service_account") {
    c.kind = Credentials::Kind::service_account;
    c.client_email = str(j, "client_email");
    c.private_key = str(j, "private_key");
    c.private_key_id = str(j, "private_key_id");
    if (c.client_email.empty() || c.private_key.empty())
      return fail(ErrorCode::auth, "Google service-account file '" + origin + "' lacks client_email or private_key");
  } else if (type == "authorized_user") {
    c.kind = Credentials::Kind::authorized_user;
    c.client_id = str(j, "client_id");
    c.client_secret = str(j, "client_secret");
    c.refresh_token = str(j, "refresh_token");
    if (c.client_id.empty() || c.refresh_token.empty())
      return fail(ErrorCode::auth, "Google credentials file '" + origin + "' lacks client_id or refresh_token");
  } else {
    return fail(ErrorCode::auth, "Google credentials file '" + origin + "' has type '" + type +
                                     "': dvx reads service_account and authorized_user credentials");
  }
  if (!c.token_uri.starts_with("http://") && !c.token_uri.starts_with("https://"))
    return fail(ErrorCode::auth, "Google credentials file '" + origin + "': token_uri is not an http(s) URL");
  return c;
}

Result<std::string> service_account_jwt(const Credentials& c, int64_t now, std::string_view scope) {
  json header = {{"alg", "RS256"}, {"typ", "JWT"}};
  if (!c.private_key_id.empty()) header["kid"] = c.private_key_id;
  json claims = {{"iss", c.client_email}, {"scope", std::string(scope)}, {"aud", c.token_uri},
                 {"iat", now}, {"exp", now + 3600}};
  std::string signing_input = base64_encode(header.dump(), true) + "." + base64_encode(claims.dump(), true);
  auto sig = hash::rsa_sha256_sign(c.private_key, signing_input);
  if (!sig) return fail(ErrorCode::auth, "Google service-account file '" + c.origin + "': " + sig.error().message);
  return signing_input + "." + base64_encode(*sig, true);
}

Result<ListPage> parse_list_page(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(ErrorCode::io, "the object list is not JSON");
  ListPage page;
  if (auto it = j.find("items"); it != j.end() && it->is_array())
    for (auto& item : *it)
      if (item.is_object()) page.names.push_back(str(item, "name"));
  std::string token = str(j, "nextPageToken");
  if (!token.empty()) page.next_token = std::move(token);
  return page;
}

Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env) {
  Settings s;
  if (!url.starts_with("gs://")) return fail(ErrorCode::invalid_argument, "not a gs:// URL: " + url);
  auto [bucket, prefix] = http::split_location(std::string_view(url).substr(5));
  s.bucket = bucket;
  s.prefix = prefix;
  if (s.bucket.empty()) return fail(ErrorCode::invalid_argument, "gs remote URL without a bucket: " + url);
  http::SettingsReader read(options, env);
  auto opt = [&](const char* k) { return read.option(k); };
  auto envs = [&](const char* k) { return read.env(k); };
  if (auto e = opt("endpointurl")) s.endpoint = *e;
  else if (auto h = envs("STORAGE_EMULATOR_HOST")) s.endpoint = h->find("://") == std::string::npos ? "http://" + *h : *h;
  else s.endpoint = "https://storage.googleapis.com";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://"))
    return fail(ErrorCode::invalid_argument, "gs remote '" + url + "': endpointurl must start with http:// or https://");

  bool anonymous = read.flag("allow_anonymous_login");
  std::optional<std::string> path = opt("credentialpath");
  if (!path) path = envs("GOOGLE_APPLICATION_CREDENTIALS");
  if (!path && !anonymous) {
    std::string dir = envs("CLOUDSDK_CONFIG").value_or(envs("HOME").value_or("") + "/.config/gcloud");
    std::string adc = dir + "/application_default_credentials.json";
    if (fsx::stat_path(adc).type == fsx::FileType::regular) path = adc;
  }
  if (path && !anonymous) {
    auto text = fsx::read_file(*path);
    if (!text) return fail(ErrorCode::auth, "gs remote '" + url + "': cannot read the credentials file '" + *path + "'");
    auto c = parse_credentials(*text, *path);
    if (!c) return std::unexpected(c.error());
    s.credentials = std::move(*c);
  } else if (!anonymous) {
    return fail(ErrorCode::auth,
                "unable to find Google credentials for '" + url +
                    "': set credentialpath with 'dvx remote modify' or the environment variable "
                    "GOOGLE_APPLICATION_CREDENTIALS to a service-account key file (or allow_anonymous_login for a "
                    "public bucket)");
  }
  auto number = [](const std::optional<std::string>& v, auto fallback) { return http::SettingsReader::number(v, fallback); };
  s.http.attempts = number(envs("DVX_GCS_ATTEMPTS"), s.http.attempts);
  s.resumable_threshold = number(envs("DVX_GCS_RESUMABLE_THRESHOLD"), s.resumable_threshold);
  constexpr uint64_t kQuantum = 256 << 10;
  s.chunk_size = (number(envs("DVX_GCS_CHUNK_SIZE"), s.chunk_size) + kQuantum - 1) / kQuantum * kQuantum;
  s.list_page = number(envs("DVX_GCS_LIST_PAGE"), s.list_page);
  return s;
}

}  // namespace gcs

// ---------------------------------------------------------------------------------------------

namespace {

// The reason and message of a JSON API error body ({"error": {"code", "message", "errors"}})
// or of an OAuth2 error ({"error": "invalid_grant", "error_description": ...}).
std::string error_detail(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "";
  auto e = j.find("error");
  if (e == j.end()) return "";
  if (e->is_string()) {
    std::string d = j.value("error_description", "");
    return e->get<std::string>() + (d.empty() ? "" : ": " + d);
  }
  if (!e->is_object()) return "";
  std::string reason;
  if (auto errs = e->find("errors"); errs != e->end() && errs->is_array() && !errs->empty() && (*errs)[0].is_object())
    reason = (*errs)[0].value("reason", "");
  std::string msg = e->value("message", "");
  return reason.empty() ? msg : reason + (msg.empty() ? "" : ": " + msg);
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (auto& [k, v] : fields) out += (out.empty() ? "" : "&") + s3::uri_encode(k, true) + "=" + s3::uri_encode(v, true);
  return out;
}

}  // namespace

GcsRemote::GcsRemote(gcs::Settings settings) : m_s(std::move(settings)), m_client(m_s.http) {}

std::string GcsRemote::describe() const { return "gs://" + m_s.bucket + (m_s.prefix.empty() ? "" : "/" + m_s.prefix); }

std::string GcsRemote::where(const std::string& key) const { return describe() + (key.empty() ? "" : "/" + key); }

std::string GcsRemote::object_name(const std::string& key) const { return m_s.prefix.empty() ? key : m_s.prefix + "/" + key; }

std::string GcsRemote::object_url(const std::string& key, const std::string& query) const {
  return m_s.endpoint + "/storage/v1/b/" + s3::uri_encode(m_s.bucket, true) + "/o/" +
         s3::uri_encode(object_name(key), true) + (query.empty() ? "" : "?" + query);
}

Result<std::string> GcsRemote::access_token(bool renew) const {
  using clock = std::chrono::steady_clock;
  std::lock_guard<std::mutex> lock(m_token_mutex);
  if (!renew && !m_token.empty() && clock::now() + std::chrono::seconds(60) < m_token_expiry) return m_token;
  const gcs::Credentials& c = m_s.credentials;
  http::Request r;
  r.method = "POST";
  r.url = c.token_uri;
  r.what = "POST (access token) " + c.token_uri;
  r.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  if (c.kind == gcs::Credentials::Kind::service_account) {
    auto jwt = gcs::service_account_jwt(c, static_cast<int64_t>(std::time(nullptr)), gcs::kScope);
    if (!jwt) return std::unexpected(jwt.error());
    r.body = form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"}, {"assertion", *jwt}});
  } else {
    r.body = form_encode({{"grant_type", "refresh_token"}, {"client_id", c.client_id},
                          {"client_secret", c.client_secret}, {"refresh_token", c.refresh_token}});
  }
  r.detail = [](const http::Request& q) { return error_detail(q.response); };
  if (auto st = m_client.perform(r); !st) return std::unexpected(st.error());
  std::string who = c.kind == gcs::Credentials::Kind::service_account ? c.client_email : "the authorized user of '" + c.origin + "'";
  if (r.status != 200) {
    std::string detail = error_detail(r.response);
    return fail(ErrorCode::auth, "authentication failed: " + c.token_uri + " refused an access token for " + who +
                                     " (HTTP " + std::to_string(r.status) + (detail.empty() ? "" : " " + detail) +
                                     "): check the credentials file '" + c.origin + "'");
  }
  json j = json::parse(r.response, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("access_token") || !j["access_token"].is_string())
    return fail(ErrorCode::auth, r.what + ": no access_token in the answer");
  m_token = j["access_token"].get<std::string>();
  long lifetime = j.contains("expires_in") && j["expires_in"].is_number() ? j["expires_in"].get<long>() : 3600;
  m_token_expiry = clock::now() + std::chrono::seconds(lifetime);
  return m_token;
}

Status GcsRemote::perform(http::Request& req) const {
  req.detail = [](const http::Request& q) { return error_detail(q.response); };
  bool anonymous = m_s.credentials.kind == gcs::Credentials::Kind::anonymous;
  bool renew = false;
  for (int round = 0; round < 2; ++round) {
    http::Signer sign;
    if (!anonymous) {
      sign = [&](const http::Request&) -> Result<http::Headers> {
        auto token = access_token(renew);
        if (!token) return std::unexpected(token.error());
        return http::Headers{{"Authorization", "Bearer " + *token}};
      };
    }
    if (auto st = m_client.perform(req, sign); !st) return st;
    if (req.status != 401 || anonymous) return {};
    renew = true;  // the token expired or was revoked: one more time with a new one
  }
  return {};
}

Error GcsRemote::http_error(const http::Request& r) const {
  std::string detail = error_detail(r.response);
  std::string d = detail.empty() ? "" : " " + detail;
  if (r.status == 401 || r.status == 403)
    return Error{ErrorCode::auth, r.what + ": authentication failed at " + m_s.endpoint + " (HTTP " +
                                      std::to_string(r.status) + d + "): check the credentials of this remote (credentialpath)"};
  return Error{r.status == 404 ? ErrorCode::not_found : ErrorCode::io, r.what + ": HTTP " + std::to_string(r.status) + d};
}

Status GcsRemote::check_bucket() const {
  std::call_once(m_bucket_once, [&] {
    http::Request r;
    r.method = "GET";
    r.url = m_s.endpoint + "/storage/v1/b/" + s3::uri_encode(m_s.bucket, true) + "?fields=name";
    r.what = "GET gs://" + m_s.bucket;
    if (auto st = perform(r); !st) m_bucket_status = st;
    else if (r.status == 404)
      m_bucket_status = fail(ErrorCode::not_found, "bucket '" + m_s.bucket + "' does not exist at " + m_s.endpoint);
    else if (r.status >= 300)
      m_bucket_status = std::unexpected(http_error(r));
  });
  return m_bucket_status;
}

Result<bool> GcsRemote::exists(const std::string& key) const {
  http::Request r;
  r.method = "GET";
  r.url = object_url(key, "fields=name");
  r.what = "GET (metadata) " + where(key);
  if (auto st = perform(r); !st) return std::unexpected(st.error());
  if (r.status == 200) return true;
  if (r.status == 404) {
    if (auto b = check_bucket(); !b) return std::unexpected(b.error());
    return false;
  }
  return std::unexpected(http_error(r));
}

Status GcsRemote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  auto body = http::FileBody::open(local_path);
  if (!body) return std::unexpected(body.error());
  uint64_t size = (*body)->size();
  if (size >= m_s.resumable_threshold && size > m_s.chunk_size) return put_resumable(local_path, key, size, verify);
  http::Request r;
  r.method = "POST";
  r.url = m_s.endpoint + "/upload/storage/v1/b/" + s3::uri_encode(m_s.bucket, true) +
          "/o?uploadType=media&name=" + s3::uri_encode(object_name(key), true);
  r.what = "POST (upload) " + where(key);
  r.headers = {{"Content-Type", "application/octet-stream"}};
  if (auto st = (*body)->attach(r, verify); !st) return st;
  if (auto st = perform(r); !st) return st;
  if (r.status != 200 && r.status != 201) return std::unexpected(http_error(r));
  return {};
}

Status GcsRemote::put_resumable(const std::string& local_path, const std::string& key, uint64_t size,
                                const odb::ObjectId* verify) const {
  auto file = http::FileBody::open(local_path);
  if (!file) return std::unexpected(file.error());
  http::Request init;
  init.method = "POST";
  init.url = m_s.endpoint + "/upload/storage/v1/b/" + s3::uri_encode(m_s.bucket, true) +
             "/o?uploadType=resumable&name=" + s3::uri_encode(object_name(key), true);
  init.what = "POST (start resumable upload) " + where(key);
  init.headers = {{"X-Upload-Content-Type", "application/octet-stream"},
                  {"X-Upload-Content-Length", std::to_string(size)},
                  {"Content-Type", "application/json; charset=UTF-8"}};
  init.body = "{}";
  if (auto st = perform(init); !st) return st;
  if (init.status != 200 && init.status != 201) return std::unexpected(http_error(init));
  auto session = init.header("location");
  if (!session || session->empty()) return fail(ErrorCode::io, init.what + ": no Location in the answer");
  auto cancel = [&] {
    http::Request d;
    d.method = "DELETE";
    d.url = *session;
    d.what = "DELETE (cancel upload) " + where(key);
    (void)perform(d);
  };
  std::optional<hash::DigestStream> digest;
  if (verify) digest.emplace(odb::content_algorithm(*verify));
  uint64_t hashed = 0, offset = 0;
  std::string buf;
  while (true) {
    size_t len = static_cast<size_t>(std::min<uint64_t>(m_s.chunk_size, size - offset));
    if (auto st = (*file)->read_at(offset, len, buf); !st) {
      cancel();
      return st;
    }
    if (digest && offset + len > hashed) {
      digest->update(buf.data() + (hashed - offset), static_cast<size_t>(offset + len - hashed));
      hashed = offset + len;
    }
    bool last = offset + len == size;
    if (last && digest) {
      std::string d = digest->hex_digest();
      if (d != odb::content_digest(*verify)) {
        cancel();
        return std::unexpected(odb::corrupted(local_path, *verify, d));
      }
    }
    http::Request p;
    p.method = "PUT";
    p.url = *session;
    p.what = "PUT (upload bytes " + std::to_string(offset) + "-" + std::to_string(offset + len) + ") " + where(key);
    p.headers = {{"Content-Range", "bytes " + std::to_string(offset) + "-" + std::to_string(offset + len - 1) + "/" +
                                       std::to_string(size)}};
    p.body = std::move(buf);
    auto st = perform(p);
    buf = std::move(*p.body);
    if (!st) {
      cancel();
      return st;
    }
    if (p.status == 200 || p.status == 201) return {};
    if (p.status != 308) {
      cancel();
      return std::unexpected(http_error(p));
    }
    // Resume after what the service says it has ("Range: bytes=0-N"), which may be less than
    // what was sent.
    uint64_t next = 0;
    if (auto range = p.header("range"); range && range->find('-') != std::string::npos)
      next = std::strtoull(range->substr(range->find('-') + 1).c_str(), nullptr, 10) + 1;
    if (last && next >= size) return fail(ErrorCode::io, p.what + ": the service has every byte but did not finish the upload");
    offset = next;
  }
}

Result<bool> GcsRemote::get(const std::string& key, const std::string& local_path,
                            const platform::ByteObserver& observe) const {
  http::Request r;
  r.method = "GET";
  r.url = object_url(key, "alt=media");
  r.what = "GET " + where(key);
  auto st = http::download(r, local_path, observe, [&](http::Request& q) { return perform(q); });
  if (!st) return std::unexpected(st.error());
  if (r.status == 404) {
    if (auto b = check_bucket(); !b) return std::unexpected(b.error());
    return false;
  }
  if (r.status != 200) return std::unexpected(http_error(r));
  return true;
}

Result<Remote::SmallRead> GcsRemote::get_small(const std::string& key, size_t limit, std::string& out) const {
  bool too_big = false;
  http::Request r;
  r.method = "GET";
  r.url = object_url(key, "alt=media");
  r.what = "GET " + where(key);
  auto st = http::read_small(r, limit, out, too_big, [&](http::Request& q) { return perform(q); });
  if (!st) return std::unexpected(st.error());
  if (too_big) return SmallRead::too_big;
  if (r.status == 404) {
    if (auto b = check_bucket(); !b) return std::unexpected(b.error());
    return SmallRead::absent;
  }
  if (r.status != 200) return std::unexpected(http_error(r));
  return SmallRead::read;
}

Result<std::vector<std::string>> GcsRemote::list(const std::string& prefix) const {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  std::string root = m_s.prefix.empty() ? "" : m_s.prefix + "/";
  std::vector<std::string> out;
  std::optional<std::string> token;
  do {
    std::vector<std::pair<std::string, std::string>> q = {
        {"prefix", root + p}, {"fields", "items(name),nextPageToken"}, {"maxResults", std::to_string(m_s.list_page)}};
    if (token) q.emplace_back("pageToken", *token);
    http::Request r;
    r.method = "GET";
    r.url = m_s.endpoint + "/storage/v1/b/" + s3::uri_encode(m_s.bucket, true) + "/o?" + form_encode(q);
    r.what = "GET (list) " + where(p);
    if (auto st = perform(r); !st) return std::unexpected(st.error());
    if (r.status == 404) {
      if (auto b = check_bucket(); !b) return std::unexpected(b.error());
    }
    if (r.status != 200) return std::unexpected(http_error(r));
    auto page = gcs::parse_list_page(r.response);
    if (!page) return std::unexpected(Error{ErrorCode::io, r.what + ": " + page.error().message});
    for (auto& n : page->names)
      if (n.starts_with(root)) out.push_back(n.substr(root.size()));
    token = std::move(page->next_token);
  } while (token);
  return out;
}

Status GcsRemote::remove(const std::string& key) const {
  http::Request r;
  r.method = "DELETE";
  r.url = object_url(key, "");
  r.what = "DELETE " + where(key);
  if (auto st = perform(r); !st) return st;
  if ((r.status >= 200 && r.status < 300) || r.status == 404) return {};
  return std::unexpected(http_error(r));
}

}  // namespace dvx::remote
