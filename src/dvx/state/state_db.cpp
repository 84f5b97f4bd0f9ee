#include "dvx/state/state_db.h"

#include <time.h>

#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <string_view>

namespace dvx::state {

namespace {

constexpr int k_schema_version = 2;  // 2: recorded_ns is the moment up to which the entry is trusted
constexpr int k_busy_timeout_ms = 30000;

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_corruption(int rc) {
  rc &= 0xff;
  return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { m_rc = sqlite3_prepare_v2(db, sql, -1, &m_stmt, nullptr); }
  ~Stmt() { sqlite3_finalize(m_stmt); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return m_rc == SQLITE_OK && m_stmt; }
  int rc() const { return m_rc; }
  sqlite3_stmt* get() const { return m_stmt; }

 private:
  sqlite3_stmt* m_stmt = nullptr;
  int m_rc = SQLITE_OK;
};

}  // namespace

struct StateDb::Impl {
  std::string path;
  bool local_clock = false;  // the database's folder is on a local file system
  sqlite3* db = nullptr;
  std::mutex mutex;

  ~Impl() { close(); }

  void close() {
    if (db) sqlite3_close_v2(db);
    db = nullptr;
  }

  Error sqlite_error(const std::string& what, int rc) const {
    std::string msg = what + " '" + path + "': " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    int primary = rc & 0xff;
    ErrorCode code = ErrorCode::io;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) code = ErrorCode::timeout;
    else if (primary == SQLITE_PERM || primary == SQLITE_READONLY) code = ErrorCode::permission;
    else if (is_corruption(rc)) code = ErrorCode::corruption;
    return Error{code, msg};
  }

  int exec(const char* sql) { return sqlite3_exec(db, sql, nullptr, nullptr, nullptr); }

  // Opens the connection and ensures the schema. Returns the failing SQLite code (or OK).
  int open_once() {
    close();
    int rc = sqlite3_open_v2(path.c_str(), &db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                             nullptr);
    if (rc != SQLITE_OK) return rc;
    sqlite3_busy_timeout(db, k_busy_timeout_ms);
    sqlite3_extended_result_codes(db, 1);
    // journal_mode is the first statement to read the file: a non-database fails here.
    if ((rc = exec("PRAGMA journal_mode=WAL")) != SQLITE_OK) return rc;
    if ((rc = exec("PRAGMA synchronous=NORMAL")) != SQLITE_OK) return rc;
    // The -wal and -shm files stay between commands (a read-only command would otherwise
    // create, extend and unlink both each run: two inodes through the fs journal per status);
    // a WAL grown by a big add is cut back to nothing when the last connection closes.
    int persist = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
    if ((rc = exec("PRAGMA journal_size_limit=0")) != SQLITE_OK) return rc;
    // A 100k-file add stores 200k rows in a few transactions: with the default 2 MB page cache
    // the B-tree pages spill to the WAL and are read back ~100k times. Pages are allocated
    // as used: a small repository never reaches this bound.
    if ((rc = exec("PRAGMA cache_size=-65536")) != SQLITE_OK) return rc;
    int version = -1;
    {
      Stmt st(db, "PRAGMA user_version");
      if (!st.ok()) return st.rc();
      rc = sqlite3_step(st.get());
      if (rc != SQLITE_ROW) return rc;
      version = sqlite3_column_int(st.get(), 0);
    }
    if (version == k_schema_version) return SQLITE_OK;
    // New file (version 0) or an unknown schema: (re)create; the content is only a cache.
    std::string sql =
        "BEGIN IMMEDIATE;"
        "DROP TABLE IF EXISTS state;"
        "CREATE TABLE state ("
        " path TEXT NOT NULL, alg INTEGER NOT NULL,"
        " inode INTEGER NOT NULL, size INTEGER NOT NULL,"
        " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL,"
        " md5 TEXT NOT NULL, recorded_ns INTEGER NOT NULL,"
        " PRIMARY KEY (path, alg)) WITHOUT ROWID;"
        "PRAGMA user_version=" +
        std::to_string(k_schema_version) +
        ";"
        "COMMIT;";
    rc = exec(sql.c_str());
    if (rc != SQLITE_OK) exec("ROLLBACK");
    return rc;
  }

  void delete_files() {
    close();
    for (const char* suffix : {"", "-wal", "-shm", "-journal"})
      (void)platform::remove_file(path + suffix);
  }

  // Opens, deleting and recreating the file once when it is corrupt.
  Status open_or_recreate() {
    int rc = open_once();
    if (rc != SQLITE_OK && is_corruption(rc)) {
      delete_files();
      rc = open_once();
    }
    if (rc != SQLITE_OK) {
      Error e = sqlite_error("failed to open state database", rc);
      close();
      return std::unexpected(e);
    }
    return {};
  }

