// POST /api/v1/events (agents), GET /api/v1/events and /api/v1/events/{id} (users).
#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/config.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/ingest/event_query.hpp"
#include "server/ingest/ingest_queue.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

Reply bad(const std::string& field, const std::string& why) {
  return Reply::error(400, "bad_field", field + ": " + why, field);
}

// Reads the query filters shared by event searches; an error reply when one is malformed.
std::optional<Reply> parse_event_filter(const Request& req, ingest::EventFilter* f) {
  if (auto app = req.query("app")) {
    if (!valid_app_name(*app)) return bad("app", "not an application name");
    f->app = *app;
  }
  if (auto outcome = req.query("outcome")) {
    std::string_view rest = *outcome;
    while (!rest.empty()) {
      auto comma = rest.find(',');
      int rank = ingest::outcome_rank(rest.substr(0, comma));
      if (rank < 0) return bad("outcome", "exploited, blocked, probed or suspicious (comma-separated)");
      f->outcomes.push_back(rank);
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  if (auto rule = req.query("rule")) {
    if (rule->empty() || rule->size() > 128) return bad("rule", "a rule name");
    f->rule = *rule;
  }
  if (auto ip = req.query("client_ip")) {
    if (!valid_ip(*ip)) return bad("client_ip", "an IPv4 or IPv6 address");
    f->client_ip = *ip;
  }
  if (auto incident = req.query("incident")) {
    if (!parse_id(*incident, &f->incident_id)) return bad("incident", "an incident id");
  }
  for (auto [name, out] : {std::pair{"since", &f->since_ms}, std::pair{"until", &f->until_ms}}) {
    if (auto t = req.query(name)) {
      auto ms = parse_rfc3339(*t);
      if (!ms) return bad(name, "an RFC 3339 time (2026-11-26T03:12:45Z)");
      *out = *ms;
    }
  }
  if (!parse_limit(req, 100, 1000, &f->limit)) return bad("limit", "1 to 1000");
  if (auto cursor = req.query("cursor"); cursor && !ingest::parse_cursor(*cursor, f))
    return bad("cursor", "the next_cursor of a previous page");
  if (auto order = req.query("order")) {
    if (*order != "newest" && *order != "oldest") return bad("order", "newest or oldest");
    f->oldest_first = *order == "oldest";
  }
  return std::nullopt;
}

}  // namespace

void add_event_routes(Services& s, std::vector<http::Route>* routes) {
  routes->push_back(
      {"POST", "/api/v1/events", Access::kAgent, s.config->max_body_bytes, [&s](Request& req) {
         ingest::BatchLimits limits;
         limits.max_events = s.config->max_batch_events;
         limits.max_event_bytes = s.config->max_event_bytes;
         std::vector<ingest::EventRecord> events;
         Status st = ingest::parse_event_batch(req.body(), req.principal.app, now_ms(), limits,
                                               &events);
         if (!st.ok()) return error_reply(st);
         ingest::IngestResult r = s.ingest->submit(std::move(events));
         if (!r.status.ok()) return error_reply(r.status);
         return Reply::json(202, {{"accepted", r.accepted}, {"duplicates", r.duplicates}});
       }});
  routes->push_back({"GET", "/api/v1/events", Access::kViewer, 0, [&s](Request& req) {
                       ingest::EventFilter f;
                       if (auto err = parse_event_filter(req, &f)) return *err;
                       ingest::EventPage page = ingest::query_events(*s.db, f);
                       Reply reply = Reply::raw_json(200, std::move(page.json));
                       if (!page.next_cursor.empty()) reply.with_header("X-Next-Cursor", page.next_cursor);
                       return reply;
                     }});
  routes->push_back({"GET", "/api/v1/events/{id}", Access::kViewer, 0, [&s](Request& req) {
                       std::string app = req.query("app").value_or("");
                       if (req.params[0].size() > 128 || (!app.empty() && !valid_app_name(app)))
                         return Reply::error(404, "not_found", "no such event");
                       auto doc = ingest::get_event(*s.db, app, req.params[0]);
                       if (!doc) return Reply::error(404, "not_found", "no such event");
                       return Reply::raw_json(200, std::move(*doc));
                     }});
}

}  // namespace vigil::server::api
