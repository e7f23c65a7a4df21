#include "server/ingest/event_stats.hpp"

#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "server/common/time.hpp"
#include "server/incidents/correlator.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::ingest {
namespace {

using storage::Dialect;

constexpr std::int64_t kMinute = 60'000;
constexpr std::int64_t kHour = 60 * kMinute;
// 2026-11-25T22:00:00Z: an hour boundary, so the tests choose which hours are whole.
constexpr std::int64_t kT0 = 1795644000000;

EventRecord event(const std::string& id, int outcome, const std::string& rule,
                  const std::string& ip, std::int64_t t, const std::string& app = "shop") {
  EventRecord e;
  e.event_id = id;
  e.app = app;
  e.time_ms = t;
  e.received_ms = t;
  e.outcome = outcome;
  e.rule = rule;
  e.family = family_of(rule);
  e.client_ip = ip;
  e.attacker = "ip:" + ip;
  e.json = "{\"event_id\":\"" + id + "\"}";
  return e;
}

class EventStatsTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
  }
  void ingest(std::vector<EventRecord> events, storage::Database* db = nullptr) {
    std::vector<EventRecord*> ptrs;
    for (auto& e : events) ptrs.push_back(&e);
    (db ? db : t_.db.get())->write([&](storage::Connection& c) { writer_.write(c, ptrs); });
    for (auto& e : events)
      if (!e.duplicate) stored_.push_back(e);
  }
  Json stats(std::int64_t since, std::int64_t until, std::int64_t bucket_s,
             const std::string& app = "") {
    StatsQuery q;
    q.app = app;
    q.since_ms = since;
    q.until_ms = until;
    q.bucket_s = bucket_s;
    return event_stats(*t_.db, q);
  }
  // What the answer must say, counted from the events themselves: every event in the minutes
  // from since's to until's.
  void expect_matches_events(const Json& got, std::int64_t since, std::int64_t until,
                             std::int64_t bucket_s, const std::string& app = "") {
    std::int64_t from = since / kMinute * kMinute, to = until / kMinute * kMinute + kMinute;
    std::int64_t b = bucket_s * 1000, first = from / b * b;
    std::map<std::string, std::int64_t> totals;
    std::map<std::int64_t, std::map<std::string, std::int64_t>> series;
    std::map<std::string, std::int64_t> rules, ips;
    for (const auto& e : stored_) {
      if (e.time_ms < from || e.time_ms >= to || (!app.empty() && e.app != app)) continue;
      totals[outcome_name(e.outcome)] += 1;
      series[(e.time_ms - first) / b][outcome_name(e.outcome)] += 1;
      rules[e.rule] += 1;
      ips[e.client_ip] += 1;
    }
    SCOPED_TRACE(got.dump());
    for (const char* o : {"exploited", "blocked", "probed", "suspicious"}) {
      EXPECT_EQ(got["totals"][o].get<std::int64_t>(), totals[o]) << o;
      for (std::size_t i = 0; i < got["series"].size(); ++i)
        EXPECT_EQ(got["series"][i][o].get<std::int64_t>(), series[static_cast<std::int64_t>(i)][o])
            << o << " bucket " << i;
    }
    EXPECT_EQ(got["series"].size(), static_cast<std::size_t>((to - first + b - 1) / b));
    EXPECT_EQ(got["series"][0]["t"], format_rfc3339(first));
    for (const auto& r : got["top_rules"]) EXPECT_EQ(r["count"], rules[r["rule"]]);
    for (const auto& a : got["top_attackers"]) EXPECT_EQ(a["count"], ips[a["client_ip"]]);
    EXPECT_EQ(got["top_rules"].size(), std::min<std::size_t>(10, rules.size()));
    EXPECT_EQ(got["top_attackers"].size(), std::min<std::size_t>(10, ips.size()));
  }

  testing::TestDatabase t_;
  incidents::Correlator correlator_{incidents::CorrelatorOptions{}};
  EventWriter writer_{&correlator_};
  std::vector<EventRecord> stored_;
};