  // After a corruption error in the middle of use: start from an empty database.
  void recover() {
    delete_files();
    (void)open_or_recreate();
  }
};

StateDb::StateDb(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
StateDb::StateDb(StateDb&&) noexcept = default;
StateDb& StateDb::operator=(StateDb&&) noexcept = default;
StateDb::~StateDb() = default;

const std::string& StateDb::path() const { return m_impl->path; }

Result<StateDb> StateDb::open(const std::string& db_path) {
  auto impl = std::make_unique<Impl>();
  impl->path = db_path;
  std::string parent = platform::parent_dir(db_path);
  if (!parent.empty()) {
    auto made = platform::make_dirs(parent);
    if (!made) return std::unexpected(made.error());
  }
  impl->local_clock = platform::is_local_file_system(parent.empty() ? "." : parent);
  auto opened = impl->open_or_recreate();
  if (!opened) return std::unexpected(opened.error());
  return StateDb(std::move(impl));
}

std::vector<std::optional<std::string>> StateDb::lookup(const std::vector<std::string>& abs_paths,
                                                        const std::vector<StatKey>& keys,
                                                        hash::Algorithm alg, Racy racy_rule) {
  std::vector<std::optional<std::string>> out(abs_paths.size());
  if (abs_paths.empty() || keys.size() != abs_paths.size()) return out;
  std::lock_guard<std::mutex> lock(m_impl->mutex);
  Impl& s = *m_impl;
  if (!s.db) {
    s.recover();
    if (!s.db) return out;
  }
  int rc = s.exec("BEGIN");
  if (rc != SQLITE_OK) {
    if (is_corruption(rc)) s.recover();
    return out;
  }
  int failure = SQLITE_OK;
  auto accept = [&](sqlite3_stmt* q, int col, size_t i) {
    StatKey stored{static_cast<uint64_t>(sqlite3_column_int64(q, col)), sqlite3_column_int64(q, col + 1),
                   sqlite3_column_int64(q, col + 2), sqlite3_column_int64(q, col + 3)};
    int64_t trusted = sqlite3_column_int64(q, col + 5);
    bool racy = racy_rule == Racy::distrust && (stored.mtime_ns > trusted || stored.ctime_ns > trusted);
    if (stored == keys[i] && !racy) {
      const unsigned char* md5 = sqlite3_column_text(q, col + 4);
      if (md5) out[i] = std::string(reinterpret_cast<const char*>(md5));
    }
  };
  // Many paths in byte order (a walked directory): one range scan of the primary key, merged
  // with the input, instead of a point query per path.
  const bool range = abs_paths.size() >= 64 && std::is_sorted(abs_paths.begin(), abs_paths.end()) &&
                     std::adjacent_find(abs_paths.begin(), abs_paths.end()) == abs_paths.end();
  if (range) {
    Stmt st(s.db,
            "SELECT path, inode, size, mtime_ns, ctime_ns, md5, recorded_ns FROM state"
            " WHERE path >= ?1 AND path <= ?3 AND alg = ?2 ORDER BY path");
    if (!st.ok()) {
      failure = st.rc();
    } else {
      sqlite3_stmt* q = st.get();
      sqlite3_bind_text(q, 1, abs_paths.front().data(), static_cast<int>(abs_paths.front().size()), SQLITE_STATIC);
      sqlite3_bind_int(q, 2, static_cast<int>(alg));
      sqlite3_bind_text(q, 3, abs_paths.back().data(), static_cast<int>(abs_paths.back().size()), SQLITE_STATIC);
      size_t i = 0;
      while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        const char* p = reinterpret_cast<const char*>(sqlite3_column_text(q, 0));
        std::string_view path(p ? p : "", static_cast<size_t>(sqlite3_column_bytes(q, 0)));
        while (i < abs_paths.size() && std::string_view(abs_paths[i]) < path) ++i;
        if (i == abs_paths.size()) break;
        if (std::string_view(abs_paths[i]) == path) accept(q, 1, i);
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) failure = rc;
    }
  } else {
    Stmt st(s.db,
            "SELECT inode, size, mtime_ns, ctime_ns, md5, recorded_ns FROM state"
            " WHERE path = ?1 AND alg = ?2");
    if (!st.ok()) {
      failure = st.rc();
    } else {
      sqlite3_stmt* q = st.get();
      sqlite3_bind_int(q, 2, static_cast<int>(alg));
      for (size_t i = 0; i < abs_paths.size(); ++i) {
        sqlite3_bind_text(q, 1, abs_paths[i].data(), static_cast<int>(abs_paths[i].size()),
                          SQLITE_STATIC);
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW) {
          accept(q, 0, i);
        } else if (rc != SQLITE_DONE) {
          failure = rc;
          break;
        }
        sqlite3_reset(q);
      }
    }
  }
  s.exec("COMMIT");
  if (failure != SQLITE_OK) {
    std::fill(out.begin(), out.end(), std::nullopt);
    if (is_corruption(failure)) s.recover();
  }
  return out;
}

