// The scheme registry: open_remote builds the backend for a remote's URL.
#include "dvx/remote/remote.h"

#include <cstdlib>
#include <map>
#include <mutex>

#include "dvx/remote/azure_remote.h"
#include "dvx/remote/gcs_remote.h"
#include "dvx/remote/http_remote.h"
#include "dvx/remote/local_remote.h"
#include "dvx/remote/s3_remote.h"
#include "dvx/remote/sftp_remote.h"
#include "dvx/base/strings.h"
#include "dvx/platform/terminal.h"

namespace dvx::remote {

namespace {

bool option_set(const RemoteOptions& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && option_bool(it->second) == true;
}

// A secret the remote's ask_password/ask_passphrase asks for, once per process and prompt (DVC's
// prompts), on the terminal; without one, an error that says how to set it instead.
Result<std::string> ask(const std::string& prompt, const std::string& option, const std::string& url) {
  static std::mutex m;
  static std::map<std::string, std::string> answered;
  std::lock_guard<std::mutex> lock(m);
  if (auto it = answered.find(prompt); it != answered.end()) return it->second;
  auto got = platform::ask_secret(prompt);
  if (!got)
    return fail(ErrorCode::auth, "cannot ask for the " + option + " of '" + url + "': " + got.error().message +
                                     "; set '" + option + "' with 'dvx remote modify --local' instead");
  return answered.emplace(prompt, *got).first->second;
}

}  // namespace

std::optional<bool> option_bool(std::string_view value) {
  std::string l = to_lower(trim(value));
  if (l == "true" || l == "1" || l == "yes") return true;
  if (l == "false" || l == "0" || l == "no") return false;
  return std::nullopt;
}

void apply_ssl_verify(std::string_view value, bool& verify, std::string& ca_bundle) {
  auto b = option_bool(value);
  if (b) verify = *b;
  else ca_bundle = std::string(value);
}

Result<std::unique_ptr<Remote>> open_remote(const std::string& url, const RemoteOptions& options) {
  auto pos = url.find("://");
  if (pos == std::string::npos) return std::unique_ptr<Remote>(new LocalRemote(url));
  std::string scheme = url.substr(0, pos);
  if (scheme == "file") return std::unique_ptr<Remote>(new LocalRemote(url.substr(pos + 3)));
  auto getenv = [](const char* name) -> std::optional<std::string> {
    const char* v = std::getenv(name);
    if (!v) return std::nullopt;
    return std::string(v);
  };
  if (scheme == "s3") {
    auto settings = s3::resolve_settings(url, options, getenv);
    if (!settings) return std::unexpected(settings.error());
    return std::unique_ptr<Remote>(new S3Remote(std::move(*settings)));
  }
  if (scheme == "azure" || scheme == "az") {
    auto settings = azure::resolve_settings(url, options, getenv);
    if (!settings) return std::unexpected(settings.error());
    return std::unique_ptr<Remote>(new AzureRemote(std::move(*settings)));
  }
  if (scheme == "gs") {
    auto settings = gcs::resolve_settings(url, options, getenv);
    if (!settings) return std::unexpected(settings.error());
    return std::unique_ptr<Remote>(new GcsRemote(std::move(*settings)));
  }
  if (scheme == "ssh") {
    auto settings = sftp::resolve_settings(url, options, getenv);
    if (!settings) return std::unexpected(settings.error());
    const std::string where = "host '" + settings->host + "' port '" + std::to_string(settings->port) + "' user '" +
                              settings->user + "':\n";
    const std::string shown = "ssh://" + settings->user + "@" + settings->host + ":" + std::to_string(settings->port);
    if (settings->password.empty() && option_set(options, "ask_password")) {
      auto p = ask("Enter a password for " + where, "password", shown);
      if (!p) return std::unexpected(p.error());
      settings->password = *p;
    }
    if (settings->passphrase.empty() && option_set(options, "ask_passphrase")) {
      auto p = ask("Enter a private key passphrase for " + where, "passphrase", shown);
      if (!p) return std::unexpected(p.error());
      settings->passphrase = *p;
    }
    return std::unique_ptr<Remote>(new SftpRemote(std::move(*settings)));
  }
  if (scheme == "http" || scheme == "https" || scheme == "webdav" || scheme == "webdavs") {
    auto settings = dav::resolve_settings(url, options);
    if (!settings) return std::unexpected(settings.error());
    if (settings->password.empty() && option_set(options, "ask_password")) {
      std::string host = settings->origin.substr(settings->origin.find("://") + 3);
      if (host.starts_with('[')) host = host.substr(1, host.find(']') - 1);
      else host = host.substr(0, host.find(':'));
      auto p = ask("Enter a password for host '" + host + "' user '" + settings->user + "':\n", "password",
                   settings->display);
      if (!p) return std::unexpected(p.error());
      settings->password = *p;
    }
    return std::unique_ptr<Remote>(new HttpRemote(std::move(*settings)));
  }
  return fail(ErrorCode::invalid_argument, "remote storage '" + scheme + "://' is not supported yet by dvx");
}

}  // namespace dvx::remote
