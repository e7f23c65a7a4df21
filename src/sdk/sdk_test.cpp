#include "vigil/sdk.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace vigil::sdk {
namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/vigil-sdk-test.XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

// A GET request with one query string.
struct Get {
  std::string uri;
  std::vector<Header> headers{{"Host", "shop.test"}, {"User-Agent", "sdk-test"}};
  HttpRequest request() const { return HttpRequest{"GET", uri, headers, "", "192.0.2.10"}; }
};

AgentOptions options(Mode mode, const std::string& events = "") {
  AgentOptions o;
  o.app = "sdk-test";
  o.mode = mode;
  o.events_path = events;
  return o;
}

TEST(SdkAgent, NoScopeMeansClean) {
  Agent agent(options(Mode::kBlock));
  SinkResult r = agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE 'x' OR 1=1--'");
  EXPECT_FALSE(r.attack);
  EXPECT_FALSE(r.block);
  EXPECT_EQ(agent.counters().sinks, 0u);
}

TEST(SdkAgent, BenignRequestAndQueryAreClean) {
  Agent agent(options(Mode::kBlock));
  Get get{"/search?q=lamp"};
  RequestScope scope(agent, get.request());
  EXPECT_FALSE(scope.blocked());
  EXPECT_FALSE(scope.verdict().attack());
  SinkResult r = agent.check_sql(Dialect::kSqlite, "SELECT name FROM products WHERE name LIKE '%lamp%'");
  EXPECT_FALSE(r.attack);
  AgentCounters c = agent.counters();
  EXPECT_EQ(c.requests, 1u);
  EXPECT_EQ(c.sinks, 1u);
  EXPECT_EQ(c.detections, 0u);
}

TEST(SdkAgent, MonitorModeReportsExploitWithStack) {
  std::string dir = temp_dir();
  std::string events = dir + "/events.jsonl";
  {
    // Monitor mode for sink rules, input analysis off, so the only event is the sink's.
    AgentOptions o = options(Mode::kMonitor, events);
    Agent agent(o);
    Get get{"/search?q=x%27%20OR%201%3D1--"};
    RequestScope scope(agent, get.request());
    SinkResult r = agent.check_sql(Dialect::kSqlite,
                                   "SELECT name FROM products WHERE name = 'x' OR 1=1--'", "sqlite3_prepare_v2");
    EXPECT_TRUE(r.attack);
    EXPECT_FALSE(r.block);
    EXPECT_EQ(r.event_id.size(), 32u);
    EXPECT_FALSE(r.reason.empty());
    EXPECT_FALSE(scope.blocked());
    agent.flush();
  }
  std::vector<std::string> lines = lines_of(events);
  bool exploited = false;
  for (const std::string& l : lines) {
    if (l.find("\"outcome\":\"exploited\"") == std::string::npos) continue;
    exploited = true;
    EXPECT_NE(l.find("\"rule\":\"sql-injection\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"function\":\"sqlite3_prepare_v2\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"stack\":["), std::string::npos) << l;
    EXPECT_NE(l.find("\"app\":\"sdk-test\""), std::string::npos) << l;
    EXPECT_NE(l.find("\"path\":\"/search\""), std::string::npos) << l;
  }
  EXPECT_TRUE(exploited) << lines.size() << " events";
}

TEST(SdkAgent, BlockModeBlocksAtInputAnalysis) {
  std::string dir = temp_dir();
  std::string events = dir + "/events.jsonl";
  std::string event_id;
  {
    Agent agent(options(Mode::kBlock, events));
    Get get{"/search?q=x%27%20OR%201%3D1--"};
    RequestScope scope(agent, get.request());
    EXPECT_TRUE(scope.blocked());
    event_id = scope.block_event_id();
    EXPECT_EQ(event_id.size(), 32u);
    EXPECT_NE(scope.block_body().find(event_id), std::string::npos);
    EXPECT_NE(scope.block_body(true).find("\"event_id\":\"" + event_id + "\""), std::string::npos);
    EXPECT_EQ(agent.counters().blocked, 1u);
  }
  bool found = false;
  for (const std::string& l : lines_of(events))
    if (l.find(event_id) != std::string::npos) {
      found = true;
      EXPECT_NE(l.find("\"outcome\":\"blocked\""), std::string::npos) << l;
    }
  EXPECT_TRUE(found);
}

