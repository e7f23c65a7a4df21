#include "export/exporter.hpp"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

#include <cerrno>
#include <map>
#include <set>
#include <thread>

#include "export/testing/sample_events.hpp"
#include "export/text.hpp"

namespace vigil::exports {
namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;

// A receiver stand-in: records what arrives, fails on command.
class FakeTransport : public Transport {
 public:
  struct State {
    std::mutex mu;
    std::vector<std::string> received;
    int fail_next = 0;        // that many sends answer kRetry
    bool down = false;        // every send answers kRetry
    bool reject = false;
    std::size_t max_records = 0;  // > 0: larger batches answer kTooLarge
    std::chrono::milliseconds delay{0};
    int sends = 0;
    int broken_pipe = -1;   // >= 0: each send writes there first (a pipe nobody reads)
    int write_errno = 0;
    int confirm_after = 0;  // > 0: a batch sent stays unconfirmed for that many settle() calls
    int unsettled = 0;
    int settles = 0;
  };
  explicit FakeTransport(std::shared_ptr<State> s) : s_(std::move(s)) {}
  SendResult send(const std::vector<std::string>& records, std::chrono::milliseconds) noexcept override {
    std::chrono::milliseconds delay;
    {
      std::lock_guard<std::mutex> lock(s_->mu);
      delay = s_->delay;
    }
    if (delay.count()) std::this_thread::sleep_for(delay);
    std::lock_guard<std::mutex> lock(s_->mu);
    ++s_->sends;
    if (s_->broken_pipe >= 0 && ::write(s_->broken_pipe, "x", 1) < 0) {
      s_->write_errno = errno;
      return SendResult::retry("broken pipe");
    }
    if (s_->down) return SendResult::retry("down");
    if (s_->fail_next > 0) {
      --s_->fail_next;
      return SendResult::retry("flaky");
    }
    if (s_->reject) return SendResult::reject("bad");
    if (s_->max_records && records.size() > s_->max_records) return {SendResult::Kind::kTooLarge, "413", 0};
    for (const auto& r : records) s_->received.push_back(r);
    s_->unsettled = s_->confirm_after;
    return SendResult::ok();
  }
  SendResult settle(std::chrono::milliseconds) noexcept override {
    std::lock_guard<std::mutex> lock(s_->mu);
    ++s_->settles;
    if (s_->unsettled > 0) --s_->unsettled;
    return SendResult::ok();
  }
  bool unconfirmed() const noexcept override {
    std::lock_guard<std::mutex> lock(s_->mu);
    return s_->unsettled > 0;
  }

 private:
  std::shared_ptr<State> s_;
};

ExportConfig config(const std::string& url = "http://127.0.0.1:9/hook?format=json") {
  ExportConfig c;
  std::string error;
  EXPECT_TRUE(parse_export_url(url, &c, &error)) << error;
  c.retry_initial = 10ms;
  c.retry_max = 40ms;
  c.shutdown_timeout = 2s;
  return c;
}

std::shared_ptr<const Event> event(const std::string& id, const std::string& outcome,
                                   const std::string& rule = "sql-injection",
                                   const std::string& client = "203.0.113.9",
                                   const std::string& app = "shop") {
  auto e = std::make_shared<Event>();
  std::string error;
  std::string text = R"({"event_id":")" + id + R"(","outcome":")" + outcome + R"(","rule":")" + rule +
                     R"(","app":")" + app + R"(","request":{"client_ip":")" + client + R"("}})";
  EXPECT_TRUE(parse_event(text, EventLimits{}, now_ms(), e.get(), &error)) << error;
  return e;
}

template <class F>
bool eventually(F f, std::chrono::milliseconds limit = 5s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return f();
}

std::vector<std::string> ids(FakeTransport::State& s) {
  std::lock_guard<std::mutex> lock(s.mu);
  std::vector<std::string> out;
  for (const auto& r : s.received) out.push_back(json::parse(r)["event_id"]);
  return out;
}

// A write to a receiver that went away (here a pipe whose reader is closed) fails and is
// retried; its SIGPIPE does not end the program (the test binary leaves SIGPIPE at its default).
TEST(Exporter, AReceiverGoneMidWriteDoesNotSignalTheProgram) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  auto state = std::make_shared<FakeTransport::State>();
  state->broken_pipe = fds[1];
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("e1", "exploited"));
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(state->mu);
    return state->sends >= 2;
  }));
  {
    std::lock_guard<std::mutex> lock(state->mu);
    EXPECT_EQ(state->write_errno, EPIPE);
    state->broken_pipe = -1;
  }
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 1; }));
  x.stop();
  ::close(fds[1]);
}

