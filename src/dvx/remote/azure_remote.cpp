#include "dvx/remote/azure_remote.h"

#include <cstdlib>
#include <random>

#include "dvx/base/base64.h"
#include "dvx/base/strings.h"
#include "dvx/remote/azure_sign.h"
#include "dvx/remote/s3_remote.h"  // s3::xml_text: the XML answers have the same shape
#include "dvx/remote/s3_sign.h"    // s3::uri_encode: the same percent-encoding

namespace dvx::remote {

namespace azure {

namespace {

const char* kVersion = "2021-08-06";  // x-ms-version of every request

}  // namespace

Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env) {
  Settings s;
  std::string rest;
  if (url.starts_with("azure://")) rest = url.substr(8);
  else if (url.starts_with("az://")) rest = url.substr(5);
  else return fail(ErrorCode::invalid_argument, "not an azure:// URL: " + url);
  auto [container, prefix] = http::split_location(rest);
  s.container = container;
  s.prefix = prefix;
  if (s.container.empty()) return fail(ErrorCode::invalid_argument, "azure remote URL without a container: " + url);
  if (size_t at = s.container.find('@'); at != std::string::npos) {  // container@account.blob.core.windows.net
    std::string host = s.container.substr(at + 1);
    s.container.resize(at);
    s.account = host.substr(0, host.find('.'));
  }
  http::SettingsReader read(options, env);
  auto opt = [&](const char* k) { return read.option(k); };
  auto envs = [&](const char* k) { return read.env(k); };

  // The connection string (option, else environment) gives the endpoint and may give
  // credentials; explicit options come on top of it.
  std::optional<std::string> conn = opt("connection_string");
  if (!conn && !opt("account_name") && !s.account.size()) conn = envs("AZURE_STORAGE_CONNECTION_STRING");
  std::string key_text, key_origin;
  std::string protocol = "https", suffix = "core.windows.net";
  if (conn) {
    auto f = parse_connection_string(*conn);
    if (connection_field(f, "UseDevelopmentStorage").value_or("") == "true") {
      s.account = "devstoreaccount1";
      key_text = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
      s.endpoint = "http://127.0.0.1:10000/devstoreaccount1";
    }
    if (auto v = connection_field(f, "AccountName")) s.account = *v;
    if (auto v = connection_field(f, "AccountKey")) key_text = *v, key_origin = "the connection string's AccountKey";
    if (auto v = connection_field(f, "SharedAccessSignature")) s.sas = *v;
    if (auto v = connection_field(f, "DefaultEndpointsProtocol")) protocol = *v;
    if (auto v = connection_field(f, "EndpointSuffix")) suffix = *v;
    if (auto v = connection_field(f, "BlobEndpoint")) s.endpoint = *v;
    if (s.account.empty() && s.endpoint.empty())
      return fail(ErrorCode::invalid_argument,
                  "azure remote '" + url + "': the connection string has neither AccountName nor BlobEndpoint");
  }
  if (auto v = opt("account_name")) s.account = *v;
  if (auto v = opt("account_key")) key_text = *v, key_origin = "account_key";
  if (auto v = opt("sas_token")) s.sas = *v, key_text.clear();
  if (!conn) {
    if (s.account.empty()) s.account = envs("AZURE_STORAGE_ACCOUNT").value_or("");
    if (key_text.empty() && s.sas.empty()) {
      if (auto v = envs("AZURE_STORAGE_KEY")) key_text = *v, key_origin = "AZURE_STORAGE_KEY";
      else if (auto w = envs("AZURE_STORAGE_SAS_TOKEN")) s.sas = *w;
    }
  }
  if (opt("account_key") && opt("sas_token")) s.sas.clear(), key_text = *opt("account_key");
  while (!s.sas.empty() && s.sas.front() == '?') s.sas.erase(0, 1);
  if (s.endpoint.empty()) {
    if (s.account.empty())
      return fail(ErrorCode::auth, "azure remote '" + url +
                                       "': no storage account: set account_name or connection_string with 'dvx "
                                       "remote modify', or the environment variable AZURE_STORAGE_ACCOUNT or "
                                       "AZURE_STORAGE_CONNECTION_STRING");
    s.endpoint = protocol + "://" + s.account + ".blob." + suffix;
  }
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://"))
    return fail(ErrorCode::invalid_argument, "azure remote '" + url + "': the blob endpoint must start with http:// or https://");
  if (s.account.empty()) {  // BlobEndpoint only: the account is the host's first label or, path-style, the first segment
    std::string host = s.endpoint.substr(s.endpoint.find("://") + 3);
    size_t path = host.find('/');
    s.account = path != std::string::npos ? host.substr(path + 1) : host.substr(0, host.find('.'));
    s.account = s.account.substr(0, s.account.find('/'));
  }
  if (!key_text.empty()) {
    auto key = base64_decode(key_text);
    if (!key || key->empty())
      return fail(ErrorCode::auth, "azure remote '" + url + "': " + key_origin + " is not a base64 account key");
    s.key = std::move(*key);
  }
  if (s.key.empty() && s.sas.empty()) {
    if (read.flag("allow_anonymous_login")) {
      s.anonymous = true;
    } else {
      return fail(ErrorCode::auth,
                  "unable to find credentials for '" + url +
                      "': set account_key, sas_token or connection_string with 'dvx remote modify', or the "
                      "environment variable AZURE_STORAGE_KEY or AZURE_STORAGE_CONNECTION_STRING (or "
                      "allow_anonymous_login for a public container)");
    }
  }

  auto number = [](const std::optional<std::string>& v, auto fallback) { return http::SettingsReader::number(v, fallback); };
  s.http.connect_timeout = number(opt("connection_timeout"), number(opt("timeout"), s.http.connect_timeout));
  s.http.read_timeout = number(opt("read_timeout"), number(opt("timeout"), s.http.read_timeout));
  s.http.attempts = number(envs("DVX_AZURE_ATTEMPTS"), s.http.attempts);
  s.block_threshold = number(envs("DVX_AZURE_BLOCK_THRESHOLD"), s.block_threshold);
  s.block_size = number(envs("DVX_AZURE_BLOCK_SIZE"), s.block_size);
  s.block_parallel = number(envs("DVX_AZURE_BLOCK_PARALLEL"), s.block_parallel);
  s.list_page = number(envs("DVX_AZURE_LIST_PAGE"), s.list_page);
  if (opt("tenant_id") || opt("client_id") || opt("client_secret"))
    return fail(ErrorCode::invalid_argument,
                "azure remote '" + url + "': Azure AD credentials (tenant_id/client_id/client_secret) are not supported "
                "yet by dvx: use account_key, sas_token or connection_string");
  return s;
}

ListPage parse_list_page(std::string_view xml) {
  ListPage page;
  size_t pos = 0;
  while ((pos = xml.find("<Blob>", pos)) != std::string_view::npos) {
    size_t end = xml.find("</Blob>", pos);
    if (end == std::string_view::npos) break;
    std::string_view blob = xml.substr(pos, end - pos);
    // <Name> or <Name Encoded="false">
    size_t a = blob.find("<Name");
    if (a != std::string_view::npos && (blob[a + 5] == '>' || blob[a + 5] == ' ')) {
      size_t gt = blob.find('>', a);
      std::string normal = "<Name>" + std::string(blob.substr(gt + 1));
      if (auto n = s3::xml_text(normal, "Name")) page.names.push_back(std::move(*n));
    }
    pos = end;
  }
  auto marker = s3::xml_text(xml, "NextMarker");
  if (marker && !marker->empty()) page.next_marker = std::move(marker);
  return page;
}

}  // namespace azure

