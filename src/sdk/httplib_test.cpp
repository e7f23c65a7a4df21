// vigil/httplib.hpp against a real cpp-httplib server on a loopback port.
#include "vigil/httplib.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

namespace vigil::sdk {
namespace {

// The page /stream sends: `rows` filler lines, a greeting with the name (in `where`: the body,
// or a script's string), more filler.
std::string streamed_page(const httplib::Request& req) {
  std::size_t rows = std::stoul(req.get_param_value("rows"));
  std::string name = req.get_param_value("name");
  std::string page = "<html><body>\n";
  for (std::size_t i = 0; i < rows; ++i)
    page += "<p>Row " + std::to_string(i) + " of the catalogue, nothing to see here.</p>\n";
  if (req.get_param_value("where") == "script")
    page += "<script>var name = \"" + name + "\";\n</script>\n";
  else
    page += "<p>Hello, " + name + "!</p>\n";
  for (std::size_t i = 0; i < rows; ++i) page += "<p>More " + std::to_string(i) + "</p>\n";
  return page + "</body></html>\n";
}

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
    // Streamed pages: `rows` lines of filler around the reflected name, written 100 bytes at a
    // time by a provider with a length, one without, and a chunked one.
    server_.Get("/stream", [](const httplib::Request& req, httplib::Response& res) {
      auto page = std::make_shared<std::string>(streamed_page(req));
      auto provider = [page](std::size_t offset, httplib::DataSink& sink) {
        if (offset >= page->size()) {
          sink.done();
          return true;
        }
        return sink.write(page->data() + offset, std::min<std::size_t>(100, page->size() - offset));
      };
      if (req.get_param_value("kind") == "chunked")
        res.set_chunked_content_provider("text/html", provider);
      else if (req.get_param_value("kind") == "length")
        res.set_content_provider(page->size(), "text/html",
                                 [page](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                   return sink.write(page->data() + offset, std::min<std::size_t>(100, length));
                                 });
      else
        res.set_content_provider("text/html", provider);
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

// The page /stream?... would send, built the same way for the comparison.
std::string expected_page(const std::string& query) {
  httplib::Request req;
  httplib::detail::parse_query_text(query, req.params);
  return streamed_page(req);
}

TEST(SdkHttplib, StreamedHtmlPassesUnchangedWhenBenign) {
  ProtectedServer s(Mode::kBlock);
  // Short pages, and pages past the 256 KiB checked (sent as they come after that); the name
  // in the body and in a script string cut across writes.
  for (const char* kind : {"plain", "length", "chunked"}) {
    for (const char* rows : {"0", "40", "4000"}) {
      for (const char* where : {"body", "script"}) {
        std::string query = std::string("kind=") + kind + "&rows=" + rows + "&name=Ada&where=" + where;
        auto r = s.get("/stream?" + query);
        ASSERT_TRUE(r) << query;
        EXPECT_EQ(r->status, 200) << query;
        EXPECT_EQ(r->body, expected_page(query)) << query;
      }
    }
  }
  // Compressed on the way out (the provider's bytes are checked before httplib compresses).
  auto z = s.get("/stream?kind=chunked&rows=40&name=Ada&where=body", {{"Accept-Encoding", "gzip"}});
  ASSERT_TRUE(z);
  EXPECT_EQ(z->body, expected_page("kind=chunked&rows=40&name=Ada&where=body"));
  EXPECT_EQ(s.agent().counters().detections, 0u);
  EXPECT_EQ(s.agent().counters().fail_opens, 0u);
}

TEST(SdkHttplib, StreamedHtmlIsCutBeforeTheInjectedMarkup) {
  ProtectedServer s(Mode::kBlock);
  // Markup that input analysis lets through (no script in it) and the page check does not.
  const std::string payload = "<b title=x>hi</b>";
  for (const char* kind : {"plain", "length", "chunked"}) {
    std::string query = std::string("kind=") + kind + "&rows=40&where=body&name=" +
                        httplib::detail::encode_query_param(payload);
    auto r = s.get("/stream?" + query);
    // The status line went out before the page: the client sees the page end early (or the
    // connection close), never the payload.
    if (r) {
      EXPECT_EQ(r->body.find("<b title=x>"), std::string::npos) << kind;
    }
  }
  std::string events = s.events();
  std::size_t n = 0;
  const std::string needle = "\"outcome\":\"blocked\",\"rule\":\"xss\"";
  for (std::size_t at = 0; (at = events.find(needle, at)) != std::string::npos; ++at) ++n;
  EXPECT_EQ(n, 3u) << events;
  EXPECT_EQ(s.agent().counters().blocked, 3u);
  // The server goes on serving.
  auto ok = s.get("/stream?kind=plain&rows=1&name=Ada&where=body");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, expected_page("kind=plain&rows=1&name=Ada&where=body"));
}

TEST(SdkHttplib, StreamedHtmlInMonitorModeIsReportedOnce) {
  ProtectedServer s(Mode::kMonitor);
  const std::string payload = "<img src=x onerror=alert(1)>";
  std::string query = "kind=chunked&rows=400&where=body&name=" + httplib::detail::encode_query_param(payload);
  auto r = s.get("/stream?" + query);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, expected_page(query));
  std::string events = s.events();
  std::size_t n = 0;
  const std::string needle = "\"function\":\"httplib.response.body\"";
  for (std::size_t at = 0; (at = events.find(needle, at)) != std::string::npos; ++at) ++n;
  EXPECT_EQ(n, 1u) << events;
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
