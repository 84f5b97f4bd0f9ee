// The scheme registry: open_remote builds the backend for a remote's URL.
#include "dvx/remote/remote.h"

#include <cstdlib>

#include "dvx/remote/azure_remote.h"
#include "dvx/remote/gcs_remote.h"
#include "dvx/remote/http_remote.h"
#include "dvx/remote/local_remote.h"
#include "dvx/remote/s3_remote.h"
#include "dvx/remote/sftp_remote.h"

namespace dvx::remote {

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
    return std::unique_ptr<Remote>(new SftpRemote(std::move(*settings)));
  }
  if (scheme == "http" || scheme == "https" || scheme == "webdav" || scheme == "webdavs") {
    auto settings = dav::resolve_settings(url, options);
    if (!settings) return std::unexpected(settings.error());
    return std::unique_ptr<Remote>(new HttpRemote(std::move(*settings)));
  }
  return fail(ErrorCode::invalid_argument, "remote storage '" + scheme + "://' is not supported yet by dvx");
}

}  // namespace dvx::remote
