#include "server/ingest/event_query.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "server/incidents/correlator.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::ingest {
namespace {

using storage::Dialect;

constexpr std::int64_t kT0 = 1795644000000;

class EventQueryTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
    // Three applications, interleaved in time; outcomes and addresses vary.
    std::vector<EventRecord> batch;
    for (int i = 0; i < 90; ++i) {
      EventRecord e;
      e.event_id = "e" + std::to_string(i);
      e.app = i % 3 == 0 ? "admin" : i % 3 == 1 ? "shop" : "blog";
      e.time_ms = e.received_ms = kT0 + (i / 2) * 1000;  // pairs share a time: seq orders them
      e.outcome = i % 10 == 0 ? kExploited : i % 7 == 0 ? kBlocked : kProbed;
      e.rule = i % 4 == 0 ? "xss" : "sql-injection";
      e.family = family_of(e.rule);
      e.client_ip = "198.51.100." + std::to_string(i % 5);
      e.attacker = "ip:" + e.client_ip;
      e.json = "{\"event_id\":\"" + e.event_id + "\"}";
      batch.push_back(e);
    }
    for (auto& e : batch) events_.push_back(e);
    std::vector<EventRecord*> ptrs;
    for (auto& e : batch) ptrs.push_back(&e);
    t_.db->write([&](storage::Connection& c) { writer_.write(c, ptrs); });
  }
  // Every page of the filter, following the cursors: the event ids in order.
  std::vector<std::string> all_pages(EventFilter f) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 100; ++pages) {
      EventPage page = query_events(*t_.db, f);
      for (const auto& e : nlohmann::json::parse(page.json)) ids.push_back(e["event_id"]);
      if (page.next_cursor.empty()) break;
      EXPECT_TRUE(parse_cursor(page.next_cursor, &f));
    }
    return ids;
  }
  // The expected ids: matching events, newest first (ties: later stored first).
  std::vector<std::string> expected(const std::function<bool(const EventRecord&)>& match,
                                    bool oldest_first = false) {
    std::vector<std::string> ids;
    for (const auto& e : events_)
      if (match(e)) ids.push_back(e.event_id);
    if (!oldest_first) std::reverse(ids.begin(), ids.end());
    return ids;
  }

  testing::TestDatabase t_;
  incidents::Correlator correlator_{incidents::CorrelatorOptions{}};
  EventWriter writer_{&correlator_};
  std::vector<EventRecord> events_;
};

TEST_P(EventQueryTest, EveryApplicationMergedInOrderAcrossPages) {
  EventFilter f;
  f.limit = 7;
  EXPECT_EQ(all_pages(f), expected([](const EventRecord&) { return true; }));
  f.oldest_first = true;
  EXPECT_EQ(all_pages(f), expected([](const EventRecord&) { return true; }, true));
}

TEST_P(EventQueryTest, SeveralOutcomesMergedInOrder) {
  EventFilter f;
  f.limit = 4;
  f.outcomes = {kExploited, kBlocked};
  EXPECT_EQ(all_pages(f), expected([](const EventRecord& e) { return e.outcome >= kBlocked; }));
  f.app = "shop";
  EXPECT_EQ(all_pages(f), expected([](const EventRecord& e) {
              return e.app == "shop" && e.outcome >= kBlocked;
            }));
}

TEST_P(EventQueryTest, AddressRuleAndTimeFilters) {
  EventFilter f;
  f.limit = 5;
  f.client_ip = "198.51.100.3";
  f.rule = "sql-injection";
  f.since_ms = kT0 + 10'000;
  f.until_ms = kT0 + 40'000;
  EXPECT_EQ(all_pages(f), expected([](const EventRecord& e) {
              return e.client_ip == "198.51.100.3" && e.rule == "sql-injection" &&
                     e.time_ms >= kT0 + 10'000 && e.time_ms <= kT0 + 40'000;
            }));
  f.client_ip = "203.0.113.1";  // never seen
  EXPECT_TRUE(all_pages(f).empty());
}

INSTANTIATE_TEST_SUITE_P(Dialects, EventQueryTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

}  // namespace
}  // namespace vigil::server::ingest
