// vigild benchmarks (issue 5): sustained ingest, and the incident list and event search at
// millions of stored events.
//
//   vigil_server_bench ingest [--events N] [--batch B] [--clients C] [--attackers A] [--db URI]
//       N events posted as B-event batches by C HTTP clients to an in-process vigild (the real
//       route table, ingest queue, correlator and storage), SQLite in a temporary directory
//       unless --db postgresql://...; prints events/s from the first request to the last 202.
//   vigil_server_bench query [--events N] [--samples S] [--data DIR]
//       fills a SQLite database with N events (once: DIR is kept and reused), then times S
//       incident-list and event-search requests through the router and prints p50/p95.
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include "server/api/api.hpp"
#include "server/auth/auth_service.hpp"
#include "server/common/time.hpp"
#include "server/config.hpp"
#include "server/http/server.hpp"
#include "server/incidents/correlator.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/agents.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/ingest/ingest_queue.hpp"
#include "server/policy/policy_service.hpp"

namespace vs = vigil::server;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string mode;
  long long events = 200000;
  int batch = 500, clients = 4, attackers = 50, samples = 200;
  std::string db, data;
  bool checkpoint_thread = true;  // --checkpoint-thread on|off (SqliteOptions)
};

// An event as the agent writes it (about 700 bytes): mostly probes, a few exploits.
std::string event_json(long long n, int attackers, std::int64_t t) {
  int attacker = static_cast<int>(n % attackers);
  const char* outcome = n % 997 == 0 ? "exploited" : n % 50 == 0 ? "suspicious" : "probed";
  const char* rule = n % 50 == 0 ? "scanner" : n % 7 == 0 ? "xss" : "sql-injection";
  char buf[1400];
  std::snprintf(
      buf, sizeof buf,
      R"J({"event_id":"%032llx","time":"%s","app":"shop","outcome":"%s","rule":"%s",)J"
      R"J("severity":"medium","cwe":"CWE-89","mode":"monitor","request":{"method":"GET",)J"
      R"J("path":"/product/%lld","client_ip":"198.51.%d.%d","user_agent":"sqlmap/1.7.2#stable (https://sqlmap.org)",)J"
      R"J("id":"%016llx"},"input":{"source":"query","name":"id","value":"1' AND 1=1 UNION ALL SELECT NULL,NULL,CONCAT(0x7171,0x71)-- -","form":"raw"},)J"
      R"J("explanation":{"reason":"closes a single-quoted string, then adds a UNION SELECT","evidence":"' AND 1=1 UNION ALL SELECT"},)J"
      R"J("agent":{"pid":4242,"version":"0.1.0"}})J",
      n, vs::format_rfc3339(t).c_str(), outcome, rule, n % 40, attacker / 250, attacker % 250,
      static_cast<unsigned long long>(n * 2654435761ULL));
  return buf;
}

// CPU seconds this process's threads named `name` used so far, or every thread's when `name`
// is empty (/proc/self/task/*/stat): user + system, or system alone.
double cpu_seconds(const std::string& name, bool system_only = false) {
  double ticks = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::FILE* f = std::fopen((task.path() / "stat").c_str(), "r");
    if (!f) continue;
    char buf[1024];
    std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    const char* open = std::strchr(buf, '(');
    const char* close = std::strrchr(buf, ')');
    if (!open || !close) continue;
    if (!name.empty() && std::string(open + 1, close) != name) continue;
    // After the name: state, then fields 4..; utime and stime are fields 14 and 15.
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                    &stime) == 2)
      ticks += static_cast<double>(system_only ? stime : utime + stime);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
}

