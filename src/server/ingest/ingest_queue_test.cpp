#include "server/ingest/ingest_queue.hpp"

#include <gtest/gtest.h>

#include "server/incidents/correlator.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::ingest {
namespace {

using storage::Dialect;

constexpr std::int64_t kT0 = 1795662765000;

EventRecord event(int n) {
  EventRecord e;
  e.event_id = "e" + std::to_string(n);
  e.app = "shop";
  e.time_ms = e.received_ms = kT0 + n;
  e.outcome = kProbed;
  e.rule = e.family = "sql-injection";
  e.client_ip = "203.0.113.9";
  e.attacker = "ip:203.0.113.9";
  e.path = "/product";
  e.input_source = "query";
  e.input_name = "id";
  e.json = "{\"event_id\":\"" + e.event_id + "\"}";
  return e;
}

std::vector<EventRecord> events(int from, int to) {
  std::vector<EventRecord> v;
  for (int n = from; n < to; ++n) v.push_back(event(n));
  return v;
}

class IngestQueueTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
    queue_ = std::make_unique<IngestQueue>(t_.db.get(), &writer_, IngestOptions{});
    queue_->start();
  }
  void TearDown() override {
    if (queue_) queue_->stop();
  }
  std::int64_t count(const std::string& sql) {
    return t_.db->read([&](storage::Connection& c) { return c.query(sql).at(0).integer(0); });
  }

  testing::TestDatabase t_;
  incidents::Correlator correlator_{incidents::CorrelatorOptions{}};
  EventWriter writer_{&correlator_};
  std::unique_ptr<IngestQueue> queue_;
};

// A batch that repeats events stored by an earlier transaction (an agent's retry) is written
// again, looking them up first: each event is stored, counted and correlated once, and the
// reply says which were new.
TEST_P(IngestQueueTest, EventsStoredBeforeAreRecognisedInALaterTransaction) {
  IngestResult r = queue_->submit(events(0, 10));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.accepted, 10u);

  r = queue_->submit(events(5, 15));  // 5 stored before, 5 new
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(r.duplicates, 5u);

  auto batch = events(15, 20);
  batch.push_back(event(15));  // twice in one batch
  r = queue_->submit(std::move(batch));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.accepted, 5u);
  EXPECT_EQ(r.duplicates, 1u);

  EXPECT_EQ(count("SELECT COUNT(*) FROM events"), 20);
  EXPECT_EQ(count("SELECT COUNT(*) FROM incidents"), 1);
  EXPECT_EQ(count("SELECT n_probed FROM incidents"), 20);
  EXPECT_EQ(count("SELECT SUM(count) FROM event_counts_minute"), 20);
  EXPECT_EQ(count("SELECT SUM(count) FROM event_counts_hour"), 20);
  EXPECT_EQ(count("SELECT events FROM attackers"), 20);
  EXPECT_EQ(count("SELECT count FROM incident_facets WHERE kind = 'rule'"), 20);
  EXPECT_EQ(queue_->stats().stored, 20u);
  EXPECT_EQ(queue_->stats().duplicates, 6u);
}

INSTANTIATE_TEST_SUITE_P(Dialects, IngestQueueTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& param_info) {
                           return param_info.param == Dialect::kSqlite ? "Sqlite" : "Postgres";
                         });

}  // namespace
}  // namespace vigil::server::ingest
