// vigil/httplib.hpp against a real cpp-httplib server on a loopback port.
#include "vigil/httplib.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace vigil::sdk {
namespace {

class ProtectedServer {
 public:
  explicit ProtectedServer(Mode mode) {
    char tmpl[] = "/tmp/vigil-httplib-test.XXXXXX";
    dir_ = mkdtemp(tmpl);
    AgentOptions o;
    o.app = "httplib-test";
    o.mode = mode;
    o.events_path = dir_ + "/events.jsonl";
    agent_ = std::make_unique<Agent>(o);
    protect(server_, *agent_);
    server_.Get("/hello", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content("<p>Hello, " + req.get_param_value("name") + "!</p>", "text/html");
    });
    server_.Get("/go", [](const httplib::Request& req, httplib::Response& res) {
      res.status = 302;
      res.headers.emplace("Location", req.get_param_value("to"));
    });
    server_.Get("/search", [this](const httplib::Request& req, httplib::Response& res) {
      std::string sql = "SELECT name FROM products WHERE name LIKE '%" + req.get_param_value("q") + "%'";
      if (agent_->check_sql(Dialect::kSqlite, sql, "sqlite3_prepare_v2").block) {
        res.status = 500;
        return;
      }
      res.set_content("[]", "application/json");
    });
    server_.Post("/login", [this](const httplib::Request& req, httplib::Response& res) {
      std::string sql = "SELECT name FROM users WHERE name = '" + req.get_param_value("user") + "'";
      if (agent_->check_sql(Dialect::kSqlite, sql, "sqlite3_prepare_v2").block) {
        res.status = 500;
        return;
      }
      res.set_content("welcome", "text/plain");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 200 && !server_.is_running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~ProtectedServer() {
    server_.stop();
    thread_.join();
  }
  httplib::Result get(const std::string& path) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(5, 0);
    return client.Get(path.c_str());
  }
  httplib::Result get(const std::string& path, const httplib::Headers& headers) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(5, 0);
    return client.Get(path.c_str(), headers);
  }
  httplib::Result post(const std::string& path, const std::string& form) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(5, 0);
    return client.Post(path.c_str(), form, "application/x-www-form-urlencoded");
  }
  std::string events() {
    agent_->flush();
    std::ifstream in(dir_ + "/events.jsonl");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  Agent& agent() { return *agent_; }

 private:
  std::string dir_;
  std::unique_ptr<Agent> agent_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(SdkHttplib, BenignRequestsPassUnchanged) {
  ProtectedServer s(Mode::kBlock);
  auto r = s.get("/hello?name=Ada");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<p>Hello, Ada!</p>");
  auto g = s.get("/go?to=/search");
  ASSERT_TRUE(g);
  EXPECT_EQ(g->status, 302);
  auto q = s.get("/search?q=lamp");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, 200);
  EXPECT_EQ(q->body, "[]");
  EXPECT_EQ(s.agent().counters().requests, 3u);
  EXPECT_EQ(s.agent().counters().detections, 0u);
}

TEST(SdkHttplib, BlockModeAnswers403NamingTheEvent) {
  ProtectedServer s(Mode::kBlock);
  for (const char* path : {"/search?q=x%27%20OR%201%3D1--", "/hello?name=%3Cscript%3Ealert(1)%3C/script%3E",
                           "/go?to=https://evil.example/login"}) {
    auto r = s.get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 403) << path;
    std::string id = r->get_header_value("X-Vigil-Event");
    EXPECT_EQ(id.size(), 32u) << path;
    EXPECT_NE(r->body.find(id), std::string::npos) << path;
    EXPECT_EQ(r->get_header_value("Location"), "") << path;
    EXPECT_NE(s.events().find("\"event_id\":\"" + id + "\""), std::string::npos) << path;
  }
  EXPECT_EQ(s.agent().counters().blocked, 3u);
  // The server goes on serving.
  auto ok = s.get("/hello?name=Ada");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(SdkHttplib, FormBodiesAreInputsToo) {
  // httplib reads bodies after pre-routing: the scope takes them in at the first sink check.
  ProtectedServer s(Mode::kBlock);
  auto ok = s.post("/login", "user=alice");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body, "welcome");
  auto r = s.post("/login", "user=alice%27--");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 403);
  std::string id = r->get_header_value("X-Vigil-Event");
  ASSERT_EQ(id.size(), 32u);
  std::string events = s.events();
  EXPECT_NE(events.find("\"event_id\":\"" + id + "\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"source\":\"body\",\"name\":\"user\""), std::string::npos) << events;
}

TEST(SdkHttplib, MonitorModeReportsExploitsAndAnswersAsUsual) {
  ProtectedServer s(Mode::kMonitor);
  auto r = s.get("/hello?name=%3Cscript%3Ealert(1)%3C/script%3E");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "<p>Hello, <script>alert(1)</script>!</p>");
  auto q = s.get("/search?q=x%27%20OR%201%3D1--");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->status, 200);
  std::string events = s.events();
  EXPECT_NE(events.find("\"outcome\":\"exploited\",\"rule\":\"xss\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"function\":\"httplib.response.body\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"outcome\":\"exploited\",\"rule\":\"sql-injection\""), std::string::npos) << events;
  EXPECT_NE(events.find("\"function\":\"sqlite3_prepare_v2\""), std::string::npos) << events;
}

TEST(SdkHttplib, CompressedHtmlIsDecodedBeforeTheCheck) {
  // httplib compresses the body before post-routing when the client accepts it: the check must
  // decode it (a browser always sends Accept-Encoding).
  ProtectedServer s(Mode::kMonitor);
  int exploited = 0;
  for (const char* accept : {"gzip", "br", "gzip, deflate, br, zstd"}) {
    auto r = s.get("/hello?name=%3Cb%20onclick%3Dalert(1)%3Ex%3C/b%3E",
                   {{"Accept-Encoding", accept}});
    ASSERT_TRUE(r) << accept;
    EXPECT_EQ(r->status, 200) << accept;
    // The client decodes; the header says the server compressed.
    EXPECT_EQ(r->get_header_value("Content-Encoding"),
              std::string(accept) == "gzip" ? "gzip" : "br");
    EXPECT_EQ(r->body, "<p>Hello, <b onclick=alert(1)>x</b>!</p>") << accept;
    std::string events = s.events();
    std::size_t n = 0;
    const std::string needle = "\"function\":\"httplib.response.body\"";
    for (std::size_t at = 0; (at = events.find(needle, at)) != std::string::npos; ++at) ++n;
    EXPECT_EQ(n, static_cast<std::size_t>(++exploited)) << accept << ": " << events;
  }
  EXPECT_EQ(s.agent().counters().fail_opens, 0u);
  // A benign page, compressed: no detection.
  std::uint64_t before = s.agent().counters().detections;
  auto ok = s.get("/hello?name=Ada", {{"Accept-Encoding", "br"}});
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->get_header_value("Content-Encoding"), "br");
  EXPECT_EQ(ok->body, "<p>Hello, Ada!</p>");
  EXPECT_EQ(s.agent().counters().detections, before);
}

TEST(SdkHttplib, CheckEncodedHtmlCountsWhatItCannotDecode) {
  ProtectedServer s(Mode::kMonitor);
  // Outside a request scope nothing is reported, but a body that cannot be decoded is counted.
  EXPECT_FALSE(s.agent().check_encoded_html("not gzip", "gzip").attack);
  EXPECT_FALSE(s.agent().check_encoded_html("x", "compress").attack);
  EXPECT_EQ(s.agent().counters().fail_opens, 2u);
}

}  // namespace
}  // namespace vigil::sdk
