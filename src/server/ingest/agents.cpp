#include "server/ingest/agents.hpp"

#include <map>

#include "server/common/names.hpp"
#include "server/common/time.hpp"

namespace vigil::server::ingest {

Status parse_heartbeat(const Json& body, const std::string& app, Heartbeat* h) {
  FieldError fe;
  std::string body_app;
  if (!get_string(body, "agent_id", &h->agent_id, &fe, true, 128) ||
      !get_string(body, "app", &body_app, &fe, false, 64) ||
      !get_string(body, "host", &h->host, &fe, false, 255) ||
      !get_string(body, "version", &h->version, &fe, false, 64) ||
      !get_string(body, "mode", &h->mode, &fe, false, 16) ||
      !get_int(body, "pid", &h->pid, &fe, false, 0, INT32_MAX) ||
      !get_int(body, "policy_version", &h->policy_version, &fe, false, 0, INT64_MAX) ||
      !get_int(body, "interval_s", &h->interval_s, &fe, false, 1, 3600))
    return Status::error(400, "bad_field", fe.field + ": " + fe.message, fe.field);
  if (h->agent_id.empty() || !printable_utf8(h->agent_id))
    return Status::error(400, "bad_field", "agent_id: 1-128 printable characters", "agent_id");
  if (!body_app.empty() && body_app != app)
    return Status::error(400, "bad_field",
                         "app: this agent key is for application " + app + ", not " + body_app,
                         "app");
  for (const auto* s : {&h->host, &h->version, &h->mode})
    if (!printable_utf8(*s)) return Status::error(400, "bad_field", "text fields must be printable");
  if (auto it = body.find("counters"); it != body.end() && !it->is_null()) {
    if (!it->is_object() || it->size() > 64)
      return Status::error(400, "bad_field", "counters: an object of at most 64 integers",
                           "counters");
    for (const auto& [k, v] : it->items()) {
      if (k.size() > 64 || !printable_utf8(k) || !v.is_number_integer())
        return Status::error(400, "bad_field",
                             "counters." + truncate_utf8(k, 64) + ": must be an integer",
                             "counters." + truncate_utf8(k, 64));
    }
    h->counters = *it;
  }
  h->app = app;
  return {};
}

void AgentRegistry::heartbeat(const Heartbeat& h) {
  std::int64_t now = now_ms();
  db_->write([&](storage::Connection& c) {
    c.exec(
        "INSERT INTO agents (app, agent_id, host, pid, version, mode, policy_version, counters, "
        "interval_s, first_seen_ms, last_seen_ms, client_ip) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (app, agent_id) DO UPDATE SET "
        "host = excluded.host, pid = excluded.pid, version = excluded.version, "
        "mode = excluded.mode, policy_version = excluded.policy_version, "
        "counters = excluded.counters, interval_s = excluded.interval_s, "
        "last_seen_ms = excluded.last_seen_ms, client_ip = excluded.client_ip",
        {h.app, h.agent_id, h.host, h.pid, h.version, h.mode, h.policy_version,
         dump_json(h.counters), h.interval_s, now, now, h.client_ip});
  });
}

bool AgentRegistry::quiet(std::int64_t last_seen_ms, std::int64_t interval_s,
                          std::int64_t now) const {
  std::int64_t after = quiet_after_ms_ > 0 ? quiet_after_ms_ : 3 * interval_s * 1000;
  return now - last_seen_ms > after;
}

Json AgentRegistry::list(const std::string& app) {
  auto rows = db_->read([&](storage::Connection& c) {
    return c.query(
        "SELECT app, agent_id, host, pid, version, mode, policy_version, counters, interval_s, "
        "first_seen_ms, last_seen_ms, client_ip FROM agents WHERE (? = '' OR app = ?) "
        "ORDER BY app, agent_id LIMIT 10000",
        {app, app});
  });
  std::int64_t now = now_ms();
  Json out = Json::array();
  for (const auto& r : rows) {
    std::string err;
    auto counters = parse_json(r.text(7), &err);
    out.push_back({{"app", r.text(0)},
                   {"agent_id", r.text(1)},
                   {"host", r.text(2)},
                   {"pid", r.integer(3)},
                   {"version", r.text(4)},
                   {"mode", r.text(5)},
                   {"policy_version", r.integer(6)},
                   {"counters", counters ? *counters : Json::object()},
                   {"interval_s", r.integer(8)},
                   {"first_seen", format_rfc3339(r.integer(9))},
                   {"last_seen", format_rfc3339(r.integer(10))},
                   {"seconds_since_seen", (now - r.integer(10)) / 1000},
                   {"client_ip", r.text(11)},
                   {"state", quiet(r.integer(10), r.integer(8), now) ? "quiet" : "ok"}});
  }
  return out;
}

Json AgentRegistry::apps() {
  struct App {
    std::int64_t agents = 0, quiet = 0, policy_version = 0, open_incidents = 0, keys = 0;
    int worst_outcome = -1;
    std::int64_t last_event_ms = 0;
  };
  std::map<std::string, App> apps;
  std::int64_t now = now_ms();
  db_->read([&](storage::Connection& c) {
    for (const auto& r : c.query("SELECT app, COUNT(*) FROM agent_keys WHERE revoked = 0 GROUP BY app"))
      apps[r.text(0)].keys = r.integer(1);
    for (const auto& r : c.query("SELECT app, last_seen_ms, interval_s FROM agents")) {
      App& a = apps[r.text(0)];
      ++a.agents;
      if (quiet(r.integer(1), r.integer(2), now)) ++a.quiet;
    }
    for (const auto& r : c.query("SELECT app, version FROM policies"))
      apps[r.text(0)].policy_version = r.integer(1);
    for (const auto& r : c.query(
             "SELECT app, COUNT(*), MAX(outcome) FROM incidents "
             "WHERE status IN ('open', 'acknowledged') GROUP BY app")) {
      App& a = apps[r.text(0)];
      a.open_incidents = r.integer(1);
      a.worst_outcome = static_cast<int>(r.integer(2));
    }
    for (const auto& r : c.query("SELECT app, MAX(last_seen_ms) FROM attackers GROUP BY app"))
      apps[r.text(0)].last_event_ms = r.integer(1);
    return 0;
  });
  static const char* kOutcomes[] = {"suspicious", "probed", "blocked", "exploited"};
  Json out = Json::array();
  for (const auto& [name, a] : apps)
    out.push_back({{"app", name},
                   {"agents", a.agents},
                   {"quiet_agents", a.quiet},
                   {"keys", a.keys},
                   {"policy_version", a.policy_version},
                   {"open_incidents", a.open_incidents},
                   {"worst_open_outcome", a.worst_outcome >= 0 && a.worst_outcome <= 3
                                              ? Json(kOutcomes[a.worst_outcome])
                                              : Json()},
                   {"last_event", a.last_event_ms ? Json(format_rfc3339(a.last_event_ms)) : Json()}});
  return out;
}

}  // namespace vigil::server::ingest