// vigild in this process, on a free loopback port.
struct Server {
  vs::Config config;
  std::unique_ptr<vs::storage::Database> db;
  std::unique_ptr<vs::auth::AuthService> auth;
  std::unique_ptr<vs::incidents::Correlator> correlator;
  std::unique_ptr<vs::ingest::EventWriter> writer;
  std::unique_ptr<vs::ingest::IngestQueue> ingest;
  std::unique_ptr<vs::ingest::AgentRegistry> agents;
  std::unique_ptr<vs::incidents::IncidentService> incidents;
  std::unique_ptr<vs::policy::PolicyService> policy;
  std::atomic<bool> ready{true};
  vs::api::Services services;
  std::unique_ptr<vs::http::Router> router;
  std::unique_ptr<vs::http::HttpServer> http;
  std::thread thread;
  std::string key, token;

  explicit Server(const Args& a) {
    if (!a.db.empty()) {
      vs::storage::PostgresOptions o;
      o.conninfo = a.db;
      db = vs::storage::Database::open_postgres(o);
    } else {
      vs::storage::SqliteOptions o;
      o.path = a.data + "/vigil.db";
      o.checkpoint_thread = a.checkpoint_thread;
      db = vs::storage::Database::open_sqlite(o);
    }
    db->migrate();
    auth = std::make_unique<vs::auth::AuthService>(db.get(), vs::auth::AuthOptions{});
    vs::Status st;
    auth->bootstrap_admin("bench-password", &st);
    correlator = std::make_unique<vs::incidents::Correlator>(vs::incidents::CorrelatorOptions{});
    writer = std::make_unique<vs::ingest::EventWriter>(correlator.get());
    vs::ingest::IngestOptions io;
    io.writers = a.db.empty() ? 1 : 2;
    ingest = std::make_unique<vs::ingest::IngestQueue>(db.get(), writer.get(), io);
    ingest->start();
    agents = std::make_unique<vs::ingest::AgentRegistry>(db.get(), 0);
    incidents = std::make_unique<vs::incidents::IncidentService>(db.get());
    policy = std::make_unique<vs::policy::PolicyService>(db.get(), vs::policy::PolicyOptions{});
    policy->start();
    services.config = &config;
    services.db = db.get();
    services.auth = auth.get();
    services.ingest = ingest.get();
    services.agents = agents.get();
    services.incidents = incidents.get();
    services.policy = policy.get();
    services.ready = &ready;
    router = std::make_unique<vs::http::Router>(vs::api::build_routes(services), auth.get());
    vs::http::ServerOptions ho;
    ho.port = 0;
    http = std::make_unique<vs::http::HttpServer>(ho, router.get());
    std::string error;
    if (!http->bind(&error)) throw std::runtime_error(error);
    thread = std::thread([this] { http->serve(); });
    vs::auth::Session s;
    auth->login("admin", "bench-password", "127.0.0.1", false, &s);
    token = s.token;
    httplib::Client c("127.0.0.1", http->port());
    auto r = c.Post("/api/v1/keys", {{"Authorization", "Bearer " + token}}, R"({"app":"shop"})",
                    "application/json");
    key = vs::Json::parse(r->body)["key"];
  }
  ~Server() {
    policy->stop();
    http->stop();
    thread.join();
    ingest->stop();
  }
};

