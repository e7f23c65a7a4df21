#include "server/web/dashboard.hpp"

#include <httplib.h>

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "server/web/assets.hpp"

namespace vigil::server::web {
namespace {

std::string header(const http::Reply& r, const std::string& name) {
  for (const auto& [k, v] : r.headers)
    if (k == name) return v;
  return "";
}

class DashboardRoutes : public ::testing::Test {
 protected:
  DashboardRoutes() : router_(routes(), nullptr) {}
  static std::vector<http::Route> routes() {
    std::vector<http::Route> r;
    add_dashboard_routes(&r);
    return r;
  }
  http::Reply get(const std::string& path, const std::string& if_none_match = "",
                  const std::string& method = "GET") {
    httplib::Request r;
    r.method = method;
    r.path = path;
    if (!if_none_match.empty()) r.set_header("If-None-Match", if_none_match);
    return router_.dispatch(r, false);
  }
  http::Router router_;
};

TEST_F(DashboardRoutes, EveryPageIsTheIndexWithAStrictPolicy) {
  http::Reply index = get("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<html"), std::string::npos);
  EXPECT_EQ(header(index, "Cache-Control"), "no-cache");
  EXPECT_NE(header(index, "Content-Security-Policy").find("default-src 'self'"), std::string::npos);
  EXPECT_FALSE(header(index, "ETag").empty());
  for (const char* page : {"/login", "/overview", "/incidents", "/incidents/42", "/events",
                           "/events/0123abcd", "/apps", "/apps/shop", "/users"}) {
    http::Reply r = get(page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_EQ(r.body, index.body) << page;
  }
  // Revalidation: the same ETag gets a 304 without a body.
  http::Reply again = get("/incidents", header(index, "ETag"));
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(get("/", "\"other\"").status, 200);
}

TEST_F(DashboardRoutes, AssetsAreServedWithTheirTypeAndCachedForever) {
  int served = 0;
  for (const Asset& a : assets()) {
    std::string path = a.path;
    if (path.rfind("/assets/", 0) != 0) continue;
    http::Reply r = get(path);
    ASSERT_EQ(r.status, 200) << path;
    EXPECT_EQ(r.body.size(), a.size);
    EXPECT_EQ(r.content_type, a.content_type);
    EXPECT_EQ(header(r, "Cache-Control"), "public, max-age=31536000, immutable");
    if (path.ends_with(".js")) {
      EXPECT_EQ(r.content_type, "text/javascript; charset=utf-8");
    }
    if (path.ends_with(".css")) {
      EXPECT_EQ(r.content_type, "text/css; charset=utf-8");
    }
    EXPECT_EQ(get(path, a.etag).status, 304);
    ++served;
  }
  // A built dashboard names its hashed assets in index.html; each must be embedded.
  std::string index = get("/").body;
  std::regex ref(R"re((?:src|href)="(/assets/[^"]+)")re");
  for (auto it = std::sregex_iterator(index.begin(), index.end(), ref);
       it != std::sregex_iterator(); ++it) {
    EXPECT_EQ(get((*it)[1].str()).status, 200) << (*it)[1].str();
    --served;
  }
  EXPECT_GE(served, 0);
}

TEST_F(DashboardRoutes, UnknownFilesAndMethodsAreErrorsNotTheIndex) {
  http::Reply missing = get("/assets/app-NOPE.js");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("\"error\""), std::string::npos);
  EXPECT_EQ(get("/assets/../index.html").status, 404);
  EXPECT_EQ(get("/api/v1/nothing").status, 404);  // the API's paths are never the page
  EXPECT_EQ(get("/incidents/1/2").status, 404);
  EXPECT_EQ(get("/", "", "POST").status, 405);
}

}  // namespace
}  // namespace vigil::server::web
