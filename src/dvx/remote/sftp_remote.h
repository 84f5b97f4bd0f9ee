// An SSH/SFTP remote: `ssh://[user@]host[:port]/path`, objects under `<path>/files/md5/…` exactly
// as the local remote lays them out. libssh (`libssh.so.4`) is loaded with dlopen on the first
// connection (like libcurl for S3: commands that never touch SFTP pay nothing for it).
//   exists = stat; put = upload to a temp name in the destination folder, then rename
//   (posix-rename@openssh.com, replacing an existing object), folders made as needed and
//   remembered; each write waits for its answer (libssh 0.10 has no asynchronous write), so a
//   big file's next chunk is read and hashed meanwhile; get = streamed read into the local file; list = recursive walk of the prefix;
//   remove = unlink.
// Options (`remote modify`): user, port, keyfile, passphrase, password, allow_agent (default true),
// timeout (seconds, default 30), max_sessions (connections kept, default 8). The URL's user and
// port win over the options' defaults as in DVC (options override the URL when both are set).
// Host keys are checked against `$HOME/.ssh/known_hosts` (and the system-wide file): an unknown
// or changed key is an error naming the host and the command that would fix it.
// Authentication: keyfile, the agent (SSH_AUTH_SOCK, unless allow_agent is false), the default
// keys of `$HOME/.ssh` (id_ed25519, id_ecdsa, id_rsa), then the password. Messages never contain
// the password or the passphrase.
// Thread-safety: safe for concurrent use: each call leases one connection (an SSH session with
// its SFTP channel) from a bounded pool; connections are reused across calls.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "dvx/remote/remote.h"

namespace dvx::remote {

namespace sftp {

struct Settings {
  std::string host;
  int port = 22;
  std::string user;  // "" = the local user name
  std::string root;  // the remote folder ("/srv/dvc"; relative to the login folder without a leading '/')
  std::string keyfile;
  std::string passphrase;
  std::string password;
  bool allow_agent = true;
  long timeout = 30;
  int max_sessions = 8;
  std::string ssh_dir;  // $HOME/.ssh: known_hosts, default keys
};

// The settings of an `ssh://` URL with the remote's options; `env` looks a variable up (getenv
// in production). Errors name the wrong setting.
Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env);

}  // namespace sftp

class SftpRemote final : public Remote {
 public:
  explicit SftpRemote(sftp::Settings settings);
  ~SftpRemote() override;
  std::string describe() const override;
  Result<bool> exists(const std::string& key) const override;
  Status put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify = nullptr) const override;
  Result<bool> get(const std::string& key, const std::string& local_path,
                   const platform::ByteObserver& observe) const override;
  Result<std::vector<std::string>> list(const std::string& prefix) const override;
  Status remove(const std::string& key) const override;

  struct Conn;  // one SSH session and its SFTP channel (sftp_remote.cpp)

 private:
  // An idle connection, else a new one under max_sessions; when all are taken, waits for one to
  // be released, or with `wait` false returns nullptr at once (extra connections that must
  // never wait: no deadlock with the transfer workers holding the others).
  Result<Conn*> acquire(bool wait = true) const;
  // One range of a local file into the remote file `tmp` (already created), on `c`.
  Status write_range(Conn& c, int fd, const std::string& tmp, uint64_t begin, uint64_t end,
                     const std::string& what) const;
  // A large file written by up to 4 connections at once, then made read-only and renamed.
  Status put_parallel(Conn& c, int fd, uint64_t size, const std::string& tmp, const std::string& dst,
                      const std::string& what) const;
  void release(Conn* c, bool broken) const;
  Result<Conn*> connect() const;
  // Runs `op` on a leased connection; a lost connection is dropped and, while `may_retry()`
  // says so, the call is repeated on a new one (with backoff).
  template <class T>
  Result<T> with_conn(const std::string& what, const std::function<Result<T>(Conn&)>& op,
                      const std::function<bool()>& may_retry) const;
  Status make_dirs(Conn& c, const std::string& dir) const;
  std::string path_of(const std::string& key) const;
  std::string where(const std::string& key) const;  // "ssh://user@host:port/path/key"

  sftp::Settings m_s;
  mutable std::mutex m_mutex;
  mutable std::condition_variable m_cv;
  mutable std::vector<Conn*> m_idle;
  mutable int m_live = 0;  // connections open or being opened
  // A failed connection attempt is remembered briefly so the other workers fail at once.
  mutable std::optional<Error> m_down;
  mutable std::chrono::steady_clock::time_point m_down_until;
  mutable std::mutex m_dirs_mutex;
  mutable std::unordered_set<std::string> m_dirs;  // remote folders known to exist
};

}  // namespace dvx::remote
