// vigild's configuration: a YAML (or JSON) file given with --config, then command-line flags,
// which win. Every key is documented in docs/server.md.
#ifndef VIGIL_SERVER_CONFIG_HPP_
#define VIGIL_SERVER_CONFIG_HPP_

#include <cstdint>
#include <string>
#include <vector>

#include "export/export_config.hpp"

namespace vigil::server {

struct Config {
  // Where and how to listen.
  std::string listen = "127.0.0.1:7700";
  std::string tls_cert, tls_key;
  int threads = 64;  // one per connection served: agents sending, long-polls, users
  std::size_t max_body_bytes = 16 << 20;
  bool access_log = false;
  std::string log_level = "info";

  // Storage: SQLite under data_dir unless db (postgresql://...) is set.
  std::string data_dir;
  std::string db;
  int db_connections = 8;          // PostgreSQL pool per process
  int sqlite_readers = 4;
  bool sqlite_synchronous_full = false;

  // Ingest.
  std::size_t ingest_queue_events = 100000;  // pending events before 429
  std::size_t ingest_queue_bytes = 256 << 20;
  std::size_t max_batch_events = 10000;
  std::size_t max_event_bytes = 256 << 10;
  std::size_t ingest_tx_events = 5000;       // events per write transaction
  int ingest_writers = 0;                    // 0: 1 for SQLite, 2 for PostgreSQL
  int ingest_ack_timeout_s = 30;

  // Incidents.
  std::int64_t incident_window_ms = 3600 * 1000;  // quiet time that closes a correlation window

  // Agents.
  std::int64_t agent_quiet_after_ms = 0;  // 0: three heartbeat intervals
  int policy_poll_ms = 1000;              // how often each vigild looks for policy changes
  int long_poll_max_s = 30;

  // Users.
  std::int64_t session_ttl_ms = 12 * 3600 * 1000;
  std::int64_t login_window_ms = 15 * 60 * 1000;
  int login_max_failures_user = 10;
  int login_max_failures_ip = 50;

  // SOC exports (issue 7, src/export): `export`/`exports` in the file (URLs or maps with options),
  // replaced by --export URL flags.
  std::vector<vigil::exports::ExportConfig> exports;
};

// Reads a YAML/JSON file into *config (keys it names replace the defaults). False with *error
// ("FILE: key: reason") on a bad file; unknown keys are errors too (a typo must not pass).
bool load_config_file(const std::string& path, Config* config, std::string* error);

// Checks the whole configuration once files and flags are merged.
bool validate_config(const Config& config, std::string* error);

}  // namespace vigil::server

#endif  // VIGIL_SERVER_CONFIG_HPP_
