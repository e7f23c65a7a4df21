// vigild: the Vigil ADR server (docs/server.md).
//   vigild --data DIR --listen HOST:PORT [--db postgresql://...] [--export URL]... [--config FILE]
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include <CLI/CLI.hpp>

#include "export/exporter.hpp"
#include "server/api/api.hpp"
#include "server/auth/auth_service.hpp"
#include "server/common/log.hpp"
#include "server/common/time.hpp"
#include "server/config.hpp"
#include "server/http/server.hpp"
#include "server/incidents/correlator.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/agents.hpp"
#include "server/ingest/event_writer.hpp"
#include "server/ingest/ingest_queue.hpp"
#include "server/policy/policy_service.hpp"
#include "server/storage/sql.hpp"

namespace vs = vigil::server;

namespace {

std::unique_ptr<vs::storage::Database> open_database(const vs::Config& c, std::string* error) {
  try {
    if (!c.db.empty()) {
      // PostgreSQL may still be starting (containers, boot): wait for it a little.
      for (int attempt = 1;; ++attempt) {
        try {
          vs::storage::PostgresOptions o;
          o.conninfo = c.db;
          o.connections = c.db_connections;
          return vs::storage::Database::open_postgres(o);
        } catch (const vs::storage::StorageError& e) {
          if (attempt >= 30) throw;
          if (attempt == 1) vs::log_warning(std::string(e.what()) + " (retrying for 30 s)");
          std::this_thread::sleep_for(std::chrono::seconds(1));
        }
      }
    }
    std::error_code ec;
    std::filesystem::create_directories(c.data_dir, ec);
    if (ec) {
      *error = "cannot create " + c.data_dir + ": " + ec.message();
      return nullptr;
    }
    ::chmod(c.data_dir.c_str(), 0700);
    vs::storage::SqliteOptions o;
    o.path = c.data_dir + "/vigil.db";
    o.readers = c.sqlite_readers;
    o.synchronous_full = c.sqlite_synchronous_full;
    return vs::storage::Database::open_sqlite(o);
  } catch (const std::exception& e) {
    *error = e.what();
    return nullptr;
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"vigild: the Vigil ADR server (ingest, incidents, policy push, users)", "vigild"};
  app.set_version_flag("--version", "vigild 0.1.0");
  std::string config_file, data, listen, db, tls_cert, tls_key, log_level, port_file;
  std::vector<std::string> exports;
  int threads = 0;
  bool access_log = false;
  app.add_option("--config", config_file, "Configuration file (YAML or JSON; flags win)");
  auto* o_data = app.add_option("--data", data, "Data directory (SQLite database), created if missing");
  auto* o_listen = app.add_option("--listen", listen, "HOST:PORT to listen on (default 127.0.0.1:7700; port 0: any)");
  auto* o_db = app.add_option("--db", db, "PostgreSQL URI (postgresql://user@host:port/db) instead of SQLite");
  auto* o_export = app.add_option("--export", exports, "Forward events to a SOC (repeatable; see docs/server.md)");
  auto* o_cert = app.add_option("--tls-cert", tls_cert, "PEM certificate: serve HTTPS");
  auto* o_key = app.add_option("--tls-key", tls_key, "PEM private key for --tls-cert");
  auto* o_threads = app.add_option("--threads", threads, "HTTP worker threads")->check(CLI::Range(4, 1024));
  auto* o_log = app.add_option("--log-level", log_level, "debug, info, warning or error");
  auto* o_access = app.add_flag("--access-log", access_log, "Log one line per request");
  app.add_option("--port-file", port_file, "Write the port listened on to FILE once ready");
  CLI11_PARSE(app, argc, argv);

  vs::Config config;
  std::string error;
  if (!config_file.empty() && !vs::load_config_file(config_file, &config, &error)) {
    std::cerr << "vigild: " << error << "\n";
    return 2;
  }
  if (o_data->count()) config.data_dir = data;
  if (o_listen->count()) config.listen = listen;
  if (o_db->count()) config.db = db;
  if (o_export->count()) {
    config.exports.clear();
    for (const auto& url : exports) {
      config.exports.emplace_back();
      if (!vigil::exports::parse_export_url(url, &config.exports.back(), &error)) {
        std::cerr << "vigild: --export: " << error << "\n";
        return 2;
      }
    }
  }
  if (o_cert->count()) config.tls_cert = tls_cert;
  if (o_key->count()) config.tls_key = tls_key;
  if (o_threads->count()) config.threads = threads;
  if (o_log->count()) config.log_level = log_level;
  if (o_access->count()) config.access_log = access_log;
  if (!vs::validate_config(config, &error)) {
    std::cerr << "vigild: " << error << "\n";
    return 2;
  }
  vs::set_log_level(config.log_level == "debug"     ? vs::LogLevel::kDebug
                    : config.log_level == "warning" ? vs::LogLevel::kWarning
                    : config.log_level == "error"   ? vs::LogLevel::kError
                                                    : vs::LogLevel::kInfo);
  std::unique_ptr<vigil::exports::ExportSet> export_set;
  if (!config.exports.empty()) {
    export_set = vigil::exports::ExportSet::create(config.exports, &error);
    if (!export_set) {
      std::cerr << "vigild: " << error << "\n";
      return 2;
    }
    export_set->start();
    for (const auto& e : config.exports) vs::log_info("exporting events to " + e.name);
  }

  // Signals go to one thread (sigwait below); every other thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);

  auto database = open_database(config, &error);
  if (!database) {
    std::cerr << "vigild: cannot open the database: " << error << "\n";
    return 1;
  }
  try {
    int version = database->migrate();
    vs::log_info("database ready (" +
                 std::string(config.db.empty() ? "SQLite " + config.data_dir + "/vigil.db"
                                               : "PostgreSQL") +
                 ", schema version " + std::to_string(version) + ")");
  } catch (const std::exception& e) {
    std::cerr << "vigild: database migration failed: " << e.what() << "\n";
    return 1;
  }

  vs::auth::AuthOptions auth_options;
  auth_options.session_ttl_ms = config.session_ttl_ms;
  auth_options.login_window_ms = config.login_window_ms;
  auth_options.login_max_failures_user = config.login_max_failures_user;
  auth_options.login_max_failures_ip = config.login_max_failures_ip;
  vs::auth::AuthService auth(database.get(), auth_options);
  try {
    const char* env = std::getenv("VIGIL_ADMIN_PASSWORD");
    vs::Status st;
    auto generated = auth.bootstrap_admin(env ? env : "", &st);
    if (!st.ok()) {
      std::cerr << "vigild: " << st.message() << "\n";
      return 2;
    }
    if (generated)
      std::cerr << "vigild: created user admin with password " << *generated
                << " (set VIGIL_ADMIN_PASSWORD on first start to choose it)\n";
  } catch (const std::exception& e) {
    std::cerr << "vigild: cannot create the admin user: " << e.what() << "\n";
    return 1;
  }

  vs::incidents::CorrelatorOptions correlator_options;
  correlator_options.window_ms = config.incident_window_ms;
  vs::incidents::Correlator correlator(correlator_options);
  vs::ingest::EventWriter event_writer(&correlator);
  vs::ingest::IngestOptions ingest_options;
  ingest_options.max_events = config.ingest_queue_events;
  ingest_options.max_bytes = config.ingest_queue_bytes;
  ingest_options.tx_events = config.ingest_tx_events;
  ingest_options.writers = config.db.empty() ? 1
                           : config.ingest_writers > 0 ? config.ingest_writers
                                                       : 2;
  ingest_options.ack_timeout_ms = config.ingest_ack_timeout_s * 1000;
  if (export_set)
    ingest_options.on_stored = [&export_set](const vs::ingest::EventRecord& e) {
      export_set->submit_json(e.json);
    };
  vs::ingest::IngestQueue ingest(database.get(), &event_writer, ingest_options);
  ingest.start();
  vs::ingest::AgentRegistry agents(database.get(), config.agent_quiet_after_ms);
  vs::incidents::IncidentService incidents(database.get());
  vs::policy::PolicyOptions policy_options;
  policy_options.poll_ms = config.policy_poll_ms;
  policy_options.max_waiters = std::max(2, config.threads / 2);
  vs::policy::PolicyService policies(database.get(), policy_options);
  try {
    policies.start();
  } catch (const std::exception& e) {
    std::cerr << "vigild: cannot read the policies: " << e.what() << "\n";
    return 1;
  }

  std::atomic<bool> ready{false};
  vs::api::Services services;
  services.config = &config;
  services.db = database.get();
  services.auth = &auth;
  services.ingest = &ingest;
  services.agents = &agents;
  services.incidents = &incidents;
  services.policy = &policies;
  services.ready = &ready;
  services.exports = export_set.get();
  vs::http::Router router(vs::api::build_routes(services), &auth);

  vs::http::ServerOptions http_options;
  vs::http::parse_listen(config.listen, &http_options.host, &http_options.port);
  http_options.tls_cert = config.tls_cert;
  http_options.tls_key = config.tls_key;
  http_options.threads = config.threads;
  http_options.max_body_bytes = config.max_body_bytes;
  http_options.access_log = config.access_log;
  vs::http::HttpServer server(http_options, &router);
  if (!server.bind(&error)) {
    std::cerr << "vigild: " << error << "\n";
    return 1;
  }

  std::mutex stop_mu;
  std::condition_variable stop_cv;
  bool stopping = false;
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    vs::log_info(std::string("stopping (") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ")");
    {
      std::lock_guard<std::mutex> lock(stop_mu);
      stopping = true;
    }
    stop_cv.notify_all();
    policies.stop();  // answers the agents' long-polls now: they hold worker threads
    server.stop();
  });
  std::thread housekeeping([&] {
    std::unique_lock<std::mutex> lock(stop_mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(60), [&] { return stopping; })) {
      lock.unlock();
      try {
        auth.housekeeping();
      } catch (const std::exception& e) {
        vs::log_warning(std::string("housekeeping: ") + e.what());
      }
      lock.lock();
    }
  });

  std::string host = http_options.host.find(':') != std::string::npos
                         ? "[" + http_options.host + "]"
                         : http_options.host;
  vs::log_info(std::string("listening on ") + (server.tls() ? "https://" : "http://") + host +
               ":" + std::to_string(server.port()));
  if (!port_file.empty()) {
    std::string tmp = port_file + ".tmp";
    std::ofstream(tmp) << server.port() << "\n";
    std::rename(tmp.c_str(), port_file.c_str());
  }
  ready = true;
  server.serve();
  ready = false;

  // serve() returned: a signal stopped it (or the socket failed). Wake the signal thread if it
  // is still waiting, then finish what is in flight.
  {
    std::lock_guard<std::mutex> lock(stop_mu);
    if (!stopping) {
      stopping = true;
      pthread_kill(signal_thread.native_handle(), SIGTERM);
    }
  }
  stop_cv.notify_all();
  signal_thread.join();
  housekeeping.join();
  policies.stop();
  ingest.stop();  // what agents were told is stored, is
  if (export_set) export_set->stop();  // delivers what it can within each shutdown_timeout
  vs::log_info("stopped");
  return 0;
}