TEST(SdkAgent, BlockingSinkCheckBlocksTheScope) {
  Agent agent(options(Mode::kBlock));
  Get get{"/go?to=https://evil.example/login"};
  RequestScope scope(agent, get.request());
  if (scope.blocked()) GTEST_SKIP() << "input analysis already blocks this request";
  SinkResult r = agent.check_redirect("https://evil.example/login", "http://shop.test/");
  EXPECT_TRUE(r.attack);
  EXPECT_TRUE(r.block);
  EXPECT_TRUE(scope.blocked());
  EXPECT_EQ(scope.block_event_id(), r.event_id);
  EXPECT_FALSE(agent.check_redirect("/search?q=lamp", "http://shop.test/").attack);
}

TEST(SdkAgent, LateBodyJoinsTheScope) {
  Agent agent(options(Mode::kMonitor));
  std::vector<Header> headers{{"Host", "shop.test"},
                              {"Content-Type", "application/x-www-form-urlencoded"}};
  RequestScope scope(agent, HttpRequest{"POST", "/login", headers, "", "192.0.2.10"});
  std::string body;  // filled later, as a server reading the body after routing would
  scope.set_body_source(&body);
  EXPECT_FALSE(agent.check_sql(Dialect::kSqlite, "SELECT 1 FROM users WHERE name = 'alice'--'").attack);
  body = "user=alice%27--&pass=x";
  EXPECT_TRUE(agent.check_sql(Dialect::kSqlite, "SELECT 1 FROM users WHERE name = 'alice'--'").attack);
  bool found = false;
  for (const Input& in : scope.context().inputs()) found |= in.source == Source::kBody && in.name == "user";
  EXPECT_TRUE(found);
}

TEST(SdkAgent, ShellPathExecUrlChecks) {
  Agent agent(options(Mode::kMonitor));
  Get get{"/tool?host=127.0.0.1%3Bid&file=../../../etc/passwd&url=http://169.254.169.254/latest/"};
  RequestScope scope(agent, get.request());
  EXPECT_TRUE(agent.check_shell("ping -c 1 127.0.0.1;id").attack);
  EXPECT_TRUE(agent.check_path("/srv/files/../../../etc/passwd", "/srv/files").attack);
  EXPECT_TRUE(agent.check_url("http://169.254.169.254/latest/").attack);
  std::string_view argv[] = {"/bin/sh", "-c", "ping -c 1 127.0.0.1;id"};
  EXPECT_TRUE(agent.check_exec(argv).attack);
  EXPECT_FALSE(agent.check_shell("ping -c 1 localhost").attack);
  EXPECT_FALSE(scope.blocked());
}