// ---------------------------------------------------------------------------------------------

namespace {

// The service's error code of an answer: the x-ms-error-code header, else the body's <Code>.
std::string error_code(const http::Request& r) {
  if (auto h = r.header("x-ms-error-code")) return *h;
  return s3::xml_text(r.response, "Code").value_or("");
}

}  // namespace

AzureRemote::AzureRemote(azure::Settings settings) : m_s(std::move(settings)), m_client(m_s.http) {
  std::string rest = m_s.endpoint.substr(m_s.endpoint.find("://") + 3);
  size_t slash = rest.find('/');
  m_base_path = slash == std::string::npos ? "" : rest.substr(slash);
}

std::string AzureRemote::describe() const {
  return "azure://" + m_s.container + (m_s.prefix.empty() ? "" : "/" + m_s.prefix);
}

std::string AzureRemote::where(const std::string& key) const { return describe() + (key.empty() ? "" : "/" + key); }

http::Request AzureRemote::request(std::string method, const std::string* key, Query query, std::string what) const {
  http::Request r;
  r.method = std::move(method);
  std::string path = m_base_path + "/" + s3::uri_encode(m_s.container, true);
  if (key) path += "/" + s3::uri_encode(m_s.prefix.empty() ? *key : m_s.prefix + "/" + *key, false);
  std::string q;
  for (auto& [k, v] : query) q += (q.empty() ? "" : "&") + s3::uri_encode(k, true) + "=" + s3::uri_encode(v, true);
  if (!m_s.sas.empty()) q += (q.empty() ? "" : "&") + m_s.sas;
  std::string origin = m_s.endpoint.substr(0, m_s.endpoint.size() - m_base_path.size());
  r.url = origin + path + (q.empty() ? "" : "?" + q);
  r.what = std::move(what);
  r.detail = [](const http::Request& req) { return error_code(req); };
  return r;
}

