#include "server/ingest/event_query.hpp"

#include <charconv>

namespace vigil::server::ingest {
namespace {

// `{"incident_id":N,` spliced into the stored object: no re-serialisation.
void append_doc(std::string* out, const std::string& doc, std::int64_t incident_id) {
  if (incident_id > 0 && doc.size() > 2 && doc[0] == '{') {
    *out += "{\"incident_id\":" + std::to_string(incident_id) + ",";
    out->append(doc, 1, std::string::npos);
  } else {
    *out += doc;
  }
}

bool parse_int(std::string_view s, std::int64_t* out) {
  if (s.empty() || s.size() > 19) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool parse_cursor(const std::string& text, EventFilter* f) {
  auto dot = text.find('.');
  if (dot == std::string::npos) return false;
  if (!parse_int(std::string_view(text).substr(0, dot), &f->after_time_ms) ||
      !parse_int(std::string_view(text).substr(dot + 1), &f->after_seq))
    return false;
  f->after = true;
  return true;
}

EventPage query_events(storage::Database& db, const EventFilter& f) {
  // Only the filters given become SQL: every shape is a prepared statement of its own whose
  // plan can use the (app, time_ms, seq), (time_ms, seq) and (incident_id, time_ms) indexes.
  std::string sql = "SELECT seq, time_ms, incident_id, doc FROM events WHERE time_ms >= ? AND time_ms <= ?";
  storage::Params p{f.since_ms, f.until_ms};
  if (!f.app.empty()) {
    sql += " AND app = ?";
    p.push_back(f.app);
  }
  if (f.incident_id > 0) {
    sql += " AND incident_id = ?";
    p.push_back(f.incident_id);
  }
  if (!f.outcomes.empty()) {
    sql += " AND outcome IN (" + storage::placeholders(f.outcomes.size()) + ")";
    for (int o : f.outcomes) p.push_back(std::int64_t{o});
  }
  if (!f.rule.empty()) {
    sql += " AND rule = ?";
    p.push_back(f.rule);
  }
  if (!f.client_ip.empty()) {
    sql += " AND client_ip = ?";
    p.push_back(f.client_ip);
  }
  if (!f.attacker.empty()) {
    sql += " AND attacker = ?";
    p.push_back(f.attacker);
  }
  const char* cmp = f.oldest_first ? ">" : "<";
  if (f.after) {
    sql += std::string(" AND (time_ms ") + cmp + " ? OR (time_ms = ? AND seq " + cmp + " ?))";
    p.push_back(f.after_time_ms);
    p.push_back(f.after_time_ms);
    p.push_back(f.after_seq);
  }
  sql += f.oldest_first ? " ORDER BY time_ms, seq LIMIT ?" : " ORDER BY time_ms DESC, seq DESC LIMIT ?";
  p.push_back(std::int64_t{f.limit + 1});
  auto rows = db.read([&](storage::Connection& c) { return c.query(sql, p); });

  EventPage page;
  page.json = "[";
  std::size_t n = std::min(rows.size(), static_cast<std::size_t>(f.limit));
  for (std::size_t i = 0; i < n; ++i) {
    if (i) page.json += ',';
    append_doc(&page.json, rows[i].text(3), rows[i].integer(2));
  }
  page.json += ']';
  page.count = n;
  if (rows.size() > n && n > 0)
    page.next_cursor =
        std::to_string(rows[n - 1].integer(1)) + "." + std::to_string(rows[n - 1].integer(0));
  return page;
}

std::optional<std::string> get_event(storage::Database& db, const std::string& app,
                                     const std::string& event_id) {
  auto rows = db.read([&](storage::Connection& c) {
    return app.empty()
               ? c.query("SELECT incident_id, doc FROM events WHERE event_id = ? LIMIT 1",
                         {event_id})
               : c.query("SELECT incident_id, doc FROM events WHERE app = ? AND event_id = ?",
                         {app, event_id});
  });
  if (rows.empty()) return std::nullopt;
  std::string out;
  append_doc(&out, rows[0].text(1), rows[0].integer(0));
  return out;
}

}  // namespace vigil::server::ingest
