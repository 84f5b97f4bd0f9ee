#include "dvx/remote/sftp_remote.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <libssh/libssh.h>
#include <libssh/sftp.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <deque>
#include <random>
#include <thread>

#include "dvx/base/strings.h"
#include "dvx/hash/md5.h"
#include "dvx/platform/durable.h"
#include "dvx/platform/files.h"

namespace dvx::remote {

namespace fsx = dvx::platform;

// ---------------------------------------------------------------------------------------------
// libssh, loaded on the first connection.

namespace {

struct SshApi {
  ssh_session (*new_session)() = nullptr;
  void (*free_session)(ssh_session) = nullptr;
  int (*options_set)(ssh_session, enum ssh_options_e, const void*) = nullptr;
  int (*connect)(ssh_session) = nullptr;
  void (*disconnect)(ssh_session) = nullptr;
  const char* (*get_error)(void*) = nullptr;
  int (*get_error_code)(void*) = nullptr;
  int (*is_connected)(ssh_session) = nullptr;
  enum ssh_known_hosts_e (*is_known_server)(ssh_session) = nullptr;
  int (*get_server_publickey)(ssh_session, ssh_key*) = nullptr;
  int (*get_publickey_hash)(const ssh_key, enum ssh_publickey_hash_type, unsigned char**, size_t*) = nullptr;
  char* (*get_fingerprint_hash)(enum ssh_publickey_hash_type, unsigned char*, size_t) = nullptr;
  void (*clean_pubkey_hash)(unsigned char**) = nullptr;
  void (*string_free_char)(char*) = nullptr;
  void (*key_free)(ssh_key) = nullptr;
  int (*userauth_none)(ssh_session, const char*) = nullptr;
  int (*userauth_publickey)(ssh_session, const char*, const ssh_key) = nullptr;
  int (*userauth_agent)(ssh_session, const char*) = nullptr;
  int (*userauth_password)(ssh_session, const char*, const char*) = nullptr;
  int (*pki_import_privkey_file)(const char*, const char*, ssh_auth_callback, void*, ssh_key*) = nullptr;
  sftp_session (*sftp_new)(ssh_session) = nullptr;
  int (*sftp_init)(sftp_session) = nullptr;
  void (*sftp_free)(sftp_session) = nullptr;
  int (*sftp_get_error)(sftp_session) = nullptr;
  int (*sftp_extension_supported)(sftp_session, const char*, const char*) = nullptr;
  sftp_file (*sftp_open)(sftp_session, const char*, int, mode_t) = nullptr;
  int (*sftp_close)(sftp_file) = nullptr;
  ssize_t (*sftp_write)(sftp_file, const void*, size_t) = nullptr;
  int (*sftp_seek64)(sftp_file, uint64_t) = nullptr;
  int (*sftp_chmod)(sftp_session, const char*, mode_t) = nullptr;
  int (*sftp_async_read_begin)(sftp_file, uint32_t) = nullptr;
  int (*sftp_async_read)(sftp_file, void*, uint32_t, uint32_t) = nullptr;
  sftp_attributes (*sftp_stat)(sftp_session, const char*) = nullptr;
  void (*sftp_attributes_free)(sftp_attributes) = nullptr;
  int (*sftp_mkdir)(sftp_session, const char*, mode_t) = nullptr;
  int (*sftp_rename)(sftp_session, const char*, const char*) = nullptr;
  int (*sftp_unlink)(sftp_session, const char*) = nullptr;
  sftp_dir (*sftp_opendir)(sftp_session, const char*) = nullptr;
  sftp_attributes (*sftp_readdir)(sftp_session, sftp_dir) = nullptr;
  int (*sftp_dir_eof)(sftp_dir) = nullptr;
  int (*sftp_closedir)(sftp_dir) = nullptr;
};

Result<const SshApi*> ssh_api() {
  static std::string error;
  static SshApi api;
  static bool ok = [] {
    void* h = dlopen("libssh.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      error = std::string("cannot load libssh (libssh.so.4), needed for ssh:// remotes: ") + (e ? e : "");
      return false;
    }
    auto sym = [&](auto& fn, const char* name) {
      void* p = dlsym(h, name);
      if (!p && error.empty()) error = std::string("libssh lacks ") + name;
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(p);
    };
    sym(api.new_session, "ssh_new");
    sym(api.free_session, "ssh_free");
    sym(api.options_set, "ssh_options_set");
    sym(api.connect, "ssh_connect");
    sym(api.disconnect, "ssh_disconnect");
    sym(api.get_error, "ssh_get_error");
    sym(api.get_error_code, "ssh_get_error_code");
    sym(api.is_connected, "ssh_is_connected");
    sym(api.is_known_server, "ssh_session_is_known_server");
    sym(api.get_server_publickey, "ssh_get_server_publickey");
    sym(api.get_publickey_hash, "ssh_get_publickey_hash");
    sym(api.get_fingerprint_hash, "ssh_get_fingerprint_hash");
    sym(api.clean_pubkey_hash, "ssh_clean_pubkey_hash");
    sym(api.string_free_char, "ssh_string_free_char");
    sym(api.key_free, "ssh_key_free");
    sym(api.userauth_none, "ssh_userauth_none");
    sym(api.userauth_publickey, "ssh_userauth_publickey");
    sym(api.userauth_agent, "ssh_userauth_agent");
    sym(api.userauth_password, "ssh_userauth_password");
    sym(api.pki_import_privkey_file, "ssh_pki_import_privkey_file");
    sym(api.sftp_new, "sftp_new");
    sym(api.sftp_init, "sftp_init");
    sym(api.sftp_free, "sftp_free");
    sym(api.sftp_get_error, "sftp_get_error");
    sym(api.sftp_extension_supported, "sftp_extension_supported");
    sym(api.sftp_open, "sftp_open");
    sym(api.sftp_close, "sftp_close");
    sym(api.sftp_write, "sftp_write");
    sym(api.sftp_seek64, "sftp_seek64");
    sym(api.sftp_chmod, "sftp_chmod");
    sym(api.sftp_async_read_begin, "sftp_async_read_begin");
    sym(api.sftp_async_read, "sftp_async_read");
    sym(api.sftp_stat, "sftp_stat");
    sym(api.sftp_attributes_free, "sftp_attributes_free");
    sym(api.sftp_mkdir, "sftp_mkdir");
    sym(api.sftp_rename, "sftp_rename");
    sym(api.sftp_unlink, "sftp_unlink");
    sym(api.sftp_opendir, "sftp_opendir");
    sym(api.sftp_readdir, "sftp_readdir");
    sym(api.sftp_dir_eof, "sftp_dir_eof");
    sym(api.sftp_closedir, "sftp_closedir");
    return error.empty();
  }();
  if (!ok) return fail(ErrorCode::io, error);
  return &api;
}

const char* sftp_error_name(int code) {
  switch (code) {
    case SSH_FX_EOF: return "end of file";
    case SSH_FX_NO_SUCH_FILE: return "no such file";
    case SSH_FX_PERMISSION_DENIED: return "permission denied";
    case SSH_FX_FAILURE: return "failure";
    case SSH_FX_BAD_MESSAGE: return "bad message";
    case SSH_FX_NO_CONNECTION: return "no connection";
    case SSH_FX_CONNECTION_LOST: return "connection lost";
    case SSH_FX_OP_UNSUPPORTED: return "operation unsupported";
    case SSH_FX_FILE_ALREADY_EXISTS: return "file already exists";
    case SSH_FX_WRITE_PROTECT: return "write protected";
    default: return "error";
  }
}

std::string local_user() {
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (struct passwd* pw = getpwuid(getuid())) return pw->pw_name;
  return "";
}

std::optional<std::string> opt_of(const RemoteOptions& o, const char* k) {
  auto it = o.find(k);
  if (it == o.end()) return std::nullopt;
  return it->second;
}

std::string random_suffix() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* digits = "0123456789abcdef";
  std::string s;
  uint64_t v = rng();
  for (int i = 0; i < 16; ++i, v >>= 4) s.push_back(digits[v & 15]);
  return s;
}

// Reads a file chunk by chunk and hashes each chunk; with `ahead` a helper thread reads and
// hashes the next chunk while the caller sends the current one (for big files: the hashing then
// costs no wall time). The bytes hashed are the bytes handed out.
class ChunkReader {
 public:
  ChunkReader(int fd, size_t chunk, hash::DigestStream* digest, bool ahead) : m_fd(fd), m_digest(digest) {
    for (auto& s : m_slots) s.buf.resize(chunk);
    if (ahead) m_thread = std::thread([this] { run(); });
  }
  ~ChunkReader() {
    if (!m_thread.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      m_stop = true;
    }
    m_cv.notify_all();
    m_thread.join();
  }
  // The next chunk, valid until the next call; empty at the end of the file; `err` set to an
  // errno when reading failed.
  std::string_view next(int& err) {
    if (!m_thread.joinable()) {
      fill(m_slots[0]);
      err = m_slots[0].err;
      return {m_slots[0].buf.data(), m_slots[0].len > 0 ? static_cast<size_t>(m_slots[0].len) : 0};
    }
    std::unique_lock<std::mutex> lock(m_mutex);
    if (m_given >= 0) m_slots[m_given].full = false;  // the caller is done with it
    m_cv.notify_all();
    Slot& s = m_slots[m_next];
    m_cv.wait(lock, [&] { return s.full; });
    m_given = m_next;
    m_next ^= 1;
    err = s.err;
    return {s.buf.data(), s.len > 0 ? static_cast<size_t>(s.len) : 0};
  }

