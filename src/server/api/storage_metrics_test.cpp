#include "server/api/storage_metrics.hpp"

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "export/metrics.hpp"
#include "server/storage/sql.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::api {
namespace {

using storage::Dialect;

// Prometheus text: "name{labels}" -> value.
std::map<std::string, double> parse(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto sp = line.rfind(' ');
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

class StorageMetricsTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
  }
  std::string sqlite_path() const { return t_.dir ? t_.dir->path() + "/vigil.db" : ""; }
  void insert_events(int from, int n) {
    t_.db->write([&](storage::Connection& c) {
      for (int i = from; i < from + n; ++i)
        c.exec("INSERT INTO events (app, event_id, time_ms, received_ms, outcome, rule, family, "
               "doc) VALUES ('shop', ?, 0, 0, 3, 'xss', 'xss', ?)",
               {"e" + std::to_string(i), std::string(1000, 'x')});
      // PostgreSQL 15+: publish this backend's row counts at commit, not when it next idles
      // for a while (pg_stat_user_tables would lag by up to 10 s).
      if (GetParam() == Dialect::kPostgres &&
          c.query("SELECT current_setting('server_version_num')::int >= 150000")[0].text(0) == "t")
        c.query("SELECT pg_stat_force_next_flush()");
    });
  }
  testing::TestDatabase t_;
};

TEST_P(StorageMetricsTest, CountsEventsAndSizeWithoutScanning) {
  StorageFigures f = read_storage_figures(*t_.db, sqlite_path());
  ASSERT_TRUE(f.up) << f.error;
  EXPECT_EQ(f.events, 0u);
  EXPECT_GT(f.database_bytes, 0u);
  const std::uint64_t empty_bytes = f.database_bytes;
  insert_events(0, 200);
  insert_events(200, 50);
  if (GetParam() == Dialect::kSqlite) {
    f = read_storage_figures(*t_.db, sqlite_path());
    ASSERT_TRUE(f.up) << f.error;
    EXPECT_EQ(f.events, 250u);
    EXPECT_GT(f.wal_bytes, 0);  // the inserts sit in the WAL until a checkpoint
  } else {
    // PostgreSQL's statistics reach pg_stat_user_tables shortly after the commit.
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    do {
      f = read_storage_figures(*t_.db, sqlite_path());
      if (f.events == 250u) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    } while (std::chrono::steady_clock::now() < until);
    ASSERT_TRUE(f.up) << f.error;
    EXPECT_EQ(f.events, 250u);
    EXPECT_EQ(f.wal_bytes, -1);
  }
  EXPECT_GT(f.database_bytes, empty_bytes + 200u * 1000u);  // 250 KB of documents
}

TEST_P(StorageMetricsTest, RendersCachedFiguresAndTheCommitHistogram) {
  StorageMetrics metrics(t_.db.get(), sqlite_path(), std::chrono::hours(1));
  ingest::IngestQueue::Stats st;
  st.transactions = 7;
  st.failures = 1;
  st.commit_le = {0, 1, 2, 3, 5, 6, 6, 7, 7, 7, 8, 8};
  st.commit_us_sum = 250000;
  exports::PrometheusWriter w;
  metrics.write(w, &st);
  auto m = parse(w.text());
  const char* dialect = GetParam() == Dialect::kSqlite ? "sqlite" : "postgres";
  EXPECT_EQ(m[std::string("vigil_storage_up{dialect=\"") + dialect + "\"}"], 1);
  EXPECT_EQ(m["vigil_storage_events"], 0);
  EXPECT_GT(m["vigil_storage_database_bytes"], 0);
  EXPECT_EQ(m.count("vigil_storage_wal_bytes"), GetParam() == Dialect::kSqlite ? 1u : 0u);
  EXPECT_EQ(m["vigil_ingest_commit_seconds_bucket{le=\"0.001\"}"], 0);
  EXPECT_EQ(m["vigil_ingest_commit_seconds_bucket{le=\"0.025\"}"], 5);
  EXPECT_EQ(m["vigil_ingest_commit_seconds_bucket{le=\"10\"}"], 8);
  EXPECT_EQ(m["vigil_ingest_commit_seconds_bucket{le=\"+Inf\"}"], 8);
  EXPECT_EQ(m["vigil_ingest_commit_seconds_count"], 8);
  EXPECT_DOUBLE_EQ(m["vigil_ingest_commit_seconds_sum"], 0.25);
  EXPECT_NE(w.text().find("# TYPE vigil_ingest_commit_seconds histogram\n"), std::string::npos);

  // Cached: a scrape does not query again within max_age.
  insert_events(0, 3);
  exports::PrometheusWriter again;
  metrics.write(again, nullptr);
  EXPECT_EQ(parse(again.text())["vigil_storage_events"], 0);
  EXPECT_EQ(again.text().find("vigil_ingest_commit_seconds"), std::string::npos);
  if (GetParam() == Dialect::kSqlite) {
    StorageMetrics fresh(t_.db.get(), sqlite_path(), std::chrono::milliseconds(0));
    exports::PrometheusWriter now;
    fresh.write(now, nullptr);
    EXPECT_EQ(parse(now.text())["vigil_storage_events"], 3);
  }
}

INSTANTIATE_TEST_SUITE_P(Dialects, StorageMetricsTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) {
                           return param_info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
                         });

// The count must stay two b-tree lookups: no step of its plan may scan the events table.
TEST(StorageMetrics, SqliteCountReadsNoTable) {
  std::string why;
  auto t = testing::open_test_database(Dialect::kSqlite, &why);
  auto plan = t.db->read([](storage::Connection& c) {
    return c.query(std::string("EXPLAIN QUERY PLAN ") + kSqliteEventCount);
  });
  ASSERT_FALSE(plan.empty());
  for (const storage::Row& step : plan) {
    const std::string& detail = step.text(3);
    EXPECT_EQ(detail.find("SCAN events"), std::string::npos) << detail;
  }
}

TEST(StorageMetrics, SaysDownWhenItCannotRead) {
  std::string why;
  auto t = testing::open_test_database(Dialect::kSqlite, &why);
  StorageMetrics metrics(t.db.get(), t.dir->path() + "/missing.db", std::chrono::milliseconds(0));
  exports::PrometheusWriter w;
  metrics.write(w, nullptr);
  auto m = parse(w.text());
  EXPECT_EQ(m["vigil_storage_up{dialect=\"sqlite\"}"], 0);
  EXPECT_EQ(m.count("vigil_storage_events"), 0u);
}

}  // namespace
}  // namespace vigil::server::api
