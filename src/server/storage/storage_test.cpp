#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "server/storage/sql.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::storage {
namespace {

using testing::open_test_database;

class StorageTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
  }
  Database& db() { return *t_.db; }
  testing::TestDatabase t_;
};

TEST_P(StorageTest, MigrationsAreVersionedAndIdempotent) {
  int v = db().migrate();  // already migrated by the fixture: a no-op
  const auto& migrations = GetParam() == Dialect::kSqlite ? sqlite_migrations()
                                                          : postgres_migrations();
  EXPECT_EQ(v, migrations.back().version);
  auto rows = db().read([](Connection& c) {
    return c.query("SELECT version, description FROM schema_version ORDER BY version");
  });
  ASSERT_EQ(rows.size(), migrations.size());
  EXPECT_EQ(rows[0].integer(0), 1);
}

TEST_P(StorageTest, NewerSchemaIsRefused) {
  db().write([](Connection& c) {
    c.exec("INSERT INTO schema_version (version, description, applied_ms) VALUES (999, 'x', 0)");
  });
  EXPECT_THROW(db().migrate(), StorageError);
}

TEST_P(StorageTest, InsertReturningConflictAndTypes) {
  auto id = db().write([](Connection& c) {
    auto rows = c.query(
        "INSERT INTO users (username, password_hash, role, created_ms, updated_ms) "
        "VALUES (?, ?, ?, ?, ?) RETURNING id",
        {std::string("ann"), std::string("h"), std::string("admin"), std::int64_t{5},
         std::int64_t{1} << 40});
    return rows.at(0).integer(0);
  });
  EXPECT_GT(id, 0);
  // A duplicate is skipped, and RETURNING gives nothing for it.
  auto again = db().write([](Connection& c) {
    return c.query(
        "INSERT INTO users (username, password_hash, role, created_ms, updated_ms) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
        {std::string("ann"), std::string("h"), std::string("admin"), std::int64_t{5},
         std::int64_t{6}});
  });
  EXPECT_TRUE(again.empty());
  auto rows = db().read([](Connection& c) {
    return c.query("SELECT username, updated_ms, NULL, 2.5 FROM users WHERE username = ?",
                   {std::string("ann")});
  });
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].text(0), "ann");
  EXPECT_EQ(rows[0].integer(1), std::int64_t{1} << 40);
  EXPECT_TRUE(rows[0].null(2));
  EXPECT_DOUBLE_EQ(rows[0].real(3), 2.5);
}

TEST_P(StorageTest, QuestionMarksInLiteralsAreNotParameters) {
  auto rows = db().read([](Connection& c) {
    return c.query("SELECT 'a?b', ? || '?'", {std::string("x")});
  });
  EXPECT_EQ(rows.at(0).text(0), "a?b");
  EXPECT_EQ(rows.at(0).text(1), "x?");
}

TEST_P(StorageTest, FailedTransactionRollsBackAndConnectionStaysUsable) {
  EXPECT_THROW(db().write([](Connection& c) {
    c.exec("INSERT INTO login_failures (k, window_start_ms, count) VALUES ('a', 1, 1)");
    c.exec("INSERT INTO login_failures (k, window_start_ms, count) VALUES ('a', 1, 1)");
  }),
               StorageError);
  EXPECT_THROW(db().write([](Connection& c) { c.exec("SELECT * FROM no_such_table"); }),
               StorageError);
  auto n = db().read([](Connection& c) {
    return c.query("SELECT COUNT(*) FROM login_failures").at(0).integer(0);
  });
  EXPECT_EQ(n, 0);
  db().write([](Connection& c) {
    c.exec("INSERT INTO login_failures (k, window_start_ms, count) VALUES ('a', 1, 1)");
  });
}

TEST_P(StorageTest, UpsertIncrementsUnderConcurrentWriters) {
  constexpr int kThreads = 4, kEach = 50;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([this] {
      for (int i = 0; i < kEach; ++i)
        db().write([](Connection& c) {
          c.exec(
              "INSERT INTO login_failures (k, window_start_ms, count) VALUES ('k', 0, 1) "
              "ON CONFLICT (k) DO UPDATE SET count = login_failures.count + 1");
        });
    });
  for (auto& t : threads) t.join();
  auto n = db().read([](Connection& c) {
    return c.query("SELECT count FROM login_failures WHERE k = 'k'").at(0).integer(0);
  });
  EXPECT_EQ(n, kThreads * kEach);
}

TEST_P(StorageTest, MultiRowInsertWithPlaceholders) {
  db().write([](Connection& c) {
    Params p;
    std::string sql = "INSERT INTO login_failures (k, window_start_ms, count) VALUES ";
    for (int i = 0; i < 100; ++i) {
      sql += i ? ", (" + placeholders(3) + ")" : "(" + placeholders(3) + ")";
      p.push_back(std::string("k") + std::to_string(i));
      p.push_back(std::int64_t{i});
      p.push_back(std::int64_t{1});
    }
    c.exec(sql, p);
  });
  auto n = db().read([](Connection& c) {
    return c.query("SELECT SUM(window_start_ms) FROM login_failures").at(0).integer(0);
  });
  EXPECT_EQ(n, 4950);
}

INSTANTIATE_TEST_SUITE_P(Dialects, StorageTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

TEST(StorageSchema, RendersPerDialect) {
  EXPECT_EQ(render_schema("a {ID}, b {INT}, c {REAL}){NOROWID};", Dialect::kSqlite),
            "a INTEGER PRIMARY KEY, b INTEGER, c REAL) WITHOUT ROWID;");
  EXPECT_EQ(render_schema("b {INT} {x}", Dialect::kPostgres), "b BIGINT {x}");
}

}  // namespace
}  // namespace vigil::server::storage