 private:
  struct Slot {
    std::vector<char> buf;
    ssize_t len = 0;
    int err = 0;
    bool full = false;
  };
  void fill(Slot& s) {
    do s.len = ::read(m_fd, s.buf.data(), s.buf.size());
    while (s.len < 0 && errno == EINTR);
    s.err = s.len < 0 ? errno : 0;
    if (s.len > 0 && m_digest) m_digest->update(s.buf.data(), static_cast<size_t>(s.len));
  }
  void run() {
    for (int i = 0;; i ^= 1) {
      {
        std::unique_lock<std::mutex> lock(m_mutex);
        m_cv.wait(lock, [&] { return m_stop || !m_slots[i].full; });
        if (m_stop) return;
      }
      fill(m_slots[i]);
      bool last = m_slots[i].len <= 0;
      {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_slots[i].full = true;
      }
      m_cv.notify_all();
      if (last) return;
    }
  }

  int m_fd;
  hash::DigestStream* m_digest;
  Slot m_slots[2];
  int m_next = 0, m_given = -1;
  bool m_stop = false;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  std::thread m_thread;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// Settings.

namespace sftp {

Result<Settings> resolve_settings(const std::string& url, const RemoteOptions& options,
                                  const std::function<std::optional<std::string>(const char*)>& env) {
  Settings s;
  std::string rest = url.substr(url.find("://") + 3);
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  s.root = slash == std::string::npos ? "" : rest.substr(slash);
  while (s.root.size() > 1 && s.root.back() == '/') s.root.pop_back();
  if (auto at = authority.rfind('@'); at != std::string::npos) {
    s.user = authority.substr(0, at);
    authority = authority.substr(at + 1);
  }
  std::string port;
  if (!authority.empty() && authority[0] == '[') {
    size_t close = authority.find(']');
    if (close == std::string::npos) return fail(ErrorCode::invalid_argument, "bad host in '" + url + "'");
    s.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':') port = authority.substr(close + 2);
  } else if (auto colon = authority.rfind(':'); colon != std::string::npos) {
    s.host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  } else {
    s.host = authority;
  }
  if (s.host.empty()) return fail(ErrorCode::invalid_argument, "no host in '" + url + "'");
  auto parse_int = [&](const std::string& v, const char* what, long lo, long hi) -> Result<long> {
    char* end = nullptr;
    long n = std::strtol(v.c_str(), &end, 10);
    if (v.empty() || *end || n < lo || n > hi)
      return fail(ErrorCode::invalid_argument, std::string("bad ") + what + " '" + v + "' for '" + url + "'");
    return n;
  };
  if (auto p = opt_of(options, "port")) port = *p;
  if (!port.empty()) {
    auto n = parse_int(port, "port", 1, 65535);
    if (!n) return std::unexpected(n.error());
    s.port = static_cast<int>(*n);
  }
  if (auto u = opt_of(options, "user")) s.user = *u;
  if (s.user.empty()) s.user = local_user();
  if (auto v = opt_of(options, "keyfile")) s.keyfile = *v;
  if (auto v = opt_of(options, "password")) s.password = *v;
  if (auto v = opt_of(options, "passphrase")) s.passphrase = *v;
  if (auto v = opt_of(options, "allow_agent")) s.allow_agent = option_bool(*v) != false;
  if (auto v = opt_of(options, "timeout")) {
    auto n = parse_int(*v, "timeout", 1, 86400);
    if (!n) return std::unexpected(n.error());
    s.timeout = *n;
  }
  if (auto v = opt_of(options, "max_sessions")) {
    auto n = parse_int(*v, "max_sessions", 1, 64);
    if (!n) return std::unexpected(n.error());
    s.max_sessions = static_cast<int>(*n);
  }
  std::string home = env("HOME").value_or("");
  if (home.empty())
    if (struct passwd* pw = getpwuid(getuid())) home = pw->pw_dir;
  s.ssh_dir = home + "/.ssh";
  if (s.keyfile.starts_with("~/")) s.keyfile = home + s.keyfile.substr(1);
  return s;
}

}  // namespace sftp

// ---------------------------------------------------------------------------------------------
// Connections.

struct SftpRemote::Conn {
  ssh_session session = nullptr;
  sftp_session sftp = nullptr;
  bool big_writes = false;  // the server is OpenSSH's (it takes 256 KiB messages)

