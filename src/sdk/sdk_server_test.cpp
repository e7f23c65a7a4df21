// The SDK's link to vigild (agent/server_link.hpp): JSON helpers, a real vigild on 127.0.0.1
// (events delivered, policy applied, one leader per spool), and servers that are down or never
// answer (nothing waits on them).
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>
#include <thread>

#include <httplib.h>
#include <gtest/gtest.h>

#include "agent/server_link.hpp"
#include "vigil/sdk.hpp"

namespace vigil::sdk {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string temp_dir() {
  char tmpl[] = "/tmp/vigil-sdk-server-test.XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

TEST(ServerLinkJson, TopLevelKeysOnly) {
  std::string answer = R"({"app":"shop","policy":{"mode":"block","version":1,"rules":{"xss":"off"}},)"
                       R"("updated_at":null,"updated_by":"admin","version":3})";
  EXPECT_EQ(agent::json_top_level(answer, "version"), "3");
  EXPECT_EQ(agent::json_top_level(answer, "policy"),
            R"({"mode":"block","version":1,"rules":{"xss":"off"}})");
  EXPECT_EQ(agent::json_top_level(answer, "updated_at"), "null");
  EXPECT_EQ(agent::json_top_level(answer, "app"), "\"shop\"");
  EXPECT_EQ(agent::json_top_level(answer, "mode"), "");  // only inside "policy"
  EXPECT_EQ(agent::json_top_level(R"({"a":"version","b":{"version":2}})", "version"), "");
  EXPECT_EQ(agent::json_top_level(R"({ "k\"ey" : 1, "key" : [1,{"x":"]"}] })", "key"), R"([1,{"x":"]"}])");
}

TEST(ServerLinkJson, DefaultModeOnlyWhenTheDocumentHasNone) {
  EXPECT_EQ(agent::with_default_mode(R"({"rules":{"xss":"block"}})", Mode::kMonitor),
            R"({"mode":"monitor","rules":{"xss":"block"}})");
  EXPECT_EQ(agent::with_default_mode("{ }", Mode::kBlock), R"({"mode":"block" })");
  EXPECT_EQ(agent::with_default_mode(R"({"mode":"off","rules":{}})", Mode::kBlock),
            R"({"mode":"off","rules":{}})");
  // A "mode" inside a rule map or a patch is not the document's.
  EXPECT_EQ(agent::with_default_mode(R"({"virtual_patches":[{"id":"p","mode":"x"}]})", Mode::kBlock),
            R"({"mode":"block","virtual_patches":[{"id":"p","mode":"x"}]})");
}

TEST(ServerLinkConfig, DefaultSpoolIsPerUserAppAndServer) {
  std::string a = agent::default_spool_dir("shop", "http://127.0.0.1:7700");
  std::string b = agent::default_spool_dir("shop", "http://127.0.0.1:7701");
  std::string c = agent::default_spool_dir("../evil/app", "http://127.0.0.1:7700");
  EXPECT_NE(a, b);
  EXPECT_NE(a.find("/vigil-spool-" + std::to_string(geteuid()) + "/shop-"), std::string::npos) << a;
  EXPECT_EQ(c.find(".."), std::string::npos) << c;
  EXPECT_EQ(c.find("/evil/"), std::string::npos) << c;
}

// An attack on /product?id=... and the SQL it ends up in.
struct Attack {
  std::vector<Header> headers{{"Host", "shop.test"}, {"User-Agent", "sdk-server-test"}};
  HttpRequest request() const {
    return HttpRequest{"GET", "/product?id=1%20OR%201%3D1", headers, "", "203.0.113.7"};
  }
  static constexpr const char* kSql = "SELECT name FROM products WHERE id = 1 OR 1=1";
};

std::size_t files_in(const std::string& dir, const std::string& suffix) {
  std::size_t n = 0;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) ++n;
  }
  return n;
}

