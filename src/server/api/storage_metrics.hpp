// The storage's series of vigild's GET /metrics (vigil_storage_*, vigil_ingest_commit_seconds),
// cheap at any scrape rate: nothing counts the events table row by row.
//
//   vigil_storage_up                 1 when the figures below could be read, 0 when not
//   vigil_storage_events             events in the database. SQLite: MAX(seq) - MIN(seq) + 1 on
//                                    the primary key (exact: events are only appended, seq has
//                                    no gaps); PostgreSQL: pg_stat_user_tables.n_live_tup, the
//                                    server's own live-row count (updated as transactions end)
//   vigil_storage_database_bytes     SQLite: the database file plus its WAL; PostgreSQL:
//                                    pg_database_size(current_database())
//   vigil_storage_wal_bytes          SQLite only: the WAL file (grows until a checkpoint)
//   vigil_ingest_commit_seconds      histogram of the ingest's write transactions
//
// The database figures are read at most once per max_age (10 s) and cached; a failed read is
// cached too, as vigil_storage_up 0.
#ifndef VIGIL_SERVER_API_STORAGE_METRICS_HPP_
#define VIGIL_SERVER_API_STORAGE_METRICS_HPP_

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

#include "server/ingest/ingest_queue.hpp"

namespace vigil::exports {
class PrometheusWriter;
}

namespace vigil::server::storage {
class Database;
}

namespace vigil::server::api {

struct StorageFigures {
  bool up = false;
  std::string error;               // why not, when !up
  std::uint64_t events = 0;
  std::uint64_t database_bytes = 0;
  std::int64_t wal_bytes = -1;     // -1: not SQLite
};

// The SQLite statement that counts the events (exposed so a test can check its query plan).
extern const char* const kSqliteEventCount;

// Reads the figures now (two primary-key lookups and two file stats, or one catalogue query).
// Never throws. `sqlite_path`: the SQLite database file (ignored for PostgreSQL).
StorageFigures read_storage_figures(storage::Database& db, const std::string& sqlite_path) noexcept;

// The figures of one database, cached for `max_age`, rendered for GET /metrics. Thread-safe:
// one scrape refreshes, concurrent ones wait for it rather than query too.
class StorageMetrics {
 public:
  // REQUIRES: db outlives this object.
  StorageMetrics(storage::Database* db, std::string sqlite_path,
                 std::chrono::milliseconds max_age = std::chrono::seconds(10))
      : db_(db), sqlite_path_(std::move(sqlite_path)), max_age_(max_age) {}

  // Writes the vigil_storage_* families and, when `ingest` is given, the commit-latency
  // histogram vigil_ingest_commit_seconds.
  void write(vigil::exports::PrometheusWriter& w, const ingest::IngestQueue::Stats* ingest);

 private:
  storage::Database* const db_;
  const std::string sqlite_path_;
  const std::chrono::milliseconds max_age_;
  std::mutex mu_;
  bool have_ = false;
  std::chrono::steady_clock::time_point read_at_;
  StorageFigures figures_;
};

}  // namespace vigil::server::api

#endif  // VIGIL_SERVER_API_STORAGE_METRICS_HPP_