  ~Conn() {
    auto api = ssh_api();
    if (!api) return;
    if (sftp) (*api)->sftp_free(sftp);
    if (session) {
      (*api)->disconnect(session);
      (*api)->free_session(session);
    }
  }
  // The SFTP status of the last request, and libssh's message.
  int status() const { return (*ssh_api())->sftp_get_error(sftp); }
  bool lost() const {
    const SshApi& a = **ssh_api();
    int st = status();
    return !a.is_connected(session) || a.get_error_code(session) == SSH_FATAL || st == SSH_FX_CONNECTION_LOST ||
           st == SSH_FX_NO_CONNECTION;
  }
  // An error for a failed request: a lost connection is a network error (a retry may help).
  Error error(const std::string& what) const {
    const SshApi& a = **ssh_api();
    int st = status();
    if (lost()) {
      std::string detail = a.get_error(session);
      return Error{ErrorCode::network, what + ": connection lost" + (detail.empty() ? "" : " (" + detail + ")")};
    }
    ErrorCode code = st == SSH_FX_NO_SUCH_FILE         ? ErrorCode::not_found
                     : st == SSH_FX_PERMISSION_DENIED  ? ErrorCode::permission
                                                       : ErrorCode::io;
    return Error{code, what + ": " + sftp_error_name(st)};
  }
};

SftpRemote::SftpRemote(sftp::Settings settings) : m_s(std::move(settings)) {}

SftpRemote::~SftpRemote() {
  for (Conn* c : m_idle) delete c;
}

std::string SftpRemote::describe() const {
  return "ssh://" + m_s.user + "@" + m_s.host + ":" + std::to_string(m_s.port) + m_s.root;
}

std::string SftpRemote::path_of(const std::string& key) const {
  if (m_s.root.empty()) return key;
  if (m_s.root == "/") return "/" + key;
  return m_s.root + "/" + key;
}

std::string SftpRemote::where(const std::string& key) const {
  std::string d = describe();
  return key.empty() ? d : d + "/" + key;
}

Result<SftpRemote::Conn*> SftpRemote::connect() const {
  auto api_r = ssh_api();
  if (!api_r) return std::unexpected(api_r.error());
  const SshApi& a = **api_r;
  std::string host_port = m_s.host + ":" + std::to_string(m_s.port);
  auto conn = std::make_unique<Conn>();
  conn->session = a.new_session();
  if (!conn->session) return fail(ErrorCode::io, "cannot create an SSH session");
  ssh_session s = conn->session;
  unsigned int port = static_cast<unsigned int>(m_s.port);
  long timeout = m_s.timeout;
  std::string known_hosts = m_s.ssh_dir + "/known_hosts";
  a.options_set(s, SSH_OPTIONS_HOST, m_s.host.c_str());
  a.options_set(s, SSH_OPTIONS_PORT, &port);
  a.options_set(s, SSH_OPTIONS_USER, m_s.user.c_str());
  a.options_set(s, SSH_OPTIONS_TIMEOUT, &timeout);
  int nodelay = 1;  // each SFTP write waits for its answer: Nagle's delays would stall every request
  a.options_set(s, SSH_OPTIONS_NODELAY, &nodelay);
  a.options_set(s, SSH_OPTIONS_SSH_DIR, m_s.ssh_dir.c_str());
  a.options_set(s, SSH_OPTIONS_KNOWNHOSTS, known_hosts.c_str());
  if (a.connect(s) != SSH_OK)
    return fail(ErrorCode::network, "cannot connect to " + host_port + ": " + a.get_error(s));

  // The server's host key must be known.
  switch (a.is_known_server(s)) {
    case SSH_KNOWN_HOSTS_OK: break;
    case SSH_KNOWN_HOSTS_CHANGED:
    case SSH_KNOWN_HOSTS_OTHER: {
      std::string fp;
      ssh_key key = nullptr;
      if (a.get_server_publickey(s, &key) == SSH_OK) {
        unsigned char* hash = nullptr;
        size_t len = 0;
        if (a.get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &len) == SSH_OK) {
          char* f = a.get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, len);
          if (f) {
            fp = f;
            a.string_free_char(f);
          }
          a.clean_pubkey_hash(&hash);
        }
        a.key_free(key);
      }
      std::string name = m_s.port == 22 ? m_s.host : "[" + m_s.host + "]:" + std::to_string(m_s.port);
      return fail(ErrorCode::auth, "the host key of " + host_port + " does not match the one in " + known_hosts +
                                       (fp.empty() ? "" : " (the server offers " + fp + ")") +
                                       ": someone may be intercepting the connection; if the server's key was "
                                       "really replaced, remove the old entry with `ssh-keygen -f " + known_hosts +
                                       " -R '" + name + "'` and add the new one");
    }
    case SSH_KNOWN_HOSTS_UNKNOWN:
    case SSH_KNOWN_HOSTS_NOT_FOUND: {
      std::string port_arg = m_s.port == 22 ? "" : "-p " + std::to_string(m_s.port) + " ";
      return fail(ErrorCode::auth, "the host key of " + host_port + " is unknown (not in " + known_hosts +
                                       "): check the server's fingerprint and add its key, e.g. `ssh-keyscan " +
                                       port_arg + m_s.host + " >> " + known_hosts + "`, or connect once with ssh");
    }
    default:
      return fail(ErrorCode::io, "cannot check the host key of " + host_port + ": " + a.get_error(s));
  }

  // Authentication.
  std::string tried;
  int rc = a.userauth_none(s, nullptr);
  auto try_key = [&](const std::string& file, bool must_exist) -> std::optional<Error> {
    if (rc == SSH_AUTH_SUCCESS) return std::nullopt;
    if (!must_exist && ::access(file.c_str(), R_OK) != 0) return std::nullopt;
    ssh_key key = nullptr;
    if (a.pki_import_privkey_file(file.c_str(), m_s.passphrase.empty() ? nullptr : m_s.passphrase.c_str(), nullptr,
                                  nullptr, &key) != SSH_OK) {
      if (must_exist) return Error{ErrorCode::auth, "cannot read the private key '" + file + "' (a missing file or a wrong passphrase)"};
      return std::nullopt;
    }
    rc = a.userauth_publickey(s, nullptr, key);
    a.key_free(key);
    tried += tried.empty() ? "key " + file : ", key " + file;
    return std::nullopt;
  };
  if (!m_s.keyfile.empty())
    if (auto e = try_key(m_s.keyfile, true)) return std::unexpected(*e);
  if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && m_s.allow_agent && std::getenv("SSH_AUTH_SOCK")) {
    rc = a.userauth_agent(s, nullptr);
    tried += tried.empty() ? "the agent" : ", the agent";
  }
  if (m_s.keyfile.empty())
    for (const char* name : {"id_ed25519", "id_ecdsa", "id_rsa"})
      if (rc != SSH_AUTH_ERROR) (void)try_key(m_s.ssh_dir + "/" + name, false);
  if (rc != SSH_AUTH_SUCCESS && rc != SSH_AUTH_ERROR && !m_s.password.empty()) {
    rc = a.userauth_password(s, nullptr, m_s.password.c_str());
    tried += tried.empty() ? "the password" : ", the password";
  }
  if (rc == SSH_AUTH_ERROR)
    return fail(ErrorCode::network, "cannot authenticate to " + host_port + ": " + a.get_error(s));
  if (rc != SSH_AUTH_SUCCESS)
    return fail(ErrorCode::auth, "permission denied for " + m_s.user + "@" + host_port + " (tried " +
                                     (tried.empty() ? "no key or password: set keyfile or password" : tried) + ")");

  conn->sftp = a.sftp_new(s);
  if (!conn->sftp || a.sftp_init(conn->sftp) != SSH_OK)
    return fail(ErrorCode::network, "cannot start SFTP on " + host_port + ": " + a.get_error(s));
  conn->big_writes = a.sftp_extension_supported(conn->sftp, "posix-rename@openssh.com", "1") != 0;
  return conn.release();
}