Status AzureRemote::perform(http::Request& req, const Query& query) const {
  std::string path = req.url.substr(0, req.url.find('?'));
  path = path.substr(path.find('/', path.find("://") + 3));
  return m_client.perform(req, [&, path](const http::Request& r) -> Result<http::Headers> {
    http::Headers h = {{"x-ms-date", http::http_date()}, {"x-ms-version", azure::kVersion}};
    if (!m_s.key.empty()) {
      azure::SignInput in;
      in.method = r.method;
      in.path = path;
      in.query = query;
      in.headers = r.headers;
      in.headers.insert(in.headers.end(), h.begin(), h.end());
      in.content_length = r.body ? r.body->size() : (r.read ? r.upload_size : 0);
      in.account = m_s.account;
      h.emplace_back("Authorization", azure::shared_key_authorization(in, m_s.key));
    }
    return h;
  });
}

Error AzureRemote::http_error(const http::Request& r) const {
  std::string code = error_code(r);
  std::string msg = s3::xml_text(r.response, "Message").value_or("");
  msg = msg.substr(0, msg.find('\n'));
  std::string detail = code.empty() ? "" : " " + code + (msg.empty() ? "" : ": " + msg);
  if (r.status == 403 || r.status == 401)
    return Error{ErrorCode::auth, r.what + ": authentication failed at " + m_s.endpoint + " (HTTP " +
                                      std::to_string(r.status) + detail +
                                      "): check the account key, SAS token or connection string of this remote"};
  if (code == "ContainerNotFound")
    return Error{ErrorCode::not_found, "container '" + m_s.container + "' does not exist at " + m_s.endpoint};
  return Error{r.status == 404 ? ErrorCode::not_found : ErrorCode::io,
               r.what + ": HTTP " + std::to_string(r.status) + detail};
}

Status AzureRemote::check_container() const {
  std::call_once(m_container_once, [&] {
    Query q = {{"restype", "container"}};
    auto r = request("HEAD", nullptr, q, "HEAD " + describe());
    if (auto st = perform(r, q); !st) m_container_status = st;
    else if (r.status == 404)
      m_container_status = fail(ErrorCode::not_found, "container '" + m_s.container + "' does not exist at " + m_s.endpoint);
    else if (r.status >= 300)
      m_container_status = std::unexpected(http_error(r));
  });
  return m_container_status;
}

Result<bool> AzureRemote::exists(const std::string& key) const {
  auto r = request("HEAD", &key, {}, "HEAD " + where(key));
  if (auto st = perform(r, {}); !st) return std::unexpected(st.error());
  if (r.status == 200) return true;
  if (r.status == 404) {
    std::string code = error_code(r);
    if (code == "BlobNotFound") return false;
    if (!code.empty()) return std::unexpected(http_error(r));
    if (auto c = check_container(); !c) return std::unexpected(c.error());
    return false;
  }
  return std::unexpected(http_error(r));
}

Status AzureRemote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  auto body = http::FileBody::open(local_path);
  if (!body) return std::unexpected(body.error());
  uint64_t size = (*body)->size();
  if (size >= m_s.block_threshold && size > m_s.block_size) return put_blocks(local_path, key, size, verify);
  auto r = request("PUT", &key, {}, "PUT " + where(key));
  r.headers = {{"Content-Type", "application/octet-stream"}, {"x-ms-blob-type", "BlockBlob"}};
  if (auto st = (*body)->attach(r, verify); !st) return st;
  if (auto st = perform(r, {}); !st) return st;
  if (r.status != 201) return std::unexpected(http_error(r));
  return {};
}

