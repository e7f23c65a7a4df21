// Event statistics for the dashboard's overview (GET /api/v1/stats): counts per outcome over
// time, the top rules and attackers, and the open incidents by severity.
//
// Counting millions of stored events per request is too slow, so the ingest transaction also
// adds every new event to two rollup tables (schema 3): event_counts_minute and
// event_counts_hour, each keyed (app, bucket start, outcome, rule, client address) -> count.
// The upserts add (count = count + excluded.count), so any number of vigild sharing one
// PostgreSQL keep them exact, and a rolled-back transaction leaves no count behind.
//
// A query covers whole minutes: the minutes from the one holding `since` to the one holding
// `until`. Whole hours inside that range are read from the hourly table, the edges from the
// minute table, so a day costs a few thousand rows whatever the event rate.
#ifndef VIGIL_SERVER_INGEST_EVENT_STATS_HPP_
#define VIGIL_SERVER_INGEST_EVENT_STATS_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "server/common/json.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::ingest {

// REQUIRES: a write transaction; `events` are new (not stored before) and are stored in it.
// Adds them to the rollup tables.
void add_event_counts(storage::Connection& c, const std::vector<EventRecord*>& events);

inline constexpr std::int64_t kStatsBuckets[] = {60, 300, 3600, 86400};  // seconds
inline constexpr std::int64_t kMaxStatsBuckets = 1440;

// Buckets a query of [since, until] with this bucket answers (the first starts at a multiple
// of the bucket since the epoch, at or before since's minute).
std::int64_t stats_bucket_count(std::int64_t since_ms, std::int64_t until_ms,
                                std::int64_t bucket_s) noexcept;
// The smallest allowed bucket (kStatsBuckets) that divides [since, until] into at most 100.
std::int64_t default_stats_bucket_s(std::int64_t since_ms, std::int64_t until_ms) noexcept;

struct StatsQuery {
  std::string app;  // "" = every application
  std::int64_t since_ms = 0, until_ms = 0;
  std::int64_t bucket_s = 3600;  // one of kStatsBuckets
  int top = 10;                  // entries in top_rules and top_attackers
};

// REQUIRES: since_ms <= until_ms, bucket_s in kStatsBuckets, and at most kMaxStatsBuckets
// buckets. Returns the answer of GET /api/v1/stats (docs/server.md): since, until, bucket_s,
// series (every bucket, zeros included, oldest first), totals, top_rules, top_attackers,
// incidents_open. Throws StorageError.
Json event_stats(storage::Database& db, const StatsQuery& query);

}  // namespace vigil::server::ingest

#endif  // VIGIL_SERVER_INGEST_EVENT_STATS_HPP_