Status StateDb::store(const std::vector<std::string>& abs_paths, const std::vector<StatKey>& keys,
                      const std::vector<std::string>& md5s, hash::Algorithm alg,
                      std::optional<int64_t> reads_began) {
  if (keys.size() != abs_paths.size() || md5s.size() != abs_paths.size())
    return fail(ErrorCode::invalid_argument, "state store: paths, keys and hashes differ in count");
  if (abs_paths.empty()) return {};
  std::lock_guard<std::mutex> lock(m_impl->mutex);
  Impl& s = *m_impl;
  const int64_t coarse_trusted = std::min(reads_began.value_or(INT64_MAX), now_ns()) - k_racy_window_ns;
  const bool fine = reads_began && s.local_clock;
  auto trusted_ns = [&](const StatKey& k) {
    constexpr int64_t sec = 1'000'000'000;
    if (fine && k.mtime_ns % sec != 0 && k.ctime_ns % sec != 0) return *reads_began - k_fine_window_ns;
    return coarse_trusted;
  };
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!s.db) {
      auto r = s.open_or_recreate();
      if (!r) return r;
    }
    rc = s.exec("BEGIN IMMEDIATE");
    if (rc == SQLITE_OK) {
      Stmt st(s.db,
              "INSERT OR REPLACE INTO state"
              " (path, alg, inode, size, mtime_ns, ctime_ns, md5, recorded_ns)"
              " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!st.ok()) {
        rc = st.rc();
      } else {
        sqlite3_stmt* q = st.get();
        sqlite3_bind_int(q, 2, static_cast<int>(alg));
        for (size_t i = 0; i < abs_paths.size(); ++i) {
          sqlite3_bind_text(q, 1, abs_paths[i].data(), static_cast<int>(abs_paths[i].size()),
                            SQLITE_STATIC);
          sqlite3_bind_int64(q, 3, static_cast<sqlite3_int64>(keys[i].inode));
          sqlite3_bind_int64(q, 4, keys[i].size);
          sqlite3_bind_int64(q, 5, keys[i].mtime_ns);
          sqlite3_bind_int64(q, 6, keys[i].ctime_ns);
          sqlite3_bind_int64(q, 8, trusted_ns(keys[i]));
          sqlite3_bind_text(q, 7, md5s[i].data(), static_cast<int>(md5s[i].size()),
                            SQLITE_STATIC);
          rc = sqlite3_step(q);
          sqlite3_reset(q);
          if (rc != SQLITE_DONE) break;
          rc = SQLITE_OK;
        }
      }
      if (rc == SQLITE_OK) rc = s.exec("COMMIT");
      if (rc != SQLITE_OK) s.exec("ROLLBACK");
    }
    if (rc == SQLITE_OK) return {};
    if (!is_corruption(rc)) break;
    s.recover();  // a corrupt cache is dropped; the batch is retried once on the new file
  }
  return std::unexpected(s.sqlite_error("failed to update state database", rc));
}

int64_t StateDb::read_stamp() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

Status StateDb::remove(const std::vector<std::string>& abs_paths) {
  if (abs_paths.empty()) return {};
  std::lock_guard<std::mutex> lock(m_impl->mutex);
  Impl& s = *m_impl;
  if (!s.db) {
    auto r = s.open_or_recreate();
    if (!r) return r;
  }
  int rc = s.exec("BEGIN IMMEDIATE");
  if (rc == SQLITE_OK) {
    Stmt st(s.db, "DELETE FROM state WHERE path = ?1");
    if (!st.ok()) {
      rc = st.rc();
    } else {
      for (const auto& p : abs_paths) {
        sqlite3_bind_text(st.get(), 1, p.data(), static_cast<int>(p.size()), SQLITE_STATIC);
        rc = sqlite3_step(st.get());
        sqlite3_reset(st.get());
        if (rc != SQLITE_DONE) break;
        rc = SQLITE_OK;
      }
    }
    if (rc == SQLITE_OK) rc = s.exec("COMMIT");
    if (rc != SQLITE_OK) s.exec("ROLLBACK");
  }
  if (rc == SQLITE_OK) return {};
  Error e = s.sqlite_error("failed to update state database", rc);
  if (is_corruption(rc)) s.recover();
  return std::unexpected(e);
}

}  // namespace dvx::state
