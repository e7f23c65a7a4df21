#include "shipper/shipper.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <httplib.h>

#include <gtest/gtest.h>

namespace vigil::shipper {
namespace {

using namespace std::chrono_literals;

std::string event(int n) {
  return "{\"event_id\":\"e" + std::to_string(n) + "\",\"outcome\":\"probed\",\"rule\":\"xss\"}";
}

Response answer(int status, std::string body, int retry_after_s = 0) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  r.retry_after_s = retry_after_s;
  return r;
}

// Polls f() every 10 ms until it is true or `limit` has passed; f()'s last answer. Tests wait
// for a state, never for a fixed time: CI machines are loaded and a fixed wait races.
template <class F>
bool eventually(F f, std::chrono::milliseconds limit = 10s) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

// A vigild stand-in: stores events by id (so duplicates show), and fails on command.
class FakeServer : public Transport {
 public:
  Response post(const std::string& path, const std::string& body) noexcept override {
    std::lock_guard<std::mutex> lock(mu);
    ++posts;
    if (path == "/api/v1/agents/heartbeat") {
      ++heartbeats;
      return answer(200, "{\"ok\":true}");
    }
    if (down) return answer(0, "");
    if (busy) return answer(429, "{}", 1);
    if (max_batch && count(body) > max_batch) return answer(413, "{}");
    std::size_t accepted = 0, dup = 0;
    static const std::regex id("\"event_id\":\"([^\"]+)\"");
    for (auto it = std::sregex_iterator(body.begin(), body.end(), id); it != std::sregex_iterator(); ++it) {
      if (stored.insert((*it)[1]).second) ++accepted; else ++dup;
      ++received[(*it)[1]];
    }
    return answer(202, "{\"accepted\":" + std::to_string(accepted) + ",\"duplicates\":" +
                           std::to_string(dup) + "}");
  }
  Response get(const std::string&, std::chrono::seconds) noexcept override {
    std::this_thread::sleep_for(20ms);
    return answer(304, "");
  }
  static std::size_t count(const std::string& body) {
    std::size_t n = 0;
    for (std::size_t at = 0; (at = body.find("\"event_id\"", at)) != std::string::npos; ++at) ++n;
    return n;
  }
  std::mutex mu;
  bool down = false, busy = false;
  std::size_t max_batch = 0;
  int posts = 0, heartbeats = 0;
  std::set<std::string> stored;
  std::map<std::string, int> received;
};

// A transport that forwards to a FakeServer owned by the test.
struct Forward : Transport {
  explicit Forward(FakeServer* s) : server(s) {}
  Response post(const std::string& p, const std::string& b) noexcept override { return server->post(p, b); }
  Response get(const std::string& p, std::chrono::seconds t) noexcept override { return server->get(p, t); }
  FakeServer* server;
};

class ShipperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-shipper-XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ShipperOptions options(bool spool = true) {
    ShipperOptions o;
    o.app = "shop";
    o.max_batch_events = 50;
    o.flush_interval = 20ms;
    o.backoff_initial = 10ms;
    o.backoff_max = 50ms;
    o.memory_events = 1000;
    if (spool) o.spool_dir = dir_ + "/spool";
    return o;
  }
  std::string dir_;
  FakeServer server_;
};

TEST_F(ShipperTest, BatchesAndDelivers) {
  auto s = Shipper::create(options(), std::make_unique<Forward>(&server_));
  s->start();
  for (int i = 0; i < 120; ++i) ASSERT_TRUE(s->enqueue(event(i)));
  ASSERT_TRUE(s->flush(5s));
  s->stop(1s);
  EXPECT_EQ(server_.stored.size(), 120u);
  auto st = s->stats();
  EXPECT_EQ(st.sent, 120u);
  EXPECT_GE(st.batches, 3u);
  EXPECT_GE(server_.heartbeats, 1);
}

TEST_F(ShipperTest, OutageGoesToTheSpoolAndNothingIsLostOrDoubled) {
  auto s = Shipper::create(options(), std::make_unique<Forward>(&server_));
  s->start();
  for (int i = 0; i < 100; ++i) s->enqueue(event(i));
  ASSERT_TRUE(s->flush(5s));
  server_.down = true;
  for (int i = 100; i < 400; ++i) s->enqueue(event(i));
  // Parked on disk, not in memory.
  ASSERT_TRUE(eventually([&] { return s->stats().spooled > 0 && s->stats().queued == 0; }))
      << s->stats().spooled << " " << s->stats().queued;
  server_.busy = true;
  server_.down = false;
  std::this_thread::sleep_for(100ms);  // 429: still parked
  server_.busy = false;
  for (int i = 400; i < 450; ++i) s->enqueue(event(i));
  eventually([&] {
    std::lock_guard<std::mutex> lock(server_.mu);
    return server_.stored.size() >= 450;
  });
  s->stop(1s);
  EXPECT_EQ(server_.stored.size(), 450u);
  for (const auto& [id, n] : server_.received) EXPECT_EQ(n, 1) << id;
  EXPECT_GT(s->stats().retries, 0u);
}

