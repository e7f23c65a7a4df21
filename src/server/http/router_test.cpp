#include "server/http/router.hpp"

#include <httplib.h>

#include <gtest/gtest.h>

#include "server/common/crypto.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::http {
namespace {

TEST(Router, MatchesPatterns) {
  std::vector<std::string> params;
  EXPECT_TRUE(match_pattern("/api/v1/incidents/{id}", "/api/v1/incidents/42", &params));
  EXPECT_EQ(params, std::vector<std::string>{"42"});
  EXPECT_TRUE(match_pattern("/api/v1/apps/{name}/policy", "/api/v1/apps/shop/policy", &params));
  EXPECT_EQ(params, std::vector<std::string>{"shop"});
  EXPECT_FALSE(match_pattern("/api/v1/incidents/{id}", "/api/v1/incidents/", &params));
  EXPECT_FALSE(match_pattern("/api/v1/incidents/{id}", "/api/v1/incidents/4/x", &params));
  EXPECT_FALSE(match_pattern("/api/v1/incidents", "/api/v1/incidents/", &params));
  EXPECT_FALSE(match_pattern("/healthz", "/healthzz", &params));
}

TEST(Router, RolesAreOrdered) {
  Principal viewer, analyst, admin, agent;
  viewer.kind = analyst.kind = admin.kind = Principal::Kind::kUser;
  analyst.role = Role::kAnalyst;
  admin.role = Role::kAdmin;
  agent.kind = Principal::Kind::kAgent;
  EXPECT_TRUE(allowed(Access::kViewer, viewer));
  EXPECT_FALSE(allowed(Access::kAnalyst, viewer));
  EXPECT_TRUE(allowed(Access::kAnalyst, admin));
  EXPECT_FALSE(allowed(Access::kAdmin, analyst));
  EXPECT_FALSE(allowed(Access::kViewer, agent));
  EXPECT_FALSE(allowed(Access::kAgent, admin));
  EXPECT_TRUE(allowed(Access::kAgent, agent));
  EXPECT_TRUE(allowed(Access::kPublic, Principal{}));
}

// Accepts "Bearer viewer", "Bearer admin", "Bearer agent", and a cookie session.
class FakeAuth : public Authenticator {
 public:
  bool authenticate(const httplib::Request& r, Principal* p) override {
    std::string a = r.get_header_value("Authorization");
    if (a == "Bearer viewer" || a == "Bearer admin") {
      p->kind = Principal::Kind::kUser;
      p->role = a == "Bearer admin" ? Role::kAdmin : Role::kViewer;
      return true;
    }
    if (a == "Bearer agent") {
      p->kind = Principal::Kind::kAgent;
      return true;
    }
    if (r.get_header_value("Cookie") == "vigil_session=s") {
      p->kind = Principal::Kind::kUser;
      p->role = Role::kAdmin;
      p->via_cookie = true;
      p->csrf_hash = sha256_hex("csrf");
      return true;
    }
    return false;
  }
};

class RouterDispatch : public ::testing::Test {
 protected:
  RouterDispatch()
      : router_({{"GET", "/open", Access::kPublic, 0, [](Request&) { return Reply::json(200, 1); }},
                 {"POST", "/admin", Access::kAdmin, 10,
                  [](Request&) { return Reply::json(200, "done"); }},
                 {"GET", "/throws/{kind}", Access::kViewer, 0,
                  [](Request& r) -> Reply {
                    if (r.params[0] == "storage") throw storage::StorageError("db down");
                    if (r.params[0] == "int") throw 7;
                    throw std::runtime_error("boom");
                  }},
                 {"POST", "/ingest", Access::kAgent, 0,
                  [](Request&) { return Reply::json(202, "ok"); }}},
                &auth_) {}
  Reply call(const std::string& method, const std::string& path, const std::string& auth = "",
             const std::string& body = "", const std::string& cookie = "",
             const std::string& csrf = "") {
    httplib::Request r;
    r.method = method;
    r.path = path;
    r.body = body;
    if (!auth.empty()) r.set_header("Authorization", auth);
    if (!cookie.empty()) r.set_header("Cookie", cookie);
    if (!csrf.empty()) r.set_header("X-CSRF-Token", csrf);
    return router_.dispatch(r, false);
  }
  FakeAuth auth_;
  Router router_;
};

TEST_F(RouterDispatch, AnswersEveryErrorAsJson) {
  EXPECT_EQ(call("GET", "/open").status, 200);
  EXPECT_EQ(call("GET", "/missing").status, 404);
  Reply r = call("DELETE", "/open");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(call("POST", "/admin").status, 401);
  EXPECT_EQ(call("POST", "/admin", "Bearer viewer").status, 403);
  EXPECT_EQ(call("POST", "/admin", "Bearer agent").status, 403);
  EXPECT_EQ(call("POST", "/admin", "Bearer admin", "0123456789").status, 200);
  EXPECT_EQ(call("POST", "/admin", "Bearer admin", "0123456789x").status, 413);
  EXPECT_EQ(call("POST", "/ingest", "Bearer admin").status, 403);
  EXPECT_EQ(call("POST", "/ingest", "Bearer agent").status, 202);
  EXPECT_EQ(call("GET", "/open\x01").status, 400);
  for (const char* kind : {"storage", "int", "other"}) {
    Reply e = call("GET", std::string("/throws/") + kind, "Bearer viewer");
    EXPECT_EQ(e.status, std::string(kind) == "storage" ? 503 : 500);
    EXPECT_NE(e.body.find("\"error\""), std::string::npos);
    EXPECT_EQ(e.body.find("boom"), std::string::npos);  // no internals in answers
  }
}

TEST_F(RouterDispatch, CookieSessionsNeedTheCsrfToken) {
  EXPECT_EQ(call("POST", "/admin", "", "", "vigil_session=s").status, 403);
  EXPECT_EQ(call("POST", "/admin", "", "", "vigil_session=s", "wrong").status, 403);
  EXPECT_EQ(call("POST", "/admin", "", "", "vigil_session=s", "csrf").status, 200);
}

}  // namespace
}  // namespace vigil::server::http

namespace vigil::server::http {
namespace {

TEST(Router, ParsesQueriesWithEqualsSignsInValues) {
  auto q = parse_query("/api/v1/events?app=x%27%20OR%201=1--&limit=5&flag&a+b=c+d&bad=%zz%4");
  ASSERT_EQ(q.size(), 5u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"app", "x' OR 1=1--"}));
  EXPECT_EQ(q[1].second, "5");
  EXPECT_EQ(q[2], (std::pair<std::string, std::string>{"flag", ""}));
  EXPECT_EQ(q[3], (std::pair<std::string, std::string>{"a b", "c d"}));
  EXPECT_EQ(q[4].second, "%zz%4");
  EXPECT_TRUE(parse_query("/healthz").empty());
}

}  // namespace
}  // namespace vigil::server::http