int settles(FakeTransport::State& s) {
  std::lock_guard<std::mutex> lock(s.mu);
  return s.settles;
}

// Records a transport has not confirmed are looked after (settle) until it has, and no longer;
// a transport that confirms in send() is never asked (it used to be, once after each batch,
// which held every exporter's shutdown for a quarter of a second).
TEST(Exporter, SettlesOnlyWhileTheTransportHasUnconfirmedRecords) {
  auto confirmed = std::make_shared<FakeTransport::State>();
  auto later = std::make_shared<FakeTransport::State>();
  later->confirm_after = 2;
  Exporter a(config(), std::make_unique<FakeTransport>(confirmed));
  Exporter b(config(), std::make_unique<FakeTransport>(later));
  a.start();
  b.start();
  a.submit(event("e1", "exploited"));
  b.submit(event("e1", "exploited"));
  ASSERT_TRUE(eventually([&] { return ids(*confirmed).size() == 1 && settles(*later) == 2; }));
  std::this_thread::sleep_for(700ms);  // more than two settle intervals
  EXPECT_EQ(settles(*confirmed), 0);
  EXPECT_EQ(settles(*later), 2);
  a.stop();
  b.stop();
}

// stop() waits, within its timeout, for what the transport has not confirmed yet.
TEST(Exporter, StopLooksAfterUnconfirmedRecords) {
  auto state = std::make_shared<FakeTransport::State>();
  state->confirm_after = 3;
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("e1", "exploited"));
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 1; }));
  x.stop();
  EXPECT_EQ(settles(*state), 3);
}

TEST(Exporter, ExploitedAtOnceProbesAsSummaries) {
  auto state = std::make_shared<FakeTransport::State>();
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("e1", "exploited"));
  x.submit(event("b1", "blocked"));
  for (int i = 0; i < 50; ++i) x.submit(event("p" + std::to_string(i), "probed", "xss", i % 2 ? "198.51.100.1" : "198.51.100.2"));
  x.submit(event("s1", "suspicious", "scanner"));
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 2; }));
  EXPECT_EQ(ids(*state), (std::vector<std::string>{"e1", "b1"}));
  x.flush_summaries_now();
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 5; }));
  std::map<std::string, std::uint64_t> counts;
  {
    std::lock_guard<std::mutex> lock(state->mu);
    for (std::size_t i = 2; i < state->received.size(); ++i) {
      json j = json::parse(state->received[i]);
      counts[j["rule"].get<std::string>() + "/" + j["request"]["client_ip"].get<std::string>()] = j["summary"]["count"];
    }
  }
  EXPECT_EQ(counts["xss/198.51.100.1"], 25u);
  EXPECT_EQ(counts["xss/198.51.100.2"], 25u);
  EXPECT_EQ(counts["scanner/203.0.113.9"], 1u);
  x.stop();
  ExporterStats s = x.stats();
  EXPECT_EQ(s.sent, 5u);
  EXPECT_EQ(s.summarized, 51u);
  EXPECT_EQ(s.summaries, 3u);
}

TEST(Exporter, OneByOneAndFilters) {
  auto state = std::make_shared<FakeTransport::State>();
  ExportConfig c = config("http://127.0.0.1:9/?one_by_one=true&apps=shop,api&rules=sql-injection,xs*&min_outcome=probed");
  Exporter x(std::move(c), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("a", "probed", "xss"));
  x.submit(event("b", "suspicious", "xss"));               // below min_outcome
  x.submit(event("c", "exploited", "sql-injection.union"));  // family of a listed rule
  x.submit(event("d", "exploited", "command-injection"));  // rule not listed
  x.submit(event("e", "exploited", "xss", "1.2.3.4", "blog"));  // app not listed
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 2; }));
  x.stop();
  EXPECT_EQ(ids(*state), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(x.stats().filtered, 3u);
}

TEST(Exporter, RetriesWithTheSameIds) {
  auto state = std::make_shared<FakeTransport::State>();
  state->fail_next = 3;
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("r1", "exploited"));
  x.submit(event("r2", "blocked"));
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 2; }));
  x.stop();
  EXPECT_EQ(ids(*state), (std::vector<std::string>{"r1", "r2"}));
  ExporterStats s = x.stats();
  EXPECT_EQ(s.send_errors, 3u);
  EXPECT_GE(s.retried, 1u);
  EXPECT_EQ(s.sent, 2u);
}