Status AzureRemote::put_blocks(const std::string& local_path, const std::string& key, uint64_t size,
                               const odb::ObjectId* verify) const {
  auto file = http::FileBody::open(local_path);
  if (!file) return std::unexpected(file.error());
  uint64_t block = std::max<uint64_t>(m_s.block_size, (size + 49999) / 50000);  // at most 50,000 blocks
  // Block ids: equal length within a blob, unique to this upload (a concurrent upload of the
  // same blob cannot mix its blocks in).
  static thread_local std::mt19937_64 rng(std::random_device{}());
  char tag[17];
  std::snprintf(tag, sizeof tag, "%016llx", static_cast<unsigned long long>(rng()));
  std::optional<hash::DigestStream> digest;
  if (verify) digest.emplace(odb::content_algorithm(*verify));
  size_t blocks = static_cast<size_t>((size + block - 1) / block);
  std::vector<std::string> ids(blocks);
  for (size_t i = 0; i < blocks; ++i) {
    char raw[40];
    std::snprintf(raw, sizeof raw, "dvx-%s-%06zu", tag, i);
    ids[i] = base64_encode(raw);
  }
  auto sent = http::upload_parts(**file, block, m_s.block_parallel, digest ? &*digest : nullptr,
                                 [&](size_t i, std::string& bytes) -> Status {
                                   Query q = {{"comp", "block"}, {"blockid", ids[i]}};
                                   auto r = request("PUT", &key, q, "PUT (block " + std::to_string(i + 1) + ") " + where(key));
                                   r.headers = {{"Content-Type", "application/octet-stream"}};
                                   r.body = std::move(bytes);
                                   auto st = perform(r, q);
                                   if (r.body) bytes = std::move(*r.body);  // back for the next block
                                   if (!st) return st;
                                   if (r.status != 201) return std::unexpected(http_error(r));
                                   return {};
                                 });
  if (!sent) return sent;
  std::string list = "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>";
  for (auto& id : ids) list += "<Latest>" + id + "</Latest>";
  list += "</BlockList>";
  if (digest) {
    std::string d = digest->hex_digest();
    if (d != odb::content_digest(*verify)) return std::unexpected(odb::corrupted(local_path, *verify, d));
  }
  Query q = {{"comp", "blocklist"}};
  auto r = request("PUT", &key, q, "PUT (block list) " + where(key));
  r.headers = {{"Content-Type", "application/xml"}};
  r.body = std::move(list);
  if (auto st = perform(r, q); !st) return st;
  if (r.status != 201) return std::unexpected(http_error(r));
  return {};
}

Result<bool> AzureRemote::get(const std::string& key, const std::string& local_path,
                              const platform::ByteObserver& observe) const {
  auto r = request("GET", &key, {}, "GET " + where(key));
  auto st = http::download(r, local_path, observe, [&](http::Request& q) { return perform(q, {}); });
  if (!st) return std::unexpected(st.error());
  if (r.status == 404 && error_code(r) == "BlobNotFound") return false;
  if (r.status != 200) return std::unexpected(http_error(r));
  return true;
}

Result<Remote::SmallRead> AzureRemote::get_small(const std::string& key, size_t limit, std::string& out) const {
  bool too_big = false;
  auto r = request("GET", &key, {}, "GET " + where(key));
  auto st = http::read_small(r, limit, out, too_big, [&](http::Request& q) { return perform(q, {}); });
  if (!st) return std::unexpected(st.error());
  if (too_big) return SmallRead::too_big;
  if (r.status == 404 && error_code(r) == "BlobNotFound") return SmallRead::absent;
  if (r.status != 200) return std::unexpected(http_error(r));
  return SmallRead::read;
}

Result<std::vector<std::string>> AzureRemote::list(const std::string& prefix) const {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  std::string root = m_s.prefix.empty() ? "" : m_s.prefix + "/";
  std::vector<std::string> out;
  std::optional<std::string> marker;
  do {
    Query q = {{"restype", "container"}, {"comp", "list"}, {"prefix", root + p},
               {"maxresults", std::to_string(m_s.list_page)}};
    if (marker) q.emplace_back("marker", *marker);
    auto r = request("GET", nullptr, q, "GET (list) " + where(p));
    if (auto st = perform(r, q); !st) return std::unexpected(st.error());
    if (r.status != 200) return std::unexpected(http_error(r));
    auto page = azure::parse_list_page(r.response);
    for (auto& n : page.names)
      if (n.starts_with(root)) out.push_back(n.substr(root.size()));
    marker = std::move(page.next_marker);
  } while (marker);
  return out;
}

Status AzureRemote::remove(const std::string& key) const {
  auto r = request("DELETE", &key, {}, "DELETE " + where(key));
  if (auto st = perform(r, {}); !st) return st;
  if (r.status >= 200 && r.status < 300) return {};
  if (r.status == 404 && error_code(r) == "BlobNotFound") return {};
  return std::unexpected(http_error(r));
}

}  // namespace dvx::remote
