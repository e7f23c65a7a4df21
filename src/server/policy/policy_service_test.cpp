#include "server/policy/policy_service.hpp"

#include <atomic>
#include <chrono>
#include <future>

#include <gtest/gtest.h>

#include "server/storage/testing/test_db.hpp"

namespace vigil::server::policy {
namespace {

using storage::Dialect;

class PolicyServiceTest : public ::testing::TestWithParam<Dialect> {
 protected:
  void SetUp() override {
    std::string why;
    t_ = testing::open_test_database(GetParam(), &why);
    if (!t_.db) GTEST_SKIP() << "PostgreSQL unavailable: " << why;
    PolicyOptions o;
    o.poll_ms = 100;
    service_ = std::make_unique<PolicyService>(t_.db.get(), o);
    service_->start();
  }
  testing::TestDatabase t_;
  std::unique_ptr<PolicyService> service_;
};

TEST_P(PolicyServiceTest, ValidatesVersionsAndKeepsHistory) {
  Json out;
  Status st = service_->put("ann", "", "shop", {{"rules", {{"sql-injectoin", "block"}}}}, "", -1, &out);
  EXPECT_EQ(st.http(), 400);
  EXPECT_EQ(out["diagnostics"][0]["code"], "policy.unknown_rule");
  EXPECT_EQ(service_->get("shop").version, 0);

  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "monitor"}}, "first", -1, &out).ok());
  EXPECT_EQ(out["version"], 1);
  // A warning (unknown key) is accepted and reported.
  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "block"}, {"colour", "red"}}, "", 1, &out).ok());
  EXPECT_EQ(out["version"], 2);
  EXPECT_EQ(out["diagnostics"][0]["severity"], "warning");
  // The optimistic lock.
  EXPECT_EQ(service_->put("ann", "", "shop", {{"mode", "off"}}, "", 1, &out).http(), 409);
  EXPECT_EQ(service_->get("shop").version, 2);
  EXPECT_EQ(service_->current_version("shop"), 2);
  Json history = service_->history("shop", 10);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1]["comment"], "first");
  EXPECT_EQ(history[0]["policy"]["mode"], "block");
}

TEST_P(PolicyServiceTest, AmendChangesTheCurrentDocument) {
  Json out;
  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "monitor"}}, "", -1, &out).ok());
  ASSERT_TRUE(service_
                  ->amend("ann", "", "shop",
                          [](Json& doc) {
                            doc["ip_denylist"] = Json::array({"192.0.2.1"});
                            return Status();
                          },
                          "block", &out)
                  .ok());
  auto doc = service_->get("shop");
  EXPECT_EQ(doc.version, 2);
  EXPECT_NE(doc.document.find("192.0.2.1"), std::string::npos);
  EXPECT_NE(doc.document.find("monitor"), std::string::npos);
}

TEST_P(PolicyServiceTest, LongPollWakesOnChangeHereAndThroughAnotherProcess) {
  PolicyDoc doc;
  EXPECT_EQ(service_->wait_for_change("shop", 0, 50, &doc), PolicyService::Wait::kTimeout);
  // A change through this service wakes its waiter at once.
  auto waiter = std::async(std::launch::async, [&] {
    PolicyDoc d;
    auto w = service_->wait_for_change("shop", 0, 10000, &d);
    return std::make_pair(w, d.version);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Json out;
  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "block"}}, "", -1, &out).ok());
  auto [w, v] = waiter.get();
  EXPECT_EQ(w, PolicyService::Wait::kChanged);
  EXPECT_EQ(v, 1);

  // A second service on the same database (another vigild) sees it by polling.
  PolicyOptions o;
  o.poll_ms = 100;
  PolicyService other(t_.db.get(), o);
  other.start();
  auto remote = std::async(std::launch::async, [&] {
    PolicyDoc d;
    auto start = std::chrono::steady_clock::now();
    auto result = other.wait_for_change("shop", 1, 10000, &d);
    return std::make_tuple(result, d.version, std::chrono::steady_clock::now() - start);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "off"}}, "", -1, &out).ok());
  auto [rw, rv, took] = remote.get();
  EXPECT_EQ(rw, PolicyService::Wait::kChanged);
  EXPECT_EQ(rv, 2);
  EXPECT_LT(took, std::chrono::seconds(2));
  other.stop();
  EXPECT_EQ(other.wait_for_change("shop", 2, 1000, &doc), PolicyService::Wait::kStopping);
}

// A poll that read the table just before a put of this process committed must not take the
// cached version back below what that put returned (CI once saw 1 after a put returned 2).
TEST_P(PolicyServiceTest, APollNeverTakesTheVersionBackBelowACommittedPut) {
  Json out;
  ASSERT_TRUE(service_->put("ann", "", "shop", {{"mode", "monitor"}}, "", -1, &out).ok());
  std::atomic<bool> armed{false};
  std::promise<std::int64_t> put_in_window;
  PolicyService* busy = nullptr;
  PolicyOptions o;
  o.poll_ms = 20;
  o.between_poll_read_and_apply = [&] {
    if (!armed.exchange(false)) return;
    Json put_out;
    Status st = busy->put("ann", "", "shop", {{"mode", "block"}}, "", -1, &put_out);
    put_in_window.set_value(st.ok() ? put_out["version"].get<std::int64_t>() : -1);
  };
  PolicyService service(t_.db.get(), o);
  busy = &service;
  service.start();
  // Let a first poll see version 1, then commit version 2 inside the next poll's window.
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(service.current_version("shop"), 1);
  auto committed = put_in_window.get_future();
  armed = true;
  ASSERT_EQ(committed.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  ASSERT_EQ(committed.get(), 2);
  service.stop();  // joins the watcher: that poll has applied what it read
  EXPECT_EQ(service.current_version("shop"), 2);
}

INSTANTIATE_TEST_SUITE_P(Dialects, PolicyServiceTest,
                         ::testing::Values(Dialect::kSqlite, Dialect::kPostgres),
                         [](const auto& p) { return testing::dialect_name(p.param); });

}  // namespace
}  // namespace vigil::server::policy