TEST(Exporter, BoundedBufferCountsDrops) {
  auto state = std::make_shared<FakeTransport::State>();
  state->down = true;
  ExportConfig c = config("http://127.0.0.1:9/?buffer_events=10");
  Exporter x(std::move(c), std::make_unique<FakeTransport>(state));
  x.start();
  for (int i = 0; i < 25; ++i) x.submit(event("o" + std::to_string(i), "exploited"));
  EXPECT_EQ(x.stats().dropped_buffer_full, 15u);
  EXPECT_EQ(x.stats().queue_depth, 10u);
  {
    std::lock_guard<std::mutex> lock(state->mu);
    state->down = false;
  }
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 10; }));
  x.stop();
  auto got = ids(*state);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(got[i], "o" + std::to_string(i));
}

TEST(Exporter, RejectedRecordsAreFailedNotRetried) {
  auto state = std::make_shared<FakeTransport::State>();
  state->reject = true;
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("x", "exploited"));
  ASSERT_TRUE(eventually([&] { return x.stats().failed == 1; }));
  x.stop();
  EXPECT_EQ(state->sends, 1);
}

TEST(Exporter, TooLargeSplitsTheBatch) {
  auto state = std::make_shared<FakeTransport::State>();
  state->max_records = 3;
  state->delay = 50ms;  // lets events pile up into one batch
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  x.submit(event("t0", "exploited"));
  for (int i = 1; i < 20; ++i) x.submit(event("t" + std::to_string(i), "exploited"));
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 20; }));
  x.stop();
  auto got = ids(*state);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(got[i], "t" + std::to_string(i));
}

TEST(Exporter, StopKeepsItsDeadlineAndCountsWhatIsLeft) {
  auto state = std::make_shared<FakeTransport::State>();
  state->down = true;
  ExportConfig c = config();
  c.shutdown_timeout = 300ms;
  Exporter x(std::move(c), std::make_unique<FakeTransport>(state));
  x.start();
  for (int i = 0; i < 5; ++i) x.submit(event("s" + std::to_string(i), "blocked"));
  x.submit(event("p", "probed", "xss"));  // a pending summary becomes a record at stop
  auto t0 = std::chrono::steady_clock::now();
  x.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_EQ(x.stats().dropped_shutdown, 6u);
  x.submit(event("late", "exploited"));
  EXPECT_EQ(x.stats().dropped_shutdown, 7u);
}

TEST(Exporter, StopFlushesWhatItCan) {
  auto state = std::make_shared<FakeTransport::State>();
  Exporter x(config(), std::make_unique<FakeTransport>(state));
  x.start();
  for (int i = 0; i < 100; ++i) x.submit(event("f" + std::to_string(i), "exploited"));
  x.submit(event("p", "probed", "xss"));
  x.stop();
  EXPECT_EQ(ids(*state).size(), 101u);
  EXPECT_EQ(x.stats().dropped(), 0u);
}

TEST(Exporter, SubmitNeverWaitsForDelivery) {
  auto state = std::make_shared<FakeTransport::State>();
  state->delay = 1s;
  ExportConfig c = config();
  Exporter x(std::move(c), std::make_unique<FakeTransport>(state));
  x.start();
  std::vector<std::shared_ptr<const Event>> events;
  for (int i = 0; i < 100; ++i) events.push_back(event("n" + std::to_string(i), "exploited"));
  x.submit(event("first", "exploited"));
  std::this_thread::sleep_for(20ms);  // the worker is now inside a slow send
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& e : events) x.submit(e);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 500ms);  // not one send's time
  x.stop();
  EXPECT_EQ(x.stats().sent, 101u);
}

TEST(ExportConfig, ParsesEveryScheme) {
  ExportConfig c;
  std::string e;
  ASSERT_TRUE(parse_export_url("syslog+udp://127.0.0.1:514?format=leef&facility=local4", &c, &e)) << e;
  EXPECT_EQ(c.kind, ExportConfig::Kind::kSyslogUdp);
  EXPECT_EQ(c.format, Format::kLeef);
  EXPECT_EQ(c.syslog.facility, 20);
  ASSERT_TRUE(parse_export_url("syslog+tcp://[::1]:6514", &c, &e)) << e;
  EXPECT_EQ(c.host, "::1");
  EXPECT_EQ(c.format, Format::kCef);
  ASSERT_TRUE(parse_export_url("syslog+tls://siem.example:6514?ca=%2Fetc%2Fca.pem&format=json", &c, &e)) << e;
  EXPECT_EQ(c.tls.ca_file, "/etc/ca.pem");
  ASSERT_TRUE(parse_export_url(
      "https://hec.example:8088/services/collector/event?format=hec&token=abc&sig=x1&index=sec", &c, &e)) << e;
  EXPECT_EQ(c.http_url, "https://hec.example:8088/services/collector/event?sig=x1");
  EXPECT_EQ(c.token, "abc");
  EXPECT_EQ(c.name, "https://hec.example:8088/services/collector/event");  // no token in names
  ASSERT_TRUE(parse_export_url("file:///var/log/vigil/events.log?format=ocsf&max_bytes=1048576&max_files=3", &c, &e)) << e;
  EXPECT_EQ(c.file.path, "/var/log/vigil/events.log");
  EXPECT_EQ(c.file.max_files, 3);
  ASSERT_TRUE(parse_export_url("http://h:1/?field.env=prod&field.who=${app}-${client_ip}", &c, &e)) << e;
  ASSERT_EQ(c.fields.size(), 2u);
  auto ev = event("i", "exploited");
  EXPECT_EQ(c.fields[1].second.render(*ev, "h"), "shop-203.0.113.9");
}