TEST(SdkAgent, ModeOffReportsNothing) {
  Agent agent(options(Mode::kOff));
  Get get{"/search?q=x%27%20OR%201%3D1--"};
  RequestScope scope(agent, get.request());
  EXPECT_FALSE(scope.blocked());
  EXPECT_FALSE(agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE 'x' OR 1=1--'").attack);
  EXPECT_EQ(agent.counters().detections, 0u);
}

TEST(SdkAgent, PolicyRefinesTheMode) {
  std::string dir = temp_dir();
  std::string policy = dir + "/policy.yaml";
  std::ofstream(policy) << "version: 1\nmode: block\nrules:\n  sql-injection: monitor\n";
  AgentOptions o = options(Mode::kMonitor);
  o.policy_path = policy;
  Agent agent(o);
  Get get{"/search?q=x%27%20OR%201%3D1--"};
  RequestScope scope(agent, get.request());
  EXPECT_FALSE(scope.blocked());
  SinkResult r = agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE name = 'x' OR 1=1--'");
  EXPECT_TRUE(r.attack);
  EXPECT_FALSE(r.block);
}

TEST(SdkAgent, ScopesNestAndBelongToTheirThread) {
  Agent agent(options(Mode::kMonitor));
  EXPECT_EQ(RequestScope::current(), nullptr);
  Get outer_get{"/a?q=x%27%20OR%201%3D1--"};
  RequestScope outer(agent, outer_get.request());
  EXPECT_EQ(RequestScope::current(), &outer);
  {
    Get inner_get{"/b?q=lamp"};
    RequestScope inner(agent, inner_get.request());
    EXPECT_EQ(RequestScope::current(), &inner);
    // The innermost scope owns the check.
    EXPECT_FALSE(agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack);
  }
  EXPECT_EQ(RequestScope::current(), &outer);
  EXPECT_TRUE(agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack);
  bool other_thread_attack = true;
  std::thread t([&] {
    other_thread_attack = agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack;
  });
  t.join();
  EXPECT_FALSE(other_thread_attack);
}

TEST(SdkAgent, AnotherAgentsScopeIsNotUsed) {
  Agent a(options(Mode::kMonitor));
  Agent b(options(Mode::kMonitor));
  Get get{"/a?q=x%27%20OR%201%3D1--"};
  RequestScope scope(a, get.request());
  EXPECT_FALSE(b.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack);
  EXPECT_TRUE(a.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack);
}

TEST(SdkAgent, FloodDropsAndCountsWithBoundedQueue) {
  std::string dir = temp_dir();
  AgentOptions o = options(Mode::kMonitor, dir + "/events.jsonl");
  o.queue_capacity = 64;
  Agent agent(o);
  Get get{"/a?q=x%27%20OR%201%3D1--"};
  RequestScope scope(agent, get.request());
  std::vector<std::thread> threads;
  std::atomic<int> attacks{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      RequestScope s(agent, get.request());
      for (int i = 0; i < 2000; ++i)
        if (agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack) ++attacks;
    });
  }
  for (auto& t : threads) t.join();
  agent.flush();
  AgentCounters c = agent.counters();
  EXPECT_EQ(attacks.load(), 8000);
  EXPECT_GE(c.detections, 8000u);
  EXPECT_GT(c.drops, 0u);
  EXPECT_EQ(c.events + c.drops + c.write_errors, c.detections);
}

TEST(SdkAgent, UnwritableEventsFileIsCountedNotFatal) {
  // A path under a regular file cannot be created, even by root.
  std::string dir = temp_dir();
  std::string blocker = dir + "/not-a-dir";
  std::ofstream(blocker) << "x";
  Agent agent(options(Mode::kMonitor, blocker + "/events.jsonl"));
  Get get{"/a?q=x%27%20OR%201%3D1--"};
  RequestScope scope(agent, get.request());
  EXPECT_TRUE(agent.check_sql(Dialect::kSqlite, "SELECT 1 WHERE n = 'x' OR 1=1--'").attack);
  agent.flush();
  AgentCounters c = agent.counters();
  EXPECT_GT(c.write_errors, 0u);
  EXPECT_EQ(c.events, 0u);
}

TEST(SdkAgent, StatusFileHasTheCounters) {
  std::string dir = temp_dir();
  AgentOptions o = options(Mode::kMonitor);
  o.status_path = dir + "/status.json";
  {
    Agent agent(o);
    Get get{"/a?q=lamp"};
    RequestScope scope(agent, get.request());
  }
  std::vector<std::string> lines = lines_of(dir + "/status.json");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"requests\":1"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"app\":\"sdk-test\""), std::string::npos) << lines[0];
}

TEST(SdkAgent, OptionsFromEnvironment) {
  setenv("VIGIL_MODE", "block", 1);
  setenv("VIGIL_APP", "envapp", 1);
  setenv("VIGIL_EVENTS", "/tmp/x.jsonl", 1);
  setenv("VIGIL_QUEUE", "128", 1);
  AgentOptions o = AgentOptions::from_environment();
  EXPECT_EQ(o.mode, Mode::kBlock);
  EXPECT_EQ(o.app, "envapp");
  EXPECT_EQ(o.events_path, "/tmp/x.jsonl");
  EXPECT_EQ(o.queue_capacity, 128u);
  setenv("VIGIL_DISABLE", "1", 1);
  EXPECT_EQ(AgentOptions::from_environment().mode, Mode::kOff);
  for (const char* v : {"VIGIL_MODE", "VIGIL_APP", "VIGIL_EVENTS", "VIGIL_QUEUE", "VIGIL_DISABLE"}) unsetenv(v);
  EXPECT_EQ(AgentOptions::from_environment().mode, Mode::kMonitor);
}

}  // namespace
}  // namespace vigil::sdk
