#include "dvx/config/keys.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "dvx/base/strings.h"

namespace dvx::config {

namespace {

using VT = ValueType;
namespace sc = scheme;

constexpr unsigned kVerifyFalse = sc::all & ~(sc::oss | sc::gdrive | sc::hdfs);

// clang-format off
constexpr KeyInfo kKeys[] = {
  // core
  {"core", "remote", VT::lower, "", "default remote name"},
  {"core", "checksum_jobs", VT::positive_int, "max(1, min(4, cpu_count // 2))", "parallel hashing threads"},
  {"core", "interactive", VT::boolean, "false", "repro asks before each stage"},
  {"core", "analytics", VT::boolean, "true", "anonymous usage reports"},
  {"core", "hardlink_lock", VT::boolean, "false", "hardlink-based lock file (NFS)"},
  {"core", "no_scm", VT::boolean, "false", "project without Git"},
  {"core", "autostage", VT::boolean, "false", "git add files DVC created or changed"},
  {"core", "fsync", VT::boolean, "true", "dvx: data reaches the disk before the names that publish it (power-loss safety)"},
  {"core", "experiments", VT::boolean, "", "obsolete, ignored"},
  {"core", "check_update", VT::boolean, "true", "check for newer DVC releases"},
  {"core", "site_cache_dir", VT::string, "", "machine-wide private cache location"},
  {"core", "machine", VT::lower, "", "default machine (experimental)"},
  // cache
  {"cache", "local", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "s3", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "gs", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "hdfs", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "webhdfs", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "ssh", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "azure", VT::string, "", "obsolete external cache (remote name)"},
  {"cache", "dir", VT::string, "", "cache directory (default <dvc_dir>/cache)", 0, "", true},
  {"cache", "type", VT::cache_types, "reflink,copy", "link types tried for workspace files, in order"},
  {"cache", "protected", VT::boolean, "false", "obsolete, ignored"},
  {"cache", "shared", VT::choice, "", "group: group-writable cache files", 0, "group"},
  {"cache", "slow_link_warning", VT::boolean, "true", "warn when falling back to copies"},
  {"cache", "verify", VT::boolean, "false", "re-hash objects read from the cache"},
  // remote "<name>": common keys
  {"remote", "url", VT::string, "", "location of the remote (path or URL)", sc::all, "", true},
  {"remote", "checksum_jobs", VT::positive_int, "", "parallel hashing threads", sc::all},
  {"remote", "jobs", VT::positive_int, "", "parallel transfers", sc::all},
  {"remote", "worktree", VT::boolean, "", "worktree remote (cloud versioning)", sc::all},
  {"remote", "no_traverse", VT::boolean, "", "obsolete", sc::all},
  {"remote", "version_aware", VT::boolean, "", "version-aware remote (cloud versioning)", sc::all},
  // DVC's default; dvx verifies unless the option is set to false (Config::remote_verify).
  {"remote", "verify", VT::boolean, "false", "re-hash downloaded objects", kVerifyFalse},
  {"remote", "verify", VT::boolean, "true", "re-hash downloaded objects", sc::oss | sc::gdrive},
  // local
  {"remote", "type", VT::cache_types, "", "link types", sc::local | sc::ssh},
  {"remote", "protected", VT::boolean, "false", "obsolete", sc::local},
  {"remote", "shared", VT::choice, "", "group-writable files", sc::local, "group"},
  {"remote", "slow_link_warning", VT::boolean, "true", "warn about slow links", sc::local},
  // s3
  {"remote", "region", VT::string, "", "S3 region", sc::s3},
  {"remote", "profile", VT::string, "", "credentials profile", sc::s3 | sc::gdrive},
  {"remote", "credentialpath", VT::string, "", "credentials file", sc::s3 | sc::gs, "", true},
  {"remote", "configpath", VT::string, "", "AWS config file", sc::s3},
  {"remote", "endpointurl", VT::string, "", "endpoint URL", sc::s3 | sc::gs},
  {"remote", "access_key_id", VT::string, "", "access key id", sc::s3},
  {"remote", "secret_access_key", VT::string, "", "secret access key", sc::s3},
  {"remote", "session_token", VT::string, "", "session token", sc::s3},
  {"remote", "listobjects", VT::boolean, "false", "obsolete", sc::s3},
  {"remote", "use_ssl", VT::boolean, "true", "use SSL", sc::s3},
  {"remote", "allow_anonymous_login", VT::boolean, "false", "anonymous access", sc::s3 | sc::gs | sc::azure},
  {"remote", "ssl_verify", VT::bool_or_string, "", "verify TLS (or CA bundle path)", sc::s3 | sc::webhdfs | sc::http | sc::webdav},
  {"remote", "sse", VT::string, "", "server-side encryption", sc::s3},
  {"remote", "sse_kms_key_id", VT::string, "", "SSE KMS key id", sc::s3},
  {"remote", "sse_customer_algorithm", VT::string, "", "SSE-C algorithm", sc::s3},
  {"remote", "sse_customer_key", VT::string, "", "SSE-C key", sc::s3},
  {"remote", "acl", VT::string, "", "canned ACL", sc::s3},
  {"remote", "grant_read", VT::string, "", "grant read", sc::s3},
  {"remote", "grant_read_acp", VT::string, "", "grant read ACP", sc::s3},
  {"remote", "grant_write_acp", VT::string, "", "grant write ACP", sc::s3},
  {"remote", "grant_full_control", VT::string, "", "grant full control", sc::s3},
  {"remote", "cache_regions", VT::boolean, "", "cache bucket regions", sc::s3},
  {"remote", "read_timeout", VT::integer, "", "read timeout (s)", sc::s3 | sc::azure},
  {"remote", "connect_timeout", VT::integer, "", "connect timeout (s)", sc::s3},
  // gs
  {"remote", "projectname", VT::string, "", "GCP project", sc::gs},
  // ssh
  {"remote", "port", VT::integer, "", "SSH port", sc::ssh},
  {"remote", "user", VT::string, "", "user name", sc::ssh | sc::hdfs | sc::webhdfs | sc::http | sc::webdav},
  {"remote", "password", VT::string, "", "password", sc::ssh | sc::webhdfs | sc::http | sc::webdav},
  {"remote", "ask_password", VT::boolean, "", "prompt for the password", sc::ssh | sc::http | sc::webdav},
  {"remote", "passphrase", VT::string, "", "key passphrase", sc::ssh},
  {"remote", "ask_passphrase", VT::boolean, "", "prompt for the passphrase", sc::ssh},
  {"remote", "keyfile", VT::string, "", "private key file", sc::ssh, "", true},
  {"remote", "timeout", VT::integer, "", "timeout (s)", sc::ssh | sc::azure | sc::webdav},
  {"remote", "gss_auth", VT::boolean, "", "GSS-API authentication", sc::ssh},
  {"remote", "allow_agent", VT::boolean, "", "use the SSH agent", sc::ssh},
  {"remote", "max_sessions", VT::integer, "", "max SSH sessions", sc::ssh},
  // hdfs
  {"remote", "kerb_ticket", VT::string, "", "Kerberos ticket cache", sc::hdfs},
  {"remote", "replication", VT::integer, "", "HDFS replication factor", sc::hdfs},
  // webhdfs
  {"remote", "kerberos", VT::boolean, "", "Kerberos authentication", sc::webhdfs},
  {"remote", "kerberos_principal", VT::string, "", "Kerberos principal", sc::webhdfs},
  {"remote", "proxy_to", VT::string, "", "proxy user", sc::webhdfs},
  {"remote", "token", VT::string, "", "token", sc::webhdfs | sc::webdav},
  {"remote", "use_https", VT::boolean, "", "use HTTPS", sc::webhdfs},
  {"remote", "data_proxy_target", VT::string, "", "data proxy target", sc::webhdfs},
  // azure
  {"remote", "connection_string", VT::string, "", "connection string", sc::azure},
  {"remote", "sas_token", VT::string, "", "SAS token", sc::azure},
  {"remote", "account_name", VT::string, "", "storage account", sc::azure},
  {"remote", "account_key", VT::string, "", "account key", sc::azure},
  {"remote", "tenant_id", VT::string, "", "tenant id", sc::azure},
  {"remote", "client_id", VT::string, "", "client id", sc::azure},
  {"remote", "client_secret", VT::string, "", "client secret", sc::azure},
  {"remote", "exclude_environment_credential", VT::boolean, "", "credential chain option", sc::azure},
  {"remote", "exclude_visual_studio_code_credential", VT::boolean, "", "credential chain option", sc::azure},
  {"remote", "exclude_shared_token_cache_credential", VT::boolean, "", "credential chain option", sc::azure},
  {"remote", "exclude_managed_identity_credential", VT::boolean, "", "credential chain option", sc::azure},
  {"remote", "connection_timeout", VT::integer, "", "connection timeout (s)", sc::azure},
  // oss
  {"remote", "oss_key_id", VT::string, "", "OSS key id", sc::oss},
  {"remote", "oss_key_secret", VT::string, "", "OSS key secret", sc::oss},
  {"remote", "oss_endpoint", VT::string, "", "OSS endpoint", sc::oss},
  // gdrive
  {"remote", "gdrive_use_service_account", VT::boolean, "", "use a service account", sc::gdrive},
  {"remote", "gdrive_client_id", VT::string, "", "OAuth client id", sc::gdrive},
  {"remote", "gdrive_client_secret", VT::string, "", "OAuth client secret", sc::gdrive},
  {"remote", "gdrive_user_credentials_file", VT::string, "", "user credentials file", sc::gdrive, "", true},
  {"remote", "gdrive_service_account_user_email", VT::string, "", "impersonated user", sc::gdrive},
  {"remote", "gdrive_service_account_json_file_path", VT::string, "", "service account key file", sc::gdrive, "", true},
  {"remote", "gdrive_trash_only", VT::boolean, "false", "trash instead of delete", sc::gdrive},
  {"remote", "gdrive_acknowledge_abuse", VT::boolean, "false", "download flagged files", sc::gdrive},
  // http / https
  {"remote", "auth", VT::choice, "", "authentication method", sc::http, "basic, digest, custom"},
  {"remote", "custom_auth_header", VT::string, "", "header for custom auth", sc::http | sc::webdav},
  {"remote", "method", VT::string, "", "upload HTTP method", sc::http},
  {"remote", "connect_timeout", VT::non_negative_number, "", "connect timeout (s)", sc::http},
  {"remote", "read_timeout", VT::non_negative_number, "", "read timeout (s)", sc::http},
  // webdav / webdavs
  {"remote", "cert_path", VT::string, "", "client certificate", sc::webdav, "", true},
  {"remote", "key_path", VT::string, "", "client certificate key", sc::webdav, "", true},
  // state, index (obsolete)
  {"state", "dir", VT::string, "", "obsolete"},
  {"state", "row_limit", VT::positive_int, "", "obsolete"},
  {"state", "row_cleanup_quota", VT::percent, "", "obsolete"},
  {"index", "dir", VT::string, "", "obsolete"},
  // machine "<name>"
  {"machine", "cloud", VT::choice, "", "cloud provider", 0, "aws, azure"},
  {"machine", "region", VT::choice, "", "region", 0, "us-west, us-east, eu-west, eu-north"},
  {"machine", "image", VT::string, "", "machine image"},
  {"machine", "spot", VT::boolean, "", "spot instance"},
  {"machine", "spot_price", VT::number, "", "max spot price"},
  {"machine", "instance_hdd_size", VT::integer, "", "disk size (GB)"},
  {"machine", "instance_type", VT::lower, "", "instance type"},
  {"machine", "instance_gpu", VT::lower, "", "GPU type"},
  {"machine", "ssh_private", VT::string, "", "SSH private key"},
  {"machine", "startup_script", VT::string, "", "startup script", 0, "", true},
  {"machine", "setup_script", VT::string, "", "setup script", 0, "", true},
  // feature
  {"feature", "machine", VT::boolean, "false", "enable machines"},
  // plots
  {"plots", "html_template", VT::string, "", "HTML template"},
  {"plots", "auto_open", VT::boolean, "false", "open plots in a browser"},
  {"plots", "out_dir", VT::string, "", "output directory"},
  {"plots", "offline", VT::boolean, "false", "dvx: inline Vega in the plots page (no network needed)"},
  // exp
  {"exp", "code", VT::string, "", "obsolete"},
  {"exp", "data", VT::string, "", "obsolete"},
  {"exp", "models", VT::string, "", "obsolete"},
  {"exp", "metrics", VT::string, "", "obsolete"},
  {"exp", "params", VT::string, "", "obsolete"},
  {"exp", "plots", VT::string, "", "obsolete"},
  {"exp", "live", VT::string, "", "obsolete"},
  {"exp", "auto_push", VT::boolean, "", "push experiments after run"},
  {"exp", "git_remote", VT::string, "", "Git remote for auto_push"},
  // parsing
  {"parsing", "bool", VT::choice, "store_true", "how booleans expand in cmd", 0, "store_true, boolean_optional"},
  {"parsing", "list", VT::choice, "nargs", "how lists expand in cmd", 0, "nargs, append"},
  // hydra
  {"hydra", "enabled", VT::boolean, "false", "compose params with Hydra"},
  {"hydra", "config_dir", VT::string, "", "Hydra config directory"},
  {"hydra", "config_module", VT::string, "", "Hydra config module"},
  {"hydra", "config_name", VT::string, "", "Hydra config name"},
  {"hydra", "plugins_path", VT::string, "", "Hydra plugins path"},
  // studio
  {"studio", "token", VT::string, "", "Studio token"},
  {"studio", "url", VT::string, "", "Studio URL"},
  {"studio", "repo_url", VT::string, "", "repository URL for Studio"},
  {"studio", "offline", VT::boolean, "false", "do not contact Studio"},
  // db "<name>"
  {"db", "url", VT::string, "", "database URL"},
  {"db", "username", VT::string, "", "user name"},
  {"db", "password", VT::string, "", "password"},
};
// clang-format on

constexpr std::string_view kSections[] = {"core", "cache",   "remote", "state", "index", "machine", "feature",
                                          "plots", "exp", "parsing", "hydra", "studio", "db"};

std::optional<double> parse_float(std::string_view s) {
  std::string t(trim(s));
  if (t.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

}  // namespace

std::span<const KeyInfo> key_table() { return kKeys; }

bool is_known_section(std::string_view section) {
  return std::find(std::begin(kSections), std::end(kSections), section) != std::end(kSections);
}

bool is_named_kind(std::string_view kind) { return kind == "remote" || kind == "machine" || kind == "db"; }

std::optional<unsigned> remote_scheme(std::string_view url, std::string* scheme_name) {
  // urllib.parse.urlparse: a scheme is [A-Za-z][A-Za-z0-9+.-]* before ':'; a netloc needs "//".
  size_t colon = url.find(':');
  std::string sch;
  if (colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(url[0]))) {
    bool ok = true;
    for (size_t i = 0; i < colon; ++i) {
      char c = url[i];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') ok = false;
    }
    if (ok) sch = to_lower(url.substr(0, colon));
  }
  if (scheme_name) *scheme_name = sch;
  if (sch.empty()) return scheme::local;
  std::string_view rest = url.substr(colon + 1);
  if (!rest.starts_with("//")) return scheme::local;
  rest.remove_prefix(2);
  size_t end = rest.find_first_of("/?#");
  if ((end == std::string_view::npos ? rest : rest.substr(0, end)).empty()) return scheme::local;
  if (sch == "s3") return scheme::s3;
  if (sch == "gs") return scheme::gs;
  if (sch == "ssh") return scheme::ssh;
  if (sch == "hdfs") return scheme::hdfs;
  if (sch == "webhdfs") return scheme::webhdfs;
  if (sch == "azure") return scheme::azure;
  if (sch == "oss") return scheme::oss;
  if (sch == "gdrive") return scheme::gdrive;
  if (sch == "http" || sch == "https") return scheme::http;
  if (sch == "webdav" || sch == "webdavs") return scheme::webdav;
  if (sch == "remote") return 0u;
  return std::nullopt;
}

const KeyInfo* find_key(std::string_view section, std::string_view name, unsigned scheme_bit) {
  for (const auto& k : kKeys) {
    if (k.section != section || k.name != name) continue;
    if (section == "remote" && (k.schemes & scheme_bit) == 0) continue;
    return &k;
  }
  return nullptr;
}

std::optional<long long> parse_int(std::string_view s) {
  std::string t(trim(s));
  if (t.empty()) return std::nullopt;
  size_t i = (t[0] == '+' || t[0] == '-') ? 1 : 0;
  if (i == t.size()) return std::nullopt;
  for (size_t k = i; k < t.size(); ++k)
    if (!std::isdigit(static_cast<unsigned char>(t[k]))) return std::nullopt;
  errno = 0;
  long long v = std::strtoll(t.c_str(), nullptr, 10);
  if (errno == ERANGE) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string l = to_lower(s);
  if (l == "true") return true;
  if (l == "false") return false;
  return std::nullopt;
}

std::vector<std::string> cache_type_list(const formats::IniOption& value) {
  if (value.is_list) return value.items;
  std::vector<std::string> out;
  for (const auto& part : split(value.value, ',')) out.emplace_back(trim(part));
  return out;
}

std::optional<std::string> check_value(const KeyInfo& key, const formats::IniOption& v) {
  switch (key.type) {
    case VT::string:
    case VT::lower:
    case VT::bool_or_string:
      if (v.is_list) return "expected str";
      return std::nullopt;
    case VT::boolean:
      if (v.is_list || !parse_bool(v.value)) return "expected true or false";
      return std::nullopt;
    case VT::positive_int:
    case VT::integer:
    case VT::percent: {
      auto n = v.is_list ? std::nullopt : parse_int(v.value);
      if (!n) return "expected int";
      if (key.type == VT::positive_int && *n < 1) return "value must be at least 1";
      if (key.type == VT::percent && *n < 0) return "value must be at least 0";
      if (key.type == VT::percent && *n > 100) return "value must be at most 100";
      return std::nullopt;
    }
    case VT::non_negative_number:
    case VT::number: {
      auto n = v.is_list ? std::nullopt : parse_float(v.value);
      if (!n) return "expected float";
      if (key.type == VT::non_negative_number && *n < 0) return "value must be at least 0";
      return std::nullopt;
    }
    case VT::cache_types: {
      std::vector<std::string> bad;
      for (const auto& t : cache_type_list(v)) {
        if (t == "reflink" || t == "hardlink" || t == "symlink" || t == "copy") continue;
        if (std::find(bad.begin(), bad.end(), t) == bad.end()) bad.push_back(t);
      }
      if (!bad.empty()) return "Unsupported cache type(s): " + join(bad, ", ");
      return std::nullopt;
    }
    case VT::choice: {
      if (!v.is_list) {
        std::string l = to_lower(v.value);
        for (const auto& c : split(key.choices, ','))
          if (trim(c) == l) return std::nullopt;
      }
      return "expected one of " + std::string(key.choices);
    }
  }
  return std::nullopt;
}

}  // namespace dvx::config