Result<SftpRemote::Conn*> SftpRemote::acquire(bool wait) const {
  std::unique_lock<std::mutex> lock(m_mutex);
  for (;;) {
    if (!m_idle.empty()) {
      Conn* c = m_idle.back();
      m_idle.pop_back();
      return c;
    }
    if (m_down && std::chrono::steady_clock::now() < m_down_until) return std::unexpected(*m_down);
    if (m_live < m_s.max_sessions) break;
    if (!wait) return nullptr;
    m_cv.wait(lock);
  }
  ++m_live;
  lock.unlock();
  auto c = connect();
  lock.lock();
  if (!c) {
    --m_live;
    // A refused connection fails the other workers at once for a moment; a refused host key or
    // login for good (the settings do not change, and servers penalise repeated failures). Not
    // for an extra connection (wait false): a server limiting connections per client refuses it
    // while the ones held work on.
    if (wait && (c.error().retryable() || c.error().code == ErrorCode::auth)) {
      m_down = c.error();
      m_down_until = c.error().retryable() ? std::chrono::steady_clock::now() + std::chrono::seconds(2)
                                           : std::chrono::steady_clock::time_point::max();
    }
    m_cv.notify_all();
    return std::unexpected(c.error());
  }
  m_down.reset();
  return *c;
}

