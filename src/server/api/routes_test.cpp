// Every route against every kind of caller, through the real router, services and database:
// who may call what (401/403), and no input of any shape makes a handler fail (5xx).
#include <httplib.h>

#include <random>

#include <gtest/gtest.h>

#include "server/api/api.hpp"
#include "server/auth/auth_service.hpp"
#include "server/config.hpp"
#include "server/incidents/correlator.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/agents.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/ingest/ingest_queue.hpp"
#include "server/policy/policy_service.hpp"
#include "server/storage/testing/test_db.hpp"

namespace vigil::server::api {
namespace {

using http::Access;

struct Caller {
  const char* name;
  std::string authorization;
  int level;  // 0 none, 1 viewer, 2 analyst, 3 admin, 10 agent
};

class Routes : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string why;
    t_ = new testing::TestDatabase(testing::open_test_database(storage::Dialect::kSqlite, &why));
    config_ = new Config();
    config_->long_poll_max_s = 1;
    auth_ = new auth::AuthService(t_->db.get(), {});
    Status st;
    auth_->bootstrap_admin("admin-password", &st);
    correlator_ = new incidents::Correlator({});
    writer_ = new ingest::EventWriter(correlator_);
    ingest_ = new ingest::IngestQueue(t_->db.get(), writer_, {});
    ingest_->start();
    agents_ = new ingest::AgentRegistry(t_->db.get(), 0);
    incidents_ = new incidents::IncidentService(t_->db.get());
    policy_ = new policy::PolicyService(t_->db.get(), {});
    policy_->start();
    services_ = new Services();
    services_->config = config_;
    services_->db = t_->db.get();
    services_->auth = auth_;
    services_->ingest = ingest_;
    services_->agents = agents_;
    services_->incidents = incidents_;
    services_->policy = policy_;
    services_->ready = new std::atomic<bool>(true);
    router_ = new http::Router(build_routes(*services_), auth_);

    auth::Session admin;
    ASSERT_TRUE(auth_->login("admin", "admin-password", "127.0.0.1", false, &admin).ok());
    http::Principal p;
    httplib::Request r;
    r.set_header("Authorization", "Bearer " + admin.token);
    ASSERT_TRUE(auth_->authenticate(r, &p));
    callers_.push_back({"nobody", "", 0});
    for (auto [name, role, level] : {std::tuple{"vera", http::Role::kViewer, 1},
                                     std::tuple{"anna", http::Role::kAnalyst, 2}}) {
      ASSERT_TRUE(auth_->create_user(p, "", name, "password-of-" + std::string(name), role).ok());
      auth::Session s;
      ASSERT_TRUE(
          auth_->login(name, "password-of-" + std::string(name), "127.0.0.1", false, &s).ok());
      callers_.push_back({name, "Bearer " + s.token, level});
    }
    callers_.push_back({"admin", "Bearer " + admin.token, 3});
    Json key;
    ASSERT_TRUE(auth_->create_agent_key(p, "", "shop", "", &key).ok());
    callers_.push_back({"agent", "Bearer " + key["key"].get<std::string>(), 10});
    // Something for the handlers to find.
    std::vector<ingest::EventRecord> events;
    ASSERT_TRUE(ingest::parse_event_batch(
                    R"([{"event_id":"e1","outcome":"exploited","rule":"sql-injection",
                    "request":{"client_ip":"203.0.113.9","path":"/p"},"input":{"source":"query","name":"id"}}])",
                    "shop", 1795662765000, {}, &events)
                    .ok());
    ASSERT_TRUE(ingest_->submit(std::move(events)).status.ok());
  }
  static void TearDownTestSuite() {
    policy_->stop();
    ingest_->stop();
  }

  static http::Reply call(const http::Route& route, const Caller& caller, std::string body,
                          std::multimap<std::string, std::string> query = {}) {
    httplib::Request r;
    r.method = route.method;
    std::string path = route.pattern;
    for (auto [from, to] : {std::pair{"{id}", "1"}, std::pair{"{app}", "shop"},
                            std::pair{"{name}", "vera"}}) {
      auto at = path.find(from);
      if (at != std::string::npos) path.replace(at, std::string(from).size(), to);
    }
    r.path = path;
    r.body = std::move(body);
    r.remote_addr = "127.0.0.1";
    query.emplace("wait", "0");
    r.params = query;
    if (!caller.authorization.empty()) r.set_header("Authorization", caller.authorization);
    return router_->dispatch(r, false);
  }
  static bool allowed(Access a, int level) {
    switch (a) {
      case Access::kPublic: return true;
      case Access::kAgent: return level == 10;
      case Access::kAnyUser:
      case Access::kViewer: return level >= 1 && level <= 3;
      case Access::kAnalyst: return level >= 2 && level <= 3;
      case Access::kAdmin: return level == 3;
    }
    return false;
  }

  static inline testing::TestDatabase* t_;
  static inline Config* config_;
  static inline auth::AuthService* auth_;
  static inline incidents::Correlator* correlator_;
  static inline ingest::EventWriter* writer_;
  static inline ingest::IngestQueue* ingest_;
  static inline ingest::AgentRegistry* agents_;
  static inline incidents::IncidentService* incidents_;
  static inline policy::PolicyService* policy_;
  static inline Services* services_;
  static inline http::Router* router_;
  static inline std::vector<Caller> callers_;
};

