#include "dvx/remote/s3_remote.h"

#include <cstring>
#include <cstdlib>
#include <ctime>
#include <mutex>

#include "dvx/base/strings.h"
#include "dvx/formats/ini.h"
#include "dvx/hash/md5.h"
#include "dvx/hash/sha256.h"
#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"
#include "dvx/remote/s3_sign.h"
#include "dvx/formats/unicode.h"

namespace dvx::remote {

namespace fsx = dvx::platform;

namespace {

std::string amz_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

const char* kEmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string xml_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out.push_back(s[i]);
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out.push_back('&');
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out.push_back('&');
    else if (ent == "lt") out.push_back('<');
    else if (ent == "gt") out.push_back('>');
    else if (ent == "quot") out.push_back('"');
    else if (ent == "apos") out.push_back('\'');
    else if (ent.size() > 1 && ent[0] == '#') {
      unsigned long cp = ent[1] == 'x' || ent[1] == 'X' ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                                                        : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
      formats::utf8_append(out, static_cast<char32_t>(cp));
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Pure helpers.

namespace s3 {

std::optional<std::string> xml_text(std::string_view xml, std::string_view tag) {
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  size_t a = xml.find(open);
  if (a == std::string_view::npos) return std::nullopt;
  a += open.size();
  size_t b = xml.find(close, a);
  if (b == std::string_view::npos) return std::nullopt;
  return xml_decode(xml.substr(a, b - a));
}

ListPage parse_list_page(std::string_view xml) {
  ListPage page;
  size_t pos = 0;
  while ((pos = xml.find("<Contents>", pos)) != std::string_view::npos) {
    size_t end = xml.find("</Contents>", pos);
    if (end == std::string_view::npos) break;
    if (auto k = xml_text(xml.substr(pos, end - pos), "Key")) page.keys.push_back(std::move(*k));
    pos = end;
  }
  if (xml_text(xml, "IsTruncated").value_or("false") == "true") {
    page.next_token = xml_text(xml, "NextContinuationToken");
    if (page.next_token && page.next_token->empty()) page.next_token.reset();
  }
  return page;
}

std::string parse_error(std::string_view xml) {
  auto code = xml_text(xml, "Code");
  if (!code) return "";
  auto msg = xml_text(xml, "Message");
  return msg && !msg->empty() ? *code + ": " + *msg : *code;
}

namespace {

std::optional<std::string> opt_of(const RemoteOptions& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end()) return std::nullopt;
  return it->second;
}

bool truthy(const std::string& v) { return option_bool(v) == true; }

// One section of an AWS ini file (credentials or config); nullopt when absent or unreadable.
std::optional<formats::IniSection> aws_section(const std::string& path, const std::string& name) {
  auto text = fsx::read_file(path);
  if (!text) return std::nullopt;
  auto ini = formats::parse_ini(*text, path);
  if (!ini) return std::nullopt;
  if (auto* s = ini->find(to_lower(name))) return *s;
  return std::nullopt;
}

std::optional<std::string> section_value(const std::optional<formats::IniSection>& s, const char* key) {
  if (!s) return std::nullopt;
  if (auto* o = s->find(key); o && !o->value.empty()) return o->value;
  return std::nullopt;
}

}  // namespace

Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env) {
  Settings s;
  if (!url.starts_with("s3://")) return fail(ErrorCode::invalid_argument, "not an s3:// URL: " + url);
  std::string rest = url.substr(5);
  size_t slash = rest.find('/');
  s.bucket = rest.substr(0, slash);
  if (s.bucket.empty()) return fail(ErrorCode::invalid_argument, "s3 remote URL without a bucket: " + url);
  if (slash != std::string::npos) {
    std::string p = rest.substr(slash + 1);
    while (!p.empty() && p.front() == '/') p.erase(0, 1);
    while (!p.empty() && p.back() == '/') p.pop_back();
    s.prefix = p;
  }
  auto opt = [&](const char* k) { return opt_of(options, k); };
  auto envs = [&](const char* k) -> std::optional<std::string> {
    auto v = env(k);
    if (v && !v->empty()) return v;
    return std::nullopt;
  };

  std::string home = envs("HOME").value_or("");
  std::string profile = opt("profile") ? *opt("profile") : envs("AWS_PROFILE").value_or(envs("AWS_DEFAULT_PROFILE").value_or("default"));
  std::string cred_file = opt("credentialpath") ? *opt("credentialpath")
                                                : envs("AWS_SHARED_CREDENTIALS_FILE").value_or(home + "/.aws/credentials");
  std::string config_file = opt("configpath") ? *opt("configpath") : envs("AWS_CONFIG_FILE").value_or(home + "/.aws/config");
  auto config_sec = aws_section(config_file, profile == "default" ? "default" : "profile " + profile);

  // Credentials: options, then the environment, then the profile's files.
  Credentials& c = s.credentials;
  if (opt("access_key_id") || opt("secret_access_key")) {
    c.access_key = opt("access_key_id").value_or("");
    c.secret_key = opt("secret_access_key").value_or("");
    c.session_token = opt("session_token").value_or("");
  } else if (envs("AWS_ACCESS_KEY_ID") && envs("AWS_SECRET_ACCESS_KEY")) {
    c.access_key = *envs("AWS_ACCESS_KEY_ID");
    c.secret_key = *envs("AWS_SECRET_ACCESS_KEY");
    c.session_token = envs("AWS_SESSION_TOKEN").value_or(envs("AWS_SECURITY_TOKEN").value_or(""));
  } else {
    auto cred_sec = aws_section(cred_file, profile);
    for (auto* sec : {&cred_sec, &config_sec}) {
      auto id = section_value(*sec, "aws_access_key_id");
      auto key = section_value(*sec, "aws_secret_access_key");
      if (id && key) {
        c.access_key = *id;
        c.secret_key = *key;
        c.session_token = section_value(*sec, "aws_session_token").value_or("");
        break;
      }
    }
  }
  if (c.access_key.empty() || c.secret_key.empty()) {
    if (opt("allow_anonymous_login") && truthy(*opt("allow_anonymous_login"))) {
      c = Credentials{};
      c.anonymous = true;
    } else if (opt("access_key_id") || opt("secret_access_key")) {
      return fail(ErrorCode::auth, "s3 remote '" + url + "': access_key_id and secret_access_key must both be set");
    } else {
      return fail(ErrorCode::auth,
                  "unable to locate credentials for '" + url +
                      "': set access_key_id and secret_access_key with 'dvx remote modify', the environment "
                      "variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile '" + profile + "' in " +
                      cred_file);
    }
  }

  if (auto r = opt("region")) s.region = *r;
  else if (auto e = envs("AWS_REGION")) s.region = *e;
  else if (auto d = envs("AWS_DEFAULT_REGION")) s.region = *d;
  else if (auto p = section_value(config_sec, "region")) s.region = *p;

  bool use_ssl = !opt("use_ssl") || truthy(*opt("use_ssl"));
  if (auto e = opt("endpointurl")) s.endpoint = *e;
  else if (auto v = envs("AWS_ENDPOINT_URL_S3")) s.endpoint = *v;
  else if (auto w = envs("AWS_ENDPOINT_URL")) s.endpoint = *w;
  else s.endpoint = std::string(use_ssl ? "https" : "http") + "://s3." + s.region + ".amazonaws.com";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://"))
    return fail(ErrorCode::invalid_argument, "s3 remote '" + url + "': endpointurl must start with http:// or https://: " + s.endpoint);

  if (auto v = opt("ssl_verify")) apply_ssl_verify(*v, s.ssl_verify, s.ca_bundle);
  auto number = [&](std::optional<std::string> v, auto fallback) -> decltype(fallback) {
    if (!v) return fallback;
    char* end = nullptr;
    unsigned long long n = std::strtoull(v->c_str(), &end, 10);
    if (end == v->c_str() || *end || n == 0) return fallback;
    return static_cast<decltype(fallback)>(n);
  };
  s.connect_timeout = number(opt("connect_timeout"), s.connect_timeout);
  s.read_timeout = number(opt("read_timeout"), s.read_timeout);
  s.multipart_threshold = number(envs("DVX_S3_MULTIPART_THRESHOLD"), s.multipart_threshold);
  s.part_size = number(envs("DVX_S3_MULTIPART_CHUNKSIZE"), s.part_size);
  s.attempts = number(envs("DVX_S3_ATTEMPTS"), s.attempts);

  static const std::pair<const char*, const char*> kUploadHeaders[] = {
      {"sse", "x-amz-server-side-encryption"},
      {"sse_kms_key_id", "x-amz-server-side-encryption-aws-kms-key-id"},
      {"acl", "x-amz-acl"},
      {"grant_read", "x-amz-grant-read"},
      {"grant_read_acp", "x-amz-grant-read-acp"},
      {"grant_write_acp", "x-amz-grant-write-acp"},
      {"grant_full_control", "x-amz-grant-full-control"},
  };
  for (auto& [k, h] : kUploadHeaders)
    if (auto v = opt(k)) s.upload_headers.emplace_back(h, *v);
  if (opt("sse_customer_key") || opt("sse_customer_algorithm"))
    return fail(ErrorCode::invalid_argument, "s3 remote '" + url + "': sse_customer_key (SSE-C) is not supported yet by dvx");
  if (opt("version_aware") && truthy(*opt("version_aware")))
    return fail(ErrorCode::invalid_argument, "s3 remote '" + url + "': version_aware remotes are not supported yet by dvx");
  return s;
}

}  // namespace s3

// ---------------------------------------------------------------------------------------------
// Requests.

// One S3 request: an HTTP request whose URL is built (and signed) from an encoded path and
// query parameters.
struct S3Remote::Call : http::Request {
  std::string path;  // encoded, from the root of the endpoint
  std::vector<std::pair<std::string, std::string>> query;
};

S3Remote::S3Remote(s3::Settings settings)
    : m_s(std::move(settings)),
      m_client(http::Options{m_s.connect_timeout, m_s.read_timeout, m_s.ssl_verify, m_s.ca_bundle, m_s.attempts}) {
  std::string rest = m_s.endpoint.substr(m_s.endpoint.find("://") + 3);
  m_host = rest.substr(0, rest.find('/'));
}

S3Remote::~S3Remote() = default;

std::string S3Remote::describe() const {
  return "s3://" + m_s.bucket + (m_s.prefix.empty() ? "" : "/" + m_s.prefix);
}

std::string S3Remote::where(const std::string& key) const { return describe() + (key.empty() ? "" : "/" + key); }

std::string S3Remote::bucket_path() const {
  std::string base = m_s.endpoint.substr(m_s.endpoint.find("://") + 3);
  size_t slash = base.find('/');
  std::string ep_path = slash == std::string::npos ? "" : base.substr(slash);
  return ep_path + "/" + s3::uri_encode(m_s.bucket, true);
}

std::string S3Remote::object_path(const std::string& key) const {
  return bucket_path() + "/" + s3::uri_encode(m_s.prefix.empty() ? key : m_s.prefix + "/" + key, false);
}

Status S3Remote::perform(Call& call) const {
  std::string query = s3::canonical_query(call.query);
  call.url = m_s.endpoint.substr(0, m_s.endpoint.find('/', m_s.endpoint.find("://") + 3)) + call.path +
             (query.empty() ? "" : "?" + query);
  call.detail = [](const http::Request& r) { return s3::parse_error(r.response); };
  // Signed again for every attempt (the date is part of the signature).
  auto sign = [&](const http::Request&) -> Result<http::Headers> {
    std::string date = amz_now();
    std::string key;
    if (!m_s.credentials.anonymous) {
      std::lock_guard<std::mutex> lock(m_key_mutex);
      if (m_key_day.compare(0, std::string::npos, date, 0, 8) != 0) {
        m_key_day = date.substr(0, 8);
        m_key = s3::signing_key(m_s.credentials.secret_key, m_key_day, m_s.region, "s3");
      }
      key = m_key;
    }
    std::string payload = call.body ? hash::sha256_hex(*call.body) : (call.read ? "UNSIGNED-PAYLOAD" : kEmptySha256);
    http::Headers added = {{"host", m_host}, {"x-amz-date", date}, {"x-amz-content-sha256", payload}};
    if (call.body || call.read) added.emplace_back("content-type", "application/octet-stream");
    if (!m_s.credentials.session_token.empty()) added.emplace_back("x-amz-security-token", m_s.credentials.session_token);
    if (!m_s.credentials.anonymous) {
      s3::SignInput in;
      in.method = call.method;
      in.path = call.path;
      in.query = call.query;
      in.headers = added;
      in.headers.insert(in.headers.end(), call.headers.begin(), call.headers.end());
      in.payload_hash = std::move(payload);
      in.amz_date = std::move(date);
      in.region = m_s.region;
      in.access_key = m_s.credentials.access_key;
      in.secret_key = m_s.credentials.secret_key;
      in.signing_key = std::move(key);
      added.emplace_back("Authorization", s3::sign_v4(in).authorization);
    }
    return added;
  };
  return m_client.perform(call, sign);
}

namespace {

Error http_error(const S3Remote::Call& c) {
  std::string detail = s3::parse_error(c.response);
  ErrorCode code = c.status == 403 || c.status == 401 ? ErrorCode::auth
                   : c.status == 404                  ? ErrorCode::not_found
                                                      : ErrorCode::io;
  return Error{code, c.what + ": HTTP " + std::to_string(c.status) + (detail.empty() ? "" : " (" + detail + ")")};
}

}  // namespace

Status S3Remote::check_bucket() const {
  std::call_once(m_bucket_once, [&] {
    Call c;
    c.method = "HEAD";
    c.path = bucket_path();
    c.what = "HEAD s3://" + m_s.bucket;
    if (auto r = perform(c); !r) m_bucket_status = r;
    else if (c.status == 404)
      m_bucket_status = fail(ErrorCode::not_found, "bucket '" + m_s.bucket + "' does not exist at " + m_s.endpoint);
    else if (c.status >= 300 && c.status != 403 && c.status != 301)
      m_bucket_status = std::unexpected(http_error(c));
  });
  return m_bucket_status;
}

Result<bool> S3Remote::exists(const std::string& key) const {
  Call c;
  c.method = "HEAD";
  c.path = object_path(key);
  c.what = "HEAD " + where(key);
  if (auto r = perform(c); !r) return std::unexpected(r.error());
  if (c.status == 200) return true;
  if (c.status == 404) {
    if (auto b = check_bucket(); !b) return std::unexpected(b.error());
    return false;
  }
  return std::unexpected(http_error(c));
}

Status S3Remote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  auto st = fsx::stat_path(local_path);
  if (st.type != fsx::FileType::regular) return fail(ErrorCode::not_found, "cannot upload '" + local_path + "': not a file");
  uint64_t size = st.size;
  if (size >= m_s.multipart_threshold && size > m_s.part_size) return put_multipart(local_path, key, size, verify);
  auto body = http::FileBody::open(local_path);
  if (!body) return std::unexpected(body.error());
  return put_whole(key, [&](Call& c) { return (*body)->attach(c, verify); });
}

