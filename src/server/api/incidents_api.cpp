// Incidents: the ranked list, one incident with its events, status and notes, and the
// response actions (block the attacker, exclude the input).
#include <functional>

#include "server/api/api.hpp"
#include "server/common/names.hpp"
#include "server/common/time.hpp"
#include "server/incidents/incident_service.hpp"
#include "server/ingest/event_batch.hpp"
#include "server/policy/policy_service.hpp"
#include "server/storage/sql.hpp"

namespace vigil::server::api {

using http::Access;
using http::Reply;
using http::Request;

namespace {

Reply bad(const std::string& field, const std::string& why) {
  return Reply::error(400, "bad_field", field + ": " + why, field);
}

// Appends to a policy list, replacing an entry of the same key.
void upsert_entry(Json& list, const Json& entry, const std::function<bool(const Json&)>& same) {
  Json out = Json::array();
  for (auto& e : list)
    if (!same(e)) out.push_back(e);
  out.push_back(entry);
  list = std::move(out);
}

// POST /api/v1/incidents/{id}/actions:
//   {"action": "block_attacker", "expires_in": "24h"|"never", "reason": "..."}
//   {"action": "block_rule", "rule": RULE?}
//   {"action": "exclude_input", "rule": RULE?, "route": PATH?, "input": "source:name"?,
//    "mark_false_positive": true}
// Each changes the application's policy (a new version, pushed to agents) and is recorded in
// the incident's history.
Reply incident_action(Services& s, Request& req) {
  std::int64_t id;
  if (!parse_id(req.params[0], &id)) return Reply::error(404, "not_found", "no such incident");
  Reply err;
  auto body = req.json_object(&err);
  if (!body) return err;
  std::string action, expires_in = "24h", reason, rule, route, input, note;
  bool mark_fp = true;
  FieldError fe;
  if (!get_string(*body, "action", &action, &fe, true, 32) ||
      !get_string(*body, "expires_in", &expires_in, &fe, false, 16) ||
      !get_string(*body, "reason", &reason, &fe, false, 512) ||
      !get_string(*body, "rule", &rule, &fe, false, 128) ||
      !get_string(*body, "route", &route, &fe, false, 2048) ||
      !get_string(*body, "input", &input, &fe, false, 1100) ||
      !get_string(*body, "note", &note, &fe, false, 8192) ||
      !get_bool(*body, "mark_false_positive", &mark_fp, &fe))
    return Reply::bad_field(fe);
  for (const auto* t : {&reason, &rule, &route, &input})
    if (!printable_utf8(*t)) return bad("action", "text fields must be printable");
  auto incident = s.incidents->get(id);
  if (!incident) return Reply::error(404, "not_found", "no such incident");
  const auto& inc = *incident;
  std::string comment = "incident " + std::to_string(id) + ": " + action;
  std::function<Status(Json&)> change;
  Json detail = Json::object();
  if (action == "block_attacker") {
    if (inc.client_ip.empty())
      return Reply::error(409, "no_address", "this incident has no client address to block");
    Json entry = {{"cidr", inc.client_ip},
                  {"reason", reason.empty() ? "incident " + std::to_string(id) + ": " +
                                                  summary_of(inc)
                                            : reason}};
    if (expires_in != "never") {
      auto d = parse_duration_ms(expires_in);
      if (!d || *d <= 0) return bad("expires_in", "a duration such as 24h or 7d, or never");
      entry["expires"] = format_rfc3339_seconds(now_ms() + *d);
    }
    detail = entry;
    change = [entry](Json& doc) {
      Json& list = doc["ip_denylist"];
      if (!list.is_array()) list = Json::array();
      upsert_entry(list, entry, [&](const Json& e) {
        return (e.is_string() && e == entry["cidr"]) ||
               (e.is_object() && e.value("cidr", "") == entry["cidr"]);
      });
      return Status();
    };
  } else if (action == "block_rule") {
    std::string r = rule.empty() ? inc.top_rule : rule;
    detail = {{"rule", r}};
    change = [r](Json& doc) {
      Json& rules = doc["rules"];
      if (!rules.is_object()) rules = Json::object();
      rules[r] = "block";
      return Status();
    };
  } else if (action == "exclude_input") {
    Json exclusion = {{"rules", Json::array({rule.empty() ? inc.top_rule : rule})}};
    std::string rt = route.empty() ? inc.top_route : route;
    std::string in = input.empty() ? inc.top_input : input;
    if (!rt.empty()) exclusion["routes"] = Json::array({rt});
    if (!in.empty()) exclusion["inputs"] = Json::array({in});
    detail = exclusion;
    change = [exclusion](Json& doc) {
      Json& list = doc["exclusions"];
      if (!list.is_array()) list = Json::array();
      upsert_entry(list, exclusion, [&](const Json& e) { return e == exclusion; });
      return Status();
    };
  } else {
    return bad("action", "block_attacker, block_rule or exclude_input");
  }
  Json result;
  Status st = s.policy->amend(req.principal.actor(), req.client_ip, inc.app, change, comment,
                              &result);
  if (!st.ok()) {
    Json j = {{"error", st.message()}, {"code", st.code()}};
    if (result.contains("diagnostics")) j["diagnostics"] = result["diagnostics"];
    return Reply::json(st.http(), j);
  }
  // The incident's history says what was done from it (and closes it as a false positive).
  std::string history_note = action + " (policy version " +
                             std::to_string(result.value("version", 0)) + ")" +
                             (note.empty() ? "" : ": " + note);
  Json updated;
  std::optional<std::string> new_status;
  if (action == "exclude_input" && mark_fp) new_status = "false_positive";
  Status up = s.incidents->update(req.principal.actor(), req.client_ip, id, new_status,
                                  history_note, &updated);
  if (!up.ok()) return error_reply(up);
  return Reply::json(200, {{"action", action},
                           {"policy_version", result.value("version", 0)},
                           {"change", detail},
                           {"incident", updated}});
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
  if (s.policy)
    routes->push_back({"POST", "/api/v1/incidents/{id}/actions", Access::kAnalyst, 64 * 1024,
                       [&s](Request& req) { return incident_action(s, req); }});
}

}  // namespace vigil::server::api
