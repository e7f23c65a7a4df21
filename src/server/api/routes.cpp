#include "server/api/api.hpp"

#include "export/exporter.hpp"

#include <charconv>

#include "server/config.hpp"
#include "server/storage/sql.hpp"

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
  if (s.policy) add_policy_routes(s, &routes);
  return routes;
}

void add_health_routes(Services& s, std::vector<http::Route>* routes) {
  using http::Reply;
  routes->push_back({"GET", "/healthz", http::Access::kPublic, 0, [&s](http::Request&) {
                       if (!s.ready || !s.ready->load())
                         return Reply::error(503, "starting", "vigild is starting");
                       // Ready means the database answers too (a load balancer's check).
                       s.db->read([](storage::Connection& c) { return c.query("SELECT 1"); });
                       return Reply::json(200, {{"status", "ok"}, {"version", s.version}});
                     }});
  // Prometheus text format: the exports' delivery metrics (ingest, incidents and storage
  // metrics are still to be added here).
  routes->push_back({"GET", "/metrics", http::Access::kViewer, 0, [&s](http::Request&) {
                       Reply r;
                       r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                       vigil::exports::ExportSet none({});
                       r.body = s.exports ? s.exports->prometheus() : none.prometheus();
                       return r;
                     }});
}

}  // namespace vigil::server::api