Status S3Remote::put_whole(const std::string& key, const std::function<Status(Call&)>& attach_body) const {
  Call c;
  c.method = "PUT";
  c.path = object_path(key);
  c.what = "PUT " + where(key);
  c.headers = m_s.upload_headers;
  if (auto a = attach_body(c); !a) return a;
  if (auto r = perform(c); !r) return r;
  if (c.status != 200) return std::unexpected(http_error(c));
  return {};
}

uint64_t S3Remote::small_put_limit() const {
  // What put() sends in one request (not as a multipart upload), up to 1 MiB.
  uint64_t one_request = std::max<uint64_t>(m_s.multipart_threshold, 1) - 1;
  return std::min<uint64_t>(std::max(one_request, m_s.part_size), uint64_t(1) << 20);
}

Status S3Remote::put_small(const std::string& key, std::string& bytes) const {
  return put_whole(key, [&](Call& c) -> Status {
    c.body = std::move(bytes);
    return {};
  });
}

namespace {
// Parts of one multipart upload sent at once.
constexpr size_t k_part_streams = 4;
}  // namespace

Status S3Remote::put_multipart(const std::string& local_path, const std::string& key, uint64_t size,
                               const odb::ObjectId* verify) const {
  uint64_t part = std::max<uint64_t>(m_s.part_size, (size + 9999) / 10000);
  auto file = http::FileBody::open(local_path);  // before the upload starts: nothing to abort
  if (!file) return std::unexpected(file.error());
  std::string path = object_path(key);
  Call init;
  init.method = "POST";
  init.path = path;
  init.query = {{"uploads", ""}};
  init.headers = m_s.upload_headers;
  init.what = "POST (start multipart upload) " + where(key);
  init.body = std::string();
  if (auto r = perform(init); !r) return r;
  if (init.status != 200) return std::unexpected(http_error(init));
  auto upload_id = s3::xml_text(init.response, "UploadId");
  if (!upload_id || upload_id->empty())
    return fail(ErrorCode::io, init.what + ": no UploadId in the answer");
  auto abort_upload = [&] {
    Call a;
    a.method = "DELETE";
    a.path = path;
    a.query = {{"uploadId", *upload_id}};
    a.what = "DELETE (abort multipart upload) " + where(key);
    (void)perform(a);
  };
  std::optional<hash::DigestStream> digest;
  if (verify) digest.emplace(odb::content_algorithm(*verify));
  // Parts read and hashed in order, sent by up to k_part_streams threads at once (one request
  // at a time bounds a large upload by the round trip of each part; aws s3 cp sends 10).
  const size_t parts = static_cast<size_t>(((*file)->size() + part - 1) / part);
  std::vector<std::string> etags(parts);
  auto sent = http::upload_parts(**file, part, static_cast<int>(std::min<size_t>(k_part_streams, parts)),
                                 digest ? &*digest : nullptr, [&](size_t i, std::string& bytes) -> Status {
                                   const std::string number = std::to_string(i + 1);
                                   Call p;
                                   p.method = "PUT";
                                   p.path = path;
                                   p.query = {{"partNumber", number}, {"uploadId", *upload_id}};
                                   p.what = "PUT (part " + number + ") " + where(key);
                                   p.body = std::move(bytes);
                                   auto r = perform(p);
                                   if (p.body) bytes = std::move(*p.body);  // back for the next part
                                   if (!r) return r;
                                   if (p.status != 200) return std::unexpected(http_error(p));
                                   auto etag = p.header("etag");
                                   if (!etag) return fail(ErrorCode::io, p.what + ": no ETag in the answer");
                                   etags[i] = *etag;
                                   return {};
                                 });
  if (!sent) {
    abort_upload();
    return sent;
  }
  std::string complete = "<CompleteMultipartUpload>";
  for (size_t i = 0; i < parts; ++i)
    complete += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" + etags[i] + "</ETag></Part>";
  complete += "</CompleteMultipartUpload>";
  if (digest) {
    std::string d = digest->hex_digest();
    if (d != odb::content_digest(*verify)) {
      abort_upload();
      return std::unexpected(odb::corrupted(local_path, *verify, d));
    }
  }
  Call done;
  done.method = "POST";
  done.path = path;
  done.query = {{"uploadId", *upload_id}};
  done.what = "POST (complete multipart upload) " + where(key);
  done.body = std::move(complete);
  auto r = perform(done);
  // S3 may answer 200 with an error in the body.
  if (!r || done.status != 200 || done.response.find("<Error>") != std::string::npos) {
    abort_upload();
    if (!r) return r;
    return std::unexpected(http_error(done));
  }
  return {};
}

