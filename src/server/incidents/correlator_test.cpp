#include "server/incidents/correlator.hpp"

#include <thread>

#include <gtest/gtest.h>

#include "server/incidents/incident.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::incidents {
namespace {

using ingest::EventRecord;
using storage::Dialect;

constexpr std::int64_t kT0 = 1795662765000;
constexpr std::int64_t kMinute = 60'000;

EventRecord event(const std::string& id, int outcome, const std::string& rule,
                  const std::string& ip = "203.0.113.9", std::int64_t t = kT0,
                  const std::string& path = "/product", const std::string& input = "id") {
  EventRecord e;
  e.event_id = id;
  e.app = "shop";
  e.time_ms = t;
  e.received_ms = t;
  e.outcome = outcome;
  e.rule = rule;
  e.family = ingest::family_of(rule);
  e.client_ip = ip;
  e.attacker = "ip:" + ip;
  e.path = path;
  e.input_source = "query";
  e.input_name = input;
  e.tool = "sqlmap";
  e.json = "{\"event_id\":\"" + id + "\"}";
  return e;
}

class CorrelatorTest : public ::testing::TestWithParam<Dialect> {
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
  }
  std::vector<Incident> incidents() {
    auto rows = t_.db->read([](storage::Connection& c) {
      return c.query(std::string("SELECT ") + kIncidentColumns + " FROM incidents ORDER BY id");
    });
    std::vector<Incident> out;
    for (const auto& r : rows) out.push_back(incident_from_row(r));
    return out;
  }
  std::int64_t stored_events() {
    return t_.db->read([](storage::Connection& c) {
      return c.query("SELECT COUNT(*) FROM events WHERE incident_id IS NOT NULL").at(0).integer(0);
    });
  }

  testing::TestDatabase t_;
  Correlator correlator_{CorrelatorOptions{30 * kMinute}};
  ingest::EventWriter writer_{&correlator_};
};

TEST_P(CorrelatorTest, OneAttackerOneIncidentWithTheExploitOnTop) {
  std::vector<EventRecord> batch;
  for (int i = 0; i < 50; ++i)
    batch.push_back(event("p" + std::to_string(i), ingest::kProbed, "sql-injection", "203.0.113.9",
                          kT0 + i * 1000, "/product", i % 2 ? "id" : "sort"));
  batch.push_back(event("s1", ingest::kSuspicious, "scanner", "203.0.113.9", kT0 + 100));
  ingest(batch);
  ingest({event("x1", ingest::kExploited, "sql-injection", "203.0.113.9", kT0 + 60'000),
          event("q1", ingest::kProbed, "xss", "203.0.113.9", kT0 + 61'000, "/search", "q")});
  auto list = incidents();
  ASSERT_EQ(list.size(), 1u);
  const Incident& i = list[0];
  EXPECT_EQ(i.outcome, ingest::kExploited);
  EXPECT_EQ(i.counts[ingest::kProbed], 51);
  EXPECT_EQ(i.counts[ingest::kExploited], 1);
  EXPECT_EQ(i.counts[ingest::kSuspicious], 1);
  EXPECT_EQ(i.top_event, "x1");
  EXPECT_EQ(i.rules.front(), "sql-injection");
  EXPECT_EQ(i.spread, 5);  // routes /product, /search; inputs query:id, query:sort, query:q
  EXPECT_EQ(summary_of(i),
            "203.0.113.9 ran sqlmap against shop: SQL injection exploited on /product (id), 52 "
            "probes");
  EXPECT_EQ(stored_events(), 53);
}

TEST_P(CorrelatorTest, AttackersAndQuietWindowsSeparateIncidents) {
  ingest({event("a", ingest::kProbed, "sql-injection", "198.51.100.1"),
          event("b", ingest::kProbed, "sql-injection", "198.51.100.2")});
  ingest({event("c", ingest::kProbed, "sql-injection", "198.51.100.1", kT0 + 31 * kMinute)});
  auto list = incidents();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].client_ip, "198.51.100.1");
  EXPECT_EQ(list[1].client_ip, "198.51.100.2");
  EXPECT_EQ(list[2].client_ip, "198.51.100.1");
}

TEST_P(CorrelatorTest, ProofsOfAnotherFamilyOpenTheirOwnIncident) {
  ingest({event("a", ingest::kExploited, "sql-injection"),
          event("b", ingest::kExploited, "path-traversal", "203.0.113.9", kT0 + 1000, "/export",
                "file"),
          event("c", ingest::kProbed, "path-traversal", "203.0.113.9", kT0 + 2000, "/export",
                "file")});
  auto list = incidents();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].family, "sql-injection");
  EXPECT_EQ(list[1].family, "path-traversal");
  EXPECT_EQ(list[1].events(), 2);
}

TEST_P(CorrelatorTest, ProbesBecomeTheAttackWhenItIsProven) {
  ingest({event("a", ingest::kSuspicious, "scanner"), event("b", ingest::kProbed, "xss")});
  ingest({event("c", ingest::kExploited, "sql-injection", "203.0.113.9", kT0 + 5000)});
  auto list = incidents();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].family, "sql-injection");
  EXPECT_EQ(list[0].top_rule, "sql-injection");
  EXPECT_EQ(list[0].events(), 3);
}