int ingest_bench(const Args& a) {
  Server server(a);
  std::int64_t t0 = vs::now_ms() - a.events;  // one event per millisecond, ending now
  long long batches = (a.events + a.batch - 1) / a.batch;
  std::printf("generating %lld events (%lld batches of %d)...\n", a.events, batches, a.batch);
  std::vector<std::string> bodies;
  bodies.reserve(batches);
  std::size_t bytes = 0;
  for (long long b = 0; b < batches; ++b) {
    std::string body = "[";
    for (long long i = b * a.batch; i < std::min<long long>(a.events, (b + 1) * a.batch); ++i) {
      if (body.size() > 1) body += ',';
      body += event_json(i, a.attackers, t0 + i);
    }
    body += ']';
    bytes += body.size();
    bodies.push_back(std::move(body));
  }
  std::atomic<long long> next{0}, failures{0}, retries{0};
  const auto stats0 = server.ingest->stats();
  const double writer_cpu0 = cpu_seconds("vigild-writer"), all_cpu0 = cpu_seconds(""),
               writer_sys0 = cpu_seconds("vigild-writer", true);
  auto start = Clock::now();
  std::vector<std::thread> clients;
  for (int c = 0; c < a.clients; ++c)
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.http->port());
      client.set_read_timeout(60, 0);
      httplib::Headers h = {{"Authorization", "Bearer " + server.key}};
      for (long long b; (b = next++) < batches;) {
        for (int attempt = 0;; ++attempt) {
          auto r = client.Post("/api/v1/events", h, bodies[b], "application/json");
          if (r && r->status == 202) break;
          if (attempt > 50) {
            ++failures;
            break;
          }
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    });
  for (auto& t : clients) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();
  const double writer_cpu = cpu_seconds("vigild-writer") - writer_cpu0,
               all_cpu = cpu_seconds("") - all_cpu0,
               writer_sys = cpu_seconds("vigild-writer", true) - writer_sys0;
  std::printf("ingest: %lld events (%.1f MB) in %.2f s: %.0f events/s (%d clients, %d per batch, "
              "%d attackers, %s); %lld retries after 429, %lld failed batches\n",
              a.events, bytes / 1e6, secs, a.events / secs, a.clients, a.batch, a.attackers,
              a.db.empty() ? "SQLite" : "PostgreSQL", retries.load(), failures.load());
  // CPU time, unlike the wall clock, barely depends on what else the machine runs: the writer's
  // bounds the rate one idle core can write; the process's (vigild and the bench client) what
  // the machine's cores can carry.
  std::printf("cpu per event: writer thread %.1f us (%.1f in the kernel; one idle core: %.0f "
              "events/s), whole process %.1f us (%u cores: %.0f events/s)\n",
              writer_cpu * 1e6 / a.events, writer_sys * 1e6 / a.events,
              writer_cpu > 0 ? a.events / writer_cpu : 0.0,
              all_cpu * 1e6 / a.events, std::thread::hardware_concurrency(),
              all_cpu > 0 ? a.events * std::thread::hardware_concurrency() / all_cpu : 0.0);
  // Near 100%: the writer is the bound; well below: it waited for batches (or, on a busy
  // machine, for a core while in a transaction: compare with its CPU time).
  const auto stats = server.ingest->stats();
  const auto txs = stats.transactions - stats0.transactions;
  std::printf("writer: %llu transactions (%.0f events each), in a transaction %.0f%% of the time\n",
              static_cast<unsigned long long>(txs), txs ? static_cast<double>(a.events) / txs : 0.0,
              (stats.commit_us_sum - stats0.commit_us_sum) / 1e4 / secs);
  return failures ? 1 : 0;
}