void SftpRemote::release(Conn* c, bool broken) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  if (broken) {
    delete c;
    --m_live;
  } else {
    m_idle.push_back(c);
  }
  m_cv.notify_one();
}

template <class T>
Result<T> SftpRemote::with_conn(const std::string& what, const std::function<Result<T>(Conn&)>& op,
                                const std::function<bool()>& may_retry) const {
  constexpr int kAttempts = 3;
  std::optional<Error> last;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
    bool had_down;
    {
      std::lock_guard<std::mutex> lock(m_mutex);
      had_down = m_down && std::chrono::steady_clock::now() < m_down_until;
    }
    auto c = acquire();
    if (!c) {
      last = c.error();
      // Another worker just failed to connect: do not wait for the same answer again.
      if (!last->retryable() || had_down) break;
      continue;
    }
    auto r = op(**c);
    bool lost = !r && (*c)->lost();
    release(*c, lost);
    if (r || !lost) return r;
    last = r.error();
    if (!may_retry()) break;
  }
  Error e = last.value_or(Error{ErrorCode::io, what + ": failed"});
  if (e.message.find(what) == std::string::npos) e.message = what + ": " + e.message;
  if (e.retryable()) e.message += " (a network error: running the command again may succeed)";
  return std::unexpected(e);
}

// ---------------------------------------------------------------------------------------------
// Operations.