// Three hours of events (every 37 s, 12 attackers, three rules), read back over ranges that
// start and end inside hours (minute edges plus whole hours) and inside one hour.
TEST_P(EventStatsTest, CountsMatchTheStoredEventsOverAnyRange) {
  std::vector<EventRecord> batch;
  for (int i = 0; i * 37'000 < 3 * kHour; ++i) {
    int outcome = i % 101 == 0 ? kExploited : i % 31 == 0 ? kBlocked : i % 5 == 0 ? kSuspicious
                                                                                    : kProbed;
    const char* rule = i % 5 == 0 ? "scanner" : i % 3 ? "sql-injection" : "xss";
    batch.push_back(event("e" + std::to_string(i), outcome, rule,
                          "198.51.100." + std::to_string(i % 12), kT0 + i * 37'000,
                          (i / 12) % 2 ? "admin" : "shop"));
  }
  ingest(batch);
  ingest({batch[3], batch[4]});  // a retry: not counted again
  const std::int64_t ranges[][2] = {
      {kT0 + 17 * kMinute + 5'000, kT0 + 2 * kHour + 41 * kMinute + 59'000},  // edges + 1 hour
      {kT0, kT0 + 3 * kHour},                                                 // whole hours
      {kT0 + 3 * kMinute, kT0 + 50 * kMinute},                                // inside an hour
      {kT0 - kHour, kT0 + 5 * kHour}};                                        // beyond the data
  for (const auto& r : ranges)
    for (std::int64_t bucket : {60, 300, 3600, 86400}) {
      SCOPED_TRACE(std::to_string(r[0]) + " bucket " + std::to_string(bucket));
      expect_matches_events(stats(r[0], r[1], bucket), r[0], r[1], bucket);
      expect_matches_events(stats(r[0], r[1], bucket, "admin"), r[0], r[1], bucket, "admin");
    }

  Json all = stats(kT0, kT0 + 3 * kHour, 3600);
  EXPECT_EQ(all["top_rules"][0]["rule"], "sql-injection");  // most events first
  EXPECT_EQ(all["top_rules"][0]["worst_outcome"], "exploited");
  EXPECT_EQ(all["top_attackers"].size(), 10u);                 // 12 addresses, the top 10
  EXPECT_EQ(all["top_attackers"][0]["apps"], Json({"admin", "shop"}));
  EXPECT_EQ(all["bucket_s"], 3600);
  EXPECT_EQ(all["since"], "2026-11-25T22:00:00.000Z");
  EXPECT_EQ(all["until"], "2026-11-26T01:01:00.000Z");  // the minute holding `until` counts
}

TEST_P(EventStatsTest, OpenIncidentsBySeverityAndApp) {
  ingest({event("a", kExploited, "sql-injection", "203.0.113.1", kT0),
          event("b", kProbed, "xss", "203.0.113.2", kT0),
          event("c", kBlocked, "cmd-injection", "203.0.113.3", kT0, "admin"),
          event("d", kSuspicious, "scanner", "203.0.113.4", kT0)});
  t_.db->write([](storage::Connection& c) {
    c.exec("UPDATE incidents SET status = 'resolved', closed = 1 WHERE client_ip = ?",
           {std::string("203.0.113.2")});
  });
  Json all = stats(kT0, kT0 + kHour, 3600);
  EXPECT_EQ(all["incidents_open"], Json({{"critical", 1}, {"high", 1}, {"medium", 0}, {"low", 1}}));
  Json admin = stats(kT0, kT0 + kHour, 3600, "admin");
  EXPECT_EQ(admin["incidents_open"], Json({{"critical", 0}, {"high", 1}, {"medium", 0}, {"low", 0}}));
  EXPECT_EQ(admin["totals"]["blocked"], 1);
  EXPECT_EQ(admin["totals"]["exploited"], 0);
  EXPECT_EQ(admin["top_attackers"], Json::parse(R"([{"client_ip":"203.0.113.3","count":1,
      "worst_outcome":"blocked","apps":["admin"]}])"));
}

