#include "server/api/api.hpp"

#include "export/exporter.hpp"
#include "export/metrics.hpp"

#include <charconv>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "server/api/storage_metrics.hpp"
#include "server/config.hpp"
#include "server/ingest/agents.hpp"
#include "server/ingest/ingest_queue.hpp"
#include "server/storage/sql.hpp"
#include "server/web/dashboard.hpp"

namespace vigil::server::api {

http::Reply error_reply(const Status& status) {
  auto reply = http::Reply::error(status.http(), status.code(), status.message(), status.field());
  if (status.retry_after_s > 0)
    reply.with_header("Retry-After", std::to_string(status.retry_after_s));
  return reply;
}

bool parse_id(const std::string& text, std::int64_t* out) {
  if (text.empty() || text.size() > 18) return false;
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v <= 0) return false;
  *out = v;
  return true;
}

bool parse_limit(const http::Request& req, int def, int max, int* out) {
  auto q = req.query("limit");
  if (!q) {
    *out = def;
    return true;
  }
  std::int64_t v;
  if (!parse_id(*q, &v)) return false;
  *out = static_cast<int>(v > max ? max : v);
  return true;
}

std::vector<http::Route> build_routes(Services& s) {
  std::vector<http::Route> routes;
  add_health_routes(s, &routes);
  add_session_routes(s, &routes);
  add_user_routes(s, &routes);
  if (s.ingest) add_event_routes(s, &routes);
  if (s.agents) add_agent_routes(s, &routes);
  if (s.incidents) add_incident_routes(s, &routes);
  if (s.db) add_stats_routes(s, &routes);
  if (s.policy) add_policy_routes(s, &routes);
  web::add_dashboard_routes(&routes);  // the dashboard at /, beside the API
  return routes;
}

namespace {

std::string server_metrics(Services& s, StorageMetrics* storage) {
  vigil::exports::PrometheusWriter w;
  if (s.ingest != nullptr) {
    const ingest::IngestQueue::Stats st = s.ingest->stats();
    const struct {
      const char* name;
      const char* type;
      const char* help;
      std::uint64_t value;
    } kIngest[] = {
        {"vigil_ingest_events_stored_total", "counter", "Events stored (new event ids).",
         st.stored},
        {"vigil_ingest_events_duplicate_total", "counter",
         "Events acknowledged again after a retry (same event id), not stored twice.",
         st.duplicates},
        {"vigil_ingest_rejected_full_total", "counter",
         "Batches answered 429 because the ingest queue was full.", st.rejected_full},
        {"vigil_ingest_transactions_total", "counter", "Write transactions (group commits).",
         st.transactions},
        {"vigil_ingest_failures_total", "counter", "Write transactions that failed (503).",
         st.failures},
        {"vigil_ingest_pending_events", "gauge", "Events queued, not yet committed.",
         st.pending_events},
        {"vigil_ingest_pending_bytes", "gauge", "Bytes of events queued, not yet committed.",
         st.pending_bytes},
    };
    for (const auto& m : kIngest) {
      w.family(m.name, m.type, m.help);
      w.sample(m.name, {}, m.value);
    }
  }
  if (s.db != nullptr) {
    auto rows = s.db->read([](storage::Connection& c) {
      return c.query("SELECT app, status, COUNT(*) FROM incidents GROUP BY app, status");
    });
    w.family("vigil_incidents", "gauge", "Incidents by application and status.");
    for (const storage::Row& row : rows)
      w.sample("vigil_incidents", {{"app", row.text(0)}, {"status", row.text(1)}},
               static_cast<std::uint64_t>(row.integer(2)));
  }
  if (s.agents != nullptr) {
    Json agents = s.agents->list("");
    w.family("vigil_agents", "gauge", "Agents known to vigild, by application and state.");
    std::map<std::pair<std::string, std::string>, std::uint64_t> states;
    std::map<std::pair<std::string, std::string>, std::uint64_t> counters;
    for (const Json& a : agents) {
      const std::string app = a.value("app", "");
      ++states[{app, a.value("state", "")}];
      auto c = a.find("counters");
      if (c == a.end() || !c->is_object()) continue;
      for (auto it = c->begin(); it != c->end(); ++it)
        if (it.value().is_number_unsigned() || it.value().is_number_integer())
          counters[{app, it.key()}] += it.value().get<std::uint64_t>();
    }
    for (const auto& [k, n] : states)
      w.sample("vigil_agents", {{"app", k.first}, {"state", k.second}}, n);
    w.family("vigil_agent_counter", "gauge",
             "The agents' own counters (requests, sinks, detections, drops, fail_opens, ...), "
             "summed per application from their latest heartbeats.");
    for (const auto& [k, n] : counters)
      w.sample("vigil_agent_counter", {{"app", k.first}, {"counter", k.second}}, n);
  }
  if (storage != nullptr) {
    const ingest::IngestQueue::Stats st =
        s.ingest != nullptr ? s.ingest->stats() : ingest::IngestQueue::Stats{};
    storage->write(w, s.ingest != nullptr ? &st : nullptr);
  }
  return w.text();
}

}  // namespace

void add_health_routes(Services& s, std::vector<http::Route>* routes) {
  using http::Reply;
  routes->push_back({"GET", "/healthz", http::Access::kPublic, 0, [&s](http::Request&) {
                       if (!s.ready || !s.ready->load())
                         return Reply::error(503, "starting", "vigild is starting");
                       // Ready means the database answers too (a load balancer's check).
                       s.db->read([](storage::Connection& c) { return c.query("SELECT 1"); });
                       return Reply::json(200, {{"status", "ok"}, {"version", s.version}});
                     }});
  // Prometheus text format: ingest, incidents, storage, the agents' own counters (as their
  // heartbeats reported them) and the exports' delivery metrics.
  // The SQLite file as main() opens it; PostgreSQL needs no path.
  std::shared_ptr<StorageMetrics> storage;
  if (s.db != nullptr)
    storage = std::make_shared<StorageMetrics>(
        s.db, s.config != nullptr && s.config->db.empty() ? s.config->data_dir + "/vigil.db" : "");
  routes->push_back({"GET", "/metrics", http::Access::kViewer, 0, [&s, storage](http::Request&) {
                       Reply r;
                       r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                       r.body = server_metrics(s, storage.get());
                       vigil::exports::ExportSet none({});
                       r.body += s.exports ? s.exports->prometheus() : none.prometheus();
                       return r;
                     }});
}

}  // namespace vigil::server::api