Result<bool> SftpRemote::exists(const std::string& key) const {
  std::string path = path_of(key);
  return with_conn<bool>(
      "stat " + where(key),
      [&](Conn& c) -> Result<bool> {
        const SshApi& a = **ssh_api();
        sftp_attributes at = a.sftp_stat(c.sftp, path.c_str());
        if (at) {
          bool file = at->type == SSH_FILEXFER_TYPE_REGULAR;
          a.sftp_attributes_free(at);
          return file;
        }
        if (!c.lost() && c.status() == SSH_FX_NO_SUCH_FILE) return false;
        return std::unexpected(c.error("stat " + where(key)));
      },
      [] { return true; });
}

Status SftpRemote::make_dirs(Conn& c, const std::string& dir) const {
  if (dir.empty() || dir == "/" || dir == ".") return {};
  {
    std::lock_guard<std::mutex> lock(m_dirs_mutex);
    if (m_dirs.count(dir)) return {};
  }
  const SshApi& a = **ssh_api();
  if (a.sftp_mkdir(c.sftp, dir.c_str(), 0777) != SSH_OK) {
    int st = c.status();
    if (c.lost()) return std::unexpected(c.error("mkdir " + dir));
    if (st == SSH_FX_NO_SUCH_FILE) {
      size_t slash = dir.rfind('/');
      if (slash != std::string::npos && slash > 0)
        if (auto r = make_dirs(c, dir.substr(0, slash)); !r) return r;
      if (a.sftp_mkdir(c.sftp, dir.c_str(), 0777) != SSH_OK) st = c.status();
      else st = SSH_FX_OK;
    }
    if (st != SSH_FX_OK) {
      // Already there (another worker, or an earlier run): fine when it is a folder.
      sftp_attributes at = a.sftp_stat(c.sftp, dir.c_str());
      bool is_dir = at && at->type == SSH_FILEXFER_TYPE_DIRECTORY;
      if (at) a.sftp_attributes_free(at);
      if (!is_dir) return std::unexpected(c.error("cannot create the folder " + dir + " on " + m_s.host));
    }
  }
  std::lock_guard<std::mutex> lock(m_dirs_mutex);
  m_dirs.insert(dir);
  return {};
}

namespace {
// Files from this size up are written by several connections at once, each its own range:
// libssh 0.10 waits for the answer to every write, so one connection moves one 128 KiB message
// per round trip (1 GiB: 6.6 s against 2.6-4.7 s for scp).
constexpr uint64_t k_parallel_min = 16ull << 20;
constexpr int k_parallel_conns = 4;
}  // namespace

Status SftpRemote::write_range(Conn& c, int fd, const std::string& tmp, uint64_t begin, uint64_t end,
                               const std::string& what) const {
  const SshApi& a = **ssh_api();
  sftp_file f = a.sftp_open(c.sftp, tmp.c_str(), O_WRONLY, 0);
  if (!f) return std::unexpected(c.error(what));
  if (a.sftp_seek64(f, begin) < 0) {
    a.sftp_close(f);
    return std::unexpected(c.error(what));
  }
  const size_t chunk = c.big_writes ? 128 * 1024 : 32 * 1024;
  std::string buf(chunk, '\0');
  for (uint64_t off = begin; off < end;) {
    const size_t len = static_cast<size_t>(std::min<uint64_t>(chunk, end - off));
    size_t got = 0;
    while (got < len) {
      ssize_t r = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(off + got));
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        a.sftp_close(f);
        if (r < 0) return std::unexpected(errno_error("cannot read local file for " + what, errno));
        return fail(ErrorCode::io, what + ": the local file shrank while it was uploaded");
      }
      got += static_cast<size_t>(r);
    }
    if (a.sftp_write(f, buf.data(), len) != static_cast<ssize_t>(len)) {
      Error e = c.error(what);
      a.sftp_close(f);
      return std::unexpected(e);
    }
    off += len;
  }
  if (a.sftp_close(f) != SSH_OK) return std::unexpected(c.error(what));
  return {};
}

Status SftpRemote::put_parallel(Conn& c, int fd, uint64_t size, const std::string& tmp, const std::string& dst,
                                const std::string& what) const {
  const SshApi& a = **ssh_api();
  // Created writable (the other connections open it again), made read-only before the rename.
  sftp_file f = a.sftp_open(c.sftp, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (!f) return std::unexpected(c.error(what));
  if (a.sftp_close(f) != SSH_OK) return std::unexpected(c.error(what));
  auto discard = [&](Error e) -> Status {
    if (!c.lost()) (void)a.sftp_unlink(c.sftp, tmp.c_str());
    return std::unexpected(std::move(e));
  };
  // Extra connections only when free now (idle or under max_sessions): never waits.
  std::vector<Conn*> helpers;
  for (int i = 1; i < k_parallel_conns; ++i) {
    auto h = acquire(false);
    if (!h || !*h) break;
    helpers.push_back(*h);
  }
  const uint64_t n = helpers.size() + 1;
  const uint64_t unit = 128 * 1024;
  const uint64_t span = (size / n + unit - 1) / unit * unit;
  std::vector<std::optional<Error>> errors(n);
  std::vector<std::thread> threads;
  for (uint64_t i = 1; i < n; ++i) {
    const uint64_t b = std::min(size, i * span), e = std::min(size, (i + 1) * span);
    threads.emplace_back([&, i, b, e] {
      if (auto r = write_range(*helpers[i - 1], fd, tmp, b, e, what); !r) errors[i] = r.error();
    });
  }
  if (auto r = write_range(c, fd, tmp, 0, std::min(size, span), what); !r) errors[0] = r.error();
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < helpers.size(); ++i) release(helpers[i], errors[i + 1] && helpers[i]->lost());
  for (auto& e : errors)
    if (e) return discard(*e);
  if (a.sftp_chmod(c.sftp, tmp.c_str(), 0444) != SSH_OK) return discard(c.error(what));
  if (a.sftp_rename(c.sftp, tmp.c_str(), dst.c_str()) != SSH_OK)
    return discard(c.error("rename " + tmp + " to " + dst + " on " + m_s.host));
  return {};
}