TEST_F(ShipperTest, TheSpoolOutlivesTheProcess) {
  server_.down = true;
  {
    auto s = Shipper::create(options(), std::make_unique<Forward>(&server_));
    s->start();
    for (int i = 0; i < 75; ++i) s->enqueue(event(i));
    s->stop(100ms);  // vigild unreachable: everything goes to disk
    EXPECT_EQ(s->stats().dropped_spool, 0u);
  }
  EXPECT_TRUE(server_.stored.empty());
  server_.down = false;
  auto s = Shipper::create(options(), std::make_unique<Forward>(&server_));
  s->start();
  eventually([&] {
    std::lock_guard<std::mutex> lock(server_.mu);
    return server_.stored.size() >= 75;
  });
  s->stop(1s);
  EXPECT_EQ(server_.stored.size(), 75u);
}

TEST_F(ShipperTest, WithoutSpoolEventsWaitInMemoryInOrder) {
  server_.down = true;
  auto s = Shipper::create(options(false), std::make_unique<Forward>(&server_));
  s->start();
  for (int i = 0; i < 60; ++i) s->enqueue(event(i));
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(s->stats().queued, 60u);
  server_.down = false;
  ASSERT_TRUE(s->flush(5s));
  s->stop(1s);
  EXPECT_EQ(server_.stored.size(), 60u);
}

TEST_F(ShipperTest, BoundedMemoryDropsAndCounts) {
  server_.down = true;
  auto o = options(false);
  o.memory_events = 10;
  auto s = Shipper::create(o, std::make_unique<Forward>(&server_));
  s->start();
  int accepted = 0;
  for (int i = 0; i < 30; ++i) accepted += s->enqueue(event(i));
  EXPECT_LE(accepted, 20);  // at most the queue plus a batch in flight
  EXPECT_GE(s->stats().dropped_full, 10u);
  s->stop(0ms);
}

TEST_F(ShipperTest, OversizedBatchesAreSplit) {
  server_.max_batch = 7;
  auto s = Shipper::create(options(), std::make_unique<Forward>(&server_));
  s->start();
  for (int i = 0; i < 50; ++i) s->enqueue(event(i));
  ASSERT_TRUE(s->flush(5s));
  s->stop(1s);
  EXPECT_EQ(server_.stored.size(), 50u);
}

// vigild's policy answer has sorted keys, so a document's own "version" comes before the
// answer's: the poller must follow the outer one (else it asks again at once, forever).
TEST_F(ShipperTest, PolicyVersionIsTheAnswersNotTheDocuments) {
  struct PolicyServer : Forward {
    using Forward::Forward;
    Response get(const std::string& path, std::chrono::seconds) noexcept override {
      std::lock_guard<std::mutex> lock(mu);
      paths.push_back(path);
      if (paths.size() == 1)
        return answer(200, R"({"app":"shop","policy":{"mode":"block","version":1},)"
                           R"("updated_at":null,"updated_by":"admin","version":3})");
      std::this_thread::sleep_for(20ms);
      return answer(304, "");
    }
    std::mutex mu;
    std::vector<std::string> paths;
  };
  auto transport = std::make_unique<PolicyServer>(&server_);
  PolicyServer* ps = transport.get();
  auto o = options();
  std::atomic<int> calls{0};
  std::atomic<std::int64_t> seen{0};
  o.on_policy = [&](std::int64_t v, const std::string&) {
    ++calls;
    seen = v;
  };
  auto s = Shipper::create(o, std::move(transport));
  s->start();
  ASSERT_TRUE(eventually([&] {
    std::lock_guard<std::mutex> lock(ps->mu);
    return ps->paths.size() >= 3;
  }));
  s->stop(1s);
  EXPECT_EQ(calls.load(), 1);
  EXPECT_EQ(seen.load(), 3);
  std::lock_guard<std::mutex> lock(ps->mu);
  ASSERT_GE(ps->paths.size(), 2u);
  EXPECT_NE(ps->paths[1].find("version=3"), std::string::npos) << ps->paths[1];
}

