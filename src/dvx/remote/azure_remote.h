// An Azure Blob Storage remote: `azure://container/prefix`, blobs under `<prefix>/files/md5/…`
// exactly as the local remote lays them out. Requests go to the account's Blob endpoint
// (`https://<account>.blob.core.windows.net`, or the connection string's BlobEndpoint, e.g.
// Azurite's path-style `http://127.0.0.1:10000/devstoreaccount1`) over libcurl (http_client.h).
//   exists = HEAD; put = one Put Blob streamed from the file, or from `DVX_AZURE_BLOCK_THRESHOLD`
//   bytes (default 64 MiB) Put Block per `DVX_AZURE_BLOCK_SIZE` bytes, `DVX_AZURE_BLOCK_PARALLEL`
//   (default 4) at once, then Put Block List (both
//   atomic: nothing is visible before the last request); get = GET streamed to the file;
//   list = List Blobs with prefix, page by page (marker); remove = DELETE.
// Authorization: Shared Key (account key) or a SAS token, from the remote's options
// (connection_string, else account_name with account_key / sas_token), else the environment
// (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_ACCOUNT with AZURE_STORAGE_KEY or
// AZURE_STORAGE_SAS_TOKEN); `allow_anonymous_login` sends requests unsigned (public containers).
// Explicit account_key / sas_token options win over the connection string's credentials.
// Messages name the request and the blob, never a key or a SAS signature.
// Thread-safety: safe for concurrent use (requests share a pool of connections).
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

namespace azure {

struct Settings {
  std::string container;
  std::string prefix;    // without leading or trailing '/'; "" at the container's root
  std::string endpoint;  // scheme://host[:port][/path] (no trailing '/')
  std::string account;
  std::string key;       // the decoded account key ("" when not signing with Shared Key)
  std::string sas;       // the SAS token without its leading '?' ("" when none)
  bool anonymous = false;
  http::Options http;
  uint64_t block_threshold = 64ull << 20;  // as the Azure SDKs' max_single_put_size
  uint64_t block_size = 8ull << 20;
  int block_parallel = 4;  // blocks of one blob in flight at once
  int list_page = 5000;  // maxresults of one List Blobs page
};

// The settings of an `azure://` URL with the remote's options and the environment (`env`
// looks a variable up: getenv in production). Errors say which setting is missing or wrong,
// never its value.
Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env);

// One List Blobs page: blob names (entities decoded) and the next marker when there is one.
struct ListPage {
  std::vector<std::string> names;
  std::optional<std::string> next_marker;
};
ListPage parse_list_page(std::string_view xml);

}  // namespace azure

class AzureRemote final : public Remote {
 public:
  explicit AzureRemote(azure::Settings settings);
  std::string describe() const override;
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<SmallRead> get_small(const std::string& key, size_t limit, std::string& out) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;

 private:
  using Query = std::vector<std::pair<std::string, std::string>>;
  // A request for a blob (`key` relative to the prefix), or the container when key is nullptr.
  http::Request request(std::string method, const std::string* key, Query query, std::string what) const;
  Status perform(http::Request& req, const Query& query) const;
  std::string where(const std::string& key) const;  // "azure://container/prefix/key"
  Error http_error(const http::Request& req) const;
  Status put_blocks(const std::string& local_path, const std::string& key, uint64_t size,
                    const odb::ObjectId* verify) const;
  // A 404 without an error code (HEAD) does not say whether the blob or the container is
  // missing: the container is checked once per remote.
  Status check_container() const;

  azure::Settings m_s;
  std::string m_base_path;  // the endpoint's path ("/devstoreaccount1" for Azurite, else "")
  http::Client m_client;
  mutable std::once_flag m_container_once;
  mutable Status m_container_status;
};

}  // namespace dvx::remote