int query_bench(const Args& a) {
  bool fresh = !std::filesystem::exists(a.data + "/vigil.db");
  Server server(a);
  long long have = server.db->read([](vs::storage::Connection& c) {
    return c.query("SELECT COUNT(*) FROM events").at(0).integer(0);
  });
  if (have < a.events) {
    std::printf("filling to %lld events (have %lld%s)...\n", a.events, have,
                fresh ? ", new database" : "");
    std::int64_t t0 = vs::now_ms() - a.events * 100;  // 10 events a second over the period
    auto start = Clock::now();
    const long long chunk = 20000;
    for (long long from = have; from < a.events; from += chunk) {
      std::string body = "[";
      for (long long i = from; i < std::min(a.events, from + chunk); ++i) {
        if (body.size() > 1) body += ',';
        body += event_json(i, a.attackers, t0 + i * 100);
      }
      body += ']';
      std::vector<vs::ingest::EventRecord> events;
      vs::ingest::BatchLimits limits;
      limits.max_events = chunk;
      vs::ingest::parse_event_batch(body, "shop", vs::now_ms(), limits, &events);
      std::vector<vs::ingest::EventRecord*> ptrs;
      for (auto& e : events) ptrs.push_back(&e);
      server.db->write([&](vs::storage::Connection& c) { server.writer->write(c, ptrs); });
      if ((from / chunk) % 25 == 0)
        std::printf("  %lld events, %.0f s\n", from + chunk,
                    std::chrono::duration<double>(Clock::now() - start).count());
    }
  }
  httplib::Client client("127.0.0.1", server.http->port());
  httplib::Headers h = {{"Authorization", "Bearer " + server.token}};
  struct Query {
    const char* name;
    std::string path;
  } queries[] = {
      {"incident list (50)", "/api/v1/incidents?limit=50"},
      {"open incidents of an app", "/api/v1/incidents?app=shop&status=open,acknowledged&limit=50"},
      {"event search: app, newest 100", "/api/v1/events?app=shop&limit=100"},
      {"event search: app + outcome exploited", "/api/v1/events?app=shop&outcome=exploited&limit=100"},
      {"event search: app + rule xss", "/api/v1/events?app=shop&rule=xss&limit=100"},
      {"event search: one attacker", "/api/v1/events?app=shop&client_ip=198.51.0.7&limit=100"},
      {"event search: an address never seen", "/api/v1/events?app=shop&client_ip=203.0.113.99"},
      {"event search: exploited or blocked", "/api/v1/events?app=shop&outcome=exploited,blocked"},
      {"event search: every app, newest 100", "/api/v1/events?limit=100"},
      {"event search: every app, rule xss", "/api/v1/events?rule=xss&limit=100"},
      {"one incident with 200 events", "/api/v1/incidents/1"},
      {"stats: last 24 h (dashboard default)", "/api/v1/stats"},
      {"stats: an app, last 24 h by 5 min", "/api/v1/stats?app=shop&bucket=300&since=" +
                                                vs::format_rfc3339(vs::now_ms() - 86400000)},
      {"stats: an app, 7 days by day", "/api/v1/stats?app=shop&bucket=86400&since=" +
                                           vs::format_rfc3339(vs::now_ms() - 7 * 86400000LL)},
  };
  std::printf("%lld events stored; %d samples each:\n", std::max(have, a.events), a.samples);
  int slow = 0;
  for (const auto& q : queries) {
    std::vector<double> ms;
    for (int i = 0; i < a.samples; ++i) {
      auto start = Clock::now();
      auto r = client.Get(q.path, h);
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
      if (!r || r->status != 200) {
        std::printf("  %s: failed (%d)\n", q.name, r ? r->status : 0);
        return 1;
      }
    }
    double p95 = percentile(ms, 0.95);
    slow += p95 >= 100;
    std::printf("  %-40s p50 %7.2f ms   p95 %7.2f ms\n", q.name, percentile(ms, 0.5), p95);
  }
  return slow ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  if (argc < 2 || (std::strcmp(argv[1], "ingest") != 0 && std::strcmp(argv[1], "query") != 0)) {
    std::fprintf(stderr, "usage: vigil_server_bench ingest|query [--events N] [--batch B] "
                         "[--clients C] [--attackers A] [--samples S] [--db URI] [--data DIR]\n");
    return 2;
  }
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--events") a.events = std::stoll(v);
    else if (k == "--batch") a.batch = std::stoi(v);
    else if (k == "--clients") a.clients = std::stoi(v);
    else if (k == "--attackers") a.attackers = std::stoi(v);
    else if (k == "--samples") a.samples = std::stoi(v);
    else if (k == "--db") a.db = v;
    else if (k == "--data") a.data = v;
    else if (k == "--checkpoint-thread") a.checkpoint_thread = v != "off";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  bool temp = a.data.empty();
  if (temp) {
    char tmpl[] = "/tmp/vigil-bench-XXXXXX";
    a.data = mkdtemp(tmpl);
  }
  std::filesystem::create_directories(a.data);
  int rc;
  try {
    rc = a.mode == "ingest" ? ingest_bench(a) : query_bench(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vigil_server_bench: %s\n", e.what());
    rc = 1;
  }
  if (temp) std::filesystem::remove_all(a.data);
  return rc;
}
