// "Nothing lost" (issue 7), end to end against real receivers: a real vigild exports to rsyslog
// over TCP (octet counting) and to an HTTPS receiver standing in for Splunk HEC, while an agent
// key posts exploited and blocked events without pause. Both receivers are stopped for a full
// minute (VIGIL_EXPORT_DOWN_SECONDS, default 60) and started again. Afterwards:
//
//  - exports with a buffer large enough (rsyslog TCP, HEC): every event id vigild acknowledged
//    arrived, none is counted as dropped; a repeat (if any) carries the same event id;
//  - an export with a small buffer (buffer_events=20, to the same rsyslog): arrived + dropped ==
//    sent, dropped > 0, and vigild's GET /metrics vigil_export_dropped_total{reason=
//    "buffer_full"} equals the number of events that did not arrive.
//
// The three exports run side by side in one vigild (each export has its own worker and buffer),
// so one outage covers both runs. About 80 s, mostly waiting. Loopback only; skipped when
// rsyslogd or openssl is missing (scripts/install-deps installs them).
//
// ctest -R export.nothing_lost --output-on-failure   (VIGIL_EXPORT_DOWN_SECONDS=5 to iterate)
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "export/testing/receivers.hpp"
#include "export/testing/record_parsers.hpp"
#include "export/testing/sample_events.hpp"

namespace vigil::exports::testing {
namespace {

const char* kPassword = "admin-password-1";

// One vigild process on 127.0.0.1 (SQLite in `dir`), stopped with SIGTERM.
class Vigild {
 public:
  Vigild(const fs::path& dir, std::vector<std::string> args) : dir_(dir), args_(std::move(args)) {}
  ~Vigild() { stop(); }

  bool start() {
    fs::path port_file = dir_ / "port";
    std::vector<std::string> argv = {VIGIL_VIGILD, "--data", (dir_ / "data").string(), "--listen",
                                     "127.0.0.1:0", "--port-file", port_file.string()};
    argv.insert(argv.end(), args_.begin(), args_.end());
    std::string log = (dir_ / "vigild.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::setenv("VIGIL_ADMIN_PASSWORD", kPassword, 1);
      std::vector<char*> a;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
    return eventually(
        [&] {
          std::ifstream in(port_file);
          if (!(in >> port_)) return false;
          httplib::Client c("127.0.0.1", port_);
          auto r = c.Get("/healthz");
          return r && r->status == 200;
        },
        30s);
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    int status;
    if (!eventually([&] { return ::waitpid(pid_, &status, WNOHANG) == pid_; }, 30s)) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
    pid_ = -1;
  }

  httplib::Client client(const std::string& token = "") const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(5, 0);
    c.set_read_timeout(30, 0);
    if (!token.empty()) c.set_bearer_token_auth(token);
    return c;
  }

