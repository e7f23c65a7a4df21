// The SQL layer under vigild: one small interface over SQLite and PostgreSQL, so that every
// query is written once. Statements use `?` placeholders (rewritten to $n for PostgreSQL) and
// the subset both dialects share: ON CONFLICT ... DO UPDATE/NOTHING, RETURNING, LIMIT, CASE.
// Every statement is prepared once per connection and cached by its text.
//
// Errors are exceptions (StorageError) inside the storage layer and the code that runs in its
// transactions; the HTTP layer catches them at every request boundary and answers 503. Waits on
// locks are the databases' own (SQLite busy timeout; PostgreSQL row locks), and a transaction
// that PostgreSQL aborts as a deadlock or serialisation failure is run again (Database::write).
#ifndef VIGIL_SERVER_STORAGE_SQL_HPP_
#define VIGIL_SERVER_STORAGE_SQL_HPP_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace vigil::server::storage {

class StorageError : public std::runtime_error {
 public:
  explicit StorageError(const std::string& what, std::string sqlstate = {})
      : std::runtime_error(what), sqlstate_(std::move(sqlstate)) {}
  // PostgreSQL SQLSTATE ("40P01" deadlock, "40001" serialisation failure); empty for SQLite.
  const std::string& sqlstate() const noexcept { return sqlstate_; }
  // True when running the whole transaction again may succeed.
  bool retryable() const noexcept { return sqlstate_ == "40P01" || sqlstate_ == "40001"; }

 private:
  std::string sqlstate_;
};

enum class Dialect { kSqlite, kPostgres };

// Text a statement only reads while it runs (a bulk insert's documents): bound without a copy.
// REQUIRES: the text outlives the query()/exec() call it is a parameter of.
struct TextRef {
  std::string_view text;
};
using Value = std::variant<std::nullptr_t, std::int64_t, double, std::string, TextRef>;
using Params = std::vector<Value>;

// One result row: every column as text, NULL as nullopt.
class Row {
 public:
  std::vector<std::optional<std::string>> cols;

  bool null(std::size_t i) const { return !cols.at(i).has_value(); }
  const std::string& text(std::size_t i) const;  // "" for NULL
  std::int64_t integer(std::size_t i) const;     // 0 for NULL
  double real(std::size_t i) const;              // 0 for NULL
};

// One connection. Not thread-safe: a Database lends it to one thread at a time.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual Dialect dialect() const noexcept = 0;
  // Runs one statement and returns its rows (none for statements without results).
  virtual std::vector<Row> query(std::string_view sql, const Params& params = {}) = 0;
  // Runs one statement; returns the number of rows it changed.
  virtual std::int64_t exec(std::string_view sql, const Params& params = {}) = 0;
  // Runs several statements without parameters (migrations).
  virtual void script(std::string_view sql) = 0;
  virtual void begin_write() = 0;  // SQLite: BEGIN IMMEDIATE (takes the write lock)
  virtual void commit() = 0;
  virtual void rollback() noexcept = 0;
};

struct SqliteOptions {
  std::string path;               // database file, created if missing
  int readers = 4;                // read connections beside the one writer (WAL)
  bool synchronous_full = false;  // fsync every commit (power loss); else survive kill -9 only
  int busy_timeout_ms = 10000;
  std::int64_t cache_mib = 64;
  // Copies the WAL into the database on a thread of its own (PASSIVE checkpoints, which never
  // block the writer or readers), so the single writer spends its time on transactions; the
  // writer still checkpoints itself past wal_autocheckpoint pages (a reader holding an old
  // snapshot can keep a passive checkpoint from finishing). Without the thread, the writer
  // checkpoints every 8000 pages.
  bool checkpoint_thread = true;
  int wal_autocheckpoint = 8000;  // pages
};

struct PostgresOptions {
  std::string conninfo;  // "postgresql://user@host:port/db" or "host=... dbname=..."
  int connections = 8;
};

// A pool of connections. SQLite: one writer and several read-only readers (WAL lets readers
// run beside the writer). PostgreSQL: one pool for both. Thread-safe.
class Database {
 public:
  static std::unique_ptr<Database> open_sqlite(const SqliteOptions& options);
  static std::unique_ptr<Database> open_postgres(const PostgresOptions& options);
  ~Database();

  Dialect dialect() const noexcept { return dialect_; }

  // Runs `fn(Connection&)` in a write transaction; commits when it returns, rolls back when it
  // throws. A PostgreSQL deadlock or serialisation failure runs `fn` again (up to 5 times), so
  // `fn` must not keep state across calls.
  template <class F>
  auto write(F&& fn) {
    for (int attempt = 1;; ++attempt) {
      Lease lease = acquire(true);
      try {
        lease.conn->begin_write();
        if constexpr (std::is_void_v<decltype(fn(*lease.conn))>) {
          fn(*lease.conn);
          lease.conn->commit();
          return;
        } else {
          auto result = fn(*lease.conn);
          lease.conn->commit();
          return result;
        }
      } catch (const StorageError& e) {
        lease.conn->rollback();
        if (!e.retryable() || attempt >= 5) throw;
      } catch (...) {
        lease.conn->rollback();
        throw;
      }
    }
  }

  // Runs `fn(Connection&)` on a reader, in autocommit mode: each statement sees the latest
  // committed data.
  template <class F>
  auto read(F&& fn) {
    Lease lease = acquire(false);
    return fn(*lease.conn);
  }

  // Applies the migrations of this dialect that the database has not seen (table
  // schema_version). Safe when several vigild start at once on one PostgreSQL (an advisory
  // lock serialises them). Returns the schema version.
  int migrate();

 private:
  struct Pool {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::unique_ptr<Connection>> idle;
  };
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<Connection> c) : pool_(pool), conn(std::move(c)) {}
    Lease(Lease&&) = default;
    ~Lease();
    Pool* pool_;
    std::unique_ptr<Connection> conn;
  };
  Lease acquire(bool writer);

  explicit Database(Dialect dialect) : dialect_(dialect) {}
  void run_checkpoints(std::unique_ptr<Connection> conn);
  Dialect dialect_;
  Pool writers_;
  Pool readers_;  // SQLite only; PostgreSQL lends writers_ for both
  // SQLite's checkpoint thread (SqliteOptions::checkpoint_thread).
  std::thread checkpointer_;
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool checkpoint_stop_ = false;
};

// The migrations of each dialect, in order (storage/{sqlite,postgres}/migrations.cpp). Never
// edit a released migration: add the next one.
struct Migration {
  int version;
  std::string description;
  std::string sql;
};
const std::vector<Migration>& sqlite_migrations();
const std::vector<Migration>& postgres_migrations();

// Connection factories (storage/sqlite, storage/postgres).
std::unique_ptr<Connection> connect_sqlite(const SqliteOptions& options, bool readonly);
std::unique_ptr<Connection> connect_postgres(const std::string& conninfo);

// Schema text shared by both dialects (storage/schema.cpp), with type markers that
// render_schema() replaces: {ID} (an auto-increment 64-bit primary key), {INT} (64-bit
// integer), {REAL} (double), {NOROWID} (SQLite's WITHOUT ROWID).
std::string render_schema(std::string_view text, Dialect dialect);
extern const char* const kSchemaV1;
extern const char* const kSchemaV2;
extern const char* const kSchemaV3;
extern const char* const kSchemaV4;
extern const char* const kSchemaV5;
extern const char* const kSchemaV6;

// "?, ?, ?" with n placeholders (multi-row statements).
std::string placeholders(std::size_t n);

}  // namespace vigil::server::storage

#endif  // VIGIL_SERVER_STORAGE_SQL_HPP_