TEST(SdkServer, ServerDownNeverWaitsAndSpools) {
  std::string dir = temp_dir();
  // A port nobody listens on.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  AgentOptions o;
  o.app = "shop";
  o.mode = Mode::kMonitor;
  o.server_url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.server_key = "vk_test";
  o.spool_dir = dir + "/spool";
  auto t0 = Clock::now();
  {
    Agent agent(o);
    for (int i = 0; i < 50; ++i) {
      RequestScope scope(agent, Attack{}.request());
      EXPECT_TRUE(agent.check_sql(Dialect::kSqlite, Attack::kSql).attack);
    }
    agent.flush();
    EXPECT_LT(Clock::now() - t0, 3s);
  }
  EXPECT_LT(Clock::now() - t0, 6s);  // the destructor is bounded too
  EXPECT_GE(files_in(dir + "/spool", ".batch"), 1u);  // kept for the next start
  std::filesystem::remove_all(dir);
}

TEST(SdkServer, ServerThatNeverAnswersNeverStallsTheProgramOrItsExit) {
  std::string dir = temp_dir();
  // Listens (connections complete in the kernel's backlog) and never reads or answers.
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s, 64), 0);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  AgentOptions o;
  o.app = "shop";
  o.server_url = "http://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.server_key = "vk_test";
  o.spool_dir = dir + "/spool";
  auto t0 = Clock::now();
  {
    Agent agent(o);
    for (int i = 0; i < 20; ++i) {
      auto t = Clock::now();
      RequestScope scope(agent, Attack{}.request());
      agent.check_sql(Dialect::kSqlite, Attack::kSql);
      EXPECT_LT(Clock::now() - t, 200ms);
    }
    agent.flush();
    std::this_thread::sleep_for(700ms);  // the sender is now stuck in a request
  }
  EXPECT_LT(Clock::now() - t0, 6s);
  ::close(s);
  std::filesystem::remove_all(dir);
}

#ifdef VIGILD_PATH
// vigild on 127.0.0.1 with SQLite in a temporary directory.
class Vigild {
 public:
  explicit Vigild(std::string dir) : dir_(std::move(dir)) {}
  ~Vigild() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  bool start() {
    std::string port_file = dir_ + "/port";
    pid_ = fork();
    if (pid_ == 0) {
      setenv("VIGIL_ADMIN_PASSWORD", "admin-password", 1);
      int null = ::open("/dev/null", O_WRONLY);
      dup2(null, 2);
      std::string data = dir_ + "/data";
      execl(VIGILD_PATH, VIGILD_PATH, "--data", data.c_str(), "--listen", "127.0.0.1:0",
            "--port-file", port_file.c_str(), nullptr);
      _exit(127);
    }
    for (int i = 0; i < 500; ++i) {
      std::ifstream f(port_file);
      if (f >> port_) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
  int port_ = 0;
};

std::string field(const std::string& body, const std::string& name) {
  std::smatch m;
  return std::regex_search(body, m, std::regex("\"" + name + "\":\"([^\"]+)\"")) ? m[1].str() : "";
}

class SdkWithVigild : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    vigild_ = std::make_unique<Vigild>(dir_);
    ASSERT_TRUE(vigild_->start());
    admin_ = std::make_unique<httplib::Client>(vigild_->url());
    auto login = admin_->Post("/api/v1/session", R"({"username":"admin","password":"admin-password"})",
                              "application/json");
    ASSERT_TRUE(login && login->status == 200);
    auth_ = {{"Authorization", "Bearer " + field(login->body, "token")}};
    auto key = admin_->Post("/api/v1/keys", auth_, R"({"app":"shop"})", "application/json");
    ASSERT_TRUE(key && key->status == 200);
    key_ = field(key->body, "key");
  }
  void TearDown() override {
    vigild_.reset();
    std::filesystem::remove_all(dir_);
  }
  AgentOptions options() const {
    AgentOptions o;
    o.app = "shop";
    o.mode = Mode::kMonitor;
    o.server_url = vigild_->url();
    o.server_key = key_;
    o.spool_dir = dir_ + "/spool";
    return o;
  }
  std::size_t stored(const std::string& outcome) {
    auto r = admin_->Get("/api/v1/events?app=shop&limit=1000&outcome=" + outcome, auth_);
    if (!r || r->status != 200) return 0;
    std::size_t n = 0;
    for (std::size_t at = 0; (at = r->body.find("\"event_id\"", at)) != std::string::npos; ++at) ++n;
    return n;
  }
  template <class F>
  static bool eventually(F&& f, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
      if (f()) return true;
      std::this_thread::sleep_for(50ms);
    }
    return f();
  }

  std::string dir_, key_;
  std::unique_ptr<Vigild> vigild_;
  std::unique_ptr<httplib::Client> admin_;
  httplib::Headers auth_;
};

