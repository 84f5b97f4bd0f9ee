// Remote storage: a blob store addressed by relative keys ("files/md5/ab/cdef..."), with one
// small interface implemented once per backend and built from the URL scheme by a registry.
// "Not found" is a value (false / nullopt), not an error. Keys are validated by the caller
// (transfer) and never contain ".." or a leading "/".
// Thread-safety: backends must allow concurrent calls of every method.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dvx/base/result.h"
#include "dvx/odb/object_db.h"
#include "dvx/platform/files.h"

namespace dvx::remote {

class Remote {
 public:
  virtual ~Remote() = default;
  // Human-readable location (never contains credentials).
  virtual std::string describe() const = 0;
  virtual Result<bool> exists(const std::string& key) const = 0;
  // Uploads a local file under `key`, atomically where the storage allows (temp + rename).
  // With `verify` set (the object the key stores), the bytes are hashed while uploaded and
  // nothing is published when they do not hash to it (error code corruption): a corrupted
  // cache object never becomes a remote object.
  virtual Status put(const std::string& local_path, const std::string& key,
                     const odb::ObjectId* verify = nullptr) const = 0;
  // Downloads `key` to `local_path` (which must not exist); false when the key is absent.
  // When `observe` is set it receives every downloaded byte in order (the caller hashes the
  // object while it is written, so verifying costs no second read).
  virtual Result<bool> get(const std::string& key, const std::string& local_path,
                           const platform::ByteObserver& observe) const = 0;
  // Reads a small object whole: `read` with its bytes in `out` when it is at most `limit`
  // bytes, `too_big` when larger (or when the backend prefers streaming: then use get()),
  // `absent` when the key does not exist. Lets the caller hash many objects side by side.
  enum class SmallRead { read, too_big, absent };
  virtual Result<SmallRead> get_small(const std::string& key, size_t limit, std::string& out) const {
    (void)key, (void)limit, (void)out;
    return SmallRead::too_big;
  }
  // The largest object put_small() uploads from memory (0: none; callers use put()).
  virtual uint64_t small_put_limit() const { return 0; }
  // Uploads `bytes`, a small object the caller has read whole and checked (several hashed side
  // by side), under `key`, as put() would; `bytes` may be consumed. Only up to small_put_limit().
  virtual Status put_small(const std::string& key, std::string& bytes) const {
    (void)key, (void)bytes;
    return fail(ErrorCode::invalid_argument, "this remote uploads from files only");
  }
  // Every key below `prefix` (e.g. "files/md5/"), relative to the remote root.
  virtual Result<std::vector<std::string>> list(const std::string& prefix) const = 0;
  virtual Status remove(const std::string& key) const = 0;

  // Many uploads published together where the storage makes that cheaper. put() may be called
  // from many threads; nothing need be visible before commit().
  class Batch {
   public:
    virtual ~Batch() = default;
    virtual Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) = 0;
    virtual Status commit() = 0;
  };
  // A batch for this remote, or nullptr when it has none (the caller then uses put()).
  virtual std::unique_ptr<Batch> batch() const { return nullptr; }
};

using RemoteOptions = std::map<std::string, std::string>;

// Builds the backend for a URL (a local path must already be absolute). Unknown scheme ->
// invalid_argument "unsupported URL type <scheme>://".
Result<std::unique_ptr<Remote>> open_remote(const std::string& url, const RemoteOptions& options);

// A remote option's boolean value, any case, spaces around ignored: "true", "1" or "yes" is
// true; "false", "0" or "no" is false; anything else is neither (nullopt).
std::optional<bool> option_bool(std::string_view value);
// ssl_verify: true/false, or the path of a CA bundle to verify against (DVC's forms).
void apply_ssl_verify(std::string_view value, bool& verify, std::string& ca_bundle);

}  // namespace dvx::remote
