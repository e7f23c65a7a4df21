#include "server/config.hpp"

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>

#include "server/common/time.hpp"
#include "server/http/server.hpp"

namespace vigil::server {
namespace {

using Setter = std::function<bool(const YAML::Node&, Config*, std::string*)>;

template <class T>
Setter number(T Config::*field, long long min, long long max) {
  return [=](const YAML::Node& n, Config* c, std::string* error) {
    long long v;
    try {
      v = n.as<long long>();
    } catch (const YAML::Exception&) {
      *error = "must be an integer";
      return false;
    }
    if (v < min || v > max) {
      *error = "must be between " + std::to_string(min) + " and " + std::to_string(max);
      return false;
    }
    c->*field = static_cast<T>(v);
    return true;
  };
}

Setter text(std::string Config::*field) {
  return [=](const YAML::Node& n, Config* c, std::string* error) {
    if (!n.IsScalar()) {
      *error = "must be a string";
      return false;
    }
    c->*field = n.Scalar();
    return true;
  };
}

Setter flag(bool Config::*field) {
  return [=](const YAML::Node& n, Config* c, std::string* error) {
    try {
      c->*field = n.as<bool>();
    } catch (const YAML::Exception&) {
      *error = "must be true or false";
      return false;
    }
    return true;
  };
}

Setter duration(std::int64_t Config::*field) {
  return [=](const YAML::Node& n, Config* c, std::string* error) {
    auto ms = n.IsScalar() ? parse_duration_ms(n.Scalar()) : std::nullopt;
    if (!ms) {
      *error = "must be a duration such as 90s, 15m, 12h or 7d";
      return false;
    }
    c->*field = *ms;
    return true;
  };
}

const std::map<std::string, Setter>& setters() {
  static const std::map<std::string, Setter> kSetters = {
      {"listen", text(&Config::listen)},
      {"tls_cert", text(&Config::tls_cert)},
      {"tls_key", text(&Config::tls_key)},
      {"threads", number(&Config::threads, 4, 1024)},
      {"max_body_bytes", number(&Config::max_body_bytes, 1024, 1ll << 30)},
      {"access_log", flag(&Config::access_log)},
      {"log_level", text(&Config::log_level)},
      {"data", text(&Config::data_dir)},
      {"db", text(&Config::db)},
      {"db_connections", number(&Config::db_connections, 1, 256)},
      {"sqlite_readers", number(&Config::sqlite_readers, 1, 64)},
      {"sqlite_synchronous_full", flag(&Config::sqlite_synchronous_full)},
      {"ingest_queue_events", number(&Config::ingest_queue_events, 1, 100000000)},
      {"ingest_queue_bytes", number(&Config::ingest_queue_bytes, 1 << 20, 1ll << 40)},
      {"max_batch_events", number(&Config::max_batch_events, 1, 1000000)},
      {"max_event_bytes", number(&Config::max_event_bytes, 1024, 16 << 20)},
      {"ingest_tx_events", number(&Config::ingest_tx_events, 1, 1000000)},
      {"ingest_writers", number(&Config::ingest_writers, 0, 64)},
      {"ingest_ack_timeout_s", number(&Config::ingest_ack_timeout_s, 1, 600)},
      {"incident_window", duration(&Config::incident_window_ms)},
      {"agent_quiet_after", duration(&Config::agent_quiet_after_ms)},
      {"policy_poll_ms", number(&Config::policy_poll_ms, 50, 5000)},
      {"long_poll_max_s", number(&Config::long_poll_max_s, 1, 300)},
      {"session_ttl", duration(&Config::session_ttl_ms)},
      {"login_window", duration(&Config::login_window_ms)},
      {"login_max_failures_user", number(&Config::login_max_failures_user, 1, 1000000)},
      {"login_max_failures_ip", number(&Config::login_max_failures_ip, 1, 1000000)},
      {"export",
       [](const YAML::Node& n, Config* c, std::string* error) {
         return vigil::exports::parse_export_list_yaml(n, &c->exports, error);
       }},
      {"exports",
       [](const YAML::Node& n, Config* c, std::string* error) {
         return vigil::exports::parse_export_list_yaml(n, &c->exports, error);
       }},
  };
  return kSetters;
}

}  // namespace

bool load_config_file(const std::string& path, Config* config, std::string* error) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    *error = path + ": cannot read the file";
    return false;
  } catch (const YAML::Exception& e) {
    *error = path + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg;
    return false;
  }
  if (root.IsNull()) return true;  // an empty file: the defaults
  if (!root.IsMap()) {
    *error = path + ": the configuration must be a mapping of keys to values";
    return false;
  }
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>("");
    auto it = setters().find(key);
    std::string where = path + ":" + std::to_string(kv.first.Mark().line + 1) + ": " + key;
    if (it == setters().end()) {
      *error = where + ": unknown key";
      return false;
    }
    std::string why;
    if (!it->second(kv.second, config, &why)) {
      *error = where + ": " + why;
      return false;
    }
  }
  return true;
}

bool validate_config(const Config& c, std::string* error) {
  std::string host;
  int port;
  if (!http::parse_listen(c.listen, &host, &port)) {
    *error = "listen: expected HOST:PORT, got '" + c.listen + "'";
    return false;
  }
  if (c.db.empty() && c.data_dir.empty()) {
    *error = "no storage: give --data DIR (SQLite) or --db postgresql://...";
    return false;
  }
  if (!c.db.empty() && c.db.rfind("postgresql://", 0) != 0 && c.db.rfind("postgres://", 0) != 0) {
    *error = "db: expected a postgresql:// URI";
    return false;
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    *error = "TLS needs both tls_cert and tls_key";
    return false;
  }
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warning" &&
      c.log_level != "error") {
    *error = "log_level: debug, info, warning or error";
    return false;
  }
  return true;
}

}  // namespace vigil::server
