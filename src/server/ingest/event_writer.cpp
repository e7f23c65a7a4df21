#include "server/ingest/event_writer.hpp"

#include <map>
#include <set>
#include <unordered_set>

#include "server/common/names.hpp"
#include "server/ingest/event_stats.hpp"

namespace vigil::server::ingest {
namespace {

using storage::Connection;
using storage::Params;

// Statement shapes for multi-row work: a few fixed sizes keep the prepared-statement cache
// small while a batch of thousands takes few round trips.
constexpr std::size_t kChunks[] = {64, 16, 4, 1};

template <class F>
void in_chunks(std::size_t n, F&& fn) {
  std::size_t at = 0;
  for (std::size_t chunk : kChunks)
    while (n - at >= chunk) {
      fn(at, chunk);
      at += chunk;
    }
}

constexpr const char* kInsertColumnList =
    "events (app, event_id, time_ms, received_ms, outcome, rule, family, severity, "
    "client_ip, attacker, user_name, method, path, input_source, input_name, sink_type, tool, "
    "incident_id, doc) VALUES ";
constexpr std::size_t kInsertColumns = 19;

// SQLite: INSERT OR IGNORE rather than ON CONFLICT DO NOTHING. Both skip a stored (event_id,
// app); but with OR IGNORE no constraint can abort the statement halfway (the NOT NULL checks
// ignore too, and every NOT NULL column is always bound), so SQLite needs no statement journal
// for the multi-row insert: it no longer copies each index page the statement touches.
std::string insert_sql(storage::Dialect dialect, std::size_t rows) {
  std::string row = "(" + storage::placeholders(kInsertColumns) + ")";
  std::string sql =
      dialect == storage::Dialect::kSqlite ? "INSERT OR IGNORE INTO " : "INSERT INTO ";
  sql += kInsertColumnList;
  sql.reserve(sql.size() + rows * (row.size() + 2) + 40);
  for (std::size_t i = 0; i < rows; ++i) {
    if (i) sql += ", ";
    sql += row;
  }
  if (dialect != storage::Dialect::kSqlite) sql += " ON CONFLICT (event_id, app) DO NOTHING";
  return sql;
}

}  // namespace

void EventWriter::write(Connection& c, const std::vector<EventRecord*>& events,
                        Stored stored_before) const {
  // Twice in this batch: the first one counts. (Keys are views into the events; hashed, which
  // cost a fifth of an ordered set's string comparisons.)
  using Key = std::pair<std::string_view, std::string_view>;
  struct KeyHash {
    std::size_t operator()(const Key& k) const noexcept {
      return std::hash<std::string_view>()(k.second) * 31 + std::hash<std::string_view>()(k.first);
    }
  };
  std::unordered_set<Key, KeyHash> seen;
  seen.reserve(events.size());
  std::vector<EventRecord*> fresh;
  for (EventRecord* e : events) {
    e->duplicate = !seen.emplace(e->app, e->event_id).second;
    e->incident_id = 0;
    if (!e->duplicate) fresh.push_back(e);
  }
  if (fresh.empty()) return;

  // Lock first: a concurrent transaction storing the same events holds the same attackers'
  // locks, so once we have them, what it stored is visible to the check below.
  correlator_->lock_attackers(c, fresh);

  std::map<std::string_view, std::vector<EventRecord*>> by_app;
  if (stored_before == Stored::kCheck)
    for (EventRecord* e : fresh) by_app[e->app].push_back(e);
  std::set<std::pair<std::string_view, std::string>> stored;
  for (auto& [app, list] : by_app) {
    in_chunks(list.size(), [&](std::size_t at, std::size_t n) {
      Params p{storage::TextRef{app}};
      for (std::size_t i = 0; i < n; ++i) p.push_back(storage::TextRef{list[at + i]->event_id});
      for (const auto& r : c.query("SELECT event_id FROM events WHERE app = ? AND event_id IN (" +
                                       storage::placeholders(n) + ")",
                                   p))
        stored.emplace(app, r.text(0));
    });
  }
  std::vector<EventRecord*> added;
  for (EventRecord* e : fresh) {
    if (!stored.empty() && stored.count({e->app, e->event_id})) {
      e->duplicate = true;
    } else {
      added.push_back(e);
    }
  }
  if (added.empty()) return;

  correlator_->correlate(c, added);

  std::int64_t inserted = 0;
  in_chunks(added.size(), [&](std::size_t at, std::size_t n) {
    // The events outlive the statement: their text is bound in place, not copied.
    using storage::TextRef;
    Params p;
    p.reserve(n * kInsertColumns);
    for (std::size_t i = 0; i < n; ++i) {
      const EventRecord& e = *added[at + i];
      p.push_back(TextRef{e.app});
      p.push_back(TextRef{e.event_id});
      p.push_back(e.time_ms);
      p.push_back(e.received_ms);
      p.push_back(std::int64_t{e.outcome});
      p.push_back(TextRef{e.rule});
      p.push_back(TextRef{e.family});
      p.push_back(TextRef{e.severity});
      p.push_back(TextRef{e.client_ip});
      p.push_back(TextRef{e.attacker});
      p.push_back(TextRef{utf8_prefix(e.user, 256)});
      p.push_back(TextRef{e.method});
      p.push_back(TextRef{utf8_prefix(e.path, 2048)});
      p.push_back(TextRef{e.input_source});
      p.push_back(TextRef{e.input_name});
      p.push_back(TextRef{e.sink_type});
      p.push_back(TextRef{e.tool});
      p.push_back(e.incident_id);
      p.push_back(TextRef{e.json});
    }
    inserted += c.exec(insert_sql(c.dialect(), n), p);
  });
  // Fewer rows than events: one was stored already, and was correlated again above.
  if (stored_before == Stored::kAssumeNew && inserted != static_cast<std::int64_t>(added.size()))
    throw StoredDuplicate();
  // In the same transaction: the statistics count exactly the stored events.
  add_event_counts(c, added);
}

}  // namespace vigil::server::ingest