// Two "processes" add to the same counters at once (the same minute, rule and address): the
// upserts add, nothing is lost or counted twice.
TEST_P(EventStatsTest, ConcurrentWritersAddUp) {
  std::unique_ptr<storage::Database> other;
  if (GetParam() == Dialect::kSqlite) {
    storage::SqliteOptions o;
    o.path = t_.dir->path() + "/vigil.db";
    other = storage::Database::open_sqlite(o);
  } else {
    storage::PostgresOptions o;
    o.conninfo = t_.uri;
    other = storage::Database::open_postgres(o);
  }
  constexpr int kBatches = 20, kPerBatch = 30;
  auto run = [&](storage::Database* db, int seed) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<EventRecord> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        int n = (b * kPerBatch + i) * 2 + seed;  // disjoint event ids, same counters
        batch.push_back(event("e" + std::to_string(n), kProbed, "sql-injection",
                              i % 2 ? "203.0.113.9" : "203.0.113.10", kT0 + (n % 7) * 1000));
      }
      std::vector<EventRecord*> ptrs;
      for (auto& e : batch) ptrs.push_back(&e);
      db->write([&](storage::Connection& c) { writer_.write(c, ptrs); });
    }
  };
  std::thread a(run, t_.db.get(), 0), b(run, other.get(), 1);
  a.join();
  b.join();
  Json s = stats(kT0, kT0 + kMinute, 60);
  EXPECT_EQ(s["totals"]["probed"], 2 * kBatches * kPerBatch);
  EXPECT_EQ(s["top_attackers"][0]["count"], kBatches * kPerBatch);
}

// Schema 3 fills the counters from the events stored before it.
TEST_P(EventStatsTest, MigrationCountsEventsStoredBefore) {
  std::string why;
  auto t = testing::open_test_database(GetParam(), &why, false);
  ASSERT_TRUE(t.db) << why;
  const auto& migrations =
      GetParam() == Dialect::kSqlite ? storage::sqlite_migrations() : storage::postgres_migrations();
  t.db->write([&](storage::Connection& c) {
    c.exec("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, "
           "applied_ms BIGINT NOT NULL)");
    for (int v : {1, 2}) {
      c.script(migrations.at(static_cast<std::size_t>(v - 1)).sql);
      c.exec("INSERT INTO schema_version VALUES (?, 'test', 0)", {std::int64_t{v}});
    }
    for (int i = 0; i < 90; ++i)
      c.exec("INSERT INTO events (app, event_id, time_ms, received_ms, outcome, rule, family, "
             "client_ip, doc) VALUES ('shop', ?, ?, 0, ?, 'xss', 'xss', ?, '{}')",
             {"e" + std::to_string(i), kT0 + i * 2 * kMinute, std::int64_t{i % 3 ? kProbed : kExploited},
              "203.0.113." + std::to_string(i % 2)});
  });
  EXPECT_GE(t.db->migrate(), 3);
  StatsQuery q;
  q.since_ms = kT0 + 30 * kMinute;
  q.until_ms = kT0 + 150 * kMinute;  // events 15..75
  q.bucket_s = 3600;
  Json s = event_stats(*t.db, q);
  EXPECT_EQ(s["totals"]["exploited"], 21);
  EXPECT_EQ(s["totals"]["probed"], 40);
  EXPECT_EQ(s["series"].size(), 3u);
  EXPECT_EQ(s["series"][1]["probed"].get<int>() + s["series"][1]["exploited"].get<int>(), 30);
}

INSTANTIATE_TEST_SUITE_P(Dialects, EventStatsTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

TEST(EventStatsBuckets, DefaultKeepsAtMostAHundred) {
  EXPECT_EQ(default_stats_bucket_s(kT0, kT0 + 90 * kMinute), 60);
  EXPECT_EQ(default_stats_bucket_s(kT0, kT0 + 24 * kHour), 3600);
  EXPECT_EQ(default_stats_bucket_s(kT0, kT0 + 6 * kHour), 300);
  EXPECT_EQ(default_stats_bucket_s(kT0, kT0 + 30 * 24 * kHour), 86400);
  EXPECT_EQ(stats_bucket_count(kT0, kT0 + kHour, 3600), 2);  // until's minute is the next hour
  EXPECT_EQ(stats_bucket_count(kT0, kT0 + kHour - 1, 3600), 1);
}

}  // namespace
}  // namespace vigil::server::ingest