TEST_F(SdkWithVigild, EventsArriveAndThePolicyIsAppliedWithinSeconds) {
  Agent agent(options());
  for (int i = 0; i < 5; ++i) {
    RequestScope scope(agent, Attack{}.request());
    SinkResult r = agent.check_sql(Dialect::kSqlite, Attack::kSql);
    EXPECT_TRUE(r.attack);
    EXPECT_FALSE(r.block);
  }
  EXPECT_TRUE(eventually([&] { return stored("exploited") == 5; }, 10s)) << stored("exploited");

  auto t0 = Clock::now();
  auto put = admin_->Put("/api/v1/apps/shop/policy", auth_, R"({"rules":{"sql-injection":"block"}})",
                         "application/json");
  ASSERT_TRUE(put && put->status == 200) << (put ? put->body : "");
  ASSERT_TRUE(eventually([&] { return agent.engine().policy()->mode_for("sql-injection") == Mode::kBlock; }, 5s));
  auto took = Clock::now() - t0;
  EXPECT_LT(took, 5s);
  EXPECT_EQ(agent.engine().policy()->mode_for("xss"), Mode::kMonitor);  // --mode stays the default
  EXPECT_EQ(agent.counters().policy_version, 1);
  {
    RequestScope scope(agent, Attack{}.request());
    EXPECT_TRUE(scope.blocked() || agent.check_sql(Dialect::kSqlite, Attack::kSql).block);
  }
  EXPECT_TRUE(eventually([&] { return stored("blocked") >= 1; }, 10s));

  // A policy with a "version" of its own is followed by the answer's version, and a deleted
  // rule set returns the rule to the agent's mode.
  put = admin_->Put("/api/v1/apps/shop/policy", auth_, R"({"version":1,"rules":{}})", "application/json");
  ASSERT_TRUE(put && put->status == 200);
  EXPECT_TRUE(eventually([&] { return agent.counters().policy_version == 2; }, 5s));
  EXPECT_EQ(agent.engine().policy()->mode_for("sql-injection"), Mode::kMonitor);
  std::string c = agent.server_counters();
  EXPECT_NE(c.find("\"leader\":1"), std::string::npos) << c;
}

TEST_F(SdkWithVigild, OneLeaderPerSpoolAndTheCachedPolicyAtStart) {
  auto put = admin_->Put("/api/v1/apps/shop/policy", auth_, R"({"rules":{"sql-injection":"block"}})",
                         "application/json");
  ASSERT_TRUE(put && put->status == 200);
  {
    Agent first(options());
    ASSERT_TRUE(eventually([&] { return first.counters().policy_version == 1; }, 5s));
    Agent second(options());  // same application, server and spool: a follower
    EXPECT_NE(first.server_counters().find("\"leader\":1"), std::string::npos);
    EXPECT_NE(second.server_counters().find("\"leader\":0"), std::string::npos) << second.server_counters();
    // The follower applies the leader's policy (from the spool's policy.json) at once.
    EXPECT_EQ(second.engine().policy()->mode_for("sql-injection"), Mode::kBlock);
    {
      RequestScope scope(second, Attack{}.request());
      second.check_sql(Dialect::kSqlite, Attack::kSql);
    }
    second.flush();
    EXPECT_TRUE(eventually([&] { return stored("blocked") >= 1; }, 10s));  // through the leader
  }
  // vigild gone: an agent that starts now applies the last policy it was given.
  AgentOptions o = options();
  vigild_.reset();
  Agent later(o);
  EXPECT_EQ(later.engine().policy()->mode_for("sql-injection"), Mode::kBlock);
  EXPECT_EQ(later.counters().policy_version, 1);
}
#endif

}  // namespace
}  // namespace vigil::sdk