#ifdef VIGILD_PATH
// The real thing: vigild on 127.0.0.1, killed with SIGKILL mid-stream and started again on the
// same data; the shipper spools meanwhile, and every event ends up stored exactly once. A
// policy PUT reaches the shipper's poller.
class Vigild {
 public:
  Vigild(std::string data, int port) : data_(std::move(data)), port_(port) {}
  ~Vigild() { kill9(); }
  bool start() {
    std::string port_file = data_ + ".port";
    std::filesystem::remove(port_file);
    pid_ = fork();
    if (pid_ == 0) {
      setenv("VIGIL_ADMIN_PASSWORD", "admin-password", 1);
      std::string listen = "127.0.0.1:" + std::to_string(port_);
      int null = ::open("/dev/null", O_WRONLY);
      dup2(null, 2);
      execl(VIGILD_PATH, VIGILD_PATH, "--data", data_.c_str(), "--listen", listen.c_str(),
            "--port-file", port_file.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 300; ++i) {
      std::ifstream f(port_file);
      if (f >> port_) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  void kill9() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }
  int port() const { return port_; }

 private:
  std::string data_;
  int port_;
  pid_t pid_ = -1;
};

std::string json_field(const std::string& body, const std::string& name) {
  std::smatch m;
  std::regex re("\"" + name + "\":\"([^\"]+)\"");
  return std::regex_search(body, m, re) ? m[1].str() : "";
}

TEST_F(ShipperTest, AgainstRealVigildAcrossKill9) {
  Vigild v(dir_ + "/data", 0);
  ASSERT_TRUE(v.start());
  std::string url = "http://127.0.0.1:" + std::to_string(v.port());
  httplib::Client admin(url);
  auto login = admin.Post("/api/v1/session", R"({"username":"admin","password":"admin-password"})",
                          "application/json");
  ASSERT_TRUE(login && login->status == 200);
  httplib::Headers auth = {{"Authorization", "Bearer " + json_field(login->body, "token")}};
  auto key = admin.Post("/api/v1/keys", auth, R"({"app":"shop"})", "application/json");
  ASSERT_TRUE(key && key->status == 200);

  HttpOptions http;
  http.url = url;
  http.key = json_field(key->body, "key");
  http.timeout = 3s;
  std::string error;
  auto o = options();
  std::mutex policy_mu;
  std::string policy_seen;
  o.policy_wait = 2s;
  o.on_policy = [&](std::int64_t, const std::string& json) {
    std::lock_guard<std::mutex> lock(policy_mu);
    policy_seen = json;
  };
  auto s = Shipper::create(o, make_http_transport(http, &error));
  ASSERT_TRUE(s) << error;
  s->start();
  for (int i = 0; i < 300; ++i) s->enqueue(event(i));
  ASSERT_TRUE(s->flush(10s));
  v.kill9();
  for (int i = 300; i < 600; ++i) s->enqueue(event(i));
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(v.start());  // same data, same port
  ASSERT_TRUE(s->flush(20s));
  for (int i = 0; i < 200 && s->stats().spool_bytes > 0; ++i) std::this_thread::sleep_for(50ms);

  httplib::Client again(url);
  login = again.Post("/api/v1/session", R"({"username":"admin","password":"admin-password"})",
                     "application/json");
  ASSERT_TRUE(login && login->status == 200);
  auth = {{"Authorization", "Bearer " + json_field(login->body, "token")}};
  auto events = again.Get("/api/v1/events?app=shop&limit=1000", auth);
  ASSERT_TRUE(events && events->status == 200);
  EXPECT_EQ(FakeServer::count(events->body), 600u);

  auto put = again.Put("/api/v1/apps/shop/policy", auth, R"({"mode":"block"})", "application/json");
  ASSERT_TRUE(put && put->status == 200);
  for (int i = 0; i < 100; ++i) {
    {
      std::lock_guard<std::mutex> lock(policy_mu);
      if (!policy_seen.empty()) break;
    }
    std::this_thread::sleep_for(50ms);
  }
  {
    std::lock_guard<std::mutex> lock(policy_mu);
    EXPECT_NE(policy_seen.find("\"mode\":\"block\""), std::string::npos) << policy_seen;
  }
  s->stop(1s);
  // A batch committed just before the kill but not acknowledged is sent again: vigild counts it
  // as duplicates and stores it once (600 above).
  EXPECT_LE(s->stats().sent, 600u);
  EXPECT_GE(s->stats().sent + s->stats().duplicates, 600u);
}
#endif

}  // namespace
}  // namespace vigil::shipper
