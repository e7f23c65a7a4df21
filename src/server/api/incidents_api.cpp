// Incidents: the ranked list, one incident with its events, status and notes, and the
// response actions (block the attacker, exclude the input).
#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/event_batch.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

Reply bad(const std::string& field, const std::string& why) {
  return Reply::error(400, "bad_field", field + ": " + why, field);
}

}  // namespace

void add_incident_routes(Services& s, std::vector<http::Route>* routes) {
  routes->push_back({"GET", "/api/v1/incidents", Access::kViewer, 0, [&s](Request& req) {
                       incidents::IncidentFilter f;
                       if (auto app = req.query("app")) {
                         if (!valid_app_name(*app)) return bad("app", "not an application name");
                         f.app = *app;
                       }
                       if (auto status = req.query("status")) {
                         std::string_view rest = *status;
                         while (!rest.empty()) {
                           auto comma = rest.find(',');
                           std::string one(rest.substr(0, comma));
                           if (!incidents::valid_status(one))
                             return bad("status",
                                        "open, acknowledged, resolved, false_positive "
                                        "(comma-separated)");
                           f.statuses.push_back(one);
                           if (comma == std::string_view::npos) break;
                           rest.remove_prefix(comma + 1);
                         }
                       }
                       if (auto outcome = req.query("outcome")) {
                         f.min_outcome = ingest::outcome_rank(*outcome);
                         if (f.min_outcome < 0)
                           return bad("outcome", "exploited, blocked, probed or suspicious (the "
                                                 "lowest to list)");
                       }
                       if (auto rule = req.query("rule")) {
                         if (rule->empty() || rule->size() > 128) return bad("rule", "a rule name");
                         f.rule = *rule;
                       }
                       if (auto ip = req.query("client_ip")) {
                         if (!valid_ip(*ip)) return bad("client_ip", "an IP address");
                         f.client_ip = *ip;
                       }
                       if (auto since = req.query("since")) {
                         auto ms = parse_rfc3339(*since);
                         if (!ms) return bad("since", "an RFC 3339 time");
                         f.since_ms = *ms;
                       }
                       if (!parse_limit(req, 100, 500, &f.limit)) return bad("limit", "1 to 500");
                       if (auto offset = req.query("offset")) {
                         std::int64_t o;
                         if (*offset != "0" && (!parse_id(*offset, &o) || o > 1000000))
                           return bad("offset", "0 to 1000000");
                         f.offset = *offset == "0" ? 0 : static_cast<int>(o);
                       }
                       std::int64_t total = 0;
                       Json list = s.incidents->list(f, &total);
                       return Reply::json(200, list).with_header("X-Total-Count",
                                                                 std::to_string(total));
                     }});
  routes->push_back({"GET", "/api/v1/incidents/{id}", Access::kViewer, 0, [&s](Request& req) {
                       std::int64_t id;
                       if (!parse_id(req.params[0], &id))
                         return Reply::error(404, "not_found", "no such incident");
                       int limit = 200;
                       if (auto l = req.query("events_limit")) {
                         std::int64_t v;
                         if (!parse_id(*l, &v) || v > 1000) return bad("events_limit", "1 to 1000");
                         limit = static_cast<int>(v);
                       }
                       auto text = s.incidents->detail(id, limit);
                       if (!text) return Reply::error(404, "not_found", "no such incident");
                       return Reply::raw_json(200, std::move(*text));
                     }});
  routes->push_back({"PATCH", "/api/v1/incidents/{id}", Access::kAnalyst, 64 * 1024,
                     [&s](Request& req) {
                       std::int64_t id;
                       if (!parse_id(req.params[0], &id))
                         return Reply::error(404, "not_found", "no such incident");
                       Reply err;
                       auto body = req.json_object(&err);
                       if (!body) return err;
                       std::string status, note;
                       FieldError fe;
                       if (!get_string(*body, "status", &status, &fe, false, 32) ||
                           !get_string(*body, "note", &note, &fe, false, 8192))
                         return Reply::bad_field(fe);
                       if (!printable_utf8(note, true)) return bad("note", "printable text");
                       std::optional<std::string> st, nt;
                       if (body->contains("status")) st = status;
                       if (body->contains("note") && !note.empty()) nt = note;
                       Json out;
                       Status result = s.incidents->update(req.principal.actor(), req.client_ip,
                                                           id, st, nt, &out);
                       if (!result.ok()) return error_reply(result);
                       return Reply::json(200, out);
                     }});
}

}  // namespace vigil::server::api
