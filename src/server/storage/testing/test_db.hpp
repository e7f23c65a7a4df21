// Test helpers: a fresh, migrated database of either dialect (SQLite in a temporary directory,
// PostgreSQL in a new database of the shared test server). Header-only; tests only.
#ifndef VIGIL_SERVER_STORAGE_TESTING_TEST_DB_HPP_
#define VIGIL_SERVER_STORAGE_TESTING_TEST_DB_HPP_

#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "server/storage/sql.hpp"
#include "server/storage/testing/test_postgres.hpp"

namespace vigil::server::testing {

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/vigil-test-XXXXXX";
    path_ = mkdtemp(tmpl) ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

struct TestDatabase {
  std::unique_ptr<TempDir> dir;     // SQLite
  std::string uri;                  // PostgreSQL
  std::unique_ptr<storage::Database> db;
};

// Null db with *why when the dialect is unavailable (PostgreSQL not installed).
inline TestDatabase open_test_database(storage::Dialect dialect, std::string* why,
                                       bool migrate = true) {
  TestDatabase t;
  if (dialect == storage::Dialect::kSqlite) {
    t.dir = std::make_unique<TempDir>();
    storage::SqliteOptions o;
    o.path = t.dir->path() + "/vigil.db";
    o.readers = 2;
    t.db = storage::Database::open_sqlite(o);
  } else {
    TestPostgres* pg = shared_test_postgres(why);
    if (!pg) return t;
    t.uri = pg->create_database(why);
    if (t.uri.empty()) return t;
    storage::PostgresOptions o;
    o.conninfo = t.uri;
    o.connections = 4;
    t.db = storage::Database::open_postgres(o);
  }
  if (migrate) t.db->migrate();
  return t;
}

inline const char* dialect_name(storage::Dialect d) {
  return d == storage::Dialect::kSqlite ? "Sqlite" : "Postgres";
}

}  // namespace vigil::server::testing

#endif  // VIGIL_SERVER_STORAGE_TESTING_TEST_DB_HPP_
