// SQLite connection: prepared statements cached by SQL text, WAL mode, and a busy timeout so
// that a reader or another process's writer waits instead of failing.
#include <sqlite3.h>

#include <string>
#include <unordered_map>

#include "server/storage/sql.hpp"

namespace vigil::server::storage {
namespace {

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(const SqliteOptions& o, bool readonly) {
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(o.path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
      std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
      sqlite3_close(db_);
      db_ = nullptr;
      throw StorageError("cannot open " + o.path + ": " + msg);
    }
    sqlite3_busy_timeout(db_, o.busy_timeout_ms);
    script("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode: a commit survives a crash of vigild (kill -9), not a power loss.
    script(o.synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    script("PRAGMA foreign_keys=OFF");
    script("PRAGMA temp_store=MEMORY");
    script("PRAGMA cache_size=-" + std::to_string(o.cache_mib * 1024));
    // Checkpoints in bigger steps than the default 1000 pages: fewer, larger writes.
    if (!readonly) script("PRAGMA wal_autocheckpoint=" + std::to_string(o.wal_autocheckpoint));
    if (readonly) script("PRAGMA query_only=1");
  }

  ~SqliteConnection() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Dialect dialect() const noexcept override { return Dialect::kSqlite; }

  std::vector<Row> query(std::string_view sql, const Params& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    std::vector<Row> rows;
    for (;;) {
      int rc = sqlite3_step(stmt);
      if (rc == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) fail(stmt, sql);
      int n = sqlite3_column_count(stmt);
      Row row;
      row.cols.resize(n);
      for (int i = 0; i < n; ++i) {
        if (sqlite3_column_type(stmt, i) == SQLITE_NULL) continue;
        const unsigned char* p = sqlite3_column_text(stmt, i);
        int len = sqlite3_column_bytes(stmt, i);
        row.cols[i] = std::string(reinterpret_cast<const char*>(p), len);
      }
      rows.push_back(std::move(row));
    }
    sqlite3_reset(stmt);
    return rows;
  }

  std::int64_t exec(std::string_view sql, const Params& params) override {
    sqlite3_stmt* stmt = prepare(sql, params);
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    if (rc != SQLITE_DONE) fail(stmt, sql);
    sqlite3_reset(stmt);
    return sqlite3_changes(db_);
  }

  void script(std::string_view sql) override {
    std::string s(sql);
    char* err = nullptr;
    if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      std::string msg = err ? err : "error";
      sqlite3_free(err);
      throw StorageError("sqlite: " + msg);
    }
  }

  void begin_write() override { exec("BEGIN IMMEDIATE", {}); }
  void commit() override { exec("COMMIT", {}); }
  void rollback() noexcept override {
    if (!sqlite3_get_autocommit(db_)) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }

 private:
  sqlite3_stmt* prepare(std::string_view sql, const Params& params) {
    sqlite3_stmt* stmt;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
        throw StorageError(std::string("sqlite: ") + sqlite3_errmsg(db_) + " in: " +
                           std::string(sql.substr(0, 200)));
      if (cache_.size() > 512) {  // statements are written in the code: this bounds odd growth
        for (auto& [s, st] : cache_) sqlite3_finalize(st);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), stmt);
    }
    // Parameters not bound below are NULL, not the last call's values. (Callers bind every
    // one: clearing them all first cost as much as binding a third of them.)
    if (static_cast<int>(params.size()) < sqlite3_bind_parameter_count(stmt))
      sqlite3_clear_bindings(stmt);
    for (std::size_t i = 0; i < params.size(); ++i) {
      int idx = static_cast<int>(i + 1);
      const Value& v = params[i];
      int rc;
      if (std::holds_alternative<std::nullptr_t>(v)) {
        rc = sqlite3_bind_null(stmt, idx);
      } else if (auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, idx, *n);
      } else if (auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, idx, *d);
      } else {
        std::string_view s = std::holds_alternative<TextRef>(v) ? std::get<TextRef>(v).text
                                                                 : std::get<std::string>(v);
        rc = sqlite3_bind_text64(stmt, idx, s.data(), s.size(), SQLITE_STATIC, SQLITE_UTF8);
      }
      if (rc != SQLITE_OK) throw StorageError(std::string("sqlite bind: ") + sqlite3_errmsg(db_));
    }
    return stmt;
  }

  [[noreturn]] void fail(sqlite3_stmt* stmt, std::string_view sql) {
    std::string msg = sqlite3_errmsg(db_);
    sqlite3_reset(stmt);
    throw StorageError("sqlite: " + msg + " in: " + std::string(sql.substr(0, 120)));
  }

  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

}  // namespace

std::unique_ptr<Connection> connect_sqlite(const SqliteOptions& options, bool readonly) {
  return std::make_unique<SqliteConnection>(options, readonly);
}

}  // namespace vigil::server::storage