Status SftpRemote::put(const std::string& local_path, const std::string& key, const odb::ObjectId* verify) const {
  std::string dst = path_of(key);
  size_t slash = dst.rfind('/');
  std::string dir = slash == std::string::npos ? "" : dst.substr(0, slash);
  std::string tmp = (dir.empty() ? "" : dir + "/") + "." + dst.substr(slash + 1) + "." + random_suffix() + ".tmp";
  std::string what = "upload " + where(key);
  auto r = with_conn<bool>(
      what,
      [&](Conn& c) -> Result<bool> {
        const SshApi& a = **ssh_api();
        if (auto d = make_dirs(c, dir); !d) return std::unexpected(d.error());
        int fd = ::open(local_path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return fail_errno("cannot open '" + local_path + "'", errno);
        struct Closer {
          int fd;
          ~Closer() { ::close(fd); }
        } closer{fd};
        sftp_file f = a.sftp_open(c.sftp, tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0444);
        if (!f) return std::unexpected(c.error(what));
        auto discard = [&](Error e) -> Result<bool> {
          a.sftp_close(f);
          if (!c.lost()) (void)a.sftp_unlink(c.sftp, tmp.c_str());
          return std::unexpected(std::move(e));
        };
        const uint64_t size = static_cast<uint64_t>(std::max<int64_t>(0, fsx::stat_path(local_path).size));
        if (size >= k_parallel_min) {
          if (verify) {
            // The ranges go out of order: the bytes are checked in one pass first.
            hash::DigestStream d(odb::content_algorithm(*verify));
            ChunkReader reader(fd, 1 << 20, &d, true);
            for (;;) {
              int err = 0;
              std::string_view bytes = reader.next(err);
              if (err) return std::unexpected(errno_error("cannot read '" + local_path + "'", err));
              if (bytes.empty()) break;
            }
            std::string got = d.hex_digest();
            if (got != odb::content_digest(*verify)) return std::unexpected(odb::corrupted(local_path, *verify, got));
          }
          if (auto r = put_parallel(c, fd, size, tmp, dst, what); !r) return std::unexpected(r.error());
          return true;
        }
        std::optional<hash::DigestStream> digest;
        if (verify) digest.emplace(odb::content_algorithm(*verify));
        // Each write waits for its answer: OpenSSH's server (posix-rename@openssh.com) takes
        // 256 KiB messages, others at least the 32 KiB the protocol promises.
        size_t chunk = c.big_writes ? 128 * 1024 : 32 * 1024;
        ChunkReader reader(fd, chunk, digest ? &*digest : nullptr, fsx::stat_path(local_path).size >= static_cast<int64_t>(8 * chunk));
        for (;;) {
          int err = 0;
          std::string_view bytes = reader.next(err);
          if (err) return discard(errno_error("cannot read '" + local_path + "'", err));
          if (bytes.empty()) break;
          if (a.sftp_write(f, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size()))
            return discard(c.error(what));
        }
        if (digest) {
          std::string d = digest->hex_digest();
          if (d != odb::content_digest(*verify)) return discard(odb::corrupted(local_path, *verify, d));
        }
        if (a.sftp_close(f) != SSH_OK) {
          Error e = c.error(what);
          if (!c.lost()) (void)a.sftp_unlink(c.sftp, tmp.c_str());
          return std::unexpected(e);
        }
        if (a.sftp_rename(c.sftp, tmp.c_str(), dst.c_str()) != SSH_OK) {
          Error e = c.error("rename " + tmp + " to " + dst + " on " + m_s.host);
          if (!c.lost()) (void)a.sftp_unlink(c.sftp, tmp.c_str());
          return std::unexpected(e);
        }
        return true;
      },
      [] { return true; });
  if (!r) return std::unexpected(r.error());
  return {};
}

Result<bool> SftpRemote::get(const std::string& key, const std::string& local_path,
                             const platform::ByteObserver& observe) const {
  std::string path = path_of(key);
  std::string what = "download " + where(key);
  bool delivered = false;
  return with_conn<bool>(
      what,
      [&](Conn& c) -> Result<bool> {
        const SshApi& a = **ssh_api();
        sftp_file f = a.sftp_open(c.sftp, path.c_str(), O_RDONLY, 0);
        if (!f) {
          if (!c.lost() && c.status() == SSH_FX_NO_SUCH_FILE) return false;
          return std::unexpected(c.error(what));
        }
        int fd = ::open(local_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
        if (fd < 0) {
          a.sftp_close(f);
          return fail_errno("cannot create '" + local_path + "'", errno);
        }
        auto give_up = [&](Error e) -> Result<bool> {
          a.sftp_close(f);
          ::close(fd);
          (void)fsx::remove_file(local_path);
          return std::unexpected(std::move(e));
        };
        // Reads are pipelined: up to kDepth requests in flight, answered in order.
        constexpr uint32_t kChunk = 32 * 1024;
        constexpr size_t kDepth = 32;
        std::deque<int> pending;
        bool eof = false;
        std::vector<char> buf(kChunk);
        for (;;) {
          while (!eof && pending.size() < kDepth) {
            int id = a.sftp_async_read_begin(f, kChunk);
            if (id < 0) return give_up(c.error(what));
            pending.push_back(id);
          }
          if (pending.empty()) break;
          int id = pending.front();
          pending.pop_front();
          int n = a.sftp_async_read(f, buf.data(), kChunk, static_cast<uint32_t>(id));
          if (n < 0) return give_up(c.error(what));
          if (n == 0) {
            eof = true;
            continue;
          }
          if (eof) return give_up(Error{ErrorCode::io, what + ": data after the end of the file"});
          if (static_cast<uint32_t>(n) < kChunk) eof = true;  // a short read ends a regular file
          size_t done = 0;
          while (done < static_cast<size_t>(n)) {
            ssize_t w = ::write(fd, buf.data() + done, static_cast<size_t>(n) - done);
            if (w < 0) {
              if (errno == EINTR) continue;
              return give_up(errno_error("cannot write '" + local_path + "'", errno));
            }
            done += static_cast<size_t>(w);
          }
          delivered = true;
          if (observe) observe(std::string_view(buf.data(), static_cast<size_t>(n)));
        }
        a.sftp_close(f);
        if (auto fl = fsx::flush_written(fd, local_path); !fl) {
          ::close(fd);
          (void)fsx::remove_file(local_path);
          return std::unexpected(fl.error());
        }
        if (::close(fd) != 0) {
          int err = errno;
          (void)fsx::remove_file(local_path);
          return fail_errno("cannot write '" + local_path + "'", err);
        }
        return true;
      },
      [&] { return !delivered; });
}

Result<std::vector<std::string>> SftpRemote::list(const std::string& prefix) const {
  std::string p = prefix;
  while (!p.empty() && p.back() == '/') p.pop_back();
  std::vector<std::string> out;
  auto r = with_conn<bool>(
      "list " + where(p),
      [&](Conn& c) -> Result<bool> {
        const SshApi& a = **ssh_api();
        out.clear();
        std::vector<std::string> todo{p};
        while (!todo.empty()) {
          std::string rel = todo.back();
          todo.pop_back();
          std::string dir = rel.empty() ? (m_s.root.empty() ? "." : m_s.root) : path_of(rel);
          sftp_dir d = a.sftp_opendir(c.sftp, dir.c_str());
          if (!d) {
            if (!c.lost() && c.status() == SSH_FX_NO_SUCH_FILE) continue;  // nothing below it
            return std::unexpected(c.error("list " + where(rel)));
          }
          while (sftp_attributes at = a.sftp_readdir(c.sftp, d)) {
            std::string name = at->name ? at->name : "";
            uint8_t type = at->type;
            a.sftp_attributes_free(at);
            if (name.empty() || name == "." || name == "..") continue;
            std::string child = rel.empty() ? name : rel + "/" + name;
            if (type == SSH_FILEXFER_TYPE_DIRECTORY) todo.push_back(child);
            else if (type == SSH_FILEXFER_TYPE_REGULAR) out.push_back(child);
          }
          bool complete = a.sftp_dir_eof(d);
          a.sftp_closedir(d);
          if (!complete) return std::unexpected(c.error("list " + where(rel)));
        }
        return true;
      },
      [] { return true; });
  if (!r) return std::unexpected(r.error());
  return out;
}

Status SftpRemote::remove(const std::string& key) const {
  std::string path = path_of(key);
  std::string what = "remove " + where(key);
  auto r = with_conn<bool>(
      what,
      [&](Conn& c) -> Result<bool> {
        if ((*ssh_api())->sftp_unlink(c.sftp, path.c_str()) == SSH_OK) return true;
        return std::unexpected(c.error(what));
      },
      [] { return true; });
  if (!r) return std::unexpected(r.error());
  return {};
}

}  // namespace dvx::remote
