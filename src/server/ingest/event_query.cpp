#include "server/ingest/event_query.hpp"

#include <algorithm>
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
  // Only the filters given become SQL, and every statement names one application and at most
  // one outcome, so that an index that starts with them serves both the filter and the order
  // (app + time, app + outcome, app + rule, app + client_ip; incident + time): a page reads
  // about `limit` rows whatever the number stored, even for a rare value. A search over every
  // application, or several outcomes, is one such statement each, merged here.
  auto run = [&](storage::Connection& c, const std::string* app, const int* outcome) {
    std::string sql =
        "SELECT seq, time_ms, incident_id, doc FROM events WHERE time_ms >= ? AND time_ms <= ?";
    storage::Params p{f.since_ms, f.until_ms};
    if (app) {
      sql += " AND app = ?";
      p.push_back(*app);
    }
    if (f.incident_id > 0) {
      sql += " AND incident_id = ?";
      p.push_back(f.incident_id);
    }
    if (outcome) {
      sql += " AND outcome = ?";
      p.push_back(std::int64_t{*outcome});
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
    sql += f.oldest_first ? " ORDER BY time_ms, seq LIMIT ?"
                          : " ORDER BY time_ms DESC, seq DESC LIMIT ?";
    p.push_back(std::int64_t{f.limit + 1});
    return c.query(sql, p);
  };
  auto rows = db.read([&](storage::Connection& c) {
    std::vector<std::string> apps;
    if (!f.app.empty()) {
      apps.push_back(f.app);
    } else if (f.incident_id == 0) {
      // The applications with events (one index seek each, in the statistics' hourly table).
      std::string last;
      for (;;) {
        auto r = c.query("SELECT app FROM event_counts_hour WHERE app > ? ORDER BY app LIMIT 1",
                         {last});
        if (r.empty()) break;
        apps.push_back(last = r[0].text(0));
      }
    }
    std::vector<storage::Row> all;
    auto add = [&](std::vector<storage::Row> part) {
      for (auto& r : part) all.push_back(std::move(r));
    };
    auto each_outcome = [&](const std::string* app) {
      if (f.outcomes.empty()) return add(run(c, app, nullptr));
      for (int o : f.outcomes) add(run(c, app, &o));
    };
    if (f.incident_id > 0 && f.app.empty()) {
      each_outcome(nullptr);  // the incident's index; it belongs to one application
    } else {
      for (const auto& app : apps) each_outcome(&app);
    }
    // Merged in the page's order; duplicates cannot occur (the parts are disjoint).
    std::sort(all.begin(), all.end(), [&](const storage::Row& a, const storage::Row& b) {
      std::int64_t ta = a.integer(1), tb = b.integer(1), sa = a.integer(0), sb = b.integer(0);
      if (ta != tb) return f.oldest_first ? ta < tb : ta > tb;
      return f.oldest_first ? sa < sb : sa > sb;
    });
    if (all.size() > static_cast<std::size_t>(f.limit) + 1) all.resize(f.limit + 1);
    return all;
  });

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
