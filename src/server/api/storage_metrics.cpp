#include "server/api/storage_metrics.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <exception>

#include "export/metrics.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::api {
namespace {

std::int64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::int64_t>(st.st_size) : -1;
}

}  // namespace

// Both ends of the primary key: two b-tree lookups, whatever the table's size. Each MIN/MAX in
// a subquery of its own: SQLite's min/max optimisation applies only to a query with a single
// MIN() or MAX(); "SELECT MAX(seq) - MIN(seq)" scans the table (197 ms at 1M events).
const char* const kSqliteEventCount =
    "SELECT COALESCE((SELECT MAX(seq) FROM events) - (SELECT MIN(seq) FROM events) + 1, 0)";

StorageFigures read_storage_figures(storage::Database& db,
                                    const std::string& sqlite_path) noexcept {
  StorageFigures f;
  try {
    if (db.dialect() == storage::Dialect::kSqlite) {
      auto rows = db.read([](storage::Connection& c) { return c.query(kSqliteEventCount); });
      f.events = rows.empty() ? 0 : static_cast<std::uint64_t>(rows[0].integer(0));
      std::int64_t main = file_bytes(sqlite_path);
      if (main < 0) {
        f.error = "cannot stat " + sqlite_path;
        return f;
      }
      f.wal_bytes = std::max<std::int64_t>(0, file_bytes(sqlite_path + "-wal"));
      f.database_bytes = static_cast<std::uint64_t>(main + f.wal_bytes);
    } else {
      auto rows = db.read([](storage::Connection& c) {
        return c.query(
            "SELECT COALESCE((SELECT n_live_tup FROM pg_stat_user_tables WHERE relname = 'events' "
            "AND schemaname = current_schema()), 0), pg_database_size(current_database())");
      });
      if (rows.empty()) {
        f.error = "no answer";
        return f;
      }
      f.events = static_cast<std::uint64_t>(std::max<std::int64_t>(0, rows[0].integer(0)));
      f.database_bytes = static_cast<std::uint64_t>(rows[0].integer(1));
    }
    f.up = true;
  } catch (const std::exception& e) {
    f.error = e.what();
  } catch (...) {
    f.error = "unknown error";
  }
  return f;
}

void StorageMetrics::write(vigil::exports::PrometheusWriter& w,
                           const ingest::IngestQueue::Stats* ingest) {
  StorageFigures f;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    if (!have_ || now - read_at_ >= max_age_) {
      figures_ = read_storage_figures(*db_, sqlite_path_);
      read_at_ = now;
      have_ = true;
    }
    f = figures_;
  }
  const char* dialect = db_->dialect() == storage::Dialect::kSqlite ? "sqlite" : "postgres";
  w.family("vigil_storage_up", "gauge",
           "1 when the storage figures could be read at the last refresh, 0 when not.");
  w.sample("vigil_storage_up", {{"dialect", dialect}}, static_cast<std::uint64_t>(f.up));
  if (f.up) {
    w.family("vigil_storage_events", "gauge",
             "Events in the database (SQLite: from the primary key's range; PostgreSQL: "
             "pg_stat_user_tables.n_live_tup). Refreshed at most every 10 s.");
    w.sample("vigil_storage_events", {}, f.events);
    w.family("vigil_storage_database_bytes", "gauge",
             "Size of the database (SQLite: file plus WAL; PostgreSQL: pg_database_size).");
    w.sample("vigil_storage_database_bytes", {}, f.database_bytes);
    if (f.wal_bytes >= 0) {
      w.family("vigil_storage_wal_bytes", "gauge", "Size of SQLite's write-ahead log.");
      w.sample("vigil_storage_wal_bytes", {}, static_cast<std::uint64_t>(f.wal_bytes));
    }
  }
  if (ingest == nullptr) return;
  const char* h = "vigil_ingest_commit_seconds";
  w.family(h, "histogram",
           "Duration of the ingest's write transactions (committed or failed), in seconds.");
  for (std::size_t i = 0; i < ingest::IngestQueue::kCommitBucketCount; ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", ingest::IngestQueue::kCommitBuckets[i]);
    w.sample("vigil_ingest_commit_seconds_bucket", {{"le", le}}, ingest->commit_le[i]);
  }
  // A transaction ending while stats() was read may show in a bucket and not yet in the
  // counters: +Inf is never below a bucket.
  const std::uint64_t count =
      std::max(ingest->transactions + ingest->failures, ingest->commit_le.back());
  w.sample("vigil_ingest_commit_seconds_bucket", {{"le", "+Inf"}}, count);
  w.sample("vigil_ingest_commit_seconds_sum", {}, static_cast<double>(ingest->commit_us_sum) / 1e6);
  w.sample("vigil_ingest_commit_seconds_count", {}, count);
}

}  // namespace vigil::server::api