TEST(ExportConfig, RejectsBadUrls) {
  ExportConfig c;
  std::string e;
  for (const char* bad : {"ftp://x:1", "syslog+udp://host", "syslog+udp://host:0", "syslog+udp://host:99999",
                          "syslog+tcp://h:1/path", "syslog+udp://h:1?format=xml", "syslog+udp://h:1?bogus=1",
                          "https://user:pw@h/x", "https://h/x?format=hec", "syslog+udp://h:1?format=slack",
                          "file://relative", "file:///tmp/", "http://h/ x", "syslog+udp://h:1?field.1x=a",
                          "syslog+udp://h:1?field.a=${nope}", "syslog+udp://h:1?min_outcome=bad",
                          "syslog+udp://h:1?format=%zz"}) {
    EXPECT_FALSE(parse_export_url(bad, &c, &e)) << bad;
  }
}

TEST(ExportConfig, FileForm) {
  YAML::Node n = YAML::Load(R"(
url: syslog+tcp://127.0.0.1:6514
format: leef
min_severity: high
apps: [shop, api]
rules: [sql-injection, "command-*"]
one_by_one: true
summary_interval: 30s
fields: {env: prod, tenant: "${app}"}
retry_max: 2m
)");
  ExportConfig c;
  std::string e;
  ASSERT_TRUE(parse_export_yaml(n, &c, &e)) << e;
  EXPECT_EQ(c.format, Format::kLeef);
  EXPECT_EQ(c.min_severity, Severity::kHigh);
  EXPECT_EQ(c.apps, (std::vector<std::string>{"shop", "api"}));
  EXPECT_TRUE(c.one_by_one);
  EXPECT_EQ(c.summary_interval, 30s);
  EXPECT_EQ(c.retry_max, 120s);
  EXPECT_EQ(c.fields.size(), 2u);
  EXPECT_FALSE(parse_export_yaml(YAML::Load("{url: 'syslog+udp://h:1', colour: red}"), &c, &e));
  EXPECT_NE(e.find("colour"), std::string::npos);
  EXPECT_FALSE(parse_export_yaml(YAML::Load("{format: cef}"), &c, &e));
  std::vector<ExportConfig> list;
  ASSERT_TRUE(parse_export_list_yaml(YAML::Load("[ 'syslog+udp://h:1', {url: 'file:///tmp/x', format: ocsf} ]"), &list, &e)) << e;
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[1].format, Format::kOcsf);
  EXPECT_FALSE(parse_export_list_yaml(YAML::Load("[ 'syslog+udp://h:1', 'ftp://x' ]"), &list, &e));
  EXPECT_EQ(e.rfind("exports[1]: ", 0), 0u) << e;
}

TEST(Metrics, PrometheusText) {
  auto state = std::make_shared<FakeTransport::State>();
  std::vector<std::unique_ptr<Exporter>> xs;
  ExportConfig c = config();
  c.name = "we\"ird\\name";
  xs.push_back(std::make_unique<Exporter>(std::move(c), std::make_unique<FakeTransport>(state)));
  ExportSet set(std::move(xs));
  set.start();
  set.submit_json(testing::sql_event());
  set.submit_json("not json");
  ASSERT_TRUE(eventually([&] { return ids(*state).size() == 1; }));
  set.stop();
  std::string text = set.prometheus();
  EXPECT_NE(text.find("# TYPE vigil_export_sent_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_export_sent_total{export=\"we\\\"ird\\\\name\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("vigil_export_dropped_total{export=\"we\\\"ird\\\\name\",reason=\"buffer_full\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("vigil_export_invalid_events_total 1\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE vigil_export_queue_depth gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace vigil::exports