Result<bool> S3Remote::get(const std::string& key, const std::string& local_path,
                           const platform::ByteObserver& observe) const {
  Call c;
  c.method = "GET";
  c.path = object_path(key);
  c.what = "GET " + where(key);
  auto r = http::download(c, local_path, observe, [&](Call& q) { return perform(q); });
  if (!r) return std::unexpected(r.error());
  if (c.status == 404 && s3::xml_text(c.response, "Code").value_or("NoSuchKey") == "NoSuchKey") return false;
  if (c.status != 200) return std::unexpected(http_error(c));
  return true;
}

Result<Remote::SmallRead> S3Remote::get_small(const std::string& key, size_t limit, std::string& out) const {
  bool too_big = false;
  Call c;
  c.method = "GET";
  c.path = object_path(key);
  c.what = "GET " + where(key);
  if (auto r = http::read_small(c, limit, out, too_big, [&](http::Request&) { return perform(c); }); !r)
    return std::unexpected(r.error());
  if (too_big) return SmallRead::too_big;
  if (c.status == 404 && s3::xml_text(c.response, "Code").value_or("NoSuchKey") == "NoSuchKey") return SmallRead::absent;
  if (c.status != 200) return std::unexpected(http_error(c));
  return SmallRead::read;
}

Result<std::vector<std::string>> S3Remote::list(const std::string& prefix) const {
  std::string p = prefix;
  if (!p.empty() && p.back() != '/') p += '/';
  std::string root = m_s.prefix.empty() ? "" : m_s.prefix + "/";
  std::string full = root + p;
  std::vector<std::string> out;
  std::optional<std::string> token;
  do {
    Call c;
    c.method = "GET";
    c.path = bucket_path();
    c.query = {{"list-type", "2"}, {"prefix", full}};
    if (token) c.query.emplace_back("continuation-token", *token);
    c.what = "GET (list) " + where(p);
    if (auto r = perform(c); !r) return std::unexpected(r.error());
    if (c.status != 200) return std::unexpected(http_error(c));
    auto page = s3::parse_list_page(c.response);
    for (auto& k : page.keys)
      if (k.starts_with(root)) out.push_back(k.substr(root.size()));
    token = page.next_token;
  } while (token);
  return out;
}

Status S3Remote::remove(const std::string& key) const {
  Call c;
  c.method = "DELETE";
  c.path = object_path(key);
  c.what = "DELETE " + where(key);
  if (auto r = perform(c); !r) return r;
  if (c.status >= 200 && c.status < 300) return {};
  return std::unexpected(http_error(c));
}

}  // namespace dvx::remote
