#include "server/incidents/incident_service.hpp"

#include "server/auth/audit.hpp"
#include "server/common/time.hpp"
#include "server/ingest/event_query.hpp"

namespace vigil::server::incidents {

using storage::Connection;

Json IncidentService::list(const IncidentFilter& f, std::int64_t* total) {
  std::string where = " WHERE outcome >= ?";
  storage::Params p{std::int64_t{f.min_outcome}};
  if (!f.app.empty()) {
    where += " AND app = ?";
    p.push_back(f.app);
  }
  if (!f.statuses.empty()) {
    where += " AND status IN (" + storage::placeholders(f.statuses.size()) + ")";
    for (const auto& s : f.statuses) p.push_back(s);
  }
  if (!f.client_ip.empty()) {
    where += " AND client_ip = ?";
    p.push_back(f.client_ip);
  }
  if (f.since_ms > 0) {
    where += " AND last_seen_ms >= ?";
    p.push_back(f.since_ms);
  }
  if (!f.rule.empty()) {
    where += " AND id IN (SELECT incident_id FROM incident_facets WHERE kind = 'rule' AND value = ?)";
    p.push_back(f.rule);
  }
  storage::Params page = p;
  page.push_back(std::int64_t{f.limit});
  page.push_back(std::int64_t{f.offset});
  auto [rows, count] = db_->read([&](Connection& c) {
    auto r = c.query(std::string("SELECT ") + kIncidentColumns + " FROM incidents" + where +
                         " ORDER BY rank_key DESC, id DESC LIMIT ? OFFSET ?",
                     page);
    auto n = c.query("SELECT COUNT(*) FROM incidents" + where, p).at(0).integer(0);
    return std::make_pair(std::move(r), n);
  });
  *total = count;
  Json out = Json::array();
  for (const auto& r : rows) out.push_back(incident_json(incident_from_row(r)));
  return out;
}

std::optional<Incident> IncidentService::get(std::int64_t id) {
  auto rows = db_->read([&](Connection& c) {
    return c.query(std::string("SELECT ") + kIncidentColumns + " FROM incidents WHERE id = ?",
                   {id});
  });
  if (rows.empty()) return std::nullopt;
  return incident_from_row(rows[0]);
}

std::optional<std::string> IncidentService::detail(std::int64_t id, int events_limit) {
  auto incident = get(id);
  if (!incident) return std::nullopt;
  Json j = incident_json(*incident);
  Json facets = Json::object();
  Json history = Json::array();
  db_->read([&](Connection& c) {
    for (const char* kind : {"rule", "route", "input", "tool", "user"}) {
      Json list = Json::array();
      for (const auto& r : c.query("SELECT value, count FROM incident_facets WHERE "
                                   "incident_id = ? AND kind = ? ORDER BY count DESC, value "
                                   "LIMIT 20",
                                   {id, std::string(kind)}))
        list.push_back({{"value", r.text(0)}, {"count", r.integer(1)}});
      facets[std::string(kind) + "s"] = std::move(list);
    }
    for (const auto& r : c.query("SELECT time_ms, actor, action, from_status, to_status, note "
                                 "FROM incident_history WHERE incident_id = ? ORDER BY id",
                                 {id}))
      history.push_back({{"time", format_rfc3339(r.integer(0))},
                         {"actor", r.text(1)},
                         {"action", r.text(2)},
                         {"from_status", r.text(3)},
                         {"to_status", r.text(4)},
                         {"note", r.text(5)}});
    return 0;
  });
  j["facets"] = std::move(facets);
  j["history"] = std::move(history);
  ingest::EventFilter f;
  f.incident_id = id;
  f.limit = events_limit;
  auto page = ingest::query_events(*db_, f);
  if (!page.next_cursor.empty()) j["events_next_cursor"] = page.next_cursor;
  // The events are stored JSON text: spliced in, not parsed again.
  std::string text = dump_json(j);
  text.pop_back();  // '}'
  text += ",\"events\":" + page.json + "}";
  return text;
}

Status IncidentService::update(const std::string& actor, const std::string& client_ip,
                               std::int64_t id, const std::optional<std::string>& status,
                               const std::optional<std::string>& note, Json* out) {
  if (status && !valid_status(*status))
    return Status::error(400, "bad_field",
                         "status: open, acknowledged, resolved or false_positive", "status");
  if (!status && !note)
    return Status::error(400, "bad_request", "give a status, a note, or both");
  Status st = db_->write([&](Connection& c) -> Status {
    auto rows = c.query("SELECT status FROM incidents WHERE id = ?", {id});
    if (rows.empty()) return Status::error(404, "not_found", "no incident " + std::to_string(id));
    std::string from = rows[0].text(0);
    std::int64_t now = now_ms();
    Json details = Json::object();
    if (status && *status != from) {
      bool closed = closed_status(*status);
      // The rank's open/closed part follows the status (incident.hpp: rank_key_of).
      c.exec(
          "UPDATE incidents SET status = ?, closed = ?, updated_ms = ?, rank_key = score + "
          "CAST(last_seen_ms AS DOUBLE PRECISION) / 21600000.0 + "
          "CASE WHEN ? = 1 THEN 0.0 ELSE 10000000.0 END WHERE id = ?",
          {*status, std::int64_t{closed}, now, std::int64_t{closed}, id});
      c.exec(
          "INSERT INTO incident_history (incident_id, time_ms, actor, action, from_status, "
          "to_status, note) VALUES (?, ?, ?, 'status', ?, ?, ?)",
          {id, now, actor, from, *status, note.value_or("")});
      details["from"] = from;
      details["to"] = *status;
    } else {
      if (!note) return Status();  // the same status again: nothing to record
      c.exec(
          "INSERT INTO incident_history (incident_id, time_ms, actor, action, note) "
          "VALUES (?, ?, ?, 'note', ?)",
          {id, now, actor, *note});
      c.exec("UPDATE incidents SET updated_ms = ? WHERE id = ?", {now, id});
    }
    if (note) details["note"] = *note;
    auth::record_audit(c, {actor, "incident.update", "incident:" + std::to_string(id), details,
                           client_ip});
    return Status();
  });
  if (!st.ok()) return st;
  auto incident = get(id);
  if (incident) *out = incident_json(*incident);
  return st;
}

}  // namespace vigil::server::incidents