TEST_F(Routes, EveryRouteAgainstEveryCaller) {
  ASSERT_GT(router_->routes().size(), 30u);
  int checked = 0;
  for (const auto& route : router_->routes()) {
    if (route.method == "DELETE" && route.pattern == "/api/v1/session") continue;  // signs out
    for (const auto& caller : callers_) {
      http::Reply r = call(route, caller, "{}");
      std::string what = route.method + " " + route.pattern + " as " + caller.name + ": " +
                         std::to_string(r.status) + " " + r.body;
      if (!allowed(route.access, caller.level)) {
        EXPECT_EQ(r.status, caller.level == 0 ? 401 : 403) << what;
      } else {
        EXPECT_NE(r.status, 401) << what;
        EXPECT_LT(r.status, 500) << what;
        // A handler's own refusal (a viewer changing another user) is a 403 with a reason.
        if (r.status == 403) {
          EXPECT_EQ(route.pattern, "/api/v1/users/{name}") << what;
        }
      }
      EXPECT_EQ(r.body.empty() ? '{' : r.body[0] == '[' ? '{' : r.body[0], '{') << what;
      ++checked;
    }
  }
  EXPECT_EQ(checked, static_cast<int>((router_->routes().size() - 1) * callers_.size()));
}

TEST_F(Routes, HostileInputsNeverFailAHandler) {
  std::mt19937 rng(1234);
  auto random_bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  std::vector<std::string> bodies = {
      "", "null", "[]", "7", "\"x\"", "{", "{\"a\":}", std::string(70, '[') + std::string(70, ']'),
      R"({"username":[],"password":{},"app":7,"name":null,"role":"root","policy":[],"status":1,
          "note":{},"action":"block_attacker","expires_in":"forever","days":-1,"agent_id":"",
          "counters":{"x":"y"},"events":{}})",
      R"({"app":"../../etc","rule":"x\u0000y","route":"\n","input":"\ud800","comment":"\u0007"})",
      R"([{"event_id":"a","outcome":"probed","rule":"x","request":{"client_ip":"::ffff:1.2.3.4"}}])",
      R"({"mode":"block","rules":{"sql-injection":"block"},"virtual_patches":[{"id":"vp","route":{"regex":"("}}]})",
      "{\"app\":\"" + std::string(100000, 'a') + "\"}",
  };
  for (int i = 0; i < 20; ++i) bodies.push_back(random_bytes(rng() % 300));
  std::vector<std::multimap<std::string, std::string>> queries = {
      {},
      {{"limit", "0"}, {"cursor", "x.y"}, {"outcome", "exploited,,"}, {"since", "yesterday"}},
      {{"limit", "99999999999999999999"}, {"offset", "-1"}, {"status", "open,nope"}},
      {{"app", "shop"}, {"client_ip", "999.1.1.1"}, {"incident", "abc"}, {"version", "-3"}},
      {{"all", "1"}, {"target", std::string(300, 't')}, {"before", "0"}, {"events_limit", "0"}},
  };
  for (const auto& route : router_->routes()) {
    if (route.method == "DELETE") continue;  // would remove the callers themselves
    for (const auto& caller : callers_) {
      if (!allowed(route.access, caller.level)) continue;
      for (const auto& body : bodies)
        for (const auto& query : queries) {
          http::Reply r = call(route, caller, body, query);
          EXPECT_LT(r.status, 500) << route.method << " " << route.pattern << " as "
                                   << caller.name << " body " << body.substr(0, 80) << ": "
                                   << r.body;
        }
    }
  }
}

}  // namespace
}  // namespace vigil::server::api