  std::string log() const {
    std::ifstream in(dir_ / "vigild.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

 private:
  fs::path dir_;
  std::vector<std::string> args_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Prometheus text: "name{labels}" -> value (comments skipped).
std::map<std::string, double> parse_metrics(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::size_t sp = line.rfind(' ');
    if (sp == std::string::npos) continue;
    out[line.substr(0, sp)] = std::strtod(line.c_str() + sp + 1, nullptr);
  }
  return out;
}

std::string series(const std::string& name, const std::string& export_name,
                   const std::string& reason = "") {
  std::string s = name + "{export=\"" + export_name + "\"";
  if (!reason.empty()) s += ",reason=\"" + reason + "\"";
  return s + "}";
}

int env_seconds(const char* name, int def) {
  const char* v = std::getenv(name);
  return v && std::atoi(v) > 0 ? std::atoi(v) : def;
}

// An agent: posts two events (exploited, blocked) every 100 ms until stopped, re-posting a batch
// vigild did not acknowledge (as the agent's spool does); remembers every acknowledged id.
class Agent {
 public:
  Agent(const Vigild& vigild, std::string key) : vigild_(vigild), key_(std::move(key)) {}
  ~Agent() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> acknowledged() {
    std::lock_guard<std::mutex> lock(mu_);
    return acked_;
  }
  int failed_posts() const { return failed_posts_; }

 private:
  void run() {
    auto client = vigild_.client(key_);
    int n = 0;
    while (!stop_) {
      std::vector<std::string> ids;
      std::string body = "[";
      for (int i = 0; i < 2; ++i, ++n) {
        char id[32];
        std::snprintf(id, sizeof id, "nl%06d", n);
        ids.push_back(id);
        body += (i ? "," : "") + sql_event(id, i % 2 ? "blocked" : "exploited");
      }
      body += "]";
      for (;;) {
        auto r = client.Post("/api/v1/events", body, "application/json");
        if (r && r->status / 100 == 2) break;  // 202: stored
        ++failed_posts_;
        if (stop_) return;  // not acknowledged: not counted as sent
        std::this_thread::sleep_for(200ms);
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        acked_.insert(acked_.end(), ids.begin(), ids.end());
      }
      std::this_thread::sleep_for(100ms);
    }
  }

  const Vigild& vigild_;
  std::string key_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> failed_posts_{0};
  std::mutex mu_;
  std::vector<std::string> acked_;
};

// Event ids as they arrived, one entry per record (a repeat appears twice).
std::map<std::string, int> count_ids(const std::vector<std::string>& ids) {
  std::map<std::string, int> out;
  for (const auto& id : ids) ++out[id];
  return out;
}

TEST(NothingLost, ReceiversDownForAMinuteThenBack) {
  if (!have_tools()) GTEST_SKIP() << "rsyslogd or openssl not installed (scripts/install-deps)";
  const int down_s = env_seconds("VIGIL_EXPORT_DOWN_SECONDS", 60);
  TempDir dir;
  Certificates certs(dir.path());
  ASSERT_TRUE(certs.ok) << "openssl could not make test certificates";
  Rsyslog rsyslog(dir.path(), certs);
  ASSERT_TRUE(rsyslog.start()) << rsyslog.log();
  auto hec = std::make_unique<HttpsReceiver>(certs);
  const int hec_port = hec->port();
  ASSERT_GT(hec_port, 0);

  // Short backoff so the test does not wait out retry_max after the receivers are back.
  const std::string retry = "&retry_initial=200ms&retry_max=2s";
  const std::string tcp = "syslog+tcp://127.0.0.1:" + std::to_string(rsyslog.tcp());
  const std::string hec_url = "https://localhost:" + std::to_string(hec_port) +
                              "/services/collector/event?format=hec&name=hec&token=hec-token";
  Vigild vigild(dir.path(),
                {"--export", tcp + "?format=cef&name=tcp-big&field.via=big" + retry, "--export",
                 tcp + "?format=cef&name=tcp-small&field.via=small&buffer_events=20" + retry,
                 "--export", hec_url + "&ca=" + certs.ca.string() + retry});
  ASSERT_TRUE(vigild.start()) << vigild.log();

  auto anonymous = vigild.client();
  auto session = anonymous.Post("/api/v1/session",
                                json{{"username", "admin"}, {"password", kPassword}}.dump(),
                                "application/json");
  ASSERT_TRUE(session && session->status == 200);
  const std::string token = json::parse(session->body)["token"];
  auto admin = vigild.client(token);
  auto key = admin.Post("/api/v1/keys", json{{"app", "shop"}}.dump(), "application/json");
  ASSERT_TRUE(key && key->status < 300) << (key ? key->body : "no answer");
  auto metrics = [&] {
    auto r = admin.Get("/metrics");
    EXPECT_TRUE(r && r->status == 200);
    return parse_metrics(r ? r->body : "");
  };

  Agent agent(vigild, json::parse(key->body)["key"]);
  agent.start();
  std::this_thread::sleep_for(5s);
  ASSERT_TRUE(eventually(
      [&] { return metrics()[series("vigil_export_sent_total", "hec")] > 0; }, 10s))
      << vigild.log();

  // Down for a full minute while the agent goes on.
  rsyslog.stop();
  hec->stop();
  std::vector<Received> hec_before = hec->got();
  hec.reset();
  const std::size_t acked_at_stop = agent.acknowledged().size();
  std::this_thread::sleep_for(std::chrono::seconds(down_s));
  auto during = metrics();
  EXPECT_GT(during[series("vigil_export_send_errors_total", "tcp-big")], 0)
      << "the outage went unnoticed";
  EXPECT_GT(during[series("vigil_export_send_errors_total", "hec")], 0);
  EXPECT_GT(during[series("vigil_export_queue_depth", "tcp-big")], 0);

  // Back, on the same ports.
  ASSERT_TRUE(rsyslog.start()) << rsyslog.log();
  hec = std::make_unique<HttpsReceiver>(certs, hec_port);
  ASSERT_EQ(hec->port(), hec_port);
  std::this_thread::sleep_for(5s);
  agent.stop();
  const std::vector<std::string> sent = agent.acknowledged();
  ASSERT_GT(sent.size(), acked_at_stop + 100) << "the agent could not post during the outage";

  // Everything queued is delivered or counted.
  std::map<std::string, double> m;
  ASSERT_TRUE(eventually(
      [&] {
        m = metrics();
        for (const char* x : {"tcp-big", "tcp-small", "hec"})
          if (m[series("vigil_export_queue_depth", x)] != 0) return false;
        const double big = m[series("vigil_export_sent_total", "tcp-big")];
        return big >= static_cast<double>(sent.size()) &&
               m[series("vigil_export_sent_total", "hec")] >= static_cast<double>(sent.size());
      },
      60s))
      << "sent " << sent.size() << ", tcp-big " << m[series("vigil_export_sent_total", "tcp-big")]
      << ", hec " << m[series("vigil_export_sent_total", "hec")] << "\n" << vigild.log();
  // rsyslog writes what it took asynchronously: wait for the file to hold every big record.
  auto syslog_ids = [&](const std::string& via) {
    std::vector<std::string> ids;
    for (const auto& line : rsyslog.lines("tcp")) {
      auto r = parse_cef(line);
      EXPECT_TRUE(r) << line;
      if (r && r->fields["via"] == via) ids.push_back(r->fields["externalId"]);
    }
    return ids;
  };
  eventually([&] { return count_ids(syslog_ids("big")).size() >= sent.size(); }, 10s);
  // The storage's own series say the same (its figures are cached for up to 10 s).
  std::map<std::string, double> storage;
  EXPECT_TRUE(eventually(
      [&] {
        storage = metrics();
        return storage["vigil_storage_events"] == static_cast<double>(sent.size());
      },
      15s))
      << storage["vigil_storage_events"] << " stored of " << sent.size();
  EXPECT_EQ(storage["vigil_storage_up{dialect=\"sqlite\"}"], 1);
  EXPECT_GT(storage["vigil_storage_database_bytes"], 0);
  EXPECT_GT(storage["vigil_ingest_commit_seconds_count"], 0);
  EXPECT_EQ(storage["vigil_ingest_commit_seconds_bucket{le=\"+Inf\"}"],
            storage["vigil_ingest_commit_seconds_count"]);
  vigild.stop();
  rsyslog.stop();
  hec->stop();

  const std::set<std::string> sent_set(sent.begin(), sent.end());
  ASSERT_EQ(sent_set.size(), sent.size());
  auto check_complete = [&](const std::string& name, const std::vector<std::string>& arrived) {
    SCOPED_TRACE(name);
    auto counts = count_ids(arrived);
    std::size_t missing = 0, repeats = 0;
    for (const auto& id : sent_set)
      if (!counts.count(id)) ++missing;
    for (const auto& [id, n] : counts) {
      EXPECT_TRUE(sent_set.count(id)) << "an id nobody sent: " << id;
      repeats += static_cast<std::size_t>(n - 1);
    }
    EXPECT_EQ(missing, 0u) << "of " << sent.size();
    EXPECT_EQ(m[series("vigil_export_dropped_total", name, "buffer_full")], 0);
    EXPECT_EQ(m[series("vigil_export_dropped_total", name, "shutdown")], 0);
    std::printf("%s: %zu sent, %zu arrived, %zu repeats (same ids), 0 dropped\n", name.c_str(),
                sent.size(), counts.size(), repeats);
  };

  check_complete("tcp-big", syslog_ids("big"));
  std::vector<std::string> hec_ids;
  for (const auto& got : {hec_before, hec->got()})
    for (const auto& r : got) {
      EXPECT_EQ(r.authorization, "Splunk hec-token");
      for (const auto& j : concatenated(r.body)) hec_ids.push_back(j["event"]["event_id"]);
    }
  check_complete("hec", hec_ids);

  // The small buffer: what did not arrive is exactly what vigild counted as dropped.
  auto small = count_ids(syslog_ids("small"));
  std::size_t arrived = 0;
  for (const auto& [id, n] : small) {
    EXPECT_TRUE(sent_set.count(id)) << id;
    arrived += sent_set.count(id);
  }
  const double dropped = m[series("vigil_export_dropped_total", "tcp-small", "buffer_full")];
  EXPECT_GT(dropped, 0);
  EXPECT_EQ(static_cast<double>(arrived) + dropped, static_cast<double>(sent.size()))
      << arrived << " arrived, " << dropped << " dropped";
  EXPECT_EQ(m[series("vigil_export_dropped_total", "tcp-small", "shutdown")], 0);
  std::printf("tcp-small: %zu sent, %zu arrived, %.0f dropped (buffer_full)\n", sent.size(),
              arrived, dropped);
  std::printf("outage %d s; agent posts that failed and were re-posted: %d\n", down_s,
              agent.failed_posts());
}

}  // namespace
}  // namespace vigil::exports::testing