TEST_P(CorrelatorTest, ClosedIncidentsTakeNoMoreEventsAndDuplicatesAreIgnored) {
  ingest({event("a", ingest::kExploited, "sql-injection")});
  IncidentService service(t_.db.get());
  Json out;
  auto id = incidents()[0].id;
  ASSERT_TRUE(service.update("ann", "", id, std::string("resolved"), std::string("fixed"), &out).ok());
  EXPECT_EQ(out["status"], "resolved");
  ingest({event("a", ingest::kExploited, "sql-injection"),
          event("b", ingest::kExploited, "sql-injection", "203.0.113.9", kT0 + 1000)});
  auto list = incidents();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].events(), 1);
  EXPECT_EQ(list[1].events(), 1);
  EXPECT_EQ(list[1].status, "open");
  // The open one ranks first.
  std::int64_t total;
  Json ranked = service.list({}, &total);
  EXPECT_EQ(total, 2);
  EXPECT_EQ(ranked[0]["id"], list[1].id);
}

TEST_P(CorrelatorTest, RankingPutsOneExploitAboveManyProbes) {
  std::vector<EventRecord> probes;
  for (int i = 0; i < 2000; ++i)
    probes.push_back(event("p" + std::to_string(i), ingest::kProbed, "xss", "198.51.100.7",
                           kT0 + i, "/p" + std::to_string(i % 50), "q"));
  ingest(probes);
  ingest({event("x", ingest::kExploited, "sql-injection", "203.0.113.1", kT0 - 3600'000)});
  IncidentService service(t_.db.get());
  std::int64_t total;
  Json ranked = service.list({}, &total);
  ASSERT_EQ(total, 2);
  EXPECT_EQ(ranked[0]["outcome"], "exploited");
  EXPECT_EQ(ranked[1]["counts"]["probed"], 2000);
}

// Two "processes" (separate connection pools) ingest the same attacker's events concurrently,
// with overlapping retries: one incident, every event once.
TEST_P(CorrelatorTest, ConcurrentWritersAgree) {
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
  constexpr int kBatches = 20, kPerBatch = 25;
  auto run = [&](storage::Database* db, int seed) {
    for (int b = 0; b < kBatches; ++b) {
      std::vector<EventRecord> batch;
      for (int i = 0; i < kPerBatch; ++i) {
        int n = b * kPerBatch + i;
        int outcome = n % 97 == 0 ? ingest::kExploited : ingest::kProbed;
        batch.push_back(event("e" + std::to_string(n), outcome, n % 3 ? "sql-injection" : "xss",
                              n % 2 ? "203.0.113.9" : "203.0.113.10", kT0 + n * 10));
      }
      // Each writer sends every batch: the other's copy is a retry.
      if (seed) std::reverse(batch.begin(), batch.end());
      ingest(std::move(batch), db);
    }
  };
  std::thread a(run, t_.db.get(), 0), b(run, other.get(), 1);
  a.join();
  b.join();
  auto list = incidents();
  ASSERT_EQ(list.size(), 2u);  // two attackers
  std::int64_t total = 0;
  for (const auto& i : list) total += i.events();
  EXPECT_EQ(total, kBatches * kPerBatch);
  EXPECT_EQ(stored_events(), kBatches * kPerBatch);
}

INSTANTIATE_TEST_SUITE_P(Dialects, CorrelatorTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

TEST(IncidentText, SummaryAndLabels) {
  Incident i;
  i.app = "shop";
  i.client_ip = "127.0.0.1";
  i.tool = "sqlmap";
  i.top_rule = "sql-injection";
  i.top_outcome = ingest::kExploited;
  i.top_route = "/product";
  i.top_input = "query:id";
  i.counts = {0, 1240, 0, 1};
  EXPECT_EQ(summary_of(i),
            "127.0.0.1 ran sqlmap against shop: SQL injection exploited on /product (id), 1,240 "
            "probes");
  i.tool.clear();
  i.top_input = "header:User-Agent";
  i.top_outcome = ingest::kProbed;
  i.top_rule = "log4shell";
  i.counts = {0, 1, 0, 0};
  EXPECT_EQ(summary_of(i), "127.0.0.1 attacked shop: Log4Shell attempted on /product (header User-Agent)");
  EXPECT_EQ(rule_label("vp-export"), "virtual patch vp-export");
}

// Suspicious signals (scanner fingerprints, anomalies) roll up into the probes of the summary.
TEST(IncidentText, SuspiciousSignalsCountAmongTheProbes) {
  Incident i;
  i.app = "shop";
  i.client_ip = "203.0.113.9";
  i.tool = "Nikto";
  i.top_rule = "sql-injection";
  i.top_outcome = ingest::kExploited;
  i.top_route = "/product";
  i.top_input = "query:id";
  i.counts[ingest::kSuspicious] = 1200;
  i.counts[ingest::kProbed] = 40;
  i.counts[ingest::kExploited] = 1;
  EXPECT_EQ(summary_of(i),
            "203.0.113.9 ran Nikto against shop: SQL injection exploited on /product (id), 1,240 "
            "probes");
  i.counts = {};
  i.counts[ingest::kSuspicious] = 7;
  i.top_rule = "scanner";
  i.top_outcome = ingest::kSuspicious;
  i.top_input.clear();
  i.top_route = "/admin";
  EXPECT_EQ(summary_of(i), "203.0.113.9 ran Nikto against shop: scanning seen on /admin, 7 probes");
}

}  // namespace
}  // namespace vigil::server::incidents
